//! The JSON shapes of onrecord's answers, shared by the CLI's `--json`
//! output, the server's responses and the CLI's HTTP client: one struct per
//! shape, serialised with its keys in contract order (docs/event-schema.md,
//! "Output formats") and read back by a client, plus constructors from the
//! domain values the query API and the append pipeline return.
//!
//! The shapes are a contract: fields may be added (at the end), never renamed,
//! reordered or removed, so a client reads them without refusing unknown keys.
//! Scores, spreads and shares are rounded to 6 decimals here ([`round6`]),
//! credences are kept as recorded.
//!
//! This crate only describes and builds values: it does no I/O (no files,
//! sockets, stdout, ledger or clock), chooses nothing about what to read, and
//! formats no tables or CSV (those stay with the CLI).

#![warn(missing_docs)]

pub mod append;
pub mod scores;
pub mod stats;
pub mod views;

pub use append::{AppendedJson, BulkAppendedJson};
pub use scores::{
    CalibrationRowJson, PartyScoreJson, PartyTotalsJson, PropositionScoresJson, ScoresJson,
};
pub use stats::{EventCountsJson, HeadJson, PropositionCountsJson, StatsJson};
pub use views::{
    ContradictingPairJson, ContradictionJson, HistoryEntryJson, PartyPositionJson,
    PropositionPositionsJson,
};

/// A number rounded to 6 decimals, so 0.6449999999999999 prints as 0.645.
pub fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}
