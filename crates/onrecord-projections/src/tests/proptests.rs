//! Property tests: the store's fast path (`extend`) and its incremental
//! updates (`add_statement`, `retract_statement`) agree with `summarize`,
//! time travel by seq equals replaying a prefix, the fold is independent of
//! how the log is fed to it, and positions match a naive re-statement of the
//! contract. Test-only; no I/O.

use std::collections::BTreeMap;

use onrecord_core::{
    Event, EventId, Outcome, PartyId, Precision, PropositionId, Recorded, Stance, TimeBound, When,
};
use proptest::prelude::*;

use crate::test_support::{Log, St};
use crate::*;

const DAY: i64 = 86_400_000_000;
const HOUR: i64 = 3_600_000_000;
const PROPS: [&str; 2] = ["paris", "summit"];
const PARTIES: [&str; 3] = ["kremlin", "macron", "trump"];

#[derive(Debug, Clone)]
enum Op {
    Say {
        prop: usize,
        party: usize,
        day: i64,
        hour: Option<i64>,
        stance: Stance,
        /// Where in the stance's band the credence lies, 0 = low edge, 1 = high edge.
        at: f64,
    },
    /// Retract the n-th (mod count) statement not yet retracted.
    Retract(usize),
    Resolve(usize),
    /// Leave this many microseconds before the next record (0 = same recorded_at).
    Pause(i64),
}

fn op() -> impl Strategy<Value = Op> {
    let say = (
        0..PROPS.len(),
        0..PARTIES.len(),
        0i64..6,
        proptest::option::of(0i64..24),
        proptest::sample::select(Stance::ALL.to_vec()),
        prop_oneof![Just(0.0), Just(1.0), 0.0..=1.0],
    )
        .prop_map(|(prop, party, day, hour, stance, at)| Op::Say {
            prop,
            party,
            day,
            hour,
            stance,
            at,
        });
    prop_oneof![
        6 => say,
        2 => any::<usize>().prop_map(Op::Retract),
        1 => (0..PROPS.len()).prop_map(Op::Resolve),
        1 => (0i64..3_000_000).prop_map(Op::Pause),
    ]
}

/// Writes the ops to a log; record times never go backwards.
fn build(ops: &[Op]) -> Vec<Recorded> {
    let mut log = Log::new();
    let mut live: Vec<EventId> = Vec::new();
    let mut pause: Option<i64> = None;
    let at_next = |log: &mut Log, pause: &mut Option<i64>| {
        if let Some(p) = pause.take() {
            let last = log.records().last().map_or(0, |r| r.recorded_at);
            log.at(last + p);
        }
    };
    for op in ops {
        match *op {
            Op::Say {
                prop,
                party,
                day,
                hour,
                stance,
                at,
            } => {
                let said_at = match hour {
                    None => When::from_parts(1_541_030_400_000_000 + day * DAY, Precision::Day),
                    Some(h) => When::instant(1_541_030_400_000_000 + day * DAY + h * HOUR),
                };
                let credence = stance.band().map(|(lo, hi)| lo + at * (hi - lo));
                at_next(&mut log, &mut pause);
                let id = log.say(St {
                    proposition: PROPS[prop],
                    party: PARTIES[party],
                    speaker: None,
                    stance,
                    credence,
                    said_at,
                    quote: None,
                    source: None,
                });
                live.push(id);
            }
            Op::Retract(n) if !live.is_empty() => {
                let id = live.remove(n % live.len());
                at_next(&mut log, &mut pause);
                log.retract(id);
            }
            Op::Retract(_) => {}
            Op::Resolve(p) => {
                at_next(&mut log, &mut pause);
                log.resolve(PROPS[p], Outcome::DidNotHappen, "2018-11-11");
            }
            Op::Pause(p) => pause = Some(p),
        }
    }
    log.records().to_vec()
}

fn history() -> impl Strategy<Value = Vec<Recorded>> {
    proptest::collection::vec(op(), 0..60).prop_map(|ops| build(&ops))
}

fn as_of() -> impl Strategy<Value = Option<TimeBound>> {
    proptest::option::of((0i64..7 * DAY).prop_map(|m| TimeBound(1_541_030_400_000_000 + m)))
}

/// The sides of the nearest sided counted entries either side of `list[at]`, found by walking the list.
fn sided_neighbours(list: &[StatementEntry], at: usize) -> SidedNeighbours {
    let sided = |e: &&StatementEntry| !e.retracted && e.side().is_some();
    SidedNeighbours {
        before: list[..at].iter().rev().find(sided).and_then(|e| e.side()),
        after: list[at + 1..].iter().find(sided).and_then(|e| e.side()),
    }
}

/// The nearest counted entry before `list[at]`, found by walking the list.
fn previous(list: &[StatementEntry], at: usize) -> Option<StatementEntry> {
    list[..at].iter().rev().find(|e| !e.retracted).cloned()
}

/// The contract restated naively over the whole log: no summaries, no extend.
fn oracle(records: &[Recorded], filter: Filter) -> Vec<Position> {
    let admitted: Vec<&Recorded> = records.iter().filter(|r| filter.admits_record(r)).collect();
    let retracted: Vec<EventId> = admitted
        .iter()
        .filter_map(|r| match &r.event {
            Event::StatementRetracted(x) => Some(x.statement),
            _ => None,
        })
        .collect();
    let mut by_pair: BTreeMap<(PropositionId, PartyId), Vec<(&Recorded, _)>> = BTreeMap::new();
    for r in &admitted {
        let Event::StatementRecorded(s) = &r.event else {
            continue;
        };
        if !retracted.contains(&r.event_id) && filter.admits_said_at(&s.said_at) {
            by_pair
                .entry((s.proposition.clone(), s.party.clone()))
                .or_default()
                .push((*r, s));
        }
    }
    by_pair
        .into_iter()
        .map(|((proposition, party), mut list)| {
            list.sort_by_key(|(r, s)| (s.said_at.micros(), r.seq));
            let sides: Vec<_> = list
                .iter()
                .filter_map(|(_, s)| s.stance.side(s.credence))
                .collect();
            let flips = sides.windows(2).filter(|w| w[0] != w[1]).count() as u64;
            let (r, s) = list.last().unwrap();
            Position {
                proposition,
                party,
                stance: s.stance,
                credence: s.credence,
                said_at: s.said_at,
                speaker: s.speaker.clone(),
                statement: r.event_id,
                quote: s.quote.clone(),
                statements: list.len() as u64,
                flips,
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The store keeps a summary per pair and takes the fast path whenever a
    /// new statement sorts last; it must always agree with a full re-summary
    /// and, in the end, with the fold.
    #[test]
    fn extend_equals_summarize_whenever_the_entry_sorts_last(records in history()) {
        let mut entries: BTreeMap<(PropositionId, PartyId), Vec<StatementEntry>> = BTreeMap::new();
        let mut kept: BTreeMap<(PropositionId, PartyId), Option<PositionSummary>> = BTreeMap::new();
        for r in &records {
            match &r.event {
                Event::StatementRecorded(s) => {
                    let pair = (s.proposition.clone(), s.party.clone());
                    let e = StatementEntry::from_statement(r.seq, r.event_id, s);
                    let list = entries.entry(pair.clone()).or_default();
                    let at = list.partition_point(|x| x.order_key() < e.order_key());
                    list.insert(at, e.clone());
                    let slot = kept.entry(pair).or_default();
                    let sorts_last = slot.as_ref().is_none_or(|s| s.current.order_key() < e.order_key());
                    *slot = if sorts_last {
                        let extended = extend(slot.take(), e);
                        let full = summarize(list.iter());
                        prop_assert_eq!(Some(&extended), full.as_ref());
                        Some(extended)
                    } else {
                        summarize(list.iter())
                    };
                }
                Event::StatementRetracted(x) => {
                    for (pair, list) in entries.iter_mut() {
                        if let Some(e) = list.iter_mut().find(|e| e.statement == x.statement) {
                            e.retracted = true;
                            kept.insert(pair.clone(), summarize(list.iter()));
                        }
                    }
                }
                _ => {}
            }
        }
        let store: Vec<Position> = kept
            .into_iter()
            .filter_map(|((p, q), s)| s.map(|s| s.to_position(p, q)))
            .collect();
        prop_assert_eq!(&store, &positions(&records, Filter::default(), None));
    }

    /// The kept views' incremental updates: every recorded statement, backdated
    /// or not, through `add_statement`, every retraction through
    /// `retract_statement`, each given neighbours found naively in the pair's
    /// entries. After each, the summary must equal a full `summarize`.
    #[test]
    fn incremental_updates_equal_summarize_after_every_event(records in history()) {
        let mut entries: BTreeMap<(PropositionId, PartyId), Vec<StatementEntry>> = BTreeMap::new();
        let mut kept: BTreeMap<(PropositionId, PartyId), Option<PositionSummary>> = BTreeMap::new();
        for r in &records {
            match &r.event {
                Event::StatementRecorded(s) => {
                    let pair = (s.proposition.clone(), s.party.clone());
                    let e = StatementEntry::from_statement(r.seq, r.event_id, s);
                    let list = entries.entry(pair.clone()).or_default();
                    let at = list.partition_point(|x| x.order_key() < e.order_key());
                    list.insert(at, e.clone());
                    let slot = kept.entry(pair).or_default();
                    let added = add_statement(slot.take(), e, || {
                        Ok::<_, String>(sided_neighbours(list, at))
                    });
                    let full = summarize(list.iter());
                    prop_assert_eq!(added.as_ref().ok(), full.as_ref());
                    *slot = added.ok();
                }
                Event::StatementRetracted(x) => {
                    for (pair, list) in entries.iter_mut() {
                        let Some(at) = list.iter().position(|e| e.statement == x.statement) else {
                            continue;
                        };
                        list[at].retracted = true;
                        let slot = kept.entry(pair.clone()).or_default();
                        let Some(summary) = slot.take() else {
                            prop_assert!(false, "a counted statement of {:?} had no summary", pair);
                            continue;
                        };
                        let retracted = retract_statement(
                            summary,
                            &list[at],
                            || Ok(sided_neighbours(list, at)),
                            || previous(list, at).ok_or_else(|| "no counted entry before".to_owned()),
                        );
                        prop_assert!(retracted.is_ok(), "{:?}", retracted);
                        *slot = retracted.ok().flatten();
                        let full = summarize(list.iter());
                        prop_assert_eq!(slot.as_ref(), full.as_ref());
                    }
                }
                _ => {}
            }
        }
    }

    /// `at_seq = N` (with or without `as_of`) is the fold over the first N records.
    #[test]
    fn at_seq_equals_the_fold_over_a_prefix(
        records in history(),
        n in 0usize..70,
        as_of in as_of(),
    ) {
        let n = n.min(records.len());
        let filter = Filter { as_of, known_at: None, at_seq: Some(n as u64) };
        let prefix = Filter { as_of, ..Filter::default() };
        prop_assert_eq!(
            positions(&records, filter, None),
            positions(&records[..n], prefix, None)
        );
    }

    /// `known_at = T` is what the ledger held at T: the records recorded by then.
    #[test]
    fn known_at_equals_the_fold_over_what_was_recorded_by_then(
        records in history(),
        n in 0usize..70,
    ) {
        let t = records.get(n).map_or(i64::MAX, |r| r.recorded_at);
        let filter = Filter { known_at: Some(TimeBound(t)), ..Filter::default() };
        let known: Vec<_> = records.iter().filter(|r| r.recorded_at <= t).cloned().collect();
        prop_assert_eq!(positions(&records, filter, None), positions(&known, Filter::default(), None));
    }

    /// Feeding the log in chunks and looking between chunks changes nothing,
    /// and limiting to one proposition gives that proposition's slice.
    #[test]
    fn positions_are_independent_of_chunking(
        records in history(),
        cuts in proptest::collection::vec(0usize..70, 0..6),
    ) {
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(records.len())).collect();
        cuts.push(records.len());
        cuts.sort_unstable();
        let mut fold = PositionsFold::new(Filter::default(), None);
        let mut done = 0;
        for cut in cuts {
            records[done..cut].iter().for_each(|r| fold.apply(r));
            done = cut;
            prop_assert_eq!(fold.positions(), positions(&records[..cut], Filter::default(), None));
        }
        let whole = fold.finish();
        for p in PROPS {
            let p = PropositionId::new(p).unwrap();
            let slice: Vec<_> = whole.iter().filter(|x| x.proposition == p).cloned().collect();
            prop_assert_eq!(positions(&records, Filter::default(), Some(p)), slice);
        }
    }

    /// The fold matches the contract restated naively, under any filter.
    #[test]
    fn positions_match_the_contract_restated(
        records in history(),
        as_of in as_of(),
        n in proptest::option::of(0u64..70),
    ) {
        let filter = Filter { as_of, known_at: None, at_seq: n };
        prop_assert_eq!(positions(&records, filter, None), oracle(&records, filter));
    }

    /// Statement ids need not rise with seq (imported events keep their own
    /// ids): the fold looks ids up the same whatever their order. Each id is
    /// replaced by a scrambled one (a bijection, some rising and some
    /// falling), retractions follow their statement, and the positions must
    /// be the same statements under their new ids.
    #[test]
    fn positions_do_not_depend_on_the_order_of_statement_ids(
        records in history(),
        key in any::<u64>(),
        n in proptest::option::of(0u64..70),
    ) {
        let scramble = |id: EventId| {
            let mut b = *id.as_bytes();
            let x = u64::from_be_bytes(b[8..].try_into().unwrap());
            b[..8].copy_from_slice(&(x.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ key).to_be_bytes());
            EventId::from_bytes(b)
        };
        let scrambled: Vec<Recorded> = records
            .iter()
            .map(|r| {
                let mut r = r.clone();
                r.event_id = scramble(r.event_id);
                if let Event::StatementRetracted(x) = &mut r.event {
                    x.statement = scramble(x.statement);
                }
                r
            })
            .collect();
        let filter = Filter { as_of: None, known_at: None, at_seq: n };
        let expected: Vec<Position> = positions(&records, filter, None)
            .into_iter()
            .map(|p| Position { statement: scramble(p.statement), ..p })
            .collect();
        prop_assert_eq!(positions(&scrambled, filter, None), expected);
    }

    /// Contradictions do not depend on the order positions are handed in, and
    /// every pair is sorted and on opposite sides.
    #[test]
    fn contradictions_are_sorted_and_order_independent(records in history()) {
        let ps = positions(&records, Filter::default(), None);
        let found = contradictions(&ps);
        let mut reversed = ps.clone();
        reversed.reverse();
        prop_assert_eq!(&contradictions(&reversed), &found);
        for c in &found {
            prop_assert!(c.parties.0 < c.parties.1);
            let credence = |party: &PartyId| {
                ps.iter()
                    .find(|p| p.proposition == c.proposition && p.party == *party)
                    .and_then(|p| p.credence)
                    .unwrap()
            };
            let (a, b) = (credence(&c.parties.0), credence(&c.parties.1));
            prop_assert!((a >= 0.55 && b <= 0.45) || (a <= 0.45 && b >= 0.55));
            prop_assert!((c.spread - (a - b).abs()).abs() < 1e-12);
        }
        let keys: Vec<_> = found.iter().map(|c| (&c.proposition, &c.parties)).collect();
        prop_assert!(keys.windows(2).all(|w| w[0] < w[1]));
    }
}

/// Thousands of (proposition, party) pairs, so that the fold's pair table
/// grows many times over, with ids on both sides of the interners' inline
/// limit (22 bytes) and alike up to it, speakers other than the party,
/// backdated statements and retractions: positions still match the
/// contract. (The proptests above use a handful of pairs and short ids.)
#[test]
fn positions_match_the_contract_with_thousands_of_pairs_and_long_ids() {
    let shared = "a-long-id-shared-by-many-parties-and-propositions";
    let id = |kind: &str, i: usize| {
        // 20 to 30 bytes: the same first 20 whatever `i`, then `i` itself.
        format!("{kind}{}{i}", &shared[..19 - kind.len() + i % 11])
    };
    let props: Vec<PropositionId> = (0..70)
        .map(|i| PropositionId::new(&id("p", i)).unwrap())
        .collect();
    let parties: Vec<PartyId> = (0..60)
        .map(|i| PartyId::new(&id("q", i)).unwrap())
        .collect();
    assert!(props.iter().any(|p| p.as_str().len() == 22));
    assert!(props.iter().any(|p| p.as_str().len() == 23));
    let mut log = Log::new();
    let mut said = Vec::new();
    let mut k = 0usize;
    for round in 0..3i64 {
        for (pi, proposition) in props.iter().enumerate() {
            for (qi, party) in parties.iter().enumerate() {
                k += 1;
                // Days go back and forth, so some statements are backdated.
                let day = (round * 7 + (k as i64 * 5) % 11) % 20;
                let stance = Stance::ALL[(pi + qi + round as usize) % Stance::ALL.len()];
                let speaker = if k.is_multiple_of(7) {
                    &parties[(qi + 1) % parties.len()]
                } else {
                    party
                };
                said.push(
                    log.push(Event::StatementRecorded(onrecord_core::StatementRecorded {
                        proposition: proposition.clone(),
                        party: party.clone(),
                        speaker: speaker.clone(),
                        stance,
                        credence: stance.midpoint(),
                        said_at: When::from_parts(
                            1_541_030_400_000_000 + day * DAY,
                            Precision::Day,
                        ),
                        quote: None,
                        source: None,
                        qualifiers: vec![],
                    })),
                );
                if k.is_multiple_of(13) {
                    log.retract(said[k / 2]);
                }
            }
        }
    }
    let records = log.records();
    let expected = oracle(records, Filter::default());
    assert!(expected.len() > 4_000, "{} positions", expected.len());
    assert_eq!(positions(records, Filter::default(), None), expected);
}
