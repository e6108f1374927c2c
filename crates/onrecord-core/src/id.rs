//! Identifiers: party and proposition ids (short, human-chosen slugs) and event
//! ids (UUIDs, v7 when the ledger makes them).

use std::fmt;
use std::str::FromStr;

use crate::DomainError;

/// The longest slug id, in bytes.
pub const MAX_ID_LEN: usize = 63;

fn is_valid_slug(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_ID_LEN
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

macro_rules! slug_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// Checks `s` against `^[a-z0-9][a-z0-9-]{0,62}$` and wraps it.
            pub fn new(s: &str) -> Result<Self, DomainError> {
                Self::from_string(s.to_owned())
            }

            /// As [`Self::new`], taking an owned string so a valid id costs no copy.
            pub fn from_string(s: String) -> Result<Self, DomainError> {
                if is_valid_slug(&s) {
                    Ok(Self(s))
                } else {
                    Err(DomainError::InvalidId { kind: $kind, value: s })
                }
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = DomainError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

slug_id!(
    /// The id of a party (a person, organization or government), e.g. `kremlin`.
    PartyId,
    "party"
);
slug_id!(
    /// The id of a proposition (a question about the future), e.g. `paris-meeting`.
    PropositionId,
    "proposition"
);

/// The id of one event in the ledger; unique across the whole ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventId(uuid::Uuid);

impl EventId {
    /// A v7 id carrying the time `micros` (microseconds since the Unix
    /// epoch) and random bits: unique, but with no order among ids of the
    /// same millisecond. A ledger makes its ids with [`EventIds`] instead.
    pub fn v7_at(micros: i64) -> Self {
        let (secs, nanos) = unix_parts(micros);
        Self(uuid::Uuid::new_v7(uuid::Timestamp::from_unix(
            uuid::NoContext,
            secs,
            nanos,
        )))
    }

    /// Wraps the 16 raw bytes of a UUID.
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(uuid::Uuid::from_bytes(bytes))
    }

    /// The 16 raw bytes, as stored.
    pub fn as_bytes(&self) -> &[u8; 16] {
        self.0.as_bytes()
    }

    /// The underlying UUID.
    pub fn uuid(&self) -> uuid::Uuid {
        self.0
    }
}

/// Seconds and nanoseconds of `micros` since the Unix epoch (0 before it).
fn unix_parts(micros: i64) -> (u64, u32) {
    let micros = u64::try_from(micros).unwrap_or(0);
    (micros / 1_000_000, ((micros % 1_000_000) * 1_000) as u32)
}

/// Makes one ledger's new event ids: v7 ids carrying the transaction time
/// they are made for, rising even within one millisecond (a counter seeded at
/// random, as RFC 9562 method 1). One per ledger, so that ledgers with
/// different clocks in one process do not bend each other's times.
#[derive(Debug)]
pub struct EventIds(std::sync::Mutex<uuid::ContextV7>);

impl Default for EventIds {
    fn default() -> Self {
        Self::new()
    }
}

impl EventIds {
    /// A generator whose counter seeds itself on first use.
    pub fn new() -> Self {
        Self(std::sync::Mutex::new(uuid::ContextV7::new()))
    }

    /// The next id, for an event recorded at `micros`. Ids rise as long as
    /// the times given do not go backwards (a ledger's transaction time
    /// never does); if one does, the id keeps the later time so ids still rise.
    pub fn next(&self, micros: i64) -> EventId {
        let (secs, nanos) = unix_parts(micros);
        let context = self.0.lock().unwrap_or_else(|p| p.into_inner());
        EventId(uuid::Uuid::new_v7(uuid::Timestamp::from_unix(
            &*context, secs, nanos,
        )))
    }
}

impl FromStr for EventId {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        uuid::Uuid::parse_str(s)
            .map(Self)
            .map_err(|_| DomainError::InvalidEventId(s.to_owned()))
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_ids_follow_the_pattern() {
        for ok in [
            "trump",
            "paris-meeting",
            "g20-meeting",
            "0",
            &"a".repeat(63),
        ] {
            assert!(PartyId::new(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-lead", "Trump", "a_b", "a b", "é", &"a".repeat(64)] {
            let err = PropositionId::new(bad).unwrap_err();
            assert!(err.to_string().contains(&format!("`{bad}`")), "{err}");
        }
    }

    #[test]
    fn event_ids_round_trip_through_text() {
        let id = EventId::v7_at(1_700_000_000_000_000);
        assert_eq!(id.uuid().get_version_num(), 7);
        assert_eq!(id.to_string().parse::<EventId>().unwrap(), id);
        assert!("not-a-uuid".parse::<EventId>().is_err());
    }
}
