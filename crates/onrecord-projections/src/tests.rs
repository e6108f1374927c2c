//! Behaviour tests of the folds over small hand-written logs, and property
//! tests tying the store's building blocks to the full fold. Test-only; no I/O.

use onrecord_core::{Outcome, Recorded, Stance, TimeBound};

use crate::test_support::{Log, St, pid, prop, st};
use crate::*;

mod proptests;

fn all(log: &Log) -> Vec<Position> {
    positions(log.records(), Filter::default(), None)
}

fn with(log: &Log, filter: Filter) -> Vec<Position> {
    positions(log.records(), filter, None)
}

fn as_of(s: &str) -> Filter {
    Filter {
        as_of: Some(s.parse().unwrap()),
        ..Filter::default()
    }
}

fn summary(ps: &[Position]) -> Vec<(String, String, Stance, u64, u64)> {
    ps.iter()
        .map(|p| {
            (
                p.proposition.to_string(),
                p.party.to_string(),
                p.stance,
                p.statements,
                p.flips,
            )
        })
        .collect()
}

#[test]
fn a_backdated_statement_recorded_later_does_not_replace_a_newer_one() {
    let mut log = Log::new();
    let newer = log.statement("paris", "trump", Stance::Likely, "2018-11-06");
    log.statement("paris", "trump", Stance::Unlikely, "2018-11-01");
    let ps = all(&log);
    assert_eq!(ps.len(), 1);
    assert_eq!(ps[0].statement, newer);
    assert_eq!(ps[0].stance, Stance::Likely);
    // In said order it went unlikely -> likely: one flip over two statements.
    assert_eq!((ps[0].statements, ps[0].flips), (2, 1));
}

#[test]
fn statements_said_at_the_same_time_are_ordered_by_seq() {
    let mut log = Log::new();
    log.statement("paris", "trump", Stance::Likely, "2018-11-06");
    let later = log.statement("paris", "trump", Stance::VeryLikely, "2018-11-06");
    assert_eq!(all(&log)[0].statement, later);
}

#[test]
fn a_position_reports_the_current_statement_in_full() {
    let mut log = Log::new();
    let id = log.say(St {
        speaker: Some("peskov"),
        credence: Some(0.96),
        quote: Some("They will certainly meet"),
        ..st(
            "paris",
            "kremlin",
            Stance::AlmostCertain,
            "2018-11-06T10:00:00Z",
        )
    });
    let p = &all(&log)[0];
    assert_eq!(
        p,
        &Position {
            proposition: prop("paris"),
            party: pid("kremlin"),
            stance: Stance::AlmostCertain,
            credence: Some(0.96),
            said_at: "2018-11-06T10:00:00Z".parse().unwrap(),
            speaker: pid("peskov"),
            statement: id,
            quote: Some("They will certainly meet".into()),
            statements: 1,
            flips: 0,
        }
    );
}

#[test]
fn the_fold_keeps_no_quotes_and_fills_them_by_seq_from_the_log() {
    let mut log = Log::new();
    let quoted = |q| St {
        quote: Some(q),
        ..st("paris", "trump", Stance::Likely, "2018-11-06")
    };
    log.say(quoted("first"));
    let second = log.say(quoted("second"));
    log.say(St {
        quote: Some("other"),
        ..st("paris", "kremlin", Stance::Unlikely, "2018-11-01")
    });
    let last = log.say(quoted("third"));
    log.retract(last);
    let mut fold = PositionsFold::new(Filter::default(), None);
    log.records().iter().for_each(|r| fold.apply(r));
    assert!(fold.positions().iter().all(|p| p.quote.is_none()));
    let seqs: Vec<(u64, String)> = fold
        .positions_with_seqs()
        .into_iter()
        .map(|(seq, p)| (seq, p.party.to_string()))
        .collect();
    assert_eq!(seqs, [(3, "kremlin".into()), (2, "trump".into())]);
    let mut asked = Vec::new();
    let record_at = |seq: u64| {
        asked.push(seq);
        Ok::<_, ()>(log.records().get(seq as usize - 1).cloned())
    };
    let filled = fold.clone().finish_quoted(record_at).unwrap();
    assert_eq!(asked, [3, 2]);
    assert_eq!(filled, all(&log));
    assert_eq!(filled[1].statement, second);
    assert_eq!(filled[1].quote.as_deref(), Some("second"));
    // A lookup that hands back some other record leaves the quote empty; errors pass through.
    let wrong = fold.positions_quoted(|_| Ok::<_, ()>(log.records().first().cloned()));
    assert!(wrong.unwrap().iter().all(|p| p.quote.is_none()));
    assert_eq!(
        fold.finish_quoted(|_| Err::<Option<Recorded>, _>("down")),
        Err("down")
    );
}

#[test]
fn a_reused_event_id_names_the_latest_statement_for_retraction() {
    // Never in a ledger (ids are unique), but the fold must not lose the
    // earlier statement's id: a retraction names only the latest one.
    let mut log = Log::new();
    log.statement("paris", "trump", Stance::Likely, "2018-11-06");
    log.statement("paris", "kremlin", Stance::Unlikely, "2018-11-06");
    let mut records = log.records().to_vec();
    records[1].event_id = records[0].event_id;
    let reused = records[0].event_id;
    let ps = positions(&records, Filter::default(), None);
    assert_eq!(ps.len(), 2);
    assert!(ps.iter().all(|p| p.statement == reused));
    let mut retraction = log.records()[0].clone();
    retraction.seq = 3;
    retraction.event =
        onrecord_core::Event::StatementRetracted(onrecord_core::StatementRetracted {
            statement: reused,
            reason: "misquoted".into(),
        });
    records.push(retraction);
    assert_eq!(
        summary(&positions(&records, Filter::default(), None)),
        [("paris".into(), "trump".into(), Stance::Likely, 1, 0)]
    );
}

#[test]
fn a_retraction_removes_a_statement_and_the_previous_one_becomes_current() {
    let mut log = Log::new();
    let first = log.statement("paris", "trump", Stance::Unlikely, "2018-11-01");
    let second = log.statement("paris", "trump", Stance::Likely, "2018-11-06");
    log.retract(second);
    let ps = all(&log);
    assert_eq!(ps[0].statement, first);
    assert_eq!((ps[0].statements, ps[0].flips), (1, 0));
}

#[test]
fn retracting_the_only_statement_removes_the_position() {
    let mut log = Log::new();
    let only = log.statement("paris", "trump", Stance::Likely, "2018-11-06");
    log.statement("paris", "kremlin", Stance::Likely, "2018-11-06");
    log.retract(only);
    assert_eq!(
        summary(&all(&log)),
        [("paris".into(), "kremlin".into(), Stance::Likely, 1, 0)]
    );
}

#[test]
fn flips_skip_even_chance_and_declined_statements() {
    use Stance::*;
    let cases: [(&[Stance], u64); 5] = [
        (&[Unlikely, EvenChance, Likely], 1),
        (&[Unlikely, Likely, Unlikely], 2),
        (&[Unlikely, Declined, Likely], 1),
        (&[VeryLikely, Declined, EvenChance, AlmostCertain], 0),
        (
            &[AlmostNoChance, EvenChance, Likely, Declined, VeryUnlikely],
            2,
        ),
    ];
    for (stances, flips) in cases {
        let mut log = Log::new();
        for (day, stance) in stances.iter().enumerate() {
            log.statement(
                "paris",
                "trump",
                *stance,
                &format!("2018-11-{:02}", day + 1),
            );
        }
        let p = &all(&log)[0];
        assert_eq!(p.flips, flips, "{stances:?}");
        assert_eq!(p.statements, stances.len() as u64);
        assert_eq!(p.stance, *stances.last().unwrap());
    }
}

#[test]
fn a_declined_current_statement_has_no_credence() {
    let mut log = Log::new();
    log.statement("paris", "trump", Stance::Likely, "2018-11-01");
    log.statement("paris", "trump", Stance::Declined, "2018-11-02");
    let p = &all(&log)[0];
    assert_eq!((p.stance, p.credence), (Stance::Declined, None));
}

#[test]
fn positions_are_ordered_by_proposition_then_party_and_can_be_limited_to_one() {
    let mut log = Log::new();
    log.statement("summit", "trump", Stance::Likely, "2018-11-01");
    log.statement("paris", "trump", Stance::Likely, "2018-11-01");
    log.statement("paris", "kremlin", Stance::Likely, "2018-11-01");
    let keys: Vec<_> = summary(&all(&log))
        .into_iter()
        .map(|(p, q, ..)| format!("{p}/{q}"))
        .collect();
    assert_eq!(keys, ["paris/kremlin", "paris/trump", "summit/trump"]);
    let only = positions(log.records(), Filter::default(), Some(prop("summit")));
    assert_eq!(summary(&only)[0].0, "summit");
    assert_eq!(only.len(), 1);
}

#[test]
fn contradictions_pair_opposite_sides_sorted_with_their_spread() {
    let mut log = Log::new();
    log.say(St {
        speaker: Some("peskov"),
        ..st("paris", "kremlin", Stance::AlmostCertain, "2018-11-06")
    });
    log.statement("paris", "trump", Stance::Unlikely, "2018-11-07");
    log.statement("paris", "macron", Stance::EvenChance, "2018-11-07");
    log.statement("paris", "merkel", Stance::Declined, "2018-11-07");
    log.statement("paris", "abe", Stance::VeryUnlikely, "2018-11-07");
    log.statement("g20", "xi", Stance::Likely, "2018-11-07");
    log.statement("g20", "trump", Stance::Likely, "2018-11-07");
    log.statement("a-summit", "xi", Stance::Unlikely, "2018-11-07");
    log.statement("a-summit", "putin", Stance::Likely, "2018-11-07");
    let found: Vec<_> = contradictions(&all(&log))
        .into_iter()
        .map(|c| {
            (
                format!("{}:{}-{}", c.proposition, c.parties.0, c.parties.1),
                c.spread,
            )
        })
        .collect();
    let expected = [
        ("a-summit:putin-xi", 0.675 - 0.325),
        ("paris:abe-kremlin", 0.97 - 0.125),
        ("paris:kremlin-trump", 0.645),
    ];
    assert_eq!(found.len(), expected.len(), "{found:?}");
    for ((name, spread), (want, want_spread)) in found.iter().zip(expected) {
        assert_eq!(name, want);
        assert!((spread - want_spread).abs() < 1e-9, "{name}: {spread}");
    }
}

#[test]
fn contradictions_compare_literal_credences_at_the_band_edges() {
    let mut log = Log::new();
    log.say(St {
        credence: Some(0.55),
        ..st("paris", "a", Stance::Likely, "2018-11-06")
    });
    log.say(St {
        credence: Some(0.45),
        ..st("paris", "b", Stance::Unlikely, "2018-11-06")
    });
    log.say(St {
        credence: Some(0.46),
        ..st("paris", "c", Stance::EvenChance, "2018-11-06")
    });
    let found = contradictions(&all(&log));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].parties, (pid("a"), pid("b")));
    assert!((found[0].spread - 0.1).abs() < 1e-9);
}

#[test]
fn as_of_a_date_excludes_statements_said_after_that_day() {
    let mut log = Log::new();
    let early = log.statement("paris", "trump", Stance::Unlikely, "2018-11-01");
    let same_day = log.statement("paris", "trump", Stance::Likely, "2018-11-06T23:59:59Z");
    log.statement("paris", "trump", Stance::VeryUnlikely, "2018-11-07");
    log.statement("paris", "kremlin", Stance::Likely, "2018-11-07");
    let ps = with(&log, as_of("2018-11-06"));
    assert_eq!(ps.len(), 1, "kremlin only spoke later");
    assert_eq!(
        (ps[0].statement, ps[0].statements, ps[0].flips),
        (same_day, 2, 1)
    );
    assert_eq!(with(&log, as_of("2018-11-05"))[0].statement, early);
    assert!(with(&log, as_of("2018-10-31")).is_empty());
}

#[test]
fn as_of_does_not_undo_a_retraction() {
    let mut log = Log::new();
    let first = log.statement("paris", "trump", Stance::Unlikely, "2018-11-01");
    let second = log.statement("paris", "trump", Stance::Likely, "2018-11-02");
    log.retract(second);
    // The retraction is recorded long after 2018-11-03, yet counts in that view.
    assert_eq!(with(&log, as_of("2018-11-03"))[0].statement, first);
}

#[test]
fn known_at_before_a_retraction_still_shows_the_statement() {
    let mut log = Log::new();
    log.statement("paris", "trump", Stance::Unlikely, "2018-11-01");
    let second = log.statement("paris", "trump", Stance::Likely, "2018-11-02");
    let retraction = log.retract(second);
    let before = Filter {
        known_at: Some(TimeBound(log.recorded_at(retraction) - 1)),
        ..Filter::default()
    };
    let p = &with(&log, before)[0];
    assert_eq!((p.statement, p.statements, p.flips), (second, 2, 1));
    let after = Filter {
        known_at: Some(TimeBound(log.recorded_at(retraction))),
        ..Filter::default()
    };
    assert_ne!(with(&log, after)[0].statement, second);
}

#[test]
fn known_at_hides_statements_recorded_later_even_if_said_earlier() {
    let mut log = Log::new();
    log.at(1_000)
        .statement("paris", "trump", Stance::Likely, "2018-11-06");
    log.at(2_000)
        .statement("paris", "kremlin", Stance::Likely, "2018-11-01");
    let f = Filter {
        known_at: Some(TimeBound(1_999)),
        ..Filter::default()
    };
    assert_eq!(summary(&with(&log, f))[0].1, "trump");
    assert_eq!(with(&log, f).len(), 1);
}

#[test]
fn at_seq_shows_the_ledger_as_it_stood_after_that_event() {
    let mut log = Log::new();
    log.statement("paris", "trump", Stance::Unlikely, "2018-11-01");
    let second = log.statement("paris", "trump", Stance::Likely, "2018-11-02");
    log.retract(second);
    let at = |n| Filter {
        at_seq: Some(n),
        ..Filter::default()
    };
    assert!(with(&log, at(0)).is_empty());
    assert_eq!(with(&log, at(2))[0].statement, second);
    assert_ne!(with(&log, at(3))[0].statement, second);
}

#[test]
fn resolutions_and_other_events_leave_positions_alone() {
    let mut log = Log::new();
    log.statement("paris", "trump", Stance::Likely, "2018-11-01");
    let before = all(&log);
    log.resolve("paris", Outcome::Happened, "2018-11-11");
    assert_eq!(all(&log), before);
}

fn history(log: &Log, party: Option<&str>, filter: Filter) -> Vec<HistoryEntry> {
    let mut fold = HistoryFold::new(prop("paris"), party.map(pid), filter);
    log.records().iter().for_each(|r| fold.apply(r));
    fold.finish()
}

#[test]
fn history_lists_statements_in_said_order_with_retractions_flagged() {
    let mut log = Log::new();
    let late = log.say(St {
        source: Some("https://example.org/a"),
        ..st("paris", "trump", Stance::Likely, "2018-11-06")
    });
    let early = log.say(St {
        speaker: Some("peskov"),
        ..st("paris", "kremlin", Stance::AlmostCertain, "2018-11-01")
    });
    log.statement("summit", "trump", Stance::Likely, "2018-11-02");
    let tie = log.statement("paris", "trump", Stance::Unlikely, "2018-11-06");
    let retraction = log.retract(late);

    let h = history(&log, None, Filter::default());
    let ids: Vec<_> = h.iter().map(|e| (e.statement, e.retracted)).collect();
    assert_eq!(ids, [(early, false), (late, true), (tie, false)]);
    assert_eq!(h[0].speaker, pid("peskov"));
    assert_eq!(h[0].party, pid("kremlin"));
    assert_eq!(h[1].source.as_deref(), Some("https://example.org/a"));
    assert_eq!((h[1].seq, h[1].credence), (1, Some(0.675)));
    assert_eq!(h[1].retraction_reason.as_deref(), Some("misquoted"));
    assert_eq!(h[0].retraction_reason, None);

    let trump = history(&log, Some("trump"), Filter::default());
    assert_eq!(
        trump.iter().map(|e| e.statement).collect::<Vec<_>>(),
        [late, tie]
    );

    let before = Filter {
        at_seq: Some(4),
        ..Filter::default()
    };
    assert!(
        !history(&log, None, before)
            .iter()
            .any(|e| e.retracted || e.retraction_reason.is_some())
    );
    let known = Filter {
        known_at: Some(TimeBound(log.recorded_at(retraction))),
        ..Filter::default()
    };
    assert!(history(&log, None, known)[1].retracted);
    assert_eq!(history(&log, None, as_of("2018-11-05")).len(), 1);
}
