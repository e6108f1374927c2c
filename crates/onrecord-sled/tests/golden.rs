//! Format stability: a ledger written by format version 1 and committed under
//! `tests/fixtures/golden-v1/` must always open, verify and decode to exactly
//! the events in `expected.jsonl`, with the same head hash. Its keyspace is
//! layout 1 (one stream-index key per revision). `tests/fixtures/golden-layout2/`
//! holds the same events written in keyspace layout 2 (chunked stream index,
//! docs/adr/0003) and must decode to the same lines and head.
//! `tests/fixtures/golden-layout3/` holds them once more in keyspace layout 3
//! (sled chunks, docs/adr/0007), made by `onrecord_sled::upgrade` of the
//! layout 2 fixture: same lines, same head.
//!
//! Each fixture was made once by `make_golden_fixture` (ignored; it refuses
//! to overwrite; golden-v1 by its earlier version, before layout 2). Never
//! regenerate one to make this test pass: a failure here means stored bytes
//! stopped being readable.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use onrecord_core::StreamId;
use onrecord_core::{
    Draft, EventId, Outcome, Party, PartyKind, Proposition, Stance, StatementDraft,
    StatementRetracted, interchange,
};
use onrecord_ledger::{AppendRequest, Ledger, envelope, keys};
use onrecord_sled::LedgerOptions;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/golden-v1")
}

fn fixture_layout2() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/golden-layout2")
}

fn fixture_layout3() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/golden-layout3")
}

/// Every record exported as a JSON line.
fn lines(ledger: &Ledger) -> Vec<String> {
    ledger
        .records_from(1)
        .map(|r| interchange::write_line(&r.unwrap()))
        .collect()
}

fn layout_of(path: &Path) -> onrecord_sled::StoreLayout {
    onrecord_sled::open_storage(path, &options())
        .unwrap()
        .layout()
}

#[test]
fn the_golden_layout_3_ledger_decodes_to_the_same_events_and_head() {
    let (dir, ledger) = open_copy_of(&fixture_layout3());
    assert_eq!(ledger.verify(&mut |_, _| {}).unwrap().damage, None);
    let read = |fixture: PathBuf, name: &str| std::fs::read_to_string(fixture.join(name)).unwrap();
    assert_eq!(
        lines(&ledger),
        read(fixture(), "expected.jsonl")
            .lines()
            .collect::<Vec<_>>()
    );
    assert_eq!(
        format!("{} {}", ledger.head().seq, ledger.head().hash_hex()),
        read(fixture(), "head.txt").trim()
    );
    assert_eq!(
        read(fixture_layout3(), "head.txt"),
        read(fixture(), "head.txt")
    );
    drop(ledger);
    let path = dir.path().join("ledger");
    assert_eq!(layout_of(&path), onrecord_sled::StoreLayout::Chunks);
    // The same keyspace as layout 2's, key for key: only sled's keys differ.
    let (_l2_dir, l2) = open_copy_of(&fixture_layout2());
    let l2_path = l2.path().to_owned();
    drop(l2);
    let dump =
        |p: &Path| -> Vec<(Vec<u8>, Vec<u8>)> { open_raw(p).iter().map(|e| e.unwrap()).collect() };
    assert_eq!(dump(&path), dump(&l2_path));
}

#[test]
fn upgrading_the_golden_layout_1_and_2_ledgers_keeps_every_record_and_hash() {
    for fixture in [fixture(), fixture_layout2()] {
        let (dir, ledger) = open_copy_of(&fixture);
        let before = lines(&ledger);
        let head = ledger.head();
        drop(ledger);
        let path = dir.path().join("ledger");
        let upgraded = onrecord_sled::upgrade(&path, &options()).unwrap();
        let onrecord_sled::Upgraded::Rewritten {
            head: kept, backup, ..
        } = upgraded
        else {
            panic!("{upgraded:?}");
        };
        assert_eq!(kept, head);
        assert_eq!(layout_of(&path), onrecord_sled::StoreLayout::Chunks);
        assert_eq!(layout_of(&backup), onrecord_sled::StoreLayout::KeyPerEntry);
        let ledger = onrecord_sled::open(&path, &options()).unwrap();
        assert_eq!(ledger.verify(&mut |_, _| {}).unwrap().damage, None);
        assert_eq!((lines(&ledger), ledger.head()), (before, head));
        drop(ledger);
        assert_eq!(
            onrecord_sled::upgrade(&path, &options()).unwrap(),
            onrecord_sled::Upgraded::AlreadyLayout3
        );
    }
}

#[test]
#[ignore = "writes the committed layout 3 fixture; never overwrite it"]
fn make_golden_layout3_fixture() {
    let out = fixture_layout3();
    assert!(
        !out.join("ledger").exists(),
        "the golden fixture exists; never overwrite it"
    );
    let (dir, ledger) = open_copy_of(&fixture_layout2());
    drop(ledger);
    let path = dir.path().join("ledger");
    onrecord_sled::upgrade(&path, &options()).unwrap();
    // Opened once more, so sled leaves its files as a closed ledger has them.
    let ledger = onrecord_sled::open(&path, &options()).unwrap();
    let head = format!("{} {}\n", ledger.head().seq, ledger.head().hash_hex());
    drop(ledger);
    std::fs::create_dir_all(&out).unwrap();
    copy_dir(&path, &out.join("ledger"));
    std::fs::write(out.join("head.txt"), head).unwrap();
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

/// Opens a copy of the fixture (opening writes sled's files; the committed one stays untouched).
fn open_golden_copy() -> (tempfile::TempDir, Ledger) {
    open_copy_of(&fixture())
}

fn open_copy_of(fixture: &Path) -> (tempfile::TempDir, Ledger) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    copy_dir(&fixture.join("ledger"), &path);
    let ledger = onrecord_sled::open(&path, &options()).unwrap();
    (dir, ledger)
}

#[test]
fn the_golden_layout_2_ledger_decodes_to_the_same_events_and_head() {
    let (dir, ledger) = open_copy_of(&fixture_layout2());
    assert_eq!(ledger.verify(&mut |_, _| {}).unwrap().damage, None);
    let exported: Vec<String> = ledger
        .records_from(1)
        .map(|r| interchange::write_line(&r.unwrap()))
        .collect();
    let read = |fixture: PathBuf, name: &str| std::fs::read_to_string(fixture.join(name)).unwrap();
    let expected = read(fixture_layout2(), "expected.jsonl");
    assert_eq!(exported, expected.lines().collect::<Vec<_>>());
    let head = read(fixture_layout2(), "head.txt");
    assert_eq!(
        format!("{} {}", ledger.head().seq, ledger.head().hash_hex()),
        head.trim()
    );
    // The same events as golden v1, to the byte: only the keyspace differs.
    assert_eq!(expected, read(fixture(), "expected.jsonl"));
    assert_eq!(head, read(fixture(), "head.txt"));
    // Its streams read back as layout 1's do.
    let (_v1_dir, v1) = open_golden_copy();
    for stream in [
        StreamId::Proposition(prop_id("paris-meeting")),
        StreamId::Proposition(prop_id("lunch-seating")),
        StreamId::Party(pid("trump")),
        StreamId::Party(pid("kremlin")),
    ] {
        let seqs = |l: &Ledger| -> Vec<u64> { l.stream(&stream).map(|r| r.unwrap().seq).collect() };
        assert_eq!(seqs(&ledger), seqs(&v1), "{stream}");
        assert!(!seqs(&ledger).is_empty(), "{stream}");
    }
    drop(ledger);
    let db = open_raw(&dir.path().join("ledger"));
    assert_eq!(db.scan_prefix([keys::STREAM]).count(), 0);
    assert!(db.scan_prefix([keys::STREAM_CHUNK]).count() > 0);
}

#[test]
fn the_golden_v1_ledger_still_opens_verifies_and_decodes() {
    let (_dir, ledger) = open_golden_copy();
    let report = ledger.verify(&mut |_, _| {}).unwrap();
    assert_eq!(report.damage, None);
    let exported: Vec<String> = ledger
        .records_from(1)
        .map(|r| interchange::write_line(&r.unwrap()))
        .collect();
    let expected = std::fs::read_to_string(fixture().join("expected.jsonl")).unwrap();
    assert_eq!(exported, expected.lines().collect::<Vec<_>>());
    let head = std::fs::read_to_string(fixture().join("head.txt")).unwrap();
    assert_eq!(
        format!("{} {}", ledger.head().seq, ledger.head().hash_hex()),
        head.trim()
    );
    // Every event type is present, so every stored variant is covered.
    for ty in [
        "party",
        "proposition",
        "statement",
        "retraction",
        "resolution",
    ] {
        assert!(
            expected.contains(&format!("{{\"type\":\"{ty}\"")),
            "no {ty} in the golden ledger"
        );
    }
}

#[test]
fn this_build_encodes_the_golden_events_to_the_same_bytes() {
    // Reading old bytes is not enough: a writer that encodes the same events
    // differently would fork the hash chain between old and new ledgers.
    // Re-encoding every decoded event and chaining the hashes must land on
    // the fixture's head hash, which covers every stored byte.
    let (_dir, ledger) = open_golden_copy();
    let mut prev_hash = envelope::GENESIS_HASH;
    for rec in ledger.records_from(1) {
        let rec = rec.unwrap();
        let bytes = envelope::encode_record(&envelope::EnvelopeV1 {
            seq: rec.seq,
            event_id: *rec.event_id.as_bytes(),
            event_type: rec.event.event_type().code(),
            recorded_at: rec.recorded_at,
            prev_hash,
            payload: envelope::encode_payload(&rec.event),
        });
        assert_eq!(
            envelope::decode_envelope(&bytes, rec.seq).unwrap().seq,
            rec.seq
        );
        prev_hash = envelope::hash_record(&bytes);
    }
    let head = std::fs::read_to_string(fixture().join("head.txt")).unwrap();
    let hex: String = prev_hash.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(format!("{} {hex}", ledger.head().seq), head.trim());
}

fn fixed_clock() -> i64 {
    // 2018-12-02T00:00:00Z: every record of the fixture carries this transaction time.
    1_543_708_800_000_000
}

#[test]
#[ignore = "writes the committed fixture; run only when adding a new format version"]
fn make_golden_fixture() {
    let out = fixture_layout2();
    assert!(
        !out.join("ledger").exists(),
        "the golden fixture exists; never overwrite it"
    );
    let ledger = onrecord_sled::create(
        &out.join("ledger"),
        &LedgerOptions {
            clock: onrecord_ledger::Clock {
                now: fixed_clock,
                ..Default::default()
            },
            ..options()
        },
    )
    .unwrap();
    let id = |n: u128| EventId::from_bytes(n.to_be_bytes());
    let with_id = |n: u128, draft: Draft| AppendRequest {
        event_id: Some(id(n)),
        ..req(draft)
    };
    let demo = include_str!("../../../examples/armistice-2018.jsonl");
    let mut requests: Vec<AppendRequest> = demo
        .lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| {
            // The fixture predates aliases; the story's parties gained them later.
            let draft = match interchange::parse_line(l).unwrap().draft {
                Draft::Party(p) => Draft::Party(Party {
                    aliases: Vec::new(),
                    ..p
                }),
                other => other,
            };
            with_id(i as u128 + 1, draft)
        })
        .collect();
    requests.push(with_id(
        100,
        Draft::Party(Party {
            id: pid("elysee"),
            name: "Élysée Palace".into(),
            kind: PartyKind::Organization,
            speaks_for: None,
            aliases: Vec::new(),
        }),
    ));
    requests.push(with_id(
        101,
        Draft::Proposition(Proposition {
            id: prop_id("lunch-seating"),
            text: "Trump and Putin sit at the same table at the Élysée lunch".into(),
            criteria: None,
            window: Some(
                "2018-11-11T11:00:00Z..2018-11-11T15:30:00+01:00"
                    .parse()
                    .unwrap(),
            ),
        }),
    ));
    requests.push(with_id(
        102,
        Draft::Statement(StatementDraft {
            proposition: prop_id("lunch-seating"),
            party: None,
            speaker: Some(pid("elysee")),
            stance: Stance::Declined,
            credence: None,
            said_at: "2018-11-10T16:45:30.125Z".parse().unwrap(),
            quote: Some("We do not comment on seating \"plans\"".into()),
            source: None,
            qualifiers: vec![],
        }),
    ));
    requests.push(with_id(
        103,
        Draft::Statement(StatementDraft {
            proposition: prop_id("lunch-seating"),
            party: Some(pid("kremlin")),
            speaker: Some(pid("peskov")),
            stance: Stance::Likely,
            credence: Some(0.61),
            said_at: "2018-11-10".parse().unwrap(),
            quote: None,
            source: Some("https://example.org/peskov".into()),
            qualifiers: vec!["informal".into(), "brief".into()],
        }),
    ));
    requests.push(with_id(
        104,
        Draft::Retraction(StatementRetracted {
            statement: id(103),
            reason: "misattributed".into(),
        }),
    ));
    requests.push(with_id(
        105,
        resolution(
            "lunch-seating",
            Outcome::DidNotHappen,
            "2018-11-11T14:00:00Z",
        ),
    ));
    ledger.append_batch(requests).unwrap();
    let lines: Vec<String> = ledger
        .records_from(1)
        .map(|r| interchange::write_line(&r.unwrap()))
        .collect();
    std::fs::write(out.join("expected.jsonl"), lines.join("\n") + "\n").unwrap();
    std::fs::write(
        out.join("head.txt"),
        format!("{} {}\n", ledger.head().seq, ledger.head().hash_hex()),
    )
    .unwrap();
}

fn fixture_aliases() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/golden-party-aliases")
}

/// The stored record of a party with aliases, as this build writes it.
fn party_with_aliases_record() -> Vec<u8> {
    let event = onrecord_core::Event::PartyRegistered(Party {
        id: pid("putin"),
        name: "Vladimir Putin".into(),
        kind: PartyKind::Person,
        speaks_for: Some(pid("kremlin")),
        aliases: vec!["Putin".into(), "the Russian president".into()],
    });
    envelope::encode_record(&envelope::EnvelopeV1 {
        seq: 4,
        event_id: 4u128.to_be_bytes(),
        event_type: event.event_type().code(),
        recorded_at: fixed_clock(),
        prev_hash: [7; 32],
        payload: envelope::encode_payload(&event),
    })
}

fn from_hex(text: &str) -> Vec<u8> {
    let text = text.trim();
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// A party with aliases is stored as payload variant `PartyRegisteredWithAliases`
/// (added after format version 1 shipped, beside the old variant): the committed
/// record must decode to the same event and hash, and this build must still
/// write those bytes.
#[test]
fn the_golden_party_with_aliases_record_decodes_and_is_written_the_same() {
    let read = |name: &str| std::fs::read_to_string(fixture_aliases().join(name)).unwrap();
    let bytes = from_hex(&read("record.hex"));
    let rec = envelope::decode_recorded(&bytes, 4).unwrap();
    assert_eq!(interchange::write_line(&rec), read("expected.jsonl").trim());
    assert_eq!(
        onrecord_ledger::hex(&envelope::hash_record(&bytes)),
        read("hash.txt").trim()
    );
    assert_eq!(party_with_aliases_record(), bytes);
}

#[test]
#[ignore = "writes the committed party-with-aliases record; never overwrite it"]
fn make_golden_party_with_aliases_record() {
    let out = fixture_aliases();
    assert!(
        !out.join("record.hex").exists(),
        "the golden record exists; never overwrite it"
    );
    std::fs::create_dir_all(&out).unwrap();
    let bytes = party_with_aliases_record();
    let rec = envelope::decode_recorded(&bytes, 4).unwrap();
    std::fs::write(out.join("record.hex"), onrecord_ledger::hex(&bytes) + "\n").unwrap();
    std::fs::write(
        out.join("hash.txt"),
        onrecord_ledger::hex(&envelope::hash_record(&bytes)) + "\n",
    )
    .unwrap();
    std::fs::write(
        out.join("expected.jsonl"),
        interchange::write_line(&rec) + "\n",
    )
    .unwrap();
}
