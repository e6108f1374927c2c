//! The baselines' input: the workload's events validated in memory and encoded
//! exactly as onrecord stores them (`envelope::encode_record_v2`, hash-chained),
//! so every store is handed the same bytes. Done before any timing starts.

use onrecord_core::validate::{BatchOverlay, PendingFacts};
use onrecord_core::{EventId, Rejection, StreamId, validate};
use onrecord_ledger::envelope::{self, EnvelopeV2, GENESIS_HASH, Hash};

use crate::workload::{GenEvent, Workload};

/// One event as the baselines store it.
#[derive(Debug, Clone)]
pub struct EncodedRecord {
    /// Its place in the log, from 1.
    pub seq: u64,
    /// The generator's id for it.
    pub event_id: EventId,
    /// Its event type code.
    pub event_type: u8,
    /// The streams it belongs to, as text (`party/x`, `proposition/y`).
    pub streams: Vec<String>,
    /// The stored record bytes: version prefix plus bincode envelope.
    pub bytes: Vec<u8>,
}

/// Encodes records for the baselines, continuing one hash chain.
pub struct Encoder {
    pending: PendingFacts,
    head: (u64, Hash),
    recorded_at: i64,
}

impl Encoder {
    /// An encoder starting at seq 1, stamping every record with `recorded_at`.
    pub fn new(recorded_at: i64) -> Self {
        Self {
            pending: PendingFacts::default(),
            head: (0, GENESIS_HASH),
            recorded_at,
        }
    }

    /// Validates and encodes the next event; panics if the workload breaks a domain rule (a generator bug).
    pub fn encode(&mut self, ev: &GenEvent) -> EncodedRecord {
        let overlay = BatchOverlay {
            base: &onrecord_core::validate::EmptyLedger,
            pending: &self.pending,
        };
        let validated = match validate(ev.draft.clone(), &overlay) {
            Ok(v) => v,
            Err(Rejection::Invalid(e)) => panic!("generated event {} is invalid: {e}", ev.id),
            Err(Rejection::Lookup(never)) => match never {},
        };
        let seq = self.head.0 + 1;
        let env = EnvelopeV2 {
            seq,
            event_id: *ev.id.as_bytes(),
            event_type: validated.event.event_type().code(),
            recorded_at: self.recorded_at,
            prev_hash: self.head.1,
            payload: envelope::encode_payload(&validated.event),
            recorded_by: crate::ops::bench_recorder().into_string(),
        };
        let bytes = envelope::encode_record_v2(&env);
        self.head = (seq, envelope::hash_record(&bytes));
        let Ok(()) = self.pending.absorb(
            ev.id,
            &validated.event,
            &onrecord_core::validate::EmptyLedger,
        );
        EncodedRecord {
            seq,
            event_id: ev.id,
            event_type: env.event_type,
            streams: validated.streams.iter().map(StreamId::to_string).collect(),
            bytes,
        }
    }
}

/// The log's records and then the singles' records, in one chain.
pub fn encode_workload(w: &Workload, recorded_at: i64) -> (Vec<EncodedRecord>, Vec<EncodedRecord>) {
    let mut enc = Encoder::new(recorded_at);
    let log = w.events.iter().map(|e| enc.encode(e)).collect();
    let singles = w.singles.iter().map(|e| enc.encode(e)).collect();
    (log, singles)
}
