//! Kept views: each party's current position on each proposition, stored
//! under the `V` and `W` prefixes and written in the same atomic batch as the
//! events that change them, so `positions` needs no scan of the log.
//!
//! Per (proposition, party) the view keeps every statement as a small entry
//! ordered by (said_at, seq) (`W`) and a summary: current statement, count,
//! flips, last side (`V`). What a position is (which statement is current,
//! what a flip is) is defined once, in [`onrecord_projections::summary`]: a
//! recorded statement goes through [`add_statement`] (the
//! [`onrecord_projections::extend`] fast path when it sorts last), a
//! retraction through [`retract_statement`], each given the statement's
//! nearest neighbours in its pair, which this module looks up by key.
//! `verify` compares the views with [`summarize`] over a fold of the log.
//! This module may read the log only by key (never scan it), and never decides
//! what a position is by itself.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;

use serde::{Deserialize, Serialize};

use onrecord_core::{Event, EventId, PartyId, PropositionId, Stance};
use onrecord_projections::{
    Position, PositionSummary, SidedNeighbours, StatementEntry, add_statement, order_key,
    retract_statement, summarize,
};

use crate::codes;
use crate::envelope::{StoredWhen, bincode_config};
use crate::keys::{self, MetaKey};
use crate::storage::WriteSet;
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
        said_at: StoredWhen::from_when(e.said_at),
        stance: codes::stance_code(e.stance),
        credence: e.credence,
        speaker: e.speaker.to_string(),
        retracted: e.retracted,
    }
}

/// A stored entry back as a [`StatementEntry`], or what is wrong with it.
/// Its values are checked as they are decoded (the stance exists, the
/// credence lies in that stance's band, the time's precision exists, the
/// speaker is an id), so a view edited behind the ledger's back is refused,
/// never served.
fn load_entry(s: StoredEntryV1, quote: Option<String>) -> Result<StatementEntry, String> {
    let stance = codes::stance_from_code(s.stance)
        .ok_or_else(|| format!("stance code {} is unknown", s.stance))?;
    check_band(stance, s.credence)?;
    let said_at = s
        .said_at
        .to_when()
        .ok_or_else(|| format!("precision code {} is unknown", s.said_at.precision))?;
    Ok(StatementEntry {
        seq: s.seq,
        statement: EventId::from_bytes(s.statement),
        said_at,
        stance,
        credence: s.credence,
        speaker: PartyId::new(&s.speaker)
            .map_err(|_| format!("speaker {:?} is not a party id", s.speaker))?,
        quote,
        retracted: s.retracted,
    })
}

/// The credence a statement with `stance` may carry: inside its band, or none for `declined`.
fn check_band(stance: Stance, credence: Option<f64>) -> Result<(), String> {
    match (stance.band(), credence) {
        (None, None) => Ok(()),
        (Some((low, high)), Some(c)) if c.is_finite() && (low..=high).contains(&c) => Ok(()),
        (None, Some(c)) => Err(format!("it holds credence {c} with stance declined")),
        (Some((low, high)), c) => Err(format!(
            "credence {} is outside the band of {} ({low}-{high})",
            c.map_or_else(|| "none".to_owned(), |c| c.to_string()),
            stance.name()
        )),
    }
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    bincode::serde::encode_to_vec(value, bincode_config()).unwrap_or_default()
}

/// Which kept view a `V` or `W` key holds, in words: "proposition P, party Q"
/// (and the statement's seq for an entry).
pub(crate) fn describe_view_key(key: &[u8]) -> String {
    let rest = key.get(1..).unwrap_or_default();
    let mut parts = rest.splitn(3, |b| *b == 0);
    let prop = String::from_utf8_lossy(parts.next().unwrap_or_default());
    let party = parts.next().map(String::from_utf8_lossy);
    let seq = parts
        .next()
        .filter(|tail| tail.len() == 16)
        .map(|tail| keys::be_u64(&tail[8..]));
    match (party, seq) {
        (Some(party), Some(seq)) => {
            format!("proposition {prop}, party {party}, statement at seq {seq}")
        }
        (Some(party), None) => format!("proposition {prop}, party {party}"),
        (None, _) => format!("key {:?}", String::from_utf8_lossy(key)),
    }
}

/// The typed damage error for the kept view at `key`.
fn damaged_view(key: &[u8], problem: impl Into<String>) -> StoreError {
    StoreError::DamagedView {
        view: describe_view_key(key),
        problem: problem.into(),
    }
}

/// When the current statement of a kept summary was said (microseconds),
/// if its bytes decode: what the read-ahead compares a batch's statements
/// with to foresee which are backdated (and will look for neighbours).
pub(crate) fn current_said_at(bytes: &[u8]) -> Option<i64> {
    decode_summary(&[], bytes)
        .ok()
        .map(|s| s.current.said_at.micros())
}

fn decode_summary(key: &[u8], bytes: &[u8]) -> Result<PositionSummary, StoreError> {
    let (s, _): (StoredSummaryV1, usize) =
        bincode::serde::decode_from_slice(bytes, bincode_config())
            .map_err(|_| damaged_view(key, "its bytes do not decode"))?;
    let last_side = codes::side_or_none_from_code(s.last_side)
        .ok_or_else(|| damaged_view(key, format!("side code {} is unknown", s.last_side)))?;
    if s.statements == 0 || s.flips >= s.statements || s.current.retracted {
        return Err(damaged_view(
            key,
            format!(
                "it counts {} statements with {} flips and a current statement {}",
                s.statements,
                s.flips,
                if s.current.retracted {
                    "that is retracted"
                } else {
                    "that counts"
                }
            ),
        ));
    }
    Ok(PositionSummary {
        current: load_entry(s.current, s.quote).map_err(|p| damaged_view(key, p))?,
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
        last_side: codes::side_or_none_code(s.last_side),
    })
}

/// One change to a (proposition, party), in the order the batch made them.
#[derive(Clone)]
enum PairOp {
    /// A statement was recorded.
    Add(StatementEntry),
    /// The statement at this order key (said_at, seq) was retracted.
    Retract((i64, u64)),
}

/// The view writes one batch makes, gathered event by event and written at the end.
#[derive(Default, Clone)]
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
                            Event::StatementRecorded(s) => Some((
                                (s.proposition, s.party),
                                order_key(s.said_at.micros(), rec.seq),
                            )),
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
    pub(crate) fn write(self, ledger: &Ledger, writes: &mut WriteSet) -> Result<(), StoreError> {
        for ((prop, party), ops) in self.pairs {
            let vkey = keys::position(&prop, &party);
            let stored = ledger.tree().get(&vkey)?;
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
                writes.put(
                    keys::entry(&prop, &party, e.said_at.micros(), e.seq),
                    encode(&store_entry(e)),
                );
            }
            match pair.summary {
                Some(s) => writes.put(vkey, encode_summary(&s)),
                None => writes.delete(vkey),
            }
        }
        Ok(())
    }
}

/// Which way to look from an entry.
#[derive(Clone, Copy, PartialEq)]
enum Direction {
    Before,
    After,
}

/// One (proposition, party) while a batch changes it: its kept summary, and
/// the entries this batch added or changed, over the entries the store holds.
struct PairView<'a> {
    ledger: &'a Ledger,
    prefix: Vec<u8>,
    summary: Option<PositionSummary>,
    overlay: BTreeMap<(i64, u64), StatementEntry>,
}

impl PairView<'_> {
    /// The entry at `order`, from this batch's changes or from the store.
    fn entry(&self, order: (i64, u64)) -> Result<Option<StatementEntry>, StoreError> {
        if let Some(e) = self.overlay.get(&order) {
            return Ok(Some(e.clone()));
        }
        let key = self.key(order);
        match self.ledger.tree().get(&key)? {
            Some(bytes) => decode_entry(&key, &bytes).map(Some),
            None => Ok(None),
        }
    }

    fn key(&self, (said_at, seq): (i64, u64)) -> Vec<u8> {
        keys::entry_under(&self.prefix, said_at, seq)
    }

    /// The nearest counted (not retracted) entry before or after `order`,
    /// sided only if `sided`. Entries this batch changed override the store's.
    fn neighbour(
        &self,
        order: (i64, u64),
        dir: Direction,
        sided: bool,
    ) -> Result<Option<StatementEntry>, StoreError> {
        let counts = |e: &StatementEntry| e.counts() && (!sided || e.side().is_some());
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
        let db = self.ledger.tree();
        let mut here = self.key(order);
        let end = keys::prefix_end(&self.prefix);
        let mut after = match dir {
            Direction::Before => None,
            Direction::After => {
                Some(db.range(Bound::Excluded(&here[..]), Bound::Excluded(&end[..])))
            }
        };
        let mut from_store = None;
        loop {
            // Backwards, each step is one keyed lookup of the last entry before the previous one.
            let next = match &mut after {
                None => db
                    .last(
                        Bound::Included(&self.prefix[..]),
                        Bound::Excluded(&here[..]),
                    )
                    .transpose(),
                Some(iter) => iter.next(),
            };
            let Some(kv) = next else { break };
            let (key, bytes) = kv?;
            let e = decode_entry(&key, &bytes)?;
            here = key;
            if self.overlay.contains_key(&e.order_key()) {
                continue; // the batch's version of this entry was considered above
            }
            if counts(&e) {
                from_store = Some(e);
                break;
            }
        }
        Ok(match (from_overlay, from_store) {
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

    /// The sides of the nearest sided counted entries before and after `order`.
    fn sided_neighbours(&self, order: (i64, u64)) -> Result<SidedNeighbours, StoreError> {
        let side =
            |dir| Ok::<_, StoreError>(self.neighbour(order, dir, true)?.and_then(|n| n.side()));
        Ok(SidedNeighbours {
            before: side(Direction::Before)?,
            after: side(Direction::After)?,
        })
    }

    /// The nearest counted entry before `order`, quote filled, to become the
    /// current statement when the one at `order` is retracted.
    fn previous(&self, order: (i64, u64)) -> Result<StatementEntry, StoreError> {
        let Some(mut previous) = self.neighbour(order, Direction::Before, false)? else {
            return Err(damaged_view(
                &self.key(order),
                "its summary counts statements its entries do not hold",
            ));
        };
        if previous.quote.is_none() {
            // Kept entries leave out quotes; the current one's comes from its record.
            if let Some(Event::StatementRecorded(st)) =
                self.ledger.get(previous.seq)?.map(|r| r.event)
            {
                previous.quote = st.quote;
            }
        }
        Ok(previous)
    }

    /// A statement was recorded.
    fn add(&mut self, e: StatementEntry) -> Result<(), StoreError> {
        let order = e.order_key();
        let summary = self.summary.take();
        let added = add_statement(summary, e.clone(), || self.sided_neighbours(order))?;
        self.summary = Some(added);
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
        let Some(s) = self.summary.take() else {
            return Ok(());
        };
        self.summary = retract_statement(
            s,
            &e,
            || self.sided_neighbours(order),
            || self.previous(order),
        )?;
        Ok(())
    }
}

fn decode_entry(key: &[u8], bytes: &[u8]) -> Result<StatementEntry, StoreError> {
    let (stored, _): (StoredEntryV1, usize) =
        bincode::serde::decode_from_slice(bytes, bincode_config())
            .map_err(|_| damaged_view(key, "its bytes do not decode"))?;
    load_entry(stored, None).map_err(|p| damaged_view(key, p))
}

impl Ledger {
    /// Current positions from the kept view (one proposition's, or all), ordered
    /// by (proposition, party): keyed reads only, no scan of the log.
    pub fn positions(&self, only: Option<&PropositionId>) -> Result<Vec<Position>, StoreError> {
        self.check_views()?;
        let mut out = Vec::new();
        for kv in self.tree().scan_prefix(&keys::position_prefix(only)) {
            let (key, bytes) = kv?;
            let (prop, party) = keys::parse_position(&key)
                .ok_or_else(|| damaged_view(&key, "its key names no proposition and party"))?;
            out.push(decode_summary(&key, &bytes)?.to_position(prop, party));
        }
        Ok(out)
    }

    /// The seq the kept views reflect and their format version.
    fn views_marker(&self) -> Result<Option<(u64, u16)>, StoreError> {
        let v = self.tree().get(&keys::meta(MetaKey::Views))?;
        Ok(v.filter(|b| b.len() == 10)
            .map(|b| (keys::be_u64(&b), u16::from_be_bytes([b[8], b[9]]))))
    }

    /// Whether the kept views reflect the log up to `head` (the current head,
    /// read under the writer lock by appends): their marker names `head` in
    /// this views version, or the ledger is empty. Anything else (an
    /// interrupted rebuild, an older views version) is stale until
    /// `rebuild_views` completes.
    pub(crate) fn views_reflect(&self, head: u64) -> Result<bool, StoreError> {
        // Another process's import writes its chunks' kept views in place
        // before its head commits them: while its mark is there, the views
        // are ahead of the log and are not read (a fold of the log is).
        if self.tree().others_move_head() && self.tree().contains(&keys::meta(MetaKey::Import))? {
            return Ok(false);
        }
        Ok(match self.views_marker()? {
            Some((seq, VIEWS_VERSION)) => seq == head,
            Some(_) => false,
            None => head == 0,
        })
    }

    /// Whether the kept views are current: `positions` without a time filter
    /// reads them only then, and folds the log otherwise.
    pub fn views_current(&self) -> Result<bool, StoreError> {
        // Where other processes append, the head they committed, not the
        // one this process last saw: else their appends would make the
        // views look stale here, and every answer a fold of the whole log.
        self.views_reflect(self.head_for_reads()?)
    }

    fn check_views(&self) -> Result<(), StoreError> {
        if self.views_current()? {
            Ok(())
        } else {
            Err(StoreError::StaleViews(self.path().to_owned()))
        }
    }

    /// Drops the kept views and rebuilds them from seq 1, streaming the log in
    /// chunks; returns how many records were replayed. Appends wait meanwhile.
    pub fn rebuild_views(&self, on_progress: &mut dyn FnMut(u64, u64)) -> Result<u64, StoreError> {
        const CHUNK: usize = 10_000;
        let mut guard = self.lock_writer();
        // On a shared store the other writers wait until the views are marked.
        let exclusion = self.exclude_writers(&mut guard)?;
        let head = guard.head.seq;
        let db = self.tree();
        // Mark the views stale first, durably, before any of them changes: a
        // crash mid-rebuild leaves them stale (never read, never extended by
        // an append), not wrong.
        let mut unmark = WriteSet::default();
        unmark.delete(keys::meta(MetaKey::Views));
        db.commit(unmark)?;
        for prefix in [keys::VIEW_POSITION, keys::VIEW_ENTRY] {
            let mut batch = WriteSet::default();
            for kv in db.scan_prefix(&[prefix]) {
                let (key, _) = kv?;
                batch.delete(key);
                if batch.len() == CHUNK {
                    db.apply(std::mem::take(&mut batch))?;
                }
            }
            db.apply(batch)?;
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
            let mut batch = WriteSet::default();
            update.write(self, &mut batch)?;
            db.apply(batch)?;
            on_progress(done, head);
        }
        let mut mark = WriteSet::default();
        mark.put(keys::meta(MetaKey::Views), &views_marker(head)[..]);
        db.commit(mark)?;
        drop(exclusion);
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

/// What `verify` found of the kept views.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewsVerified {
    /// Not checked: the log itself failed its checks first.
    NotChecked,
    /// Stale (an interrupted rebuild, an older views version): never read by
    /// queries, so not compared; `replay --rebuild` makes them current.
    Stale,
    /// Every kept position and statement entry equals a fold of the log.
    Equal {
        /// How many positions (proposition, party) were compared.
        positions: u64,
    },
}

/// The outcome of comparing the kept views with the log.
pub(crate) enum ViewsVerdict {
    /// Nothing differs (or the views are stale); see [`ViewsVerified`].
    Checked(ViewsVerified),
    /// The first difference, at the seq of the statement it concerns (the
    /// head's successor for a view the log accounts for nowhere).
    Differs(crate::Damage),
}

/// One proposition's statements folded from its stream: per party, its
/// entries in (said_at, seq) order, retractions applied, quotes left out.
fn fold_proposition(
    ledger: &Ledger,
    proposition: &PropositionId,
) -> Result<BTreeMap<PartyId, Vec<StatementEntry>>, StoreError> {
    let mut by_party: BTreeMap<PartyId, Vec<StatementEntry>> = BTreeMap::new();
    let mut where_is: HashMap<EventId, (PartyId, usize)> = HashMap::new();
    let stream = onrecord_core::StreamId::Proposition(proposition.clone());
    for rec in ledger.stream(&stream) {
        let rec = rec?;
        match &rec.event {
            Event::StatementRecorded(s) => {
                let mut entry = StatementEntry::from_statement(rec.seq, rec.event_id, s);
                entry.quote = None;
                let entries = by_party.entry(s.party.clone()).or_default();
                where_is.insert(rec.event_id, (s.party.clone(), entries.len()));
                entries.push(entry);
            }
            Event::StatementRetracted(r) => {
                if let Some((party, i)) = where_is.get(&r.statement)
                    && let Some(e) = by_party.get_mut(party).and_then(|v| v.get_mut(*i))
                {
                    e.retracted = true;
                }
            }
            _ => {}
        }
    }
    for entries in by_party.values_mut() {
        entries.sort_by_key(StatementEntry::order_key);
    }
    Ok(by_party)
}

/// The first field in which a kept entry differs from the logged one, in words.
fn entry_difference(kept: &StatementEntry, logged: &StatementEntry) -> String {
    let show = |c: Option<f64>| c.map_or_else(|| "none".to_owned(), |c| c.to_string());
    if kept.seq != logged.seq || kept.statement != logged.statement {
        format!(
            "it names statement {} at seq {} where the log has {} at seq {}",
            kept.statement, kept.seq, logged.statement, logged.seq
        )
    } else if kept.stance != logged.stance || kept.credence != logged.credence {
        format!(
            "it holds {} {} where the log has {} {}",
            kept.stance.name(),
            show(kept.credence),
            logged.stance.name(),
            show(logged.credence)
        )
    } else if kept.said_at != logged.said_at {
        format!(
            "it holds said_at {} where the log has {}",
            kept.said_at, logged.said_at
        )
    } else if kept.speaker != logged.speaker {
        format!(
            "it holds speaker {} where the log has {}",
            kept.speaker, logged.speaker
        )
    } else if kept.retracted != logged.retracted {
        format!(
            "it says the statement at seq {} is {}retracted; the log says otherwise",
            kept.seq,
            if kept.retracted { "" } else { "not " }
        )
    } else {
        "its quote differs from the log's".to_owned()
    }
}

/// The first difference between a kept summary and the one folded from the log, in words.
fn summary_difference(kept: &PositionSummary, logged: &PositionSummary) -> String {
    if kept.current != logged.current {
        entry_difference(&kept.current, &logged.current)
    } else if kept.statements != logged.statements || kept.flips != logged.flips {
        format!(
            "it counts {} statements and {} flips where the log has {} and {}",
            kept.statements, kept.flips, logged.statements, logged.flips
        )
    } else {
        format!(
            "it holds last side {:?} where the log has {:?}",
            kept.last_side, logged.last_side
        )
    }
}

/// Compares the kept views with a fold of the log, proposition by proposition
/// through the stream index, so memory is bounded by the largest proposition,
/// not the log. Every `V` and `W` key must be one the fold accounts for, with
/// the value it gives. Called by `verify` once the log itself has verified.
pub(crate) fn verify_views(ledger: &Ledger, head: u64) -> Result<ViewsVerdict, StoreError> {
    if !ledger.views_reflect(head)? {
        return Ok(ViewsVerdict::Checked(ViewsVerified::Stale));
    }
    let db = ledger.tree();
    let differs = |seq: u64, view: String, problem: String| {
        Ok(ViewsVerdict::Differs(crate::Damage {
            seq,
            problem: format!("the kept view of {view} differs from the log: {problem}"),
        }))
    };
    // Keys between one proposition's views and the next belong to none.
    let stray = |from: &[u8], to: &[u8]| -> Result<Option<Vec<u8>>, StoreError> {
        Ok(db
            .range(Bound::Included(from), Bound::Excluded(to))
            .next()
            .transpose()?
            .map(|(k, _)| k))
    };
    let mut positions = 0u64;
    let mut after_v = vec![keys::VIEW_POSITION];
    let mut after_w = vec![keys::VIEW_ENTRY];
    for proposition in ledger.proposition_ids()? {
        let v_prefix = keys::position_prefix(Some(&proposition));
        let mut w_prefix = v_prefix.clone();
        w_prefix[0] = keys::VIEW_ENTRY;
        if let Some(key) = stray(&after_v, &v_prefix)?.or(stray(&after_w, &w_prefix)?) {
            return differs(
                head + 1,
                describe_view_key(&key),
                "the log holds no such proposition".into(),
            );
        }
        let folded = fold_proposition(ledger, &proposition)?;

        // Statement entries: exactly the folded ones, in key order.
        let mut logged = folded
            .iter()
            .flat_map(|(party, entries)| entries.iter().map(move |e| (party, e)));
        for kv in db.scan_prefix(&w_prefix) {
            let (key, bytes) = kv?;
            let Some((party, expected)) = logged.next() else {
                return differs(
                    head + 1,
                    describe_view_key(&key),
                    "the log holds no such statement".into(),
                );
            };
            let expected_key =
                keys::entry(&proposition, party, expected.said_at.micros(), expected.seq);
            let view = format!("proposition {proposition}, party {party}");
            if *key < expected_key[..] {
                return differs(
                    head + 1,
                    describe_view_key(&key),
                    "the log holds no such statement".into(),
                );
            } else if *key > expected_key[..] {
                return differs(
                    expected.seq,
                    view,
                    format!("it misses the statement at seq {}", expected.seq),
                );
            }
            match decode_entry(&key, &bytes) {
                Ok(kept) if kept == *expected => {}
                Ok(kept) => return differs(expected.seq, view, entry_difference(&kept, expected)),
                Err(StoreError::DamagedView { problem, .. }) => {
                    return differs(expected.seq, view, problem);
                }
                Err(e) => return Err(e),
            }
        }
        if let Some((party, missing)) = logged.next() {
            return differs(
                missing.seq,
                format!("proposition {proposition}, party {party}"),
                format!("it misses the statement at seq {}", missing.seq),
            );
        }

        // Positions: the summary of each party's entries, with its quote.
        let mut summaries = folded
            .iter()
            .filter_map(|(party, entries)| Some((party, summarize(entries)?)));
        for kv in db.scan_prefix(&v_prefix) {
            let (key, bytes) = kv?;
            let Some((party, mut expected)) = summaries.next() else {
                return differs(
                    head + 1,
                    describe_view_key(&key),
                    "the log gives that party no position there".into(),
                );
            };
            let view = format!("proposition {proposition}, party {party}");
            let seq = expected.current.seq;
            let expected_key = keys::position(&proposition, party);
            if *key < expected_key[..] {
                return differs(
                    head + 1,
                    describe_view_key(&key),
                    "the log gives that party no position there".into(),
                );
            } else if *key > expected_key[..] {
                return differs(seq, view, "it has no kept position".into());
            }
            if let Some(Event::StatementRecorded(s)) = ledger.get(seq)?.map(|r| r.event) {
                expected.current.quote = s.quote;
            }
            match decode_summary(&key, &bytes) {
                Ok(kept) if kept == expected => positions += 1,
                Ok(kept) => return differs(seq, view, summary_difference(&kept, &expected)),
                Err(StoreError::DamagedView { problem, .. }) => {
                    return differs(seq, view, problem);
                }
                Err(e) => return Err(e),
            }
        }
        if let Some((party, missing)) = summaries.next() {
            return differs(
                missing.current.seq,
                format!("proposition {proposition}, party {party}"),
                "it has no kept position".into(),
            );
        }
        after_v = keys::prefix_end(&v_prefix);
        after_w = keys::prefix_end(&w_prefix);
    }
    if let Some(key) =
        stray(&after_v, &[keys::VIEW_POSITION + 1])?.or(stray(&after_w, &[keys::VIEW_ENTRY + 1])?)
    {
        return differs(
            head + 1,
            describe_view_key(&key),
            "the log holds no such proposition".into(),
        );
    }
    Ok(ViewsVerdict::Checked(ViewsVerified::Equal { positions }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use onrecord_core::{Precision, Side, When};

    fn entry(stance: Stance, precision: Precision) -> StatementEntry {
        StatementEntry {
            seq: 300,
            statement: EventId::from_bytes([7; 16]),
            said_at: When::from_parts(1_541_462_400_000_000, precision),
            stance,
            credence: stance.midpoint(),
            speaker: PartyId::new("peskov").unwrap(),
            quote: Some("They will meet".into()),
            retracted: false,
        }
    }

    fn summary(current: StatementEntry, last_side: Option<Side>) -> PositionSummary {
        PositionSummary {
            current,
            statements: 3,
            flips: 1,
            last_side,
        }
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn decode_stored_summary(bytes: &[u8]) -> StoredSummaryV1 {
        bincode::serde::decode_from_slice(bytes, bincode_config())
            .unwrap()
            .0
    }

    #[test]
    fn a_kept_entry_and_summary_are_written_to_the_pinned_bytes() {
        let e = entry(Stance::AlmostCertain, Precision::Day);
        assert_eq!(
            hex(&encode(&store_entry(&e))),
            "fb2c0107070707070707070707070707070707fd00c0925de7f30a000006010ad7a3703d0aef3f067065736b6f7600"
        );
        let s = summary(
            entry(Stance::Unlikely, Precision::Instant),
            Some(Side::High),
        );
        let bytes = encode_summary(&s);
        assert_eq!(
            hex(&bytes),
            "fb2c0107070707070707070707070707070707fd00c0925de7f30a00010201cdccccccccccd43f067065736b6f7600010e546865792077696c6c206d656574030102"
        );
        assert_eq!(decode_summary(b"V", &bytes).unwrap(), s);
    }

    #[test]
    fn each_stance_precision_and_side_is_kept_as_its_pinned_code() {
        let stances = crate::codes::PINNED_STANCES;
        let precisions = [(Precision::Day, 0), (Precision::Instant, 1)];
        let sides = [(None, 0), (Some(Side::Low), 1), (Some(Side::High), 2)];
        for (stance, code) in stances {
            for (precision, pcode) in precisions {
                for (side, scode) in sides {
                    let s = summary(entry(stance, precision), side);
                    let bytes = encode_summary(&s);
                    let stored = decode_stored_summary(&bytes);
                    assert_eq!(
                        (
                            stored.current.stance,
                            stored.current.said_at.precision,
                            stored.last_side
                        ),
                        (code, pcode, scode),
                        "{stance:?} {precision:?} {side:?}"
                    );
                    assert_eq!(decode_summary(b"V", &bytes).unwrap(), s);
                }
            }
        }
    }

    #[test]
    fn unknown_kept_codes_are_damage_not_guesses() {
        let good = encode_summary(&summary(
            entry(Stance::Likely, Precision::Day),
            Some(Side::High),
        ));
        let with = |change: &dyn Fn(&mut StoredSummaryV1)| {
            let mut stored = decode_stored_summary(&good);
            change(&mut stored);
            match decode_summary(b"V", &encode(&stored)) {
                Err(StoreError::DamagedView { problem, .. }) => problem,
                other => panic!("decoded to {other:?}"),
            }
        };
        assert_eq!(with(&|s| s.current.stance = 8), "stance code 8 is unknown");
        assert_eq!(with(&|s| s.last_side = 3), "side code 3 is unknown");
        assert_eq!(
            with(&|s| s.current.said_at.precision = 2),
            "precision code 2 is unknown"
        );
    }
}
