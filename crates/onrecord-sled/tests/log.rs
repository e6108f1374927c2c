//! The log's rules, one test each: sequence, chain, streams, idempotency,
//! atomic batches, reopening, the process lock and stored-format errors.

mod common;

use std::time::{Duration, Instant};

use common::*;
use onrecord_core::{DomainError, EventId, Outcome, Stance, StreamId};
use onrecord_ledger::{AppendOutcome, AppendRequest, ExpectedRevision, StoreError};
use onrecord_sled::LedgerOptions;

#[test]
fn sequence_is_gapless_from_one_across_appends_batches_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l");
    {
        let ledger = onrecord_sled::create(&path, &options()).unwrap();
        assert_eq!(ledger.head().seq, 0);
        seed(&ledger);
        let out = ledger
            .append(req(statement(
                "paris-meeting",
                "trump",
                Stance::Unlikely,
                "2018-11-05",
            )))
            .unwrap();
        assert_eq!(out.seq(), 5);
    }
    let ledger = onrecord_sled::open(&path, &options()).unwrap();
    assert_eq!(ledger.head().seq, 5);
    let out = ledger.append(req(party("bolton", Some("trump")))).unwrap();
    assert_eq!(out.seq(), 6);
    let seqs: Vec<u64> = ledger.records_from(1).map(|r| r.unwrap().seq).collect();
    assert_eq!(seqs, (1..=6).collect::<Vec<_>>());
    let report = ledger.verify(&mut |_, _| {}).unwrap();
    assert_eq!((report.records, report.damage), (6, None));
}

#[test]
fn create_refuses_an_existing_ledger_and_open_refuses_a_missing_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l");
    assert!(
        matches!(onrecord_sled::open(&path, &options()), Err(StoreError::NoLedger(p)) if p == path)
    );
    drop(onrecord_sled::create(&path, &options()).unwrap());
    assert!(matches!(
        onrecord_sled::create(&path, &options()),
        Err(StoreError::LedgerExists(_))
    ));
    std::fs::write(dir.path().join("file"), b"x").unwrap();
    assert!(matches!(
        onrecord_sled::create(&dir.path().join("file"), &options()),
        Err(StoreError::NotADirectory(_))
    ));
}

#[test]
fn opening_a_sled_database_that_is_not_a_ledger_refuses_and_leaves_no_anchor() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other");
    let db = sled::open(&path).unwrap();
    db.insert(b"someone else's", &b"data"[..]).unwrap();
    db.flush().unwrap();
    drop(db);
    let opened = (0..500).find_map(|_| match onrecord_sled::open(&path, &options()) {
        Err(StoreError::LedgerBusy(_)) => None,
        other => Some(other),
    });
    assert!(
        matches!(opened, Some(Err(StoreError::NotALedger(_)))),
        "{opened:?}"
    );
    assert!(!path.join(onrecord_sled::ANCHOR_FILE).exists());
}

#[test]
fn each_record_chains_to_the_previous_hash_and_the_head_holds_the_last() {
    let (dir, ledger) = temp_ledger();
    seed(&ledger);
    let head = ledger.head();
    drop(ledger);
    let db = open_raw(&dir.path().join("l"));
    let mut prev = [0u8; 32];
    let mut seen = 0;
    for kv in db.scan_prefix([onrecord_ledger::keys::RECORD]) {
        let (key, bytes) = kv.unwrap();
        let seq = onrecord_ledger::keys::record_seq(&key).unwrap();
        let env = onrecord_ledger::envelope::decode_envelope(&bytes, seq).unwrap();
        assert_eq!((env.seq, env.prev_hash), (seq, prev), "seq {seq}");
        prev = onrecord_ledger::envelope::hash_record(&bytes);
        seen += 1;
    }
    assert_eq!((seen, head.seq, head.hash), (4, 4, prev));
}

#[test]
fn expected_revision_is_checked_on_the_primary_stream_and_a_mismatch_writes_nothing() {
    let (_dir, ledger) = temp_ledger();
    seed(&ledger);
    let head = ledger.head();
    let stream = StreamId::Proposition(prop_id("paris-meeting"));
    assert_eq!(ledger.stream_revision(&stream).unwrap(), Some(0));
    let with = |expected| AppendRequest {
        expected,
        ..req(statement(
            "paris-meeting",
            "trump",
            Stance::Unlikely,
            "2018-11-05",
        ))
    };
    for bad in [ExpectedRevision::NoStream, ExpectedRevision::Exact(3)] {
        match ledger.append(with(bad)) {
            Err(StoreError::WrongExpectedRevision {
                stream: s,
                expected,
                actual,
            }) => {
                assert_eq!(s, stream);
                assert_eq!(expected, bad.to_string());
                assert_eq!(actual, "0");
            }
            other => panic!("expected a conflict, got {other:?}"),
        }
        assert_eq!(ledger.head(), head, "a conflict must write nothing");
    }
    ledger.append(with(ExpectedRevision::Exact(0))).unwrap();
    ledger.append(with(ExpectedRevision::StreamExists)).unwrap();
    assert_eq!(ledger.stream_revision(&stream).unwrap(), Some(2));
    let new_party = AppendRequest {
        expected: ExpectedRevision::NoStream,
        ..req(party("putin", Some("kremlin")))
    };
    ledger.append(new_party).unwrap();
    let err = ledger
        .append(AppendRequest {
            expected: ExpectedRevision::StreamExists,
            ..req(proposition("g20-meeting"))
        })
        .unwrap_err();
    assert!(err.to_string().contains("actual no-stream"), "{err}");
    assert!(err.is_conflict());
}

#[test]
fn a_statement_belongs_to_its_proposition_and_party_streams() {
    let (_dir, ledger) = temp_ledger();
    seed(&ledger);
    let out = ledger
        .append(req(statement(
            "paris-meeting",
            "kremlin",
            Stance::AlmostCertain,
            "2018-11-06",
        )))
        .unwrap();
    let by_party: Vec<u64> = ledger
        .stream(&StreamId::Party(pid("kremlin")))
        .map(|r| r.unwrap().seq)
        .collect();
    assert_eq!(by_party, vec![2, out.seq()]);
    let by_prop: Vec<u64> = ledger
        .stream(&StreamId::Proposition(prop_id("paris-meeting")))
        .map(|r| r.unwrap().seq)
        .collect();
    assert_eq!(by_prop, vec![4, out.seq()]);
}

#[test]
fn a_known_event_id_with_the_same_payload_is_a_no_op_and_with_another_a_conflict() {
    let (_dir, ledger) = temp_ledger();
    seed(&ledger);
    let id = EventId::v7_at(1_700_000_000_000_000);
    let draft = statement("paris-meeting", "trump", Stance::Unlikely, "2018-11-05");
    let first = ledger
        .append(AppendRequest {
            event_id: Some(id),
            ..req(draft.clone())
        })
        .unwrap();
    assert_eq!(
        first,
        AppendOutcome::Appended {
            seq: 5,
            event_id: id
        }
    );
    let again = ledger
        .append(AppendRequest {
            event_id: Some(id),
            ..req(draft)
        })
        .unwrap();
    assert_eq!(
        again,
        AppendOutcome::AlreadyRecorded {
            seq: 5,
            event_id: id
        }
    );
    let head = ledger.head();
    let other = statement("paris-meeting", "trump", Stance::Likely, "2018-11-05");
    let err = ledger
        .append(AppendRequest {
            event_id: Some(id),
            ..req(other)
        })
        .unwrap_err();
    assert!(matches!(err, StoreError::EventIdConflict(e) if e == id));
    assert_eq!(ledger.head(), head);
    // Registering a party twice under the same id is idempotent, not a duplicate.
    let pid_event = EventId::v7_at(1_700_000_000_000_000);
    let p = || AppendRequest {
        event_id: Some(pid_event),
        ..req(party("putin", None))
    };
    let a = ledger.append(p()).unwrap();
    let b = ledger.append(p()).unwrap();
    assert_eq!(a.seq(), b.seq());
    assert!(matches!(b, AppendOutcome::AlreadyRecorded { .. }));
}

#[test]
fn a_batch_is_all_or_nothing_and_names_every_refused_event() {
    let (_dir, ledger) = temp_ledger();
    seed(&ledger);
    let head = ledger.head();
    let err = ledger
        .append_batch(vec![
            req(party("putin", Some("kremlin"))),
            req(statement(
                "paris-meeting",
                "putin",
                Stance::Likely,
                "2018-10-23",
            )),
            req(statement(
                "paris-meeting",
                "nobody",
                Stance::Likely,
                "2018-10-23",
            )),
            req(proposition("paris-meeting")),
        ])
        .unwrap_err();
    let StoreError::BatchRejected(errors) = err else {
        panic!("not a batch rejection")
    };
    let indexes: Vec<usize> = errors.iter().map(|(i, _)| *i).collect();
    assert_eq!(indexes, vec![2, 3]);
    assert!(
        matches!(&errors[0].1, StoreError::Invalid(DomainError::UnknownParty(p)) if p.as_str() == "nobody")
    );
    assert_eq!(ledger.head(), head);
    assert!(ledger.records_from(head.seq + 1).next().is_none());
    assert_eq!(
        ledger
            .stream_revision(&StreamId::Party(pid("putin")))
            .unwrap(),
        None
    );
}

#[test]
fn a_batch_sees_its_own_earlier_events() {
    let (_dir, ledger) = temp_ledger();
    seed(&ledger);
    let stmt = EventId::v7_at(1_700_000_000_000_000);
    let out = ledger
        .append_batch(vec![
            req(party("putin", Some("kremlin"))),
            req(proposition("g20-meeting")),
            AppendRequest {
                event_id: Some(stmt),
                ..req(statement(
                    "g20-meeting",
                    "putin",
                    Stance::VeryLikely,
                    "2018-11-02",
                ))
            },
            req(retraction(stmt)),
            req(resolution(
                "g20-meeting",
                Outcome::DidNotHappen,
                "2018-12-01",
            )),
        ])
        .unwrap();
    assert_eq!(
        out.iter().map(|o| o.seq()).collect::<Vec<_>>(),
        vec![5, 6, 7, 8, 9]
    );
    let err = ledger.append(req(retraction(stmt))).unwrap_err();
    assert!(matches!(err, StoreError::Invalid(DomainError::AlreadyRetracted(id)) if id == stmt));
    let err = ledger
        .append(req(resolution(
            "g20-meeting",
            Outcome::Happened,
            "2018-12-02",
        )))
        .unwrap_err();
    assert!(matches!(
        err,
        StoreError::Invalid(DomainError::AlreadyResolved(_))
    ));
    assert!(ledger.verify(&mut |_, _| {}).unwrap().damage.is_none());
}

#[test]
fn transaction_time_never_goes_backwards() {
    static NOW: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(2_000_000);
    fn clock() -> i64 {
        NOW.fetch_sub(1_000, std::sync::atomic::Ordering::SeqCst)
    }
    let dir = tempfile::tempdir().unwrap();
    let ledger = onrecord_sled::create(
        &dir.path().join("l"),
        &LedgerOptions {
            clock: onrecord_ledger::Clock {
                now: clock,
                ..Default::default()
            },
            ..options()
        },
    )
    .unwrap();
    seed(&ledger);
    ledger.append(req(party("putin", None))).unwrap();
    let times: Vec<i64> = ledger
        .records_from(1)
        .map(|r| r.unwrap().recorded_at)
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
}

#[test]
fn a_ledger_held_by_another_handle_is_busy_after_the_wait() {
    let (dir, ledger) = temp_ledger();
    let wait = Duration::from_millis(200);
    let started = Instant::now();
    let err = onrecord_sled::open(
        &dir.path().join("l"),
        &LedgerOptions {
            busy_wait: wait,
            ..options()
        },
    )
    .unwrap_err();
    assert!(started.elapsed() >= wait);
    assert!(matches!(err, StoreError::LedgerBusy(_)));
    assert_eq!(
        err.to_string(),
        format!(
            "ledger {} is in use by another process",
            dir.path().join("l").display()
        )
    );
    drop(ledger);
    onrecord_sled::open(&dir.path().join("l"), &options()).unwrap();
}

#[test]
fn reads_find_events_by_id_by_seq_and_by_range() {
    let (_dir, ledger) = temp_ledger();
    seed(&ledger);
    let out = ledger
        .append(req(statement(
            "paris-meeting",
            "trump",
            Stance::Unlikely,
            "2018-11-05",
        )))
        .unwrap();
    let rec = ledger.get_by_id(&out.event_id()).unwrap().unwrap();
    assert_eq!(rec.seq, out.seq());
    assert_eq!(ledger.get(out.seq()).unwrap().unwrap(), rec);
    assert!(ledger.get(99).unwrap().is_none());
    assert!(
        ledger
            .get_by_id(&EventId::v7_at(1_700_000_000_000_000))
            .unwrap()
            .is_none()
    );
    let middle: Vec<u64> = ledger.records(2, 3).map(|r| r.unwrap().seq).collect();
    assert_eq!(middle, vec![2, 3]);
}

#[test]
fn stats_count_what_the_ledger_holds() {
    let (_dir, ledger) = temp_ledger();
    seed(&ledger);
    let a = ledger
        .append(req(statement(
            "paris-meeting",
            "trump",
            Stance::Unlikely,
            "2018-11-05",
        )))
        .unwrap();
    ledger
        .append(req(statement(
            "paris-meeting",
            "kremlin",
            Stance::AlmostCertain,
            "2018-11-06",
        )))
        .unwrap();
    ledger.append(req(retraction(a.event_id()))).unwrap();
    ledger
        .append(req(resolution(
            "paris-meeting",
            Outcome::Happened,
            "2018-11-11",
        )))
        .unwrap();
    ledger.append(req(proposition("g20-meeting"))).unwrap();
    let s = ledger.stats().unwrap();
    assert_eq!(
        (
            s.parties,
            s.propositions,
            s.resolved,
            s.open_propositions(),
            s.statements,
            s.retractions,
            s.head.seq
        ),
        (3, 2, 1, 1, 2, 1, 9)
    );
    assert!(s.bytes_on_disk > 0);
}

#[test]
fn no_stream_on_an_existing_party_is_a_conflict_not_a_duplicate() {
    let (_dir, ledger) = temp_ledger();
    seed(&ledger);
    let err = ledger
        .append(AppendRequest {
            expected: ExpectedRevision::NoStream,
            ..req(party("trump", None))
        })
        .unwrap_err();
    assert!(err.is_conflict(), "{err}");
    assert!(
        "7x".parse::<ExpectedRevision>()
            .unwrap_err()
            .to_string()
            .contains("`7x`")
    );
}
