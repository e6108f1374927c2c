//! Shared builders for the store's tests: drafts of each event type and a temp ledger.
#![allow(dead_code)]

use onrecord_ledger::Ledger;
use onrecord_sled::LedgerOptions;

// The draft builders live with the engine's conformance suite, which every
// backend's tests share (each test file uses some of them).
#[allow(unused_imports)]
pub use onrecord_ledger::conformance::drafts::{
    party, pid, prop_id, proposition, req, resolution, retraction, statement,
};
#[allow(unused_imports)]
pub use onrecord_ledger::conformance::seed;

pub fn options() -> LedgerOptions {
    LedgerOptions {
        cache_capacity: 8 * 1024 * 1024,
        ..LedgerOptions::default()
    }
}

/// A fresh ledger in a temp dir (the dir lives as long as the returned guard).
pub fn temp_ledger() -> (tempfile::TempDir, Ledger) {
    let dir = tempfile::tempdir().unwrap();
    let ledger = onrecord_sled::create(&dir.path().join("l"), &options()).unwrap();
    (dir, ledger)
}

/// Opens the ledger's keyspace directly, whatever its layout, for tests that
/// damage it on purpose. sled's background flusher can hold the lock for a
/// moment after a handle is dropped, so this retries briefly, as
/// `Ledger::open` does.
pub fn open_raw(path: &std::path::Path) -> onrecord_sled::RawLedger {
    let started = std::time::Instant::now();
    loop {
        match onrecord_sled::RawLedger::open(path) {
            Ok(db) => return db,
            Err(e) if started.elapsed() < std::time::Duration::from_secs(10) => {
                let _ = e;
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(e) => panic!("cannot open {}: {e}", path.display()),
        }
    }
}
