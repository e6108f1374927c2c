//! Property tests: random sequences of valid and invalid appends and batches
//! keep the sequence gapless, the chain verifiable, rejected batches
//! invisible, idempotent re-appends harmless, the kept views equal to a full
//! fold, and the state identical after closing and reopening.

mod common;

use common::*;
use onrecord_core::{Draft, EventId, Outcome, Stance};
use onrecord_ledger::{AppendOutcome, AppendRequest, Ledger, StoreError};
use onrecord_projections::{Filter, PositionsFold};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Party(u8, Option<u8>),
    Proposition(u8),
    Statement {
        prop: u8,
        party: u8,
        stance: u8,
        day: u8,
        explicit_id: bool,
    },
    Retract(u8),
    Resolve(u8),
    /// Re-send an earlier explicitly-identified event, same content.
    Resend(u8),
    /// Re-send an earlier explicit id with other content (a conflict).
    Clash(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..4, proptest::option::of(0u8..4)).prop_map(|(a, b)| Op::Party(a, b)),
        (0u8..3).prop_map(Op::Proposition),
        (0u8..3, 0u8..4, 0u8..8, 0u8..20, any::<bool>()).prop_map(
            |(prop, party, stance, day, explicit_id)| {
                Op::Statement {
                    prop,
                    party,
                    stance,
                    day,
                    explicit_id,
                }
            }
        ),
        (0u8..3, 0u8..4, 0u8..8, 0u8..20, any::<bool>()).prop_map(
            |(prop, party, stance, day, explicit_id)| {
                Op::Statement {
                    prop,
                    party,
                    stance,
                    day,
                    explicit_id,
                }
            }
        ),
        any::<u8>().prop_map(Op::Retract),
        (0u8..3).prop_map(Op::Resolve),
        any::<u8>().prop_map(Op::Resend),
        any::<u8>().prop_map(Op::Clash),
    ]
}

/// What the test remembers of what it appended.
#[derive(Default)]
struct Memory {
    statements: Vec<EventId>,
    explicit: Vec<(EventId, Draft)>,
}

fn request(op: &Op, mem: &Memory) -> AppendRequest {
    let party_name = |i: u8| format!("p{i}");
    match op {
        Op::Party(i, boss) => req(party(&party_name(*i), boss.map(party_name).as_deref())),
        Op::Proposition(i) => req(proposition(&format!("q{i}"))),
        Op::Statement {
            prop,
            party: p,
            stance,
            day,
            explicit_id,
        } => {
            let d = format!("2018-11-{:02}", day + 1);
            let draft = statement(
                &format!("q{prop}"),
                &party_name(*p),
                Stance::ALL[*stance as usize],
                &d,
            );
            AppendRequest {
                event_id: explicit_id.then(|| EventId::v7_at(1_700_000_000_000_000)),
                ..req(draft)
            }
        }
        Op::Retract(i) => match mem.statements.get(*i as usize % (mem.statements.len() + 1)) {
            Some(id) => req(retraction(*id)),
            None => req(retraction(EventId::v7_at(1_700_000_000_000_000))),
        },
        Op::Resolve(i) => req(resolution(
            &format!("q{i}"),
            Outcome::Happened,
            "2018-11-30",
        )),
        Op::Resend(i) | Op::Clash(i) => {
            match mem.explicit.get(*i as usize % (mem.explicit.len() + 1)) {
                Some((id, draft)) => {
                    let draft = if matches!(op, Op::Clash(_)) {
                        proposition("clash")
                    } else {
                        draft.clone()
                    };
                    AppendRequest {
                        event_id: Some(*id),
                        ..req(draft)
                    }
                }
                None => req(party("p0", None)),
            }
        }
    }
}

fn remember(mem: &mut Memory, request: &AppendRequest, outcome: &AppendOutcome) {
    if let AppendOutcome::Appended { event_id, .. } = outcome {
        if matches!(request.draft, Draft::Statement(_)) {
            mem.statements.push(*event_id);
        }
        if request.event_id.is_some() {
            mem.explicit.push((*event_id, request.draft.clone()));
        }
    }
}

fn folded_positions(ledger: &Ledger) -> Vec<onrecord_projections::Position> {
    let mut fold = PositionsFold::new(Filter::default(), None);
    for rec in ledger.records_from(1) {
        fold.apply(&rec.unwrap());
    }
    // The fold keeps no quotes; fill them from the log as its callers do.
    fold.finish_quoted(|seq| ledger.get(seq)).unwrap()
}

fn check(ledger: &Ledger, expected_seq: u64) {
    assert_eq!(ledger.head().seq, expected_seq);
    let seqs: Vec<u64> = ledger.records_from(1).map(|r| r.unwrap().seq).collect();
    assert_eq!(
        seqs,
        (1..=expected_seq).collect::<Vec<_>>(),
        "the sequence must be gapless"
    );
    let report = ledger.verify(&mut |_, _| {}).unwrap();
    assert_eq!(report.damage, None);
    assert_eq!(
        ledger.positions(None).unwrap(),
        folded_positions(ledger),
        "kept views must equal a full fold"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_appends_and_batches_keep_every_invariant(
        steps in proptest::collection::vec(
            prop_oneof![op().prop_map(|o| vec![o]), proptest::collection::vec(op(), 1..6)],
            1..24,
        )
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l");
        let ledger = onrecord_sled::create(&path, &options()).unwrap();
        seed(&ledger);
        // Give the pool parties and propositions so most statements are valid.
        ledger.append_batch(vec![req(party("p0", None)), req(party("p1", Some("p0"))), req(proposition("q0"))]).unwrap();
        let mut mem = Memory::default();
        let mut expected_seq = ledger.head().seq;
        for step in steps {
            let requests: Vec<AppendRequest> = step.iter().map(|o| request(o, &mem)).collect();
            let head_before = ledger.head();
            match ledger.append_batch(requests.clone()) {
                Ok(outcomes) => {
                    prop_assert_eq!(outcomes.len(), requests.len());
                    for (r, o) in requests.iter().zip(&outcomes) {
                        if let AppendOutcome::Appended { seq, .. } = o {
                            expected_seq += 1;
                            prop_assert_eq!(*seq, expected_seq);
                        } else {
                            prop_assert!(o.seq() <= expected_seq);
                        }
                        remember(&mut mem, r, o);
                    }
                }
                Err(StoreError::BatchRejected(errors)) => {
                    prop_assert!(!errors.is_empty());
                    prop_assert_eq!(ledger.head(), head_before, "a rejected batch must be invisible");
                }
                Err(other) => prop_assert!(false, "unexpected error {other}"),
            }
            check(&ledger, expected_seq);
        }
        let head = ledger.head();
        let records: Vec<_> = ledger.records_from(1).map(|r| r.unwrap()).collect();
        let positions = ledger.positions(None).unwrap();
        drop(ledger);
        let reopened = onrecord_sled::open(&path, &options()).unwrap();
        prop_assert_eq!(reopened.head(), head);
        let again: Vec<_> = reopened.records_from(1).map(|r| r.unwrap()).collect();
        prop_assert_eq!(again, records);
        prop_assert_eq!(reopened.positions(None).unwrap(), positions.clone());
        reopened.rebuild_views(&mut |_, _| {}).unwrap();
        prop_assert_eq!(reopened.positions(None).unwrap(), positions, "a rebuild must reproduce the kept views");
    }
}
