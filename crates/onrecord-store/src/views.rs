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

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;

use serde::{Deserialize, Serialize};

use onrecord_core::{Event, EventId, PartyId, Precision, PropositionId, Side, Stance, When};
use onrecord_projections::{Position, PositionSummary, StatementEntry, extend};

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

/// One change to a (proposition, party), in the order the batch made them.
enum PairOp {
    /// A statement was recorded.
    Add(StatementEntry),
    /// The statement at this order key (said_at, seq) was retracted.
    Retract((i64, u64)),
}

/// The view writes one batch makes, gathered event by event and written at the end.
#[derive(Default)]
pub(crate) struct ViewUpdate {
    pairs: HashMap<PairKey, Vec<PairOp>>,
    /// Statements recorded by this batch: where a retraction later in it finds them.
    added_here: HashMap<EventId, (PairKey, (i64, u64))>,
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
                let entry = StatementEntry::from_statement(seq, id, s);
                self.added_here.insert(id, (key.clone(), entry.order_key()));
                self.pairs.entry(key).or_default().push(PairOp::Add(entry));
            }
            Event::StatementRetracted(r) => {
                // Validation saw the statement, in the ledger or earlier in this
                // batch; its order key comes from its record or this batch's add.
                let found = self.added_here.get(&r.statement).cloned();
                let found = match found {
                    Some(f) => Some(f),
                    None => match ledger.get_by_id(&r.statement)? {
                        Some(rec) => match rec.event {
                            Event::StatementRecorded(s) => {
                                Some(((s.proposition, s.party), (s.said_at.micros(), rec.seq)))
                            }
                            _ => None,
                        },
                        None => None,
                    },
                };
                if let Some((key, order)) = found {
                    self.pairs
                        .entry(key)
                        .or_default()
                        .push(PairOp::Retract(order));
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The keys [`ViewUpdate::write`] may overwrite that hold values from
    /// before seq `base`: each touched pair's summary, and the entries of the
    /// statements up to `base` that this update retracts.
    pub(crate) fn prior_keys(&self, base: u64) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for ((prop, party), ops) in &self.pairs {
            out.push(keys::position(prop, party));
            for op in ops {
                if let PairOp::Retract((said_at, seq)) = op
                    && *seq <= base
                {
                    out.push(keys::entry(prop, party, *said_at, *seq));
                }
            }
        }
        out
    }

    /// Adds the view writes to `writes`: each touched pair's new and changed
    /// entries and its summary, updated locally (by neighbours, never a scan
    /// of the pair) so an append costs the same however long the pair is.
    pub(crate) fn write(self, ledger: &Ledger, writes: &mut sled::Batch) -> Result<(), StoreError> {
        for ((prop, party), ops) in self.pairs {
            let vkey = keys::position(&prop, &party);
            let stored = ledger
                .tree()
                .get(&vkey)
                .map_err(|e| ledger.storage_err(e))?;
            let mut pair = PairView {
                ledger,
                prefix: keys::entry_prefix(&prop, &party),
                summary: match stored {
                    Some(bytes) => Some(decode_summary(&vkey, &bytes)?),
                    None => None,
                },
                overlay: BTreeMap::new(),
            };
            for op in ops {
                match op {
                    PairOp::Add(e) => pair.add(e)?,
                    PairOp::Retract(order) => pair.retract(order)?,
                }
            }
            for e in pair.overlay.values() {
                writes.insert(
                    keys::entry(&prop, &party, e.said_at.micros(), e.seq),
                    encode(&store_entry(e)),
                );
            }
            match pair.summary {
                Some(s) => writes.insert(vkey, encode_summary(&s)),
                None => writes.remove(vkey),
            }
        }
        Ok(())
    }
}

/// 1 when both sides exist and differ: one flip between two successive sided statements.
fn flip(a: Option<Side>, b: Option<Side>) -> u64 {
    u64::from(matches!((a, b), (Some(x), Some(y)) if x != y))
}

/// Which way to look from an entry.
#[derive(Clone, Copy, PartialEq)]
enum Direction {
    Before,
    After,
}

/// One (proposition, party) while a batch changes it: its kept summary, and
/// the entries this batch added or changed, over the entries sled holds.
struct PairView<'a> {
    ledger: &'a Ledger,
    prefix: Vec<u8>,
    summary: Option<PositionSummary>,
    overlay: BTreeMap<(i64, u64), StatementEntry>,
}

impl PairView<'_> {
    /// The entry at `order`, from this batch's changes or from sled.
    fn entry(&self, order: (i64, u64)) -> Result<Option<StatementEntry>, StoreError> {
        if let Some(e) = self.overlay.get(&order) {
            return Ok(Some(e.clone()));
        }
        let key = self.key(order);
        match self
            .ledger
            .tree()
            .get(&key)
            .map_err(|e| self.ledger.storage_err(e))?
        {
            Some(bytes) => decode_entry(&key, &bytes).map(Some),
            None => Ok(None),
        }
    }

    fn key(&self, (said_at, seq): (i64, u64)) -> Vec<u8> {
        let mut k = self.prefix.clone();
        k.extend_from_slice(&((said_at as u64) ^ (1 << 63)).to_be_bytes());
        k.extend_from_slice(&seq.to_be_bytes());
        k
    }

    /// The nearest counted (not retracted) entry before or after `order`,
    /// sided only if `sided`. Entries this batch changed override sled's.
    fn neighbour(
        &self,
        order: (i64, u64),
        dir: Direction,
        sided: bool,
    ) -> Result<Option<StatementEntry>, StoreError> {
        let counts = |e: &StatementEntry| !e.retracted && (!sided || e.side().is_some());
        let from_overlay = match dir {
            Direction::Before => self
                .overlay
                .range(..order)
                .rev()
                .map(|(_, e)| e)
                .find(|e| counts(e)),
            Direction::After => self
                .overlay
                .range((Bound::Excluded(order), Bound::Unbounded))
                .map(|(_, e)| e)
                .find(|e| counts(e)),
        };
        let here = self.key(order);
        let range = match dir {
            Direction::Before => (Bound::Included(self.prefix.clone()), Bound::Excluded(here)),
            Direction::After => (
                Bound::Excluded(here),
                Bound::Excluded(keys::prefix_end(&self.prefix)),
            ),
        };
        let mut iter = self.ledger.tree().range::<Vec<u8>, _>(range);
        let mut from_sled = None;
        loop {
            let next = match dir {
                Direction::Before => iter.next_back(),
                Direction::After => iter.next(),
            };
            let Some(kv) = next else { break };
            let (key, bytes) = kv.map_err(|e| self.ledger.storage_err(e))?;
            let e = decode_entry(&key, &bytes)?;
            if self.overlay.contains_key(&e.order_key()) {
                continue; // the batch's version of this entry was considered above
            }
            if counts(&e) {
                from_sled = Some(e);
                break;
            }
        }
        Ok(match (from_overlay, from_sled) {
            (None, s) => s,
            (Some(o), None) => Some(o.clone()),
            (Some(o), Some(s)) => {
                let overlay_nearer = match dir {
                    Direction::Before => o.order_key() > s.order_key(),
                    Direction::After => o.order_key() < s.order_key(),
                };
                Some(if overlay_nearer { o.clone() } else { s })
            }
        })
    }

    /// A statement was recorded.
    fn add(&mut self, e: StatementEntry) -> Result<(), StoreError> {
        let order = e.order_key();
        let after_current = self
            .summary
            .as_ref()
            .is_none_or(|s| order > s.current.order_key());
        if after_current {
            // The common case: the newest statement extends the summary.
            self.summary = Some(extend(self.summary.take(), e.clone()));
        } else if let Some(side) = e.side() {
            // Backdated: it slots between its sided neighbours.
            let before = self
                .neighbour(order, Direction::Before, true)?
                .and_then(|n| n.side());
            let after = self
                .neighbour(order, Direction::After, true)?
                .and_then(|n| n.side());
            if let Some(s) = &mut self.summary {
                s.statements += 1;
                s.flips = (s.flips + flip(before, Some(side)) + flip(Some(side), after))
                    .saturating_sub(flip(before, after));
                if after.is_none() {
                    s.last_side = Some(side);
                }
            }
        } else if let Some(s) = &mut self.summary {
            s.statements += 1;
        }
        self.overlay.insert(order, e);
        Ok(())
    }

    /// The statement at `order` was retracted.
    fn retract(&mut self, order: (i64, u64)) -> Result<(), StoreError> {
        let Some(mut e) = self.entry(order)? else {
            return Ok(());
        };
        if e.retracted {
            return Ok(());
        }
        e.retracted = true;
        self.overlay.insert(order, e.clone());
        let Some(mut s) = self.summary.take() else {
            return Ok(());
        };
        if s.statements <= 1 {
            return Ok(()); // nothing counts any more: no position
        }
        s.statements -= 1;
        if let Some(side) = e.side() {
            let before = self
                .neighbour(order, Direction::Before, true)?
                .and_then(|n| n.side());
            let after = self
                .neighbour(order, Direction::After, true)?
                .and_then(|n| n.side());
            s.flips = (s.flips + flip(before, after))
                .saturating_sub(flip(before, Some(side)) + flip(Some(side), after));
            if after.is_none() {
                s.last_side = before;
            }
        }
        if s.current.order_key() == order {
            let Some(mut previous) = self.neighbour(order, Direction::Before, false)? else {
                return Err(corrupt_view(&self.key(order)));
            };
            if previous.quote.is_none() {
                // Kept entries leave out quotes; the current one's comes from its record.
                if let Some(Event::StatementRecorded(st)) =
                    self.ledger.get(previous.seq)?.map(|r| r.event)
                {
                    previous.quote = st.quote;
                }
            }
            s.current = previous;
        }
        self.summary = Some(s);
        Ok(())
    }
}

fn decode_entry(key: &[u8], bytes: &[u8]) -> Result<StatementEntry, StoreError> {
    let (stored, _): (StoredEntryV1, usize) =
        bincode::serde::decode_from_slice(bytes, bincode_config())
            .map_err(|_| corrupt_view(key))?;
    load_entry(stored, None).ok_or_else(|| corrupt_view(key))
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
