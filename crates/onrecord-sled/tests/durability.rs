//! Durability: an append is acknowledged only after sled's `flush()` AND an
//! fdatasync of `<ledger>/db`. The test re-runs this test binary under
//! `strace` and checks, in the traced system calls, that the fdatasync of the
//! data file comes after the batch's writes and before the acknowledgement.
//! Skipped (with a message) where strace is not installed.

mod common;

use std::process::Command;

use common::*;
use onrecord_core::Stance;

const ACK: &str = "ONRECORD-TEST-ACK";

/// Writes the acknowledgement marker in one system call, so the trace shows it whole.
fn ack(n: u8) {
    use std::io::Write;
    let _ = std::io::stderr().write_all(format!("{ACK}-{n}\n").as_bytes());
}

/// Run by the test below inside strace: one append, one batch, each followed by a marker write.
#[test]
#[ignore = "run under strace by acknowledged_appends_are_fdatasynced_first"]
fn traced_appends() {
    let Some(dir) = std::env::var_os("ONRECORD_TRACE_DIR") else {
        return;
    };
    let ledger = onrecord_sled::create(&std::path::Path::new(&dir).join("l"), &options()).unwrap();
    ledger.append(req(party("trump", None))).unwrap();
    ack(1);
    ledger
        .append_batch(vec![
            req(party("kremlin", None)),
            req(proposition("paris-meeting")),
            req(statement(
                "paris-meeting",
                "kremlin",
                Stance::AlmostCertain,
                "2018-11-06",
            )),
        ])
        .unwrap();
    ack(2);
}

#[test]
fn acknowledged_appends_are_fdatasynced_first() {
    if Command::new("strace").arg("-V").output().is_err() {
        eprintln!("skipped: strace is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace.txt");
    let status = Command::new("strace")
        .args([
            "-f",
            "-y",
            "-e",
            "trace=fdatasync,fsync,write,pwrite64,pwritev,writev",
            "-o",
        ])
        .arg(&trace)
        .arg(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "traced_appends",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("ONRECORD_TRACE_DIR", dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    let trace = std::fs::read_to_string(trace).unwrap();
    let db = format!("{}/l/db>", dir.path().display());
    for n in 1..=2 {
        let ack_at = trace
            .find(&format!("{ACK}-{n}"))
            .unwrap_or_else(|| panic!("no ack {n} in the trace"));
        let before = &trace[..ack_at];
        let lines: Vec<&str> = before.lines().collect();
        let last_write = lines
            .iter()
            .rposition(|l| (l.contains("pwrite") || l.contains("write(")) && l.contains(&db))
            .expect("the batch must be written to the data file");
        let synced = lines[last_write..]
            .iter()
            .any(|l| l.contains("fdatasync(") && l.contains(&db));
        assert!(
            synced,
            "append {n} was acknowledged without an fdatasync of {db} after its last write"
        );
    }
}
