//! The backend conformance suite: the engine's invariants, written once and
//! run against every [`Storage`] backend (issue 13). A backend's tests
//! implement [`Backend`] (how to make a new store and open it again) and
//! expand [`conformance_tests!`](crate::conformance_tests) with it, which
//! makes one `#[test]` per check; `tests/conformance.rs` here does it for
//! [`MemoryStorage`], `onrecord-sled`'s for sled.
//!
//! What lives here: the scripted checks (`checks`), a model-based property
//! test that runs random operations against the ledger and a plain model of
//! the rules side by side (`model`), fault injection ([`FaultyStorage`]) and
//! the property test that drives it (`faults`), and the draft builders
//! ([`drafts`]). Behind the `conformance` feature, so that nothing of it
//! (nor proptest) is built into the engine for its users.
//!
//! A new check is a `pub fn(&mut dyn Backend)` in `checks` and its name in
//! the macro's list. The checks state the rules as the docs have them: for
//! one, a resolved proposition still takes statements (a backdated one
//! counts, docs/scoring.md); only a second resolution is refused.

mod checks;
pub mod drafts;
mod faults;
mod faulty;
mod model;
mod shared;

use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;

use onrecord_projections::{Filter, Position, PositionsFold};
use sha2::{Digest, Sha256};

use crate::envelope::{self, GENESIS_HASH};
use crate::keys;
use crate::read_ahead::{RangeRest, ReadMemo, Span};
use crate::storage::{Acknowledged, Applied, Entries, Entry, Expect, Storage, WriteSet};
use crate::{Clock, Head, Ledger, MemoryStorage, Opening, StoreError, ViewsVerified};

pub use checks::*;
pub use faults::injected_faults_leave_no_partial_state;
pub use faulty::{Fault, FaultPoint, FaultSwitch, FaultyStorage};
pub use model::random_operations_agree_with_a_model;
pub use shared::{
    a_head_moved_by_another_writer_is_rebuilt_on,
    a_writer_that_keeps_losing_holds_the_head_and_commits,
};

/// A storage backend under test: how to make a new store and open one again.
pub trait Backend {
    /// A new, empty store (not yet opened by the engine).
    fn new_store(&mut self) -> Box<dyn Storage>;

    /// Opens again the store [`Backend::new_store`] made last, as a process
    /// that restarts would. Every handle on it must have been dropped.
    fn reopen_store(&mut self) -> Box<dyn Storage>;

    /// How many cases each property test runs here: fewer on a backend
    /// whose every write costs a disk sync.
    fn property_cases(&self) -> u32 {
        64
    }

    /// Two stores open at once for writing on one new, empty store, as two
    /// servers on one database: `None` where a store takes one writer.
    fn shared_stores(&mut self) -> Option<(Box<dyn Storage>, Box<dyn Storage>)> {
        None
    }

    /// A new, empty ledger.
    fn create(&mut self) -> Ledger {
        Ledger::from_storage(self.new_store(), Clock::default(), Opening::Create)
            .expect("a new store takes a new ledger")
    }

    /// Closes `ledger` and opens its store again.
    fn reopen(&mut self, ledger: Ledger) -> Ledger {
        drop(ledger);
        Ledger::from_storage(self.reopen_store(), Clock::default(), Opening::Existing)
            .expect("a closed ledger opens again")
    }
}

/// The in-memory backend: each store a [`MemoryStorage`] that outlives the
/// ledgers opened on it (so "reopening" finds what was applied).
/// [`MemoryBackend::reading_ahead`] makes its stores behave as a server's
/// for reads: each says its reads are round trips and keeps what it reads
/// ahead, so the engine's read-ahead path runs the whole suite too.
#[derive(Debug, Default)]
pub struct MemoryBackend {
    last: Option<Arc<MemoryStorage>>,
    reads_ahead: bool,
}

impl MemoryBackend {
    /// A backend whose stores read ahead as PostgreSQL's do.
    pub fn reading_ahead() -> Self {
        Self {
            last: None,
            reads_ahead: true,
        }
    }

    fn handle(&self, store: Arc<MemoryStorage>, shared: bool) -> Box<dyn Storage> {
        Box::new(SharedMemory {
            store,
            shared,
            memo: self.reads_ahead.then(ReadMemo::default),
        })
    }
}

impl Backend for MemoryBackend {
    fn new_store(&mut self) -> Box<dyn Storage> {
        let store = Arc::new(MemoryStorage::new("memory"));
        self.last = Some(store.clone());
        self.handle(store, false)
    }

    fn reopen_store(&mut self) -> Box<dyn Storage> {
        let store = self.last.clone().expect("a store was made before");
        self.handle(store, false)
    }

    fn shared_stores(&mut self) -> Option<(Box<dyn Storage>, Box<dyn Storage>)> {
        let store = Arc::new(MemoryStorage::new("memory"));
        self.last = Some(store.clone());
        Some((self.handle(store.clone(), true), self.handle(store, true)))
    }
}

/// A handle on a [`MemoryStorage`] the backend keeps too: `shared` when
/// other handles write it meanwhile (the shared-writers check); with a
/// `memo`, its reads count as round trips and it keeps what it reads ahead.
struct SharedMemory {
    store: Arc<MemoryStorage>,
    shared: bool,
    memo: Option<ReadMemo>,
}

impl Storage for SharedMemory {
    fn location(&self) -> &Path {
        self.store.location()
    }
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(memo) = &self.memo else {
            return self.store.get(key);
        };
        if let Some(kept) = memo.recall(key) {
            return Ok(kept);
        }
        let value = self.store.get(key)?;
        memo.keep(key, value.as_deref());
        Ok(value)
    }
    fn contains(&self, key: &[u8]) -> Result<bool, StoreError> {
        if let Some(kept) = self.memo.as_ref().and_then(|m| m.recall(key)) {
            return Ok(kept.is_some());
        }
        self.store.contains(key)
    }
    fn reads_are_round_trips(&self) -> bool {
        self.memo.is_some()
    }
    fn read_ahead(
        &self,
        keys: &[Vec<u8>],
        spans: &[Span],
    ) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let values: Vec<Option<Vec<u8>>> = keys
            .iter()
            .map(|key| self.store.get(key))
            .collect::<Result<_, _>>()?;
        if let Some(memo) = &self.memo {
            let found = spans
                .iter()
                .map(|span| Ok((span.clone(), span.read_from(&*self.store)?)))
                .collect::<Result<Vec<_>, StoreError>>()?;
            memo.begin(keys.iter().cloned().zip(values.iter().cloned()), found);
        }
        Ok(values)
    }
    fn end_read_ahead(&self) {
        if let Some(memo) = &self.memo {
            memo.end();
        }
    }
    /// With a memo, a range starts with what a read-ahead settled of it,
    /// as PostgreSQL's does.
    fn range(&self, start: Bound<&[u8]>, end: Bound<&[u8]>) -> Entries<'_> {
        let Some((kept, rest)) = self.memo.as_ref().and_then(|m| m.recall_range(start, end)) else {
            return self.store.range(start, end);
        };
        let rest: Entries<'_> = match rest {
            RangeRest::Nothing => Box::new(std::iter::empty()),
            RangeRest::From(from) => {
                let from = match &from {
                    Bound::Included(k) => Bound::Included(k.as_slice()),
                    Bound::Excluded(k) => Bound::Excluded(k.as_slice()),
                    Bound::Unbounded => Bound::Unbounded,
                };
                self.store.range(from, end)
            }
        };
        Box::new(kept.into_iter().map(Ok).chain(rest))
    }
    fn last(&self, start: Bound<&[u8]>, end: Bound<&[u8]>) -> Result<Option<Entry>, StoreError> {
        if let Some(kept) = self.memo.as_ref().and_then(|m| m.recall_last(start, end)) {
            return Ok(kept);
        }
        self.store.last(start, end)
    }
    fn apply(&self, writes: WriteSet) -> Result<(), StoreError> {
        self.store.apply(writes)
    }
    fn apply_if(&self, expect: Expect, writes: WriteSet) -> Result<Applied, StoreError> {
        self.store.apply_if(expect, writes)
    }
    fn shared_writers(&self) -> bool {
        self.shared
    }
    fn sync(&self) -> Result<(), StoreError> {
        self.store.sync()
    }
    fn ensure_room(&self, record_bytes: u64) -> Result<(), StoreError> {
        self.store.ensure_room(record_bytes)
    }
    fn acknowledged(&self, head: &Head) {
        self.store.acknowledged(head)
    }
    fn acknowledgement(&self) -> Acknowledged {
        self.store.acknowledgement()
    }
    fn is_read_only(&self) -> bool {
        self.store.is_read_only()
    }
    fn size_on_disk(&self) -> Result<u64, StoreError> {
        self.store.size_on_disk()
    }
}

/// Expands to one `#[test]` per conformance check, each on a fresh backend
/// made by `$backend` (an expression, evaluated once per test).
#[macro_export]
macro_rules! conformance_tests {
    ($backend:expr) => {
        $crate::conformance_tests!(@each $backend;
            sequence_is_gapless_from_one_across_batches_and_reopening,
            records_chain_by_sha256_and_the_head_holds_the_last_hash,
            an_explicit_event_id_is_idempotent_and_a_clash_writes_nothing,
            expected_revision_admits_and_refuses_in_all_four_forms,
            a_batch_with_a_refusal_in_the_middle_writes_nothing,
            only_a_recorded_unretracted_statement_can_be_retracted,
            a_proposition_resolves_once_and_still_takes_backdated_statements,
            kept_views_equal_the_fold_through_backdating_and_retractions,
            reads_answer_by_seq_id_range_and_stream,
            a_refused_first_append_leaves_the_store_unwritten,
            an_import_is_all_or_nothing_across_chunks,
            a_failed_apply_changes_nothing,
            a_failed_read_refuses_the_write_as_a_storage_error,
            a_failed_sync_refuses_writes_until_reopened,
            a_group_commit_takes_each_batch_alone_and_shares_one_sync,
            an_import_cut_short_by_a_fault_is_undone,
            every_record_keeps_who_recorded_it_through_reopen_and_import,
            records_copied_verbatim_rebuild_the_same_keyspace,
            random_operations_agree_with_a_model,
            injected_faults_leave_no_partial_state,
            a_head_moved_by_another_writer_is_rebuilt_on,
            a_writer_that_keeps_losing_holds_the_head_and_commits,
        );
    };
    (@each $backend:expr; $($check:ident),* $(,)?) => {
        $(
            #[test]
            fn $check() {
                let mut backend = $backend;
                $crate::conformance::$check(&mut backend);
            }
        )*
    };
}

/// Every key and value the ledger's store holds (what "nothing changed" compares).
pub fn keyspace(ledger: &Ledger) -> BTreeMap<Vec<u8>, Vec<u8>> {
    ledger
        .tree()
        .range(Bound::Unbounded, Bound::Unbounded)
        .map(|kv| kv.expect("the store reads back"))
        .collect()
}

/// Current positions folded from the whole log by the projections' fold (the
/// one the query path uses when it cannot read the kept views), quotes filled in.
pub fn folded_positions(ledger: &Ledger) -> Vec<Position> {
    let mut fold = PositionsFold::new(Filter::default(), None);
    for rec in ledger.records_from(1) {
        fold.apply(&rec.expect("a record reads back"));
    }
    fold.finish_quoted(|seq| ledger.get(seq))
        .expect("the statements read back")
}

/// Asserts what every sound ledger shows: the records are seqs 1..=head with
/// none past it, each record's `prev_hash` is the SHA-256 of the one before
/// (zeros before seq 1), the head holds the last record's hash, `verify`
/// finds no damage, and the kept views equal the fold of the log.
pub fn assert_sound(ledger: &Ledger) {
    let head = ledger.head();
    let mut prev = GENESIS_HASH;
    let mut next = 1;
    for kv in ledger.tree().scan_prefix(&[keys::RECORD]) {
        let (key, bytes) = kv.expect("a record reads back");
        let seq = keys::record_seq(&key).expect("a record key holds its seq");
        assert_eq!(seq, next, "the sequence must be gapless from 1");
        let env = envelope::decode_envelope(&bytes, seq).expect("a record decodes");
        assert_eq!(env.seq, seq, "record {seq} must name its own seq");
        assert_eq!(
            env.prev_hash,
            prev,
            "record {seq} must chain to record {}",
            seq - 1
        );
        prev = Sha256::digest(&bytes).into();
        next += 1;
    }
    assert_eq!(
        (head.seq, head.hash),
        (next - 1, prev),
        "the head must be the last record and its hash"
    );
    let report = ledger.verify(&mut |_, _| {}).expect("verify runs");
    assert_eq!(report.damage, None, "verify must find no damage");
    assert_eq!((report.head, report.records), (head, head.seq));
    let kept = ledger.positions(None).expect("the kept views read back");
    assert_eq!(
        report.views,
        ViewsVerified::Equal {
            positions: kept.len() as u64
        }
    );
    assert_eq!(
        kept,
        folded_positions(ledger),
        "kept views must equal the fold"
    );
}

/// The head of an empty ledger.
pub const EMPTY_HEAD: Head = Head {
    seq: 0,
    hash: GENESIS_HASH,
};
