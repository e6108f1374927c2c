//! The shapes of `scores --json` and `calibration --json`; every score and
//! share rounded to 6 decimals.

use onrecord_projections::{
    CalibrationRow, PartyScore, PartyTotals, PropositionScores, ScoreReport,
};
use serde::{Deserialize, Serialize};

use crate::round6;

/// The score report (`scores --json`): per resolved proposition, then the leaderboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScoresJson {
    /// Each resolved proposition, ordered by id.
    pub propositions: Vec<PropositionScoresJson>,
    /// Each scored party's totals, best mean daily Brier first.
    pub parties: Vec<PartyTotalsJson>,
}

impl ScoresJson {
    /// The shape of a query API's score report.
    pub fn from_report(report: &ScoreReport) -> Self {
        Self {
            propositions: report
                .propositions
                .iter()
                .map(PropositionScoresJson::from)
                .collect(),
            parties: report.parties.iter().map(PartyTotalsJson::from).collect(),
        }
    }
}

impl From<&ScoreReport> for ScoresJson {
    fn from(report: &ScoreReport) -> Self {
        Self::from_report(report)
    }
}

/// The scores on one resolved proposition (an item of `scores`' `propositions`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PropositionScoresJson {
    /// The proposition scored.
    pub proposition: String,
    /// How it resolved: `happened` or `did-not-happen`.
    pub outcome: String,
    /// When the outcome became fact, RFC 3339 UTC.
    pub resolved_at: String,
    /// Each party with a counted statement, ordered by party id.
    pub parties: Vec<PartyScoreJson>,
}

impl From<&PropositionScores> for PropositionScoresJson {
    fn from(p: &PropositionScores) -> Self {
        Self {
            proposition: p.proposition.to_string(),
            outcome: p.outcome.name().to_owned(),
            resolved_at: p.resolved_at.to_rfc3339(),
            parties: p.parties.iter().map(PartyScoreJson::from).collect(),
        }
    }
}

/// One party's scores on one resolved proposition (an item of a proposition's `parties`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartyScoreJson {
    /// Whose scores these are.
    pub party: String,
    /// The credence of the party's latest counted statement.
    pub final_credence: f64,
    /// (final credence − outcome)².
    pub final_brier: f64,
    /// The mean over each UTC day of (credence held − outcome)².
    pub mean_daily_brier: f64,
    /// ln of the final credence given to what happened.
    pub final_log: f64,
    /// How many of the party's statements counted.
    pub statements: u64,
}

impl From<&PartyScore> for PartyScoreJson {
    fn from(s: &PartyScore) -> Self {
        Self {
            party: s.party.to_string(),
            final_credence: round6(s.final_credence),
            final_brier: round6(s.final_brier),
            mean_daily_brier: round6(s.mean_daily_brier),
            final_log: round6(s.final_log),
            statements: s.statements,
        }
    }
}

/// One party's totals over the resolved propositions it spoke on (an item of `scores`' `parties`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartyTotalsJson {
    /// Whose totals these are.
    pub party: String,
    /// How many resolved propositions the party has scores on.
    pub propositions: u64,
    /// The mean of its final Brier scores.
    pub mean_final_brier: f64,
    /// The mean of its mean daily Brier scores.
    pub mean_daily_brier: f64,
    /// The mean of its final log scores.
    pub mean_final_log: f64,
}

impl From<&PartyTotals> for PartyTotalsJson {
    fn from(t: &PartyTotals) -> Self {
        Self {
            party: t.party.to_string(),
            propositions: t.propositions,
            mean_final_brier: round6(t.mean_final_brier),
            mean_daily_brier: round6(t.mean_daily_brier),
            mean_final_log: round6(t.mean_final_log),
        }
    }
}

/// One stance band's record (an item of `calibration --json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CalibrationRowJson {
    /// The band's stance name (never `declined`).
    pub stance: String,
    /// The band's inclusive lower bound.
    pub low: f64,
    /// The band's inclusive upper bound.
    pub high: f64,
    /// How many counted statements on resolved propositions have this stance.
    pub statements: u64,
    /// How many of them are on propositions that happened.
    pub happened: u64,
    /// `happened / statements`; `null` when no statement has this stance.
    pub share: Option<f64>,
}

impl From<&CalibrationRow> for CalibrationRowJson {
    fn from(r: &CalibrationRow) -> Self {
        Self {
            stance: r.stance.name().to_owned(),
            low: round6(r.low),
            high: round6(r.high),
            statements: r.statements,
            happened: r.happened,
            share: r.share.map(round6),
        }
    }
}
