//! The same bytes on both backends (issue 16, item 2): the seed story and a
//! bulk import larger than two import chunks, appended with fixed event ids
//! and a fixed clock to a sled ledger and to a PostgreSQL one, give the same
//! keyspace key for key (records, indexes, kept views, markers), the same
//! head hash and the same `export` lines, and both verify whole.

use onrecord_core::{Draft, EventId, Stance, interchange, write_line};
use onrecord_ledger::conformance::drafts::{party, proposition, retraction, statement};
use onrecord_ledger::conformance::keyspace;
use onrecord_ledger::{AppendRequest, Clock, IMPORT_CHUNK, Ledger};
use onrecord_postgres::PostgresOptions;
use onrecord_postgres::test_cluster::TestDatabase;

/// 2018-12-02T00:00:00Z: every record carries this transaction time.
fn fixed_clock() -> i64 {
    1_543_708_800_000_000
}

/// The fixed clock (every event below also carries an explicit id).
fn clock() -> Clock {
    Clock {
        now: fixed_clock,
        ..Clock::default()
    }
}

/// A deterministic (v7-shaped) event id.
fn id(n: u64) -> EventId {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&0x0190_0000_0000_7000u64.to_be_bytes());
    bytes[8..].copy_from_slice(&(0x8000_0000_0000_0000 | n).to_be_bytes());
    EventId::from_bytes(bytes)
}

fn with_id(n: u64, draft: Draft) -> AppendRequest {
    AppendRequest {
        event_id: Some(id(n)),
        ..AppendRequest::new(
            draft,
            onrecord_core::Recorder::new(format!("desk-{}", n % 3)).expect("a valid recorder"),
        )
    }
}

/// The seed story (`examples/armistice-2018.jsonl`), ids 1.. in file order.
fn seed_story() -> Vec<AppendRequest> {
    include_str!("../../../examples/armistice-2018.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, line)| {
            let parsed = interchange::parse_line(line).expect("the example parses");
            with_id(i as u64 + 1, parsed.draft)
        })
        .collect()
}

/// More than one import chunk of statements, with parties, a proposition
/// and retractions of the story's and its own statements.
fn bulk() -> Vec<AppendRequest> {
    let mut out = vec![
        with_id(1_000, party("macron", None)),
        with_id(1_001, proposition("g20-dinner")),
    ];
    let stances = [Stance::Likely, Stance::Unlikely, Stance::AlmostCertain];
    let days = ["2018-11-02", "2018-10-20", "2018-11-09", "2018-11-05"];
    for n in 0..(IMPORT_CHUNK + 300) {
        let who = ["trump", "kremlin", "macron"][(n % 3) as usize];
        let draft = statement(
            "g20-dinner",
            who,
            stances[(n % 3) as usize],
            days[(n % 4) as usize],
        );
        out.push(with_id(2_000 + n, draft));
    }
    out.push(with_id(99_999, retraction(id(2_003))));
    out
}

/// Writes the same history to `ledger`: the story as one batch, the import, then one more append.
fn write_history(ledger: &Ledger) {
    let story = seed_story();
    let (first, rest) = story.split_at(6);
    ledger
        .append_batch(first.to_vec())
        .expect("the story's first batch");
    for request in rest {
        ledger.append(request.clone()).expect("the story's appends");
    }
    let requests = bulk();
    let mut check = ledger.import().expect("an import starts");
    for r in requests.clone() {
        check.check(r).expect("the import checks");
    }
    let mut write = check.into_writer().expect("the import writes");
    for r in requests {
        write.write(r).expect("the import writes");
    }
    write.commit().expect("the import commits");
    ledger
        .append(with_id(100_000, retraction(id(2_010))))
        .expect("an append after the import");
}

/// What `onrecord export` prints: every record, chain-checked, as JSON Lines.
fn export(ledger: &Ledger) -> Vec<String> {
    ledger
        .records_checked(1, ledger.head().seq)
        .map(|rec| write_line(&rec.expect("the chain checks out")))
        .collect()
}

#[test]
fn the_same_events_give_the_same_bytes_head_and_export_on_sled_and_postgres() {
    let Some(db) = TestDatabase::new() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sled = onrecord_sled::create(
        &dir.path().join("ledger"),
        &onrecord_sled::LedgerOptions {
            clock: clock(),
            ..Default::default()
        },
    )
    .unwrap();
    let postgres = onrecord_postgres::create(
        &db.url(),
        &PostgresOptions {
            clock: clock(),
            ..Default::default()
        },
    )
    .unwrap();
    write_history(&sled);
    write_history(&postgres);

    assert!(
        postgres.head().seq > IMPORT_CHUNK,
        "the import crossed chunks"
    );
    assert_eq!(postgres.head(), sled.head(), "the same head seq and hash");
    let (on_sled, on_postgres) = (keyspace(&sled), keyspace(&postgres));
    assert_eq!(on_postgres.len(), on_sled.len(), "as many keys");
    assert!(on_postgres == on_sled, "the keyspaces differ");
    assert_eq!(export(&postgres), export(&sled), "the same export");
    for ledger in [&sled, &postgres] {
        let report = ledger.verify(&mut |_, _| {}).unwrap();
        assert_eq!(report.damage, None);
    }

    // And so after reopening: what PostgreSQL committed is what was written.
    drop(postgres);
    let reopened = onrecord_postgres::open(&db.url(), &PostgresOptions::default()).unwrap();
    assert_eq!(reopened.head(), sled.head());
    assert!(
        keyspace(&reopened) == on_sled,
        "the reopened keyspace differs"
    );
}
