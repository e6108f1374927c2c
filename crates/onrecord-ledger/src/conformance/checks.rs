//! The scripted conformance checks, one engine invariant each, every one
//! taking the backend under test. Each ends with [`assert_sound`] (chain,
//! sequence, head, `verify`, kept views against the fold).

use onrecord_core::{DomainError, Draft, Event, Outcome, Stance, StreamId};
use onrecord_projections::Filter;

use super::drafts::*;
use super::{
    Backend, EMPTY_HEAD, Fault, FaultPoint, FaultSwitch, FaultyStorage, assert_sound,
    folded_positions, keyspace,
};
use crate::envelope;
use crate::keys;
use crate::{
    AppendOutcome, AppendRequest, Clock, ErrorKind, ExpectedRevision, IMPORT_CHUNK, Ledger,
    Opening, StoreError,
};

/// The founding story's parties and proposition: seqs 1-4 of a new ledger.
pub fn seed(ledger: &Ledger) {
    ledger
        .append_batch(vec![
            req(party("trump", None)),
            req(party("kremlin", None)),
            req(party("peskov", Some("kremlin"))),
            req(proposition("paris-meeting")),
        ])
        .expect("the seed batch is valid");
}

/// The seqs of a batch's outcomes.
fn seqs(outcomes: &[AppendOutcome]) -> Vec<u64> {
    outcomes.iter().map(AppendOutcome::seq).collect()
}

/// The refusals of a rejected batch, by index (panics on any other result).
fn refusals<T: std::fmt::Debug>(result: Result<T, StoreError>) -> Vec<(usize, StoreError)> {
    match result {
        Err(StoreError::BatchRejected(errors)) => errors,
        other => panic!("expected a rejected batch, got {other:?}"),
    }
}

/// A statement by trump on paris-meeting said on `day` of November 2018.
fn trump_says(stance: Stance, day: u8) -> onrecord_core::Draft {
    statement(
        "paris-meeting",
        "trump",
        stance,
        &format!("2018-11-{day:02}"),
    )
}

/// A ledger over `backend`'s new store wrapped in a [`FaultyStorage`] on `switch`.
fn faulty_ledger(backend: &mut dyn Backend, switch: &FaultSwitch) -> Ledger {
    let store = FaultyStorage::new(backend.new_store(), switch.clone());
    Ledger::from_storage(Box::new(store), Clock::default(), Opening::Create)
        .expect("a new store takes a new ledger")
}

/// `ledger` closed and opened again, wrapped on `switch` again.
fn reopen_faulty(backend: &mut dyn Backend, ledger: Ledger, switch: &FaultSwitch) -> Ledger {
    drop(ledger);
    let store = FaultyStorage::new(backend.reopen_store(), switch.clone());
    Ledger::from_storage(Box::new(store), Clock::default(), Opening::Existing)
        .expect("a closed ledger opens again")
}

/// Seq 1 starts the ledger; each append and each batch's events take the next
/// seqs, without a gap, and a reopened ledger goes on from its head.
pub fn sequence_is_gapless_from_one_across_batches_and_reopening(backend: &mut dyn Backend) {
    let ledger = backend.create();
    assert_eq!(ledger.head(), EMPTY_HEAD);
    assert_sound(&ledger);
    let first = ledger.append(req(party("trump", None))).unwrap();
    assert_eq!(first.seq(), 1);
    let batch = ledger
        .append_batch(vec![
            req(party("kremlin", None)),
            req(party("peskov", Some("kremlin"))),
            req(proposition("paris-meeting")),
        ])
        .unwrap();
    assert_eq!(seqs(&batch), vec![2, 3, 4]);
    assert_eq!(ledger.append_batch(Vec::new()).unwrap(), Vec::new());
    assert_eq!(ledger.head().seq, 4, "an empty batch appends nothing");
    assert_sound(&ledger);
    let head = ledger.head();
    let ledger = backend.reopen(ledger);
    assert_eq!(ledger.head(), head, "a reopened ledger keeps its head");
    let next = ledger.append(req(trump_says(Stance::Unlikely, 5))).unwrap();
    assert_eq!(next.seq(), 5);
    let all: Vec<u64> = ledger.records_from(1).map(|r| r.unwrap().seq).collect();
    assert_eq!(all, vec![1, 2, 3, 4, 5]);
    assert_sound(&ledger);
}

/// Each stored record's `prev_hash` is the SHA-256 of the record before it
/// (zeros before seq 1), and the head names the last record and its hash,
/// also after a reopen.
pub fn records_chain_by_sha256_and_the_head_holds_the_last_hash(backend: &mut dyn Backend) {
    let ledger = backend.create();
    seed(&ledger);
    ledger.append(req(trump_says(Stance::Likely, 5))).unwrap();
    let mut prev = [0u8; 32];
    for seq in 1..=ledger.head().seq {
        let bytes = ledger
            .tree()
            .get(&keys::record(seq))
            .unwrap()
            .expect("every seq up to the head is stored");
        let env = envelope::decode_envelope(&bytes, seq).unwrap();
        assert_eq!(env.prev_hash, prev, "seq {seq} chains to seq {}", seq - 1);
        use sha2::Digest;
        prev = sha2::Sha256::digest(&bytes).into();
    }
    assert_eq!(
        ledger.head().hash,
        prev,
        "the head holds the last record's hash"
    );
    let head = ledger.head();
    let ledger = backend.reopen(ledger);
    assert_eq!(ledger.head(), head);
    assert_sound(&ledger);
}

/// A known event id with the same content is a no-op answering the original
/// seq (in a later append, in the same batch, after a reopen); with other
/// content it is a conflict that writes nothing.
pub fn an_explicit_event_id_is_idempotent_and_a_clash_writes_nothing(backend: &mut dyn Backend) {
    let ledger = backend.create();
    seed(&ledger);
    let said = with_id(test_id(1), trump_says(Stance::Unlikely, 5));
    assert_eq!(
        ledger.append(said.clone()).unwrap(),
        AppendOutcome::Appended {
            seq: 5,
            event_id: test_id(1)
        }
    );
    let before = keyspace(&ledger);
    assert_eq!(
        ledger.append(said.clone()).unwrap(),
        AppendOutcome::AlreadyRecorded {
            seq: 5,
            event_id: test_id(1)
        }
    );
    assert_eq!(keyspace(&ledger), before, "a re-send writes nothing");
    for clash in [
        trump_says(Stance::Likely, 5),
        trump_says(Stance::Unlikely, 6),
        party("putin", None),
    ] {
        let err = ledger.append(with_id(test_id(1), clash)).unwrap_err();
        assert!(
            matches!(err, StoreError::EventIdConflict(id) if id == test_id(1)),
            "{err:?}"
        );
        assert_eq!(err.kind(), ErrorKind::Conflict);
        assert_eq!(keyspace(&ledger), before, "a clash writes nothing");
    }
    // In a batch: a known id, and a new id given twice.
    let out = ledger
        .append_batch(vec![
            said.clone(),
            with_id(test_id(2), party("putin", None)),
            with_id(test_id(2), party("putin", None)),
        ])
        .unwrap();
    assert_eq!(
        out,
        vec![
            AppendOutcome::AlreadyRecorded {
                seq: 5,
                event_id: test_id(1)
            },
            AppendOutcome::Appended {
                seq: 6,
                event_id: test_id(2)
            },
            AppendOutcome::AlreadyRecorded {
                seq: 6,
                event_id: test_id(2)
            },
        ]
    );
    let before = keyspace(&ledger);
    let errors = refusals(ledger.append_batch(vec![
        with_id(test_id(3), party("lavrov", None)),
        with_id(test_id(3), party("bolton", None)),
    ]));
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].0, 1);
    assert!(matches!(errors[0].1, StoreError::EventIdConflict(_)));
    assert_eq!(keyspace(&ledger), before);
    // A retraction re-sent after it took effect is a no-op, not "already retracted".
    let retract = with_id(test_id(4), retraction(test_id(1)));
    let first = ledger.append(retract.clone()).unwrap();
    let ledger = backend.reopen(ledger);
    assert_eq!(
        ledger.append(retract).unwrap(),
        AppendOutcome::AlreadyRecorded {
            seq: first.seq(),
            event_id: test_id(4)
        }
    );
    assert_eq!(
        ledger.append(said).unwrap(),
        AppendOutcome::AlreadyRecorded {
            seq: 5,
            event_id: test_id(1)
        }
    );
    assert_sound(&ledger);
}

/// `Any` always admits; `NoStream`, `StreamExists` and `Exact(n)` each admit
/// the stream state they name and refuse every other with a conflict that
/// writes nothing; a retraction is checked on its statement's proposition
/// stream; a batch's later events see the revisions its earlier ones made.
pub fn expected_revision_admits_and_refuses_in_all_four_forms(backend: &mut dyn Backend) {
    let ledger = backend.create();
    seed(&ledger);
    let paris = StreamId::Proposition(prop_id("paris-meeting"));
    let refused = |request: AppendRequest, stream: &StreamId, actual: &str| {
        let before = keyspace(&ledger);
        let expected = request.expected.to_string();
        match ledger.append(request) {
            Err(StoreError::WrongExpectedRevision {
                stream: s,
                expected: e,
                actual: a,
            }) => assert_eq!((&s, e.as_str(), a.as_str()), (stream, &*expected, actual)),
            other => panic!("expected a revision conflict, got {other:?}"),
        }
        assert_eq!(keyspace(&ledger), before, "a conflict writes nothing");
    };
    // Any.
    ledger
        .append(expecting(
            ExpectedRevision::Any,
            trump_says(Stance::Likely, 5),
        ))
        .unwrap();
    ledger
        .append(expecting(ExpectedRevision::Any, party("putin", None)))
        .unwrap();
    // NoStream.
    refused(
        expecting(ExpectedRevision::NoStream, party("trump", None)),
        &StreamId::Party(pid("trump")),
        "1",
    );
    ledger
        .append(expecting(ExpectedRevision::NoStream, proposition("g20")))
        .unwrap();
    // StreamExists.
    refused(
        expecting(ExpectedRevision::StreamExists, proposition("summit")),
        &StreamId::Proposition(prop_id("summit")),
        "no-stream",
    );
    ledger
        .append(expecting(
            ExpectedRevision::StreamExists,
            trump_says(Stance::Unlikely, 6),
        ))
        .unwrap();
    // Exact: paris-meeting is at 2 (opened, then two statements).
    assert_eq!(ledger.stream_revision(&paris).unwrap(), Some(2));
    for wrong in [0, 1, 3] {
        refused(
            expecting(
                ExpectedRevision::Exact(wrong),
                trump_says(Stance::Likely, 7),
            ),
            &paris,
            "2",
        );
    }
    refused(
        expecting(ExpectedRevision::Exact(0), party("lavrov", None)),
        &StreamId::Party(pid("lavrov")),
        "no-stream",
    );
    let said = ledger
        .append(expecting(
            ExpectedRevision::Exact(2),
            trump_says(Stance::Likely, 7),
        ))
        .unwrap();
    // A retraction: checked on its statement's proposition, now at 3.
    refused(
        expecting(ExpectedRevision::Exact(2), retraction(said.event_id())),
        &paris,
        "3",
    );
    refused(
        expecting(ExpectedRevision::NoStream, retraction(said.event_id())),
        &paris,
        "3",
    );
    ledger
        .append(expecting(
            ExpectedRevision::Exact(3),
            retraction(said.event_id()),
        ))
        .unwrap();
    // A batch sees its own revisions: each statement expects the one before
    // it, and streams it creates exist for its later events.
    let kinds = |errors: Vec<(usize, StoreError)>| -> Vec<(usize, ErrorKind)> {
        errors.iter().map(|(i, e)| (*i, e.kind())).collect()
    };
    let errors = refusals(ledger.append_batch(vec![
        expecting(ExpectedRevision::Exact(4), trump_says(Stance::Likely, 8)),
        expecting(ExpectedRevision::Exact(5), trump_says(Stance::Likely, 9)),
        expecting(ExpectedRevision::NoStream, party("bolton", None)),
        expecting(ExpectedRevision::Exact(0), party("pompeo", Some("bolton"))),
    ]));
    assert_eq!(
        kinds(errors),
        vec![(3, ErrorKind::Conflict)],
        "pompeo's stream does not exist yet"
    );
    let errors = refusals(ledger.append_batch(vec![
        expecting(ExpectedRevision::Exact(4), trump_says(Stance::Likely, 8)),
        expecting(ExpectedRevision::Exact(5), trump_says(Stance::Likely, 9)),
        expecting(ExpectedRevision::NoStream, party("bolton", None)),
        expecting(ExpectedRevision::StreamExists, party("bolton", None)),
    ]));
    assert_eq!(
        kinds(errors),
        vec![(3, ErrorKind::Invalid)],
        "bolton's stream exists by then, so only the duplicate registration is refused"
    );
    let out = ledger
        .append_batch(vec![
            expecting(ExpectedRevision::Exact(4), trump_says(Stance::Likely, 8)),
            expecting(ExpectedRevision::Exact(5), trump_says(Stance::Likely, 9)),
            expecting(ExpectedRevision::NoStream, party("bolton", None)),
        ])
        .unwrap();
    assert_eq!(out.len(), 3);
    assert_eq!(ledger.stream_revision(&paris).unwrap(), Some(6));
    assert_sound(&ledger);
}

/// A batch with a refused event in the middle writes nothing at all (no
/// record, index, stream head, view or head), lists every refusal by its
/// index, and the same batch without the bad event then goes in whole.
pub fn a_batch_with_a_refusal_in_the_middle_writes_nothing(backend: &mut dyn Backend) {
    let ledger = backend.create();
    seed(&ledger);
    ledger.append(req(trump_says(Stance::Unlikely, 5))).unwrap();
    let before = keyspace(&ledger);
    let head = ledger.head();
    let positions = ledger.positions(None).unwrap();
    let valid_batch = || {
        vec![
            req(party("putin", Some("kremlin"))),
            req(statement(
                "paris-meeting",
                "putin",
                Stance::Likely,
                "2018-10-23",
            )),
            req(proposition("g20")),
            req(statement("g20", "putin", Stance::VeryLikely, "2018-11-02")),
        ]
    };
    let mut batch = valid_batch();
    batch.insert(
        2,
        req(statement(
            "paris-meeting",
            "nobody",
            Stance::Likely,
            "2018-10-23",
        )),
    );
    let errors = refusals(ledger.append_batch(batch));
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].0, 2);
    assert!(matches!(
        &errors[0].1,
        StoreError::Invalid(DomainError::UnknownParty(p)) if p.as_str() == "nobody"
    ));
    assert_eq!(ledger.head(), head, "a refused batch leaves the head");
    assert_eq!(keyspace(&ledger), before, "a refused batch writes nothing");
    assert_eq!(ledger.positions(None).unwrap(), positions);
    assert_eq!(
        ledger
            .stream_revision(&StreamId::Party(pid("putin")))
            .unwrap(),
        None
    );
    // Two refusals of two kinds, each named by its index.
    let mut batch = valid_batch();
    batch.insert(
        1,
        expecting(ExpectedRevision::NoStream, party("trump", None)),
    );
    batch.push(req(resolution("nowhere", Outcome::Happened, "2018-12-01")));
    let err = ledger.append_batch(batch).unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Invalid,
        "not every refusal is a conflict"
    );
    let errors = refusals::<()>(Err(err));
    assert_eq!(
        errors
            .iter()
            .map(|(i, e)| (*i, e.kind()))
            .collect::<Vec<_>>(),
        vec![(1, ErrorKind::Conflict), (5, ErrorKind::Invalid)]
    );
    assert_eq!(keyspace(&ledger), before);
    let ledger = backend.reopen(ledger);
    assert_eq!(ledger.head(), head);
    let out = ledger.append_batch(valid_batch()).unwrap();
    assert_eq!(
        seqs(&out),
        (head.seq + 1..=head.seq + 4).collect::<Vec<_>>()
    );
    assert_sound(&ledger);
}

/// Only a recorded statement that is not yet retracted can be retracted: an
/// unknown id and the id of another kind of event are refused, and so is a
/// second retraction, in later appends and inside one batch.
pub fn only_a_recorded_unretracted_statement_can_be_retracted(backend: &mut dyn Backend) {
    let ledger = backend.create();
    seed(&ledger);
    let trump_registered = ledger.get(1).unwrap().unwrap().event_id;
    for not_a_statement in [test_id(99), trump_registered] {
        let before = keyspace(&ledger);
        let err = ledger.append(req(retraction(not_a_statement))).unwrap_err();
        assert!(
            matches!(err, StoreError::Invalid(DomainError::UnknownStatement(id)) if id == not_a_statement),
            "{err:?}"
        );
        assert_eq!(keyspace(&ledger), before);
    }
    let said = ledger.append(req(trump_says(Stance::Unlikely, 5))).unwrap();
    let kept_before = ledger.positions(None).unwrap();
    assert_eq!(kept_before.len(), 1);
    let out = ledger.append(req(retraction(said.event_id()))).unwrap();
    assert_eq!(out.seq(), said.seq() + 1);
    assert_eq!(
        ledger.positions(None).unwrap(),
        Vec::new(),
        "a retracted statement no longer counts"
    );
    for stream in [
        StreamId::Proposition(prop_id("paris-meeting")),
        StreamId::Party(pid("trump")),
    ] {
        let last = ledger.stream(&stream).last().unwrap().unwrap();
        assert_eq!(last.seq, out.seq(), "a retraction joins both streams");
    }
    let before = keyspace(&ledger);
    let err = ledger.append(req(retraction(said.event_id()))).unwrap_err();
    assert!(matches!(
        err,
        StoreError::Invalid(DomainError::AlreadyRetracted(id)) if id == said.event_id()
    ));
    assert_eq!(keyspace(&ledger), before);
    // Inside one batch: said, retracted, and retracted again (refused).
    let errors = refusals(ledger.append_batch(vec![
        with_id(test_id(1), trump_says(Stance::Likely, 6)),
        req(retraction(test_id(1))),
        req(retraction(test_id(1))),
    ]));
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].0, 2);
    assert!(matches!(
        errors[0].1,
        StoreError::Invalid(DomainError::AlreadyRetracted(_))
    ));
    assert_eq!(keyspace(&ledger), before);
    ledger
        .append_batch(vec![
            with_id(test_id(1), trump_says(Stance::Likely, 6)),
            req(retraction(test_id(1))),
        ])
        .unwrap();
    let ledger = backend.reopen(ledger);
    assert!(matches!(
        ledger.append(req(retraction(test_id(1)))).unwrap_err(),
        StoreError::Invalid(DomainError::AlreadyRetracted(_))
    ));
    assert_sound(&ledger);
}

/// A proposition resolves once: resolving an unknown one or one already
/// resolved is refused (also within one batch). It still takes statements
/// afterwards: a statement recorded after the resolution but said before it
/// counts (docs/scoring.md), so the engine accepts it.
pub fn a_proposition_resolves_once_and_still_takes_backdated_statements(backend: &mut dyn Backend) {
    let ledger = backend.create();
    seed(&ledger);
    let before = keyspace(&ledger);
    let err = ledger
        .append(req(resolution("nowhere", Outcome::Happened, "2018-11-11")))
        .unwrap_err();
    assert!(matches!(
        err,
        StoreError::Invalid(DomainError::UnknownProposition(_))
    ));
    assert_eq!(keyspace(&ledger), before);
    ledger.append(req(trump_says(Stance::Unlikely, 5))).unwrap();
    let resolved = ledger
        .append(req(resolution(
            "paris-meeting",
            Outcome::Happened,
            "2018-11-11",
        )))
        .unwrap();
    assert_eq!(
        ledger
            .resolution(&prop_id("paris-meeting"))
            .unwrap()
            .map(|r| r.seq),
        Some(resolved.seq())
    );
    let before = keyspace(&ledger);
    let err = ledger
        .append(req(resolution(
            "paris-meeting",
            Outcome::DidNotHappen,
            "2018-11-12",
        )))
        .unwrap_err();
    assert!(matches!(
        err,
        StoreError::Invalid(DomainError::AlreadyResolved(_))
    ));
    assert_eq!(keyspace(&ledger), before);
    let errors = refusals(ledger.append_batch(vec![
        req(proposition("g20")),
        req(resolution("g20", Outcome::Happened, "2018-12-01")),
        req(resolution("g20", Outcome::DidNotHappen, "2018-12-01")),
    ]));
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].0, 2);
    assert_eq!(keyspace(&ledger), before);
    // A backdated statement after the resolution is taken, and counts.
    let late = ledger
        .append(req(statement(
            "paris-meeting",
            "kremlin",
            Stance::AlmostCertain,
            "2018-11-06",
        )))
        .unwrap();
    let kept = ledger.positions(None).unwrap();
    assert!(kept.iter().any(|p| p.statement == late.event_id()));
    let ledger = backend.reopen(ledger);
    assert!(matches!(
        ledger
            .append(req(resolution(
                "paris-meeting",
                Outcome::Happened,
                "2018-11-11"
            )))
            .unwrap_err(),
        StoreError::Invalid(DomainError::AlreadyResolved(_))
    ));
    assert_sound(&ledger);
}

/// A small deterministic generator (an LCG), so the history below is the
/// same on every run and every backend.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// The kept views equal the projections' fold of the whole log (and the
/// query path's own fold, forced by an `at_seq` filter) after every batch of
/// a history with backdated statements and retractions, and after a reopen.
pub fn kept_views_equal_the_fold_through_backdating_and_retractions(backend: &mut dyn Backend) {
    let ledger = backend.create();
    ledger
        .append_batch(vec![
            req(party("a", None)),
            req(party("b", None)),
            req(party("c", Some("a"))),
            req(proposition("p0")),
            req(proposition("p1")),
        ])
        .unwrap();
    let mut rng = Lcg(13);
    let mut live = Vec::new();
    let mut next_id = 1;
    for _ in 0..16 {
        let mut batch = Vec::new();
        for _ in 0..=rng.below(5) {
            if !live.is_empty() && rng.below(4) == 0 {
                let id = live.remove(rng.below(live.len() as u64) as usize);
                batch.push(req(retraction(id)));
            } else {
                let id = test_id(next_id);
                next_id += 1;
                let draft = statement(
                    &format!("p{}", rng.below(2)),
                    ["a", "b", "c"][rng.below(3) as usize],
                    Stance::ALL[rng.below(8) as usize],
                    &format!("2018-11-{:02}", rng.below(12) + 1),
                );
                batch.push(with_id(id, draft));
                live.push(id);
            }
        }
        ledger.append_batch(batch).unwrap();
        let kept = ledger.positions(None).unwrap();
        assert_eq!(
            kept,
            folded_positions(&ledger),
            "kept views against the fold"
        );
        let forced = Filter {
            at_seq: Some(ledger.head().seq),
            ..Filter::default()
        };
        assert_eq!(
            ledger.positions_at(None, forced).unwrap().positions,
            kept,
            "kept views against the query path's fold"
        );
        let p1 = prop_id("p1");
        let only: Vec<_> = kept
            .iter()
            .filter(|p| p.proposition == p1)
            .cloned()
            .collect();
        assert_eq!(ledger.positions(Some(&p1)).unwrap(), only);
    }
    assert!(
        ledger.positions(None).unwrap().iter().any(|p| p.flips > 0),
        "the history exercises flips"
    );
    let kept = ledger.positions(None).unwrap();
    let ledger = backend.reopen(ledger);
    assert_eq!(ledger.positions(None).unwrap(), kept);
    assert_sound(&ledger);
}

/// Reads find each record by seq, by event id, by seq range and by stream,
/// and answer nothing (not an error) for what is not there.
pub fn reads_answer_by_seq_id_range_and_stream(backend: &mut dyn Backend) {
    let ledger = backend.create();
    seed(&ledger);
    // Said by peskov, no party given: it states kremlin's position.
    let Draft::Statement(mut by_speaker) = statement(
        "paris-meeting",
        "peskov",
        Stance::AlmostCertain,
        "2018-11-06",
    ) else {
        unreachable!("a statement draft")
    };
    by_speaker.speaker = by_speaker.party.take();
    let said = ledger.append(req(Draft::Statement(by_speaker))).unwrap();
    let rec = ledger.get_by_id(&said.event_id()).unwrap().unwrap();
    assert_eq!(rec.seq, said.seq());
    assert_eq!(ledger.get(said.seq()).unwrap(), Some(rec.clone()));
    let Event::StatementRecorded(s) = &rec.event else {
        panic!("not a statement: {:?}", rec.event)
    };
    assert_eq!(
        (s.party.as_str(), s.speaker.as_str()),
        ("kremlin", "peskov"),
        "a speaker states the position of the party it speaks for"
    );
    assert_eq!(ledger.get(0).unwrap(), None);
    assert_eq!(ledger.get(said.seq() + 1).unwrap(), None);
    assert_eq!(ledger.get_by_id(&test_id(7)).unwrap(), None);
    let middle: Vec<u64> = ledger.records(2, 3).map(|r| r.unwrap().seq).collect();
    assert_eq!(middle, vec![2, 3]);
    let stream_seqs =
        |stream: StreamId| -> Vec<u64> { ledger.stream(&stream).map(|r| r.unwrap().seq).collect() };
    assert_eq!(stream_seqs(StreamId::Party(pid("kremlin"))), vec![2, 5]);
    assert_eq!(stream_seqs(StreamId::Party(pid("peskov"))), vec![3]);
    assert_eq!(
        stream_seqs(StreamId::Proposition(prop_id("paris-meeting"))),
        vec![4, 5]
    );
    assert_eq!(
        stream_seqs(StreamId::Party(pid("nobody"))),
        Vec::<u64>::new()
    );
    assert_eq!(
        ledger
            .stream_revision(&StreamId::Party(pid("kremlin")))
            .unwrap(),
        Some(1)
    );
    assert_eq!(
        ledger
            .stream_revision(&StreamId::Party(pid("nobody")))
            .unwrap(),
        None
    );
    let parties: Vec<String> = ledger
        .parties()
        .unwrap()
        .into_iter()
        .map(|p| p.id.as_str().to_owned())
        .collect();
    assert_eq!(parties, vec!["kremlin", "peskov", "trump"]);
    assert_eq!(
        ledger.proposition_ids().unwrap(),
        vec![prop_id("paris-meeting")]
    );
    assert_sound(&ledger);
}

/// A ledger made for its first append holds nothing, not even its format
/// marks, until an append succeeds: a refused first append leaves the store
/// empty.
pub fn a_refused_first_append_leaves_the_store_unwritten(backend: &mut dyn Backend) {
    let ledger = Ledger::from_storage(
        backend.new_store(),
        Clock::default(),
        Opening::CreateWithFirstAppend,
    )
    .unwrap();
    assert!(ledger.is_unwritten());
    ledger
        .append(req(statement(
            "nowhere",
            "nobody",
            Stance::Likely,
            "2018-11-01",
        )))
        .unwrap_err();
    assert!(ledger.is_unwritten());
    assert!(
        keyspace(&ledger).is_empty(),
        "a refused first append writes nothing"
    );
    assert_eq!(ledger.append(req(party("trump", None))).unwrap().seq(), 1);
    assert!(!ledger.is_unwritten());
    let ledger = backend.reopen(ledger);
    assert_eq!(ledger.head().seq, 1);
    assert_sound(&ledger);
}

/// `count` valid statements on paris-meeting, alternating stances and days.
fn many_statements(count: u64) -> Vec<AppendRequest> {
    (0..count)
        .map(|i| {
            req(statement(
                "paris-meeting",
                ["trump", "kremlin", "peskov"][(i % 3) as usize],
                Stance::ALL[(i % 8) as usize],
                &format!("2018-11-{:02}", i % 28 + 1),
            ))
        })
        .collect()
}

/// Checks every request of an import and writes them (what a bulk import is).
fn import_all(ledger: &Ledger, requests: Vec<AppendRequest>) -> Result<u64, StoreError> {
    let mut check = ledger.import()?;
    for r in requests.clone() {
        check.check(r)?;
    }
    let mut writer = check.into_writer()?;
    for r in requests {
        writer.write(r)?;
    }
    Ok(writer.commit()?.appended)
}

/// A bulk import larger than one chunk goes in whole, with the seqs a batch
/// would take; one refused request anywhere (here the last) writes nothing.
pub fn an_import_is_all_or_nothing_across_chunks(backend: &mut dyn Backend) {
    let ledger = backend.create();
    seed(&ledger);
    let head = ledger.head();
    let count = IMPORT_CHUNK + 10;
    let before = keyspace(&ledger);
    let mut check = ledger.import().unwrap();
    for r in many_statements(count) {
        check.check(r).unwrap();
    }
    check
        .check(req(statement(
            "nowhere",
            "trump",
            Stance::Likely,
            "2018-11-01",
        )))
        .unwrap_err();
    assert!(matches!(
        check.into_writer().map(|_| ()),
        Err(StoreError::ImportRefused(1))
    ));
    assert_eq!(keyspace(&ledger), before, "a refused import writes nothing");
    assert_eq!(import_all(&ledger, many_statements(count)).unwrap(), count);
    assert_eq!(ledger.head().seq, head.seq + count);
    let ledger = backend.reopen(ledger);
    assert_eq!(ledger.head().seq, head.seq + count);
    assert_sound(&ledger);
}

/// Every record keeps who appended it (single appends, batches, imports),
/// written as envelope version 2, through a reopen; a re-send of a recorded
/// event id by another recorder is the same event (already recorded, no
/// conflict) and leaves the first recorder in place.
pub fn every_record_keeps_who_recorded_it_through_reopen_and_import(backend: &mut dyn Backend) {
    let ledger = backend.create();
    ledger
        .append(by("local:alice", party("trump", None)))
        .unwrap();
    ledger
        .append_batch(vec![
            by("desk-bot", party("kremlin", None)),
            by("Newsroom Bot 2", proposition("paris-meeting")),
        ])
        .unwrap();
    let said = AppendRequest {
        event_id: Some(test_id(1)),
        ..by("local:bob", trump_says(Stance::Likely, 5))
    };
    let mut check = ledger.import().unwrap();
    check.check(said.clone()).unwrap();
    let mut writer = check.into_writer().unwrap();
    writer.write(said.clone()).unwrap();
    writer.commit().unwrap();
    let resent = AppendRequest {
        recorded_by: recorder("someone-else"),
        ..said
    };
    assert!(matches!(
        ledger.append(resent).unwrap(),
        AppendOutcome::AlreadyRecorded { seq: 4, .. }
    ));
    let expected = ["local:alice", "desk-bot", "Newsroom Bot 2", "local:bob"];
    let ledger = backend.reopen(ledger);
    assert_eq!(ledger.head().seq, 4);
    for (seq, name) in (1..).zip(expected) {
        let rec = ledger.get(seq).unwrap().expect("recorded");
        assert_eq!(
            rec.recorded_by.as_ref().map(|r| r.as_str()),
            Some(name),
            "seq {seq}"
        );
        let bytes = ledger.tree().get(&keys::record(seq)).unwrap().unwrap();
        assert_eq!(bytes[..2], envelope::ENVELOPE_V2.to_be_bytes(), "seq {seq}");
    }
    let streamed: Vec<_> = ledger
        .records_checked(1, 4)
        .map(|r| r.unwrap().recorded_by.unwrap().to_string())
        .collect();
    assert_eq!(streamed, expected);
    assert_sound(&ledger);
}

/// A write set the store fails to apply leaves every key as it was and the
/// head where it was; the ledger then goes on appending (no reopen needed).
pub fn a_failed_apply_changes_nothing(backend: &mut dyn Backend) {
    let switch = FaultSwitch::default();
    let ledger = faulty_ledger(backend, &switch);
    seed(&ledger);
    let before = keyspace(&ledger);
    let head = ledger.head();
    for attempt in [
        vec![req(trump_says(Stance::Likely, 5))],
        vec![
            req(party("putin", None)),
            req(trump_says(Stance::Likely, 5)),
        ],
    ] {
        switch.arm(Fault {
            point: FaultPoint::Apply,
            nth: 1,
            repeat: true,
        });
        let err = ledger.append_batch(attempt).unwrap_err();
        switch.clear();
        assert_eq!(err.kind(), ErrorKind::Storage, "{err:?}");
        assert_eq!(ledger.head(), head);
        assert_eq!(keyspace(&ledger), before, "a failed apply changes nothing");
    }
    assert_eq!(
        ledger
            .append(req(trump_says(Stance::Likely, 5)))
            .unwrap()
            .seq(),
        head.seq + 1
    );
    assert_sound(&ledger);
    let head = ledger.head();
    let ledger = reopen_faulty(backend, ledger, &switch);
    assert_eq!(ledger.head(), head);
    assert_sound(&ledger);
}

/// A read that fails while an append or batch is being checked and built
/// refuses it with that storage error (never as bad input), writing nothing,
/// whichever of the write's reads it is: the fault is moved through every
/// read of a batch, then of a single retraction, until the write no longer
/// reaches it (and goes in).
pub fn a_failed_read_refuses_the_write_as_a_storage_error(backend: &mut dyn Backend) {
    let switch = FaultSwitch::default();
    let ledger = faulty_ledger(backend, &switch);
    seed(&ledger);
    let said = ledger
        .append(with_id(test_id(1), trump_says(Stance::Unlikely, 5)))
        .unwrap();
    let batch = || {
        vec![
            req(party("aide", Some("trump"))),
            req(statement(
                "paris-meeting",
                "aide",
                Stance::Likely,
                "2018-11-04",
            )),
            with_id(test_id(1), trump_says(Stance::Unlikely, 5)),
            req(trump_says(Stance::VeryLikely, 7)),
            req(resolution("paris-meeting", Outcome::Happened, "2018-11-11")),
        ]
    };
    let retract = || vec![req(retraction(said.event_id()))];
    for (write, single) in [(batch(), false), (retract(), true)] {
        let mut reads_failed = 0;
        for nth in 1.. {
            let before = keyspace(&ledger);
            let head = ledger.head();
            switch.arm(Fault {
                point: FaultPoint::Read,
                nth,
                repeat: true,
            });
            let result = if single {
                ledger.append(write[0].clone()).map(|o| vec![o])
            } else {
                ledger.append_batch(write.clone())
            };
            let failed = switch.failures() > 0;
            switch.clear();
            match result {
                Err(err) => {
                    assert!(failed, "refused without a fault: {err:?}");
                    assert_eq!(err.kind(), ErrorKind::Storage, "read {nth}: {err:?}");
                    assert!(matches!(err, StoreError::Storage { .. }), "{err:?}");
                    assert_eq!(ledger.head(), head);
                    assert_eq!(keyspace(&ledger), before, "read {nth}: nothing written");
                    reads_failed += 1;
                }
                Ok(_) => {
                    assert!(!failed, "read {nth} failed but the write was acknowledged");
                    assert_eq!(
                        ledger.head().seq,
                        head.seq + write.len() as u64 - u64::from(!single)
                    );
                    break;
                }
            }
        }
        assert!(
            reads_failed > 2,
            "the write reads the store ({reads_failed} reads)"
        );
    }
    assert_sound(&ledger);
}

/// A sync that fails after its write set was applied leaves the write's fate
/// unknown: the ledger refuses writes (`WriteUnsure`) until reopened, and the
/// reopened ledger holds the whole batch or none of it, then goes on.
pub fn a_failed_sync_refuses_writes_until_reopened(backend: &mut dyn Backend) {
    let switch = FaultSwitch::default();
    let ledger = faulty_ledger(backend, &switch);
    seed(&ledger);
    let head = ledger.head();
    let batch = vec![
        with_id(test_id(1), party("putin", Some("kremlin"))),
        with_id(
            test_id(2),
            statement("paris-meeting", "putin", Stance::Likely, "2018-11-04"),
        ),
    ];
    switch.arm(Fault {
        point: FaultPoint::Sync,
        nth: 1,
        repeat: true,
    });
    let err = ledger.append_batch(batch.clone()).unwrap_err();
    switch.clear();
    assert!(matches!(err, StoreError::WriteUnsure { .. }), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    let seq = ledger.head().seq;
    assert!(
        seq == head.seq || seq == head.seq + 2,
        "the head is where it was or past the whole batch, not at {seq}"
    );
    for refused in [
        ledger.append(req(party("lavrov", None))).map(|_| ()),
        ledger.import().map(|_| ()),
    ] {
        let err = refused.unwrap_err();
        assert!(matches!(err, StoreError::WriteUnsure { .. }), "{err:?}");
        assert_eq!(err.kind(), ErrorKind::Unavailable);
    }
    let ledger = reopen_faulty(backend, ledger, &switch);
    let after = ledger.head().seq;
    assert!(
        after == head.seq || after == head.seq + 2,
        "all of the batch or none of it, not {after}"
    );
    if after == head.seq + 2 {
        for (offset, id) in [test_id(1), test_id(2)].into_iter().enumerate() {
            assert_eq!(
                ledger.get_by_id(&id).unwrap().map(|r| r.seq),
                Some(head.seq + 1 + offset as u64)
            );
        }
    }
    // Re-sending the batch is safe either way.
    let out = ledger.append_batch(batch).unwrap();
    assert_eq!(seqs(&out), vec![head.seq + 1, head.seq + 2]);
    assert_eq!(
        ledger.append(req(party("lavrov", None))).unwrap().seq(),
        head.seq + 3
    );
    assert_sound(&ledger);
}

/// Several batches sent together (group commit) are each all or nothing on
/// their own, each sees the batches accepted before it, and all share one
/// sync: when it fails, every batch that was applied answers `WriteUnsure`,
/// and the reopened ledger holds all of them or none.
pub fn a_group_commit_takes_each_batch_alone_and_shares_one_sync(backend: &mut dyn Backend) {
    let switch = FaultSwitch::default();
    let ledger = faulty_ledger(backend, &switch);
    seed(&ledger);
    let head = ledger.head();
    let results = ledger.append_batches(vec![
        vec![req(party("putin", Some("kremlin")))],
        vec![
            req(statement(
                "paris-meeting",
                "putin",
                Stance::Likely,
                "2018-11-04",
            )),
            req(statement("nowhere", "putin", Stance::Likely, "2018-11-04")),
        ],
        vec![req(statement(
            "paris-meeting",
            "putin",
            Stance::Likely,
            "2018-11-04",
        ))],
        Vec::new(),
    ]);
    assert_eq!(results.len(), 4);
    assert_eq!(seqs(results[0].as_ref().unwrap()), vec![head.seq + 1]);
    let refused: Vec<usize> = match &results[1] {
        Err(StoreError::BatchRejected(errors)) => errors.iter().map(|(i, _)| *i).collect(),
        other => panic!("expected a rejected batch, got {other:?}"),
    };
    assert_eq!(refused, vec![1], "the second batch alone is refused");
    assert_eq!(
        seqs(results[2].as_ref().unwrap()),
        vec![head.seq + 2],
        "the third batch follows the first"
    );
    assert_eq!(results[3].as_ref().unwrap(), &Vec::new());
    assert_eq!(ledger.head().seq, head.seq + 2);
    assert_sound(&ledger);
    // One failed sync fails every batch it was to make durable.
    let head = ledger.head();
    switch.arm(Fault {
        point: FaultPoint::Sync,
        nth: 1,
        repeat: false,
    });
    let results = ledger.append_batches(vec![
        vec![req(party("lavrov", None))],
        vec![req(party("lavrov", None))],
        vec![req(party("bolton", None))],
    ]);
    switch.clear();
    assert!(
        matches!(results[0], Err(StoreError::WriteUnsure { .. })),
        "{:?}",
        results[0]
    );
    assert!(
        matches!(results[1], Err(StoreError::BatchRejected(_))),
        "{:?}",
        results[1]
    );
    assert!(
        matches!(results[2], Err(StoreError::WriteUnsure { .. })),
        "{:?}",
        results[2]
    );
    let err = ledger.append(req(party("pompeo", None))).unwrap_err();
    assert!(matches!(err, StoreError::WriteUnsure { .. }), "{err:?}");
    let ledger = reopen_faulty(backend, ledger, &switch);
    let seq = ledger.head().seq;
    assert!(
        seq == head.seq || seq == head.seq + 2,
        "all of the group or none, not {seq}"
    );
    assert_eq!(
        ledger.append(req(party("pompeo", None))).unwrap().seq(),
        seq + 1
    );
    assert_sound(&ledger);
}

/// An import whose commit fails after a chunk was staged is undone: at once
/// when the store works again, else on the next open, and until then the
/// ledger refuses writes (an append on top of the staged records would be
/// undone with them). Either way it ends as before the import, and imports
/// again.
pub fn an_import_cut_short_by_a_fault_is_undone(backend: &mut dyn Backend) {
    let switch = FaultSwitch::default();
    let mut ledger = faulty_ledger(backend, &switch);
    seed(&ledger);
    let count = IMPORT_CHUNK + 5;
    for undo_fails_too in [false, true] {
        let before = keyspace(&ledger);
        let head = ledger.head();
        // Apply 1 stages the first chunk; apply 2 is the commit; apply 3 the undo.
        switch.arm(Fault {
            point: FaultPoint::Apply,
            nth: 2,
            repeat: undo_fails_too,
        });
        let err = import_all(&ledger, many_statements(count)).unwrap_err();
        switch.clear();
        assert_eq!(err.kind(), ErrorKind::Storage, "{err:?}");
        assert_eq!(ledger.head(), head);
        if undo_fails_too {
            let err = ledger.append(req(party("lavrov", None))).unwrap_err();
            assert!(
                matches!(err, StoreError::WriteUnsure { .. }),
                "appending on top of an import that is not undone: {err:?}"
            );
        } else {
            assert_eq!(keyspace(&ledger), before, "the staged chunk was undone");
        }
        ledger = reopen_faulty(backend, ledger, &switch);
        assert_eq!(ledger.head(), head);
        assert_eq!(keyspace(&ledger), before, "the next open undid the import");
        assert_sound(&ledger);
    }
    let head = ledger.head();
    assert_eq!(import_all(&ledger, many_statements(count)).unwrap(), count);
    assert_eq!(ledger.head().seq, head.seq + count);
    assert_sound(&ledger);
}

/// Records copied verbatim (`Ledger::append_verbatim`, what `copy` does)
/// from a ledger on another backend, in chunks that split batches, a
/// retraction from its statement and a resolution from its proposition,
/// give the very same keyspace: records, indexes, kept views and head. A
/// record that does not continue the target (a gap, a wrong link, a seq
/// already there) is refused and writes nothing.
pub fn records_copied_verbatim_rebuild_the_same_keyspace(backend: &mut dyn Backend) {
    let source = Ledger::from_storage(
        Box::new(crate::MemoryStorage::new("source")),
        Clock::default(),
        Opening::Create,
    )
    .expect("a memory store takes a new ledger");
    seed(&source);
    let first = source
        .append(by("desk", trump_says(Stance::Likely, 9)))
        .unwrap();
    source
        .append_batch(vec![
            req(statement(
                "paris-meeting",
                "peskov",
                Stance::Unlikely,
                "2018-11-08",
            )),
            req(trump_says(Stance::Unlikely, 3)),
            req(retraction(first.event_id())),
            req(resolution(
                "paris-meeting",
                Outcome::DidNotHappen,
                "2018-11-12",
            )),
            req(trump_says(Stance::AlmostCertain, 1)),
        ])
        .unwrap();
    let records: Vec<crate::VerbatimRecord> = source
        .records_checked_verbatim(1, source.head().seq)
        .map(|r| r.expect("the source's chain holds"))
        .collect();
    assert_eq!(records.len() as u64, source.head().seq);

    let target = backend.create();
    let before = keyspace(&target);
    let refused = target.append_verbatim(records[1..2].to_vec());
    assert!(
        matches!(refused, Err(StoreError::VerbatimRefused { seq: 2, .. })),
        "a gap is refused: {refused:?}"
    );
    assert_eq!(keyspace(&target), before, "a refused copy writes nothing");
    for chunk in records.chunks(3) {
        target.append_verbatim(chunk.to_vec()).unwrap();
    }
    assert_eq!(target.head(), source.head());
    assert_eq!(
        keyspace(&target),
        keyspace(&source),
        "the copy holds the source's keyspace byte for byte"
    );
    let again = target.append_verbatim(records[..1].to_vec());
    assert!(
        matches!(again, Err(StoreError::VerbatimRefused { seq: 1, .. })),
        "a seq already there is refused: {again:?}"
    );
    let mut wrong_link = records[1].clone();
    wrong_link.record.seq = target.head().seq + 1;
    let refused = target.append_verbatim(vec![wrong_link]);
    assert!(
        matches!(
            refused,
            Err(StoreError::VerbatimRefused { .. } | StoreError::Corrupt { .. })
        ),
        "a record that does not chain to the head is refused: {refused:?}"
    );
    assert_eq!(keyspace(&target), keyspace(&source), "and writes nothing");
    let target = backend.reopen(target);
    assert_eq!(
        target.head(),
        source.head(),
        "the copy's head is acknowledged"
    );
    target
        .append(req(trump_says(Stance::Likely, 20)))
        .expect("a copied ledger takes new appends");
    assert_sound(&target);
}
