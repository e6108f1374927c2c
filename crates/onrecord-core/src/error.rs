//! The typed errors of the domain: every failure names the value that caused it.

use crate::{EventId, PartyId, PropositionId, Stance};

/// Why a value or an event was refused by the domain rules.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DomainError {
    /// An id does not match `^[a-z0-9][a-z0-9-]{0,62}$`.
    #[error(
        "invalid {kind} id `{value}`: ids are 1-63 characters of a-z, 0-9 and '-', starting with a letter or digit"
    )]
    InvalidId {
        /// Which kind of id ("party" or "proposition").
        kind: &'static str,
        /// The refused text.
        value: String,
    },
    /// A text could not be read as an event id (a UUID).
    #[error("invalid event id `{0}`: expected a UUID")]
    InvalidEventId(String),
    /// A text could not be read as a date or RFC 3339 instant.
    #[error(
        "invalid time `{0}`: expected a date (2018-11-06) or an RFC 3339 instant (2018-11-06T14:30:00Z)"
    )]
    InvalidTime(String),
    /// A text is not one of the stance names.
    #[error(
        "unknown stance `{0}`: expected one of almost-no-chance, very-unlikely, unlikely, even-chance, likely, very-likely, almost-certain, declined"
    )]
    InvalidStance(String),
    /// A text is not one of the party kinds.
    #[error("unknown party kind `{0}`: expected person, organization or government")]
    InvalidPartyKind(String),
    /// A text is not one of the outcomes.
    #[error("unknown outcome `{0}`: expected happened or did-not-happen")]
    InvalidOutcome(String),
    /// A window text is not `FROM..TO`.
    #[error("invalid window `{0}`: expected FROM..TO, e.g. 2018-11-10..2018-11-12")]
    InvalidWindow(String),
    /// A credence is not a number in [0, 1].
    #[error("invalid credence `{0}`: expected a number between 0 and 1")]
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
    #[error("window {from}..{to} ends before it starts")]
    WindowReversed {
        /// The window's start, as given.
        from: String,
        /// The window's end, as given.
        to: String,
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

/// Escapes control characters so a message stays on one line.
pub fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}
