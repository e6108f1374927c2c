//! Calibration: per ICD 203 stance band, how many counted statements on
//! resolved propositions it holds and how often their propositions happened,
//! beside the band's range. A calibrated speaker's "likely" happens 55-80 % of
//! the time.
//!
//! Pure: [`CalibrationFold`] sees only the records handed to it; no I/O, no
//! store, no clock. Which statements count is defined once, in the private
//! `resolved` module shared with [`crate::scores`].

use onrecord_core::{Outcome, Recorded, Stance};

use crate::Filter;
use crate::resolved::ResolvedFold;

/// One stance band's record: how often what it was said of happened.
#[derive(Debug, Clone, PartialEq)]
pub struct CalibrationRow {
    /// The band (never `declined`).
    pub stance: Stance,
    /// The band's inclusive lower bound.
    pub low: f64,
    /// The band's inclusive upper bound.
    pub high: f64,
    /// How many counted statements on resolved propositions have this stance.
    pub statements: u64,
    /// How many of them are on propositions that happened.
    pub happened: u64,
    /// `happened / statements`, or `None` when no statement has this stance.
    pub share: Option<f64>,
}

/// Folds records into calibration rows; see [`Filter`] for time travel.
///
/// Counts every statement that is not retracted, not declined and was said
/// strictly before its proposition's resolution, whoever said it.
#[derive(Debug, Clone)]
pub struct CalibrationFold {
    inner: ResolvedFold,
}

impl CalibrationFold {
    /// A fold counting what `filter` admits.
    pub fn new(filter: Filter) -> Self {
        Self {
            inner: ResolvedFold::new(filter),
        }
    }

    /// Takes in the next record of the log (records must come in seq order).
    pub fn apply(&mut self, rec: &Recorded) {
        self.inner.apply(rec);
    }

    /// One row per band, from almost-no-chance to almost-certain (always seven).
    pub fn rows(&self) -> Vec<CalibrationRow> {
        let mut counts = [(0u64, 0u64); 7];
        for (_, res, parties) in self.inner.resolved() {
            let happened = u64::from(res.outcome == Outcome::Happened);
            for c in parties.iter().flat_map(|(_, counted)| counted) {
                if let Some(i) = Stance::ALL[..7].iter().position(|s| *s == c.stance) {
                    counts[i].0 += 1;
                    counts[i].1 += happened;
                }
            }
        }
        Stance::ALL[..7]
            .iter()
            .zip(counts)
            .filter_map(|(stance, (statements, happened))| {
                let (low, high) = stance.band()?;
                Some(CalibrationRow {
                    stance: *stance,
                    low,
                    high,
                    statements,
                    happened,
                    share: (statements > 0).then(|| happened as f64 / statements as f64),
                })
            })
            .collect()
    }

    /// The rows after every record.
    pub fn finish(self) -> Vec<CalibrationRow> {
        self.rows()
    }
}

/// Calibration of `records` in one go (a convenience over [`CalibrationFold`]).
pub fn calibration<'a>(
    records: impl IntoIterator<Item = &'a Recorded>,
    filter: Filter,
) -> Vec<CalibrationRow> {
    let mut fold = CalibrationFold::new(filter);
    records.into_iter().for_each(|r| fold.apply(r));
    fold.finish()
}
