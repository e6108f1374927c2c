//! onrecord's domain: who can speak (parties), what they speak about
//! (propositions), how sure they say they are (stances), the events that record
//! it, and the rules an event must pass before it may enter a ledger.
//!
//! This crate does no I/O: it never touches files, sled or the clock except
//! through values handed to it. The store and the CLI build on it.
#![warn(missing_docs)]

pub mod error;
pub mod event;
pub mod id;
pub mod interchange;
pub mod lexicon;
pub mod model;
pub mod record;
pub mod recorder;
pub mod similar;
pub mod stance;
pub mod validate;
pub mod when;

pub use error::DomainError;
pub use event::StreamId;
pub use event::{Event, EventType, PropositionResolved, StatementRecorded, StatementRetracted};
pub use id::{EventId, EventIds, PartyId, PropositionId};
pub use interchange::{InputEvent, InterchangeError, draft_line, parse_line, write_line};
pub use lexicon::{Cue, CueOrigin, CueWeight, Suggestion};
pub use model::{Outcome, Party, PartyKind, Proposition, Window};
pub use record::Recorded;
pub use recorder::Recorder;
pub use stance::{Side, Stance};
pub use validate::{
    BatchOverlay, Draft, LedgerFacts, PendingFacts, Rejection, StatementDraft, StatementFacts,
    Validated, streams_of, validate,
};
pub use when::{Precision, TimeBound, When};
