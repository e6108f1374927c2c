//! The read model of the report: every proposition with its positions,
//! contradictions, chart, scores and full statement history (retractions,
//! qualifiers and sources included), the parties' display names, then the
//! leaderboard and the calibration rows. Pure values: what `onrecord-report`
//! renders, with no markup here.

use std::collections::BTreeMap;

use onrecord_core::{EventId, PartyId, Proposition};

use crate::chart::ChartInput;
use crate::{
    CalibrationRow, Contradiction, HistoryEntry, PartyTotals, Position, PropositionScores,
    ScoreReport,
};

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
    /// Display names of the registered parties, by id.
    pub party_names: BTreeMap<PartyId, String>,
}

impl ReportInput {
    /// The display name of `party`, or its id when it has none (not registered).
    pub fn party_name<'a>(&'a self, party: &'a PartyId) -> &'a str {
        self.party_names
            .get(party)
            .map_or(party.as_str(), String::as_str)
    }
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
    /// Every statement on it, in said order, retracted ones flagged (a
    /// [`HistoryFold`](crate::HistoryFold)'s output under the report's filter).
    pub history: Vec<HistoryEntry>,
}

impl PropositionSection {
    /// The section for `proposition`, picking its own entries out of all
    /// positions, contradictions and scores; `history` is its own already.
    pub fn new(
        proposition: Proposition,
        positions: &[Position],
        contradictions: &[Contradiction],
        chart: ChartInput,
        history: Vec<HistoryEntry>,
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
            history,
            proposition,
        }
    }

    /// The history entry of statement `id` (a position's current statement).
    pub fn statement(&self, id: &EventId) -> Option<&HistoryEntry> {
        self.history.iter().find(|e| e.statement == *id)
    }

    /// The statements retracted (under the report's filter), in said order.
    pub fn retracted(&self) -> impl Iterator<Item = &HistoryEntry> {
        self.history.iter().filter(|e| e.retracted)
    }
}
