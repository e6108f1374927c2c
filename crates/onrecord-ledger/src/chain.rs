//! Chain-checked streaming reads, for the commands that hand the log itself
//! to someone (`export`, `replay`): every record is hashed as it streams and
//! yielded only once the next record's `prev_hash` (or the head, for the
//! last one) proves it, so an altered record is never written out. The first
//! break stops the stream with [`StoreError::Damaged`] naming its seq, worded
//! as `verify` words it.
//!
//! Cost: one SHA-256 of each record's bytes (which the stream reads anyway)
//! and one record read ahead; no allocation beyond the decode.
//!
//! [`CheckedVerbatim`] is the same stream with each record's stored bytes
//! kept beside its decoded form, for `copy`, which writes them unchanged
//! into another ledger ([`Ledger::append_verbatim`]).

use crate::envelope::{self, GENESIS_HASH, Hash};
use crate::ledger::Head;
use crate::storage::Entries;
use crate::{Damage, Ledger, StoreError, keys};
use onrecord_core::Recorded;
use std::ops::Bound;

/// A record as it is stored: decoded, and its exact bytes (what its hash
/// covers and what the next record's `prev_hash` names).
#[derive(Debug, Clone, PartialEq)]
pub struct VerbatimRecord {
    /// The record, decoded.
    pub record: Recorded,
    /// Its stored bytes, unchanged.
    pub bytes: Vec<u8>,
}

/// Streams the records with `from <= seq <= to`, each proven by the chain.
pub struct CheckedRecords<'a> {
    inner: CheckedVerbatim<'a>,
}

impl<'a> CheckedRecords<'a> {
    pub(crate) fn new(ledger: &'a Ledger, from: u64, to: u64) -> Self {
        Self {
            inner: CheckedVerbatim::new(ledger, from, to),
        }
    }
}

impl Iterator for CheckedRecords<'_> {
    type Item = Result<Recorded, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next().map(|r| r.map(|v| v.record))
    }
}

/// Streams the records with `from <= seq <= to` with their stored bytes,
/// each proven by the chain (as [`CheckedRecords`]).
pub struct CheckedVerbatim<'a> {
    ledger: &'a Ledger,
    inner: Entries<'a>,
    to: u64,
    head: Head,
    /// The seq the next stored record must have.
    expected: u64,
    /// The hash of the last record read (the genesis hash before seq 1).
    prev_hash: Hash,
    /// The last record read, waiting for the next one to prove it.
    pending: Option<VerbatimRecord>,
    /// What ends the stream, reported once the records before it are out.
    failed: Option<StoreError>,
    done: bool,
}

fn damage(seq: u64, problem: impl Into<String>) -> Damage {
    Damage {
        seq,
        problem: problem.into(),
    }
}

impl<'a> CheckedVerbatim<'a> {
    pub(crate) fn new(ledger: &'a Ledger, from: u64, to: u64) -> Self {
        let from = from.max(1);
        let head = ledger.head();
        let to = to.min(head.seq);
        let mut this = Self {
            ledger,
            // One past `to`, so that the last record asked for is proven by its successor.
            inner: ledger.tree().range(
                Bound::Included(&keys::record(from)),
                Bound::Included(&keys::record(to.saturating_add(1))),
            ),
            to,
            head,
            expected: from,
            prev_hash: GENESIS_HASH,
            pending: None,
            failed: None,
            done: from > to,
        };
        if from > 1 && !this.done {
            match ledger.tree().get(&keys::record(from - 1)) {
                Ok(Some(bytes)) => this.prev_hash = envelope::hash_record(&bytes),
                Ok(None) => {
                    this.failed = Some(StoreError::Damaged(damage(from - 1, "missing record")))
                }
                Err(e) => this.failed = Some(e),
            }
        }
        this
    }

    /// Reads the next stored record and checks its seq, its link to the one
    /// before and, at the head, its hash; `Ok(None)` at the end of the range.
    fn read_next(&mut self) -> Result<Option<VerbatimRecord>, StoreError> {
        if self.expected > self.to.saturating_add(1) {
            return Ok(None);
        }
        let Some(kv) = self.inner.next() else {
            return Ok(None);
        };
        let (key, bytes) = kv?;
        let seq = keys::record_seq(&key).unwrap_or(0);
        if seq != self.expected {
            return Err(StoreError::Damaged(damage(
                self.expected,
                format!("missing record (the next one is seq {seq})"),
            )));
        }
        let env = envelope::decode_envelope(&bytes, seq)
            .map_err(|e| StoreError::Damaged(damage(seq, e.to_string())))?;
        let this_hash = envelope::hash_record(&bytes);
        if env.prev_hash != self.prev_hash {
            return Err(StoreError::Damaged(self.locate_link_break(seq, this_hash)?));
        }
        if seq == self.head.seq && this_hash != self.head.hash {
            return Err(StoreError::Damaged(damage(
                seq,
                "its content does not match the hash the head holds",
            )));
        }
        let record = envelope::decode_recorded(&bytes, seq)
            .map_err(|e| StoreError::Damaged(damage(seq, e.to_string())))?;
        self.prev_hash = this_hash;
        self.expected = seq + 1;
        Ok(Some(VerbatimRecord { record, bytes }))
    }

    /// Which record a broken link at `seq` condemns, as `verify` decides it:
    /// the one before, when this record is still what its successor (or the
    /// head) chained to; else this one.
    fn locate_link_break(&self, seq: u64, this_hash: Hash) -> Result<Damage, StoreError> {
        let successor_link = if seq == self.head.seq {
            Some(self.head.hash)
        } else {
            self.ledger
                .tree()
                .get(&keys::record(seq + 1))?
                .and_then(|b| envelope::decode_envelope(&b, seq + 1).ok())
                .map(|e| e.prev_hash)
        };
        Ok(if successor_link == Some(this_hash) && seq > 1 {
            damage(
                seq - 1,
                format!("its content does not match the hash seq {seq} chained to it"),
            )
        } else {
            damage(seq, "its previous-hash does not match the record before it")
        })
    }

    /// Ends the stream with `error`: the pending record goes out first when
    /// the damage lies after it.
    fn stop(&mut self, error: StoreError) -> Option<Result<VerbatimRecord, StoreError>> {
        self.done = true;
        if matches!(&error, StoreError::Damaged(d) if d.seq > self.to) {
            // Past the range asked for: what was asked for is proven.
            return self
                .pending
                .take()
                .filter(|p| p.record.seq <= self.to)
                .map(Ok);
        }
        let keep = match &error {
            StoreError::Damaged(d) => self.pending.take().filter(|p| p.record.seq < d.seq),
            _ => None,
        };
        self.pending = None;
        match keep {
            Some(p) => {
                self.failed = Some(error);
                Some(Ok(p))
            }
            None => Some(Err(error)),
        }
    }
}

impl Iterator for CheckedVerbatim<'_> {
    type Item = Result<VerbatimRecord, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.failed.take() {
            self.done = true;
            self.pending = None;
            return Some(Err(e));
        }
        if self.done {
            return None;
        }
        loop {
            match self.read_next() {
                // `record` links to `pending`: that one is proven.
                Ok(Some(record)) => match self.pending.replace(record) {
                    Some(p) if p.record.seq <= self.to => return Some(Ok(p)),
                    _ => {}
                },
                Ok(None) => {
                    let last = self.expected - 1;
                    if last < self.to {
                        return self.stop(StoreError::Damaged(damage(
                            last + 1,
                            format!(
                                "missing record: the head names seq {} but the ledger ends at seq {last}",
                                self.head.seq
                            ),
                        )));
                    }
                    self.done = true;
                    return self
                        .pending
                        .take()
                        .filter(|p| p.record.seq <= self.to)
                        .map(Ok);
                }
                Err(e) => return self.stop(e),
            }
        }
    }
}
