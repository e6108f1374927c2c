//! The shared-writers check: two ledgers open at once on one store (two
//! servers on one database), one moving the head between the other's
//! reading it and committing. Run where [`Backend::shared_stores`] gives two
//! writers on one store (memory, PostgreSQL); a no-op where a store has one
//! writer (sled).

use std::collections::VecDeque;
use std::ops::Bound;
use std::path::Path;
use std::sync::{Arc, Mutex};

use onrecord_core::{DomainError, Stance, StreamId};

use super::drafts::*;
use super::{Backend, assert_sound};
use crate::storage::{Acknowledged, Applied, Entries, Entry, Expect, Storage, WriteSet};
use crate::{
    AppendOutcome, Clock, ExpectedRevision, Head, Ledger, Opening, StoreError, envelope, keys,
};

/// Something another writer does just before this store's next commit.
type Interleaved = Box<dyn FnOnce() + Send>;

/// A store that runs the first queued action right before each conditional
/// apply: the other writer commits after this one built its batch.
struct Interleaving {
    inner: Box<dyn Storage>,
    before_commit: Arc<Mutex<VecDeque<Interleaved>>>,
}

impl Storage for Interleaving {
    fn location(&self) -> &Path {
        self.inner.location()
    }
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get(key)
    }
    fn contains(&self, key: &[u8]) -> Result<bool, StoreError> {
        self.inner.contains(key)
    }
    fn reads_are_round_trips(&self) -> bool {
        self.inner.reads_are_round_trips()
    }
    fn read_ahead(
        &self,
        keys: &[Vec<u8>],
        spans: &[crate::read_ahead::Span],
    ) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        self.inner.read_ahead(keys, spans)
    }
    fn end_read_ahead(&self) {
        self.inner.end_read_ahead()
    }
    fn range(&self, start: Bound<&[u8]>, end: Bound<&[u8]>) -> Entries<'_> {
        self.inner.range(start, end)
    }
    fn last(&self, start: Bound<&[u8]>, end: Bound<&[u8]>) -> Result<Option<Entry>, StoreError> {
        self.inner.last(start, end)
    }
    fn apply(&self, writes: WriteSet) -> Result<(), StoreError> {
        self.inner.apply(writes)
    }
    fn apply_if(&self, expect: Expect, writes: WriteSet) -> Result<Applied, StoreError> {
        let queued = self
            .before_commit
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop_front();
        if let Some(other_writer) = queued {
            other_writer();
        }
        self.inner.apply_if(expect, writes)
    }
    fn hold_head(&self) -> Result<bool, StoreError> {
        self.inner.hold_head()
    }
    fn release_head(&self) {
        self.inner.release_head()
    }
    fn shared_writers(&self) -> bool {
        self.inner.shared_writers()
    }
    fn others_move_head(&self) -> bool {
        self.inner.others_move_head()
    }
    fn exclude_writers(&self) -> Result<(), StoreError> {
        self.inner.exclude_writers()
    }
    fn admit_writers(&self) {
        self.inner.admit_writers()
    }
    fn sync(&self) -> Result<(), StoreError> {
        self.inner.sync()
    }
    fn acknowledgement(&self) -> Acknowledged {
        self.inner.acknowledgement()
    }
    fn is_read_only(&self) -> bool {
        self.inner.is_read_only()
    }
}

/// Two writers on one store: `a` and `b`; `b`'s next commit lets `a` act first.
struct TwoWriters {
    a: Arc<Ledger>,
    b: Ledger,
    before_b_commits: Arc<Mutex<VecDeque<Interleaved>>>,
}

impl TwoWriters {
    /// Two ledgers on the backend's two shared stores, `a` seeded; `None`
    /// where a store takes one writer.
    fn open(backend: &mut dyn Backend) -> Option<Self> {
        let (first, second) = backend.shared_stores()?;
        assert!(first.shared_writers() && second.shared_writers());
        let a = Arc::new(
            Ledger::from_storage(first, Clock::default(), Opening::Create)
                .expect("a new store takes a new ledger"),
        );
        let before_b_commits = Arc::new(Mutex::new(VecDeque::new()));
        let b = Ledger::from_storage(
            Box::new(Interleaving {
                inner: second,
                before_commit: Arc::clone(&before_b_commits),
            }),
            Clock::default(),
            Opening::Existing,
        )
        .expect("a second writer opens the ledger");
        super::seed(&a);
        Some(Self {
            a,
            b,
            before_b_commits,
        })
    }

    /// Queues `action` on `a` to run just before one of `b`'s next commits
    /// (each commit runs the first action queued).
    fn a_first(&self, action: impl FnOnce(&Ledger) + Send + 'static) {
        let a = Arc::clone(&self.a);
        self.before_b_commits
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push_back(Box::new(move || action(&a)));
    }
}

/// The transaction times of the records, in seq order.
fn recorded_times(ledger: &Ledger) -> Vec<i64> {
    ledger
        .tree()
        .scan_prefix(&[keys::RECORD])
        .map(|kv| {
            let (key, bytes) = kv.expect("a record reads back");
            let seq = keys::record_seq(&key).expect("a record key");
            envelope::decode_envelope(&bytes, seq)
                .expect("a record decodes")
                .recorded_at
        })
        .collect()
}

/// When another writer moved the head after this one read it, the commit
/// is refused by the store, and the engine reads the ledger again and
/// rebuilds the batch on it: the sequence stays gapless, an expected
/// revision has one winner, an event id recorded by the other writer is
/// "already recorded", a statement the other retracted cannot be retracted
/// again, the kept views stay equal to the fold on both, and transaction
/// time never goes back.
pub fn a_head_moved_by_another_writer_is_rebuilt_on(backend: &mut dyn Backend) {
    let Some(w) = TwoWriters::open(backend) else {
        return;
    };

    // b sees a's appends before it builds (it reads the head first).
    let said =
        w.b.append(req(statement(
            "paris-meeting",
            "trump",
            Stance::Likely,
            "2018-11-08",
        )))
        .expect("b appends after a");
    assert_eq!(said.seq(), 5);

    // a appends between b's build and b's commit: b rebuilds at the next seq.
    w.a_first(|a| {
        a.append(req(party("macron", None))).expect("a appends");
    });
    let next =
        w.b.append(req(party("merkel", None)))
            .expect("b rebuilds on a's head");
    assert_eq!(
        next.seq(),
        7,
        "b's event follows a's, no gap and no overwrite"
    );
    assert_eq!(w.b.head().seq, 7);

    // One winner per expected revision: a takes revision 2 of the stream first.
    let stream = StreamId::Proposition(prop_id("paris-meeting"));
    let revision = w.b.stream_revision(&stream).unwrap().expect("it exists");
    w.a_first(move |a| {
        a.append(expecting(
            ExpectedRevision::Exact(revision),
            statement("paris-meeting", "kremlin", Stance::Unlikely, "2018-11-09"),
        ))
        .expect("a wins the race");
    });
    let lost =
        w.b.append(expecting(
            ExpectedRevision::Exact(revision),
            statement("paris-meeting", "peskov", Stance::Likely, "2018-11-09"),
        ))
        .unwrap_err();
    assert!(
        matches!(lost, StoreError::WrongExpectedRevision { .. }),
        "the loser of the race is told the stream moved: {lost:?}"
    );

    // An event id a records first is "already recorded" for b, at a's seq.
    let id = test_id(77);
    let draft = statement("paris-meeting", "trump", Stance::Unlikely, "2018-11-10");
    let for_a = draft.clone();
    w.a_first(move |a| {
        a.append(with_id(id, for_a)).expect("a records the id");
    });
    let again =
        w.b.append(with_id(id, draft))
            .expect("b's retry is answered");
    assert!(
        matches!(again, AppendOutcome::AlreadyRecorded { event_id, .. } if event_id == id),
        "{again:?}"
    );
    assert_eq!(again.seq(), w.a.current_head().unwrap().seq);

    // Facts b validated against change under it: a retracts the statement first.
    let said_id = said.event_id();
    w.a_first(move |a| {
        a.append(req(retraction(said_id))).expect("a retracts");
    });
    let refused = w.b.append(req(retraction(said_id))).unwrap_err();
    assert!(
        matches!(
            refused,
            StoreError::Invalid(DomainError::AlreadyRetracted(_))
        ),
        "a statement retracted by the other writer cannot be retracted again: {refused:?}"
    );

    // A group commit whose second batch meets a moved head rebuilds only it.
    w.a_first(|a| {
        a.append(req(party("putin", None))).expect("a appends");
    });
    let results = w.b.append_batches(vec![
        vec![req(party("zelensky", None))],
        vec![req(party("xi", None))],
    ]);
    let seqs: Vec<u64> = results
        .into_iter()
        .map(|r| r.expect("each batch is accepted")[0].seq())
        .collect();
    assert!(seqs[0] < seqs[1], "{seqs:?}");
    for (seq, name) in seqs.iter().zip(["zelensky", "xi"]) {
        let record =
            w.a.get(*seq)
                .unwrap()
                .expect("a batch acknowledged to b is committed, for a too");
        assert!(
            matches!(&record.event, onrecord_core::Event::PartyRegistered(p) if p.id.as_str() == name),
            "seq {seq} holds {:?}",
            record.event
        );
    }

    let head_a = w.a.current_head().unwrap();
    let head_b: Head = w.b.current_head().unwrap();
    assert_eq!(head_a, head_b, "both writers see one head");
    let times = recorded_times(&w.b);
    assert!(
        times.windows(2).all(|t| t[0] <= t[1]),
        "transaction time never goes back"
    );
    assert_sound(&w.a);
    assert_sound(&w.b);
}

/// A writer that keeps losing to another (its head moved before each of its
/// first commits) holds the head on its next try, where the store can
/// (PostgreSQL: the head row locked for the rebuild, other commits waiting),
/// and commits: it is never starved. The sequence stays gapless and both
/// writers' ledgers stay sound.
pub fn a_writer_that_keeps_losing_holds_the_head_and_commits(backend: &mut dyn Backend) {
    let Some(w) = TwoWriters::open(backend) else {
        return;
    };
    let before = w.a.head().seq;
    let losses = crate::ledger::OPTIMISTIC_TRIES;
    for i in 0..losses {
        w.a_first(move |a| {
            a.append(req(party(&format!("rival-{i}"), None)))
                .expect("the other writer commits first");
        });
    }
    let mine =
        w.b.append(req(party("persistent", None)))
            .expect("b commits in the end");
    assert_eq!(
        mine.seq(),
        before + u64::from(losses) + 1,
        "b's record follows every one it lost to, without a gap"
    );
    assert!(
        w.before_b_commits
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_empty(),
        "b lost {losses} times before it held the head"
    );
    assert_eq!(w.a.current_head().unwrap(), w.b.head());
    assert_sound(&w.a);
    assert_sound(&w.b);
}
