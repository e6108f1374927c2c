//! Points in time as people state them: a calendar day or an exact instant.
//!
//! A [`When`] keeps its precision, so a statement dated "2018-11-06" is shown
//! and exported as that day, while it counts from the start of that day (UTC)
//! in every time-filtered view.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, TimeZone, Utc};

use crate::DomainError;

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// The years a time may fall in (UTC): what RFC 3339 can write with four digits,
/// so every time the ledger accepts can be exported and read back.
pub const YEARS: std::ops::RangeInclusive<i32> = 0..=9999;

/// How precisely a time was stated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Precision {
    /// A calendar day, kept as the start of that day UTC.
    Day,
    /// An exact instant, to the microsecond.
    Instant,
}

/// A stated time: microseconds since the Unix epoch (UTC) plus its precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct When {
    micros: i64,
    precision: Precision,
}

impl When {
    /// Builds a `When` from stored parts; day precision is normalised to the start of its day.
    pub fn from_parts(micros: i64, precision: Precision) -> Self {
        let micros = match precision {
            Precision::Day => micros.div_euclid(MICROS_PER_DAY) * MICROS_PER_DAY,
            Precision::Instant => micros,
        };
        Self { micros, precision }
    }

    /// An exact instant at `micros` since the epoch.
    pub fn instant(micros: i64) -> Self {
        Self::from_parts(micros, Precision::Instant)
    }

    /// Microseconds since the Unix epoch (for a day, the start of that day UTC).
    pub fn micros(&self) -> i64 {
        self.micros
    }

    /// Whether this was stated as a day or an instant.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// The day this time falls on (UTC), as days since the Unix epoch.
    pub fn epoch_day(&self) -> i64 {
        self.micros.div_euclid(MICROS_PER_DAY)
    }

    /// As a chrono UTC date-time.
    pub fn to_datetime(&self) -> DateTime<Utc> {
        Utc.timestamp_micros(self.micros)
            .single()
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// RFC 3339 in UTC ending in `Z` (a day shows as its start, `T00:00:00Z`).
    pub fn to_rfc3339(&self) -> String {
        self.to_datetime()
            .to_rfc3339_opts(SecondsFormat::AutoSi, true)
    }

    /// The calendar date (UTC), e.g. `2018-11-06`.
    pub fn date_string(&self) -> String {
        self.to_datetime().format("%Y-%m-%d").to_string()
    }

    /// The inclusive upper bound meaning "at or before this time": the last
    /// microsecond of the day for a day, the instant itself otherwise.
    pub fn as_upper_bound(&self) -> TimeBound {
        match self.precision {
            Precision::Day => TimeBound(self.micros.saturating_add(MICROS_PER_DAY - 1)),
            Precision::Instant => TimeBound(self.micros),
        }
    }
}

impl FromStr for When {
    type Err = DomainError;

    /// Reads `YYYY-MM-DD` (day precision) or an RFC 3339 instant; its UTC
    /// form must fall in the years 0000-9999 ([`YEARS`]).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || DomainError::InvalidTime(s.to_owned());
        let utc = if s.len() == 10 {
            let date = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| bad())?;
            date.and_hms_opt(0, 0, 0).ok_or_else(bad)?.and_utc()
        } else {
            DateTime::parse_from_rfc3339(s)
                .map_err(|_| bad())?
                .with_timezone(&Utc)
        };
        if !YEARS.contains(&utc.year()) {
            return Err(DomainError::TimeOutOfRange(s.to_owned()));
        }
        let precision = if s.len() == 10 {
            Precision::Day
        } else {
            Precision::Instant
        };
        Ok(Self::from_parts(utc.timestamp_micros(), precision))
    }
}

impl fmt::Display for When {
    /// A day shows as `2018-11-06`, an instant as RFC 3339 UTC.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.precision {
            Precision::Day => f.write_str(&self.date_string()),
            Precision::Instant => f.write_str(&self.to_rfc3339()),
        }
    }
}

/// An inclusive upper bound on time, in microseconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimeBound(pub i64);

impl TimeBound {
    /// Whether `micros` lies at or before this bound.
    pub fn admits(&self, micros: i64) -> bool {
        micros <= self.0
    }
}

impl FromStr for TimeBound {
    type Err = DomainError;

    /// Reads a date (meaning the end of that day UTC) or an RFC 3339 instant.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse::<When>().map(|w| w.as_upper_bound())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_keeps_day_precision_at_the_start_of_the_day() {
        let w: When = "2018-11-06".parse().unwrap();
        assert_eq!(w.precision(), Precision::Day);
        assert_eq!(w.to_rfc3339(), "2018-11-06T00:00:00Z");
        assert_eq!(w.to_string(), "2018-11-06");
    }

    #[test]
    fn an_instant_is_converted_to_utc() {
        let w: When = "2018-11-06T14:30:00+03:00".parse().unwrap();
        assert_eq!(w.precision(), Precision::Instant);
        assert_eq!(w.to_rfc3339(), "2018-11-06T11:30:00Z");
        assert_eq!(w.to_string().parse::<When>().unwrap(), w);
    }

    #[test]
    fn impossible_dates_are_refused_by_name() {
        for bad in [
            "2018-02-30",
            "2018-13-01",
            "yesterday",
            "",
            "2018-11-06T25:00:00Z",
        ] {
            let err = bad.parse::<When>().unwrap_err();
            assert_eq!(err, DomainError::InvalidTime(bad.to_owned()));
        }
    }

    #[test]
    fn times_outside_years_0000_to_9999_in_utc_are_refused_by_name() {
        for bad in [
            "0000-01-01T00:00:00+00:01",
            "9999-12-31T23:59:59-00:01",
            "-001-01-01",
            "+10000-01-01T00:00:00Z",
        ] {
            let err = bad.parse::<When>().unwrap_err();
            assert!(
                matches!(&err, DomainError::TimeOutOfRange(v) | DomainError::InvalidTime(v) if v == bad),
                "{bad}: {err:?}"
            );
        }
        for good in [
            "0000-01-01",
            "0000-01-01T00:00:00Z",
            "0000-01-01T00:01:00+00:01",
            "9999-12-31",
            "9999-12-31T23:59:59.999999Z",
        ] {
            let w: When = good.parse().unwrap_or_else(|e| panic!("{good}: {e}"));
            assert_eq!(w.to_string().parse::<When>().unwrap(), w, "{good}");
            assert!(w.to_rfc3339().parse::<When>().is_ok(), "{good}");
            assert!(w.date_string().parse::<When>().is_ok(), "{good}");
        }
    }

    #[test]
    fn a_date_bound_means_the_end_of_that_day() {
        let bound: TimeBound = "2018-11-06".parse().unwrap();
        let start: When = "2018-11-06".parse().unwrap();
        let late: When = "2018-11-06T23:59:59Z".parse().unwrap();
        let next: When = "2018-11-07".parse().unwrap();
        assert!(bound.admits(start.micros()));
        assert!(bound.admits(late.micros()));
        assert!(!bound.admits(next.micros()));
    }
}
