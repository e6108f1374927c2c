//! An event as the ledger recorded it: with its place in the sequence, its id
//! and when it was recorded (transaction time). This is what readers of the
//! log (projections, export, replay) consume; the hash-chained envelope it is
//! stored in belongs to the store.

use crate::{Event, EventId, Recorder};

/// One event with its ledger metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    /// Its position in the global sequence, from 1, gapless.
    pub seq: u64,
    /// Its id, unique in the ledger.
    pub event_id: EventId,
    /// When the ledger recorded it (transaction time), in microseconds since the Unix epoch.
    pub recorded_at: i64,
    /// Who appended it: `None` for records written before envelope version 2.
    pub recorded_by: Option<Recorder>,
    /// The event itself.
    pub event: Event,
}
