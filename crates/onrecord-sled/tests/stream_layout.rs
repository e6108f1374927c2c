//! The stream index in both keyspace layouts (docs/adr/0003): new ledgers pack
//! a stream's seqs in chunks of 16 (`C` keys); ledgers created before keep one
//! `S` key per revision, and keep writing that way. Either way a stream reads
//! back every revision in order, across chunk and batch boundaries, and
//! `verify` names damage to the index by seq.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use onrecord_core::{Stance, StreamId};
use onrecord_ledger::{Ledger, StoreError, keys};

fn paris() -> StreamId {
    StreamId::Proposition(prop_id("paris-meeting"))
}

fn trump() -> StreamId {
    StreamId::Party(pid("trump"))
}

/// Appends `n` statements by trump on paris-meeting, `per_batch` at a time;
/// returns their seqs.
fn add_statements(ledger: &Ledger, n: usize, per_batch: usize) -> Vec<u64> {
    let mut seqs = Vec::new();
    let drafts: Vec<_> = (0..n)
        .map(|i| {
            let stance = [Stance::Unlikely, Stance::Likely, Stance::EvenChance][i % 3];
            req(statement(
                "paris-meeting",
                "trump",
                stance,
                &format!("2018-10-{:02}", 1 + i % 28),
            ))
        })
        .collect();
    for batch in drafts.chunks(per_batch) {
        let outcomes = ledger.append_batch(batch.to_vec()).unwrap();
        seqs.extend(outcomes.iter().map(|o| o.seq()));
    }
    seqs
}

fn stream_seqs(ledger: &Ledger, stream: &StreamId) -> Vec<u64> {
    ledger.stream(stream).map(|r| r.unwrap().seq).collect()
}

fn keys_with_prefix(path: &Path, prefix: u8) -> usize {
    let db = open_raw(path);
    db.scan_prefix([prefix]).count()
}

#[test]
fn a_stream_reads_back_every_revision_in_order_across_chunks_and_batches() {
    // Singles, then batches that start and end inside chunks and cross them.
    for per_batch in [1, 7, 20, 100] {
        let (_dir, ledger) = temp_ledger();
        seed(&ledger);
        let opened = ledger.stream(&paris()).next().unwrap().unwrap().seq;
        let seqs = add_statements(&ledger, 53, per_batch);
        let mut expected = vec![opened];
        expected.extend(&seqs);
        assert_eq!(stream_seqs(&ledger, &paris()), expected, "{per_batch}");
        assert_eq!(ledger.stream_revision(&paris()).unwrap(), Some(53));
        // trump's stream: his registration (seq 1) then the same statements.
        let mut expected = vec![1];
        expected.extend(&seqs);
        assert_eq!(stream_seqs(&ledger, &trump()), expected, "{per_batch}");
        assert_eq!(ledger.verify(&mut |_, _| {}).unwrap().damage, None);
        // The index survives a reopen, and appends continue where it left off.
        let path = ledger.path().to_owned();
        drop(ledger);
        let ledger = onrecord_sled::open(&path, &options()).unwrap();
        let more = add_statements(&ledger, 5, 5);
        assert_eq!(stream_seqs(&ledger, &paris()).len(), 59);
        assert_eq!(stream_seqs(&ledger, &paris())[54..], more[..]);
        assert_eq!(ledger.verify(&mut |_, _| {}).unwrap().damage, None);
    }
}

#[test]
fn a_new_ledger_keeps_its_stream_index_in_chunks_of_sixteen() {
    let (_dir, ledger) = temp_ledger();
    seed(&ledger);
    add_statements(&ledger, 40, 40);
    let path = ledger.path().to_owned();
    drop(ledger);
    assert_eq!(keys_with_prefix(&path, keys::STREAM), 0);
    // paris-meeting: 41 revisions -> 3 chunks; trump: 41 -> 3; kremlin,
    // peskov: 1 each.
    assert_eq!(keys_with_prefix(&path, keys::STREAM_CHUNK), 8);
}

fn golden_v1_copy(dir: &Path) -> PathBuf {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/golden-v1/ledger");
    let path = dir.join("ledger");
    copy_dir(&fixture, &path);
    path
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

#[test]
fn a_layout_1_ledger_keeps_one_key_per_revision_as_it_grows() {
    let dir = tempfile::tempdir().unwrap();
    let path = golden_v1_copy(dir.path());
    let before = keys_with_prefix(&path, keys::STREAM);
    let ledger = onrecord_sled::open(&path, &options()).unwrap();
    let seqs = add_statements(&ledger, 20, 7);
    assert!(stream_seqs(&ledger, &paris()).ends_with(&seqs));
    assert_eq!(ledger.verify(&mut |_, _| {}).unwrap().damage, None);
    drop(ledger);
    // Two entries per statement (proposition and party streams), no chunks.
    assert_eq!(keys_with_prefix(&path, keys::STREAM), before + 40);
    assert_eq!(keys_with_prefix(&path, keys::STREAM_CHUNK), 0);
}

/// A closed ledger whose paris-meeting stream has 21 revisions (chunks 0 and
/// 1); returns the dir guard, its path and the statements' seqs.
fn closed_with_two_chunks() -> (tempfile::TempDir, PathBuf, Vec<u64>) {
    let (dir, ledger) = temp_ledger();
    seed(&ledger);
    let seqs = add_statements(&ledger, 20, 6);
    let path = ledger.path().to_owned();
    drop(ledger);
    (dir, path, seqs)
}

fn first_damage(path: &Path) -> onrecord_ledger::Damage {
    let ledger = onrecord_sled::open(path, &options()).unwrap();
    ledger
        .verify(&mut |_, _| {})
        .unwrap()
        .damage
        .expect("damage")
}

fn edit_chunk(path: &Path, chunk: u64, edit: impl FnOnce(&mut Vec<u8>)) {
    let db = open_raw(path);
    let key = keys::stream_chunk(&paris(), chunk);
    let mut bytes = db.get(&key).unwrap().unwrap().to_vec();
    edit(&mut bytes);
    db.insert(key, bytes).unwrap();
    db.flush().unwrap();
}

#[test]
fn a_chunk_pointing_elsewhere_is_damage_at_the_event_it_lost() {
    let (_dir, path, seqs) = closed_with_two_chunks();
    // Revision 3 of paris-meeting is the third statement.
    edit_chunk(&path, 0, |b| b[3 * 8 + 7] ^= 0x01);
    let damage = first_damage(&path);
    assert_eq!(damage.seq, seqs[2], "{damage}");
    assert!(damage.problem.contains("revision 3"), "{damage}");
}

#[test]
fn a_chunk_missing_its_last_entry_is_damage_at_that_event() {
    let (_dir, path, seqs) = closed_with_two_chunks();
    // Chunk 1 holds revisions 16..=20; drop revision 20, the last statement.
    edit_chunk(&path, 1, |b| b.truncate(b.len() - 8));
    let damage = first_damage(&path);
    assert_eq!(damage.seq, *seqs.last().unwrap(), "{damage}");
    // And the ledger refuses to build on it.
    let ledger = onrecord_sled::open(&path, &options()).unwrap();
    let err = ledger
        .append(req(statement(
            "paris-meeting",
            "kremlin",
            Stance::AlmostCertain,
            "2018-11-06",
        )))
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::DamagedHead(why) if why.contains("stream index")),
        "{err}"
    );
}

#[test]
fn entries_past_the_stream_head_are_damage_after_the_last_record() {
    let (_dir, path, _) = closed_with_two_chunks();
    edit_chunk(&path, 1, |b| b.extend_from_slice(&99u64.to_be_bytes()));
    let damage = first_damage(&path);
    let head = onrecord_sled::open(&path, &options()).unwrap().head().seq;
    assert_eq!(damage.seq, head + 1, "{damage}");
    assert!(damage.problem.contains("stream index"), "{damage}");

    let (_dir, path, _) = closed_with_two_chunks();
    let db = open_raw(&path);
    db.insert(keys::stream_chunk(&paris(), 5), &7u64.to_be_bytes()[..])
        .unwrap();
    db.flush().unwrap();
    drop(db);
    let damage = first_damage(&path);
    assert!(damage.problem.contains("past its revision 20"), "{damage}");
}
