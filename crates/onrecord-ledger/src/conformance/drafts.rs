//! Draft builders for the conformance suite and the backends' own tests: one
//! of each event type with a fixed shape (the same builders `onrecord-sled`'s
//! tests used before the suite existed, so their histories stay the same).

use onrecord_core::{
    Draft, EventId, Outcome, Party, PartyId, PartyKind, Proposition, PropositionId,
    PropositionResolved, Recorder, Stance, StatementDraft, StatementRetracted,
};

use crate::{AppendRequest, ExpectedRevision};

/// The party id `s` (panics on an invalid id: test input only).
pub fn pid(s: &str) -> PartyId {
    PartyId::new(s).expect("a valid party id")
}

/// The proposition id `s` (panics on an invalid id: test input only).
pub fn prop_id(s: &str) -> PropositionId {
    PropositionId::new(s).expect("a valid proposition id")
}

/// Registers person `id`, speaking for `speaks_for` if given.
pub fn party(id: &str, speaks_for: Option<&str>) -> Draft {
    Draft::Party(Party {
        id: pid(id),
        name: format!("Party {id}"),
        kind: PartyKind::Person,
        speaks_for: speaks_for.map(pid),
        aliases: Vec::new(),
    })
}

/// Opens proposition `id`.
pub fn proposition(id: &str) -> Draft {
    Draft::Proposition(Proposition {
        id: prop_id(id),
        text: format!("{id} happens"),
        criteria: None,
        window: None,
    })
}

/// `party`'s statement on `prop` with `stance`, said on `day` (`YYYY-MM-DD`), quoted.
pub fn statement(prop: &str, party: &str, stance: Stance, day: &str) -> Draft {
    Draft::Statement(StatementDraft {
        proposition: prop_id(prop),
        party: Some(pid(party)),
        speaker: None,
        stance,
        credence: None,
        said_at: day.parse().expect("a valid day"),
        quote: Some(format!("{party} says {stance}")),
        source: None,
        qualifiers: vec![],
    })
}

/// Retracts the statement recorded as `statement`.
pub fn retraction(statement: EventId) -> Draft {
    Draft::Retraction(StatementRetracted {
        statement,
        reason: "misquoted".into(),
    })
}

/// Resolves `prop` with `outcome` on `day` (`YYYY-MM-DD`).
pub fn resolution(prop: &str, outcome: Outcome, day: &str) -> Draft {
    Draft::Resolution(PropositionResolved {
        proposition: prop_id(prop),
        outcome,
        resolved_at: day.parse().expect("a valid day"),
        source: None,
        note: None,
    })
}

/// A request for `draft` with a fresh id and no revision check.
pub fn req(draft: Draft) -> AppendRequest {
    AppendRequest::new(draft, test_recorder())
}

/// The recorder of the tests' appends: `test`.
pub fn test_recorder() -> Recorder {
    recorder("test")
}

/// The recorder named `name` (panics on an invalid name: test input only).
pub fn recorder(name: &str) -> Recorder {
    Recorder::new(name).expect("a valid recorder name")
}

/// A request for `draft` appended by `name`.
pub fn by(name: &str, draft: Draft) -> AppendRequest {
    AppendRequest::new(draft, recorder(name))
}

/// A request for `draft` under the explicit event id `id`.
pub fn with_id(id: EventId, draft: Draft) -> AppendRequest {
    AppendRequest {
        event_id: Some(id),
        ..req(draft)
    }
}

/// A request for `draft` that expects its primary stream at `expected`.
pub fn expecting(expected: ExpectedRevision, draft: Draft) -> AppendRequest {
    AppendRequest {
        expected,
        ..req(draft)
    }
}

/// The `n`-th explicit event id of a test: never a v7 id (byte 6 is zero), so
/// never one the ledger makes up itself.
pub fn test_id(n: u64) -> EventId {
    let mut bytes = [0u8; 16];
    bytes[..4].copy_from_slice(b"conf");
    bytes[8..].copy_from_slice(&n.to_be_bytes());
    EventId::from_bytes(bytes)
}
