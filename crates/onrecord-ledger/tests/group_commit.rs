//! Group commit: several clients' batches written with one durable sync,
//! each still all or nothing on its own.

use onrecord_core::{Draft, Party, PartyId, PartyKind, Recorder};
use onrecord_ledger::{
    AppendOutcome, AppendRequest, Clock, ExpectedRevision, Ledger, MemoryStorage, Opening,
    StoreError,
};

fn party(id: &str) -> AppendRequest {
    AppendRequest::new(
        Draft::Party(Party {
            id: PartyId::new(id).unwrap(),
            name: format!("Party {id}"),
            kind: PartyKind::Person,
            speaks_for: None,
            aliases: Vec::new(),
        }),
        Recorder::new(format!("client-{id}")).unwrap(),
    )
}

#[test]
fn a_refused_batch_among_others_leaves_them_whole_and_the_sequence_gapless() {
    let ledger = Ledger::from_storage(
        Box::new(MemoryStorage::new("memory")),
        Clock::default(),
        Opening::Create,
    )
    .unwrap();
    let mut taken = party("b");
    taken.expected = ExpectedRevision::StreamExists; // b does not exist yet
    let results = ledger.append_batches(vec![
        vec![party("a"), party("b")],
        vec![party("c"), taken],
        vec![party("d")],
        vec![party("a")], // registered by the first batch
    ]);
    let seqs = |r: &Result<Vec<AppendOutcome>, StoreError>| -> Vec<u64> {
        r.as_ref().unwrap().iter().map(AppendOutcome::seq).collect()
    };
    assert_eq!(seqs(&results[0]), vec![1, 2]);
    assert!(
        matches!(&results[1], Err(StoreError::BatchRejected(e)) if e.len() == 1 && e[0].0 == 1),
        "{:?}",
        results[1]
    );
    assert_eq!(seqs(&results[2]), vec![3], "the refused batch took no seq");
    assert!(matches!(&results[3], Err(StoreError::BatchRejected(_))));
    assert_eq!(ledger.head().seq, 3);
    assert!(
        ledger
            .get_by_id(&results[0].as_ref().unwrap()[0].event_id())
            .unwrap()
            .is_some()
    );
    let report = ledger.verify(&mut |_, _| {}).unwrap();
    assert_eq!(report.damage, None);
    assert_eq!(report.records, 3);
}

#[test]
fn each_record_of_a_group_commit_keeps_its_own_clients_recorder() {
    let ledger = Ledger::from_storage(
        Box::new(MemoryStorage::new("memory")),
        Clock::default(),
        Opening::Create,
    )
    .unwrap();
    // Three clients' batches share one sync; each event names its own sender.
    let results = ledger.append_batches(vec![
        vec![party("a"), party("b")],
        vec![party("c")],
        vec![party("d")],
    ]);
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let recorders: Vec<String> = ledger
        .records(1, 4)
        .map(|r| r.unwrap().recorded_by.unwrap().to_string())
        .collect();
    assert_eq!(
        recorders,
        ["client-a", "client-b", "client-c", "client-d"],
        "one commit, four recorders"
    );
    // Reopened, the records still say who recorded them.
    let ledger =
        Ledger::from_storage(ledger.into_storage(), Clock::default(), Opening::Existing).unwrap();
    let third = ledger.get(3).unwrap().unwrap();
    assert_eq!(third.recorded_by.unwrap().as_str(), "client-c");
    assert_eq!(ledger.verify(&mut |_, _| {}).unwrap().damage, None);
}
