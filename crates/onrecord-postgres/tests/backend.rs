//! What only this backend does: recognising a database before writing to
//! it, the schema version, the writer lock, errors from the server and the
//! network, range reads that page, and a connection lost mid-use.

use std::ops::Bound;
use std::time::Duration;

use onrecord_ledger::conformance::drafts::{party, req};
use onrecord_ledger::conformance::{assert_sound, keyspace};
use onrecord_ledger::{ErrorKind, MemoryStorage, Storage, StoreError, WriteSet};
use onrecord_postgres::test_cluster::TestDatabase;
use onrecord_postgres::{PostgresOptions, SCHEMA_VERSION};

fn options() -> PostgresOptions {
    PostgresOptions::default()
}

/// A key range as `Storage::range` takes it.
type KeyRange<'a> = (Bound<&'a [u8]>, Bound<&'a [u8]>);

/// Asserts `condition` (SQL) holds in `db`, naming `what` if not.
fn assert_sql(db: &TestDatabase, condition: &str, what: &str) {
    db.execute(&format!(
        "DO $$ BEGIN IF NOT ({condition}) THEN RAISE EXCEPTION '{what}'; END IF; END $$"
    ));
}

#[test]
fn a_database_without_the_schema_is_no_ledger_and_opening_it_writes_nothing() {
    let Some(db) = TestDatabase::new() else {
        return;
    };
    let e = onrecord_postgres::open(&db.url(), &options()).unwrap_err();
    assert!(matches!(e, StoreError::NoLedger(_)), "{e:?}");
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert_sql(
        &db,
        "to_regnamespace('onrecord') IS NULL",
        "open made the schema",
    );
    // A database that does not exist is no ledger either.
    let missing = db.url().replace(db.name(), "no_such_database");
    let e = onrecord_postgres::open(&missing, &options()).unwrap_err();
    assert!(matches!(e, StoreError::NoLedger(_)), "{e:?}");
}

#[test]
fn a_foreign_onrecord_schema_is_refused_by_open_and_create_and_left_alone() {
    let Some(db) = TestDatabase::new() else {
        return;
    };
    db.execute("CREATE SCHEMA onrecord; CREATE TABLE onrecord.keyspace (k int); INSERT INTO onrecord.keyspace VALUES (7)");
    for e in [
        onrecord_postgres::open(&db.url(), &options()).unwrap_err(),
        onrecord_postgres::create(&db.url(), &options()).unwrap_err(),
    ] {
        assert!(matches!(e, StoreError::NotALedger(_)), "{e:?}");
        assert!(e.to_string().contains("nothing was written"), "{e}");
    }
    assert_sql(
        &db,
        "(SELECT count(*) FROM onrecord.keyspace WHERE k = 7) = 1 AND to_regclass('onrecord.head') IS NULL",
        "the foreign schema was touched",
    );
}

#[test]
fn create_makes_the_schema_at_this_version_and_a_second_create_is_refused() {
    let Some(db) = TestDatabase::new() else {
        return;
    };
    let ledger = onrecord_postgres::create(&db.url(), &options()).unwrap();
    assert_sql(
        &db,
        &format!("(SELECT max(version) FROM onrecord.schema_version) = {SCHEMA_VERSION}"),
        "wrong schema version",
    );
    drop(ledger);
    let e = onrecord_postgres::create(&db.url(), &options()).unwrap_err();
    assert!(matches!(e, StoreError::LedgerExists(_)), "{e:?}");
}

#[test]
fn a_newer_schema_is_refused_naming_both_versions() {
    let Some(db) = TestDatabase::new() else {
        return;
    };
    drop(onrecord_postgres::create(&db.url(), &options()).unwrap());
    db.execute("INSERT INTO onrecord.schema_version (version) VALUES (99)");
    let e = onrecord_postgres::open(&db.url(), &options()).unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::NewerSchema {
                found: 99,
                known: SCHEMA_VERSION,
                ..
            }
        ),
        "{e:?}"
    );
    let text = e.to_string();
    assert!(
        text.contains("99") && text.contains(&SCHEMA_VERSION.to_string()),
        "{text}"
    );
    assert_eq!(e.kind(), ErrorKind::Unavailable);
}

#[test]
fn an_unreachable_server_is_unavailable_naming_host_and_port_but_never_the_password() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://desk:s3cret@127.0.0.1:{port}/ledger");
    let e = onrecord_postgres::open(&url, &options()).unwrap_err();
    assert!(matches!(e, StoreError::Unreachable { .. }), "{e:?}");
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    let text = e.to_string();
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
    assert!(text.contains("connection refused"), "{text}");
    assert!(!text.contains("s3cret"), "{text}");
    assert!(
        std::error::Error::source(&e).is_some(),
        "the client's error is kept"
    );
}

#[test]
fn an_exclusive_writer_makes_the_second_wait_then_be_busy() {
    let Some(db) = TestDatabase::new() else {
        return;
    };
    let exclusive = PostgresOptions {
        shared: false,
        ..options()
    };
    let first = onrecord_postgres::create(&db.url(), &exclusive).unwrap();
    let impatient = PostgresOptions {
        busy_wait: Duration::from_millis(200),
        ..options()
    };
    let e = onrecord_postgres::open(&db.url(), &impatient).unwrap_err();
    assert!(matches!(e, StoreError::LedgerBusy(_)), "{e:?}");
    assert_eq!(e.kind(), ErrorKind::Busy);
    drop(first);
    onrecord_postgres::open(&db.url(), &options()).expect("free once the first is closed");
}

#[test]
fn shared_writers_append_to_one_chain_and_wait_while_one_excludes_them() {
    let Some(db) = TestDatabase::new() else {
        return;
    };
    let first = onrecord_postgres::create(&db.url(), &options()).unwrap();
    let impatient = PostgresOptions {
        busy_wait: Duration::from_millis(200),
        ..options()
    };
    let second = onrecord_postgres::open(&db.url(), &impatient).expect("shared: no lock for life");
    assert!(first.shares_writers() && second.shares_writers());
    first.append(req(party("trump", None))).unwrap();
    let next = second.append(req(party("kremlin", None))).unwrap();
    assert_eq!(
        next.seq(),
        2,
        "the second writer reads the head the first moved"
    );

    // An import holds the writer lock exclusively: the other's commit waits, then is busy.
    let import = first
        .import()
        .expect("the import excludes the other writers");
    let e = second.append(req(party("peskov", None))).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Busy, "{e:?}");
    drop(import);
    let after = second.append(req(party("peskov", None))).unwrap();
    assert_eq!(after.seq(), 3);
    assert_eq!(first.current_head().unwrap(), second.head());
    assert_sound(&first);
}

#[test]
fn range_reads_page_through_many_keys_as_a_memory_store_answers() {
    let Some(db) = TestDatabase::new() else {
        return;
    };
    let store = onrecord_postgres::create_storage(&db.url(), &options()).unwrap();
    let memory = MemoryStorage::new("memory");
    // 3,000 keys (many pages), with a prefix that is a prefix of others and 0xff bytes.
    let mut writes = WriteSet::default();
    for n in 0u32..3_000 {
        writes.put(
            [&b"k"[..], &n.to_be_bytes()].concat(),
            n.to_le_bytes().to_vec(),
        );
    }
    writes.put(b"k".to_vec(), b"bare".to_vec());
    writes.put(vec![b'k', 0xff, 0xff], b"high".to_vec());
    writes.delete([&b"k"[..], &7u32.to_be_bytes()].concat());
    writes.put(b"z".to_vec(), b"last".to_vec());
    memory.apply(writes.clone()).unwrap();
    store.apply(writes).unwrap();
    let k = |n: u32| [&b"k"[..], &n.to_be_bytes()].concat();
    let (a, b) = (k(5), k(2_777));
    let bounds: Vec<KeyRange<'_>> = vec![
        (Bound::Unbounded, Bound::Unbounded),
        (Bound::Included(&a), Bound::Excluded(&b)),
        (Bound::Excluded(&a), Bound::Included(&b)),
        (Bound::Included(b"k"), Bound::Excluded(b"l")),
        (Bound::Excluded(&b), Bound::Unbounded),
        (Bound::Included(&b), Bound::Included(&a)),
        (Bound::Included(&a), Bound::Excluded(&a)),
    ];
    for (start, end) in bounds {
        let got: Vec<_> = store.range(start, end).map(Result::unwrap).collect();
        let want: Vec<_> = memory.range(start, end).map(Result::unwrap).collect();
        assert!(
            got == want,
            "range {start:?}..{end:?}: {} vs {} entries",
            got.len(),
            want.len()
        );
        assert_eq!(
            store.last(start, end).unwrap(),
            memory.last(start, end).unwrap()
        );
    }
    assert_eq!(store.get(&k(7)).unwrap(), None);
    assert_eq!(store.get(&k(8)).unwrap(), Some(8u32.to_le_bytes().to_vec()));
    assert!(store.contains(b"z").unwrap());
    assert!(store.size_on_disk().unwrap() > 0);
}

#[test]
fn a_connection_lost_mid_use_is_an_error_never_a_panic_then_a_shared_writer_reconnects() {
    let Some(db) = TestDatabase::new() else {
        return;
    };
    let ledger = onrecord_postgres::create(&db.url(), &options()).unwrap();
    ledger.append(req(party("trump", None))).unwrap();
    db.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    );
    std::thread::sleep(Duration::from_millis(200));
    let e = ledger.append(req(party("kremlin", None))).unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::Unavailable),
        "a lost connection is Unavailable: {e:?}"
    );
    // A shared writer holds no lock between commits: the next write connects
    // again and goes on from the committed head.
    let next = ledger.append(req(party("kremlin", None))).unwrap();
    assert_eq!(next.seq(), 2);
    assert_sound(&ledger);

    // A writer that held the lock for its life lost it with the connection:
    // no write until the ledger is opened again.
    drop(ledger);
    let exclusive = PostgresOptions {
        shared: false,
        ..options()
    };
    let ledger = onrecord_postgres::open(&db.url(), &exclusive).unwrap();
    db.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    );
    std::thread::sleep(Duration::from_millis(200));
    let e = ledger.append(req(party("peskov", None))).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable, "{e:?}");
    let e = ledger.append(req(party("peskov", None))).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable, "{e:?}");
    drop(ledger);
    let ledger = onrecord_postgres::open(&db.url(), &options()).unwrap();
    assert_eq!(ledger.head().seq, 2);
    ledger.append(req(party("peskov", None))).unwrap();
    assert_sound(&ledger);
}

#[test]
fn a_refused_first_append_leaves_the_database_without_a_ledger() {
    let Some(db) = TestDatabase::new() else {
        return;
    };
    let result: Result<(), StoreError> =
        onrecord_postgres::open_or_create_then(&db.url(), &options(), |ledger| {
            // speaks for a party that is not registered: refused.
            ledger
                .append(req(party("peskov", Some("kremlin"))))
                .map(|_| ())
        });
    assert!(result.is_err());
    assert_sql(
        &db,
        "to_regnamespace('onrecord') IS NULL",
        "the schema was kept",
    );
    // And a first append that is taken keeps the ledger.
    onrecord_postgres::open_or_create_then(&db.url(), &options(), |ledger| {
        ledger.append(req(party("kremlin", None))).map(|_| ())
    })
    .unwrap();
    let ledger = onrecord_postgres::open(&db.url(), &options()).unwrap();
    assert_eq!(ledger.head().seq, 1);
    assert!(!keyspace(&ledger).is_empty());
}

/// Every proposition's positions and contradictions as `ledger` answers them
/// under `filter`, in a comparable form.
fn answers(ledger: &onrecord_ledger::Ledger, filter: onrecord_projections::Filter) -> String {
    let views = ledger
        .query(&onrecord_ledger::query::PositionsQuery {
            filter,
            ..Default::default()
        })
        .unwrap();
    format!("{views:?}")
}

#[test]
fn another_process_never_sees_an_import_before_it_commits() {
    use onrecord_ledger::conformance::drafts::{proposition, statement};
    let Some(db) = TestDatabase::new() else {
        return;
    };
    let importer = onrecord_postgres::create(&db.url(), &options()).unwrap();
    importer
        .append_batch(vec![
            req(party("trump", None)),
            req(party("kremlin", None)),
            req(proposition("paris-meeting")),
            req(statement(
                "paris-meeting",
                "trump",
                onrecord_core::Stance::Unlikely,
                "2018-11-05",
            )),
        ])
        .unwrap();
    let reader = onrecord_postgres::open(&db.url(), &options()).unwrap();
    reader.current_head().unwrap();
    // The kept views, and a fold of the log (a time filter reads the log).
    let later = onrecord_projections::Filter {
        known_at: Some(onrecord_core::TimeBound(i64::MAX)),
        ..Default::default()
    };
    let unfiltered = onrecord_projections::Filter::default();
    let before = (answers(&reader, unfiltered), answers(&reader, later));

    // More than one chunk: the first is staged (written, head unmoved) when
    // the next request is written.
    let requests: Vec<_> = (0..onrecord_ledger::IMPORT_CHUNK + 10)
        .map(|i| {
            let (party, day) = if i % 2 == 0 {
                ("kremlin", "2018-11-08")
            } else {
                ("trump", "2018-11-09")
            };
            req(statement(
                "paris-meeting",
                party,
                onrecord_core::Stance::AlmostCertain,
                day,
            ))
        })
        .collect();
    let mut check = importer.import().unwrap();
    for r in &requests {
        check.check(r.clone()).unwrap();
    }
    let mut writer = check.into_writer().unwrap();
    for r in &requests {
        writer.write(r.clone()).unwrap();
    }
    let during = (answers(&reader, unfiltered), answers(&reader, later));
    assert_eq!(
        during, before,
        "a reader in another process sees only what is committed"
    );
    writer.commit().unwrap();
    reader.current_head().unwrap();
    assert_eq!(
        (answers(&reader, unfiltered), answers(&reader, later)),
        (answers(&importer, unfiltered), answers(&importer, later)),
        "once committed, the reader sees all of it"
    );
}

#[test]
fn an_open_that_finds_no_ledger_leaves_the_writer_lock_free_at_once() {
    // `append` on a new URL opens, finds no ledger, then creates one: the
    // open's lock must be released before its connection is gone, or the
    // create (with no busy wait) finds it held by the closing session.
    let impatient = PostgresOptions {
        busy_wait: Duration::ZERO,
        ..options()
    };
    for _ in 0..10 {
        let Some(db) = TestDatabase::new() else {
            return;
        };
        let e = onrecord_postgres::open(&db.url(), &impatient).unwrap_err();
        assert!(matches!(e, StoreError::NoLedger(_)), "{e:?}");
        assert_sql(
            &db,
            "NOT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))",
            "the refused open still holds the writer lock",
        );
        onrecord_postgres::create(&db.url(), &impatient).expect("the lock is free");
    }
}

#[test]
fn another_servers_append_leaves_this_ones_kept_views_current() {
    let Some(db) = TestDatabase::new() else {
        return;
    };
    let first = onrecord_postgres::create(&db.url(), &options()).unwrap();
    first.append(req(party("trump", None))).unwrap();
    let second = onrecord_postgres::open(&db.url(), &options()).unwrap();
    first.append(req(party("kremlin", None))).unwrap();
    // `second` has not appended since: its own head is behind the store's,
    // yet its positions are read from the kept views, not folded from the log.
    assert!(second.views_current().unwrap());
    assert_eq!(
        answers(&second, Default::default()),
        answers(&first, Default::default())
    );
}

#[test]
fn a_held_head_makes_other_writers_wait_until_it_is_let_go_with_nothing_written() {
    let Some(db) = TestDatabase::new() else {
        return;
    };
    let first = onrecord_postgres::create(&db.url(), &options()).unwrap();
    first.append(req(party("trump", None))).unwrap();
    let impatient = PostgresOptions {
        busy_wait: Duration::from_millis(300),
        ..options()
    };
    let other = onrecord_postgres::open(&db.url(), &impatient).unwrap();
    let holder = onrecord_postgres::open_storage(&db.url(), &options()).unwrap();
    assert!(holder.hold_head().unwrap(), "a shared store holds its head");

    // Another writer's commit waits for the head row, then is busy.
    let e = other.append(req(party("kremlin", None))).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Busy, "{e:?}");

    // Let go, writing nothing: the other writer commits at the next seq.
    holder.release_head();
    let next = other.append(req(party("kremlin", None))).unwrap();
    assert_eq!(next.seq(), 2, "the hold wrote nothing");
    assert_eq!(first.current_head().unwrap(), other.head());
    assert_sound(&other);
}
