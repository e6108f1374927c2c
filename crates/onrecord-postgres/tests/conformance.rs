//! The engine's backend conformance suite (`onrecord_ledger::conformance`:
//! the scripted checks, the model-based property test and the
//! fault-injection test) on PostgreSQL: each test gets a fresh database on
//! the test binary's own cluster; each store the suite makes is a new
//! ledger schema in it, reopened by dropping every handle and connecting
//! again, as a process that restarts does. Skipped (printing "skipped")
//! where PostgreSQL cannot run, unless `ONRECORD_REQUIRE_POSTGRES` is set.

use onrecord_ledger::Storage;
use onrecord_ledger::conformance::Backend;
use onrecord_postgres::PostgresOptions;
use onrecord_postgres::test_cluster::TestDatabase;

/// Ledgers in one test database, a new schema per store.
struct PostgresBackend {
    db: TestDatabase,
}

impl PostgresBackend {
    fn new() -> Option<Self> {
        TestDatabase::new().map(|db| Self { db })
    }
}

impl Backend for PostgresBackend {
    fn new_store(&mut self) -> Box<dyn Storage> {
        // The suite makes one ledger at a time: the last one is closed by now.
        self.db.reset();
        let store = onrecord_postgres::create_storage(&self.db.url(), &PostgresOptions::default())
            .expect("an empty database takes a new ledger");
        Box::new(store)
    }

    fn reopen_store(&mut self) -> Box<dyn Storage> {
        let store = onrecord_postgres::open_storage(&self.db.url(), &PostgresOptions::default())
            .expect("a closed ledger opens again");
        Box::new(store)
    }

    /// Two shared stores on one new ledger schema: two servers on one database.
    fn shared_stores(&mut self) -> Option<(Box<dyn Storage>, Box<dyn Storage>)> {
        let first = self.new_store();
        let second = onrecord_postgres::open_storage(&self.db.url(), &PostgresOptions::default())
            .expect("a second writer opens the ledger");
        Some((first, Box::new(second)))
    }

    /// Every store is a schema made by a migration and every read a round
    /// trip: as few cases as on sled.
    fn property_cases(&self) -> u32 {
        16
    }
}

onrecord_ledger::conformance_tests!(match PostgresBackend::new() {
    Some(backend) => backend,
    None => return,
});
