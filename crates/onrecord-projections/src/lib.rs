//! Pure folds from recorded onrecord events to read models: current
//! positions, contradictions and statement histories, with time travel by
//! valid time, transaction time and log position.
//!
//! Every fold takes the log one [`Recorded`](onrecord_core::Recorded) event at
//! a time and never needs the whole log in memory. This crate does no I/O: it
//! never touches files, sled or the clock. The store keeps current positions
//! incrementally with the building blocks in [`summary`], so it and
//! [`PositionsFold`] share one definition of a current position.

pub mod contradictions;
pub mod filter;
pub mod history;
pub mod positions;
pub mod summary;

#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;

pub use contradictions::{Contradiction, contradictions};
pub use filter::Filter;
pub use history::{HistoryEntry, HistoryFold};
pub use positions::{Position, PositionsFold, positions};
pub use summary::{PositionSummary, StatementEntry, extend, summarize};
