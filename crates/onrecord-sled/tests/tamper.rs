//! Damage through the raw sled API is found by `verify`, named by seq, and
//! stored bytes of an unknown format give a clear error, never a panic.

mod common;

use common::*;
use onrecord_core::Stance;
use onrecord_ledger::{StoreError, keys};
use onrecord_sled::ANCHOR_FILE;

/// A ledger of 6 records, closed, with its path.
fn closed_ledger() -> (tempfile::TempDir, std::path::PathBuf) {
    let (dir, ledger) = temp_ledger();
    seed(&ledger);
    ledger
        .append(req(statement(
            "paris-meeting",
            "trump",
            Stance::Unlikely,
            "2018-11-05",
        )))
        .unwrap();
    ledger
        .append(req(statement(
            "paris-meeting",
            "kremlin",
            Stance::AlmostCertain,
            "2018-11-06",
        )))
        .unwrap();
    let path = ledger.path().to_owned();
    drop(ledger);
    (dir, path)
}

fn with_raw(path: &std::path::Path, f: impl FnOnce(&onrecord_sled::RawLedger)) {
    let db = open_raw(path);
    f(&db);
    db.flush().unwrap();
}

fn first_damage(path: &std::path::Path) -> Option<onrecord_ledger::Damage> {
    let ledger = onrecord_sled::open(path, &options()).unwrap();
    ledger.verify(&mut |_, _| {}).unwrap().damage
}

#[test]
fn one_changed_byte_in_any_record_is_named_by_its_seq() {
    for target in 1..=6u64 {
        let (_dir, path) = closed_ledger();
        with_raw(&path, |db| {
            let key = keys::record(target);
            let mut bytes = db.get(key).unwrap().unwrap().to_vec();
            // The last byte lies in the payload's last field: it decodes, but hashes differently.
            let last = bytes.len() - 1;
            bytes[last] ^= 0x01;
            db.insert(key, bytes).unwrap();
        });
        let damage = first_damage(&path).expect("damage must be found");
        assert_eq!(damage.seq, target, "{damage}");
    }
}

#[test]
fn a_deleted_record_is_reported_as_missing() {
    let (_dir, path) = closed_ledger();
    with_raw(&path, |db| {
        db.remove(keys::record(3)).unwrap();
    });
    let damage = first_damage(&path).unwrap();
    assert_eq!(damage.seq, 3);
    assert!(damage.problem.contains("missing"), "{damage}");
}

#[test]
fn two_swapped_records_are_found_at_the_first_of_them() {
    let (_dir, path) = closed_ledger();
    with_raw(&path, |db| {
        let a = db.get(keys::record(2)).unwrap().unwrap();
        let b = db.get(keys::record(4)).unwrap().unwrap();
        db.insert(keys::record(2), b).unwrap();
        db.insert(keys::record(4), a).unwrap();
    });
    assert_eq!(first_damage(&path).unwrap().seq, 2);
    // Reads refuse a record stored under another seq instead of printing the wrong one.
    let ledger = onrecord_sled::open(&path, &options()).unwrap();
    let err = ledger.records_from(1).find_map(Result::err).unwrap();
    assert!(matches!(err, StoreError::Corrupt { seq: 2, .. }), "{err}");
}

#[test]
fn a_damaged_head_refuses_appends_with_a_clear_message() {
    let (_dir, path) = closed_ledger();
    with_raw(&path, |db| {
        db.remove(keys::record(6)).unwrap();
    });
    let ledger = onrecord_sled::open(&path, &options()).unwrap();
    let err = ledger.append(req(party("putin", None))).unwrap_err();
    assert!(matches!(err, StoreError::DamagedHead(_)), "{err}");
    assert!(err.to_string().contains("refusing to append"), "{err}");
    assert_eq!(
        ledger.verify(&mut |_, _| {}).unwrap().damage.unwrap().seq,
        6
    );
}

#[test]
fn a_record_of_an_unknown_format_version_is_a_clear_error() {
    let (_dir, path) = closed_ledger();
    with_raw(&path, |db| {
        let mut bytes = db.get(keys::record(3)).unwrap().unwrap().to_vec();
        bytes[..2].copy_from_slice(&7u16.to_be_bytes());
        db.insert(keys::record(3), bytes).unwrap();
    });
    let ledger = onrecord_sled::open(&path, &options()).unwrap();
    let err = ledger.get(3).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::UnknownFormat {
                seq: 3,
                version: 7,
                supported: 2
            }
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "record at seq 3 has unknown format version 7; this onrecord reads versions up to 2"
    );
    let damage = ledger.verify(&mut |_, _| {}).unwrap().damage.unwrap();
    assert_eq!(damage.seq, 3);
}

#[test]
fn garbage_bytes_in_a_record_decode_to_an_error_not_a_panic() {
    let (_dir, path) = closed_ledger();
    for garbage in [
        &b""[..],
        &b"\x00"[..],
        &b"\x00\x01"[..],
        &b"\x00\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff"[..],
    ] {
        let err = onrecord_ledger::envelope::decode_recorded(garbage, 9).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { seq: 9, .. }), "{err}");
    }
    drop(path);
}

/// Copies a closed ledger directory (sled's files and the anchor) to `to`.
fn copy_ledger(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_ledger(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Appends two more statements to the closed ledger at `path`.
fn append_two_more(path: &std::path::Path) {
    let ledger = onrecord_sled::open(path, &options()).unwrap();
    for day in ["2018-11-07", "2018-11-08"] {
        ledger
            .append(req(statement(
                "paris-meeting",
                "trump",
                Stance::Likely,
                day,
            )))
            .unwrap();
    }
}

// sled takes a damaged tail of its data file for a write torn by a crash and
// recovers, silently, to an older state whose chain still checks out. A copy
// of the ledger from before the last appends, under the anchor written after
// them, is exactly that state, made deterministically.
#[test]
fn a_ledger_that_lost_acknowledged_records_is_found_by_its_anchor() {
    let (dir, path) = closed_ledger();
    let older = dir.path().join("older");
    copy_ledger(&path, &older);
    append_two_more(&path);
    std::fs::copy(path.join(ANCHOR_FILE), older.join(ANCHOR_FILE)).unwrap();

    let ledger = onrecord_sled::open(&older, &options()).unwrap();
    assert_eq!(
        ledger.head().seq,
        6,
        "the older state is a consistent ledger"
    );
    let damage = ledger.verify(&mut |_, _| {}).unwrap().damage.unwrap();
    assert_eq!(damage.seq, 7, "{damage}");
    assert!(
        damage.problem.contains("seq 8 was acknowledged"),
        "{damage}"
    );
    let err = ledger.append(req(party("putin", None))).unwrap_err();
    assert!(matches!(err, StoreError::DamagedHead(_)), "{err}");
    assert!(err.to_string().contains("records were lost"), "{err}");
}

#[test]
fn an_anchor_naming_another_record_at_its_seq_is_damage_there() {
    let (_dir, a) = closed_ledger();
    let (_other, b) = closed_ledger();
    // Same seq, different events (fresh ids): b's anchor does not fit a.
    std::fs::copy(b.join(ANCHOR_FILE), a.join(ANCHOR_FILE)).unwrap();
    let damage = first_damage(&a).unwrap();
    assert_eq!(damage.seq, 6, "{damage}");
    assert!(damage.problem.contains("anchor"), "{damage}");
    let ledger = onrecord_sled::open(&a, &options()).unwrap();
    let err = ledger.append(req(party("putin", None))).unwrap_err();
    assert!(matches!(err, StoreError::DamagedHead(_)), "{err}");
}

#[test]
fn an_unreadable_anchor_is_damage_and_refuses_appends() {
    let (_dir, path) = closed_ledger();
    std::fs::write(path.join(ANCHOR_FILE), b"not an anchor").unwrap();
    let ledger = onrecord_sled::open(&path, &options()).unwrap();
    let damage = ledger.verify(&mut |_, _| {}).unwrap().damage.unwrap();
    assert_eq!(damage.seq, 0, "{damage}");
    assert!(
        damage.problem.contains("anchor file is unreadable"),
        "{damage}"
    );
    let err = ledger.append(req(party("putin", None))).unwrap_err();
    assert!(err.to_string().contains("anchor file"), "{err}");
    drop(ledger);
    // The way out the message names: delete it, and the head is anchored again.
    std::fs::remove_file(path.join(ANCHOR_FILE)).unwrap();
    let ledger = onrecord_sled::open(&path, &options()).unwrap();
    assert_eq!(ledger.verify(&mut |_, _| {}).unwrap().damage, None);
    ledger.append(req(party("putin", None))).unwrap();
}

#[test]
fn damage_to_the_records_is_named_before_an_unreadable_anchor() {
    let (_dir, path) = closed_ledger();
    std::fs::write(path.join(ANCHOR_FILE), b"not an anchor").unwrap();
    with_raw(&path, |db| {
        db.remove(keys::record(3)).unwrap();
    });
    assert_eq!(first_damage(&path).unwrap().seq, 3);
}

// After a power loss the unsynced anchor may name an earlier head than the
// one sled made durable; that is not damage.
#[test]
fn an_anchor_lagging_behind_the_head_is_not_damage() {
    let (dir, path) = closed_ledger();
    let lagging = dir.path().join("anchor-at-6");
    std::fs::copy(path.join(ANCHOR_FILE), &lagging).unwrap();
    append_two_more(&path);
    std::fs::copy(&lagging, path.join(ANCHOR_FILE)).unwrap();
    assert_eq!(first_damage(&path), None);
    let ledger = onrecord_sled::open(&path, &options()).unwrap();
    ledger.append(req(party("putin", None))).unwrap();
    assert_eq!(ledger.head().seq, 9);
}

// Ledgers written before anchors existed get one when first opened.
#[test]
fn a_ledger_without_an_anchor_is_anchored_at_its_head_when_opened() {
    let (dir, path) = closed_ledger();
    std::fs::remove_file(path.join(ANCHOR_FILE)).unwrap();
    assert_eq!(first_damage(&path), None);
    // The anchor written on that open now guards the head: roll the ledger back
    // under it and the loss is found.
    let older = dir.path().join("older");
    copy_ledger(&path, &older);
    std::fs::remove_file(older.join(ANCHOR_FILE)).unwrap();
    append_two_more(&path);
    std::fs::copy(path.join(ANCHOR_FILE), older.join(ANCHOR_FILE)).unwrap();
    assert_eq!(first_damage(&older).unwrap().seq, 7);
}

/// A closed layout 3 ledger of 40 records (chunks of seqs 1-16, 17-32, 33-40).
fn closed_ledger_of_three_chunks() -> (tempfile::TempDir, std::path::PathBuf) {
    let (dir, path) = closed_ledger();
    let ledger = onrecord_sled::open(&path, &options()).unwrap();
    let drafts: Vec<_> = (0..34)
        .map(|i| {
            req(statement(
                "paris-meeting",
                ["trump", "kremlin"][i % 2],
                Stance::Likely,
                &format!("2018-10-{:02}", 1 + i % 28),
            ))
        })
        .collect();
    ledger.append_batch(drafts).unwrap();
    assert_eq!(ledger.head().seq, 40);
    drop(ledger);
    (dir, path)
}

/// Edits the stored chunk whose first record is `first` through sled
/// itself (sled's checksums stay valid; only the chunk's bytes change).
fn edit_record_chunk(path: &std::path::Path, first: u64, edit: impl FnOnce(&mut Vec<u8>)) {
    let db = loop {
        match sled::open(path) {
            Ok(db) => break db,
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(10)),
        }
    };
    let key = onrecord_sled::packed::chunk_key(&keys::record(first));
    let mut bytes = db.get(&key).unwrap().expect("the chunk").to_vec();
    edit(&mut bytes);
    db.insert(key, bytes).unwrap();
    db.flush().unwrap();
}

#[test]
fn a_changed_byte_inside_a_record_chunk_is_named_by_the_seq_it_falls_in() {
    // Chunk 17..32 holds 16 records after 5 + 128 bytes of header and
    // offsets; the byte 40 bytes before its end lies in seq 32's record,
    // and the first data byte after the prefix lies in seq 17's.
    for (at_end, seq) in [(true, 32), (false, 17)] {
        let (_dir, path) = closed_ledger_of_three_chunks();
        edit_record_chunk(&path, 17, |b| {
            let i = if at_end {
                b.len() - 40
            } else {
                5 + 16 * 8 + 20
            };
            b[i] ^= 0x40;
        });
        let damage = first_damage(&path).expect("damage");
        assert_eq!(damage.seq, seq, "{damage}");
    }
}

#[test]
fn a_cut_or_garbled_record_chunk_is_damage_at_its_first_unreadable_seq_never_a_panic() {
    // Cut inside the last record: seqs 17..31 read, 32 does not.
    let (_dir, path) = closed_ledger_of_three_chunks();
    edit_record_chunk(&path, 17, |b| b.truncate(b.len() - 10));
    let damage = first_damage(&path).expect("damage");
    assert_eq!(damage.seq, 32, "{damage}");
    assert!(damage.problem.contains("chunk"), "{damage}");

    // Offsets garbled: nothing of the chunk reads, named from its first seq.
    let (_dir, path) = closed_ledger_of_three_chunks();
    edit_record_chunk(&path, 17, |b| {
        b[5..9].copy_from_slice(&u32::MAX.to_be_bytes())
    });
    let damage = first_damage(&path).expect("damage");
    assert_eq!(damage.seq, 17, "{damage}");

    // The last chunk unreadable: the ledger still opens, refuses appends,
    // and verify names the seq.
    let (_dir, path) = closed_ledger_of_three_chunks();
    edit_record_chunk(&path, 33, |b| b.truncate(3));
    let ledger = onrecord_sled::open(&path, &options()).unwrap();
    assert!(matches!(
        ledger.ensure_whole(),
        Err(StoreError::Damaged(d)) if d.seq == 33
    ));
    let refused = ledger.append(req(statement(
        "paris-meeting",
        "trump",
        Stance::Likely,
        "2018-11-09",
    )));
    assert!(
        matches!(refused, Err(StoreError::DamagedHead(_))),
        "{refused:?}"
    );
}
