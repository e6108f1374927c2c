//! onrecord's ledger engine: the append pipeline and the reads, over any
//! backend that implements [`Storage`]. No file, socket or database is
//! touched here: backends (`onrecord-sled`, and [`MemoryStorage`] for tests)
//! do that.
//!
//! A [`Ledger`] keeps one ordered keyspace split by prefix ([`keys`]):
//! hash-chained records by seq, the event-id and stream indexes, stream
//! heads, the head, and the kept views. Each append is one [`WriteSet`],
//! applied atomically and synced before it is acknowledged; reads stream;
//! [`Ledger::verify`] proves chain, indexes and views. Callers read a
//! ledger's contents through the query API in [`query`].
#![warn(missing_docs)]

pub mod access;
mod admission;
mod chain;
mod codes;
pub mod envelope;
mod error;
mod import;
pub mod keys;
mod ledger;
mod queries;
pub mod query;
pub mod read_ahead;
mod stats;
pub mod storage;
mod stream_index;
mod verify;
mod views;

pub use chain::{CheckedRecords, CheckedVerbatim, VerbatimRecord};
pub use error::{Damage, ErrorKind, StoreError};
pub use import::{CHUNK as IMPORT_CHUNK, ImportCheck, ImportCounts, ImportWrite};
pub use ledger::{
    AppendOutcome, AppendRequest, Clock, ExpectedRevision, Head, InvalidExpectedRevision, Ledger,
    Opening, Records, VerifyReport, hex, system_clock,
};
pub use queries::PositionsAt;
pub use query::{LedgerReads, Query, QueryError};
pub use stats::LedgerStats;
pub use storage::{Acknowledged, Applied, Expect, HeadListener, MemoryStorage, Storage, WriteSet};
pub use views::ViewsVerified;

#[cfg(feature = "conformance")]
pub mod conformance;
