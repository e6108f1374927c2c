//! onrecord's append-only log, in sled: the only crate that touches sled.
//!
//! A [`Ledger`] is a directory holding one sled database with a single tree
//! whose keyspace is split by prefix ([`keys`]): hash-chained records by seq,
//! the event-id and stream indexes, stream heads, the head, and the kept views.
//! Appends are atomic (one `apply_batch`) and durable (flush + fdatasync)
//! before they return; reads stream; [`Ledger::verify`] proves the chain.
//! Callers read a ledger's contents through the query API in [`query`].

mod anchor;
mod chain;
pub mod envelope;
mod error;
mod import;
pub mod keys;
mod ledger;
mod marker;
mod queries;
pub mod query;
mod stats;
mod stream_index;
mod verify;
mod views;

pub use anchor::ANCHOR_FILE;
pub use chain::CheckedRecords;
pub use error::{Damage, StoreError};
pub use import::{CHUNK as IMPORT_CHUNK, ImportCheck, ImportCounts, ImportWrite};
pub use ledger::{
    AppendOutcome, AppendRequest, ExpectedRevision, Head, InvalidExpectedRevision, Ledger,
    LedgerOptions, ROOM_FACTOR, ROOM_RESERVE, Records, VerifyReport, hex, remove_created,
    system_clock,
};
pub use marker::MARKER_FILE;
pub use queries::PositionsAt;
pub use query::{LedgerReads, Query, QueryError};
pub use stats::LedgerStats;
pub use views::ViewsVerified;
