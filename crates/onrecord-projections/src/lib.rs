//! Pure folds from recorded onrecord events to read models: current
//! positions, contradictions, statement histories, and the scores and
//! calibration of resolved propositions, with time travel by valid time,
//! transaction time and log position; and the inputs of a credence chart
//! ([`chart`]) and of the report ([`report`]) built from them.
//!
//! Every fold takes the log one [`Recorded`](onrecord_core::Recorded) event at
//! a time and never needs the whole log in memory. This crate does no I/O: it
//! never touches files, sled or the clock. What a current position is (which
//! statement is current, what counts as a flip) is defined once, in
//! [`summary`]: [`PositionsFold`] walks its entries with it, and the store
//! keeps current positions incrementally with it.
#![warn(missing_docs)]

pub mod calibration;
pub mod chart;
pub mod contradictions;
pub mod filter;
pub mod history;
pub mod positions;
pub mod report;
mod resolved;
pub mod scores;
pub mod summary;

#[cfg(test)]
mod scoring_tests;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;

pub use calibration::{CalibrationFold, CalibrationRow, calibration};
pub use chart::{ChartInput, ChartPoint, ChartResolution, PartySeries};
pub use contradictions::{Contradiction, contradictions};
pub use filter::Filter;
pub use history::{HistoryEntry, HistoryFold};
pub use positions::{Position, PositionsFold, positions};
pub use report::{PropositionSection, ReportInput};
pub use scores::{PartyScore, PartyTotals, PropositionScores, ScoreReport, ScoresFold, scores};
pub use summary::{
    Flips, PositionSummary, SidedNeighbours, StatementEntry, Tally, add_statement, extend, is_flip,
    order_key, retract_statement, summarize, tally,
};
