//! What the engine reads ahead on a store whose reads are round trips
//! (PostgreSQL): a statement said before a pair's current one finds its
//! kept neighbours in the read-ahead's spans, so building it sends no
//! lookup of its own to the store, and the views it writes are the ones a
//! replay gives (`verify`). Counted on an in-memory store that reads ahead
//! as PostgreSQL's does; deterministic (no timing).
#![cfg(feature = "conformance")]

use std::ops::Bound;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use onrecord_core::Stance;
use onrecord_ledger::conformance::drafts::{party, proposition, req, statement};
use onrecord_ledger::read_ahead::{RangeRest, ReadMemo, Span};
use onrecord_ledger::storage::{Entries, Entry};
use onrecord_ledger::{Clock, Ledger, MemoryStorage, Opening, Storage, StoreError, WriteSet};

/// A memory store that counts each read that reaches it outside a read-ahead.
struct CountingStore {
    inner: MemoryStorage,
    memo: ReadMemo,
    /// Point reads, `last`s and ranges the memo could not answer.
    lookups: AtomicUsize,
    /// Calls of `read_ahead` (each one round trip on PostgreSQL).
    read_aheads: AtomicUsize,
}

impl CountingStore {
    fn lookup(&self) {
        self.lookups.fetch_add(1, Ordering::Relaxed);
    }
}

impl Storage for &'static CountingStore {
    fn location(&self) -> &Path {
        self.inner.location()
    }
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(kept) = self.memo.recall(key) {
            return Ok(kept);
        }
        self.lookup();
        self.inner.get(key)
    }
    fn reads_are_round_trips(&self) -> bool {
        true
    }
    /// One lookup for all of them (one round trip on PostgreSQL).
    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        self.lookup();
        keys.iter().map(|k| self.inner.get(k)).collect()
    }
    fn read_ahead(
        &self,
        keys: &[Vec<u8>],
        spans: &[Span],
    ) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        self.read_aheads.fetch_add(1, Ordering::Relaxed);
        let values: Vec<_> = keys
            .iter()
            .map(|k| self.inner.get(k))
            .collect::<Result<_, _>>()?;
        let found = spans
            .iter()
            .map(|span| Ok((span.clone(), span.read_from(&self.inner)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.memo
            .begin(keys.iter().cloned().zip(values.iter().cloned()), found);
        Ok(values)
    }
    fn end_read_ahead(&self) {
        self.memo.end();
    }
    /// What the read-ahead settled, then (counted, and only if the reader
    /// goes on past it) the store, as PostgreSQL's pages do.
    fn range(&self, start: Bound<&[u8]>, end: Bound<&[u8]>) -> Entries<'_> {
        let (kept, from) = match self.memo.recall_range(start, end) {
            Some((kept, RangeRest::Nothing)) => return Box::new(kept.into_iter().map(Ok)),
            Some((kept, RangeRest::From(from))) => (kept, from),
            None => (Vec::new(), start.map(<[u8]>::to_vec)),
        };
        let end = end.map(<[u8]>::to_vec);
        let mut rest: Option<Entries<'_>> = None;
        let store = *self;
        let more = std::iter::from_fn(move || {
            let rest = rest.get_or_insert_with(|| {
                store.lookup();
                store.inner.range(
                    from.as_ref().map(Vec::as_slice),
                    end.as_ref().map(Vec::as_slice),
                )
            });
            rest.next()
        });
        Box::new(kept.into_iter().map(Ok).chain(more))
    }
    fn last(&self, start: Bound<&[u8]>, end: Bound<&[u8]>) -> Result<Option<Entry>, StoreError> {
        if let Some(kept) = self.memo.recall_last(start, end) {
            return Ok(kept);
        }
        self.lookup();
        self.inner.last(start, end)
    }
    fn apply(&self, writes: WriteSet) -> Result<(), StoreError> {
        self.inner.apply(writes)
    }
    fn sync(&self) -> Result<(), StoreError> {
        self.inner.sync()
    }
}

fn counting_ledger() -> (Ledger, &'static CountingStore) {
    let store: &'static CountingStore = Box::leak(Box::new(CountingStore {
        inner: MemoryStorage::new("memory"),
        memo: ReadMemo::default(),
        lookups: AtomicUsize::new(0),
        read_aheads: AtomicUsize::new(0),
    }));
    let ledger = Ledger::from_storage(Box::new(store), Clock::default(), Opening::Create).unwrap();
    (ledger, store)
}

/// What appending `batch` sent to the store: (read-aheads, other lookups).
fn reads_of(
    ledger: &Ledger,
    store: &CountingStore,
    batch: Vec<onrecord_core::Draft>,
) -> (usize, usize) {
    let (aheads, lookups) = (
        store.read_aheads.load(Ordering::Relaxed),
        store.lookups.load(Ordering::Relaxed),
    );
    ledger
        .append_batch(batch.into_iter().map(req).collect())
        .unwrap();
    (
        store.read_aheads.load(Ordering::Relaxed) - aheads,
        store.lookups.load(Ordering::Relaxed) - lookups,
    )
}

#[test]
fn a_backdated_statement_finds_its_kept_neighbours_in_the_read_ahead() {
    let (ledger, store) = counting_ledger();
    let setup = vec![proposition("paris"), party("trump", None)];
    ledger
        .append_batch(setup.into_iter().map(req).collect())
        .unwrap();
    // Sided statements spread over November: the pair's current one is the 20th.
    for day in ["2018-11-02", "2018-11-08", "2018-11-14", "2018-11-20"] {
        let stance = if day < "2018-11-10" {
            Stance::Unlikely
        } else {
            Stance::Likely
        };
        ledger
            .append(req(statement("paris", "trump", stance, day)))
            .unwrap();
    }

    // Said on the 10th, between an unlikely and a likely one: both its
    // neighbours are looked for, and both are in the read-ahead.
    let (aheads, lookups) = reads_of(
        &ledger,
        store,
        vec![statement("paris", "trump", Stance::Likely, "2018-11-10")],
    );
    assert_eq!(lookups, 0, "no lookup of its own reached the store");
    assert!(aheads <= 2, "{aheads} read-aheads");

    // A batch whose second statement is said before its first: backdated
    // within the batch, its neighbours are read ahead too.
    let (_, lookups) = reads_of(
        &ledger,
        store,
        vec![
            statement("paris", "trump", Stance::Unlikely, "2018-11-25"),
            statement("paris", "trump", Stance::Unlikely, "2018-11-05"),
        ],
    );
    assert_eq!(lookups, 0, "no lookup of its own reached the store");

    let report = ledger.verify(&mut |_, _| {}).unwrap();
    assert_eq!(report.damage, None, "the kept views are the replay's");
    let positions = ledger.positions(None).unwrap();
    assert_eq!(positions.len(), 1);
    assert_eq!(positions[0].statements, 7);
}

/// `speaker`'s statement that names no party: the party is whom the speaker speaks for.
fn spoken_by(prop: &str, speaker: &str, stance: Stance, day: &str) -> onrecord_core::Draft {
    let mut draft = statement(prop, speaker, stance, day);
    if let onrecord_core::Draft::Statement(s) = &mut draft {
        s.speaker = s.party.take();
    }
    draft
}

#[test]
fn a_spokesperson_s_statement_reads_ahead_the_position_of_whom_they_speak_for() {
    let (ledger, store) = counting_ledger();
    let setup = vec![
        proposition("paris"),
        party("kremlin", None),
        party("peskov", Some("kremlin")),
    ];
    ledger
        .append_batch(setup.into_iter().map(req).collect())
        .unwrap();
    ledger
        .append(req(spoken_by(
            "paris",
            "peskov",
            Stance::Likely,
            "2018-11-06",
        )))
        .unwrap();

    // Peskov's registration is known by now: the Kremlin's stream, chunk
    // and kept position are what the read-ahead asks for, not Peskov's.
    let (aheads, lookups) = reads_of(
        &ledger,
        store,
        vec![spoken_by(
            "paris",
            "peskov",
            Stance::AlmostCertain,
            "2018-11-07",
        )],
    );
    assert_eq!((aheads, lookups), (1, 0), "one read-ahead and nothing else");
    let positions = ledger.positions(None).unwrap();
    assert_eq!(positions.len(), 1);
    assert_eq!(positions[0].party.as_str(), "kremlin");
    assert_eq!(positions[0].statements, 2);
}

#[test]
fn an_import_reads_each_chunk_ahead_rather_than_each_request() {
    let (ledger, store) = counting_ledger();
    let mut drafts = vec![proposition("paris"), proposition("g20")];
    for p in 0..5 {
        drafts.push(party(&format!("p{p}"), None));
    }
    // Statements said on scattered days: most are backdated against their pair's latest.
    for i in 0..3_000u32 {
        let day = format!("2018-{:02}-{:02}", 1 + (i * 7) % 12, 1 + (i * 13) % 28);
        let stance = [Stance::Likely, Stance::Unlikely, Stance::EvenChance][i as usize % 3];
        let prop = ["paris", "g20"][i as usize % 2];
        drafts.push(statement(prop, &format!("p{}", i % 5), stance, &day));
    }
    let lookups = store.lookups.load(Ordering::Relaxed);
    let mut check = ledger.import().unwrap();
    for d in &drafts {
        check.check(req(d.clone())).unwrap();
    }
    let mut write = check.into_writer().unwrap();
    for d in drafts {
        write.write(req(d)).unwrap();
    }
    write.commit().unwrap();
    let lookups = store.lookups.load(Ordering::Relaxed) - lookups;
    eprintln!(
        "LOOKUPS {lookups} AHEADS {}",
        store.read_aheads.load(Ordering::Relaxed)
    );
    assert!(lookups < 100, "{lookups} lookups for 3,007 requests");
    assert_eq!(ledger.verify(&mut |_, _| {}).unwrap().damage, None);
}
