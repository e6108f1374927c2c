//! The storage seam: the one trait a backend implements ([`Storage`]), the
//! write set the engine hands it ([`WriteSet`]), and the in-memory backend
//! ([`MemoryStorage`]).
//!
//! The engine (everything else in this crate) owns the meaning of the bytes:
//! the keyspace ([`crate::keys`]), the record encoding and hash chain
//! ([`crate::envelope`]), the indexes, the kept views and the head. A backend
//! only stores an ordered map of byte keys to byte values and commits write
//! sets atomically and durably, so every backend holds byte-identical records
//! with identical hashes. Nothing here does I/O; backends that do live in
//! their own crates (`onrecord-sled`), and the decision to keep this seam
//! synchronous is ADR 0004.
//!
//! # What a backend guarantees
//! - [`Storage::apply`] is atomic: every put and delete of a write set is
//!   visible to the next read, or none is; a failed apply changed nothing.
//! - [`Storage::sync`] makes everything applied so far durable (it survives a
//!   crash or power loss) before it returns; the engine acknowledges a write
//!   only after it. A backend whose `apply` is already durable (a database
//!   commit) may make `sync` a no-op.
//! - Reads see every applied write, in byte order of keys; ranges stream
//!   (memory is bounded by one entry, never by the range).
//! - One writer, unless it says otherwise: while a backend is open for
//!   writing, no other process writes its store (sled: its file lock), and
//!   within the process the engine serialises writers. A backend whose store
//!   other processes may write meanwhile says so ([`Storage::shared_writers`]);
//!   it then checks, inside each commit, that the head is still the one the
//!   write set was built on ([`Storage::apply_if`]), and excludes the other
//!   writers for the engine's multi-write operations (an import, a views
//!   rebuild) while [`Storage::exclude_writers`] holds.
//! - Errors are [`StoreError`]s naming the store ([`Storage::location`]):
//!   `DiskFull`, `CorruptStorage` or `Storage`, never a panic.
//!
//! # What the engine guarantees
//! - It writes only through write sets, each of which takes the ledger from
//!   one consistent state to the next (the head is the last key it writes).
//! - It calls [`Storage::acknowledged`] with the head after a durable write,
//!   and never with a head that is not durable.
//! - It reads and writes from one thread at a time per write.
//! - It writes nothing on a thread that is reading ahead
//!   ([`Storage::read_ahead`]) until it has ended it.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use crate::{Head, StoreError};

/// A key and its value, as a range read yields them.
pub type Entry = (Vec<u8>, Vec<u8>);

/// A streaming range read: entries in ascending key order.
pub type Entries<'a> = Box<dyn Iterator<Item = Result<Entry, StoreError>> + Send + 'a>;

/// What the store's own acknowledgement record (sled's anchor file) held
/// when it was opened: the engine checks the log reaches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acknowledged {
    /// The backend keeps no such record, or has none yet.
    Missing,
    /// It exists but cannot be read (damaged); names its file.
    Unreadable(&'static str),
    /// The last head acknowledged as durable (it may lag the log, never lead it).
    At(Head),
}

/// Told the seq of each head committed to a shared store (by any process)
/// once [`Storage::watch_heads`] registered it. It runs on the backend's own
/// threads: it must not block, nor call back into the store or the ledger.
pub type HeadListener = Box<dyn Fn(u64) + Send + Sync>;

/// A write set's precondition for [`Storage::apply_if`]: the head it was built on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expect {
    /// The head the engine read before building the write set.
    pub head: Head,
}

/// What [`Storage::apply_if`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The head was as expected: the write set is applied.
    Done,
    /// Another writer moved the head (to this one) or left the store in a
    /// state the write set was not built on (an import cut short): nothing
    /// was applied; the engine reads the ledger again and rebuilds.
    HeadMoved(Head),
}

/// One atomic change of the keyspace: puts and deletes, applied in order
/// (a later write to a key wins).
#[derive(Debug, Default, Clone)]
pub struct WriteSet {
    ops: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    record_bytes: u64,
    head_recorded_at: Option<i64>,
}

impl WriteSet {
    /// Sets `key` to `value`.
    pub fn put(&mut self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.ops.push((key.into(), Some(value.into())));
    }

    /// Removes `key` (a no-op if it is absent).
    pub fn delete(&mut self, key: impl Into<Vec<u8>>) {
        self.ops.push((key.into(), None));
    }

    /// Counts `bytes` of new records in this set (what free-space checks size from).
    pub fn add_record_bytes(&mut self, bytes: u64) {
        self.record_bytes += bytes;
    }

    /// The bytes of new records this set holds.
    pub fn record_bytes(&self) -> u64 {
        self.record_bytes
    }

    /// Notes the transaction time (microseconds) of the record the set's new
    /// head names, for a backend that keeps it beside the head (PostgreSQL's
    /// head row); it is in the record's bytes anyway.
    pub fn set_head_recorded_at(&mut self, micros: i64) {
        self.head_recorded_at = Some(micros);
    }

    /// The transaction time of the new head's record, when the set moves the head.
    pub fn head_recorded_at(&self) -> Option<i64> {
        self.head_recorded_at
    }

    /// How many puts and deletes it holds.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether it holds no write.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// The writes, in order: `(key, Some(value))` puts, `(key, None)` deletes.
    pub fn ops(&self) -> impl Iterator<Item = (&[u8], Option<&[u8]>)> {
        self.ops.iter().map(|(k, v)| (&k[..], v.as_deref()))
    }

    /// The writes, owned, in order.
    pub fn into_ops(self) -> impl Iterator<Item = (Vec<u8>, Option<Vec<u8>>)> {
        self.ops.into_iter()
    }
}

/// An ordered byte-keyed store that commits write sets atomically and
/// durably: all a backend provides (see the module docs for the contract).
pub trait Storage: Send + Sync {
    /// How the store is named in messages: its directory, or a URL without credentials.
    fn location(&self) -> &Path;

    /// The value at `key`, if any.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;

    /// Whether `key` holds a value.
    fn contains(&self, key: &[u8]) -> Result<bool, StoreError> {
        Ok(self.get(key)?.is_some())
    }

    /// Whether each read is a round trip to a server (PostgreSQL): the
    /// engine then reads the keys a batch will need ahead, together
    /// ([`Storage::read_ahead`]). Default: no (a lookup in memory or a file).
    fn reads_are_round_trips(&self) -> bool {
        false
    }

    /// The values of `keys`, in their order (`None`: absent), read together
    /// (one round trip where reads are round trips). Default: key by key.
    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        keys.iter().map(|key| self.get(key)).collect()
    }

    /// Reads `keys` and `spans` together (one round trip where reads are
    /// round trips; the spans read no earlier than the keys) and returns the
    /// keys' values in their order; a store whose reads are round trips also
    /// keeps them, the entries found in each span, and whatever else this
    /// thread reads, for this thread's reads until
    /// [`Storage::end_read_ahead`] ([`crate::read_ahead::ReadMemo`]): the
    /// engine reads ahead only while it builds a batch, and writes nothing
    /// meanwhile. Default: reads key by key, ignores the spans and keeps
    /// nothing.
    fn read_ahead(
        &self,
        keys: &[Vec<u8>],
        spans: &[crate::read_ahead::Span],
    ) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let _ = spans;
        keys.iter().map(|key| self.get(key)).collect()
    }

    /// Forgets what [`Storage::read_ahead`] kept for this thread: its reads
    /// go to the store again.
    fn end_read_ahead(&self) {}

    /// Streams the entries with keys in `(start, end)`, in ascending order.
    fn range(&self, start: Bound<&[u8]>, end: Bound<&[u8]>) -> Entries<'_>;

    /// The entry with the greatest key in `(start, end)`, if any.
    fn last(&self, start: Bound<&[u8]>, end: Bound<&[u8]>) -> Result<Option<Entry>, StoreError>;

    /// Applies a write set atomically; visible at once, durable after [`Storage::sync`].
    fn apply(&self, writes: WriteSet) -> Result<(), StoreError>;

    /// Applies `writes` only if the store's head is still `expect.head`,
    /// checked atomically with the apply (under the head's lock); otherwise
    /// applies nothing and answers [`Applied::HeadMoved`]. The default
    /// applies unchecked: right for a store with one writer, whose head only
    /// this engine moves.
    fn apply_if(&self, expect: Expect, writes: WriteSet) -> Result<Applied, StoreError> {
        let _ = expect;
        self.apply(writes).map(|()| Applied::Done)
    }

    /// Holds the head for this writer until its next [`Storage::apply_if`]
    /// or [`Storage::release_head`]: other writers of a shared store cannot
    /// commit meanwhile (they wait for it), so a batch built now commits on
    /// the head it read. The engine holds it to rebuild a batch after
    /// another writer moved the head first, so that a busy store cannot
    /// starve one writer. Whether the store held it. Default: `false`
    /// (nothing to hold; the commit checks the head, as always).
    fn hold_head(&self) -> Result<bool, StoreError> {
        Ok(false)
    }

    /// Lets go of a head [`Storage::hold_head`] held, writing nothing (the
    /// build was refused or failed); a no-op when none is held.
    fn release_head(&self) {}

    /// Whether other processes may write this store while it is open (no
    /// process-wide writer lock): the engine then reads the head again
    /// before each append and rebuilds a batch whose head moved.
    fn shared_writers(&self) -> bool {
        false
    }

    /// Whether the stored head may move while this store is open without
    /// this process writing it: other processes write it
    /// ([`Storage::shared_writers`]), or it replays another server's commits
    /// (a PostgreSQL standby, a read-only session beside writers). The
    /// engine then reads the head from the store whenever the current one
    /// is asked for ([`crate::Ledger::current_head`]).
    fn others_move_head(&self) -> bool {
        self.shared_writers()
    }

    /// Keeps every other writer of a shared store out until
    /// [`Storage::admit_writers`] (their commits wait, then are busy), for an
    /// operation that writes the log in several write sets. Waits up to the
    /// store's busy wait for writers already at work. A no-op where this
    /// process is the only writer.
    fn exclude_writers(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Lets the other writers back in after [`Storage::exclude_writers`].
    fn admit_writers(&self) {}

    /// Registers `on_head` to hear of every head committed from now on,
    /// by this process or another (at least once each; possibly late, never
    /// before the commit is visible). `false`: this store cannot tell (its
    /// only writer is this process, which knows its own heads).
    fn watch_heads(&self, on_head: HeadListener) -> bool {
        let _ = on_head;
        false
    }

    /// Makes everything applied so far durable.
    fn sync(&self) -> Result<(), StoreError>;

    /// Refuses, before anything is written, a write of `record_bytes` of
    /// records that the store has no room for (sled cannot recover from a
    /// full disk in the middle of a write). Default: always room.
    fn ensure_room(&self, record_bytes: u64) -> Result<(), StoreError> {
        let _ = record_bytes;
        Ok(())
    }

    /// Told, after a durable write, the head now acknowledged (sled records
    /// it in its anchor file). Best effort: a failure only lets it lag.
    fn acknowledged(&self, head: &Head) {
        let _ = head;
    }

    /// What the store's acknowledgement record held when it was opened.
    fn acknowledgement(&self) -> Acknowledged {
        Acknowledged::Missing
    }

    /// Whether this process may only read the store.
    fn is_read_only(&self) -> bool {
        false
    }

    /// Checks what the store keeps besides the keyspace, derived from the
    /// records (PostgreSQL's SQL read tables), against the records up to
    /// `head`, which `verify` has proven: the first seq where it differs.
    /// Default: nothing kept, nothing to check.
    fn verify_derived(&self, head: u64) -> Result<Option<crate::Damage>, StoreError> {
        let _ = head;
        Ok(None)
    }

    /// Bytes the store takes on disk (0 when it keeps none).
    fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(0)
    }
}

impl dyn Storage + '_ {
    /// Streams the entries whose keys start with `prefix`.
    pub fn scan_prefix(&self, prefix: &[u8]) -> Entries<'_> {
        let end = crate::keys::prefix_end(prefix);
        if end.is_empty() {
            self.range(Bound::Included(prefix), Bound::Unbounded)
        } else {
            self.range(Bound::Included(prefix), Bound::Excluded(&end))
        }
    }

    /// Applies `writes` and makes them durable: a commit.
    pub fn commit(&self, writes: WriteSet) -> Result<(), StoreError> {
        self.apply(writes)?;
        self.sync()
    }
}

/// A store held in memory: for tests, and for anything that needs no
/// durability (it "syncs" instantly and is gone when dropped).
#[derive(Debug)]
pub struct MemoryStorage {
    name: PathBuf,
    map: RwLock<BTreeMap<Vec<u8>, Vec<u8>>>,
}

impl MemoryStorage {
    /// An empty store named `name` in messages.
    pub fn new(name: impl Into<PathBuf>) -> Self {
        Self {
            name: name.into(),
            map: RwLock::new(BTreeMap::new()),
        }
    }

    /// A copy of everything it holds (what a crash and reopen would find).
    pub fn snapshot(&self) -> BTreeMap<Vec<u8>, Vec<u8>> {
        self.read().clone()
    }

    /// A store holding exactly `entries`.
    pub fn from_entries(name: impl Into<PathBuf>, entries: BTreeMap<Vec<u8>, Vec<u8>>) -> Self {
        Self {
            name: name.into(),
            map: RwLock::new(entries),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<Vec<u8>, Vec<u8>>> {
        // A panic cannot leave a half-applied write set: apply builds nothing
        // in place before it takes the lock.
        self.map.read().unwrap_or_else(|p| p.into_inner())
    }
}

fn owned(bound: Bound<&[u8]>) -> Bound<Vec<u8>> {
    match bound {
        Bound::Included(k) => Bound::Included(k.to_vec()),
        Bound::Excluded(k) => Bound::Excluded(k.to_vec()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

/// Whether `(start, end)` holds no key at all (`BTreeMap::range` panics on such ranges).
fn is_empty_range(start: &Bound<Vec<u8>>, end: &Bound<Vec<u8>>) -> bool {
    match (start, end) {
        (Bound::Included(s), Bound::Included(e)) => s > e,
        (Bound::Included(s) | Bound::Excluded(s), Bound::Excluded(e))
        | (Bound::Excluded(s), Bound::Included(e)) => s >= e,
        _ => false,
    }
}

/// A range read over a [`MemoryStorage`] that takes its lock per entry, so
/// a writer is never blocked by a slow reader (it sees what is there when
/// it asks for the next entry, as sled's iterators do). Once it has ended
/// it stays ended.
struct MemoryRange<'a> {
    store: &'a MemoryStorage,
    next: Bound<Vec<u8>>,
    end: Bound<Vec<u8>>,
    ended: bool,
}

impl Iterator for MemoryRange<'_> {
    type Item = Result<Entry, StoreError>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.ended {
            return None;
        }
        let start = std::mem::replace(&mut self.next, Bound::Unbounded);
        if is_empty_range(&start, &self.end) {
            self.ended = true;
            return None;
        }
        let map = self.store.read();
        let Some((k, v)) = map.range((start, self.end.clone())).next() else {
            self.ended = true;
            return None;
        };
        self.next = Bound::Excluded(k.clone());
        Some(Ok((k.clone(), v.clone())))
    }
}

impl Storage for MemoryStorage {
    fn location(&self) -> &Path {
        &self.name
    }

    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.read().get(key).cloned())
    }

    fn contains(&self, key: &[u8]) -> Result<bool, StoreError> {
        Ok(self.read().contains_key(key))
    }

    fn range(&self, start: Bound<&[u8]>, end: Bound<&[u8]>) -> Entries<'_> {
        Box::new(MemoryRange {
            store: self,
            next: owned(start),
            end: owned(end),
            ended: false,
        })
    }

    fn last(&self, start: Bound<&[u8]>, end: Bound<&[u8]>) -> Result<Option<Entry>, StoreError> {
        let (start, end) = (owned(start), owned(end));
        if is_empty_range(&start, &end) {
            return Ok(None);
        }
        Ok(self
            .read()
            .range((start, end))
            .next_back()
            .map(|(k, v)| (k.clone(), v.clone())))
    }

    fn apply(&self, writes: WriteSet) -> Result<(), StoreError> {
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        for (key, value) in writes.into_ops() {
            match value {
                Some(value) => map.insert(key, value),
                None => map.remove(&key),
            };
        }
        Ok(())
    }

    /// Compares the stored `M head` with the expected head under the write
    /// lock, so that handles sharing one memory store (the conformance
    /// suite's second writer) can race as servers on one database do.
    fn apply_if(&self, expect: Expect, writes: WriteSet) -> Result<Applied, StoreError> {
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        let stored = match map.get(&crate::keys::meta(crate::keys::MetaKey::Head)[..]) {
            Some(bytes) => Head::decode(bytes),
            None => Some(Head {
                seq: 0,
                hash: crate::envelope::GENESIS_HASH,
            }),
        };
        let import_cut_short =
            map.contains_key(&crate::keys::meta(crate::keys::MetaKey::Import)[..]);
        match stored {
            Some(head) if head == expect.head && !import_cut_short => {}
            Some(head) => return Ok(Applied::HeadMoved(head)),
            None => {
                return Err(StoreError::DamagedHead(
                    "the stored head is unreadable".into(),
                ));
            }
        }
        for (key, value) in writes.into_ops() {
            match value {
                Some(value) => map.insert(key, value),
                None => map.remove(&key),
            };
        }
        Ok(Applied::Done)
    }

    fn sync(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_stream_in_key_order_and_respect_both_bounds() {
        let store = MemoryStorage::new("mem");
        let mut writes = WriteSet::default();
        for k in [b"a1", b"a2", b"a3", b"b1"] {
            writes.put(&k[..], &k[..]);
        }
        writes.delete(&b"a2"[..]);
        (&store as &dyn Storage).commit(writes).unwrap();
        let keys: Vec<Vec<u8>> = (&store as &dyn Storage)
            .scan_prefix(b"a")
            .map(|e| e.unwrap().0)
            .collect();
        assert_eq!(keys, vec![b"a1".to_vec(), b"a3".to_vec()]);
        let last = store
            .last(Bound::Unbounded, Bound::Excluded(&b"b"[..]))
            .unwrap();
        assert_eq!(last.unwrap().0, b"a3".to_vec());
        assert!(
            store
                .last(Bound::Included(&b"c"[..]), Bound::Excluded(&b"a"[..]))
                .unwrap()
                .is_none()
        );
    }
}
