//! Disk full: on a 2 MiB tmpfs, a bulk append that runs out of space fails
//! with a clear error and leaves the ledger at its last acknowledged head,
//! verifying once there is room again. Needs root and a working `mount`; otherwise it prints why
//! and skips (it passes without checking anything).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// A tmpfs mounted for the test's lifetime.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Result<Self, String> {
        let uid = Command::new("id")
            .arg("-u")
            .output()
            .map_err(|e| format!("cannot run id: {e}"))?;
        if text(&uid.stdout).trim() != "0" {
            return Err("not running as root".into());
        }
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(format!("mount failed: {}", text(&out.stderr).trim()));
        }
        Ok(Self(dir.to_owned()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_bulk_append_that_fills_the_disk_fails_clearly_and_leaves_the_last_head() {
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("mnt");
    let _fs = match Tmpfs::mount(&mnt, "2m") {
        Ok(fs) => fs,
        Err(why) => {
            println!("disk full: SKIPPED ({why})");
            return;
        }
    };
    let ledger = demo_ledger(&mnt);
    let acknowledged = head(&ledger);
    let before: Vec<String> = export(&ledger).into_iter().map(|e| e.line).collect();

    // About 6 MiB of statements: cannot fit in 2 MiB.
    let big = dir.path().join("big.jsonl");
    let filler = "words ".repeat(300);
    let mut lines = String::new();
    for n in 0..3000 {
        lines.push_str(&format!(
            "{{\"type\":\"statement\",\"proposition\":\"g20-meeting\",\"party\":\"trump\",\"stance\":\"likely\",\"said_at\":\"2018-11-05\",\"quote\":\"{n} {filler}\"}}\n"
        ));
    }
    std::fs::write(&big, lines).unwrap();
    let out = run(&ledger, &["append", "--jsonl", big.to_str().unwrap()]);
    let err = text(&out.stderr);
    println!(
        "disk full: bulk append of 3000 lines (~{} KiB) on a 2 MiB tmpfs: exit {:?}: {}",
        std::fs::metadata(&big).unwrap().len() / 1024,
        out.status.code(),
        err.trim()
    );
    assert!(
        !out.status.success(),
        "it cannot have fit: {}",
        text(&out.stdout)
    );
    assert!(
        !err.contains("panicked"),
        "a panic is not a clear error: {err}"
    );
    assert!(err.starts_with("error:"), "{err}");
    assert!(
        !text(&out.stdout).contains("appended"),
        "{}",
        text(&out.stdout)
    );

    // While the disk is still full the ledger may not even open (sled writes
    // when it opens): that must be a clear error, never a panic or a damage report.
    let full = run(&ledger, &["verify"]);
    let full_text = format!("{}{}", text(&full.stdout), text(&full.stderr));
    println!(
        "disk full: verify while still full: exit {:?}: {}",
        full.status.code(),
        full_text.trim()
    );
    assert!(!full_text.contains("panicked"), "{full_text}");
    assert_ne!(
        full.status.code(),
        Some(5),
        "a full disk is not damage: {full_text}"
    );
    if !full.status.success() {
        assert!(text(&full.stderr).starts_with("error:"), "{full_text}");
    }

    // Once there is room again, the ledger is at its last acknowledged head and verifies.
    let grown = Command::new("mount")
        .args(["-o", "remount,size=16m"])
        .arg(&mnt)
        .status()
        .unwrap();
    assert!(grown.success(), "remount with more room");
    let verify = run(&ledger, &["verify"]);
    println!(
        "disk full: verify after freeing space: exit {:?}: {}{}",
        verify.status.code(),
        text(&verify.stdout).trim(),
        text(&verify.stderr).trim()
    );
    assert!(verify.status.success(), "{}", text(&verify.stderr));
    assert_eq!(head(&ledger), acknowledged);
    let after: Vec<String> = export(&ledger).into_iter().map(|e| e.line).collect();
    assert_eq!(after, before);
    // And it takes appends again.
    ok(
        run(
            &ledger,
            &["append", "party", "macron", "--name", "Emmanuel Macron"],
        ),
        "append after freeing space",
    );
    assert_verifies(&ledger);
}
