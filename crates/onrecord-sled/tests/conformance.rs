//! The engine's backend conformance suite (`onrecord_ledger::conformance`)
//! on sled: each store a new ledger directory in a temp dir, reopened by
//! dropping every handle and opening the directory again, as a process
//! that restarts does. It runs on keyspace layout 3 (chunks, what new
//! ledgers get) and again on one sled key per engine key (layouts 1 and 2,
//! which older ledgers keep).

mod common;

use std::path::PathBuf;

use onrecord_ledger::Storage;
use onrecord_ledger::conformance::Backend;
use onrecord_sled::StoreLayout;

/// sled ledgers in one temp dir, a new directory per store.
struct SledBackend {
    dir: tempfile::TempDir,
    made: usize,
    layout: StoreLayout,
}

impl SledBackend {
    fn new(layout: StoreLayout) -> Self {
        Self {
            dir: tempfile::tempdir().expect("a temp dir"),
            made: 0,
            layout,
        }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join(format!("l{}", self.made))
    }
}

impl Backend for SledBackend {
    fn new_store(&mut self) -> Box<dyn Storage> {
        // The last store's ledger is closed by now (the suite makes one
        // ledger at a time): its directory goes, so a property test's many
        // cases do not pile up on disk.
        let _ = std::fs::remove_dir_all(self.path());
        self.made += 1;
        let options = onrecord_sled::LedgerOptions {
            new_layout: self.layout,
            ..common::options()
        };
        let store = onrecord_sled::create_storage(&self.path(), &options)
            .expect("a new directory takes a new ledger");
        assert_eq!(store.layout(), self.layout);
        Box::new(store)
    }

    fn reopen_store(&mut self) -> Box<dyn Storage> {
        let store = onrecord_sled::open_storage(&self.path(), &common::options())
            .expect("a closed ledger opens again");
        assert_eq!(store.layout(), self.layout, "a ledger keeps its layout");
        Box::new(store)
    }

    /// Every write is a flush and an fdatasync: fewer cases than in memory.
    fn property_cases(&self) -> u32 {
        16
    }
}

/// Keyspace layout 3: what every new ledger is.
mod layout_3 {
    use super::*;
    onrecord_ledger::conformance_tests!(SledBackend::new(StoreLayout::Chunks));
}

/// One sled key per engine key: ledgers made before layout 3.
mod key_per_entry {
    use super::*;
    onrecord_ledger::conformance_tests!(SledBackend::new(StoreLayout::KeyPerEntry));
}
