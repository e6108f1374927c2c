//! The read model of the report: every proposition with its positions,
//! contradictions, chart and scores, then the leaderboard and the calibration
//! rows. Pure values: what `onrecord-report` renders, with no markup here.

use onrecord_core::Proposition;

use crate::chart::ChartInput;
use crate::{CalibrationRow, Contradiction, PartyTotals, Position, PropositionScores, ScoreReport};

/// Everything the report shows.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportInput {
    /// A line under the title, e.g. which ledger and which time-travel filter.
    pub caption: Option<String>,
    /// One section per proposition, in this order.
    pub propositions: Vec<PropositionSection>,
    /// Party totals, in rank order (as [`ScoreReport::parties`] gives them).
    pub leaderboard: Vec<PartyTotals>,
    /// The calibration rows, one per band.
    pub calibration: Vec<CalibrationRow>,
}

/// What the report shows about one proposition.
#[derive(Debug, Clone, PartialEq)]
pub struct PropositionSection {
    /// The proposition: id, text, criteria, window.
    pub proposition: Proposition,
    /// Its current positions.
    pub positions: Vec<Position>,
    /// Its contradictions.
    pub contradictions: Vec<Contradiction>,
    /// Its credence chart.
    pub chart: ChartInput,
    /// Its scores, once resolved.
    pub scores: Option<PropositionScores>,
}

impl PropositionSection {
    /// The section for `proposition`, picking its own entries out of all positions, contradictions and scores.
    pub fn new(
        proposition: Proposition,
        positions: &[Position],
        contradictions: &[Contradiction],
        chart: ChartInput,
        scores: &ScoreReport,
    ) -> Self {
        let id = &proposition.id;
        Self {
            positions: positions
                .iter()
                .filter(|p| p.proposition == *id)
                .cloned()
                .collect(),
            contradictions: contradictions
                .iter()
                .filter(|c| c.proposition == *id)
                .cloned()
                .collect(),
            scores: scores
                .propositions
                .iter()
                .find(|s| s.proposition == *id)
                .cloned(),
            chart,
            proposition,
        }
    }
}
