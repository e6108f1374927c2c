//! The stream index: which seq holds each revision of each stream, in either
//! of the two keyspace layouts a ledger may have (docs/adr/0003).
//!
//! - Layout 1 (ledgers created before layout 2; the golden v1 fixture): one
//!   `S` key per (stream, revision), valued with the seq.
//! - Layout 2 (every ledger created now): a stream's seqs packed in chunks
//!   of [`CHUNK`] revisions under one `C` key, rewritten whole as it fills.
//!   sled's costs grow with its number of keys (opening, disk, per-insert
//!   work); chunks of 16 cut the index from two keys per statement to one per
//!   16 revisions (docs/benchmarks.md measures it).
//!
//! A ledger keeps the layout it was created with. This module reads and stages
//! index entries; only the store's ledger, batch builder and verify call it.

use std::collections::HashMap;

use onrecord_core::StreamId;

use crate::StoreError;
use crate::keys::{self, MetaKey};
use crate::storage::{Entries, Storage, WriteSet};

/// Revisions per chunk in layout 2.
pub(crate) const CHUNK: u64 = 16;

/// How a ledger's stream index is keyed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StreamLayout {
    /// Layout 1: one key per revision.
    PerRevision,
    /// Layout 2: chunks of [`CHUNK`] revisions.
    Chunked,
}

/// The layout-2 marker stored under [`MetaKey::Layout`].
pub(crate) const LAYOUT_2: [u8; 2] = 2u16.to_be_bytes();

impl StreamLayout {
    /// The layout the ledger in `db` was created with.
    pub(crate) fn of(db: &dyn Storage) -> Result<Self, StoreError> {
        Ok(match db.get(&keys::meta(MetaKey::Layout))? {
            Some(v) if v.as_ref() == LAYOUT_2 => Self::Chunked,
            _ => Self::PerRevision,
        })
    }

    /// The seq at `revision` of `stream`, if the index holds one.
    pub(crate) fn seq_at(
        self,
        db: &dyn Storage,
        stream: &StreamId,
        revision: u64,
    ) -> Result<Option<u64>, StoreError> {
        Ok(match self {
            Self::PerRevision => db
                .get(&keys::stream_entry(stream, revision))?
                .map(|v| keys::be_u64(&v)),
            Self::Chunked => db
                .get(&keys::stream_chunk(stream, revision / CHUNK))?
                .and_then(|chunk| {
                    let at = usize::try_from(revision % CHUNK).ok()? * 8;
                    chunk.get(at..at + 8).map(keys::be_u64)
                }),
        })
    }

    /// Every seq of `stream`, in revision order, streamed from the index.
    pub(crate) fn seqs<'a>(self, db: &'a dyn Storage, stream: &StreamId) -> StreamSeqs<'a> {
        let prefix = match self {
            Self::PerRevision => keys::stream_prefix(stream),
            Self::Chunked => keys::stream_chunk_prefix(stream),
        };
        StreamSeqs {
            inner: db.scan_prefix(&prefix),
            chunk: None,
            at: 0,
        }
    }
}

/// The seqs of one stream in revision order (see [`StreamLayout::seqs`]).
pub(crate) struct StreamSeqs<'a> {
    inner: Entries<'a>,
    chunk: Option<Vec<u8>>,
    at: usize,
}

impl Iterator for StreamSeqs<'_> {
    type Item = Result<u64, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(chunk) = &self.chunk {
                if let Some(bytes) = chunk.get(self.at..self.at + 8) {
                    self.at += 8;
                    return Some(Ok(keys::be_u64(bytes)));
                }
                self.chunk = None;
            }
            // A layout-1 value is one seq: a chunk of one.
            match self.inner.next()? {
                Ok((_, value)) => {
                    self.chunk = Some(value);
                    self.at = 0;
                }
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

/// Why a stream's index cannot take the next entry (a damaged chunk).
#[derive(Debug)]
pub(crate) enum StageError {
    /// The store failed reading the chunk.
    Storage(StoreError),
    /// The stored chunk does not hold the revisions before this one.
    Damaged {
        /// The stream.
        stream: StreamId,
        /// The revision that was to be added.
        revision: u64,
    },
}

/// One batch's stream-index writes. In layout 2 each touched chunk is kept
/// here as it grows and written once, when the batch is finished.
#[derive(Debug, Default, Clone)]
pub(crate) struct PendingIndex {
    chunks: HashMap<StreamId, (u64, Vec<u8>)>,
}

impl PendingIndex {
    /// Records that revision `revision` of `stream` is at `seq`. Revisions of a
    /// stream must come in order, starting right after its stored head.
    pub(crate) fn stage(
        &mut self,
        layout: StreamLayout,
        db: &dyn Storage,
        writes: &mut WriteSet,
        stream: &StreamId,
        revision: u64,
        seq: u64,
    ) -> Result<(), StageError> {
        if layout == StreamLayout::PerRevision {
            writes.put(keys::stream_entry(stream, revision), &seq.to_be_bytes()[..]);
            return Ok(());
        }
        let number = revision / CHUNK;
        let offset = usize::try_from(revision % CHUNK).unwrap_or(0) * 8;
        let held = self.chunks.get(stream).map(|(n, _)| *n);
        if held != Some(number) {
            let bytes = if offset == 0 {
                Vec::with_capacity(CHUNK as usize * 8)
            } else {
                db.get(&keys::stream_chunk(stream, number))
                    .map_err(StageError::Storage)?
                    .unwrap_or_default()
            };
            if let Some((old, bytes)) = self.chunks.insert(stream.clone(), (number, bytes)) {
                // The stream moved on to its next chunk within this batch.
                writes.put(keys::stream_chunk(stream, old), bytes);
            }
        }
        match self.chunks.get_mut(stream) {
            Some((_, bytes)) if bytes.len() == offset => {
                bytes.extend_from_slice(&seq.to_be_bytes());
                Ok(())
            }
            _ => Err(StageError::Damaged {
                stream: stream.clone(),
                revision,
            }),
        }
    }

    /// Adds every chunk still held to the batch's writes.
    pub(crate) fn write(self, writes: &mut WriteSet) {
        for (stream, (number, bytes)) in self.chunks {
            writes.put(keys::stream_chunk(&stream, number), bytes);
        }
    }
}
