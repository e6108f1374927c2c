//! The engine over the in-memory backend: injected time and ids, the error
//! kinds front ends map from, and a ledger that outlives its handle.

use onrecord_core::{Draft, EventId, EventIds, Party, PartyId, PartyKind, Recorder};
use onrecord_ledger::{
    AppendRequest, Clock, ErrorKind, ExpectedRevision, Ledger, MemoryStorage, Opening, StoreError,
};

/// 2018-11-11T10:00:00.123456Z, in microseconds.
const FIXED: i64 = 1_541_930_400_123_456;

fn fixed_now() -> i64 {
    FIXED
}

/// Who the tests' appends are recorded by.
fn tester() -> Recorder {
    Recorder::new("local:tester").unwrap()
}

fn party(id: &str) -> Draft {
    Draft::Party(Party {
        id: PartyId::new(id).unwrap(),
        name: format!("Party {id}"),
        kind: PartyKind::Person,
        speaks_for: None,
        aliases: Vec::new(),
    })
}

fn memory_ledger(clock: Clock) -> Ledger {
    Ledger::from_storage(
        Box::new(MemoryStorage::new("memory")),
        clock,
        Opening::Create,
    )
    .unwrap()
}

#[test]
fn a_new_event_id_carries_the_transaction_time_its_record_holds() {
    let ledger = memory_ledger(Clock {
        now: fixed_now,
        ..Clock::default()
    });
    let outcome = ledger
        .append(AppendRequest::new(party("trump"), tester()))
        .unwrap();
    let record = ledger.get(outcome.seq()).unwrap().unwrap();
    assert_eq!(record.recorded_at, FIXED);
    let (secs, nanos) = outcome.event_id().uuid().get_timestamp().unwrap().to_unix();
    assert_eq!(
        secs * 1000 + u64::from(nanos) / 1_000_000,
        (FIXED / 1000) as u64
    );
}

#[test]
fn ids_made_in_the_same_millisecond_still_rise() {
    let ids = EventIds::new();
    let made: Vec<EventId> = (0..100).map(|_| ids.next(FIXED)).collect();
    assert!(made.windows(2).all(|w| w[0] < w[1]), "{made:?}");
}

#[test]
fn an_injected_id_source_is_used_for_every_new_event() {
    use std::sync::atomic::{AtomicU64, Ordering};
    static MADE: AtomicU64 = AtomicU64::new(0);
    fn counted(_: &EventIds, _: i64) -> EventId {
        let n = MADE.fetch_add(1, Ordering::Relaxed) + 1;
        format!("0190b3a4-0000-7000-8000-{n:012x}").parse().unwrap()
    }
    let ledger = memory_ledger(Clock {
        now: fixed_now,
        event_id: counted,
    });
    let a = ledger
        .append(AppendRequest::new(party("a"), tester()))
        .unwrap();
    let b = ledger
        .append(AppendRequest::new(party("b"), tester()))
        .unwrap();
    assert_eq!(
        a.event_id().to_string(),
        "0190b3a4-0000-7000-8000-000000000001"
    );
    assert_eq!(
        b.event_id().to_string(),
        "0190b3a4-0000-7000-8000-000000000002"
    );
    assert_eq!(ledger.get_by_id(&b.event_id()).unwrap().unwrap().seq, 2);
}

#[test]
fn each_refusal_has_the_kind_a_front_end_maps_to_a_status() {
    let ledger = memory_ledger(Clock::default());
    ledger
        .append(AppendRequest::new(party("trump"), tester()))
        .unwrap();
    let conflict = ledger
        .append(AppendRequest {
            event_id: None,
            draft: party("kremlin"),
            expected: ExpectedRevision::StreamExists,
            recorded_by: tester(),
        })
        .unwrap_err();
    assert_eq!(conflict.kind(), ErrorKind::Conflict, "{conflict}");
    let invalid = ledger
        .append(AppendRequest::new(party("trump"), tester()))
        .unwrap_err();
    assert_eq!(invalid.kind(), ErrorKind::Invalid, "{invalid}");
    let busy = StoreError::LedgerBusy("l".into());
    assert_eq!(busy.kind(), ErrorKind::Busy);
    let storage = StoreError::Storage {
        path: "l".into(),
        detail: "input/output error".into(),
        source: Some(Box::new(std::io::Error::other("input/output error"))),
    };
    assert_eq!(storage.kind(), ErrorKind::Storage);
    assert!(
        std::error::Error::source(&storage).is_some(),
        "the cause is kept"
    );
    assert_eq!(StoreError::NoLedger("l".into()).kind(), ErrorKind::NotFound);
    assert_eq!(
        StoreError::DamagedHead("x".into()).kind(),
        ErrorKind::Damaged
    );
    assert_eq!(
        StoreError::ReadOnly("l".into()).kind(),
        ErrorKind::Unavailable
    );
}

#[test]
fn a_memory_ledger_reopened_from_its_store_has_the_same_head_and_verifies() {
    let ledger = memory_ledger(Clock::default());
    for id in ["a", "b", "c"] {
        ledger
            .append(AppendRequest::new(party(id), tester()))
            .unwrap();
    }
    let head = ledger.head();
    let reopened =
        Ledger::from_storage(ledger.into_storage(), Clock::default(), Opening::Existing).unwrap();
    assert_eq!(reopened.head(), head);
    let report = reopened.verify(&mut |_, _| {}).unwrap();
    assert_eq!(report.damage, None);
    assert_eq!(report.records, 3);
}

#[test]
fn a_store_that_holds_no_ledger_is_refused_as_not_a_ledger() {
    let err = Ledger::from_storage(
        Box::new(MemoryStorage::new("empty")),
        Clock::default(),
        Opening::Existing,
    )
    .unwrap_err();
    assert!(matches!(err, StoreError::NotALedger(_)), "{err}");
}
