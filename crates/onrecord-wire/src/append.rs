//! The shapes of `append --json`: one event, or a bulk append's counts.

use onrecord_ledger::{AppendOutcome, ImportCounts};
use serde::{Deserialize, Serialize};

/// What one acknowledged append did (`append KIND --json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppendedJson {
    /// `appended`, or `already-recorded` when the same event was already in the ledger.
    pub status: String,
    /// The seq the event holds in the ledger.
    pub seq: u64,
    /// The event's id.
    pub event_id: String,
}

impl AppendedJson {
    /// The `status` of an event written now.
    pub const APPENDED: &str = "appended";
    /// The `status` of an event the ledger already held with the same content.
    pub const ALREADY_RECORDED: &str = "already-recorded";

    /// The shape of an append's outcome.
    pub fn from_outcome(outcome: &AppendOutcome) -> Self {
        let status = match outcome {
            AppendOutcome::Appended { .. } => Self::APPENDED,
            AppendOutcome::AlreadyRecorded { .. } => Self::ALREADY_RECORDED,
        };
        Self {
            status: status.to_owned(),
            seq: outcome.seq(),
            event_id: outcome.event_id().to_string(),
        }
    }
}

impl From<&AppendOutcome> for AppendedJson {
    fn from(outcome: &AppendOutcome) -> Self {
        Self::from_outcome(outcome)
    }
}

/// What an all-or-nothing bulk append did (`append --jsonl FILE --json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BulkAppendedJson {
    /// Always `ok` (a refused bulk append writes nothing and answers with an error).
    pub status: String,
    /// Events appended.
    pub appended: u64,
    /// Events whose id was already recorded with the same content.
    pub already_recorded: u64,
}

impl BulkAppendedJson {
    /// The `status` of a bulk append that went through.
    pub const OK: &str = "ok";

    /// The shape of an import's counts.
    pub fn from_counts(counts: &ImportCounts) -> Self {
        Self {
            status: Self::OK.to_owned(),
            appended: counts.appended,
            already_recorded: counts.already_recorded,
        }
    }
}

impl From<&ImportCounts> for BulkAppendedJson {
    fn from(counts: &ImportCounts) -> Self {
        Self::from_counts(counts)
    }
}
