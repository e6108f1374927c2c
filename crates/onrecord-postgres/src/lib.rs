//! onrecord's PostgreSQL backend: a ledger's keyspace in a PostgreSQL
//! database, chosen by a URL (`postgres://USER@HOST:PORT/DB`). The only
//! crate that names tokio-postgres.
//!
//! [`PostgresStorage`] implements the engine's [`Storage`] over the
//! `onrecord.keyspace` table (the engine's keyspace, byte for byte, so the
//! records and hashes equal sled's); the schema is versioned by the
//! migrations in `migrations/` ([`SCHEMA_VERSION`]). This crate decides
//! whether a database holds a ledger before writing anything to it, and maps
//! the client's failures to the engine's errors. The append pipeline, chain,
//! indexes and views are the engine's (`onrecord-ledger`); the decision
//! record is ADR 0005, operating notes are `docs/postgres.md`.
#![warn(missing_docs)]

mod address;
mod error;
mod read_tables;
mod schema;
mod store;
#[cfg(feature = "test-cluster")]
pub mod test_cluster;
mod tls;

use onrecord_ledger::{Ledger, Opening, StoreError};

pub use address::{CONNECT_TIMEOUT, is_postgres_url, redact};
pub use error::PostgresError;
pub use onrecord_ledger::Storage;
pub use schema::SCHEMA_VERSION;
pub use store::{FIRST_PAGE_ROWS, MAX_PAGE_ROWS, PostgresOptions, PostgresStorage};
pub use tls::TlsSetupError;

use store::Intent;

/// The store for a new, empty ledger in the database at `url`: makes the
/// schema (all migrations in one transaction) and takes the writer lock, but
/// puts no engine on top, for a caller that wraps the store (fault
/// injection) before `Ledger::from_storage(.., Opening::Create)`. Refuses,
/// writing nothing, a database that already holds a ledger or an `onrecord`
/// schema it did not make.
pub fn create_storage(url: &str, options: &PostgresOptions) -> Result<PostgresStorage, StoreError> {
    PostgresStorage::connect(url, options, Intent::Create)
}

/// The store of the existing ledger in the database at `url`, recognised and
/// locked as [`open`] does, without the engine on top. Fails as [`open`] does.
pub fn open_storage(url: &str, options: &PostgresOptions) -> Result<PostgresStorage, StoreError> {
    PostgresStorage::connect(url, options, Intent::Open)
}

/// Creates a new, empty ledger in the database at `url` (`onrecord init`).
pub fn create(url: &str, options: &PostgresOptions) -> Result<Ledger, StoreError> {
    let store = create_storage(url, options)?;
    Ledger::from_storage(Box::new(store), options.clock, Opening::Create)
}

/// Opens the ledger in the database at `url`. A database without the
/// schema is [`StoreError::NoLedger`], one whose `onrecord` schema is not
/// onrecord's is [`StoreError::NotALedger`], a newer schema is
/// [`StoreError::NewerSchema`]; in each case nothing is written.
pub fn open(url: &str, options: &PostgresOptions) -> Result<Ledger, StoreError> {
    let store = open_storage(url, options)?;
    Ledger::from_storage(Box::new(store), options.clock, Opening::Existing)
}

/// Opens the ledger at `url`, creating it when there is none.
pub fn open_or_create(url: &str, options: &PostgresOptions) -> Result<Ledger, StoreError> {
    match open(url, options) {
        Err(StoreError::NoLedger(_)) => create(url, options),
        other => other,
    }
}

/// Opens the ledger at `url` and runs `write` on it; when there is none,
/// creates one for `write` and keeps it only if `write` succeeds: a refused
/// first append leaves the database without the schema, as it was.
pub fn open_or_create_then<T, E: From<StoreError>>(
    url: &str,
    options: &PostgresOptions,
    write: impl FnOnce(&Ledger) -> Result<T, E>,
) -> Result<T, E> {
    let (ledger, created) = match open(url, options) {
        Err(StoreError::NoLedger(_)) => {
            let store = create_storage(url, options)?;
            let ledger = Ledger::from_storage(
                Box::new(store),
                options.clock,
                Opening::CreateWithFirstAppend,
            )?;
            (ledger, true)
        }
        other => (other?, false),
    };
    let result = write(&ledger);
    if result.is_err() && created && ledger.is_unwritten() {
        drop(ledger);
        remove_created(url, options);
    }
    result
}

/// Removes the schema of a ledger this process created for a write that was
/// then refused, so the database is as it was. Best effort, and only when
/// the keyspace is still empty (nothing of a ledger is ever dropped).
pub fn remove_created(url: &str, options: &PostgresOptions) {
    if let Ok(store) = open_storage(url, options) {
        let _ = store.drop_if_empty();
    }
}
