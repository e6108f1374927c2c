//! Format stability of envelope version 2 (records that say who recorded
//! them). Two committed fixtures, beside the version 1 ones of `golden.rs`:
//!
//! - `tests/fixtures/golden-v2/`: a ledger whose every record is version 2,
//!   the founding story plus a retraction, each event by one of [`RECORDERS`];
//! - `tests/fixtures/golden-v1-then-v2/`: a copy of `golden-v1` (23 version 1
//!   records) to which this build appended four version 2 records: the chain
//!   runs across the change of version.
//!
//! Each must always open, verify and decode to its `expected.jsonl` with its
//! `head.txt`; and this build, given the same requests and clock, must write
//! the same bytes again (the head hash covers every stored byte), so the
//! version 2 bytes can never change silently.
//!
//! The fixtures were made once by `make_golden_v2_fixtures` (ignored; it
//! refuses to overwrite). Never regenerate one to make a test pass: a
//! failure here means stored bytes stopped being readable or reproducible.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use onrecord_core::{
    Draft, EventId, PartyKind, Proposition, Recorder, Stance, StatementDraft, StatementRetracted,
    interchange,
};
use onrecord_ledger::{AppendRequest, Clock, Ledger, envelope, keys};
use onrecord_sled::LedgerOptions;

/// Who recorded the golden v2 events, in turn (the last one tests UTF-8 and spaces).
const RECORDERS: [&str; 4] = ["local:alice", "desk-bot", "local:bob", "Rédaction — bot 2"];

/// The golden v1 ledger's last seq: the mixed fixture's v1 records end here.
const V1_HEAD_SEQ: u64 = 23;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

fn read(fixture: &str, name: &str) -> String {
    std::fs::read_to_string(fixtures().join(fixture).join(name)).unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// 2019-01-01T00:00:00Z: the transaction time of every version 2 record of the fixtures.
fn fixed_clock() -> i64 {
    1_546_300_800_000_000
}

fn fixed_options() -> LedgerOptions {
    LedgerOptions {
        clock: Clock {
            now: fixed_clock,
            ..Default::default()
        },
        ..options()
    }
}

fn id(n: u128) -> EventId {
    EventId::from_bytes(n.to_be_bytes())
}

fn by(n: u128, who: &str, draft: Draft) -> AppendRequest {
    AppendRequest {
        event_id: Some(id(n)),
        ..AppendRequest::new(draft, Recorder::new(who).unwrap())
    }
}

/// The golden v2 ledger's requests: the founding story (ids 1-17, the
/// resolutions last), a retraction before them (id 100), recorders in turn.
fn v2_requests() -> Vec<AppendRequest> {
    let story = include_str!("../../../examples/armistice-2018.jsonl");
    let mut requests: Vec<AppendRequest> = story
        .lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| {
            let draft = interchange::parse_line(l).unwrap().draft;
            by(i as u128 + 1, RECORDERS[i % RECORDERS.len()], draft)
        })
        .collect();
    let resolutions = requests.split_off(15);
    requests.push(by(
        100,
        RECORDERS[15 % RECORDERS.len()],
        Draft::Retraction(StatementRetracted {
            statement: id(8),
            reason: "quoted from a translation, not the transcript".into(),
        }),
    ));
    requests.extend(
        resolutions
            .into_iter()
            .enumerate()
            .map(|(i, r)| AppendRequest {
                recorded_by: Recorder::new(RECORDERS[(16 + i) % RECORDERS.len()]).unwrap(),
                ..r
            }),
    );
    requests
}

/// Who recorded each seq of the golden v2 ledger.
fn v2_recorders() -> Vec<&'static str> {
    (0..18).map(|i| RECORDERS[i % RECORDERS.len()]).collect()
}

/// What was appended to the golden v1 ledger to make the mixed fixture.
fn appended_to_v1() -> Vec<AppendRequest> {
    vec![
        by(
            200,
            "local:alice",
            Draft::Party(onrecord_core::Party {
                id: pid("macron"),
                name: "Emmanuel Macron".into(),
                kind: PartyKind::Person,
                speaks_for: Some(pid("elysee")),
                aliases: vec!["the French president".into()],
            }),
        ),
        by(
            201,
            "desk-bot",
            Draft::Proposition(Proposition {
                id: prop_id("biarritz-summit"),
                text: "Trump attends the G7 summit in Biarritz".into(),
                criteria: None,
                window: Some("2019-08-24..2019-08-26".parse().unwrap()),
            }),
        ),
        by(
            202,
            "desk-bot",
            Draft::Statement(StatementDraft {
                proposition: prop_id("biarritz-summit"),
                party: None,
                speaker: Some(pid("macron")),
                stance: Stance::VeryLikely,
                credence: Some(0.9),
                said_at: "2018-12-20T09:30:00Z".parse().unwrap(),
                quote: Some("We expect every leader in Biarritz".into()),
                source: None,
                qualifiers: vec![],
            }),
        ),
        by(
            203,
            "local:alice",
            Draft::Retraction(StatementRetracted {
                statement: id(202),
                reason: "misattributed".into(),
            }),
        ),
    ]
}

/// Who recorded each seq of the mixed ledger: none for the v1 records.
fn mixed_recorders() -> Vec<Option<&'static str>> {
    let mut out = vec![None; V1_HEAD_SEQ as usize];
    out.extend(["local:alice", "desk-bot", "desk-bot", "local:alice"].map(Some));
    out
}

/// Opens a copy of a committed fixture's ledger (opening writes sled's files).
fn open_copy(fixture: &str) -> (tempfile::TempDir, Ledger) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    copy_dir(&fixtures().join(fixture).join("ledger"), &path);
    let ledger = onrecord_sled::open(&path, &fixed_options()).unwrap();
    (dir, ledger)
}

fn exported(ledger: &Ledger) -> Vec<String> {
    ledger
        .records_checked(1, u64::MAX)
        .map(|r| interchange::write_line(&r.unwrap()))
        .collect()
}

fn head_line(ledger: &Ledger) -> String {
    format!("{} {}", ledger.head().seq, ledger.head().hash_hex())
}

/// Each record's envelope version and recorder, read from its stored bytes.
fn stored_versions(ledger: Ledger, path: &Path) -> Vec<(u16, Option<String>)> {
    drop(ledger);
    let db = open_raw(path);
    db.scan_prefix([keys::RECORD])
        .map(|kv| {
            let (key, bytes) = kv.unwrap();
            let env = envelope::decode_envelope(&bytes, keys::record_seq(&key).unwrap()).unwrap();
            (env.version, env.recorded_by)
        })
        .collect()
}

#[test]
fn the_golden_v2_ledger_opens_verifies_and_decodes_with_who_recorded_each_event() {
    let (dir, ledger) = open_copy("golden-v2");
    assert_eq!(ledger.verify(&mut |_, _| {}).unwrap().damage, None);
    let expected = read("golden-v2", "expected.jsonl");
    assert_eq!(exported(&ledger), expected.lines().collect::<Vec<_>>());
    assert_eq!(head_line(&ledger), read("golden-v2", "head.txt").trim());
    let recorders: Vec<String> = ledger
        .records_from(1)
        .map(|r| r.unwrap().recorded_by.unwrap().to_string())
        .collect();
    assert_eq!(recorders, v2_recorders());
    assert!(expected.contains(r#""recorded_by":"Rédaction — bot 2""#));
    let stored = stored_versions(ledger, &dir.path().join("ledger"));
    assert_eq!(stored.len(), 18);
    assert!(
        stored.iter().all(|(v, _)| *v == envelope::ENVELOPE_V2),
        "{stored:?}"
    );
}

#[test]
fn this_build_writes_the_golden_v2_events_to_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = onrecord_sled::create(&dir.path().join("ledger"), &fixed_options()).unwrap();
    ledger.append_batch(v2_requests()).unwrap();
    assert_eq!(head_line(&ledger), read("golden-v2", "head.txt").trim());
    // And re-encoding what the fixture decodes to chains to the same head.
    let (_fixture, golden) = open_copy("golden-v2");
    let mut prev_hash = envelope::GENESIS_HASH;
    for rec in golden.records_from(1) {
        let rec = rec.unwrap();
        let bytes = envelope::encode_record_v2(&envelope::EnvelopeV2 {
            seq: rec.seq,
            event_id: *rec.event_id.as_bytes(),
            event_type: rec.event.event_type().code(),
            recorded_at: rec.recorded_at,
            prev_hash,
            payload: envelope::encode_payload(&rec.event),
            recorded_by: rec.recorded_by.unwrap().into_string(),
        });
        prev_hash = envelope::hash_record(&bytes);
    }
    assert_eq!(prev_hash, golden.head().hash);
}

#[test]
fn the_golden_v1_ledger_with_v2_records_appended_verifies_across_the_change() {
    let (dir, ledger) = open_copy("golden-v1-then-v2");
    assert_eq!(ledger.verify(&mut |_, _| {}).unwrap().damage, None);
    let expected = read("golden-v1-then-v2", "expected.jsonl");
    let lines = exported(&ledger);
    assert_eq!(lines, expected.lines().collect::<Vec<_>>());
    assert_eq!(
        head_line(&ledger),
        read("golden-v1-then-v2", "head.txt").trim()
    );
    // The v1 part exports exactly as golden v1 does: no recorded_by there.
    let v1 = read("golden-v1", "expected.jsonl");
    assert_eq!(
        lines[..V1_HEAD_SEQ as usize],
        v1.lines().collect::<Vec<_>>()
    );
    let recorders: Vec<Option<String>> = ledger
        .records_from(1)
        .map(|r| r.unwrap().recorded_by.map(Recorder::into_string))
        .collect();
    let expected_recorders: Vec<Option<String>> = mixed_recorders()
        .into_iter()
        .map(|r| r.map(str::to_owned))
        .collect();
    assert_eq!(recorders, expected_recorders);
    let stored = stored_versions(ledger, &dir.path().join("ledger"));
    let versions: Vec<u16> = stored.iter().map(|(v, _)| *v).collect();
    assert_eq!(versions, [vec![1; 23], vec![2; 4]].concat());
}

#[test]
fn appending_to_the_golden_v1_ledger_gives_the_committed_mixed_head() {
    let (_dir, ledger) = open_copy("golden-v1");
    assert_eq!(head_line(&ledger), read("golden-v1", "head.txt").trim());
    ledger.append_batch(appended_to_v1()).unwrap();
    assert_eq!(ledger.verify(&mut |_, _| {}).unwrap().damage, None);
    assert_eq!(
        head_line(&ledger),
        read("golden-v1-then-v2", "head.txt").trim()
    );
}

#[test]
#[ignore = "writes the committed v2 fixtures; run only when adding a new format version"]
fn make_golden_v2_fixtures() {
    let write = |fixture: &str, ledger: &Ledger| {
        let out = fixtures().join(fixture);
        std::fs::write(
            out.join("expected.jsonl"),
            exported(ledger).join("\n") + "\n",
        )
        .unwrap();
        std::fs::write(out.join("head.txt"), head_line(ledger) + "\n").unwrap();
    };
    let v2 = fixtures().join("golden-v2");
    assert!(
        !v2.join("ledger").exists(),
        "golden-v2 exists; never overwrite it"
    );
    let ledger = onrecord_sled::create(&v2.join("ledger"), &fixed_options()).unwrap();
    ledger.append_batch(v2_requests()).unwrap();
    write("golden-v2", &ledger);
    drop(ledger);

    let mixed = fixtures().join("golden-v1-then-v2");
    assert!(
        !mixed.join("ledger").exists(),
        "golden-v1-then-v2 exists; never overwrite it"
    );
    copy_dir(
        &fixtures().join("golden-v1").join("ledger"),
        &mixed.join("ledger"),
    );
    let ledger = onrecord_sled::open(&mixed.join("ledger"), &fixed_options()).unwrap();
    ledger.append_batch(appended_to_v1()).unwrap();
    write("golden-v1-then-v2", &ledger);
}
