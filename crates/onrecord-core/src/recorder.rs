//! Who recorded an event: the name of whoever appended it (an API token's
//! name, or `local:<user>` for the command line). It is ledger metadata, like
//! the transaction time: stored beside the event (envelope version 2), never
//! part of what the event says, so it plays no part in whether two events
//! are the same (idempotent re-sends).

use std::fmt;

use crate::DomainError;
use crate::error::is_unsafe_in_terminal;

/// The most characters a recorder's name may have.
pub const RECORDER_MAX_CHARS: usize = 200;

/// The name of who recorded an event: 1 to [`RECORDER_MAX_CHARS`] characters,
/// not blank, without control characters, bidirectional marks or line
/// separators (it is printed as it is). Checked when made, so every
/// `Recorder` is valid.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Recorder(String);

impl Recorder {
    /// A recorder named `name`, or why the name cannot be one.
    pub fn new(name: impl Into<String>) -> Result<Self, DomainError> {
        let name = name.into();
        let why = if name.trim().is_empty() {
            Some("it must not be blank")
        } else if name.chars().count() > RECORDER_MAX_CHARS {
            Some("it is longer than 200 characters")
        } else if name.chars().any(is_unsafe_in_terminal) {
            Some("it holds a control character, a line break or a bidirectional mark")
        } else {
            None
        };
        match why {
            Some(why) => Err(DomainError::InvalidRecorder { value: name, why }),
            None => Ok(Self(name)),
        }
    }

    /// The name, as recorded.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Recorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Recorder {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_names_up_to_200_characters_are_recorders() {
        for name in [
            "local:alice",
            "desk-bot",
            "Newsroom bot 2",
            "é".repeat(200).as_str(),
        ] {
            assert_eq!(Recorder::new(name).unwrap().as_str(), name);
        }
    }

    #[test]
    fn blank_long_and_unprintable_names_are_refused_naming_the_value() {
        for (name, why) in [
            ("", "blank"),
            ("   ", "blank"),
            (&"a".repeat(201), "longer than 200"),
            ("bot\nroot", "line break"),
            ("bot\u{1b}[31m", "control"),
            ("bot\u{202e}", "bidirectional"),
        ] {
            let err = Recorder::new(name).unwrap_err().to_string();
            assert!(err.contains(why), "{name:?}: {err}");
            assert!(err.starts_with("invalid recorded_by `"), "{err}");
            assert!(!err.contains('\n') && !err.contains('\u{1b}'), "{err}");
        }
    }
}
