//! Kept views: each party's current position on each proposition, stored
//! under the `V` and `W` prefixes and written in the same atomic batch as the
//! events that change them, so `positions` needs no scan of the log.
//!
//! Per (proposition, party) the view keeps every statement as a small entry
//! ordered by (said_at, seq) (`W`) and a summary: current statement, count,
//! flips, last side (`V`). What "current" means is defined once, by
//! [`onrecord_projections::summarize`]; an append that sorts after the current
//! statement takes the [`onrecord_projections::extend`] fast path, anything
//! else (a backdated statement, a retraction) re-summarises that one pair.
//! This module may read the log only by key (never scan it), and never decides
//! what a position is by itself.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use onrecord_core::{Event, EventId, PartyId, Precision, PropositionId, Side, Stance, When};
use onrecord_projections::{Position, PositionSummary, StatementEntry, extend, summarize};

use crate::envelope::{StoredWhen, bincode_config};
use crate::keys::{self, MetaKey};
use crate::{Ledger, StoreError};

/// The version of the kept views' stored form; a ledger whose views carry
/// another version has them rebuilt (`replay --rebuild`).
pub const VIEWS_VERSION: u16 = 1;

type PairKey = (PropositionId, PartyId);

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredEntryV1 {
    seq: u64,
    statement: [u8; 16],
    said_at: StoredWhen,
    stance: u8,
    credence: Option<f64>,
    speaker: String,
    retracted: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredSummaryV1 {
    current: StoredEntryV1,
    quote: Option<String>,
    statements: u64,
    flips: u64,
    last_side: u8,
}

fn store_entry(e: &StatementEntry) -> StoredEntryV1 {
    StoredEntryV1 {
        seq: e.seq,
        statement: *e.statement.as_bytes(),
        said_at: StoredWhen {
            micros: e.said_at.micros(),
            precision: match e.said_at.precision() {
                Precision::Day => 0,
                Precision::Instant => 1,
            },
        },
        stance: Stance::ALL.iter().position(|s| *s == e.stance).unwrap_or(0) as u8,
        credence: e.credence,
        speaker: e.speaker.to_string(),
        retracted: e.retracted,
    }
}

fn load_entry(s: StoredEntryV1, quote: Option<String>) -> Option<StatementEntry> {
    Some(StatementEntry {
        seq: s.seq,
        statement: EventId::from_bytes(s.statement),
        said_at: When::from_parts(
            s.said_at.micros,
            if s.said_at.precision == 0 {
                Precision::Day
            } else {
                Precision::Instant
            },
        ),
        stance: *Stance::ALL.get(s.stance as usize)?,
        credence: s.credence,
        speaker: PartyId::new(&s.speaker).ok()?,
        quote,
        retracted: s.retracted,
    })
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    bincode::serde::encode_to_vec(value, bincode_config()).unwrap_or_default()
}

fn corrupt_view(key: &[u8]) -> StoreError {
    StoreError::Corrupt {
        seq: 0,
        detail: format!(
            "kept view entry {} is unreadable (run `onrecord replay --rebuild`)",
            String::from_utf8_lossy(key)
        ),
    }
}

fn decode_summary(key: &[u8], bytes: &[u8]) -> Result<PositionSummary, StoreError> {
    let (s, _): (StoredSummaryV1, usize) =
        bincode::serde::decode_from_slice(bytes, bincode_config())
            .map_err(|_| corrupt_view(key))?;
    let last_side = match s.last_side {
        1 => Some(Side::Low),
        2 => Some(Side::High),
        _ => None,
    };
    Ok(PositionSummary {
        current: load_entry(s.current, s.quote).ok_or_else(|| corrupt_view(key))?,
        statements: s.statements,
        flips: s.flips,
        last_side,
    })
}

fn encode_summary(s: &PositionSummary) -> Vec<u8> {
    encode(&StoredSummaryV1 {
        current: store_entry(&s.current),
        quote: s.current.quote.clone(),
        statements: s.statements,
        flips: s.flips,
        last_side: match s.last_side {
            None => 0,
            Some(Side::Low) => 1,
            Some(Side::High) => 2,
        },
    })
}

/// What one batch changes for one (proposition, party).
#[derive(Default)]
struct PairChange {
    added: Vec<StatementEntry>,
    retracted_existing: Vec<EventId>,
}

/// The view writes one batch makes, gathered event by event and written at the end.
#[derive(Default)]
pub(crate) struct ViewUpdate {
    pairs: HashMap<PairKey, PairChange>,
    added_here: HashMap<EventId, PairKey>,
}

impl ViewUpdate {
    /// Notes an event's effect on the views.
    pub(crate) fn on_event(
        &mut self,
        ledger: &Ledger,
        seq: u64,
        id: EventId,
        event: &Event,
    ) -> Result<(), StoreError> {
        match event {
            Event::StatementRecorded(s) => {
                let key = (s.proposition.clone(), s.party.clone());
                self.pairs
                    .entry(key.clone())
                    .or_default()
                    .added
                    .push(StatementEntry::from_statement(seq, id, s));
                self.added_here.insert(id, key);
            }
            Event::StatementRetracted(r) => {
                if let Some(key) = self.added_here.get(&r.statement) {
                    if let Some(change) = self.pairs.get_mut(key) {
                        for e in change
                            .added
                            .iter_mut()
                            .filter(|e| e.statement == r.statement)
                        {
                            e.retracted = true;
                        }
                    }
                } else if let Some(rec) = ledger.get_by_id(&r.statement)?
                    && let Event::StatementRecorded(s) = rec.event
                {
                    let key = (s.proposition, s.party);
                    self.pairs
                        .entry(key)
                        .or_default()
                        .retracted_existing
                        .push(r.statement);
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Adds the view writes to `writes`.
    pub(crate) fn write(self, ledger: &Ledger, writes: &mut sled::Batch) -> Result<(), StoreError> {
        for ((prop, party), mut change) in self.pairs {
            let vkey = keys::position(&prop, &party);
            let old = match ledger
                .tree()
                .get(&vkey)
                .map_err(|e| ledger.storage_err(e))?
            {
                Some(bytes) => Some(decode_summary(&vkey, &bytes)?),
                None => None,
            };
            change.added.sort_by_key(StatementEntry::order_key);
            let after_current = match (&old, change.added.first()) {
                (Some(s), Some(first)) => first.order_key() > s.current.order_key(),
                _ => true,
            };
            let fast = change.retracted_existing.is_empty()
                && after_current
                && change.added.iter().all(|e| !e.retracted);
            let summary = if fast {
                let mut s = old;
                for e in &change.added {
                    s = Some(extend(s, e.clone()));
                }
                s
            } else {
                resummarize(ledger, &prop, &party, &change, writes)?
            };
            for e in &change.added {
                let key = keys::entry(&prop, &party, e.said_at.micros(), e.seq);
                writes.insert(key, encode(&store_entry(e)));
            }
            match summary {
                Some(s) => writes.insert(vkey, encode_summary(&s)),
                None => writes.remove(vkey),
            }
        }
        Ok(())
    }
}

/// Re-summarises one pair from its kept entries plus this batch's changes,
/// rewriting the entries a retraction marks.
fn resummarize(
    ledger: &Ledger,
    prop: &PropositionId,
    party: &PartyId,
    change: &PairChange,
    writes: &mut sled::Batch,
) -> Result<Option<PositionSummary>, StoreError> {
    let mut entries = Vec::new();
    for kv in ledger.tree().scan_prefix(keys::entry_prefix(prop, party)) {
        let (key, bytes) = kv.map_err(|e| ledger.storage_err(e))?;
        let (stored, _): (StoredEntryV1, usize) =
            bincode::serde::decode_from_slice(&bytes, bincode_config())
                .map_err(|_| corrupt_view(&key))?;
        let mut entry = load_entry(stored, None).ok_or_else(|| corrupt_view(&key))?;
        if !entry.retracted && change.retracted_existing.contains(&entry.statement) {
            entry.retracted = true;
            writes.insert(key, encode(&store_entry(&entry)));
        }
        entries.push(entry);
    }
    entries.extend(change.added.iter().cloned());
    entries.sort_by_key(StatementEntry::order_key);
    let mut summary = summarize(&entries);
    if let Some(s) = &mut summary
        && s.current.quote.is_none()
    {
        // Kept entries leave out quotes; the current one's comes from its record.
        if let Some(Event::StatementRecorded(st)) = ledger.get(s.current.seq)?.map(|r| r.event) {
            s.current.quote = st.quote;
        }
    }
    Ok(summary)
}

impl Ledger {
    /// Current positions from the kept view (one proposition's, or all), ordered
    /// by (proposition, party): keyed reads only, no scan of the log.
    pub fn positions(&self, only: Option<&PropositionId>) -> Result<Vec<Position>, StoreError> {
        self.check_views()?;
        let mut out = Vec::new();
        for kv in self.tree().scan_prefix(keys::position_prefix(only)) {
            let (key, bytes) = kv.map_err(|e| self.storage_err(e))?;
            let (prop, party) = keys::parse_position(&key).ok_or_else(|| corrupt_view(&key))?;
            out.push(decode_summary(&key, &bytes)?.to_position(prop, party));
        }
        Ok(out)
    }

    /// The seq the kept views reflect and their format version.
    fn views_marker(&self) -> Result<Option<(u64, u16)>, StoreError> {
        let v = self
            .tree()
            .get(keys::meta(MetaKey::Views))
            .map_err(|e| self.storage_err(e))?;
        Ok(v.filter(|b| b.len() == 10)
            .map(|b| (keys::be_u64(&b), u16::from_be_bytes([b[8], b[9]]))))
    }

    fn check_views(&self) -> Result<(), StoreError> {
        let head = self.head().seq;
        match self.views_marker()? {
            Some((seq, VIEWS_VERSION)) if seq == head => Ok(()),
            None if head == 0 => Ok(()),
            _ => Err(StoreError::StaleViews(self.path().to_owned())),
        }
    }

    /// Drops the kept views and rebuilds them from seq 1, streaming the log in
    /// chunks; returns how many records were replayed. Appends wait meanwhile.
    pub fn rebuild_views(&self, on_progress: &mut dyn FnMut(u64, u64)) -> Result<u64, StoreError> {
        const CHUNK: usize = 10_000;
        let guard = self.lock_writer();
        let head = guard.head.seq;
        let db = self.tree();
        // Mark the views stale first: a crash mid-rebuild leaves them refused, not wrong.
        db.remove(keys::meta(MetaKey::Views))
            .map_err(|e| self.storage_err(e))?;
        for prefix in [keys::VIEW_POSITION, keys::VIEW_ENTRY] {
            let mut batch = sled::Batch::default();
            let mut n = 0;
            for kv in db.scan_prefix([prefix]) {
                let (key, _) = kv.map_err(|e| self.storage_err(e))?;
                batch.remove(key);
                n += 1;
                if n % CHUNK == 0 {
                    db.apply_batch(std::mem::take(&mut batch))
                        .map_err(|e| self.storage_err(e))?;
                }
            }
            db.apply_batch(batch).map_err(|e| self.storage_err(e))?;
        }
        let mut done = 0u64;
        let mut records = self.records(1, head).peekable();
        while records.peek().is_some() {
            let mut update = ViewUpdate::default();
            for rec in records.by_ref().take(CHUNK) {
                let rec = rec?;
                update.on_event(self, rec.seq, rec.event_id, &rec.event)?;
                done += 1;
            }
            let mut batch = sled::Batch::default();
            update.write(self, &mut batch)?;
            db.apply_batch(batch).map_err(|e| self.storage_err(e))?;
            on_progress(done, head);
        }
        db.insert(keys::meta(MetaKey::Views), &views_marker(head)[..])
            .map_err(|e| self.storage_err(e))?;
        self.make_durable()?;
        drop(guard);
        Ok(done)
    }
}

/// The stored marker saying the views reflect `seq`.
pub(crate) fn views_marker(seq: u64) -> [u8; 10] {
    let mut v = [0u8; 10];
    v[..8].copy_from_slice(&seq.to_be_bytes());
    v[8..].copy_from_slice(&VIEWS_VERSION.to_be_bytes());
    v
}
