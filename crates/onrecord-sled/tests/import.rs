//! Bulk imports (`Ledger::import`): larger than one chunk, they commit the
//! same ledger a single batch would; a refusal writes nothing; an import cut
//! short before its head is written is undone, key for key, when the ledger
//! is next opened.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;
use onrecord_core::{Draft, EventId, LedgerFacts, Outcome, Stance};
use onrecord_ledger::{AppendRequest, IMPORT_CHUNK, ImportCounts, Ledger, StoreError};
use onrecord_sled::LedgerOptions;

fn fixed_clock() -> i64 {
    1_700_000_000_000_000
}

fn fixed_options() -> LedgerOptions {
    LedgerOptions {
        clock: onrecord_ledger::Clock {
            now: fixed_clock,
            ..Default::default()
        },
        ..options()
    }
}

/// A deterministic event id.
fn id(n: u64) -> EventId {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&0x0190_0000_0000_7000u64.to_be_bytes());
    bytes[8..].copy_from_slice(&(0x8000_0000_0000_0000 | n).to_be_bytes());
    EventId::from_bytes(bytes)
}

fn with_id(n: u64, draft: Draft) -> AppendRequest {
    AppendRequest {
        event_id: Some(id(n)),
        ..req(draft)
    }
}

const DAYS: [&str; 4] = ["2018-11-02", "2018-10-20", "2018-11-09", "2018-11-05"];
const STANCES: [Stance; 3] = [Stance::Likely, Stance::Unlikely, Stance::AlmostCertain];

/// What the ledger holds before the import: parties, propositions and a few
/// statements (ids 1..), so the import extends existing streams and pairs,
/// part-filled index chunks, and retracts a statement recorded before it.
fn before() -> Vec<AppendRequest> {
    let mut out = vec![
        with_id(1, party("trump", None)),
        with_id(2, party("kremlin", None)),
        with_id(3, party("peskov", Some("kremlin"))),
        with_id(4, proposition("paris-meeting")),
        with_id(5, proposition("summit")),
    ];
    for n in 0..7 {
        let who = ["trump", "kremlin"][n % 2];
        out.push(with_id(
            10 + n as u64,
            statement("paris-meeting", who, STANCES[n % 3], DAYS[n % 4]),
        ));
    }
    out
}

/// The import: more than two chunks' worth, touching old and new streams and
/// pairs, retracting statements from before it and from itself, resolving.
fn imported() -> Vec<AppendRequest> {
    let mut out = vec![
        with_id(100, retraction(id(12))),
        with_id(101, resolution("summit", Outcome::Happened, "2018-11-12")),
        with_id(102, party("macron", None)),
        with_id(103, proposition("g20-meeting")),
    ];
    let total = 2 * IMPORT_CHUNK + 500;
    for n in 0..total {
        let prop = ["paris-meeting", "g20-meeting"][(n % 2) as usize];
        let who = ["trump", "kremlin", "macron", "peskov"][(n % 4) as usize];
        let mut draft = statement(prop, who, STANCES[(n % 3) as usize], DAYS[(n % 4) as usize]);
        if let Draft::Statement(s) = &mut draft
            && who == "peskov"
        {
            // peskov speaks for the Kremlin: party from the speaker.
            s.party = None;
            s.speaker = Some(pid("peskov"));
        }
        out.push(with_id(1_000 + n, draft));
    }
    // A statement of this import, retracted by it.
    out.push(with_id(99_999, retraction(id(1_003))));
    out
}

/// Every key and value of the ledger's sled tree.
fn dump(path: &Path) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let db = open_raw(path);
    let out = db
        .iter()
        .map(|kv| {
            let (k, v) = kv.unwrap();
            (k.to_vec(), v.to_vec())
        })
        .collect();
    drop(db);
    out
}

fn import_all(ledger: &Ledger, requests: Vec<AppendRequest>) -> Result<ImportCounts, StoreError> {
    let mut check = ledger.import()?;
    for r in requests.clone() {
        check.check(r)?;
    }
    let mut write = check.into_writer()?;
    for r in requests {
        write.write(r)?;
    }
    write.commit()
}

#[test]
fn an_import_of_several_chunks_commits_what_one_batch_would() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let one = onrecord_sled::create(&a, &fixed_options()).unwrap();
    let chunked = onrecord_sled::create(&b, &fixed_options()).unwrap();
    for ledger in [&one, &chunked] {
        ledger.append_batch(before()).unwrap();
    }
    one.append_batch(imported()).unwrap();
    let counts = import_all(&chunked, imported()).unwrap();
    assert_eq!(counts.appended, imported().len() as u64);
    assert_eq!(chunked.head(), one.head(), "same records, same chain");
    assert_eq!(
        chunked.positions(None).unwrap(),
        one.positions(None).unwrap()
    );
    let report = chunked.verify(&mut |_, _| {}).unwrap();
    assert_eq!(report.damage, None);
    // Sending it again records nothing more.
    let again = import_all(&chunked, imported()).unwrap();
    assert_eq!(
        again,
        ImportCounts {
            appended: 0,
            already_recorded: imported().len() as u64
        }
    );
    drop((one, chunked));
    assert_eq!(dump(&a), dump(&b), "the same keys and values");
}

#[test]
fn a_refusal_anywhere_in_an_import_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l");
    let ledger = onrecord_sled::create(&path, &fixed_options()).unwrap();
    ledger.append_batch(before()).unwrap();
    let head = ledger.head();
    drop(ledger);
    let kept = dump(&path);

    let ledger = onrecord_sled::open(&path, &fixed_options()).unwrap();
    let mut requests = imported();
    // The same id again with other content, and a statement by nobody known.
    requests.push(with_id(1_001, party("someone", None)));
    requests.push(req(statement(
        "summit",
        "nobody",
        Stance::Likely,
        "2018-11-01",
    )));
    let mut check = ledger.import().unwrap();
    let mut refused = Vec::new();
    for r in requests {
        if let Err(e) = check.check(r) {
            refused.push(e.to_string());
        }
    }
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert!(refused[0].contains("different payload"), "{refused:?}");
    assert!(refused[1].contains("nobody"), "{refused:?}");
    assert!(matches!(
        check.into_writer(),
        Err(StoreError::ImportRefused(2))
    ));
    assert_eq!(ledger.head(), head);
    drop(ledger);
    assert_eq!(dump(&path), kept, "not a key written");
}

#[test]
fn an_import_cut_short_before_its_head_is_undone_when_the_ledger_is_opened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l");
    let ledger = onrecord_sled::create(&path, &fixed_options()).unwrap();
    ledger.append_batch(before()).unwrap();
    let head = ledger.head();
    drop(ledger);
    let kept = dump(&path);

    let ledger = onrecord_sled::open(&path, &fixed_options()).unwrap();
    let mut check = ledger.import().unwrap();
    for r in imported() {
        check.check(r).unwrap();
    }
    let mut write = check.into_writer().unwrap();
    for r in imported() {
        write.write(r).unwrap();
    }
    // The process dies here: no commit, no undo in this process.
    std::mem::forget(write);
    drop(ledger);
    let cut = dump(&path);
    assert!(
        cut.keys().any(|k| k.as_slice() == b"Mimport"),
        "the import mark is set"
    );
    let staged = cut.keys().filter(|k| k[0] == b'R').count() - before().len();
    assert_eq!(staged as u64, 2 * IMPORT_CHUNK, "two chunks were staged");

    let ledger = onrecord_sled::open(&path, &fixed_options()).unwrap();
    assert_eq!(ledger.head(), head);
    assert_eq!(ledger.verify(&mut |_, _| {}).unwrap().damage, None);
    drop(ledger);
    assert_eq!(dump(&path), kept, "every key as it was before the import");

    // The same import then goes through whole.
    let ledger = onrecord_sled::open(&path, &fixed_options()).unwrap();
    let counts = import_all(&ledger, imported()).unwrap();
    assert_eq!(counts.appended, imported().len() as u64);
    assert_eq!(ledger.verify(&mut |_, _| {}).unwrap().damage, None);
}

#[test]
fn an_import_dropped_before_its_commit_undoes_what_it_wrote() {
    let (dir, ledger) = temp_ledger();
    ledger.append_batch(before()).unwrap();
    let head = ledger.head();
    let mut check = ledger.import().unwrap();
    for r in imported() {
        check.check(r).unwrap();
    }
    let mut write = check.into_writer().unwrap();
    for r in imported() {
        write.write(r).unwrap();
    }
    drop(write);
    assert_eq!(ledger.head(), head);
    assert_eq!(ledger.party(&pid("macron")).unwrap(), None);
    ledger
        .append(req(statement(
            "paris-meeting",
            "trump",
            Stance::Likely,
            "2018-11-20",
        )))
        .unwrap();
    assert_eq!(ledger.verify(&mut |_, _| {}).unwrap().damage, None);
    drop(dir);
}
