//! Reading a batch's keys ahead, together, on a store whose every read is a
//! round trip to a server ([`Storage::reads_are_round_trips`]: PostgreSQL).
//!
//! Building a batch reads, event by event, the keys its checks and indexes
//! need: each stream's head and index chunk, each proposition's resolution
//! mark, each (proposition, party)'s kept summary, the head. On sled each
//! read is a lookup in memory; on a server, one round trip each, ~3.7 per
//! event (docs/benchmarks.md). So before a batch is built the engine names
//! the keys it can foresee from the requests alone, asks the store for them
//! in one read ([`Storage::read_ahead`]), then for the keys their values
//! lead to (a head's record, a stream's current chunk, an event id's record)
//! in a second, and the store answers the build's reads of them, and of any
//! other key it reads meanwhile, from what it kept ([`ReadMemo`]) until the
//! build ends.
//!
//! The keys named are a hint, never a promise: a key not foreseen is read
//! as before, one round trip; a key foreseen but never read costs a row.
//! What the store keeps is what it held when read, so a read-ahead must end
//! before anything this thread writes: a build writes nothing (its writes go
//! to a [`crate::WriteSet`]), and the one step that writes under it (undoing
//! another process's import cut short) ends it first. This module only
//! chooses keys and holds what a store kept; it reads and writes nothing of
//! its own.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Bound;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::ThreadId;

use onrecord_core::validate::Draft;
use onrecord_core::{PartyId, StreamId};

use crate::keys::{self, MetaKey};
use crate::storage::{Entry, Storage};
use crate::stream_index::StreamLayout;
use crate::{AppendRequest, Ledger, StoreError};

/// A span of keys a build will look into from one end (a stream's last
/// index chunk, the last record, a pair's kept entries on either side of a
/// backdated statement): the `limit` entries in `[start, end)` nearest
/// `end` when `descending`, else nearest `start`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// The span's first key (included).
    pub start: Vec<u8>,
    /// The key it ends before (excluded).
    pub end: Vec<u8>,
    /// Whether to take the entries nearest `end` (else nearest `start`).
    pub descending: bool,
    /// How many entries to take at most (at least 1).
    pub limit: usize,
}

impl Span {
    /// Reads the span from `store` key by key (for a store that has no
    /// single query for it; PostgreSQL reads all of a read-ahead's spans in
    /// one): its entries in the span's order, at most `limit` of them read.
    pub fn read_from(&self, store: &dyn Storage) -> Result<Vec<Entry>, StoreError> {
        let limit = self.limit.max(1);
        let start = Bound::Included(self.start.as_slice());
        if !self.descending {
            return store
                .range(start, Bound::Excluded(&self.end))
                .take(limit)
                .collect();
        }
        let mut found: Vec<Entry> = Vec::with_capacity(limit);
        while found.len() < limit {
            let end = match found.last() {
                Some((key, _)) => Bound::Excluded(key.as_slice()),
                None => Bound::Excluded(self.end.as_slice()),
            };
            match store.last(start, end)? {
                Some(entry) => found.push(entry),
                None => break,
            }
        }
        Ok(found)
    }
}

/// What a read of one [`Span`] found.
#[derive(Debug)]
struct KeptSpan {
    /// The entries found, in key order.
    entries: Vec<Entry>,
    /// The keys whose presence the read settles: every key of the span when
    /// it found fewer than its limit, else those from its farthest entry
    /// found to its near end.
    known: (Bound<Vec<u8>>, Bound<Vec<u8>>),
}

impl KeptSpan {
    fn of(span: Span, mut found: Vec<Entry>) -> Self {
        if span.descending {
            found.reverse();
        }
        let whole = found.len() < span.limit.max(1);
        let known = match (whole, span.descending) {
            (true, _) => (Bound::Included(span.start), Bound::Excluded(span.end)),
            (false, true) => (
                Bound::Included(found[0].0.clone()),
                Bound::Excluded(span.end),
            ),
            (false, false) => (
                Bound::Included(span.start),
                Bound::Included(found[found.len() - 1].0.clone()),
            ),
        };
        Self {
            entries: found,
            known,
        }
    }

    /// Whether the read settles every key in `(start, end)`.
    fn settles(&self, start: Bound<&[u8]>, end: Bound<&[u8]>) -> bool {
        lower_within(&self.known.0, start) && upper_within(&self.known.1, end)
    }

    /// The entries found in `(start, end)`, in key order.
    fn within<'a>(
        &'a self,
        start: Bound<&'a [u8]>,
        end: Bound<&'a [u8]>,
    ) -> impl DoubleEndedIterator<Item = &'a Entry> + 'a {
        self.entries
            .iter()
            .filter(move |(k, _)| above(start, k) && below(end, k))
    }
}

/// Whether `key` is at or past the lower bound `start`.
fn above(start: Bound<&[u8]>, key: &[u8]) -> bool {
    match start {
        Bound::Included(s) => key >= s,
        Bound::Excluded(s) => key > s,
        Bound::Unbounded => true,
    }
}

/// Whether `key` is before the upper bound `end`.
fn below(end: Bound<&[u8]>, key: &[u8]) -> bool {
    match end {
        Bound::Included(e) => key <= e,
        Bound::Excluded(e) => key < e,
        Bound::Unbounded => true,
    }
}

/// Whether every key at or past the lower bound `query` is at or past `known`.
fn lower_within(known: &Bound<Vec<u8>>, query: Bound<&[u8]>) -> bool {
    match (known, query) {
        (Bound::Unbounded, _) => true,
        (_, Bound::Unbounded) => false,
        (Bound::Included(k), Bound::Included(q) | Bound::Excluded(q)) => q >= k.as_slice(),
        (Bound::Excluded(k), Bound::Included(q)) => q > k.as_slice(),
        (Bound::Excluded(k), Bound::Excluded(q)) => q >= k.as_slice(),
    }
}

/// Whether every key before the upper bound `query` is before `known`.
fn upper_within(known: &Bound<Vec<u8>>, query: Bound<&[u8]>) -> bool {
    match (known, query) {
        (Bound::Unbounded, _) => true,
        (_, Bound::Unbounded) => false,
        (Bound::Included(k) | Bound::Excluded(k), Bound::Excluded(q)) => q <= k.as_slice(),
        (Bound::Included(k), Bound::Included(q)) => q <= k.as_slice(),
        (Bound::Excluded(k), Bound::Included(q)) => q < k.as_slice(),
    }
}

/// How many spans starting at or before a range's start a recall looks at:
/// the spans a build reads start at a pair's first key or at the range it
/// asks about, so the nearest few are the ones that can answer.
const SPANS_LOOKED_AT: usize = 8;

/// One thread's kept reads.
#[derive(Debug, Default)]
struct Kept {
    /// Each key read, with its value (`None`: absent).
    keys: HashMap<Vec<u8>, Option<Vec<u8>>>,
    /// The spans read, by their first key.
    spans: BTreeMap<Vec<u8>, Vec<KeptSpan>>,
}

impl Kept {
    /// The spans that may settle a range starting at `start`: those that start at or before it.
    fn spans_from<'a>(&'a self, start: Bound<&[u8]>) -> impl Iterator<Item = &'a KeptSpan> + 'a {
        let upto = match start {
            Bound::Included(s) | Bound::Excluded(s) => Bound::Included(s.to_vec()),
            Bound::Unbounded => Bound::Excluded(Vec::new()),
        };
        self.spans
            .range((Bound::Unbounded, upto))
            .rev()
            .take(SPANS_LOOKED_AT)
            .flat_map(|(_, spans)| spans)
    }
}

/// Where a range read goes on after what a read-ahead kept of it.
#[derive(Debug, PartialEq, Eq)]
pub enum RangeRest {
    /// Nowhere: the kept entries are all of the range.
    Nothing,
    /// To the store, from this bound on (to the range's end).
    From(Bound<Vec<u8>>),
}

/// What a store read ahead for each thread that is reading ahead: kept for
/// that thread's reads only (other threads read the store), until it ends.
/// For a backend to embed ([`Storage::read_ahead`]); its size is the keys
/// and spans of the one batch being built, never the ledger's.
#[derive(Debug, Default)]
pub struct ReadMemo {
    /// How many threads are reading ahead: with none, a read costs one atomic load here.
    reading: AtomicUsize,
    kept: Mutex<HashMap<ThreadId, Kept>>,
}

impl ReadMemo {
    fn kept(&self) -> std::sync::MutexGuard<'_, HashMap<ThreadId, Kept>> {
        self.kept.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on this thread's kept reads, if it is reading ahead.
    fn with_mine<T>(&self, f: impl FnOnce(&Kept) -> Option<T>) -> Option<T> {
        if self.reading.load(Ordering::Acquire) == 0 {
            return None;
        }
        f(self.kept().get(&std::thread::current().id())?)
    }

    /// What this thread's read-ahead holds for `key`: `None` when it holds
    /// nothing (the store is to be read), `Some(None)` when the key was read
    /// and is absent.
    pub fn recall(&self, key: &[u8]) -> Option<Option<Vec<u8>>> {
        self.with_mine(|kept| {
            if let Some(value) = kept.keys.get(key) {
                return Some(value.clone());
            }
            let at = Bound::Included(key);
            let span = kept.spans_from(at).find(|s| s.settles(at, at))?;
            Some(span.within(at, at).next().map(|(_, v)| v.clone()))
        })
    }

    /// What this thread's read-ahead settles of [`Storage::last`] over
    /// `(start, end)`: `None` when it cannot (the store is to be read),
    /// `Some(None)` when the range holds no key.
    pub fn recall_last(&self, start: Bound<&[u8]>, end: Bound<&[u8]>) -> Option<Option<Entry>> {
        self.with_mine(|kept| {
            kept.spans_from(start).find_map(|span| {
                match span.within(start, end).next_back() {
                    // The last found is the range's last if nothing past it is unknown.
                    Some((key, value)) => span
                        .settles(Bound::Included(key), end)
                        .then(|| Some((key.clone(), value.clone()))),
                    None => span.settles(start, end).then_some(None),
                }
            })
        })
    }

    /// What this thread's read-ahead holds of [`Storage::range`] over
    /// `(start, end)` from its start on: the entries it settles, in key
    /// order, and where the read goes on; `None` when it holds nothing of
    /// the range's start.
    pub fn recall_range(
        &self,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
    ) -> Option<(Vec<Entry>, RangeRest)> {
        self.with_mine(|kept| {
            let span = kept
                .spans_from(start)
                .find(|s| lower_within(&s.known.0, start))?;
            let found = span.within(start, end).cloned().collect();
            if span.settles(start, end) {
                return Some((found, RangeRest::Nothing));
            }
            let rest = match &span.known.1 {
                Bound::Included(k) => Bound::Excluded(k.clone()),
                Bound::Excluded(k) => Bound::Included(k.clone()),
                Bound::Unbounded => return Some((found, RangeRest::Nothing)),
            };
            if !above(start, bound_key(&rest)?) {
                return None; // the span ends before the range starts
            }
            Some((found, RangeRest::From(rest)))
        })
    }

    /// Keeps what a read of `key` found, if this thread is reading ahead.
    pub fn keep(&self, key: &[u8], value: Option<&[u8]>) {
        if self.reading.load(Ordering::Acquire) == 0 {
            return;
        }
        if let Some(kept) = self.kept().get_mut(&std::thread::current().id()) {
            kept.keys.insert(key.to_vec(), value.map(<[u8]>::to_vec));
        }
    }

    /// Starts this thread's read-ahead, or adds to it: `entries` are what
    /// the store held for each key read (`None`: absent), `spans` each span
    /// read with the entries found in it, in the span's order.
    pub fn begin(
        &self,
        entries: impl IntoIterator<Item = (Vec<u8>, Option<Vec<u8>>)>,
        spans: impl IntoIterator<Item = (Span, Vec<Entry>)>,
    ) {
        let mut kept = self.kept();
        let thread = std::thread::current().id();
        let mine = kept.entry(thread).or_insert_with(|| {
            self.reading.fetch_add(1, Ordering::AcqRel);
            Kept::default()
        });
        mine.keys.extend(entries);
        for (span, found) in spans {
            let start = span.start.clone();
            mine.spans
                .entry(start)
                .or_default()
                .push(KeptSpan::of(span, found));
        }
    }

    /// Ends this thread's read-ahead: its reads go to the store again.
    pub fn end(&self) {
        if self.kept().remove(&std::thread::current().id()).is_some() {
            self.reading.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// The key of a bound, if it has one.
fn bound_key(bound: &Bound<Vec<u8>>) -> Option<&[u8]> {
    match bound {
        Bound::Included(k) | Bound::Excluded(k) => Some(k),
        Bound::Unbounded => None,
    }
}

/// A read-ahead in progress on a store: ended when dropped.
pub(crate) struct ReadingAhead<'a> {
    store: &'a dyn Storage,
}

impl Drop for ReadingAhead<'_> {
    fn drop(&mut self) {
        self.store.end_read_ahead();
    }
}

/// Where the value of a key read ahead leads.
#[derive(Clone, Copy)]
enum Leads {
    /// Nowhere further.
    Nowhere,
    /// A seq: to that record (an event id's).
    Record,
    /// A (proposition, party)'s kept summary: to the kept entries on either
    /// side of each of the batch's statements on it said before its current
    /// one (by [`Leads::Summary`]'s index into [`KeysAhead::pairs`]).
    Summary(usize),
}

/// How many kept entries a read-ahead takes on each side of a backdated
/// statement: a neighbour without a side (even chance, declined, retracted)
/// is stepped over, and a few cover the usual run of them.
const NEIGHBOURS_AHEAD: usize = 4;

/// The keys and spans to read ahead, each key once, with where its value leads.
#[derive(Default)]
struct KeysAhead {
    keys: Vec<Vec<u8>>,
    leads: Vec<Leads>,
    seen: HashSet<Vec<u8>>,
    spans: Vec<Span>,
    /// Each (proposition, party) a statement names, with when each of the
    /// batch's statements on it was said (by [`Leads::Summary`]'s index).
    pairs: Vec<(Vec<u8>, Vec<i64>)>,
    /// Where each pair's summary key is in `pairs`.
    pair_index: HashMap<Vec<u8>, usize>,
    /// The seq the batch's records follow: the store holds no kept entry
    /// past it that the batch's statements can sort after.
    after: u64,
}

/// What the next read ahead asks for.
#[derive(Default)]
struct Ahead {
    keys: Vec<Vec<u8>>,
    spans: Vec<Span>,
}

impl KeysAhead {
    fn add(&mut self, key: Vec<u8>, leads: Leads) {
        if self.seen.insert(key.clone()) {
            self.keys.push(key);
            self.leads.push(leads);
        }
    }

    /// A stream's head, and in a chunked index its last chunk, which the
    /// stream's next revision goes into unless it starts a new one.
    fn add_stream_head(&mut self, stream: StreamId, chunked: bool) {
        let key = keys::stream_head(&stream);
        if self.seen.contains(&key) {
            return;
        }
        self.add(key, Leads::Nowhere);
        if chunked {
            let start = keys::stream_chunk_prefix(&stream);
            self.spans.push(Span {
                end: keys::prefix_end(&start),
                start,
                descending: true,
                limit: 1,
            });
        }
    }

    /// A statement on a (proposition, party) said at `said_at`: the pair's summary.
    fn add_statement(&mut self, summary: Vec<u8>, entries: Vec<u8>, said_at: i64) {
        match self.pair_index.get(&summary) {
            Some(&i) => self.pairs[i].1.push(said_at),
            None => {
                let i = self.pairs.len();
                self.pairs.push((entries, vec![said_at]));
                self.pair_index.insert(summary.clone(), i);
                self.add(summary, Leads::Summary(i));
            }
        }
    }

    /// The keys and spans a build of `requests` will read that the requests
    /// name: when `refresh`, the head, the last record (the head's, which
    /// the writer checks it against) and the import mark first (the writer
    /// reads the head before it builds), then the views mark, and each
    /// request's event id, streams' heads and last index chunks, resolution
    /// and retraction marks and kept summary.
    fn of(
        requests: &[AppendRequest],
        refresh: bool,
        shared: bool,
        chunked: bool,
        speaking_for: impl Fn(&PartyId) -> Option<PartyId>,
        after: u64,
    ) -> Self {
        let mut ahead = Self {
            after,
            ..Self::default()
        };
        if refresh {
            ahead.add(keys::meta(MetaKey::Head), Leads::Nowhere);
            ahead.spans.push(Span {
                start: vec![keys::RECORD],
                end: vec![keys::RECORD + 1],
                descending: true,
                limit: 1,
            });
        }
        if refresh || shared {
            ahead.add(keys::meta(MetaKey::Import), Leads::Nowhere);
        }
        ahead.add(keys::meta(MetaKey::Views), Leads::Nowhere);
        for request in requests {
            if let Some(id) = &request.event_id {
                ahead.add(keys::event(id).to_vec(), Leads::Record);
            }
            match &request.draft {
                Draft::Party(p) => ahead.add_stream_head(StreamId::Party(p.id.clone()), chunked),
                Draft::Proposition(p) => {
                    ahead.add_stream_head(StreamId::Proposition(p.id.clone()), chunked)
                }
                Draft::Statement(s) => {
                    ahead.add_stream_head(StreamId::Proposition(s.proposition.clone()), chunked);
                    ahead.add(keys::resolved(&s.proposition), Leads::Nowhere);
                    // A statement naming only its speaker states the position
                    // of whom the speaker speaks for.
                    let party = s.party.clone().or_else(|| {
                        let speaker = s.speaker.as_ref()?;
                        Some(speaking_for(speaker).unwrap_or_else(|| speaker.clone()))
                    });
                    if let Some(party) = party {
                        ahead.add_stream_head(StreamId::Party(party.clone()), chunked);
                        ahead.add_statement(
                            keys::position(&s.proposition, &party),
                            keys::entry_prefix(&s.proposition, &party),
                            s.said_at.micros(),
                        );
                    }
                }
                Draft::Retraction(r) => {
                    ahead.add(keys::event(&r.statement).to_vec(), Leads::Record);
                    ahead.add(keys::retracted(&r.statement).to_vec(), Leads::Nowhere);
                }
                Draft::Resolution(r) => {
                    ahead.add_stream_head(StreamId::Proposition(r.proposition.clone()), chunked);
                    ahead.add(keys::resolved(&r.proposition), Leads::Nowhere);
                }
            }
        }
        ahead
    }

    /// The keys and spans the values read for these keys lead to.
    fn next(&self, values: &[Option<Vec<u8>>]) -> Ahead {
        let mut next = Ahead::default();
        let mut seen = HashSet::new();
        for (leads, value) in self.leads.iter().zip(values) {
            match (*leads, value) {
                (Leads::Nowhere, _) | (Leads::Record, None) => {}
                (Leads::Record, Some(value)) => {
                    // Two event ids may lead to one record.
                    if value.len() == 8 {
                        let key = keys::record(keys::be_u64(value)).to_vec();
                        if seen.insert(key.clone()) {
                            next.keys.push(key);
                        }
                    }
                }
                (Leads::Summary(i), value) => {
                    // The latest said so far: the kept current statement's
                    // time, then each of the batch's statements in turn.
                    let mut latest = match value {
                        Some(bytes) => match crate::views::current_said_at(bytes) {
                            Some(at) => at,
                            None => continue,
                        },
                        None => i64::MIN,
                    };
                    let (prefix, said) = &self.pairs[i];
                    let end = keys::prefix_end(prefix);
                    for &at in said {
                        if at >= latest {
                            latest = at;
                            continue;
                        }
                        // Said before the pair's current statement: its kept
                        // neighbours on either side are looked for. Its key
                        // sorts after every kept entry said when it was
                        // (their seqs are lower), before every later one.
                        next.spans.push(Span {
                            start: prefix.clone(),
                            end: keys::entry_under(prefix, at, u64::MAX),
                            descending: true,
                            limit: NEIGHBOURS_AHEAD,
                        });
                        // Kept entries said that day sort before it (their
                        // seqs are lower): the later ones start past `after`.
                        next.spans.push(Span {
                            start: keys::entry_under(prefix, at, self.after.saturating_add(1)),
                            end: end.clone(),
                            descending: false,
                            limit: NEIGHBOURS_AHEAD,
                        });
                    }
                }
            }
        }
        next
    }
}

/// Reads ahead what building `requests` will read, on a store whose reads
/// are round trips (`None`, reading nothing, on any other): the keys and
/// spans the requests name in one read, the records and kept entries their
/// values lead to in a second, when there are any.
/// `refresh`: the writer reads the head before it builds; `after`: the seq
/// the batch's records are to follow, as far as the writer knows.
pub(crate) fn read_ahead<'a>(
    ledger: &'a Ledger,
    requests: &[AppendRequest],
    refresh: bool,
    after: u64,
) -> Result<Option<ReadingAhead<'a>>, StoreError> {
    let store = ledger.tree();
    if !store.reads_are_round_trips() {
        return Ok(None);
    }
    let ahead = KeysAhead::of(
        requests,
        refresh,
        store.shared_writers(),
        ledger.layout() == StreamLayout::Chunked,
        |speaker| ledger.known_speaking_for(speaker),
        after,
    );
    let reading = ReadingAhead { store };
    let values = store.read_ahead(&ahead.keys, &ahead.spans)?;
    let next = ahead.next(&values);
    if !next.keys.is_empty() || !next.spans.is_empty() {
        store.read_ahead(&next.keys, &next.spans)?;
    }
    Ok(Some(reading))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_recalls_only_what_it_read_ahead_and_only_until_it_ends() {
        let memo = ReadMemo::default();
        assert_eq!(
            memo.recall(b"k"),
            None,
            "nothing is kept before a read-ahead"
        );
        memo.keep(b"k", Some(b"v"));
        assert_eq!(
            memo.recall(b"k"),
            None,
            "a read outside a read-ahead is not kept"
        );
        memo.begin(
            [
                (b"k".to_vec(), Some(b"v".to_vec())),
                (b"gone".to_vec(), None),
            ],
            [],
        );
        assert_eq!(memo.recall(b"k"), Some(Some(b"v".to_vec())));
        assert_eq!(
            memo.recall(b"gone"),
            Some(None),
            "an absent key is kept as absent"
        );
        memo.keep(b"later", Some(b"w"));
        assert_eq!(memo.recall(b"later"), Some(Some(b"w".to_vec())));
        std::thread::scope(|s| {
            s.spawn(|| assert_eq!(memo.recall(b"k"), None, "another thread reads the store"));
        });
        memo.end();
        assert_eq!(memo.recall(b"k"), None);
        assert_eq!(memo.reading.load(Ordering::Acquire), 0);
    }

    /// The store's true answers, from a map.
    fn truth_last(
        map: &std::collections::BTreeMap<Vec<u8>, Vec<u8>>,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
    ) -> Option<Entry> {
        map.iter()
            .rfind(|(k, _)| above(start, k) && below(end, k))
            .map(|(k, v)| (k.clone(), v.clone()))
    }

    fn as_ref(b: &Bound<Vec<u8>>) -> Bound<&[u8]> {
        match b {
            Bound::Included(k) => Bound::Included(k.as_slice()),
            Bound::Excluded(k) => Bound::Excluded(k.as_slice()),
            Bound::Unbounded => Bound::Unbounded,
        }
    }

    #[test]
    fn what_spans_settle_always_agrees_with_the_store_they_were_read_from() {
        // Random keys over a small alphabet, random spans read from them,
        // random point, last and range reads: every answer the memo gives
        // is the store's; where it cannot know, it says so.
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let mut answered = 0;
        for _ in 0..300 {
            let key = |r: u64| vec![b'a' + (r / 10) as u8, b'0' + (r % 10) as u8];
            let map: std::collections::BTreeMap<Vec<u8>, Vec<u8>> = (0..next(30))
                .map(|_| {
                    let r = next(60);
                    (key(r), vec![r as u8])
                })
                .collect();
            let store = crate::MemoryStorage::from_entries("memory", map.clone());
            let memo = ReadMemo::default();
            let mut spans = Vec::new();
            for _ in 0..1 + next(3) {
                let (a, b) = (next(60), next(60));
                let span = Span {
                    start: key(a.min(b)),
                    end: key(a.max(b) + 1),
                    descending: next(2) == 0,
                    limit: 1 + next(4) as usize,
                };
                let found = span.read_from(&store).unwrap();
                spans.push((span, found));
            }
            memo.begin([], spans);
            let bound = |r: u64, kind: u64| match kind {
                0 => Bound::Included(key(r)),
                1 => Bound::Excluded(key(r)),
                _ => Bound::Unbounded,
            };
            for _ in 0..40 {
                let k = key(next(60));
                if let Some(v) = memo.recall(&k) {
                    assert_eq!(v, map.get(&k).cloned(), "point {k:?}");
                    answered += 1;
                }
                let (start, end) = (bound(next(60), next(3)), bound(next(60), next(3)));
                let (s, e) = (as_ref(&start), as_ref(&end));
                if let Some(last) = memo.recall_last(s, e) {
                    assert_eq!(last, truth_last(&map, s, e), "last {start:?} {end:?}");
                    answered += 1;
                }
                if let Some((kept, rest)) = memo.recall_range(s, e) {
                    let mut got = kept;
                    if let RangeRest::From(from) = rest {
                        got.extend(
                            map.iter()
                                .filter(|(k, _)| above(as_ref(&from), k) && below(e, k))
                                .map(|(k, v)| (k.clone(), v.clone())),
                        );
                    }
                    let want: Vec<Entry> = map
                        .iter()
                        .filter(|(k, _)| above(s, k) && below(e, k))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    assert_eq!(got, want, "range {start:?} {end:?}");
                    answered += 1;
                }
            }
            memo.end();
        }
        assert!(answered > 1_000, "the memo answered only {answered} reads");
    }
}
