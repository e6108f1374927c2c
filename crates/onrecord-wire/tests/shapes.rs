//! Every wire shape, built from domain values: it reads back to an equal
//! value that serialises to the identical string (what the CLI's HTTP client
//! will rely on), and a small example serialises to a literal string, so a
//! renamed, reordered or unrounded field is caught here before the CLI's
//! end-to-end tests see it.

use std::fmt::Debug;

use onrecord_core::{EventId, Outcome, PartyId, PropositionId, Stance, When};
use onrecord_ledger::query::PropositionView;
use onrecord_ledger::{AppendOutcome, Head, ImportCounts, LedgerStats};
use onrecord_projections::{
    CalibrationRow, Contradiction, HistoryEntry, PartyScore, PartyTotals, Position,
    PropositionScores, ScoreReport,
};
use onrecord_wire::{
    AppendedJson, BulkAppendedJson, CalibrationRowJson, ContradictingPairJson, ContradictionJson,
    EventCountsJson, HeadJson, HistoryEntryJson, PartyPositionJson, PartyScoreJson,
    PartyTotalsJson, PropositionCountsJson, PropositionPositionsJson, PropositionScoresJson,
    ScoresJson, StatsJson, round6,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

const EVENT_A: &str = "01932c07-a3e0-7cc0-8f0e-5a2b4c6d8e9f";
const EVENT_B: &str = "01932c07-a3e0-7cc0-8f0e-5a2b4c6d8e90";

/// Serialises `value`, reads it back (equal), serialises again (identical) and returns the text.
fn round_trip<T: Serialize + DeserializeOwned + PartialEq + Debug>(value: &T) -> String {
    let text = serde_json::to_string(value).unwrap();
    let back: T = serde_json::from_str(&text).unwrap();
    assert_eq!(&back, value, "{text} reads back to a different value");
    let again = serde_json::to_string(&back).unwrap();
    assert_eq!(again, text, "{text} does not serialise back to itself");
    text
}

/// The compact JSON of `value`.
fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap()
}

fn party(s: &str) -> PartyId {
    PartyId::new(s).unwrap()
}

fn proposition(s: &str) -> PropositionId {
    PropositionId::new(s).unwrap()
}

fn event(s: &str) -> EventId {
    s.parse().unwrap()
}

fn when(s: &str) -> When {
    s.parse().unwrap()
}

fn kremlin_position() -> Position {
    Position {
        proposition: proposition("paris-meeting"),
        party: party("kremlin"),
        stance: Stance::AlmostCertain,
        credence: Some(0.97),
        said_at: when("2018-11-06"),
        speaker: party("peskov"),
        statement: event(EVENT_A),
        quote: Some("They will certainly meet".to_owned()),
        statements: 2,
        flips: 0,
    }
}

/// A declined position said at an instant, with no quote: the `null`s.
fn declined_position() -> Position {
    Position {
        proposition: proposition("paris-meeting"),
        party: party("elysee"),
        stance: Stance::Declined,
        credence: None,
        said_at: when("2018-11-05T14:30:00.123456+01:00"),
        speaker: party("elysee"),
        statement: event(EVENT_B),
        quote: None,
        statements: 1,
        flips: 0,
    }
}

fn trump_position() -> Position {
    Position {
        proposition: proposition("paris-meeting"),
        party: party("trump"),
        stance: Stance::Unlikely,
        credence: Some(0.325),
        said_at: when("2018-11-05"),
        speaker: party("trump"),
        statement: event(EVENT_B),
        quote: Some("\u{2026}probably not. \"Quoted\" \u{1b}[2J".to_owned()),
        statements: 2,
        flips: 1,
    }
}

/// A contradiction whose spread is not exact in binary (0.97 − 0.325).
fn contradiction() -> Contradiction {
    Contradiction {
        proposition: proposition("paris-meeting"),
        parties: (party("kremlin"), party("trump")),
        spread: 0.97 - 0.325,
    }
}

fn view() -> PropositionView {
    PropositionView {
        proposition: proposition("paris-meeting"),
        positions: vec![declined_position(), kremlin_position(), trump_position()],
        contradictions: vec![contradiction()],
    }
}

fn history_entry() -> HistoryEntry {
    HistoryEntry {
        seq: 12,
        statement: event(EVENT_A),
        party: party("trump"),
        speaker: party("trump"),
        stance: Stance::AlmostCertain,
        credence: Some(0.97),
        said_at: when("2018-11-05"),
        quote: Some("We will be meeting".to_owned()),
        source: Some("https://example.org/story".to_owned()),
        qualifiers: vec![],
        retracted: false,
        retraction_reason: None,
    }
}

fn declined_history_entry() -> HistoryEntry {
    HistoryEntry {
        seq: 13,
        statement: event(EVENT_B),
        party: party("kremlin"),
        speaker: party("peskov"),
        stance: Stance::Declined,
        credence: None,
        said_at: when("2018-11-06T09:00:00Z"),
        quote: None,
        source: None,
        qualifiers: vec!["brief".to_owned()],
        retracted: true,
        retraction_reason: Some("misattributed".to_owned()),
    }
}

fn kremlin_score() -> PartyScore {
    PartyScore {
        party: party("kremlin"),
        final_credence: 0.97,
        final_brier: (1.0f64 - 0.97).powi(2),
        mean_daily_brier: 0.078_066_123,
        final_log: 0.97f64.ln(),
        statements: 2,
    }
}

fn trump_score() -> PartyScore {
    PartyScore {
        party: party("trump"),
        final_credence: 0.325,
        final_brier: (1.0f64 - 0.325).powi(2),
        mean_daily_brier: 0.216_150_9,
        final_log: 0.325f64.ln(),
        statements: 2,
    }
}

fn kremlin_totals() -> PartyTotals {
    PartyTotals {
        party: party("kremlin"),
        propositions: 1,
        mean_final_brier: (1.0f64 - 0.97).powi(2),
        mean_daily_brier: 0.078_066_123,
        mean_final_log: 0.97f64.ln(),
    }
}

fn scored_proposition() -> PropositionScores {
    PropositionScores {
        proposition: proposition("paris-meeting"),
        outcome: Outcome::Happened,
        resolved_at: when("2018-11-11"),
        parties: vec![kremlin_score(), trump_score()],
    }
}

fn report() -> ScoreReport {
    ScoreReport {
        propositions: vec![
            scored_proposition(),
            PropositionScores {
                proposition: proposition("g20-meeting"),
                outcome: Outcome::DidNotHappen,
                resolved_at: when("2018-12-01T18:00:00Z"),
                parties: Vec::new(),
            },
        ],
        parties: vec![
            kremlin_totals(),
            PartyTotals {
                party: party("trump"),
                propositions: 1,
                mean_final_brier: (1.0f64 - 0.325).powi(2),
                mean_daily_brier: 0.216_150_9,
                mean_final_log: 0.325f64.ln(),
            },
        ],
    }
}

fn calibration_rows() -> Vec<CalibrationRow> {
    vec![
        CalibrationRow {
            stance: Stance::AlmostNoChance,
            low: 0.01,
            high: 0.05,
            statements: 1,
            happened: 0,
            share: Some(0.0),
        },
        CalibrationRow {
            stance: Stance::VeryUnlikely,
            low: 0.05,
            high: 0.2,
            statements: 0,
            happened: 0,
            share: None,
        },
        CalibrationRow {
            stance: Stance::AlmostCertain,
            low: 0.95,
            high: 0.99,
            statements: 3,
            happened: 1,
            share: Some(1.0 / 3.0),
        },
    ]
}

fn stats() -> LedgerStats {
    let mut hash = [0u8; 32];
    hash[0] = 0xd0;
    hash[1] = 0x1d;
    hash[31] = 0x05;
    LedgerStats {
        parties: 5,
        propositions: 2,
        resolved: 2,
        statements: 8,
        retractions: 0,
        head: Head { seq: 17, hash },
        bytes_on_disk: 524_287,
    }
}

fn appended() -> AppendOutcome {
    AppendOutcome::Appended {
        seq: 14,
        event_id: event(EVENT_A),
    }
}

fn already_recorded() -> AppendOutcome {
    AppendOutcome::AlreadyRecorded {
        seq: 3,
        event_id: event(EVENT_B),
    }
}

// Round trips: each shape built from domain values reads back to itself.

#[test]
fn positions_round_trip() {
    let v = view();
    for p in &v.positions {
        round_trip(&PartyPositionJson::from(p));
    }
    round_trip(&ContradictingPairJson::from(&v.contradictions[0]));
    round_trip(&PropositionPositionsJson::from_view(&v));
    // A credence printed as recorded, not rounded, reads back bit for bit.
    let odd = Position {
        credence: Some(0.1 + 0.2),
        ..kremlin_position()
    };
    assert!(
        round_trip(&PartyPositionJson::from(&odd)).contains(r#""credence":0.30000000000000004,"#)
    );
    let empty = PropositionView {
        proposition: proposition("nobody-spoke"),
        positions: Vec::new(),
        contradictions: Vec::new(),
    };
    round_trip(&vec![
        PropositionPositionsJson::from_view(&v),
        PropositionPositionsJson::from(&empty),
    ]);
}

#[test]
fn contradictions_round_trip() {
    round_trip(&vec![ContradictionJson::from(&contradiction())]);
}

#[test]
fn history_round_trips() {
    round_trip(&vec![
        HistoryEntryJson::from(&history_entry()),
        HistoryEntryJson::from(&declined_history_entry()),
    ]);
}

#[test]
fn scores_round_trip() {
    let r = report();
    round_trip(&PartyScoreJson::from(&r.propositions[0].parties[1]));
    round_trip(&PropositionScoresJson::from(&r.propositions[1]));
    round_trip(&PartyTotalsJson::from(&r.parties[1]));
    round_trip(&ScoresJson::from_report(&r));
    round_trip(&ScoresJson::from(&ScoreReport {
        propositions: Vec::new(),
        parties: Vec::new(),
    }));
}

#[test]
fn calibration_round_trips() {
    let rows: Vec<CalibrationRowJson> = calibration_rows()
        .iter()
        .map(CalibrationRowJson::from)
        .collect();
    round_trip(&rows);
}

#[test]
fn stats_round_trip() {
    let s = StatsJson::from_stats(&stats());
    round_trip(&s.events);
    round_trip(&s.propositions);
    round_trip(&s.head);
    round_trip(&s);
}

#[test]
fn appends_round_trip() {
    round_trip(&AppendedJson::from_outcome(&appended()));
    round_trip(&AppendedJson::from(&already_recorded()));
    round_trip(&BulkAppendedJson::from_counts(&ImportCounts {
        appended: 17,
        already_recorded: 2,
    }));
}

#[test]
fn an_unknown_key_a_later_server_adds_is_read_past() {
    let text =
        format!(r#"{{"status":"appended","seq":14,"event_id":"{EVENT_A}","recorded_by":"x"}}"#);
    let read: AppendedJson = serde_json::from_str(&text).unwrap();
    assert_eq!(read, AppendedJson::from_outcome(&appended()));
}

// Key order: a small example of each shape, pinned as text.

#[test]
fn party_position_keys_in_contract_order() {
    assert_eq!(
        json(&PartyPositionJson::from(&kremlin_position())),
        format!(
            r#"{{"party":"kremlin","stance":"almost-certain","credence":0.97,"said_at":"2018-11-06T00:00:00Z","speaker":"peskov","statement":"{EVENT_A}","quote":"They will certainly meet","statements":2,"flips":0}}"#
        )
    );
    assert_eq!(
        json(&PartyPositionJson::from(&declined_position())),
        format!(
            r#"{{"party":"elysee","stance":"declined","credence":null,"said_at":"2018-11-05T13:30:00.123456Z","speaker":"elysee","statement":"{EVENT_B}","quote":null,"statements":1,"flips":0}}"#
        )
    );
}

#[test]
fn contradicting_pair_keys_in_contract_order() {
    assert_eq!(
        json(&ContradictingPairJson::from(&contradiction())),
        r#"{"parties":["kremlin","trump"],"spread":0.645}"#
    );
}

#[test]
fn proposition_positions_keys_in_contract_order() {
    let v = PropositionView {
        proposition: proposition("paris-meeting"),
        positions: vec![kremlin_position(), trump_position()],
        contradictions: vec![contradiction()],
    };
    assert_eq!(
        json(&PropositionPositionsJson::from_view(&v)),
        format!(
            r#"{{"proposition":"paris-meeting","positions":[{{"party":"kremlin","stance":"almost-certain","credence":0.97,"said_at":"2018-11-06T00:00:00Z","speaker":"peskov","statement":"{EVENT_A}","quote":"They will certainly meet","statements":2,"flips":0}},{{"party":"trump","stance":"unlikely","credence":0.325,"said_at":"2018-11-05T00:00:00Z","speaker":"trump","statement":"{EVENT_B}","quote":"…probably not. \"Quoted\" \u001b[2J","statements":2,"flips":1}}],"contradictions":[{{"parties":["kremlin","trump"],"spread":0.645}}]}}"#
        )
    );
}

#[test]
fn contradiction_keys_in_contract_order() {
    assert_eq!(
        json(&vec![ContradictionJson::from(&contradiction())]),
        r#"[{"proposition":"paris-meeting","parties":["kremlin","trump"],"spread":0.645}]"#
    );
}

#[test]
fn history_entry_keys_in_contract_order() {
    assert_eq!(
        json(&HistoryEntryJson::from(&history_entry())),
        format!(
            r#"{{"seq":12,"statement":"{EVENT_A}","party":"trump","speaker":"trump","stance":"almost-certain","credence":0.97,"said_at":"2018-11-05T00:00:00Z","quote":"We will be meeting","source":"https://example.org/story","retracted":false}}"#
        )
    );
    assert_eq!(
        json(&HistoryEntryJson::from(&declined_history_entry())),
        format!(
            r#"{{"seq":13,"statement":"{EVENT_B}","party":"kremlin","speaker":"peskov","stance":"declined","credence":null,"said_at":"2018-11-06T09:00:00Z","quote":null,"source":null,"retracted":true}}"#
        )
    );
}

#[test]
fn party_score_keys_in_contract_order() {
    assert_eq!(
        json(&PartyScoreJson::from(&trump_score())),
        r#"{"party":"trump","final_credence":0.325,"final_brier":0.455625,"mean_daily_brier":0.216151,"final_log":-1.12393,"statements":2}"#
    );
}

#[test]
fn proposition_scores_keys_in_contract_order() {
    assert_eq!(
        json(&PropositionScoresJson::from(&scored_proposition())),
        r#"{"proposition":"paris-meeting","outcome":"happened","resolved_at":"2018-11-11T00:00:00Z","parties":[{"party":"kremlin","final_credence":0.97,"final_brier":0.0009,"mean_daily_brier":0.078066,"final_log":-0.030459,"statements":2},{"party":"trump","final_credence":0.325,"final_brier":0.455625,"mean_daily_brier":0.216151,"final_log":-1.12393,"statements":2}]}"#
    );
}

#[test]
fn party_totals_keys_in_contract_order() {
    assert_eq!(
        json(&PartyTotalsJson::from(&kremlin_totals())),
        r#"{"party":"kremlin","propositions":1,"mean_final_brier":0.0009,"mean_daily_brier":0.078066,"mean_final_log":-0.030459}"#
    );
}

#[test]
fn scores_keys_in_contract_order() {
    assert_eq!(
        json(&ScoresJson::from_report(&report())),
        concat!(
            r#"{"propositions":[{"proposition":"paris-meeting","outcome":"happened","resolved_at":"2018-11-11T00:00:00Z","parties":[{"party":"kremlin","final_credence":0.97,"final_brier":0.0009,"mean_daily_brier":0.078066,"final_log":-0.030459,"statements":2},{"party":"trump","final_credence":0.325,"final_brier":0.455625,"mean_daily_brier":0.216151,"final_log":-1.12393,"statements":2}]},"#,
            r#"{"proposition":"g20-meeting","outcome":"did-not-happen","resolved_at":"2018-12-01T18:00:00Z","parties":[]}],"#,
            r#""parties":[{"party":"kremlin","propositions":1,"mean_final_brier":0.0009,"mean_daily_brier":0.078066,"mean_final_log":-0.030459},{"party":"trump","propositions":1,"mean_final_brier":0.455625,"mean_daily_brier":0.216151,"mean_final_log":-1.12393}]}"#
        )
    );
}

#[test]
fn calibration_row_keys_in_contract_order() {
    let rows: Vec<CalibrationRowJson> = calibration_rows()
        .iter()
        .map(CalibrationRowJson::from)
        .collect();
    assert_eq!(
        json(&rows),
        r#"[{"stance":"almost-no-chance","low":0.01,"high":0.05,"statements":1,"happened":0,"share":0.0},{"stance":"very-unlikely","low":0.05,"high":0.2,"statements":0,"happened":0,"share":null},{"stance":"almost-certain","low":0.95,"high":0.99,"statements":3,"happened":1,"share":0.333333}]"#
    );
}

#[test]
fn stats_keys_in_contract_order() {
    let hash = format!("d01d{}05", "0".repeat(58));
    assert_eq!(
        json(&StatsJson::from_stats(&stats())),
        format!(
            r#"{{"events":{{"total":17,"party":5,"proposition":2,"statement":8,"retraction":0,"resolution":2}},"parties":5,"propositions":{{"total":2,"open":0,"resolved":2}},"statements":8,"retractions":0,"head":{{"seq":17,"hash":"{hash}"}},"bytes_on_disk":524287}}"#
        )
    );
}

#[test]
fn event_counts_keys_in_contract_order() {
    let counts: EventCountsJson = StatsJson::from_stats(&stats()).events;
    assert_eq!(
        json(&counts),
        r#"{"total":17,"party":5,"proposition":2,"statement":8,"retraction":0,"resolution":2}"#
    );
}

#[test]
fn proposition_counts_keys_in_contract_order() {
    let counts: PropositionCountsJson = StatsJson::from_stats(&stats()).propositions;
    assert_eq!(json(&counts), r#"{"total":2,"open":0,"resolved":2}"#);
}

#[test]
fn head_keys_in_contract_order() {
    let empty = LedgerStats {
        head: Head {
            seq: 0,
            hash: [0; 32],
        },
        ..stats()
    };
    let head: HeadJson = StatsJson::from_stats(&empty).head;
    assert_eq!(
        json(&head),
        format!(r#"{{"seq":0,"hash":"{}"}}"#, "0".repeat(64))
    );
}

#[test]
fn appended_keys_in_contract_order() {
    assert_eq!(
        json(&AppendedJson::from_outcome(&appended())),
        format!(r#"{{"status":"appended","seq":14,"event_id":"{EVENT_A}"}}"#)
    );
    assert_eq!(
        json(&AppendedJson::from_outcome(&already_recorded())),
        format!(r#"{{"status":"already-recorded","seq":3,"event_id":"{EVENT_B}"}}"#)
    );
}

#[test]
fn bulk_appended_keys_in_contract_order() {
    assert_eq!(
        json(&BulkAppendedJson::from_counts(&ImportCounts {
            appended: 17,
            already_recorded: 0,
        })),
        r#"{"status":"ok","appended":17,"already_recorded":0}"#
    );
}

#[test]
fn scores_are_rounded_to_six_decimals() {
    assert_eq!(round6(0.97 - 0.325), 0.645);
    assert_eq!(json(&round6(0.97 - 0.325)), "0.645");
    assert_eq!(round6(-1.123_930_4), -1.12393);
}
