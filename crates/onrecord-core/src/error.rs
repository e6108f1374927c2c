//! The typed errors of the domain: every failure names the value that caused it.

use crate::{EventId, PartyId, PropositionId, Stance};

/// Why a value or an event was refused by the domain rules. Values from the
/// input are kept as given and shown with [`one_line`], so every message is
/// one line that cannot drive a terminal.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DomainError {
    /// An id does not match `^[a-z0-9][a-z0-9-]{0,62}$`.
    #[error(
        "invalid {kind} id `{}`: ids are 1-63 characters of a-z, 0-9 and '-', starting with a letter or digit",
        one_line(.value)
    )]
    InvalidId {
        /// Which kind of id ("party" or "proposition").
        kind: &'static str,
        /// The refused text.
        value: String,
    },
    /// A text could not be read as an event id (a UUID).
    #[error("invalid event id `{}`: expected a UUID", one_line(.0))]
    InvalidEventId(String),
    /// A text could not be read as a date or RFC 3339 instant.
    #[error(
        "invalid time `{}`: expected a date (2018-11-06) or an RFC 3339 instant (2018-11-06T14:30:00Z)",
        one_line(.0)
    )]
    InvalidTime(String),
    /// A time whose UTC form falls outside the years 0000-9999 (it could not be exported).
    #[error("time `{}` falls outside the years 0000-9999 in UTC", one_line(.0))]
    TimeOutOfRange(String),
    /// A text is not one of the stance names.
    #[error(
        "unknown stance `{}`: expected one of almost-no-chance, very-unlikely, unlikely, even-chance, likely, very-likely, almost-certain, declined",
        one_line(.0)
    )]
    InvalidStance(String),
    /// A text is not one of the party kinds.
    #[error(
        "unknown party kind `{}`: expected person, organization or government",
        one_line(.0)
    )]
    InvalidPartyKind(String),
    /// A text is not one of the outcomes.
    #[error("unknown outcome `{}`: expected happened or did-not-happen", one_line(.0))]
    InvalidOutcome(String),
    /// A window text is not `FROM..TO`.
    #[error(
        "invalid window `{}`: expected FROM..TO, e.g. 2018-11-10..2018-11-12",
        one_line(.0)
    )]
    InvalidWindow(String),
    /// A credence is not a number in [0, 1].
    #[error("invalid credence `{}`: expected a number between 0 and 1", one_line(.0))]
    InvalidCredence(String),
    /// A party id is already registered.
    #[error("party `{0}` is already registered")]
    DuplicateParty(PartyId),
    /// A proposition id is already open.
    #[error("proposition `{0}` already exists")]
    DuplicateProposition(PropositionId),
    /// A statement names a party that is not registered.
    #[error("unknown party `{0}`")]
    UnknownParty(PartyId),
    /// A statement names a speaker that is not registered.
    #[error("unknown speaker `{0}`")]
    UnknownSpeaker(PartyId),
    /// A party's `speaks_for` names a party that is not registered.
    #[error("unknown party `{0}` in speaks_for")]
    UnknownSpeaksFor(PartyId),
    /// A party's alias is repeated, or repeats its name (case aside).
    #[error("alias `{0}` is given twice, or repeats the party's name")]
    DuplicateAlias(String),
    /// An alias holds a line break.
    #[error("alias `{0}` must be on one line")]
    AliasNotOneLine(String),
    /// A party would speak for itself.
    #[error("party `{0}` cannot speak for itself")]
    SpeaksForItself(PartyId),
    /// An event names a proposition that does not exist.
    #[error("unknown proposition `{0}`")]
    UnknownProposition(PropositionId),
    /// A retraction names an event that is not a recorded statement.
    #[error("unknown statement `{0}`")]
    UnknownStatement(EventId),
    /// A statement names neither a party nor a speaker.
    #[error("a statement needs a party or a speaker")]
    StatementWithoutParty,
    /// A statement is retracted a second time.
    #[error("statement `{0}` is already retracted")]
    AlreadyRetracted(EventId),
    /// A proposition is resolved a second time.
    #[error("proposition `{0}` is already resolved")]
    AlreadyResolved(PropositionId),
    /// An explicit credence lies outside its stance's band.
    #[error("credence {credence} is outside the {stance} band ({low}-{high})")]
    CredenceOutOfBand {
        /// The refused credence.
        credence: f64,
        /// The stance it was given with.
        stance: Stance,
        /// The band's inclusive lower bound.
        low: f64,
        /// The band's inclusive upper bound.
        high: f64,
    },
    /// A `declined` statement was given a credence.
    #[error("credence {0} given with stance declined, which has no credence")]
    CredenceWithDeclined(f64),
    /// A window ends before it starts.
    #[error("window {}..{} ends before it starts", one_line(.from), one_line(.to))]
    WindowReversed {
        /// The window's start, as given.
        from: String,
        /// The window's end, as given.
        to: String,
    },
    /// A text cannot name who recorded an event (see [`crate::Recorder`]).
    #[error("invalid recorded_by `{}`: {why}", one_line(.value))]
    InvalidRecorder {
        /// The refused name.
        value: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// A required text is empty.
    #[error("{0} must not be empty")]
    Empty(&'static str),
    /// A text is longer than the domain allows.
    #[error("{field} is {len} characters long; at most {max} are allowed")]
    TooLong {
        /// Which field.
        field: &'static str,
        /// Its length in characters.
        len: usize,
        /// The limit.
        max: usize,
    },
}

/// Whether `c` could break a line, drive a terminal or reorder the text
/// around it: C0 and C1 controls, DEL, bidirectional marks, embeddings,
/// overrides and isolates (U+061C, U+200E-U+200F, U+202A-U+202E,
/// U+2066-U+2069), and the line and paragraph separators U+2028-U+2029.
pub fn is_unsafe_in_terminal(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// Escapes what [`is_unsafe_in_terminal`] names (as `\n`, `\u{1b}`, `\u{202e}`),
/// so a message or a cell stays on one line and shows what it holds.
pub fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if is_unsafe_in_terminal(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_overrides_are_escaped_visibly() {
        assert_eq!(
            one_line("a\nb\u{1b}]0;x\u{7}\u{9b}c\u{202e}d\u{2066}é"),
            "a\\nb\\u{1b}]0;x\\u{7}\\u{9b}c\\u{202e}d\\u{2066}é"
        );
        assert_eq!(one_line("plain text, 97%"), "plain text, 97%");
    }
}
