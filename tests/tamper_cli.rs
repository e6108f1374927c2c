//! Tamper and damage through the CLI: a record altered, deleted or swapped with
//! another through raw sled, or the data file truncated, is reported by
//! `onrecord verify` (exit 5, naming the first bad seq), and a ledger whose head
//! fails its check refuses appends with a clear message, never a panic.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::*;
use onrecord_ledger::keys;

/// A closed ledger holding the demo's 17 events.
fn demo(dir: &Path) -> PathBuf {
    let ledger = demo_ledger(dir);
    assert_eq!(head(&ledger).0, 17);
    ledger
}

fn all_output(out: &Output) -> String {
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}

/// `verify` must exit 5 and name `seq` as the first bad one.
fn assert_damage_at(ledger: &Path, seq: u64, what: &str) -> String {
    let out = run(ledger, &["verify"]);
    let all = all_output(&out);
    assert_eq!(out.status.code(), Some(5), "{what}: {all}");
    assert!(!all.contains("panicked"), "{what}: {all}");
    assert!(
        all.contains(&format!("seq {seq}")) || all.contains(&format!("seq={seq}")),
        "{what}: first bad seq {seq} not named: {all}"
    );
    all
}

#[test]
fn an_altered_record_is_named_by_its_seq() {
    for target in [1u64, 9, 17] {
        let dir = tempfile::tempdir().unwrap();
        let ledger = demo(dir.path());
        with_raw(&ledger, |db| {
            let key = keys::record(target);
            let mut bytes = db.get(key).unwrap().unwrap().to_vec();
            let last = bytes.len() - 1;
            bytes[last] ^= 0x01;
            db.insert(key, bytes).unwrap();
        });
        let msg = assert_damage_at(&ledger, target, &format!("altered seq {target}"));
        println!("altered seq {target}: {}", msg.trim());
    }
}

#[test]
fn a_deleted_record_is_named_by_its_seq() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = demo(dir.path());
    with_raw(&ledger, |db| {
        db.remove(keys::record(9)).unwrap();
    });
    let msg = assert_damage_at(&ledger, 9, "deleted seq 9");
    println!("deleted seq 9: {}", msg.trim());
}

#[test]
fn two_swapped_records_are_found_at_the_first_of_them() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = demo(dir.path());
    with_raw(&ledger, |db| {
        let a = db.get(keys::record(3)).unwrap().unwrap();
        let b = db.get(keys::record(7)).unwrap().unwrap();
        db.insert(keys::record(3), b).unwrap();
        db.insert(keys::record(7), a).unwrap();
    });
    let msg = assert_damage_at(&ledger, 3, "swapped 3 and 7");
    println!("swapped 3 and 7: {}", msg.trim());
}

#[test]
fn a_damaged_head_refuses_appends_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = demo(dir.path());
    with_raw(&ledger, |db| {
        db.remove(keys::record(17)).unwrap();
    });
    assert_damage_at(&ledger, 17, "last record deleted");
    let single = run(
        &ledger,
        &["append", "party", "macron", "--name", "Emmanuel Macron"],
    );
    let file = dir.path().join("one.jsonl");
    std::fs::write(
        &file,
        "{\"type\":\"party\",\"id\":\"merkel\",\"name\":\"Angela Merkel\"}\n",
    )
    .unwrap();
    let bulk = run(&ledger, &["append", "--jsonl", file.to_str().unwrap()]);
    for (what, out) in [("single", &single), ("bulk", &bulk)] {
        let err = text(&out.stderr);
        assert!(!out.status.success(), "{what}: appended on a damaged head");
        assert!(!err.contains("panicked"), "{what}: {err}");
        assert!(err.starts_with("error:"), "{what}: {err}");
        assert!(err.contains("refusing to append"), "{what}: {err}");
        println!(
            "damaged head, {what} append: exit {:?}: {}",
            out.status.code(),
            err.trim()
        );
    }
    // Nothing was written on top of it.
    with_raw(&ledger, |db| {
        assert!(db.get(keys::record(17)).unwrap().is_none());
        assert!(db.get(keys::record(18)).unwrap().is_none());
    });
}

/// Cuts sled's data file to `percent` of the bytes actually written (sled
/// preallocates its segments); returns how many bytes were kept, of how many.
fn truncate_written(data: &Path, percent: u64) -> (u64, u64) {
    let bytes = std::fs::read(data).unwrap();
    let len = bytes
        .iter()
        .rposition(|b| *b != 0)
        .map_or(0, |i| i as u64 + 1);
    let keep = len * percent / 100;
    std::fs::OpenOptions::new()
        .write(true)
        .open(data)
        .unwrap()
        .set_len(keep)
        .unwrap();
    (keep, len)
}

// Two shapes of the same damage: the data file cut right after the import that
// wrote it (sled then usually recovers, silently, to an older or even empty
// state, which only the head anchor reveals), and cut after the ledger was
// opened again (sled then usually cannot read it back at all).
#[test]
fn a_truncated_data_file_is_reported_as_damage_never_a_panic() {
    for reopened in [false, true] {
        for percent in [0u64, 10, 50, 90, 99] {
            let dir = tempfile::tempdir().unwrap();
            let ledger = demo_ledger(dir.path());
            let before = if reopened {
                head(&ledger)
            } else {
                // Read the head from a copy, so the ledger itself stays as
                // the import left it.
                let copy = dir.path().join("copy");
                copy_dir(&ledger, &copy);
                head(&copy)
            };
            assert_eq!(before.0, 17);
            let (keep, len) = truncate_written(&ledger.join("db"), percent);
            let out = run(&ledger, &["verify"]);
            let all = all_output(&out);
            let code = out.status.code();
            println!(
                "{} db truncated to {percent}% of its written bytes ({keep} of {len}): verify exit {code:?}: {}",
                if reopened { "reopened" } else { "just written" },
                all.trim().replace('\n', " / ")
            );
            assert!(!all.contains("panicked"), "truncated to {percent}%: {all}");
            if code == Some(0) {
                // The cut fell in bytes sled no longer needs: acceptable only
                // when every acknowledged record is still there.
                let intact = format!("head seq={} hash={}", before.0, before.1);
                assert!(
                    all.contains(&intact),
                    "truncated to {percent}%: verify passed on a ledger that lost records: {all}"
                );
                continue;
            }
            assert_eq!(
                code,
                Some(5),
                "truncated to {percent}%: not reported as damage: {all}"
            );
            let err = text(&out.stderr);
            assert!(
                (err.starts_with("error: the ledger at") && err.contains("is damaged"))
                    || err.starts_with("error: damage at seq "),
                "truncated to {percent}%: unclear failure: {all}"
            );
            // Appending on top of it must not succeed either.
            let append = run(
                &ledger,
                &["append", "party", "macron", "--name", "Emmanuel Macron"],
            );
            let all = all_output(&append);
            assert!(!all.contains("panicked"), "append after truncation: {all}");
            assert!(
                !append.status.success(),
                "appended after truncation to {percent}%: {all}"
            );
        }
    }
}

/// Copies a closed ledger directory file by file, without opening it.
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

#[test]
fn an_unreadable_anchor_is_reported_with_the_way_out_and_refuses_appends() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = demo_ledger(dir.path());
    std::fs::write(ledger.join(onrecord_sled::ANCHOR_FILE), b"garbage").unwrap();
    let out = run(&ledger, &["verify"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(
        err.starts_with("error: damage at seq 0: its anchor file is unreadable"),
        "{err}"
    );
    assert!(err.contains("delete"), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    let append = run(
        &ledger,
        &["append", "party", "macron", "--name", "Emmanuel Macron"],
    );
    assert_eq!(append.status.code(), Some(5), "{}", all_output(&append));
    assert!(text(&append.stderr).contains("refusing to append"));
    std::fs::remove_file(ledger.join(onrecord_sled::ANCHOR_FILE)).unwrap();
    let again = run(&ledger, &["verify"]);
    assert_eq!(again.status.code(), Some(0), "{}", all_output(&again));
}

/// Rewrites, through sled itself, the layout 3 chunk whose first record is
/// `first` (sled's checksums stay valid: only the chunk's bytes change).
fn edit_record_chunk(ledger: &Path, first: u64, edit: impl FnOnce(&mut Vec<u8>)) {
    let db = sled::open(ledger).expect("open sled");
    let key = onrecord_sled::packed::chunk_key(&keys::record(first));
    let mut bytes = db.get(&key).unwrap().expect("the chunk").to_vec();
    edit(&mut bytes);
    db.insert(key, bytes).unwrap();
    db.flush().unwrap();
}

#[test]
fn a_damaged_chunk_of_records_is_named_by_its_first_unreadable_seq() {
    // The demo's 17 records: a chunk of seqs 1-16 and one of seq 17.
    let dir = tempfile::tempdir().unwrap();
    let ledger = demo(dir.path());
    edit_record_chunk(&ledger, 1, |b| b.truncate(b.len() - 10));
    let msg = assert_damage_at(&ledger, 16, "chunk 1-16 cut inside seq 16");
    assert!(msg.contains("chunk"), "{msg}");
    let out = run(&ledger, &["export"]);
    assert_eq!(out.status.code(), Some(5), "{}", all_output(&out));

    let dir = tempfile::tempdir().unwrap();
    let ledger = demo(dir.path());
    edit_record_chunk(&ledger, 1, |b| b[40] ^= 0x08);
    let out = run(&ledger, &["verify"]);
    assert_eq!(out.status.code(), Some(5), "{}", all_output(&out));
    assert!(!all_output(&out).contains("panicked"));
}
