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

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::ThreadId;

use onrecord_core::StreamId;
use onrecord_core::validate::Draft;

use crate::keys::{self, MetaKey};
use crate::ledger::Head;
use crate::storage::Storage;
use crate::stream_index::{CHUNK, StreamLayout};
use crate::{AppendRequest, StoreError};

/// One thread's kept reads: each key's value, `None` when it is absent.
type Kept = HashMap<Vec<u8>, Option<Vec<u8>>>;

/// What a store read ahead for each thread that is reading ahead: kept for
/// that thread's reads only (other threads read the store), until it ends.
/// For a backend to embed ([`Storage::read_ahead`]); its size is the keys of
/// the one batch being built, never the ledger's.
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

    /// What this thread's read-ahead holds for `key`: `None` when it holds
    /// nothing (the store is to be read), `Some(None)` when the key was read
    /// and is absent.
    pub fn recall(&self, key: &[u8]) -> Option<Option<Vec<u8>>> {
        if self.reading.load(Ordering::Acquire) == 0 {
            return None;
        }
        self.kept()
            .get(&std::thread::current().id())?
            .get(key)
            .cloned()
    }

    /// Keeps what a read of `key` found, if this thread is reading ahead.
    pub fn keep(&self, key: &[u8], value: Option<&[u8]>) {
        if self.reading.load(Ordering::Acquire) == 0 {
            return;
        }
        if let Some(kept) = self.kept().get_mut(&std::thread::current().id()) {
            kept.insert(key.to_vec(), value.map(<[u8]>::to_vec));
        }
    }

    /// Starts this thread's read-ahead, or adds to it: `entries` are what
    /// the store held for each key read (`None`: absent).
    pub fn begin(&self, entries: impl IntoIterator<Item = (Vec<u8>, Option<Vec<u8>>)>) {
        let mut kept = self.kept();
        let thread = std::thread::current().id();
        let mine = kept.entry(thread).or_insert_with(|| {
            self.reading.fetch_add(1, Ordering::AcqRel);
            HashMap::new()
        });
        mine.extend(entries);
    }

    /// Ends this thread's read-ahead: its reads go to the store again.
    pub fn end(&self) {
        if self.kept().remove(&std::thread::current().id()).is_some() {
            self.reading.fetch_sub(1, Ordering::AcqRel);
        }
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
    /// The head: to its record (the writer checks the head against it).
    HeadRecord,
    /// A seq: to that record (an event id's).
    Record,
    /// A stream's last revision: to the index chunk its next revision goes in.
    Chunk(usize),
}

/// The keys to read ahead, each once, with where its value leads.
#[derive(Default)]
struct KeysAhead {
    keys: Vec<Vec<u8>>,
    leads: Vec<Leads>,
    seen: HashSet<Vec<u8>>,
    /// The streams whose heads lead to a chunk, by [`Leads::Chunk`]'s index.
    streams: Vec<StreamId>,
}

impl KeysAhead {
    fn add(&mut self, key: Vec<u8>, leads: Leads) {
        if self.seen.insert(key.clone()) {
            self.keys.push(key);
            self.leads.push(leads);
        }
    }

    fn add_stream_head(&mut self, stream: StreamId, chunked: bool) {
        let key = keys::stream_head(&stream);
        if self.seen.contains(&key) {
            return;
        }
        let leads = if chunked {
            self.streams.push(stream);
            Leads::Chunk(self.streams.len() - 1)
        } else {
            Leads::Nowhere
        };
        self.add(key, leads);
    }

    /// The keys a build of `requests` will read that the requests name:
    /// when `refresh`, the head and the import mark first (the writer reads
    /// the head before it builds), then the views mark, and each request's
    /// event id, streams' heads, resolution and retraction marks and kept
    /// summary.
    fn of(requests: &[AppendRequest], refresh: bool, shared: bool, chunked: bool) -> Self {
        let mut ahead = Self::default();
        if refresh {
            ahead.add(keys::meta(MetaKey::Head), Leads::HeadRecord);
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
                    if let Some(party) = s.party.as_ref().or(s.speaker.as_ref()) {
                        ahead.add_stream_head(StreamId::Party(party.clone()), chunked);
                        ahead.add(keys::position(&s.proposition, party), Leads::Nowhere);
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

    /// The keys the values read for these keys lead to.
    fn next(&self, values: &[Option<Vec<u8>>]) -> Vec<Vec<u8>> {
        let mut next = Vec::new();
        let mut seen = HashSet::new();
        for (leads, value) in self.leads.iter().zip(values) {
            let Some(value) = value else { continue };
            match *leads {
                Leads::Nowhere => {}
                Leads::HeadRecord => {
                    if let Some(head) = Head::decode(value).filter(|h| h.seq > 0) {
                        next.push(keys::record(head.seq).to_vec());
                    }
                }
                Leads::Record => {
                    if value.len() == 8 {
                        next.push(keys::record(keys::be_u64(value)).to_vec());
                    }
                }
                Leads::Chunk(i) => {
                    // A revision that starts a chunk reads nothing.
                    let next_revision = (value.len() == 8).then(|| keys::be_u64(value) + 1);
                    if let Some(r) = next_revision.filter(|r| r % CHUNK != 0) {
                        next.push(keys::stream_chunk(&self.streams[i], r / CHUNK));
                    }
                }
            }
        }
        // Two event ids, or an event id and the head, may lead to one record.
        next.retain(|key| seen.insert(key.clone()));
        next
    }
}

/// Reads ahead what building `requests` will read, on a store whose reads
/// are round trips (`None`, reading nothing, on any other): the keys the
/// requests name in one read, the keys their values lead to in a second.
/// `refresh`: the writer reads the head before it builds.
pub(crate) fn read_ahead<'a>(
    store: &'a dyn Storage,
    layout: StreamLayout,
    requests: &[AppendRequest],
    refresh: bool,
) -> Result<Option<ReadingAhead<'a>>, StoreError> {
    if !store.reads_are_round_trips() {
        return Ok(None);
    }
    let ahead = KeysAhead::of(
        requests,
        refresh,
        store.shared_writers(),
        layout == StreamLayout::Chunked,
    );
    let reading = ReadingAhead { store };
    let values = store.read_ahead(&ahead.keys)?;
    let next = ahead.next(&values);
    if !next.is_empty() {
        store.read_ahead(&next)?;
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
        memo.begin([
            (b"k".to_vec(), Some(b"v".to_vec())),
            (b"gone".to_vec(), None),
        ]);
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
}
