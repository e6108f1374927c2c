//! Current positions: for each (proposition, party), the party's latest
//! non-retracted statement plus how many statements count and how often the
//! party flipped, folded from the log one [`Recorded`] event at a time.
//!
//! Pure: the fold sees only the records handed to [`PositionsFold::apply`];
//! it does no I/O and never reads the store or the clock. "Current" is defined
//! once, in [`crate::summary`].
//!
//! Compact: the fold keeps a small fixed-size entry per counted statement
//! (ids interned to `u32`, no quote, no strings), so a full replay of a large
//! log stays fast and small. Quotes are filled afterwards from the log by the
//! seq of each position's current statement; see [`PositionsFold`].

use std::collections::HashMap;
use std::convert::Infallible;
use std::hash::{BuildHasherDefault, Hash, Hasher};

use onrecord_core::{
    Event, EventId, PartyId, Precision, PropositionId, Recorded, Side, Stance, When,
};

use crate::Filter;
use crate::summary::{order_key, tally};

/// A party's current position on a proposition.
#[derive(Debug, Clone, PartialEq)]
pub struct Position {
    /// The proposition the position is on.
    pub proposition: PropositionId,
    /// Whose position it is.
    pub party: PartyId,
    /// The current statement's stance.
    pub stance: Stance,
    /// The current statement's credence; `None` for declined.
    pub credence: Option<f64>,
    /// When the current statement was said.
    pub said_at: When,
    /// Who said the current statement.
    pub speaker: PartyId,
    /// The current statement's event id.
    pub statement: EventId,
    /// The current statement's words, verbatim. [`PositionsFold`] leaves it
    /// `None` unless asked to fill it (see [`PositionsFold::finish_quoted`]).
    pub quote: Option<String>,
    /// How many of the party's statements on the proposition count (not retracted, within the filter).
    pub statements: u64,
    /// How many times the party's successive sided credences crossed from low to high or back.
    pub flips: u64,
}

/// A fast non-cryptographic hash (the "Fx" multiply-rotate of rustc) for
/// the fold's interners: ids are hashed on every statement replayed, and
/// SipHash's resistance to chosen keys buys nothing in a local fold.
#[derive(Debug, Clone, Copy, Default)]
struct FxHasher(u64);

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            self.add(u64::from_le_bytes(w.try_into().expect("8 bytes")));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// An id's text as an [`Interner`]'s table holds it: inline when it is
/// short (as nearly every id is), so that matching a looked-up id against
/// the table reads the table's slot only, not a second allocation elsewhere
/// on the heap (a cache miss on every statement of a long replay).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum IdKey {
    /// Up to [`IdKey::INLINE`] bytes, zero-padded.
    Inline { len: u8, bytes: [u8; IdKey::INLINE] },
    /// A longer id.
    Heap(Box<str>),
}

impl IdKey {
    const INLINE: usize = 22;

    fn new(id: &str) -> Self {
        if id.len() <= Self::INLINE {
            let mut bytes = [0; Self::INLINE];
            bytes[..id.len()].copy_from_slice(id.as_bytes());
            IdKey::Inline {
                len: id.len() as u8,
                bytes,
            }
        } else {
            IdKey::Heap(id.into())
        }
    }
}

const _: () = assert!(std::mem::size_of::<IdKey>() == 24);

/// Ids of one kind, each given a dense `u32` index in order of first sight.
#[derive(Debug, Clone)]
struct Interner<T> {
    ids: Vec<T>,
    index: HashMap<IdKey, u32, BuildHasherDefault<FxHasher>>,
}

impl<T: Clone + AsRef<str> + Ord> Interner<T> {
    fn new() -> Self {
        Self {
            ids: Vec::new(),
            index: HashMap::default(),
        }
    }

    fn intern(&mut self, id: &T) -> u32 {
        let key = IdKey::new(id.as_ref());
        if let Some(&i) = self.index.get(&key) {
            return i;
        }
        // u32::MAX is never an index, so no pair key is `PairTable::EMPTY`.
        let i = u32::try_from(self.ids.len())
            .ok()
            .filter(|i| *i != u32::MAX)
            .expect("fewer than 2^32 - 1 distinct ids");
        self.ids.push(id.clone());
        self.index.insert(key, i);
        i
    }

    fn get(&self, i: u32) -> &T {
        &self.ids[i as usize]
    }

    /// For each index, its rank when the ids are sorted (ids are distinct).
    fn ranks(&self) -> Vec<u32> {
        let mut by_id: Vec<u32> = (0..self.ids.len() as u32).collect();
        by_id.sort_unstable_by(|a, b| self.get(*a).cmp(self.get(*b)));
        let mut rank = vec![0; by_id.len()];
        for (r, i) in by_id.into_iter().enumerate() {
            rank[i as usize] = r as u32;
        }
        rank
    }
}

/// (proposition, party) indexes to the pair's index: open addressing with
/// linear probing, each slot holding key and value together, so that a
/// lookup costs one cache miss where a general-purpose map costs two
/// (control bytes, then the bucket). Applying a statement does one lookup
/// in a table of up to a few hundred thousand pairs.
#[derive(Debug, Clone)]
struct PairTable {
    /// `(key, pair)`; an unused slot has key [`PairTable::EMPTY`]. A power of two long.
    slots: Vec<(u64, u32)>,
    len: usize,
}

impl PairTable {
    /// The key of an unused slot: no pair has it, as no interned index is `u32::MAX`.
    const EMPTY: u64 = u64::MAX;

    fn new() -> Self {
        Self {
            slots: vec![(Self::EMPTY, 0); 16],
            len: 0,
        }
    }

    fn key(proposition: u32, party: u32) -> u64 {
        (u64::from(proposition) << 32) | u64::from(party)
    }

    /// The first slot to probe for `key` (Fibonacci hashing: the top bits of a multiply).
    fn home(slots: usize, key: u64) -> usize {
        (key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - slots.trailing_zeros())) as usize
    }

    /// The slot holding `key`, or the unused slot where it belongs.
    fn find(slots: &[(u64, u32)], key: u64) -> usize {
        let mask = slots.len() - 1;
        let mut i = Self::home(slots.len(), key);
        while slots[i].0 != key && slots[i].0 != Self::EMPTY {
            i = (i + 1) & mask;
        }
        i
    }

    /// The pair of (`proposition`, `party`), given the index `new_pair()` returns if it has none yet.
    fn pair_or_insert(
        &mut self,
        proposition: u32,
        party: u32,
        new_pair: impl FnOnce() -> u32,
    ) -> u32 {
        let key = Self::key(proposition, party);
        let i = Self::find(&self.slots, key);
        if self.slots[i].0 == key {
            return self.slots[i].1;
        }
        let pair = new_pair();
        self.slots[i] = (key, pair);
        self.len += 1;
        // Keep the table at most 3/4 full so probe runs stay short.
        if self.len * 4 > self.slots.len() * 3 {
            let grown = vec![(Self::EMPTY, 0); self.slots.len() * 2];
            let old = std::mem::replace(&mut self.slots, grown);
            for slot in old.into_iter().filter(|(k, _)| *k != Self::EMPTY) {
                let at = Self::find(&self.slots, slot.0);
                self.slots[at] = slot;
            }
        }
        pair
    }
}

/// One counted statement as the fold keeps it: small and `Copy` (40 bytes),
/// in one vector in seq order.
///
/// Its event id is not kept here but as the key of [`PositionsFold::index`],
/// which is looked through once for the current statements when positions
/// are asked for.
#[derive(Debug, Clone, Copy)]
struct Entry {
    seq: u64,
    /// `said_at` in micros (with `precision`, rebuilds the `When` exactly).
    micros: i64,
    /// The credence; meaningful only when `has_credence`.
    credence: f64,
    /// The speaker's index in the party interner.
    speaker: u32,
    /// The entry's (proposition, party) pair, or [`Entry::RETRACTED`].
    pair: u32,
    stance: Stance,
    precision: Precision,
    has_credence: bool,
    /// `stance.side(credence)`, worked out once.
    side: Option<Side>,
}

const _: () = assert!(std::mem::size_of::<Entry>() == 40);
const _: () = assert!(std::mem::size_of::<(EventId, Loc)>() == 20);

impl Entry {
    /// The `pair` of an entry whose statement was retracted: it no longer counts.
    const RETRACTED: u32 = u32::MAX;
}

/// Where a counted statement's entry is in [`PositionsFold::entries`]
/// (4 bytes, so an index slot is 20).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Loc(u32);

impl Loc {
    /// A slot of [`StatementIndex::in_order`] whose statement was removed.
    const REMOVED: Loc = Loc(u32::MAX);

    fn at(self) -> usize {
        self.0 as usize
    }

    fn is_removed(&self) -> bool {
        *self == Self::REMOVED
    }
}

/// One counted statement as [`PositionsFold::grouped`] orders it: its order
/// key within the pair (said_at, then seq order, which `at` follows), its
/// side for the flip count, and where its full entry is (16 bytes).
#[derive(Debug, Clone, Copy)]
struct Slot {
    micros: i64,
    at: u32,
    side: Option<Side>,
}

impl Slot {
    /// The slot's [`order_key`]: `at` stands for the seq, as entries are kept in seq order.
    fn key(&self) -> (i64, u32) {
        order_key(self.micros, self.at)
    }
}

/// Counted statements by id, to where each entry is kept.
///
/// The ledger gives statements UUID v7 ids, which rise with time, so nearly
/// every id is greater than the last one seen: those are appended to a
/// sorted vector (no hashing, no rehashing as it grows, and memory touched in
/// order) and found again by binary search, which only retractions need. An
/// id out of order (imported with its own id) goes to a hash map beside it.
#[derive(Debug, Clone, Default)]
struct StatementIndex {
    /// Ids in increasing order; a removed statement keeps its slot as [`Loc::REMOVED`].
    in_order: Vec<(EventId, Loc)>,
    /// Ids that arrived out of order.
    others: HashMap<EventId, Loc>,
}

impl StatementIndex {
    /// Where `id` is kept in `in_order`, if it is there and not removed.
    fn find_in_order(&self, id: &EventId) -> Option<usize> {
        let at = self.in_order.binary_search_by(|(i, _)| i.cmp(id)).ok()?;
        (!self.in_order[at].1.is_removed()).then_some(at)
    }

    /// Keeps `id` at `loc`; returns where an earlier statement with the same id was kept.
    fn insert(&mut self, id: EventId, loc: Loc) -> Option<Loc> {
        if self.in_order.last().is_none_or(|(last, _)| *last < id) {
            self.in_order.push((id, loc));
            return None;
        }
        let earlier = self
            .find_in_order(&id)
            .map(|at| std::mem::replace(&mut self.in_order[at].1, Loc::REMOVED));
        self.others.insert(id, loc).or(earlier)
    }

    /// Forgets `id`; returns where it was kept.
    fn remove(&mut self, id: &EventId) -> Option<Loc> {
        if let Some(loc) = self.others.remove(id) {
            return Some(loc);
        }
        let at = self.find_in_order(id)?;
        Some(std::mem::replace(&mut self.in_order[at].1, Loc::REMOVED))
    }

    /// Every kept statement's id and place, in no particular order.
    fn iter(&self) -> impl Iterator<Item = (&EventId, &Loc)> {
        self.in_order
            .iter()
            .filter(|(_, loc)| !loc.is_removed())
            .map(|(id, loc)| (id, loc))
            .chain(self.others.iter())
    }
}

/// Folds records into current positions; see [`Filter`] for time travel.
///
/// Keeps every counted statement as a small fixed-size entry with interned
/// ids, in one vector in seq order (retracted ones are marked when their
/// retraction is applied), plus an index from statement id to its entry, for
/// retractions. Applying a record touches no per-pair state beyond one
/// lookup of the pair's index: the entries are grouped by pair, and put in
/// (said_at, seq) order within it, only when positions are asked for.
///
/// The fold does not keep quotes: [`positions`](Self::positions) and
/// [`finish`](Self::finish) give every [`Position`] with `quote: None`.
/// Callers that show quotes fill them from the log by the seq of each
/// position's current statement: [`positions_with_seqs`](Self::positions_with_seqs)
/// gives those seqs, and [`finish_quoted`](Self::finish_quoted) /
/// [`positions_quoted`](Self::positions_quoted) read the records through a
/// caller-supplied lookup (e.g. `|seq| ledger.get(seq)`), so the fold itself
/// stays pure.
#[derive(Debug, Clone)]
pub struct PositionsFold {
    filter: Filter,
    only: Option<PropositionId>,
    propositions: Interner<PropositionId>,
    parties: Interner<PartyId>,
    pair_of: PairTable,
    /// Each pair's (proposition, party) interned indexes, by pair index.
    pairs: Vec<(u32, u32)>,
    /// Every counted statement, in seq order.
    entries: Vec<Entry>,
    /// Every counted statement's id, to where its entry is kept.
    index: StatementIndex,
    /// Counted statements whose id a later statement reused (never in a
    /// ledger, whose ids are unique): the index names only the later one.
    shadowed: Vec<(EventId, Loc)>,
}

impl PositionsFold {
    /// A fold counting what `filter` admits, on every proposition or `only` one.
    pub fn new(filter: Filter, only: Option<PropositionId>) -> Self {
        Self {
            filter,
            only,
            propositions: Interner::new(),
            parties: Interner::new(),
            pair_of: PairTable::new(),
            pairs: Vec::new(),
            entries: Vec::new(),
            index: StatementIndex::default(),
            shadowed: Vec::new(),
        }
    }

    /// Takes in the next record of the log (records must come in seq order).
    pub fn apply(&mut self, rec: &Recorded) {
        if !self.filter.admits_record(rec) {
            return;
        }
        match &rec.event {
            Event::StatementRecorded(s) => {
                if self.only.as_ref().is_some_and(|p| *p != s.proposition)
                    || !self.filter.admits_said_at(&s.said_at)
                {
                    return;
                }
                let proposition = self.propositions.intern(&s.proposition);
                let party = self.parties.intern(&s.party);
                // Most statements are said by the party itself: no second lookup.
                let speaker = if s.speaker == s.party {
                    party
                } else {
                    self.parties.intern(&s.speaker)
                };
                let pairs = &mut self.pairs;
                let pair = self.pair_of.pair_or_insert(proposition, party, || {
                    // u32::MAX marks a retracted entry (`Entry::RETRACTED`), never a pair.
                    let i = u32::try_from(pairs.len())
                        .ok()
                        .filter(|i| *i != Entry::RETRACTED)
                        .expect("fewer than 2^32 - 1 pairs");
                    pairs.push((proposition, party));
                    i
                });
                // u32::MAX marks a removed index slot (`Loc::REMOVED`), never an entry.
                let at = u32::try_from(self.entries.len())
                    .ok()
                    .filter(|at| Loc(*at) != Loc::REMOVED)
                    .expect("fewer than 2^32 - 1 counted statements");
                self.entries.push(Entry {
                    seq: rec.seq,
                    micros: s.said_at.micros(),
                    credence: s.credence.unwrap_or(0.0),
                    speaker,
                    pair,
                    stance: s.stance,
                    precision: s.said_at.precision(),
                    has_credence: s.credence.is_some(),
                    side: s.stance.side(s.credence),
                });
                if let Some(old) = self.index.insert(rec.event_id, Loc(at)) {
                    self.shadowed.push((rec.event_id, old));
                }
            }
            Event::StatementRetracted(r) => {
                if let Some(loc) = self.index.remove(&r.statement) {
                    self.entries[loc.at()].pair = Entry::RETRACTED;
                }
            }
            Event::PartyRegistered(_)
            | Event::PropositionOpened(_)
            | Event::PropositionResolved(_) => {}
        }
    }

    /// The counted entries as [`Slot`]s grouped by pair, each group in
    /// (said_at, seq) order, with each group's pair and range in `slots`, the
    /// groups in (proposition, party) order. Two passes over the entries (a
    /// count, then a scatter in seq order) and a sort of any group that a
    /// backdated statement left out of order.
    fn grouped(&self) -> (Vec<Slot>, Vec<(u32, std::ops::Range<usize>)>) {
        let mut counts = vec![0usize; self.pairs.len()];
        for e in &self.entries {
            if e.pair != Entry::RETRACTED {
                counts[e.pair as usize] += 1;
            }
        }
        let proposition_rank = self.propositions.ranks();
        let party_rank = self.parties.ranks();
        let mut order: Vec<(u32, u32, u32)> = self
            .pairs
            .iter()
            .enumerate()
            .filter(|(i, _)| counts[*i] > 0)
            .map(|(i, &(proposition, party))| {
                (
                    proposition_rank[proposition as usize],
                    party_rank[party as usize],
                    i as u32,
                )
            })
            .collect();
        order.sort_unstable();
        // From here `next[pair]` (the counts, reused) is where the pair's
        // next slot goes, starting at its group's start.
        let mut next = counts;
        let mut groups = Vec::with_capacity(order.len());
        let mut start = 0;
        for &(_, _, pair) in &order {
            let end = start + next[pair as usize];
            next[pair as usize] = start;
            groups.push((pair, start..end));
            start = end;
        }
        let empty = Slot {
            micros: 0,
            at: 0,
            side: None,
        };
        let mut slots = vec![empty; start];
        for (at, e) in self.entries.iter().enumerate() {
            if e.pair != Entry::RETRACTED {
                let slot = &mut next[e.pair as usize];
                slots[*slot] = Slot {
                    micros: e.micros,
                    at: at as u32,
                    side: e.side,
                };
                *slot += 1;
            }
        }
        for (_, range) in &groups {
            let group = &mut slots[range.clone()];
            // Statements come in seq order; only a backdated one leaves a group unsorted.
            if !group.is_sorted_by_key(Slot::key) {
                group.sort_unstable_by_key(Slot::key);
            }
        }
        (slots, groups)
    }

    /// The positions so far, each with the seq of its current statement (where
    /// its quote is in the log), ordered by (proposition, party); quotes are `None`.
    pub fn positions_with_seqs(&self) -> Vec<(u64, Position)> {
        let (slots, groups) = self.grouped();
        let mut current = Vec::with_capacity(groups.len());
        let mut positions = Vec::with_capacity(groups.len());
        for (_, range) in &groups {
            if let Some((at, position)) = self.position(&slots[range.clone()]) {
                current.push(at);
                positions.push(position);
            }
        }
        self.fill_statements(&current, &mut positions);
        positions
    }

    /// Fills in each position's `statement`, the event id of its current
    /// statement, kept in `entries` at `current[i]` for `positions[i]`: found
    /// in one pass over the index.
    fn fill_statements(&self, current: &[u32], positions: &mut [(u64, Position)]) {
        // A bit per entry: is it some position's current statement? And each pair's position.
        let mut is_current = vec![0u64; self.entries.len().div_ceil(64)];
        let mut position_of_pair = vec![0u32; self.pairs.len()];
        for (i, &at) in current.iter().enumerate() {
            let at = at as usize;
            is_current[at / 64] |= 1 << (at % 64);
            position_of_pair[self.entries[at].pair as usize] = i as u32;
        }
        for (id, loc) in self
            .index
            .iter()
            .chain(self.shadowed.iter().map(|(i, l)| (i, l)))
        {
            let at = loc.at();
            if is_current[at / 64] & (1 << (at % 64)) != 0 {
                let pair = self.entries[at].pair;
                positions[position_of_pair[pair as usize] as usize]
                    .1
                    .statement = *id;
            }
        }
    }

    /// One pair's position from its group of slots, in order: the [`tally`]
    /// of its entries, as [`crate::summarize`] makes it, with where its
    /// current statement's entry is and that statement's seq. Its `statement`
    /// is left for [`fill_statements`](Self::fill_statements). `None` for an
    /// empty group (never made).
    fn position(&self, group: &[Slot]) -> Option<(u32, (u64, Position))> {
        let t = tally(group, |slot| slot.side)?;
        let current = &self.entries[t.current.at as usize];
        let (proposition, party) = self.pairs[current.pair as usize];
        let position = Position {
            proposition: self.propositions.get(proposition).clone(),
            party: self.parties.get(party).clone(),
            stance: current.stance,
            credence: current.has_credence.then_some(current.credence),
            said_at: When::from_parts(current.micros, current.precision),
            speaker: self.parties.get(current.speaker).clone(),
            statement: EventId::from_bytes([0; 16]),
            quote: None,
            statements: t.statements,
            flips: t.flips.count,
        };
        Some((t.current.at, (current.seq, position)))
    }

    /// The positions so far, ordered by (proposition, party), with `quote: None`.
    pub fn positions(&self) -> Vec<Position> {
        self.positions_with_seqs()
            .into_iter()
            .map(|(_, p)| p)
            .collect()
    }

    /// The positions after every record, ordered by (proposition, party), with `quote: None`.
    pub fn finish(self) -> Vec<Position> {
        self.positions()
    }

    /// The positions so far with quotes filled from `record_at(seq)`, the log's record at a seq.
    ///
    /// Called once per position with the seq of its current statement; a
    /// missing record, or one that is not that statement, leaves the quote
    /// `None`. The first error is returned as is.
    pub fn positions_quoted<E>(
        &self,
        mut record_at: impl FnMut(u64) -> Result<Option<Recorded>, E>,
    ) -> Result<Vec<Position>, E> {
        self.fill_quotes(|seq, statement| {
            Ok(record_at(seq)?.and_then(|rec| match rec.event {
                Event::StatementRecorded(s) if rec.event_id == *statement => s.quote,
                _ => None,
            }))
        })
    }

    /// The positions after every record with quotes filled from `record_at(seq)`; see [`positions_quoted`](Self::positions_quoted).
    pub fn finish_quoted<E>(
        self,
        record_at: impl FnMut(u64) -> Result<Option<Recorded>, E>,
    ) -> Result<Vec<Position>, E> {
        self.positions_quoted(record_at)
    }

    fn fill_quotes<E>(
        &self,
        mut quote_at: impl FnMut(u64, &EventId) -> Result<Option<String>, E>,
    ) -> Result<Vec<Position>, E> {
        self.positions_with_seqs()
            .into_iter()
            .map(|(seq, mut p)| {
                p.quote = quote_at(seq, &p.statement)?;
                Ok(p)
            })
            .collect()
    }
}

/// Folds `records` into positions in one go, quotes included (a convenience over [`PositionsFold`]).
pub fn positions<'a>(
    records: impl IntoIterator<Item = &'a Recorded>,
    filter: Filter,
    only: Option<PropositionId>,
) -> Vec<Position> {
    let mut fold = PositionsFold::new(filter, only);
    // The records are the caller's; keep a reference to each quoted statement
    // to fill the quotes from at the end.
    let mut quoted: Vec<(u64, EventId, &'a str)> = Vec::new();
    for r in records {
        fold.apply(r);
        if let Event::StatementRecorded(s) = &r.event
            && let Some(q) = &s.quote
        {
            quoted.push((r.seq, r.event_id, q));
        }
    }
    if !quoted.is_sorted_by_key(|(seq, id, _)| (*seq, *id)) {
        quoted.sort_unstable_by_key(|(seq, id, _)| (*seq, *id));
    }
    let Ok(positions) = fold.fill_quotes(|seq, statement| {
        Ok::<_, Infallible>(
            quoted
                .binary_search_by_key(&(seq, *statement), |(seq, id, _)| (*seq, *id))
                .ok()
                .map(|i| quoted[i].2.to_owned()),
        )
    });
    positions
}
