//! The events a ledger records (version 1), and the streams each belongs to.

use std::fmt;

use crate::validate::StatementFacts;
use crate::{EventId, Outcome, Party, PartyId, Proposition, PropositionId, Stance, When};

/// One fact entered into the ledger. Events are never edited or deleted;
/// corrections are new events (a retraction, say).
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A party became known to the ledger.
    PartyRegistered(Party),
    /// A proposition was opened for statements.
    PropositionOpened(Proposition),
    /// A party's position on a proposition was stated.
    StatementRecorded(StatementRecorded),
    /// An earlier statement was withdrawn (misquoted, misattributed, ...).
    StatementRetracted(StatementRetracted),
    /// A proposition's outcome became known.
    PropositionResolved(PropositionResolved),
}

/// A statement of how likely a party holds a proposition to be.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementRecorded {
    /// What the statement is about.
    pub proposition: PropositionId,
    /// Whose position it is.
    pub party: PartyId,
    /// Who said it (may speak for `party`).
    pub speaker: PartyId,
    /// The likelihood band stated.
    pub stance: Stance,
    /// The credence the statement carries; `None` only for `declined`.
    pub credence: Option<f64>,
    /// When it was said (valid time).
    pub said_at: When,
    /// The words, verbatim.
    pub quote: Option<String>,
    /// Where it was reported.
    pub source: Option<String>,
    /// Free-form qualifiers, e.g. `brief`.
    pub qualifiers: Vec<String>,
}

/// The withdrawal of an earlier statement.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementRetracted {
    /// The event id of the statement withdrawn.
    pub statement: EventId,
    /// Why it is withdrawn.
    pub reason: String,
}

/// The known outcome of a proposition.
#[derive(Debug, Clone, PartialEq)]
pub struct PropositionResolved {
    /// Which proposition resolved.
    pub proposition: PropositionId,
    /// Whether it happened.
    pub outcome: Outcome,
    /// When the outcome became fact.
    pub resolved_at: When,
    /// Where the outcome was reported.
    pub source: Option<String>,
    /// Anything worth saying about the resolution.
    pub note: Option<String>,
}

/// The kind of an event, as stored in its envelope and named in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    /// [`Event::PartyRegistered`].
    PartyRegistered = 1,
    /// [`Event::PropositionOpened`].
    PropositionOpened = 2,
    /// [`Event::StatementRecorded`].
    StatementRecorded = 3,
    /// [`Event::StatementRetracted`].
    StatementRetracted = 4,
    /// [`Event::PropositionResolved`].
    PropositionResolved = 5,
}

impl EventType {
    /// Every event type, in code order.
    pub const ALL: [EventType; 5] = [
        EventType::PartyRegistered,
        EventType::PropositionOpened,
        EventType::StatementRecorded,
        EventType::StatementRetracted,
        EventType::PropositionResolved,
    ];

    /// The one-byte code stored in an envelope.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The type for a stored code, if known.
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.code() == code)
    }

    /// The event's name, e.g. `StatementRecorded`.
    pub fn name(self) -> &'static str {
        match self {
            EventType::PartyRegistered => "PartyRegistered",
            EventType::PropositionOpened => "PropositionOpened",
            EventType::StatementRecorded => "StatementRecorded",
            EventType::StatementRetracted => "StatementRetracted",
            EventType::PropositionResolved => "PropositionResolved",
        }
    }

    /// The short name used as `"type"` in JSON Lines, e.g. `statement`.
    pub fn json_name(self) -> &'static str {
        match self {
            EventType::PartyRegistered => "party",
            EventType::PropositionOpened => "proposition",
            EventType::StatementRecorded => "statement",
            EventType::StatementRetracted => "retraction",
            EventType::PropositionResolved => "resolution",
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Event {
    /// This event's type.
    pub fn event_type(&self) -> EventType {
        match self {
            Event::PartyRegistered(_) => EventType::PartyRegistered,
            Event::PropositionOpened(_) => EventType::PropositionOpened,
            Event::StatementRecorded(_) => EventType::StatementRecorded,
            Event::StatementRetracted(_) => EventType::StatementRetracted,
            Event::PropositionResolved(_) => EventType::PropositionResolved,
        }
    }

    /// The streams this event is appended to, primary first (the one an
    /// expected revision is checked against): the one definition, used when
    /// an event is validated and when `verify` checks the stream indexes.
    ///
    /// A retraction names its statement only by id, yet belongs to that
    /// statement's streams (its proposition's and its party's): `retracted`
    /// is that statement as the caller looked it up (see
    /// [`validate::streams_of`](crate::validate::streams_of)), and without it a
    /// retraction has no streams (`None`). Other events ignore `retracted`.
    pub fn streams(&self, retracted: Option<&StatementFacts>) -> Option<Vec<StreamId>> {
        let statement = |proposition: &PropositionId, party: &PartyId| {
            vec![
                StreamId::Proposition(proposition.clone()),
                StreamId::Party(party.clone()),
            ]
        };
        Some(match self {
            Event::PartyRegistered(p) => vec![StreamId::Party(p.id.clone())],
            Event::PropositionOpened(p) => vec![StreamId::Proposition(p.id.clone())],
            Event::StatementRecorded(s) => statement(&s.proposition, &s.party),
            Event::StatementRetracted(_) => {
                let s = retracted?;
                statement(&s.proposition, &s.party)
            }
            Event::PropositionResolved(r) => vec![StreamId::Proposition(r.proposition.clone())],
        })
    }
}

/// A stream: the ordered sub-sequence of events about one party or one proposition.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StreamId {
    /// Everything about one party: its registration and the statements that are its position.
    Party(PartyId),
    /// Everything about one proposition: its opening, statements, retractions and resolution.
    Proposition(PropositionId),
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamId::Party(id) => write!(f, "party/{id}"),
            StreamId::Proposition(id) => write!(f, "proposition/{id}"),
        }
    }
}
