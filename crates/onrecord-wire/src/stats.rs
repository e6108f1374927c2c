//! The shape of `stats --json`.

use onrecord_ledger::LedgerStats;
use serde::{Deserialize, Serialize};

/// What the ledger holds (`stats --json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatsJson {
    /// Events by type.
    pub events: EventCountsJson,
    /// Registered parties.
    pub parties: u64,
    /// Propositions, open and resolved.
    pub propositions: PropositionCountsJson,
    /// Recorded statements, retracted ones included.
    pub statements: u64,
    /// Retracted statements.
    pub retractions: u64,
    /// The head: last seq and its hash.
    pub head: HeadJson,
    /// Bytes the ledger's files take on disk.
    pub bytes_on_disk: u64,
}

impl StatsJson {
    /// The shape of the query API's ledger statistics.
    pub fn from_stats(s: &LedgerStats) -> Self {
        Self {
            events: EventCountsJson {
                total: s.head.seq,
                party: s.parties,
                proposition: s.propositions,
                statement: s.statements,
                retraction: s.retractions,
                resolution: s.resolved,
            },
            parties: s.parties,
            propositions: PropositionCountsJson {
                total: s.propositions,
                open: s.open_propositions(),
                resolved: s.resolved,
            },
            statements: s.statements,
            retractions: s.retractions,
            head: HeadJson {
                seq: s.head.seq,
                hash: s.head.hash_hex(),
            },
            bytes_on_disk: s.bytes_on_disk,
        }
    }
}

impl From<&LedgerStats> for StatsJson {
    fn from(s: &LedgerStats) -> Self {
        Self::from_stats(s)
    }
}

/// Events by type (`stats`' `events`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventCountsJson {
    /// Every event (the head seq).
    pub total: u64,
    /// `PartyRegistered` events.
    pub party: u64,
    /// `PropositionOpened` events.
    pub proposition: u64,
    /// `StatementRecorded` events.
    pub statement: u64,
    /// `StatementRetracted` events.
    pub retraction: u64,
    /// `PropositionResolved` events.
    pub resolution: u64,
}

/// Propositions, open and resolved (`stats`' `propositions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PropositionCountsJson {
    /// Opened propositions.
    pub total: u64,
    /// Propositions not yet resolved.
    pub open: u64,
    /// Resolved propositions.
    pub resolved: u64,
}

/// The ledger's head (`stats`' `head`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HeadJson {
    /// The last sequence number (0 when empty).
    pub seq: u64,
    /// The hash of the record at `seq`, lower-case hex (zeros when empty).
    pub hash: String,
}
