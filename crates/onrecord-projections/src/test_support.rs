//! Test helpers: a tiny in-memory log that hands out `Recorded` values with
//! gapless seqs, deterministic event ids and increasing record times.
//! Test-only; no I/O.

use onrecord_core::{
    Event, EventId, Outcome, PartyId, PropositionId, PropositionResolved, Recorded, Stance,
    StatementRecorded, StatementRetracted, When,
};

/// Microseconds between two records' `recorded_at` unless told otherwise.
pub const TICK: i64 = 1_000_000;
/// The `recorded_at` of the first record: 2020-01-01T00:00:00Z.
pub const T0: i64 = 1_577_836_800_000_000;

/// A statement under construction; defaults: party speaks for itself, midpoint credence.
#[derive(Clone)]
pub struct St {
    pub proposition: &'static str,
    pub party: &'static str,
    pub speaker: Option<&'static str>,
    pub stance: Stance,
    pub credence: Option<f64>,
    pub said_at: When,
    pub quote: Option<&'static str>,
    pub source: Option<&'static str>,
}

/// Builds a statement on `proposition` by `party` with `stance`, said at `said_at` (a date or RFC 3339).
pub fn st(proposition: &'static str, party: &'static str, stance: Stance, said_at: &str) -> St {
    St {
        proposition,
        party,
        speaker: None,
        stance,
        credence: stance.midpoint(),
        said_at: said_at.parse().unwrap(),
        quote: None,
        source: None,
    }
}

/// A log being written by a test.
#[derive(Default)]
pub struct Log {
    records: Vec<Recorded>,
    next_at: Option<i64>,
}

pub fn prop(s: &str) -> PropositionId {
    PropositionId::new(s).unwrap()
}

pub fn pid(s: &str) -> PartyId {
    PartyId::new(s).unwrap()
}

impl Log {
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes the next record's `recorded_at` exactly `micros` (later ones continue from it).
    pub fn at(&mut self, micros: i64) -> &mut Self {
        self.next_at = Some(micros);
        self
    }

    /// Appends an event and returns its id.
    pub fn push(&mut self, event: Event) -> EventId {
        let seq = self.records.len() as u64 + 1;
        let recorded_at = self
            .next_at
            .take()
            .unwrap_or_else(|| self.records.last().map_or(T0, |r| r.recorded_at + TICK));
        let mut bytes = [0u8; 16];
        bytes[8..].copy_from_slice(&seq.to_be_bytes());
        let event_id = EventId::from_bytes(bytes);
        self.records.push(Recorded {
            seq,
            event_id,
            recorded_at,
            recorded_by: None,
            event,
        });
        event_id
    }

    /// Appends a statement built with [`st`].
    pub fn say(&mut self, s: St) -> EventId {
        self.push(Event::StatementRecorded(StatementRecorded {
            proposition: prop(s.proposition),
            party: pid(s.party),
            speaker: pid(s.speaker.unwrap_or(s.party)),
            stance: s.stance,
            credence: s.credence,
            said_at: s.said_at,
            quote: s.quote.map(str::to_owned),
            source: s.source.map(str::to_owned),
            qualifiers: vec![],
        }))
    }

    /// Appends a plain statement (own speaker, midpoint credence).
    pub fn statement(
        &mut self,
        proposition: &'static str,
        party: &'static str,
        stance: Stance,
        said_at: &str,
    ) -> EventId {
        self.say(st(proposition, party, stance, said_at))
    }

    /// Appends a retraction of `statement`.
    pub fn retract(&mut self, statement: EventId) -> EventId {
        self.push(Event::StatementRetracted(StatementRetracted {
            statement,
            reason: "misquoted".into(),
        }))
    }

    /// Appends a resolution of `proposition`.
    pub fn resolve(&mut self, proposition: &str, outcome: Outcome, at: &str) -> EventId {
        self.push(Event::PropositionResolved(PropositionResolved {
            proposition: prop(proposition),
            outcome,
            resolved_at: at.parse().unwrap(),
            source: None,
            note: None,
        }))
    }

    /// Everything appended so far, in seq order.
    pub fn records(&self) -> &[Recorded] {
        &self.records
    }

    /// The `recorded_at` of the record with this id.
    pub fn recorded_at(&self, id: EventId) -> i64 {
        self.records
            .iter()
            .find(|r| r.event_id == id)
            .unwrap()
            .recorded_at
    }
}
