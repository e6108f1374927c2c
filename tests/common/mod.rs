//! Shared helpers for the binary-level reliability tests: running the real
//! `onrecord` binary, reading its export, a seeded PRNG and deterministic ids.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

/// The demo file every fixture ledger is preloaded with.
pub const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/armistice-2018.jsonl");

/// The path of the built binary.
pub fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("onrecord")
}

/// A command on the ledger at `ledger`, with the busy wait left at its default.
pub fn cmd(ledger: &Path) -> Command {
    let mut c = Command::new(bin());
    c.arg("--ledger").arg(ledger);
    c.env_remove("ONRECORD_BUSY_WAIT_MS");
    c.stdin(Stdio::null());
    c
}

/// Runs `onrecord --ledger L ARGS...` to completion.
pub fn run(ledger: &Path, args: &[&str]) -> Output {
    cmd(ledger).args(args).output().expect("spawn onrecord")
}

/// Text of an output stream.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Panics unless the command exited 0, showing what it printed.
pub fn ok(out: Output, what: &str) -> Output {
    assert!(
        out.status.success(),
        "{what}: exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
    out
}

/// A fresh ledger at `dir/name`, initialised through the CLI.
pub fn init(dir: &Path, name: &str) -> PathBuf {
    let ledger = dir.join(name);
    ok(run(&ledger, &["init"]), "init");
    ledger
}

/// A fresh ledger preloaded with the demo file.
pub fn demo_ledger(dir: &Path) -> PathBuf {
    let ledger = init(dir, "demo.ledger");
    ok(run(&ledger, &["append", "--jsonl", DEMO]), "import demo");
    ledger
}

/// One exported event line, parsed.
#[derive(Debug, Clone)]
pub struct Exported {
    pub seq: u64,
    pub event_id: String,
    pub line: String,
    pub value: Value,
}

/// The ledger's export, in the order printed; panics unless it exits 0.
pub fn export(ledger: &Path) -> Vec<Exported> {
    let out = ok(run(ledger, &["export"]), "export");
    text(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let value: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("export line is not JSON ({e}): {line}"));
            Exported {
                seq: value["seq"].as_u64().expect("seq"),
                event_id: value["event_id"].as_str().expect("event_id").to_owned(),
                line: line.to_owned(),
                value,
            }
        })
        .collect()
}

/// Asserts the export's seqs are exactly 1..=N in order; returns N.
pub fn assert_gapless(events: &[Exported]) -> u64 {
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.seq, i as u64 + 1, "export is not gapless at {}", e.line);
    }
    events.len() as u64
}

/// The export keyed by event id.
pub fn by_id(events: &[Exported]) -> BTreeMap<String, Exported> {
    events
        .iter()
        .map(|e| (e.event_id.clone(), e.clone()))
        .collect()
}

/// Opens the ledger's keyspace directly, whatever its layout (waiting up to
/// 10 s for its lock), runs `f` and makes its edits durable: an edit made
/// here keeps sled's own checksums (and layout 3's chunks) valid, so sled
/// still opens the ledger and only onrecord's checks can notice. The ledger
/// must not be open elsewhere.
pub fn with_raw(path: &Path, f: impl FnOnce(&onrecord_sled::RawLedger)) {
    let started = std::time::Instant::now();
    let db = loop {
        match onrecord_sled::RawLedger::open(path) {
            Ok(db) => break db,
            Err(_) if started.elapsed() < std::time::Duration::from_secs(10) => {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(e) => panic!("cannot open {}: {e}", path.display()),
        }
    };
    f(&db);
    db.flush().unwrap();
}

/// Rewrites the stored record at `seq` in place through sled, keeping sled's
/// checksums valid: `edit` gets the record's bytes (format version, then the
/// bincode envelope) and changes them as it likes.
pub fn edit_record(ledger: &Path, seq: u64, edit: impl FnOnce(&mut Vec<u8>)) {
    with_raw(ledger, |db| {
        let key = onrecord_ledger::keys::record(seq);
        let mut bytes = db
            .get(key)
            .unwrap()
            .unwrap_or_else(|| panic!("no record at seq {seq}"))
            .to_vec();
        edit(&mut bytes);
        db.insert(key, bytes).unwrap();
    });
}

/// Replaces the first occurrence of `from` with `to` (same length) in the
/// stored record at `seq`, e.g. a word of a quote; panics if it is not there.
pub fn replace_in_record(ledger: &Path, seq: u64, from: &str, to: &str) {
    assert_eq!(from.len(), to.len(), "same length keeps the encoding valid");
    edit_record(ledger, seq, |bytes| {
        let at = bytes
            .windows(from.len())
            .position(|w| w == from.as_bytes())
            .unwrap_or_else(|| panic!("`{from}` is not in the record at seq {seq}"));
        bytes[at..at + from.len()].copy_from_slice(to.as_bytes());
    });
}

/// Runs `verify` and asserts it passes (exit 0).
pub fn assert_verifies(ledger: &Path) {
    ok(run(ledger, &["verify"]), "verify");
}

/// The head (seq, hash hex) read through the library; the ledger must not be in use.
pub fn head(ledger: &Path) -> (u64, String) {
    let options = onrecord_sled::LedgerOptions {
        cache_capacity: 4 * 1024 * 1024,
        ..Default::default()
    };
    let l = onrecord_sled::open(ledger, &options).expect("open ledger for its head");
    let h = l.head();
    (h.seq, h.hash_hex())
}

/// Parses `appended seq=N event=UUID` (or `already recorded seq=N event=UUID`) lines.
pub fn acks(stdout: &str) -> Vec<(u64, String)> {
    stdout
        .lines()
        .filter_map(|l| {
            let rest = l
                .strip_prefix("appended ")
                .or_else(|| l.strip_prefix("already recorded "))?;
            let mut seq = None;
            let mut event = None;
            for part in rest.split_whitespace() {
                if let Some(s) = part.strip_prefix("seq=") {
                    seq = s.parse().ok();
                } else if let Some(e) = part.strip_prefix("event=") {
                    event = Some(e.to_owned());
                }
            }
            Some((seq?, event?))
        })
        .collect()
}

/// A tiny xorshift64* PRNG: fixed seeds make every run choose the same moments.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform-ish in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    /// A random version-4-shaped UUID string.
    pub fn uuid(&mut self) -> String {
        let a = self.next_u64();
        let b = self.next_u64();
        let a = (a & !0xF000) | 0x4000; // version 4
        let b = (b & !(0b11 << 62)) | (0b10 << 62); // RFC 4122 variant
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xFFFF,
            a & 0xFFFF,
            b >> 48,
            b & 0xFFFF_FFFF_FFFF
        )
    }
}

/// An env var read as a number, with a default: lets `tools/soak.sh --long` scale the tests.
pub fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Starts `onrecord --ledger LEDGER serve --listen 127.0.0.1:0 EXTRA...`
/// (a free loopback port) with its stderr to `stderr`, and reads the base
/// URL it prints: the child and that URL. Panics, ending the child, when no
/// loopback address is printed.
pub fn spawn_serve(ledger: impl AsRef<OsStr>, extra: &[&str], stderr: Stdio) -> (Child, String) {
    let mut child = Command::new(bin())
        .arg("--ledger")
        .arg(ledger)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(extra)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("start the server");
    let mut line = String::new();
    let read = BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line);
    let base = line.trim().rsplit(" on ").next().unwrap_or("").to_owned();
    let loopback = base.starts_with("http://127.0.0.1:") || base.starts_with("https://127.0.0.1:");
    if read.is_err() || !loopback {
        let _ = child.kill();
        let _ = child.wait();
        panic!("the server printed no loopback address: {line:?}");
    }
    (child, base)
}

/// An `onrecord serve` process started by [`spawn_serve`]; killed and
/// waited for when dropped.
pub struct Served {
    /// The server process.
    pub child: Child,
    /// Its base URL, `http://127.0.0.1:PORT`.
    pub base: String,
}

impl Served {
    /// Serves `ledger` (a path or a `postgres://` URL) with no extra flags, stderr discarded.
    pub fn start(ledger: impl AsRef<OsStr>) -> Self {
        let (child, base) = spawn_serve(ledger, &[], Stdio::null());
        Self { child, base }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `onrecord --ledger LEDGER ARGS...` with stdin closed: its exit code and stdout.
pub fn run_at(ledger: &str, args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(bin())
        .arg("--ledger")
        .arg(ledger)
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("spawn onrecord");
    (out.status.code(), text(&out.stdout))
}
