//! The SQL read interface (issue 16 item 3, `docs/sql.md`): the views
//! `onrecord.current_positions` and `onrecord.contradictions` answer as the
//! engine does through backdating, retractions and speaks-for; the read
//! tables hold exactly the records up to the head, also while an import is
//! staged and after it is undone; and a ledger made at schema version 1
//! gets its read tables filled when it is migrated.

use onrecord_core::Stance;
use onrecord_ledger::conformance::drafts::{
    party, proposition, req, retraction, statement, test_id, with_id,
};
use onrecord_ledger::{IMPORT_CHUNK, Ledger};
use onrecord_postgres::test_cluster::TestDatabase;
use onrecord_postgres::{PostgresOptions, SCHEMA_VERSION};
use onrecord_projections::{Position, contradictions};

fn options() -> PostgresOptions {
    PostgresOptions::default()
}

/// One current position as the view gives it, in the engine's terms.
#[derive(Debug, PartialEq)]
struct Row {
    proposition: String,
    party: String,
    stance: String,
    credence: Option<f64>,
    said_at_micros: i64,
    speaker: String,
    statement: String,
    quote: Option<String>,
    statements: u64,
    flips: u64,
}

impl From<&Position> for Row {
    fn from(p: &Position) -> Self {
        Self {
            proposition: p.proposition.to_string(),
            party: p.party.to_string(),
            stance: p.stance.name().to_owned(),
            credence: p.credence,
            said_at_micros: p.said_at.micros(),
            speaker: p.speaker.to_string(),
            statement: p.statement.to_string(),
            quote: p.quote.clone(),
            statements: p.statements,
            flips: p.flips,
        }
    }
}

fn text(cell: &Option<String>) -> String {
    cell.clone().expect("a non-null column")
}

/// `onrecord.current_positions`, ordered as `positions` orders them.
fn sql_positions(db: &TestDatabase) -> Vec<Row> {
    db.query(
        "SELECT proposition, party, stance, credence,
                (extract(epoch FROM said_at) * 1000000)::bigint, speaker, statement, quote,
                statements, flips
         FROM onrecord.current_positions ORDER BY proposition, party",
    )
    .iter()
    .map(|r| Row {
        proposition: text(&r[0]),
        party: text(&r[1]),
        stance: text(&r[2]),
        credence: r[3].as_deref().map(|c| c.parse().expect("a credence")),
        said_at_micros: text(&r[4]).parse().expect("micros"),
        speaker: text(&r[5]),
        statement: text(&r[6]),
        quote: r[7].clone(),
        statements: text(&r[8]).parse().expect("a count"),
        flips: text(&r[9]).parse().expect("a count"),
    })
    .collect()
}

/// `onrecord.contradictions` as (proposition, party a, party b, spread).
fn sql_contradictions(db: &TestDatabase) -> Vec<(String, String, String, f64)> {
    db.query(
        "SELECT proposition, party_a, party_b, spread FROM onrecord.contradictions
         ORDER BY proposition, party_a, party_b",
    )
    .iter()
    .map(|r| {
        (
            text(&r[0]),
            text(&r[1]),
            text(&r[2]),
            text(&r[3]).parse().expect("a spread"),
        )
    })
    .collect()
}

/// Asserts the views answer as the ledger's kept views and its contradiction rule.
fn assert_views_agree(db: &TestDatabase, ledger: &Ledger) {
    let kept = ledger.positions(None).expect("the kept views read");
    let expected: Vec<Row> = kept.iter().map(Row::from).collect();
    assert_eq!(
        sql_positions(db),
        expected,
        "current_positions against the ledger"
    );
    let expected: Vec<(String, String, String, f64)> = contradictions(&kept)
        .iter()
        .map(|c| {
            (
                c.proposition.to_string(),
                c.parties.0.to_string(),
                c.parties.1.to_string(),
                c.spread,
            )
        })
        .collect();
    let found = sql_contradictions(db);
    assert_eq!(
        found.len(),
        expected.len(),
        "{found:?} against {expected:?}"
    );
    for (f, e) in found.iter().zip(&expected) {
        assert_eq!((&f.0, &f.1, &f.2), (&e.0, &e.1, &e.2));
        assert!((f.3 - e.3).abs() < 1e-12, "spread {f:?} against {e:?}");
    }
}

/// How many rows the internal tables hold past the head (staged records).
fn rows_past_head(db: &TestDatabase) -> u64 {
    let rows = db.query(
        "SELECT count(*) FROM onrecord.recorded_statements
         WHERE seq > (SELECT seq FROM onrecord.head)",
    );
    text(&rows[0][0]).parse().expect("a count")
}

fn count(db: &TestDatabase, sql: &str) -> u64 {
    text(&db.query(sql)[0][0]).parse().expect("a count")
}

#[test]
fn the_views_answer_as_the_ledger_through_backdating_retractions_and_speaks_for() {
    let Some(db) = TestDatabase::new() else {
        return;
    };
    let ledger = onrecord_postgres::create(&db.url(), &options()).unwrap();
    ledger
        .append_batch(vec![
            req(party("a", None)),
            req(party("b", None)),
            req(party("c", Some("a"))),
            req(proposition("p0")),
            req(proposition("p1")),
        ])
        .unwrap();
    // A small deterministic generator (the conformance suite's, by hand).
    let mut state = 29u64;
    let mut below = |n: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % n
    };
    let mut live = Vec::new();
    let mut next_id = 1;
    for _ in 0..14 {
        let mut batch = Vec::new();
        for _ in 0..=below(5) {
            if !live.is_empty() && below(4) == 0 {
                let id = live.remove(below(live.len() as u64) as usize);
                batch.push(req(retraction(id)));
            } else {
                let id = test_id(next_id);
                next_id += 1;
                let draft = statement(
                    &format!("p{}", below(2)),
                    ["a", "b", "c"][below(3) as usize],
                    Stance::ALL[below(8) as usize],
                    &format!("2018-11-{:02}", below(12) + 1),
                );
                batch.push(with_id(id, draft));
                live.push(id);
            }
        }
        ledger.append_batch(batch).unwrap();
        assert_views_agree(&db, &ledger);
    }
    let kept = ledger.positions(None).unwrap();
    assert!(kept.iter().any(|p| p.flips > 0), "the history has flips");
    assert!(
        !contradictions(&kept).is_empty(),
        "the history has contradictions"
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM onrecord.statements WHERE retracted"
        ),
        count(&db, "SELECT count(*) FROM onrecord.retractions"),
    );
}

#[test]
fn staged_import_rows_never_show_and_an_undone_import_leaves_no_rows() {
    let Some(db) = TestDatabase::new() else {
        return;
    };
    let ledger = onrecord_postgres::create(&db.url(), &options()).unwrap();
    ledger
        .append_batch(vec![
            req(party("trump", None)),
            req(proposition("paris-meeting")),
            req(statement(
                "paris-meeting",
                "trump",
                Stance::Likely,
                "2018-11-05",
            )),
        ])
        .unwrap();
    let requests: Vec<_> = (0..IMPORT_CHUNK + 5)
        .map(|i| {
            req(statement(
                "paris-meeting",
                "trump",
                Stance::ALL[(i % 8) as usize],
                &format!("2018-11-{:02}", i % 28 + 1),
            ))
        })
        .collect();
    let mut check = ledger.import().unwrap();
    for r in requests.clone() {
        check.check(r).unwrap();
    }
    let mut writer = check.into_writer().unwrap();
    for r in requests {
        writer.write(r).unwrap();
    }
    // The first chunk is staged in the keyspace, past the head.
    assert!(rows_past_head(&db) > 0, "a chunk is staged");
    assert_eq!(count(&db, "SELECT count(*) FROM onrecord.statements"), 1);
    assert_eq!(
        count(&db, "SELECT count(*) FROM onrecord.current_positions"),
        1,
        "the views show the log as the head has it"
    );
    // Cut short: the writer is dropped without committing, the ledger closed.
    drop(writer);
    drop(ledger);
    let ledger = onrecord_postgres::open(&db.url(), &options()).unwrap();
    assert_eq!(ledger.head().seq, 3);
    assert_eq!(rows_past_head(&db), 0, "the undone import's rows are gone");
    assert_eq!(
        count(&db, "SELECT count(*) FROM onrecord.recorded_statements"),
        1
    );
    assert_views_agree(&db, &ledger);
}

#[test]
fn a_ledger_made_at_schema_version_1_gets_its_read_tables_filled_when_migrated() {
    let Some(db) = TestDatabase::new() else {
        return;
    };
    let ledger = onrecord_postgres::create(&db.url(), &options()).unwrap();
    let first = test_id(1);
    ledger
        .append_batch(vec![
            req(party("trump", None)),
            req(party("kremlin", None)),
            req(party("peskov", Some("kremlin"))),
            req(proposition("paris-meeting")),
            with_id(
                first,
                statement("paris-meeting", "trump", Stance::Likely, "2018-11-05"),
            ),
            req(statement(
                "paris-meeting",
                "peskov",
                Stance::Unlikely,
                "2018-11-07",
            )),
            req(statement(
                "paris-meeting",
                "trump",
                Stance::VeryUnlikely,
                "2018-11-02",
            )),
        ])
        .unwrap();
    ledger.append(req(retraction(first))).unwrap();
    let positions = sql_positions(&db);
    let statements = db.query("SELECT * FROM onrecord.statements ORDER BY seq");
    drop(ledger);
    // What schema version 1 was: 0001 alone (0003's column dropped too).
    db.execute(
        "ALTER TABLE onrecord.head DROP COLUMN last_recorded_at;
         DROP VIEW onrecord.contradictions, onrecord.current_positions, onrecord.statements,
                   onrecord.propositions, onrecord.retractions, onrecord.resolutions,
                   onrecord.parties;
         DROP TABLE onrecord.recorded_parties, onrecord.recorded_propositions,
                    onrecord.recorded_statements, onrecord.recorded_retractions,
                    onrecord.recorded_resolutions;
         DROP FUNCTION onrecord.micros_to_time(bigint);
         DELETE FROM onrecord.schema_version WHERE version > 1;",
    );
    let ledger = onrecord_postgres::open(&db.url(), &options()).unwrap();
    assert_eq!(
        count(&db, "SELECT max(version) FROM onrecord.schema_version"),
        u64::from(SCHEMA_VERSION)
    );
    assert_eq!(
        sql_positions(&db),
        positions,
        "the backfill gives the same positions"
    );
    assert_eq!(
        db.query("SELECT * FROM onrecord.statements ORDER BY seq"),
        statements,
        "and the same statements"
    );
    assert_views_agree(&db, &ledger);
}
