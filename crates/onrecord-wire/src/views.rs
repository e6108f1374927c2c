//! The shapes of `positions --json`, `contradictions --json` and
//! `history --json`.

use onrecord_ledger::query::PropositionView;
use onrecord_projections::{Contradiction, HistoryEntry, Position};
use serde::{Deserialize, Serialize};

use crate::round6;

/// One party's current position on a proposition (an item of `positions`' `positions`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartyPositionJson {
    /// Whose position it is.
    pub party: String,
    /// The current statement's stance name, e.g. `almost-certain`.
    pub stance: String,
    /// The current statement's credence as recorded; `null` for declined.
    pub credence: Option<f64>,
    /// When the current statement was said, RFC 3339 UTC.
    pub said_at: String,
    /// Who said the current statement.
    pub speaker: String,
    /// The current statement's event id.
    pub statement: String,
    /// The current statement's words; `null` when none were recorded.
    pub quote: Option<String>,
    /// How many of the party's statements on the proposition count.
    pub statements: u64,
    /// How many times the party's successive sided credences crossed even.
    pub flips: u64,
}

impl From<&Position> for PartyPositionJson {
    fn from(p: &Position) -> Self {
        Self {
            party: p.party.to_string(),
            stance: p.stance.name().to_owned(),
            credence: p.credence,
            said_at: p.said_at.to_rfc3339(),
            speaker: p.speaker.to_string(),
            statement: p.statement.to_string(),
            quote: p.quote.clone(),
            statements: p.statements,
            flips: p.flips,
        }
    }
}

/// Two contradicting parties within one proposition's positions (an item of `positions`' `contradictions`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContradictingPairJson {
    /// The two parties, the lesser id first.
    pub parties: [String; 2],
    /// The absolute difference of their credences, rounded to 6 decimals.
    pub spread: f64,
}

impl From<&Contradiction> for ContradictingPairJson {
    fn from(c: &Contradiction) -> Self {
        Self {
            parties: [c.parties.0.to_string(), c.parties.1.to_string()],
            spread: round6(c.spread),
        }
    }
}

/// One proposition's positions and contradictions: `positions PROPOSITION --json`, or an item of `positions --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PropositionPositionsJson {
    /// The proposition.
    pub proposition: String,
    /// The positions asked for, ordered by party.
    pub positions: Vec<PartyPositionJson>,
    /// Contradictions among every party's positions, ordered by pair.
    pub contradictions: Vec<ContradictingPairJson>,
}

impl PropositionPositionsJson {
    /// The shape of a query API's proposition view.
    pub fn from_view(v: &PropositionView) -> Self {
        Self {
            proposition: v.proposition.to_string(),
            positions: v.positions.iter().map(PartyPositionJson::from).collect(),
            contradictions: v
                .contradictions
                .iter()
                .map(ContradictingPairJson::from)
                .collect(),
        }
    }
}

impl From<&PropositionView> for PropositionPositionsJson {
    fn from(v: &PropositionView) -> Self {
        Self::from_view(v)
    }
}

/// One contradiction across the ledger (an item of `contradictions --json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContradictionJson {
    /// The proposition the parties disagree on.
    pub proposition: String,
    /// The two parties, the lesser id first.
    pub parties: [String; 2],
    /// The absolute difference of their credences, rounded to 6 decimals.
    pub spread: f64,
}

impl From<&Contradiction> for ContradictionJson {
    fn from(c: &Contradiction) -> Self {
        Self {
            proposition: c.proposition.to_string(),
            parties: [c.parties.0.to_string(), c.parties.1.to_string()],
            spread: round6(c.spread),
        }
    }
}

/// One statement in a proposition's history (an item of `history --json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryEntryJson {
    /// The statement's place in the log.
    pub seq: u64,
    /// The statement's event id.
    pub statement: String,
    /// Whose position it states.
    pub party: String,
    /// Who said it.
    pub speaker: String,
    /// The stance name, e.g. `unlikely`.
    pub stance: String,
    /// The credence as recorded; `null` for declined.
    pub credence: Option<f64>,
    /// When it was said, RFC 3339 UTC.
    pub said_at: String,
    /// The words; `null` when none were recorded.
    pub quote: Option<String>,
    /// Where it was reported; `null` when not recorded.
    pub source: Option<String>,
    /// Whether a retraction of it counts.
    pub retracted: bool,
}

impl From<&HistoryEntry> for HistoryEntryJson {
    fn from(e: &HistoryEntry) -> Self {
        Self {
            seq: e.seq,
            statement: e.statement.to_string(),
            party: e.party.to_string(),
            speaker: e.speaker.to_string(),
            stance: e.stance.name().to_owned(),
            credence: e.credence,
            said_at: e.said_at.to_rfc3339(),
            quote: e.quote.clone(),
            source: e.source.clone(),
            retracted: e.retracted,
        }
    }
}
