//! The stored form of a record: a versioned, hash-chained envelope around a
//! bincode payload. These types are the on-disk format: they are separate from
//! the domain types and from the JSON interchange, converted explicitly, and
//! must never change meaning. A new format is a new version, read beside the old.
//!
//! Layout of a stored record, envelope version 2 (what this build writes):
//!
//! ```text
//! [0..2]  envelope version, u16 big-endian (= 2)
//! [2..]   bincode(EnvelopeV2), standard config: little-endian, varint integers:
//!         seq, event_id [16], event_type u8, recorded_at i64, prev_hash [32],
//!         payload (varint length + bincode(StoredEventV1)),
//!         recorded_by (varint length + UTF-8; see onrecord_core::Recorder)
//! ```
//!
//! Envelope version 1 (records written before who-recorded-it was kept) is
//! the same without `recorded_by`: `[0..2] = 1`, then bincode(EnvelopeV1).
//! Both are read; a v1 record decodes with `recorded_by` `None`. A ledger
//! may hold v1 records followed by v2 records: the chain does not care.
//!
//! The record's hash is SHA-256 over all of those bytes, version prefix
//! included, whatever the version. `prev_hash` is the previous record's hash
//! (32 zero bytes before seq 1).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use onrecord_core::{
    Event, EventId, EventType, Party, PartyId, Proposition, PropositionId, PropositionResolved,
    Recorded, Recorder, StatementRecorded, StatementRetracted, When, Window,
};

use crate::StoreError;
use crate::codes;

/// The ledger format this build writes in a new ledger's format mark
/// (`M format`) and accepts on open. The keyspace did not change with
/// envelope version 2 (each record says its own envelope version), so it
/// is still 1.
pub const FORMAT_VERSION: u16 = 1;

/// Envelope version 1: a record without who recorded it.
pub const ENVELOPE_V1: u16 = 1;

/// Envelope version 2: version 1 plus `recorded_by`.
pub const ENVELOPE_V2: u16 = 2;

/// The envelope version new records are written in, and the newest this build reads.
pub const ENVELOPE_WRITTEN: u16 = ENVELOPE_V2;

/// The most bytes decoding one stored value may claim. Far above any valid
/// record (texts are capped at 20,000 characters), far below what would
/// exhaust memory: a corrupt length prefix is an error, not an abort.
pub const DECODE_LIMIT: usize = 16 * 1024 * 1024;

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// The hash the chain starts from.
pub const GENESIS_HASH: Hash = [0; 32];

/// The bincode configuration of every stored value. Changing it changes the format.
pub fn bincode_config() -> bincode::config::Configuration {
    bincode::config::standard()
}

/// Envelope version 1: ledger metadata around one event's payload. No longer
/// written by the ledger (it writes [`EnvelopeV2`]); [`encode_record`] still
/// encodes it, so the golden tests can prove old bytes are reproduced. Read
/// through `EnvelopeV1Ref` (see [`decode_envelope`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnvelopeV1 {
    /// Global sequence number, from 1.
    pub seq: u64,
    /// The event's id (UUID bytes).
    pub event_id: [u8; 16],
    /// The event type's code ([`EventType::code`]).
    pub event_type: u8,
    /// Transaction time: microseconds since the Unix epoch.
    pub recorded_at: i64,
    /// The previous record's hash.
    pub prev_hash: Hash,
    /// bincode([`StoredEventV1`]).
    #[serde(serialize_with = "serialize_payload")]
    pub payload: Vec<u8>,
}

/// [`EnvelopeV1`] read in place: the same fields and bytes, with the payload
/// borrowed from the stored record instead of copied out of it.
#[derive(Debug, Deserialize)]
struct EnvelopeV1Ref<'a> {
    seq: u64,
    event_id: [u8; 16],
    event_type: u8,
    recorded_at: i64,
    prev_hash: Hash,
    payload: &'a [u8],
}

/// Envelope version 2: the fields of [`EnvelopeV1`] in the same order, then
/// who recorded the event. Read through `EnvelopeV2Ref` (see [`decode_envelope`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnvelopeV2 {
    /// Global sequence number, from 1.
    pub seq: u64,
    /// The event's id (UUID bytes).
    pub event_id: [u8; 16],
    /// The event type's code ([`EventType::code`]).
    pub event_type: u8,
    /// Transaction time: microseconds since the Unix epoch.
    pub recorded_at: i64,
    /// The previous record's hash.
    pub prev_hash: Hash,
    /// bincode([`StoredEventV1`]).
    #[serde(serialize_with = "serialize_payload")]
    pub payload: Vec<u8>,
    /// Who appended it: a valid [`Recorder`]'s name.
    pub recorded_by: String,
}

/// [`EnvelopeV2`] read in place: payload and name borrowed from the stored record.
#[derive(Debug, Deserialize)]
struct EnvelopeV2Ref<'a> {
    seq: u64,
    event_id: [u8; 16],
    event_type: u8,
    recorded_at: i64,
    prev_hash: Hash,
    payload: &'a [u8],
    recorded_by: &'a str,
}

/// A stored record's envelope of either version, read in place.
struct EnvelopeRef<'a> {
    version: u16,
    seq: u64,
    event_id: [u8; 16],
    event_type: u8,
    recorded_at: i64,
    prev_hash: Hash,
    payload: &'a [u8],
    recorded_by: Option<&'a str>,
}

impl<'a> From<EnvelopeV1Ref<'a>> for EnvelopeRef<'a> {
    fn from(e: EnvelopeV1Ref<'a>) -> Self {
        Self {
            version: ENVELOPE_V1,
            seq: e.seq,
            event_id: e.event_id,
            event_type: e.event_type,
            recorded_at: e.recorded_at,
            prev_hash: e.prev_hash,
            payload: e.payload,
            recorded_by: None,
        }
    }
}

impl<'a> From<EnvelopeV2Ref<'a>> for EnvelopeRef<'a> {
    fn from(e: EnvelopeV2Ref<'a>) -> Self {
        Self {
            version: ENVELOPE_V2,
            seq: e.seq,
            event_id: e.event_id,
            event_type: e.event_type,
            recorded_at: e.recorded_at,
            prev_hash: e.prev_hash,
            payload: e.payload,
            recorded_by: Some(e.recorded_by),
        }
    }
}

/// A stored record's envelope, of whichever version it was written in.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// The envelope version it was stored in ([`ENVELOPE_V1`] or [`ENVELOPE_V2`]).
    pub version: u16,
    /// Global sequence number, from 1.
    pub seq: u64,
    /// The event's id (UUID bytes).
    pub event_id: [u8; 16],
    /// The event type's code ([`EventType::code`]).
    pub event_type: u8,
    /// Transaction time: microseconds since the Unix epoch.
    pub recorded_at: i64,
    /// The previous record's hash.
    pub prev_hash: Hash,
    /// bincode([`StoredEventV1`]).
    pub payload: Vec<u8>,
    /// Who appended it, as stored; `None` for a version 1 record.
    pub recorded_by: Option<String>,
}

/// Writes the payload as one byte string, not a sequence of `u8` elements:
/// bincode writes both as a varint length and the raw bytes (so the format
/// is the same), and [`EnvelopeV1Ref`] reads it back in one step, borrowed.
fn serialize_payload<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_bytes(bytes)
}

/// A stored time: microseconds plus precision (its code: 0 day, 1 instant).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StoredWhen {
    /// Microseconds since the Unix epoch.
    pub micros: i64,
    /// The precision's code: 0 = day, 1 = instant.
    pub precision: u8,
}

/// The stored payload of an event, version 1. Variant order is part of the format: append only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum StoredEventV1 {
    /// See [`Event::PartyRegistered`]. `kind`: 0 person, 1 organization, 2 government.
    PartyRegistered {
        /// Party id.
        id: String,
        /// Display name.
        name: String,
        /// Kind code.
        kind: u8,
        /// Party spoken for.
        speaks_for: Option<String>,
    },
    /// See [`Event::PropositionOpened`].
    PropositionOpened {
        /// Proposition id.
        id: String,
        /// Text.
        text: String,
        /// What counts as it happening.
        criteria: Option<String>,
        /// (from, to).
        window: Option<(StoredWhen, StoredWhen)>,
    },
    /// See [`Event::StatementRecorded`]. `stance`: its code,
    /// 0 almost-no-chance up to 6 almost-certain, 7 declined.
    StatementRecorded {
        /// Proposition id.
        proposition: String,
        /// Whose position.
        party: String,
        /// Who said it.
        speaker: String,
        /// Stance code.
        stance: u8,
        /// Credence (none for declined).
        credence: Option<f64>,
        /// When it was said.
        said_at: StoredWhen,
        /// Verbatim words.
        quote: Option<String>,
        /// Where reported.
        source: Option<String>,
        /// Qualifiers.
        qualifiers: Vec<String>,
    },
    /// See [`Event::StatementRetracted`].
    StatementRetracted {
        /// The retracted statement's event id.
        statement: [u8; 16],
        /// Why.
        reason: String,
    },
    /// See [`Event::PropositionResolved`]. `outcome`: 1 happened, 0 did not.
    PropositionResolved {
        /// Proposition id.
        proposition: String,
        /// Outcome code.
        outcome: u8,
        /// When it resolved.
        resolved_at: StoredWhen,
        /// Where reported.
        source: Option<String>,
        /// A note.
        note: Option<String>,
    },
    /// See [`Event::PartyRegistered`], for a party with aliases (added after
    /// the first release; a party without aliases is still written as
    /// [`StoredEventV1::PartyRegistered`], so its bytes are what they always were).
    PartyRegisteredWithAliases {
        /// Party id.
        id: String,
        /// Display name.
        name: String,
        /// Kind code, as in [`StoredEventV1::PartyRegistered`].
        kind: u8,
        /// Party spoken for.
        speaks_for: Option<String>,
        /// Other names the party goes by, in the order given.
        aliases: Vec<String>,
    },
}

impl StoredWhen {
    /// The stored form of a time.
    pub(crate) fn from_when(w: When) -> Self {
        StoredWhen {
            micros: w.micros(),
            precision: codes::precision_code(w.precision()),
        }
    }

    /// The time this stands for, or `None` if its precision code is unknown.
    pub(crate) fn to_when(self) -> Option<When> {
        codes::precision_from_code(self.precision).map(|p| When::from_parts(self.micros, p))
    }
}

impl StoredEventV1 {
    /// The stored form of a domain event.
    pub fn from_event(event: &Event) -> Self {
        match event {
            Event::PartyRegistered(p) if p.aliases.is_empty() => StoredEventV1::PartyRegistered {
                id: p.id.to_string(),
                name: p.name.clone(),
                kind: codes::kind_code(p.kind),
                speaks_for: p.speaks_for.as_ref().map(|s| s.to_string()),
            },
            Event::PartyRegistered(p) => StoredEventV1::PartyRegisteredWithAliases {
                id: p.id.to_string(),
                name: p.name.clone(),
                kind: codes::kind_code(p.kind),
                speaks_for: p.speaks_for.as_ref().map(|s| s.to_string()),
                aliases: p.aliases.clone(),
            },
            Event::PropositionOpened(p) => StoredEventV1::PropositionOpened {
                id: p.id.to_string(),
                text: p.text.clone(),
                criteria: p.criteria.clone(),
                window: p
                    .window
                    .map(|w| (StoredWhen::from_when(w.from), StoredWhen::from_when(w.to))),
            },
            Event::StatementRecorded(s) => StoredEventV1::StatementRecorded {
                proposition: s.proposition.to_string(),
                party: s.party.to_string(),
                speaker: s.speaker.to_string(),
                stance: codes::stance_code(s.stance),
                credence: s.credence,
                said_at: StoredWhen::from_when(s.said_at),
                quote: s.quote.clone(),
                source: s.source.clone(),
                qualifiers: s.qualifiers.clone(),
            },
            Event::StatementRetracted(r) => StoredEventV1::StatementRetracted {
                statement: *r.statement.as_bytes(),
                reason: r.reason.clone(),
            },
            Event::PropositionResolved(r) => StoredEventV1::PropositionResolved {
                proposition: r.proposition.to_string(),
                outcome: codes::outcome_code(r.outcome),
                resolved_at: StoredWhen::from_when(r.resolved_at),
                source: r.source.clone(),
                note: r.note.clone(),
            },
        }
    }

    /// The event type this payload holds.
    pub fn event_type(&self) -> EventType {
        match self {
            StoredEventV1::PartyRegistered { .. }
            | StoredEventV1::PartyRegisteredWithAliases { .. } => EventType::PartyRegistered,
            StoredEventV1::PropositionOpened { .. } => EventType::PropositionOpened,
            StoredEventV1::StatementRecorded { .. } => EventType::StatementRecorded,
            StoredEventV1::StatementRetracted { .. } => EventType::StatementRetracted,
            StoredEventV1::PropositionResolved { .. } => EventType::PropositionResolved,
        }
    }

    /// The domain event, or what is wrong with the stored values.
    pub fn into_event(self) -> Result<Event, String> {
        let when = |w: StoredWhen| {
            w.to_when()
                .ok_or_else(|| format!("unknown time precision {}", w.precision))
        };
        let party = |s: String| PartyId::from_string(s).map_err(|e| e.to_string());
        let prop = |s: String| PropositionId::from_string(s).map_err(|e| e.to_string());
        let kind_of = |kind: u8| {
            codes::kind_from_code(kind).ok_or_else(|| format!("unknown party kind code {kind}"))
        };
        Ok(match self {
            StoredEventV1::PartyRegistered {
                id,
                name,
                kind,
                speaks_for,
            } => Event::PartyRegistered(Party {
                id: party(id)?,
                name,
                kind: kind_of(kind)?,
                speaks_for: speaks_for.map(party).transpose()?,
                aliases: Vec::new(),
            }),
            StoredEventV1::PartyRegisteredWithAliases {
                id,
                name,
                kind,
                speaks_for,
                aliases,
            } => Event::PartyRegistered(Party {
                id: party(id)?,
                name,
                kind: kind_of(kind)?,
                speaks_for: speaks_for.map(party).transpose()?,
                aliases,
            }),
            StoredEventV1::PropositionOpened {
                id,
                text,
                criteria,
                window,
            } => Event::PropositionOpened(Proposition {
                id: prop(id)?,
                text,
                criteria,
                window: match window {
                    Some((from, to)) => Some(Window {
                        from: when(from)?,
                        to: when(to)?,
                    }),
                    None => None,
                },
            }),
            StoredEventV1::StatementRecorded {
                proposition,
                party: p,
                speaker,
                stance,
                credence,
                said_at,
                quote,
                source,
                qualifiers,
            } => Event::StatementRecorded(StatementRecorded {
                proposition: prop(proposition)?,
                party: party(p)?,
                speaker: party(speaker)?,
                stance: codes::stance_from_code(stance)
                    .ok_or_else(|| format!("unknown stance code {stance}"))?,
                credence,
                said_at: when(said_at)?,
                quote,
                source,
                qualifiers,
            }),
            StoredEventV1::StatementRetracted { statement, reason } => {
                Event::StatementRetracted(StatementRetracted {
                    statement: EventId::from_bytes(statement),
                    reason,
                })
            }
            StoredEventV1::PropositionResolved {
                proposition,
                outcome,
                resolved_at,
                source,
                note,
            } => Event::PropositionResolved(PropositionResolved {
                proposition: prop(proposition)?,
                outcome: codes::outcome_from_code(outcome)
                    .ok_or_else(|| format!("unknown outcome code {outcome}"))?,
                resolved_at: when(resolved_at)?,
                source,
                note,
            }),
        })
    }
}

/// Encodes a payload. Infallible for these types; the unreachable error is reported, not unwrapped.
pub fn encode_payload(event: &Event) -> Vec<u8> {
    bincode::serde::encode_to_vec(StoredEventV1::from_event(event), bincode_config())
        .unwrap_or_default()
}

/// Encodes a version 1 envelope into stored record bytes (version prefix
/// included), as ledgers before envelope version 2 wrote them.
pub fn encode_record(env: &EnvelopeV1) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + env.payload.len());
    out.extend_from_slice(&ENVELOPE_V1.to_be_bytes());
    // Writing into a Vec cannot fail for these plain types.
    let _ = bincode::serde::encode_into_std_write(env, &mut out, bincode_config());
    out
}

/// Encodes a version 2 envelope into stored record bytes (version prefix
/// included): what the ledger writes.
pub fn encode_record_v2(env: &EnvelopeV2) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + env.payload.len() + env.recorded_by.len());
    out.extend_from_slice(&ENVELOPE_V2.to_be_bytes());
    // Writing into a Vec cannot fail for these plain types.
    let _ = bincode::serde::encode_into_std_write(env, &mut out, bincode_config());
    out
}

/// The hash of stored record bytes.
pub fn hash_record(bytes: &[u8]) -> Hash {
    Sha256::digest(bytes).into()
}

fn decode_exact<'de, T: serde::Deserialize<'de>>(
    bytes: &'de [u8],
    seq: u64,
    what: &str,
) -> Result<T, StoreError> {
    // The limit bounds what a corrupt length prefix can make bincode allocate
    // before it finds the bytes are not there (found by fuzzing decode_recorded).
    let config = bincode_config().with_limit::<DECODE_LIMIT>();
    let (value, used) = bincode::serde::borrow_decode_from_slice(bytes, config).map_err(|e| {
        StoreError::Corrupt {
            seq,
            detail: format!("{what}: {e}"),
        }
    })?;
    if used != bytes.len() {
        return Err(StoreError::Corrupt {
            seq,
            detail: format!("{what}: {} trailing bytes", bytes.len() - used),
        });
    }
    Ok(value)
}

/// The envelope of stored record bytes, its payload still in place.
fn decode_envelope_ref(bytes: &[u8], seq: u64) -> Result<EnvelopeRef<'_>, StoreError> {
    let Some((version, body)) = bytes.split_first_chunk::<2>() else {
        return Err(StoreError::Corrupt {
            seq,
            detail: "shorter than its version prefix".into(),
        });
    };
    match u16::from_be_bytes(*version) {
        ENVELOPE_V1 => decode_exact::<EnvelopeV1Ref<'_>>(body, seq, "envelope").map(Into::into),
        ENVELOPE_V2 => decode_exact::<EnvelopeV2Ref<'_>>(body, seq, "envelope").map(Into::into),
        version => Err(StoreError::UnknownFormat {
            seq,
            version,
            supported: ENVELOPE_WRITTEN,
        }),
    }
}

/// Decodes stored record bytes into its envelope; `seq` (from the key) names the record in errors.
pub fn decode_envelope(bytes: &[u8], seq: u64) -> Result<Envelope, StoreError> {
    let env = decode_envelope_ref(bytes, seq)?;
    Ok(Envelope {
        version: env.version,
        seq: env.seq,
        event_id: env.event_id,
        event_type: env.event_type,
        recorded_at: env.recorded_at,
        prev_hash: env.prev_hash,
        payload: env.payload.to_vec(),
        recorded_by: env.recorded_by.map(str::to_owned),
    })
}

/// Decodes an envelope's payload into the domain event, checking it matches the envelope's type.
pub fn decode_event(env: &Envelope) -> Result<Event, StoreError> {
    decode_payload(&env.payload, env.event_type, env.seq)
}

/// Decodes a payload of type `event_type` (the record at `seq`) into the domain event.
fn decode_payload(payload: &[u8], event_type: u8, seq: u64) -> Result<Event, StoreError> {
    let stored: StoredEventV1 = decode_exact(payload, seq, "payload")?;
    if stored.event_type().code() != event_type {
        return Err(StoreError::Corrupt {
            seq,
            detail: format!(
                "envelope says type {} but payload holds {}",
                event_type,
                stored.event_type()
            ),
        });
    }
    stored
        .into_event()
        .map_err(|detail| StoreError::Corrupt { seq, detail })
}

/// Decodes stored record bytes all the way to a [`Recorded`] event; `seq` is
/// the seq of the key it was read under, and a record claiming another is corrupt.
pub fn decode_recorded(bytes: &[u8], seq: u64) -> Result<Recorded, StoreError> {
    let env = decode_envelope_ref(bytes, seq)?;
    if env.seq != seq {
        return Err(StoreError::Corrupt {
            seq,
            detail: format!("the record stored at seq {seq} says it is seq {}", env.seq),
        });
    }
    let event = decode_payload(env.payload, env.event_type, env.seq)?;
    let recorded_by = env
        .recorded_by
        .map(decode_recorder)
        .transpose()
        .map_err(|detail| StoreError::Corrupt { seq, detail })?;
    Ok(Recorded {
        seq: env.seq,
        event_id: EventId::from_bytes(env.event_id),
        recorded_at: env.recorded_at,
        recorded_by,
        event,
    })
}

/// The recorder a stored name stands for, or why it cannot be one (a name
/// the ledger wrote was valid, so this is damage).
fn decode_recorder(name: &str) -> Result<Recorder, String> {
    Recorder::new(name).map_err(|e| format!("recorded_by: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use onrecord_core::{Outcome, PartyKind, Precision, Stance};

    fn statement(stance: Stance, precision: Precision) -> Event {
        Event::StatementRecorded(StatementRecorded {
            proposition: PropositionId::new("paris-meeting").unwrap(),
            party: PartyId::new("trump").unwrap(),
            speaker: PartyId::new("trump").unwrap(),
            stance,
            credence: stance.midpoint(),
            said_at: When::from_parts(1_541_462_400_000_000, precision),
            quote: None,
            source: None,
            qualifiers: Vec::new(),
        })
    }

    /// The stance and precision codes a stored statement carries, read back from its stored form.
    fn stored_codes(event: &Event) -> (u8, u8) {
        match StoredEventV1::from_event(event) {
            StoredEventV1::StatementRecorded {
                stance, said_at, ..
            } => (stance, said_at.precision),
            other => panic!("a statement was stored as {other:?}"),
        }
    }

    #[test]
    fn each_stance_and_precision_is_stored_as_its_pinned_code() {
        let stances = crate::codes::PINNED_STANCES;
        for (stance, code) in stances {
            for (precision, pcode) in [(Precision::Day, 0), (Precision::Instant, 1)] {
                let event = statement(stance, precision);
                assert_eq!(
                    stored_codes(&event),
                    (code, pcode),
                    "{stance:?} {precision:?}"
                );
                let decoded = StoredEventV1::from_event(&event).into_event().unwrap();
                assert_eq!(decoded, event);
            }
        }
    }

    #[test]
    fn each_party_kind_and_outcome_is_stored_as_its_pinned_code() {
        for (kind, code) in [
            (PartyKind::Person, 0),
            (PartyKind::Organization, 1),
            (PartyKind::Government, 2),
        ] {
            let event = Event::PartyRegistered(Party {
                id: PartyId::new("kremlin").unwrap(),
                name: "Kremlin".into(),
                kind,
                speaks_for: None,
                aliases: Vec::new(),
            });
            let stored = StoredEventV1::from_event(&event);
            assert!(
                matches!(stored, StoredEventV1::PartyRegistered { kind: k, .. } if k == code),
                "{kind:?} stored as {stored:?}"
            );
            assert_eq!(stored.into_event().unwrap(), event);
        }
        for (outcome, code) in [(Outcome::DidNotHappen, 0), (Outcome::Happened, 1)] {
            let event = Event::PropositionResolved(PropositionResolved {
                proposition: PropositionId::new("paris-meeting").unwrap(),
                outcome,
                resolved_at: When::from_parts(0, Precision::Day),
                source: None,
                note: None,
            });
            let stored = StoredEventV1::from_event(&event);
            assert!(
                matches!(stored, StoredEventV1::PropositionResolved { outcome: o, .. } if o == code),
                "{outcome:?} stored as {stored:?}"
            );
            assert_eq!(stored.into_event().unwrap(), event);
        }
    }

    fn party_event() -> Event {
        Event::PartyRegistered(Party {
            id: PartyId::new("kremlin").unwrap(),
            name: "Kremlin".into(),
            kind: PartyKind::Government,
            speaks_for: None,
            aliases: Vec::new(),
        })
    }

    fn v1_record(seq: u64, prev_hash: Hash) -> Vec<u8> {
        let event = party_event();
        encode_record(&EnvelopeV1 {
            seq,
            event_id: [seq as u8; 16],
            event_type: event.event_type().code(),
            recorded_at: 1_543_708_800_000_000,
            prev_hash,
            payload: encode_payload(&event),
        })
    }

    fn v2_record(seq: u64, prev_hash: Hash, recorded_by: &str) -> Vec<u8> {
        let event = party_event();
        encode_record_v2(&EnvelopeV2 {
            seq,
            event_id: [seq as u8; 16],
            event_type: event.event_type().code(),
            recorded_at: 1_543_708_800_000_000,
            prev_hash,
            payload: encode_payload(&event),
            recorded_by: recorded_by.into(),
        })
    }

    #[test]
    fn a_v2_record_is_the_v1_fields_then_the_recorders_name() {
        let v1 = v1_record(3, [7; 32]);
        let v2 = v2_record(3, [7; 32], "local:alice");
        assert_eq!(v1[..2], [0, 1]);
        assert_eq!(v2[..2], [0, 2]);
        let mut expected = v1[2..].to_vec();
        expected.push(11); // varint length of "local:alice"
        expected.extend_from_slice(b"local:alice");
        assert_eq!(v2[2..], expected[..]);
    }

    #[test]
    fn v1_records_decode_without_a_recorder_and_v2_records_with_theirs() {
        let v1 = decode_recorded(&v1_record(1, GENESIS_HASH), 1).unwrap();
        assert_eq!(v1.recorded_by, None);
        let v2 = decode_recorded(&v2_record(2, [1; 32], "desk-bot"), 2).unwrap();
        assert_eq!(v2.recorded_by, Some(Recorder::new("desk-bot").unwrap()));
        assert_eq!((v1.event, v1.recorded_at), (v2.event, v2.recorded_at));
        let env = decode_envelope(&v2_record(2, [1; 32], "desk-bot"), 2).unwrap();
        assert_eq!(
            (env.version, env.recorded_by.as_deref(), env.prev_hash),
            (ENVELOPE_V2, Some("desk-bot"), [1; 32])
        );
        assert_eq!(
            decode_envelope(&v1_record(1, GENESIS_HASH), 1)
                .unwrap()
                .version,
            ENVELOPE_V1
        );
    }

    #[test]
    fn a_chain_of_v1_records_then_v2_records_links_by_the_hash_of_all_stored_bytes() {
        let first = v1_record(1, GENESIS_HASH);
        let second = v2_record(2, hash_record(&first), "local:alice");
        let third = v2_record(3, hash_record(&second), "desk-bot");
        let mut prev = GENESIS_HASH;
        for (seq, bytes) in [(1, &first), (2, &second), (3, &third)] {
            let env = decode_envelope(bytes, seq).unwrap();
            assert_eq!(env.prev_hash, prev, "seq {seq}");
            prev = hash_record(bytes);
        }
        // The version prefix is hashed too: the same body under another version is another record.
        let mut relabelled = second.clone();
        relabelled[1] = 1;
        assert_ne!(hash_record(&relabelled), hash_record(&second));
    }

    #[test]
    fn a_stored_recorder_that_is_not_valid_is_damage_and_a_newer_version_is_refused() {
        for bad in ["", "bot\u{1b}[2J"] {
            let err = decode_recorded(&v2_record(4, [0; 32], bad), 4).unwrap_err();
            assert!(
                matches!(&err, StoreError::Corrupt { seq: 4, detail } if detail.starts_with("recorded_by: invalid recorded_by")),
                "{err}"
            );
        }
        let mut v3 = v2_record(4, [0; 32], "desk-bot");
        v3[1] = 3;
        assert!(matches!(
            decode_recorded(&v3, 4).unwrap_err(),
            StoreError::UnknownFormat {
                seq: 4,
                version: 3,
                supported: 2
            }
        ));
        // A v1 body under the v2 prefix lacks the name: corrupt, not a panic.
        let mut short = v1_record(4, [0; 32]);
        short[1] = 2;
        assert!(matches!(
            decode_recorded(&short, 4).unwrap_err(),
            StoreError::Corrupt { .. }
        ));
    }

    #[test]
    fn unknown_codes_are_refused_not_guessed() {
        let stored = |stance: u8, precision: u8| StoredEventV1::StatementRecorded {
            proposition: "paris-meeting".into(),
            party: "trump".into(),
            speaker: "trump".into(),
            stance,
            credence: None,
            said_at: StoredWhen {
                micros: 0,
                precision,
            },
            quote: None,
            source: None,
            qualifiers: Vec::new(),
        };
        assert_eq!(
            stored(8, 0).into_event().unwrap_err(),
            "unknown stance code 8"
        );
        assert_eq!(
            stored(7, 2).into_event().unwrap_err(),
            "unknown time precision 2"
        );
        let party = StoredEventV1::PartyRegistered {
            id: "kremlin".into(),
            name: "Kremlin".into(),
            kind: 3,
            speaks_for: None,
        };
        assert_eq!(party.into_event().unwrap_err(), "unknown party kind code 3");
    }
}
