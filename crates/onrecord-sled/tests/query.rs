//! The query API (`onrecord_ledger::query`) on the demo story plus a retraction
//! and a backdated statement: each answer equals what a fold of the whole log
//! gives under the same filter, unknown ids are refused alike by every query,
//! and each query reads only the slice of the ledger that holds its answer.

mod common;

use std::cell::RefCell;
use std::sync::atomic::{AtomicI64, Ordering};

use common::*;
use onrecord_core::{Event, PartyId, Proposition, PropositionId, Recorded, Stance, StreamId};
use onrecord_ledger::query::{
    CalibrationQuery, ChartQuery, ContradictionsQuery, HistoryQuery, IdKind, LedgerReads, NotYetAt,
    PositionsQuery, ReportQuery, ScoresQuery, StatsQuery,
};
use onrecord_ledger::{Ledger, LedgerStats, PositionsAt, Query, QueryError};
use onrecord_projections::{
    ChartInput, ChartResolution, Filter, HistoryEntry, HistoryFold, Position, calibration,
    contradictions, positions, scores,
};
use onrecord_sled::LedgerOptions;

/// Transaction time one second apart per event, so `known_at` can fall between any two.
fn ticking_clock() -> i64 {
    static NOW: AtomicI64 = AtomicI64::new(1_700_000_000_000_000);
    NOW.fetch_add(1_000_000, Ordering::SeqCst)
}

/// The demo story, appended one event at a time, then a retraction of
/// Trump's first G-20 statement and a statement backdated before it.
fn story() -> (tempfile::TempDir, Ledger, Vec<Recorded>) {
    let dir = tempfile::tempdir().unwrap();
    let options = LedgerOptions {
        clock: onrecord_ledger::Clock {
            now: ticking_clock,
            ..Default::default()
        },
        ..options()
    };
    let ledger = onrecord_sled::create(&dir.path().join("l"), &options).unwrap();
    let demo = include_str!("../../../examples/armistice-2018.jsonl");
    for line in demo.lines().filter(|l| !l.trim().is_empty()) {
        let input = onrecord_core::parse_line(line).unwrap();
        ledger.append(req(input.draft)).unwrap();
    }
    let trump_on_g20 = ledger
        .records(1, u64::MAX)
        .map(Result::unwrap)
        .find(|r| {
            matches!(&r.event, Event::StatementRecorded(s)
            if s.proposition.as_str() == "g20-meeting" && s.party.as_str() == "trump")
        })
        .unwrap();
    ledger
        .append(req(retraction(trump_on_g20.event_id)))
        .unwrap();
    ledger
        .append(req(statement(
            "g20-meeting",
            "kremlin",
            Stance::Unlikely,
            "2018-10-01",
        )))
        .unwrap();
    let all = ledger.records(1, u64::MAX).map(Result::unwrap).collect();
    (dir, ledger, all)
}

fn seq_of_opening(all: &[Recorded], id: &str) -> u64 {
    all.iter()
        .find(|r| matches!(&r.event, Event::PropositionOpened(p) if p.id.as_str() == id))
        .unwrap()
        .seq
}

/// The filters worth checking on the story: none, each kind alone, and all three together.
fn filters(all: &[Recorded]) -> Vec<Filter> {
    let recorded_at = |seq: u64| onrecord_core::TimeBound(all[seq as usize - 1].recorded_at);
    vec![
        Filter::unfiltered(),
        Filter {
            as_of: Some("2018-11-06".parse().unwrap()),
            ..Filter::default()
        },
        Filter {
            at_seq: Some(6),
            ..Filter::default()
        },
        Filter {
            at_seq: Some(12),
            ..Filter::default()
        },
        Filter {
            known_at: Some(recorded_at(14)),
            ..Filter::default()
        },
        Filter {
            at_seq: Some(18),
            ..Filter::default()
        },
        Filter {
            as_of: Some("2018-11-20".parse().unwrap()),
            known_at: Some(recorded_at(17)),
            at_seq: Some(16),
        },
    ]
}

fn by_pair(mut ps: Vec<Position>) -> Vec<Position> {
    ps.sort_by(|a, b| (&a.proposition, &a.party).cmp(&(&b.proposition, &b.party)));
    ps
}

fn opened(all: &[Recorded], filter: &Filter) -> Vec<Proposition> {
    all.iter()
        .filter(|r| filter.admits_record(r))
        .filter_map(|r| match &r.event {
            Event::PropositionOpened(p) => Some(p.clone()),
            _ => None,
        })
        .collect()
}

fn folded_history(all: &[Recorded], id: &PropositionId, filter: Filter) -> Vec<HistoryEntry> {
    let mut fold = HistoryFold::new(id.clone(), None, filter);
    all.iter().for_each(|r| fold.apply(r));
    fold.finish()
}

fn folded_resolution(
    all: &[Recorded],
    id: &PropositionId,
    filter: &Filter,
) -> Option<ChartResolution> {
    all.iter().find_map(|r| match &r.event {
        Event::PropositionResolved(res)
            if res.proposition == *id
                && filter.admits_record(r)
                && filter.admits_said_at(&res.resolved_at) =>
        {
            Some(ChartResolution {
                resolved_at: res.resolved_at,
                outcome: res.outcome,
            })
        }
        _ => None,
    })
}

#[test]
fn every_query_on_the_story_equals_a_fold_of_the_whole_log() {
    let (_dir, ledger, all) = story();
    for filter in filters(&all) {
        let folded = by_pair(positions(&all, filter, None));
        let propositions = opened(&all, &filter);

        let views = ledger
            .query(&PositionsQuery {
                filter,
                ..PositionsQuery::default()
            })
            .unwrap();
        let ids: Vec<&PropositionId> = views.iter().map(|v| &v.proposition).collect();
        let mut expected_ids: Vec<&PropositionId> = propositions.iter().map(|p| &p.id).collect();
        expected_ids.sort();
        assert_eq!(ids, expected_ids, "{filter:?}");
        let answered: Vec<Position> = views.iter().flat_map(|v| v.positions.clone()).collect();
        assert_eq!(answered, folded, "{filter:?}");

        let mut expected_contradictions = Vec::new();
        for v in &views {
            let own: Vec<Position> = folded
                .iter()
                .filter(|p| p.proposition == v.proposition)
                .cloned()
                .collect();
            assert_eq!(v.contradictions, contradictions(&own), "{filter:?}");
            expected_contradictions.extend(contradictions(&own));
        }
        assert_eq!(
            ledger.query(&ContradictionsQuery { filter }).unwrap(),
            expected_contradictions
        );

        let expected_scores = scores(&all, filter);
        let expected_calibration = calibration(&all, filter);
        assert_eq!(
            ledger.query(&ScoresQuery { filter }).unwrap(),
            expected_scores
        );
        assert_eq!(
            ledger.query(&CalibrationQuery { filter }).unwrap(),
            expected_calibration
        );

        let report = ledger
            .query(&ReportQuery {
                filter,
                caption: Some("the story".into()),
            })
            .unwrap();
        assert_eq!(report.caption.as_deref(), Some("the story"));
        assert_eq!(report.leaderboard, expected_scores.parties);
        assert_eq!(report.calibration, expected_calibration);
        assert_eq!(report.propositions.len(), propositions.len());
        assert_eq!(report.party_name(&"trump".parse().unwrap()), "Donald Trump");

        for proposition in &propositions {
            let id = &proposition.id;
            let history = folded_history(&all, id, filter);
            let answered = ledger
                .query(&HistoryQuery {
                    proposition: id.clone(),
                    party: None,
                    filter,
                })
                .unwrap();
            assert_eq!(answered, history, "{id} {filter:?}");

            let chart = ChartInput::from_history(
                proposition,
                &history,
                folded_resolution(&all, id, &filter),
            );
            let query = ChartQuery {
                proposition: id.clone(),
                filter,
            };
            assert_eq!(ledger.query(&query).unwrap(), chart, "{id} {filter:?}");

            let section = report
                .propositions
                .iter()
                .find(|s| s.proposition.id == *id)
                .unwrap();
            assert_eq!(section.chart, chart);
            assert_eq!(section.history, history, "{id} {filter:?}");
            let own: Vec<Position> = folded
                .iter()
                .filter(|p| p.proposition == *id)
                .cloned()
                .collect();
            assert_eq!(section.positions, own);
            assert_eq!(
                section.scores.as_ref(),
                expected_scores
                    .propositions
                    .iter()
                    .find(|s| s.proposition == *id)
            );
        }
    }
}

#[test]
fn one_partys_positions_keep_the_contradictions_of_every_party() {
    let (_dir, ledger, all) = story();
    let filter = Filter {
        as_of: Some("2018-11-06".parse().unwrap()),
        ..Filter::default()
    };
    let all_parties = ledger
        .query(&PositionsQuery {
            proposition: Some(prop_id("paris-meeting")),
            filter,
            ..PositionsQuery::default()
        })
        .unwrap();
    let trump_only = ledger
        .query(&PositionsQuery {
            proposition: Some(prop_id("paris-meeting")),
            party: Some(pid("trump")),
            filter,
        })
        .unwrap();
    assert_eq!(trump_only.len(), 1);
    assert!(
        !trump_only[0].contradictions.is_empty(),
        "the story's contradiction"
    );
    assert_eq!(trump_only[0].contradictions, all_parties[0].contradictions);
    let expected: Vec<Position> = positions(&all, filter, Some(prop_id("paris-meeting")))
        .into_iter()
        .filter(|p| p.party.as_str() == "trump")
        .collect();
    assert_eq!(trump_only[0].positions, expected);
}

fn unknown_proposition(wanted: &str, near: &[&str]) -> String {
    format!("Unknown {{ kind: Proposition, id: {wanted:?}, near: {near:?} }}")
}

#[test]
fn every_query_refuses_an_unknown_proposition_alike_naming_the_closest() {
    let (_dir, ledger, _) = story();
    let wanted = prop_id("g20-meting");
    let expected = unknown_proposition("g20-meting", &["g20-meeting"]);
    let errors = [
        ledger
            .query(&PositionsQuery {
                proposition: Some(wanted.clone()),
                ..PositionsQuery::default()
            })
            .unwrap_err(),
        ledger
            .query(&HistoryQuery {
                proposition: wanted.clone(),
                party: None,
                filter: Filter::unfiltered(),
            })
            .unwrap_err(),
        ledger
            .query(&ChartQuery {
                proposition: wanted.clone(),
                filter: Filter::unfiltered(),
            })
            .unwrap_err(),
    ];
    for e in errors {
        assert_eq!(format!("{e:?}"), expected);
        assert_eq!(e.to_string(), "unknown proposition `g20-meting`");
    }
    let far = ledger
        .query(&ChartQuery {
            proposition: prop_id("zzzzzz"),
            filter: Filter::unfiltered(),
        })
        .unwrap_err();
    assert_eq!(format!("{far:?}"), unknown_proposition("zzzzzz", &[]));

    let party = ledger
        .query(&HistoryQuery {
            proposition: prop_id("g20-meeting"),
            party: Some(pid("kremln")),
            filter: Filter::unfiltered(),
        })
        .unwrap_err();
    assert!(
        matches!(&party, QueryError::Unknown { kind: IdKind::Party, id, near }
            if id == "kremln" && near == &["kremlin".to_owned()]),
        "{party:?}"
    );
}

#[test]
fn an_id_recorded_after_the_filters_bound_is_unknown_under_it() {
    let (_dir, ledger, all) = story();
    let g20 = seq_of_opening(&all, "g20-meeting");
    let before = Filter {
        at_seq: Some(g20 - 1),
        ..Filter::default()
    };
    let not_yet = |e: QueryError| match e {
        QueryError::NotYetRecorded {
            kind,
            id,
            at,
            recorded_seq,
        } => (kind, id, at, recorded_seq),
        other => panic!("{other:?}"),
    };
    let by_seq = (
        IdKind::Proposition,
        "g20-meeting".to_owned(),
        NotYetAt::Seq(g20 - 1),
        g20,
    );
    let positions = PositionsQuery {
        proposition: Some(prop_id("g20-meeting")),
        party: None,
        filter: before,
    };
    let chart = ChartQuery {
        proposition: prop_id("g20-meeting"),
        filter: before,
    };
    assert_eq!(not_yet(ledger.query(&positions).unwrap_err()), by_seq);
    assert_eq!(not_yet(ledger.query(&chart).unwrap_err()), by_seq);

    let known_before = Filter {
        known_at: Some(onrecord_core::TimeBound(all[g20 as usize - 2].recorded_at)),
        ..Filter::default()
    };
    let chart = ChartQuery {
        proposition: prop_id("g20-meeting"),
        filter: known_before,
    };
    assert_eq!(
        not_yet(ledger.query(&chart).unwrap_err()),
        (
            IdKind::Proposition,
            "g20-meeting".to_owned(),
            NotYetAt::KnownAt,
            g20
        )
    );

    // A party registered after the bound is refused too; at the bound it is known.
    let peskov = PositionsQuery {
        party: Some(pid("peskov")),
        filter: Filter {
            at_seq: Some(4),
            ..Filter::default()
        },
        ..PositionsQuery::default()
    };
    assert_eq!(
        not_yet(ledger.query(&peskov).unwrap_err()),
        (IdKind::Party, "peskov".to_owned(), NotYetAt::Seq(4), 5)
    );
    let at_its_seq = PositionsQuery {
        filter: Filter {
            at_seq: Some(5),
            ..Filter::default()
        },
        ..peskov
    };
    assert!(ledger.query(&at_its_seq).is_ok());
}

#[test]
fn stats_count_what_the_log_holds() {
    let (_dir, ledger, all) = story();
    let count = |f: fn(&Event) -> bool| all.iter().filter(|r| f(&r.event)).count() as u64;
    let stats: LedgerStats = ledger.query(&StatsQuery).unwrap();
    assert_eq!(stats.head.seq, all.len() as u64);
    assert_eq!(
        stats.parties,
        count(|e| matches!(e, Event::PartyRegistered(_)))
    );
    assert_eq!(
        stats.propositions,
        count(|e| matches!(e, Event::PropositionOpened(_)))
    );
    assert_eq!(
        stats.statements,
        count(|e| matches!(e, Event::StatementRecorded(_)))
    );
    assert_eq!(
        stats.retractions,
        count(|e| matches!(e, Event::StatementRetracted(_)))
    );
    assert_eq!(
        stats.resolved,
        count(|e| matches!(e, Event::PropositionResolved(_)))
    );
}

/// Reads through a ledger, noting which slices of the log each query streams.
struct Watched<'a> {
    ledger: &'a Ledger,
    /// Per streaming read: the proposition it was limited to (None: the log) and how many records it gave.
    streamed: RefCell<Vec<(Option<PropositionId>, usize)>>,
}

impl LedgerReads for Watched<'_> {
    fn opened_proposition(
        &self,
        id: &PropositionId,
    ) -> Result<Option<Proposition>, onrecord_ledger::StoreError> {
        self.ledger.opened_proposition(id)
    }
    fn has_party(&self, id: &PartyId) -> Result<bool, onrecord_ledger::StoreError> {
        self.ledger.has_party(id)
    }
    fn proposition_ids(&self) -> Result<Vec<PropositionId>, onrecord_ledger::StoreError> {
        LedgerReads::proposition_ids(self.ledger)
    }
    fn party_ids(&self) -> Result<Vec<PartyId>, onrecord_ledger::StoreError> {
        self.ledger.party_ids()
    }
    fn registered_parties(&self) -> Result<Vec<onrecord_core::Party>, onrecord_ledger::StoreError> {
        self.ledger.registered_parties()
    }
    fn stream_origin_record(
        &self,
        stream: &StreamId,
    ) -> Result<Option<Recorded>, onrecord_ledger::StoreError> {
        self.ledger.stream_origin_record(stream)
    }
    fn resolution_record(
        &self,
        id: &PropositionId,
    ) -> Result<Option<Recorded>, onrecord_ledger::StoreError> {
        self.ledger.resolution_record(id)
    }
    fn positions_under(
        &self,
        only: Option<&PropositionId>,
        filter: Filter,
    ) -> Result<PositionsAt, onrecord_ledger::StoreError> {
        self.ledger.positions_under(only, filter)
    }
    fn each_record_bearing_on(
        &self,
        only: Option<&PropositionId>,
        filter: Filter,
        apply: &mut dyn FnMut(&Recorded),
    ) -> Result<(), onrecord_ledger::StoreError> {
        let mut n = 0;
        self.ledger.each_record_bearing_on(only, filter, &mut |r| {
            n += 1;
            apply(r)
        })?;
        self.streamed.borrow_mut().push((only.cloned(), n));
        Ok(())
    }
    fn ledger_stats(&self) -> Result<LedgerStats, onrecord_ledger::StoreError> {
        self.ledger.ledger_stats()
    }
}

#[test]
fn each_query_reads_only_the_slice_that_holds_its_answer() {
    let (_dir, ledger, all) = story();
    let watched = Watched {
        ledger: &ledger,
        streamed: RefCell::new(Vec::new()),
    };
    let reads = |q: &dyn Fn(&Watched) -> Result<(), QueryError>| {
        watched.streamed.borrow_mut().clear();
        q(&watched).unwrap();
        watched.streamed.borrow().clone()
    };
    let paris = prop_id("paris-meeting");
    let paris_stream = all
        .iter()
        .filter(|r| match &r.event {
            Event::PropositionOpened(p) => p.id == paris,
            Event::StatementRecorded(s) => s.proposition == paris,
            Event::PropositionResolved(r) => r.proposition == paris,
            _ => false,
        })
        .count();

    // Current positions and stats come from kept views and indexes: no record is streamed.
    assert_eq!(reads(&|w| PositionsQuery::default().run(w).map(drop)), []);
    assert_eq!(reads(&|w| StatsQuery.run(w).map(drop)), []);
    // One proposition's history or chart streams that proposition's stream only.
    let history = HistoryQuery {
        proposition: paris.clone(),
        party: None,
        filter: Filter::unfiltered(),
    };
    assert_eq!(
        reads(&|w| history.run(w).map(drop)),
        [(Some(paris.clone()), paris_stream)]
    );
    let at_12 = Filter {
        at_seq: Some(12),
        ..Filter::default()
    };
    let chart = ChartQuery {
        proposition: paris.clone(),
        filter: at_12,
    };
    let streamed = reads(&|w| chart.run(w).map(drop));
    assert_eq!(streamed.len(), 1);
    assert_eq!(streamed[0].0.as_ref(), Some(&paris));
    assert!(streamed[0].1 <= paris_stream);
    // Scores fold the log, but only up to --at-seq.
    assert_eq!(
        reads(&|w| ScoresQuery { filter: at_12 }.run(w).map(drop)),
        [(None, 12)]
    );
    assert_eq!(
        reads(&|w| CalibrationQuery {
            filter: Filter::unfiltered()
        }
        .run(w)
        .map(drop)),
        [(None, all.len())]
    );
}
