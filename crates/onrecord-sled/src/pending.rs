//! Write sets applied but not yet handed to sled: the engine's `apply`
//! lands here, and they go to sled as ONE `apply_batch` when the engine
//! syncs (or when they pass [`PENDING_LIMIT`] bytes; a write set larger
//! than that goes to sled at once, on its own). sled 0.34 seals and
//! writes an I/O buffer per `apply_batch` (with a `sync_file_range`, and
//! often a new thread), so a group commit of many clients' batches is one
//! sled write instead of one each. Reads see these writes, merged over
//! sled's, exactly as they would see them had each gone to sled at once.
//! A pending write set is never split: what goes to sled in one batch is
//! whole write sets, so atomicity is unchanged, and nothing here is durable
//! before the sync, as nothing in sled's buffers was.

use std::collections::BTreeMap;
use std::ops::Bound;

/// Past this many bytes of keys and values, pending writes go to sled
/// before the next write set joins them; a write set this large by itself
/// (an import's chunk) goes to sled as it comes. sled 0.34 holds far more
/// memory for one large batch than for the same writes in several: with
/// 4 MiB here a 1 M-line import peaked at 815 MiB (266 MiB before), and a
/// 200 k one at 233 MiB (120 MiB before; 122 MiB with this limit), so only
/// small write sets, a server's single appends, are grouped.
pub(crate) const PENDING_LIMIT: usize = 256 * 1024;

/// One pending write: a key and its new value (`None`: deleted).
pub(crate) type PendingWrite = (Vec<u8>, Option<Vec<u8>>);

/// Pending puts (`Some`) and deletes (`None`), by key.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    pub(crate) writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    pub(crate) bytes: usize,
}

fn owned(bound: Bound<&[u8]>) -> Bound<Vec<u8>> {
    match bound {
        Bound::Included(k) => Bound::Included(k.to_vec()),
        Bound::Excluded(k) => Bound::Excluded(k.to_vec()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

/// Whether `(start, end)` holds no key (`BTreeMap::range` panics on such ranges).
pub(crate) fn is_empty_range(start: &Bound<&[u8]>, end: &Bound<&[u8]>) -> bool {
    match (start, end) {
        (Bound::Included(s), Bound::Included(e)) => s > e,
        (Bound::Included(s) | Bound::Excluded(s), Bound::Excluded(e))
        | (Bound::Excluded(s), Bound::Included(e)) => s >= e,
        _ => false,
    }
}

impl Pending {
    /// Adds one write set's writes (a later write to a key wins).
    pub(crate) fn add(&mut self, ops: impl Iterator<Item = PendingWrite>) {
        for (key, value) in ops {
            self.bytes += key.len() + value.as_ref().map_or(0, Vec::len);
            self.writes.insert(key, value);
        }
    }

    /// Whether nothing is pending.
    pub(crate) fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }

    /// The pending writes in `(start, end)`, in key order (a copy: bounded
    /// by [`PENDING_LIMIT`], and empty whenever nothing is being written).
    pub(crate) fn in_range(&self, start: Bound<&[u8]>, end: Bound<&[u8]>) -> Vec<PendingWrite> {
        if self.writes.is_empty() || is_empty_range(&start, &end) {
            return Vec::new();
        }
        self.writes
            .range((owned(start), owned(end)))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

/// Merges a copy of the pending writes of a range over sled's entries of
/// the same range: a pending put replaces or adds an entry, a pending
/// delete hides one.
pub(crate) struct Merged<I: Iterator> {
    pub(crate) pending: std::iter::Peekable<std::vec::IntoIter<PendingWrite>>,
    pub(crate) stored: std::iter::Peekable<I>,
}

impl<I, E> Iterator for Merged<I>
where
    I: Iterator<Item = Result<(Vec<u8>, Vec<u8>), E>>,
{
    type Item = Result<(Vec<u8>, Vec<u8>), E>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (take_pending, replaces) = match (self.pending.peek(), self.stored.peek()) {
                (None, None) => return None,
                (Some(_), None) => (true, false),
                (None, Some(_)) | (Some(_), Some(Err(_))) => (false, false),
                (Some((pk, _)), Some(Ok((sk, _)))) => (pk <= sk, pk == sk),
            };
            if replaces {
                // The pending write replaces (or deletes) the stored entry.
                self.stored.next();
            }
            if !take_pending {
                return self.stored.next();
            }
            match self.pending.next() {
                Some((key, Some(value))) => return Some(Ok((key, value))),
                Some((_, None)) => continue,
                None => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merged(pending: &[(&str, Option<&str>)], stored: &[&str]) -> Vec<String> {
        let pending: Vec<_> = pending
            .iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v.map(|v| v.as_bytes().to_vec())))
            .collect();
        type Stored = Result<(Vec<u8>, Vec<u8>), ()>;
        let stored: Vec<Stored> = stored
            .iter()
            .map(|k| Ok((k.as_bytes().to_vec(), b"old".to_vec())))
            .collect();
        Merged {
            pending: pending.into_iter().peekable(),
            stored: stored.into_iter().peekable(),
        }
        .map(|e| {
            let (k, v) = e.unwrap();
            format!(
                "{}={}",
                String::from_utf8(k).unwrap(),
                String::from_utf8(v).unwrap()
            )
        })
        .collect()
    }

    #[test]
    fn pending_writes_replace_add_and_hide_stored_entries_in_key_order() {
        assert_eq!(
            merged(
                &[("a", Some("new")), ("c", None), ("d", Some("new"))],
                &["a", "b", "c", "e"]
            ),
            vec!["a=new", "b=old", "d=new", "e=old"]
        );
        assert_eq!(merged(&[], &["a"]), vec!["a=old"]);
        assert_eq!(merged(&[("z", None)], &[]), Vec::<String>::new());
    }

    #[test]
    fn an_empty_or_inverted_range_is_empty_not_a_panic() {
        let mut p = Pending::default();
        p.add([(b"k".to_vec(), Some(b"v".to_vec()))].into_iter());
        let (a, b) = (&b"b"[..], &b"a"[..]);
        assert!(
            p.in_range(Bound::Included(a), Bound::Excluded(b))
                .is_empty()
        );
        assert!(
            p.in_range(Bound::Excluded(a), Bound::Excluded(a))
                .is_empty()
        );
        assert_eq!(p.in_range(Bound::Unbounded, Bound::Unbounded).len(), 1);
    }
}
