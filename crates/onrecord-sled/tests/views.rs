//! The kept views against the full fold, on histories where every event is
//! valid: many statements per (proposition, party), said out of order, with
//! retractions of old and new statements, in batches of every size. This is
//! what exercises the views' local updates (backdated inserts, retracting the
//! current statement, flips across neighbours), and `verify`'s check of the
//! views against its own fold.

mod common;

use common::*;
use onrecord_core::{EventId, Stance};
use onrecord_ledger::{AppendOutcome, AppendRequest, Ledger, ViewsVerified};
use onrecord_projections::{Filter, PositionsFold};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Step {
    Say {
        prop: u8,
        party: u8,
        stance: u8,
        day: u8,
    },
    /// Retract the n-th live statement (modulo how many there are).
    Retract(u16),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0u8..2, 0u8..2, 0u8..8, 0u8..12).prop_map(|(prop, party, stance, day)| Step::Say { prop, party, stance, day }),
        1 => any::<u16>().prop_map(Step::Retract),
    ]
}

fn fold(ledger: &Ledger) -> Vec<onrecord_projections::Position> {
    let mut f = PositionsFold::new(Filter::default(), None);
    for r in ledger.records_from(1) {
        f.apply(&r.unwrap());
    }
    f.finish()
}

/// Quotes are compared through the statement id: the fold may leave them to the caller.
fn comparable(
    mut p: Vec<onrecord_projections::Position>,
    ledger: &Ledger,
) -> Vec<onrecord_projections::Position> {
    for pos in &mut p {
        let rec = ledger.get_by_id(&pos.statement).unwrap().unwrap();
        if let onrecord_core::Event::StatementRecorded(s) = rec.event {
            pos.quote = s.quote;
        }
    }
    p
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn kept_views_equal_the_fold_under_backdating_and_retractions(
        batches in proptest::collection::vec(proptest::collection::vec(step(), 1..8), 1..14)
    ) {
        let (_dir, ledger) = temp_ledger();
        ledger.append_batch(vec![
            req(party("a", None)), req(party("b", None)),
            req(proposition("p0")), req(proposition("p1")),
        ]).unwrap();
        let mut live: Vec<EventId> = Vec::new();
        for batch in batches {
            let mut requests = Vec::new();
            let mut retracted_here = Vec::new();
            for s in batch {
                match s {
                    Step::Say { prop, party: who, stance, day } => {
                        let id = EventId::v7_at(1_700_000_000_000_000);
                        let draft = statement(
                            &format!("p{prop}"),
                            if who == 0 { "a" } else { "b" },
                            Stance::ALL[stance as usize],
                            &format!("2018-11-{:02}", day + 1),
                        );
                        requests.push(AppendRequest { event_id: Some(id), ..req(draft) });
                        live.push(id);
                    }
                    Step::Retract(n) if !live.is_empty() => {
                        let id = live.remove(n as usize % live.len());
                        retracted_here.push(id);
                        requests.push(req(retraction(id)));
                    }
                    Step::Retract(_) => {}
                }
            }
            if requests.is_empty() {
                continue;
            }
            let outcomes = ledger.append_batch(requests).unwrap();
            let all_appended = outcomes.iter().all(|o| matches!(o, AppendOutcome::Appended { .. }));
            prop_assert!(all_appended, "every event of a valid batch is appended");
            let kept = ledger.positions(None).unwrap();
            prop_assert_eq!(&kept, &comparable(fold(&ledger), &ledger));
            // verify's own fold of the views agrees: no false alarm.
            let report = ledger.verify(&mut |_, _| {}).unwrap();
            prop_assert_eq!(report.damage, None);
            prop_assert_eq!(report.views, ViewsVerified::Equal { positions: kept.len() as u64 });
        }
        let kept = ledger.positions(None).unwrap();
        ledger.rebuild_views(&mut |_, _| {}).unwrap();
        prop_assert_eq!(ledger.positions(None).unwrap(), kept);
    }
}
