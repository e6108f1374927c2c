//! Keyspace layout 3 (ADR 0007): the engine's keyspace, key for key and byte
//! for byte, stored in sled as chunks of consecutive entries instead of one
//! sled key per entry, because sled 0.34's cost per key (its page table,
//! open, disk and the work per insert) dominated every figure.
//!
//! A chunk holds a run of consecutive keys of one keyspace (one prefix byte:
//! `R`, `E`, `W`, ...) and is stored under the chunk key: [`CHUNK_SPACE`]
//! followed by its first entry's key. So chunks sort as their entries do,
//! and the chunk holding a key is the one with the greatest chunk key at or
//! before it in the same keyspace (one `get_lt`). Records are cut into
//! chunks of [`RECORDS_PER_CHUNK`] (appends fill the last chunk; seq 1..16,
//! 17..32, ...); other keyspaces into chunks of at most [`CHUNK_BYTES`]
//! bytes, split in even halves when an insert in the middle overflows one
//! and left full when appends overflow the last one. The encoding of one
//! chunk is [`crate::chunk`].
//!
//! Writing: the pending write sets (`pending.rs`) go to sled as ONE batch
//! that rewrites every chunk they touch, once (and removes emptied chunks,
//! re-keys a chunk whose first key changed), so a write set is still atomic
//! and the group commit still one sled write. Reading: a point read decodes
//! one chunk's header and offsets and copies one value; a scan reads each
//! chunk once, yielding entries in key order. A chunk that does not check
//! out is damage naming its first unreadable seq (records) or its first key.
//!
//! The mark: a layout 3 store holds the plain sled key `Mformat` with the
//! value 3 (u16 BE) outside the chunk space, so a build that predates layout
//! 3 refuses it as an unknown format instead of reading it as empty.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::Path;

use onrecord_ledger::StoreError;
use onrecord_ledger::keys;
use onrecord_ledger::storage::Entry;
use sled::IVec;

use crate::chunk::{self, ChunkDamage, ChunkRef};

/// The first byte of every chunk key (no engine key starts with it).
pub const CHUNK_SPACE: u8 = 0x01;

/// The plain sled key marking a layout 3 store.
pub(crate) const LAYOUT_MARK_KEY: &[u8] = b"Mformat";

/// The mark's value: layout 3 (u16 BE).
pub(crate) const LAYOUT_3: [u8; 2] = 3u16.to_be_bytes();

/// Records per chunk (the last chunk fills as records are appended).
pub const RECORDS_PER_CHUNK: usize = 16;

/// Bytes a chunk of any other keyspace holds at most (keys and values in
/// full plus 8 bytes of offsets per entry), unless one entry is larger.
pub const CHUNK_BYTES: usize = 2048;

/// Bytes a records chunk holds at most, unless one record is larger.
const RECORD_CHUNK_BYTES: usize = 64 * 1024;

/// How full a chunk of one keyspace may get.
#[derive(Debug, Clone, Copy)]
struct Limits {
    entries: usize,
    bytes: usize,
}

/// The limits of chunks of the keyspace whose keys start with `family`.
fn limits(family: u8) -> Limits {
    if family == keys::RECORD {
        Limits {
            entries: RECORDS_PER_CHUNK,
            bytes: RECORD_CHUNK_BYTES,
        }
    } else {
        Limits {
            entries: usize::from(u16::MAX),
            bytes: CHUNK_BYTES,
        }
    }
}

/// The chunk key of a chunk whose first entry is `key`.
pub fn chunk_key(key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(key.len() + 1);
    k.push(CHUNK_SPACE);
    k.extend_from_slice(key);
    k
}

/// The smallest chunk key after every chunk of keyspace `family`.
fn family_end(family: u8) -> Vec<u8> {
    match family.checked_add(1) {
        Some(next) => vec![CHUNK_SPACE, next],
        None => vec![CHUNK_SPACE + 1],
    }
}

/// `key` printed for a message: ASCII as is, other bytes as `\xNN`.
fn printable(key: &[u8]) -> String {
    key.iter()
        .flat_map(|b| std::ascii::escape_default(*b))
        .map(char::from)
        .collect()
}

/// The damage of the chunk whose first key is `first_key`, as the engine's
/// error: a records chunk names the seq of its first unreadable record.
pub(crate) fn damaged(path: &Path, first_key: &[u8], damage: &ChunkDamage) -> StoreError {
    match keys::record_seq(first_key) {
        Some(first) => StoreError::Corrupt {
            seq: first.saturating_add(damage.entry as u64),
            detail: format!(
                "the chunk holding the records from seq {first} is damaged: {}",
                damage.problem
            ),
        },
        None => StoreError::CorruptStorage {
            path: path.to_owned(),
            detail: format!(
                "the chunk of keys from `{}` is damaged: {}",
                printable(first_key),
                damage.problem
            ),
        },
    }
}

/// The chunk that would hold `key`: the one with the greatest chunk key at
/// or before it in `key`'s keyspace.
fn chunk_at_or_before(db: &sled::Db, key: &[u8]) -> sled::Result<Option<(IVec, IVec)>> {
    let Some(&family) = key.first() else {
        return Ok(None);
    };
    let mut probe = chunk_key(key);
    probe.push(0);
    Ok(db
        .get_lt(probe)?
        .filter(|(k, _)| k.len() >= 2 && k[0] == CHUNK_SPACE && k[1] == family))
}

/// The value at `key`, if any: one chunk read, one value copied.
pub(crate) fn get(db: &sled::Db, path: &Path, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
    let Some((chunk_key, bytes)) =
        chunk_at_or_before(db, key).map_err(|e| crate::storage(path, e))?
    else {
        return Ok(None);
    };
    let first = &chunk_key[1..];
    let found = ChunkRef::parse(first, &bytes)
        .and_then(|chunk| chunk.find(key))
        .map_err(|d| damaged(path, first, &d))?;
    Ok(found.map(<[u8]>::to_vec))
}

fn owned(bound: Bound<&[u8]>) -> Bound<Vec<u8>> {
    match bound {
        Bound::Included(k) => Bound::Included(k.to_vec()),
        Bound::Excluded(k) => Bound::Excluded(k.to_vec()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

/// Whether `key` lies before the range's start.
fn before_start(key: &[u8], start: &Bound<Vec<u8>>) -> bool {
    match start {
        Bound::Included(s) => key < s.as_slice(),
        Bound::Excluded(s) => key <= s.as_slice(),
        Bound::Unbounded => false,
    }
}

/// Whether `key` lies past the range's end.
fn past_end(key: &[u8], end: &Bound<Vec<u8>>) -> bool {
    match end {
        Bound::Included(e) => key > e.as_slice(),
        Bound::Excluded(e) => key >= e.as_slice(),
        Bound::Unbounded => false,
    }
}

/// A range of chunk keys, as sled takes it.
type ChunkBounds = (Bound<Vec<u8>>, Bound<Vec<u8>>);

/// The chunk keys that can hold entries of `(start, end)`, as sled bounds.
fn chunk_bounds(
    db: &sled::Db,
    start: Bound<&[u8]>,
    end: Bound<&[u8]>,
) -> sled::Result<ChunkBounds> {
    let lower = match start {
        Bound::Unbounded => Bound::Included(vec![CHUNK_SPACE]),
        Bound::Included(s) | Bound::Excluded(s) => match chunk_at_or_before(db, s)? {
            Some((k, _)) => Bound::Included(k.to_vec()),
            None => Bound::Included(chunk_key(s)),
        },
    };
    let upper = match end {
        Bound::Unbounded => Bound::Excluded(vec![CHUNK_SPACE + 1]),
        Bound::Included(e) => Bound::Included(chunk_key(e)),
        Bound::Excluded(e) => Bound::Excluded(chunk_key(e)),
    };
    Ok((lower, upper))
}

/// The chunk being read by a [`PackedRange`].
struct Current {
    key: IVec,
    bytes: IVec,
    next: usize,
    count: usize,
}

/// A streaming read of the entries in a key range: each chunk read once,
/// entries in key order. A chunk split or rewritten while the range is
/// read never makes it yield a key twice or out of order.
pub(crate) struct PackedRange<'a> {
    path: &'a Path,
    chunks: Option<sled::Iter>,
    start: Bound<Vec<u8>>,
    end: Bound<Vec<u8>>,
    current: Option<Current>,
    /// The last key of the chunk read before the current one.
    floor: Option<Vec<u8>>,
    /// An error to yield first (finding where to start failed).
    failed: Option<StoreError>,
}

/// Streams the entries with keys in `(start, end)`.
pub(crate) fn range<'a>(
    db: &sled::Db,
    path: &'a Path,
    start: Bound<&[u8]>,
    end: Bound<&[u8]>,
) -> PackedRange<'a> {
    let (chunks, failed) = match chunk_bounds(db, start, end) {
        Ok(bounds) => (Some(db.range::<Vec<u8>, _>(bounds)), None),
        Err(e) => (None, Some(crate::storage(path, e))),
    };
    PackedRange {
        path,
        chunks,
        start: owned(start),
        end: owned(end),
        current: None,
        floor: None,
        failed,
    }
}

impl PackedRange<'_> {
    /// Stops the range, yielding `error` as its last item.
    fn fail(&mut self, error: StoreError) -> Option<Result<Entry, StoreError>> {
        self.chunks = None;
        self.current = None;
        Some(Err(error))
    }
}

impl Iterator for PackedRange<'_> {
    type Item = Result<Entry, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(error) = self.failed.take() {
            return self.fail(error);
        }
        loop {
            if let Some(cur) = &mut self.current {
                let first = &cur.key[1..];
                let step = ChunkRef::parse(first, &cur.bytes).and_then(|chunk| {
                    if cur.next >= cur.count {
                        return Ok(None);
                    }
                    let previous = match cur.next {
                        0 => None,
                        i => Some(chunk.entry(i - 1)?.0),
                    };
                    let (suffix, value) = chunk.entry_after(cur.next, previous, first)?;
                    Ok(Some((chunk.prefix(), suffix, value)))
                });
                match step {
                    Err(d) => {
                        let error = damaged(self.path, first, &d);
                        return self.fail(error);
                    }
                    Ok(None) => {
                        // The chunk is done: what it held is behind us.
                        let last = ChunkRef::parse(first, &cur.bytes)
                            .and_then(|c| {
                                c.entry(cur.count - 1).map(|e| [c.prefix(), e.0].concat())
                            })
                            .ok();
                        self.floor = last.or(self.floor.take());
                        self.current = None;
                    }
                    Ok(Some((prefix, suffix, value))) => {
                        cur.next += 1;
                        let mut key = Vec::with_capacity(prefix.len() + suffix.len());
                        key.extend_from_slice(prefix);
                        key.extend_from_slice(suffix);
                        if past_end(&key, &self.end) {
                            self.chunks = None;
                            self.current = None;
                            return None;
                        }
                        let behind = self.floor.as_deref().is_some_and(|f| key.as_slice() <= f);
                        if before_start(&key, &self.start) || behind {
                            continue;
                        }
                        return Some(Ok((key, value.to_vec())));
                    }
                }
                continue;
            }
            match self.chunks.as_mut()?.next()? {
                Err(e) => {
                    let error = crate::storage(self.path, e);
                    return self.fail(error);
                }
                Ok((key, bytes)) => {
                    let first = &key[1..];
                    match ChunkRef::parse(first, &bytes) {
                        Err(d) => {
                            let error = damaged(self.path, first, &d);
                            return self.fail(error);
                        }
                        Ok(chunk) => {
                            let count = chunk.len();
                            self.current = Some(Current {
                                key,
                                bytes,
                                next: 0,
                                count,
                            });
                        }
                    }
                }
            }
        }
    }
}

/// The entry with the greatest key in `(start, end)` that `hidden` does not
/// hide (pending writes replace or delete it).
pub(crate) fn last(
    db: &sled::Db,
    path: &Path,
    start: Bound<&[u8]>,
    end: Bound<&[u8]>,
    hidden: impl Fn(&[u8]) -> bool,
) -> Result<Option<Entry>, StoreError> {
    let (_, upper) =
        chunk_bounds(db, Bound::Unbounded, end).map_err(|e| crate::storage(path, e))?;
    let (start, end) = (owned(start), owned(end));
    let chunks = db.range::<Vec<u8>, _>((Bound::Included(vec![CHUNK_SPACE]), upper));
    for kv in chunks.rev() {
        let (chunk_key, bytes) = kv.map_err(|e| crate::storage(path, e))?;
        let first = &chunk_key[1..];
        let chunk = ChunkRef::parse(first, &bytes).map_err(|d| damaged(path, first, &d))?;
        for i in (0..chunk.len()).rev() {
            let (suffix, value) = chunk.entry(i).map_err(|d| damaged(path, first, &d))?;
            let key = [chunk.prefix(), suffix].concat();
            if past_end(&key, &end) {
                continue;
            }
            if before_start(&key, &start) {
                return Ok(None);
            }
            if !hidden(&key) {
                return Ok(Some((key, value.to_vec())));
            }
        }
        if before_start(first, &start) {
            return Ok(None);
        }
    }
    Ok(None)
}

/// The chunk key of the chunk after `chunk_key` in keyspace `family`, if any.
fn next_chunk(db: &sled::Db, chunk_key: &[u8], family: u8) -> sled::Result<Option<IVec>> {
    let bounds = (
        Bound::Excluded(chunk_key.to_vec()),
        Bound::Excluded(family_end(family)),
    );
    Ok(db
        .range::<Vec<u8>, _>(bounds)
        .next()
        .transpose()?
        .map(|(k, _)| k))
}

/// Where pieces of an overflowing chunk are cut: after the last chunk of a
/// keyspace (appends) each piece is filled; elsewhere the pieces are even.
fn cut<K: AsRef<[u8]>, V: AsRef<[u8]>>(
    entries: &[(K, V)],
    limits: Limits,
    appending: bool,
) -> Vec<std::ops::Range<usize>> {
    let size = |(k, v): &(K, V)| chunk::entry_bytes(k.as_ref(), v.as_ref());
    let total: usize = entries.iter().map(size).sum();
    let fill = appending || (entries.len() <= limits.entries && total <= limits.bytes);
    let (max_entries, max_bytes) = if fill {
        (limits.entries, limits.bytes)
    } else {
        let pieces = entries
            .len()
            .div_ceil(limits.entries)
            .max(total.div_ceil(limits.bytes))
            .max(1);
        (entries.len().div_ceil(pieces), total.div_ceil(pieces))
    };
    let mut out = Vec::new();
    let (mut from, mut bytes) = (0, 0);
    for (i, entry) in entries.iter().enumerate() {
        let b = size(entry);
        // Filling: cut before the entry that would overflow the piece. Even
        // pieces: cut once a piece has reached its share.
        let full = if fill {
            bytes + b > max_bytes
        } else {
            bytes >= max_bytes
        };
        if i > from && (i - from >= max_entries || full) {
            out.push(from..i);
            from = i;
            bytes = 0;
        }
        bytes += b;
    }
    if from < entries.len() {
        out.push(from..entries.len());
    }
    out
}

/// Adds to `batch` the rewrite of every chunk that `writes` (puts and
/// deletes of engine keys, in key order) touch: each such chunk read once,
/// changed, cut if it overflows, and written back under its first key.
pub(crate) fn stage(
    db: &sled::Db,
    path: &Path,
    writes: &BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    batch: &mut sled::Batch,
) -> Result<(), StoreError> {
    let fail = |e: sled::Error| crate::storage(path, e);
    let mut writes = writes.iter().filter(|(k, _)| !k.is_empty()).peekable();
    while let Some(&(key, _)) = writes.peek() {
        let family = key[0];
        // The chunk this key belongs to: the one at or before it, or else the
        // first of its keyspace (which then starts at this key).
        let found = match chunk_at_or_before(db, key).map_err(fail)? {
            Some(found) => Some(found),
            None => db
                .range::<Vec<u8>, _>((
                    Bound::Included(chunk_key(key)),
                    Bound::Excluded(family_end(family)),
                ))
                .next()
                .transpose()
                .map_err(fail)?,
        };
        let (old_key, stored, upper) = match &found {
            Some((k, bytes)) => {
                let upper = next_chunk(db, k, family).map_err(fail)?;
                (Some(k), Some((&k[1..], &bytes[..])), upper)
            }
            None => (None, None, None),
        };
        let mut entries: Vec<(Cow<'_, [u8]>, &[u8])> = match stored {
            Some((first, bytes)) => {
                let chunk = ChunkRef::parse(first, bytes).map_err(|d| damaged(path, first, &d))?;
                let mut out = Vec::with_capacity(chunk.len() + 1);
                let mut previous = None;
                for i in 0..chunk.len() {
                    let (suffix, value) = chunk
                        .entry_after(i, previous, first)
                        .map_err(|d| damaged(path, first, &d))?;
                    out.push((Cow::Owned([chunk.prefix(), suffix].concat()), value));
                    previous = Some(suffix);
                }
                out
            }
            None => Vec::new(),
        };
        let belongs = |k: &Vec<u8>| {
            k.first() == Some(&family) && upper.as_ref().is_none_or(|u| k.as_slice() < &u[1..])
        };
        while let Some((k, v)) = writes.next_if(|(k, _)| belongs(k)) {
            let at = entries.binary_search_by(|(e, _)| e.as_ref().cmp(k.as_slice()));
            match (at, v) {
                (Ok(i), Some(v)) => entries[i].1 = v,
                (Ok(i), None) => {
                    entries.remove(i);
                }
                (Err(i), Some(v)) => entries.insert(i, (Cow::Borrowed(k.as_slice()), v)),
                (Err(_), None) => {}
            }
        }
        let mut kept_old = false;
        for piece in cut(&entries, limits(family), upper.is_none()) {
            let piece = &entries[piece];
            let key = chunk_key(&piece[0].0);
            kept_old |= old_key.is_some_and(|old| old.as_ref() == key.as_slice());
            batch.insert(key, chunk::encode(piece));
        }
        if let Some(old) = old_key
            && !kept_old
        {
            batch.remove(old.clone());
        }
    }
    Ok(())
}

/// Whether the sled database is a layout 3 store: it holds the mark, or
/// nothing at all (a new store takes layout 3).
pub(crate) fn is_layout_3(db: &sled::Db) -> sled::Result<Option<bool>> {
    match db.get(LAYOUT_MARK_KEY)? {
        Some(v) if v.as_ref() == LAYOUT_3 => Ok(Some(true)),
        Some(_) => Ok(Some(false)),
        None if db.first()?.is_none() => Ok(None),
        None => Ok(Some(false)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(n: usize, each: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
        (0..n)
            .map(|i| (format!("W{i:05}").into_bytes(), vec![0u8; each]))
            .collect()
    }

    #[test]
    fn appends_fill_chunks_and_middle_inserts_split_them_evenly() {
        let records = Limits {
            entries: 16,
            bytes: 1 << 20,
        };
        let e = sizes(40, 10);
        assert_eq!(cut(&e, records, true), vec![0..16, 16..32, 32..40]);
        let even = cut(&e[..17], records, false);
        assert_eq!(even, vec![0..9, 9..17]);
        let small = Limits {
            entries: 1000,
            bytes: 100,
        };
        // One entry larger than a chunk is a chunk of its own.
        let big = sizes(3, 200);
        assert_eq!(cut(&big, small, false), vec![0..1, 1..2, 2..3]);
        assert_eq!(cut(&big[..1], small, true), vec![0..1]);
    }
}
