//! Time travel: the [`Filter`] that picks which recorded events and which
//! statements a fold counts.
//!
//! This module only compares numbers it is handed; it never reads the clock,
//! the store or any other state.

use onrecord_core::{Recorded, TimeBound, When};

/// Which events and statements a view counts; all parts combine (logical and).
///
/// `known_at` and `at_seq` filter whole records (transaction time and log
/// position), so retractions and resolutions are filtered by them too.
/// `as_of` filters statements only, by when they were said (valid time); a
/// retraction takes effect in every valid-time view once it is recorded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Filter {
    /// Valid time: only statements whose `said_at` lies at or before this bound count.
    pub as_of: Option<TimeBound>,
    /// Transaction time: only events recorded at or before this bound count.
    pub known_at: Option<TimeBound>,
    /// Log position: only events with `seq` at most this count.
    pub at_seq: Option<u64>,
}

impl Filter {
    /// The filter that counts everything.
    pub fn unfiltered() -> Self {
        Self::default()
    }

    /// Whether no part of the filter is set, so every event counts.
    pub fn is_unfiltered(&self) -> bool {
        self.as_of.is_none() && self.known_at.is_none() && self.at_seq.is_none()
    }

    /// Whether the record itself counts, by `known_at` and `at_seq` (not `as_of`).
    pub fn admits_record(&self, rec: &Recorded) -> bool {
        self.known_at.is_none_or(|b| b.admits(rec.recorded_at))
            && self.at_seq.is_none_or(|n| rec.seq <= n)
    }

    /// Whether a statement said at `said_at` counts by `as_of` (its record is checked separately).
    pub fn admits_said_at(&self, said_at: &When) -> bool {
        self.as_of.is_none_or(|b| b.admits(said_at.micros()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::Log;

    #[test]
    fn known_at_and_at_seq_filter_records_but_as_of_does_not() {
        let mut log = Log::new();
        let id = log.statement("p", "trump", onrecord_core::Stance::Likely, "2018-11-06");
        let rec = log.records()[0].clone();
        assert_eq!(rec.event_id, id);
        let at = rec.recorded_at;
        let f = |as_of: Option<&str>, known_at: Option<i64>, at_seq: Option<u64>| Filter {
            as_of: as_of.map(|s| s.parse().unwrap()),
            known_at: known_at.map(TimeBound),
            at_seq,
        };
        assert!(f(None, None, None).is_unfiltered());
        assert!(!f(None, None, Some(1)).is_unfiltered());
        assert!(f(None, Some(at), Some(1)).admits_record(&rec));
        assert!(!f(None, Some(at - 1), None).admits_record(&rec));
        assert!(!f(None, None, Some(0)).admits_record(&rec));
        // as_of never rejects a record as such ...
        assert!(f(Some("2000-01-01"), None, None).admits_record(&rec));
        // ... only statements said after it; a date bound means the end of that day.
        let said: When = "2018-11-06T23:00:00Z".parse().unwrap();
        assert!(f(Some("2018-11-06"), None, None).admits_said_at(&said));
        assert!(!f(Some("2018-11-05"), None, None).admits_said_at(&said));
    }
}
