//! Tests of scores and calibration: the pinned paris-meeting numbers of
//! `docs/scoring.md`, which statements count, time travel, and a property test
//! against a naive day-by-day reference. Test-only; no I/O.

use onrecord_core::{Outcome, Stance, TimeBound};
use proptest::prelude::*;

use crate::test_support::{Log, St, pid, st};
use crate::*;

/// The founding story as a log: bolton (for trump) and putin (for the kremlin)
/// say `likely` on 23 Oct, trump `unlikely` on 5 Nov, peskov (for the kremlin)
/// `almost-certain` on 6 Nov; they met in Paris on 11 Nov.
fn paris() -> Log {
    let mut log = Log::new();
    log.say(St {
        speaker: Some("bolton"),
        quote: Some("President Trump would look forward to such a meeting"),
        ..st("paris-meeting", "trump", Stance::Likely, "2018-10-23")
    });
    log.say(St {
        speaker: Some("putin"),
        ..st("paris-meeting", "kremlin", Stance::Likely, "2018-10-23")
    });
    log.say(St {
        quote: Some("probably not"),
        ..st("paris-meeting", "trump", Stance::Unlikely, "2018-11-05")
    });
    log.say(St {
        speaker: Some("peskov"),
        quote: Some("They will certainly meet"),
        ..st(
            "paris-meeting",
            "kremlin",
            Stance::AlmostCertain,
            "2018-11-06",
        )
    });
    log.resolve("paris-meeting", Outcome::Happened, "2018-11-11");
    log
}

fn report(log: &Log) -> ScoreReport {
    scores(log.records(), Filter::default())
}

fn party<'a>(r: &'a ScoreReport, prop: &str, party: &str) -> &'a PartyScore {
    r.propositions
        .iter()
        .find(|p| p.proposition.as_str() == prop)
        .and_then(|p| p.parties.iter().find(|s| s.party.as_str() == party))
        .unwrap_or_else(|| panic!("no score for {party} on {prop}"))
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[test]
fn paris_meeting_pins_trumps_scores() {
    let r = report(&paris());
    let t = party(&r, "paris-meeting", "trump");
    assert_eq!(t.final_credence, 0.325);
    assert!(close(t.final_brier, 0.455625), "{}", t.final_brier);
    // 23 Oct-4 Nov (13 days) at 0.675, 5-10 Nov (6 days) at 0.325.
    let expected = (13.0 * 0.105625 + 6.0 * 0.455625) / 19.0;
    assert!(
        close(t.mean_daily_brier, expected),
        "{}",
        t.mean_daily_brier
    );
    assert_eq!(round6(t.mean_daily_brier), 0.216151);
    assert!(close(t.final_log, 0.325f64.ln()));
    assert_eq!(round6(t.final_log), -1.12393);
    assert_eq!(t.statements, 2);
}

#[test]
fn paris_meeting_pins_the_kremlins_scores() {
    let r = report(&paris());
    let k = party(&r, "paris-meeting", "kremlin");
    assert_eq!(k.final_credence, 0.97);
    assert!(close(k.final_brier, 0.0009), "{}", k.final_brier);
    // 23 Oct-5 Nov (14 days) at 0.675, 6-10 Nov (5 days) at 0.97.
    let expected = (14.0 * 0.105625 + 5.0 * 0.0009) / 19.0;
    assert!(
        close(k.mean_daily_brier, expected),
        "{}",
        k.mean_daily_brier
    );
    assert_eq!(round6(k.mean_daily_brier), 0.078066);
    assert_eq!(round6(k.final_log), -0.030459);
    assert_eq!(k.statements, 2);
}

#[test]
fn paris_meeting_leaderboard_puts_the_kremlin_first() {
    let r = report(&paris());
    assert_eq!(r.propositions.len(), 1);
    let p = &r.propositions[0];
    assert_eq!(
        (p.outcome, p.resolved_at.to_string()),
        (Outcome::Happened, "2018-11-11".into())
    );
    let ids: Vec<_> = p.parties.iter().map(|s| s.party.as_str()).collect();
    assert_eq!(
        ids,
        ["kremlin", "trump"],
        "parties within a proposition by id"
    );
    let board: Vec<_> = r
        .parties
        .iter()
        .map(|t| (t.party.as_str(), t.propositions, round6(t.mean_daily_brier)))
        .collect();
    assert_eq!(board, [("kremlin", 1, 0.078066), ("trump", 1, 0.216151)]);
    assert_eq!(r.parties[1].mean_final_brier, p.parties[1].final_brier);
    assert_eq!(r.parties[1].mean_final_log, p.parties[1].final_log);
}

#[test]
fn a_retracted_statement_is_not_scored() {
    let mut log = Log::new();
    log.statement("paris", "trump", Stance::Likely, "2018-10-23");
    let no = log.statement("paris", "trump", Stance::Unlikely, "2018-11-05");
    log.resolve("paris", Outcome::Happened, "2018-11-11");
    log.retract(no);
    let t = party(&report(&log), "paris", "trump").clone();
    assert_eq!((t.final_credence, t.statements), (0.675, 1));
    assert!(close(t.mean_daily_brier, 0.105625));
}

#[test]
fn declined_statements_are_skipped_and_do_not_break_the_carry() {
    let mut log = Log::new();
    log.statement("paris", "trump", Stance::Likely, "2018-11-01");
    log.statement("paris", "trump", Stance::Declined, "2018-11-03");
    log.statement("paris", "merkel", Stance::Declined, "2018-11-03");
    log.resolve("paris", Outcome::DidNotHappen, "2018-11-05");
    let r = report(&log);
    let t = party(&r, "paris", "trump");
    assert_eq!((t.final_credence, t.statements), (0.675, 1));
    assert!(close(t.mean_daily_brier, 0.675 * 0.675));
    assert!(
        close(t.final_log, (1.0f64 - 0.675).ln()),
        "did-not-happen uses ln(1 - c)"
    );
    assert_eq!(r.propositions[0].parties.len(), 1, "merkel only declined");
}

#[test]
fn only_statements_said_strictly_before_the_resolution_count() {
    let mut log = Log::new();
    log.statement("paris", "trump", Stance::Unlikely, "2018-11-10");
    // Day precision means the start of the day: said "on" 11 Nov is not before it.
    log.statement("paris", "trump", Stance::AlmostCertain, "2018-11-11");
    log.statement("paris", "trump", Stance::AlmostCertain, "2018-11-12");
    log.resolve("paris", Outcome::Happened, "2018-11-11");
    let t = party(&report(&log), "paris", "trump").clone();
    assert_eq!((t.final_credence, t.statements), (0.325, 1));
    assert!(close(t.mean_daily_brier, t.final_brier), "one day: 10 Nov");
}

#[test]
fn an_instant_resolution_counts_earlier_statements_that_day_but_days_stop_before_it() {
    let mut log = Log::new();
    log.statement("paris", "trump", Stance::Unlikely, "2018-11-10");
    log.statement("paris", "trump", Stance::Likely, "2018-11-11T09:00:00Z");
    log.statement(
        "paris",
        "trump",
        Stance::AlmostCertain,
        "2018-11-11T15:00:00Z",
    );
    log.resolve("paris", Outcome::Happened, "2018-11-11T12:00:00Z");
    let t = party(&report(&log), "paris", "trump").clone();
    assert_eq!((t.final_credence, t.statements), (0.675, 2));
    // Days run 10 Nov only (the day before resolution's day), at 0.325.
    assert!(close(t.mean_daily_brier, 0.675 * 0.675));
}

#[test]
fn a_first_statement_on_the_resolution_day_still_scores_one_day() {
    let mut log = Log::new();
    log.statement("paris", "trump", Stance::Unlikely, "2018-11-11T08:00:00Z");
    log.statement("paris", "trump", Stance::VeryLikely, "2018-11-11T09:00:00Z");
    log.resolve("paris", Outcome::Happened, "2018-11-11T12:00:00Z");
    let t = party(&report(&log), "paris", "trump").clone();
    assert_eq!(t.final_credence, 0.875);
    assert!(
        close(t.mean_daily_brier, t.final_brier),
        "the day ends at 0.875"
    );
}

#[test]
fn the_credence_held_at_the_end_of_a_day_is_that_days_last_statement() {
    let mut log = Log::new();
    // Recorded out of said order: the 18:00 statement is the day's last.
    log.statement("paris", "trump", Stance::VeryLikely, "2018-11-09T18:00:00Z");
    log.statement(
        "paris",
        "trump",
        Stance::AlmostNoChance,
        "2018-11-09T08:00:00Z",
    );
    log.resolve("paris", Outcome::Happened, "2018-11-11");
    let t = party(&report(&log), "paris", "trump").clone();
    assert_eq!(t.final_credence, 0.875);
    assert!(close(t.mean_daily_brier, 0.125 * 0.125));
}

#[test]
fn a_backdated_statement_recorded_after_the_resolution_counts() {
    let mut log = paris();
    log.statement("paris-meeting", "macron", Stance::VeryLikely, "2018-11-09");
    let m = party(&report(&log), "paris-meeting", "macron").clone();
    assert_eq!(m.statements, 1);
    assert!(
        close(m.mean_daily_brier, 0.125 * 0.125),
        "9-10 Nov at 0.875"
    );
}

#[test]
fn unresolved_propositions_are_not_scored_and_resolved_silent_ones_are_listed_empty() {
    let mut log = paris();
    log.statement("g20-meeting", "trump", Stance::Likely, "2018-11-05");
    log.resolve("quiet", Outcome::DidNotHappen, "2018-11-01");
    let r = report(&log);
    let ids: Vec<_> = r
        .propositions
        .iter()
        .map(|p| p.proposition.as_str())
        .collect();
    assert_eq!(ids, ["paris-meeting", "quiet"]);
    assert!(r.propositions[1].parties.is_empty());
    assert_eq!(r.parties.len(), 2);
}

#[test]
fn totals_average_over_propositions_and_ties_go_by_party_id() {
    let mut log = Log::new();
    for p in ["a", "b"] {
        log.statement(p, "zed", Stance::Likely, "2018-11-01");
        log.statement(p, "amy", Stance::Likely, "2018-11-01");
    }
    log.statement("b", "bob", Stance::AlmostCertain, "2018-11-01");
    log.resolve("a", Outcome::Happened, "2018-11-03");
    log.resolve("b", Outcome::DidNotHappen, "2018-11-03");
    let r = report(&log);
    let board: Vec<_> = r
        .parties
        .iter()
        .map(|t| (t.party.as_str(), t.propositions))
        .collect();
    assert_eq!(board, [("amy", 2), ("zed", 2), ("bob", 1)]);
    let amy = &r.parties[0];
    assert!(close(
        amy.mean_final_brier,
        (0.325f64.powi(2) + 0.675f64.powi(2)) / 2.0
    ));
    assert!(close(
        amy.mean_final_log,
        (0.675f64.ln() + 0.325f64.ln()) / 2.0
    ));
    assert_eq!(amy.mean_daily_brier, amy.mean_final_brier);
}

#[test]
fn time_travel_by_seq_known_at_and_as_of() {
    let log = paris();
    let n = log.records().len() as u64;
    let with = |filter: Filter| scores(log.records(), filter);
    let before_resolution = Filter {
        at_seq: Some(n - 1),
        ..Filter::default()
    };
    assert!(with(before_resolution).propositions.is_empty());
    let known = Filter {
        known_at: Some(TimeBound(log.records()[n as usize - 2].recorded_at)),
        ..Filter::default()
    };
    assert!(with(known).propositions.is_empty());
    // As of a valid time before the meeting, its outcome was not yet fact.
    let as_of = |s: &str| Filter {
        as_of: Some(s.parse().unwrap()),
        ..Filter::default()
    };
    assert!(with(as_of("2018-11-10")).propositions.is_empty());
    assert_eq!(with(as_of("2018-11-11")), report(&log));
    // Without peskov's record, the kremlin's final credence is putin's.
    let three = Filter {
        at_seq: Some(3),
        ..Filter::default()
    };
    let mut up_to_3 = log.records()[..3].to_vec();
    up_to_3.push(log.records()[4].clone());
    let r = scores(&up_to_3, Filter::default());
    assert_eq!(party(&r, "paris-meeting", "kremlin").final_credence, 0.675);
    assert!(with(three).propositions.is_empty());
}

#[test]
fn paris_meeting_calibration_as_documented() {
    let rows = calibration(paris().records(), Filter::default());
    let got: Vec<_> = rows
        .iter()
        .filter(|r| r.statements > 0)
        .map(|r| (r.stance, r.statements, r.happened, r.share))
        .collect();
    assert_eq!(
        got,
        [
            (Stance::Unlikely, 1, 1, Some(1.0)),
            (Stance::Likely, 2, 2, Some(1.0)),
            (Stance::AlmostCertain, 1, 1, Some(1.0)),
        ]
    );
}

#[test]
fn calibration_counts_bands_of_counted_statements_on_resolved_propositions() {
    let mut log = paris();
    let gone = log.statement(
        "paris-meeting",
        "macron",
        Stance::VeryUnlikely,
        "2018-11-01",
    );
    log.retract(gone);
    log.statement("paris-meeting", "merkel", Stance::Declined, "2018-11-01");
    log.statement("paris-meeting", "abe", Stance::VeryUnlikely, "2018-11-12");
    log.statement("g20-meeting", "trump", Stance::Likely, "2018-11-05");
    log.statement("summit", "trump", Stance::Likely, "2018-11-05");
    log.resolve("summit", Outcome::DidNotHappen, "2018-11-20");
    let rows = calibration(log.records(), Filter::default());
    assert_eq!(rows.len(), 7);
    let got: Vec<_> = rows
        .iter()
        .map(|r| (r.stance, r.low, r.high, r.statements, r.happened, r.share))
        .collect();
    assert_eq!(
        got,
        [
            (Stance::AlmostNoChance, 0.01, 0.05, 0, 0, None),
            (Stance::VeryUnlikely, 0.05, 0.20, 0, 0, None),
            (Stance::Unlikely, 0.20, 0.45, 1, 1, Some(1.0)),
            (Stance::EvenChance, 0.45, 0.55, 0, 0, None),
            (Stance::Likely, 0.55, 0.80, 3, 2, Some(2.0 / 3.0)),
            (Stance::VeryLikely, 0.80, 0.95, 0, 0, None),
            (Stance::AlmostCertain, 0.95, 0.99, 1, 1, Some(1.0)),
        ]
    );
}

/// The mean daily Brier the slow way: walk every day, find the credence held at its end.
fn naive_daily(said: &[(i64, u64, f64)], resolved_day: i64, o: f64) -> f64 {
    let first = said.iter().map(|s| s.0).min().unwrap();
    let last = (resolved_day - 1).max(first);
    let mut sum = 0.0;
    for day in first..=last {
        let held = said
            .iter()
            .filter(|s| s.0 <= day)
            .max_by_key(|s| (s.0, s.1))
            .unwrap()
            .2;
        sum += (held - o).powi(2);
    }
    sum / (last - first + 1) as f64
}

proptest! {
    #[test]
    fn mean_daily_brier_matches_a_day_by_day_walk(
        said in prop::collection::vec((0i64..40, 0usize..7), 1..12),
        resolved_day in 1i64..45,
        happened in any::<bool>(),
        resolve_first in any::<bool>(),
    ) {
        let day = |d: i64| onrecord_core::When::from_parts(
            (17_800 + d) * 86_400_000_000, onrecord_core::Precision::Day).to_string();
        let outcome = if happened { Outcome::Happened } else { Outcome::DidNotHappen };
        let mut log = Log::new();
        if resolve_first {
            log.resolve("p", outcome, &day(resolved_day));
        }
        let mut counted = Vec::new();
        for (d, s) in &said {
            let stance = Stance::ALL[*s];
            log.statement("p", "x", stance, &day(*d));
            let seq = log.records().len() as u64;
            if *d < resolved_day {
                counted.push((*d, seq, stance.midpoint().unwrap()));
            }
        }
        if !resolve_first {
            log.resolve("p", outcome, &day(resolved_day));
        }
        let r = report(&log);
        prop_assert_eq!(r.propositions.len(), 1);
        if counted.is_empty() {
            prop_assert!(r.propositions[0].parties.is_empty());
        } else {
            let x = &r.propositions[0].parties[0];
            prop_assert_eq!(x.party.clone(), pid("x"));
            prop_assert_eq!(x.statements, counted.len() as u64);
            let want = naive_daily(&counted, resolved_day, outcome.value());
            prop_assert!((x.mean_daily_brier - want).abs() < 1e-12, "{} vs {}", x.mean_daily_brier, want);
            let last = counted.iter().max_by_key(|s| (s.0, s.1)).unwrap().2;
            prop_assert_eq!(x.final_credence, last);
        }
    }
}
