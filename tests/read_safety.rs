//! What a user relies on when pointing onrecord at a path (issue 12): a
//! directory that is not a ledger is never written to; a refused first append
//! leaves nothing behind; a damaged or rolled-back ledger is never served as
//! whole by any reading command; `export` and `replay` check the hash chain
//! as they stream; `export --salvage` keeps what verifies.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::*;

fn stderr(out: &Output) -> String {
    text(&out.stderr)
}

fn all(out: &Output) -> String {
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}

/// Every file and directory under `dir`, with the bytes of each file.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                out.insert(p.clone(), None);
                stack.push(p);
            } else {
                out.insert(p.clone(), Some(std::fs::read(&p).unwrap()));
            }
        }
    }
    out
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

/// The three foreign directories of the reproductions, by name.
fn foreign_dirs(root: &Path) -> Vec<(&'static str, PathBuf)> {
    let text = root.join("text");
    std::fs::create_dir(&text).unwrap();
    std::fs::write(text.join("db"), "important text\n").unwrap();
    let sqlite = root.join("sqlite");
    std::fs::create_dir(&sqlite).unwrap();
    let mut page = b"SQLite format 3\0".to_vec();
    page.extend_from_slice(&[0x10, 0x00, 0x01, 0x01]);
    page.resize(4096, 0);
    std::fs::write(sqlite.join("db"), page).unwrap();
    let dir = root.join("dbdir");
    std::fs::create_dir_all(dir.join("db")).unwrap();
    std::fs::write(dir.join("db").join("notes.txt"), "mine\n").unwrap();
    vec![
        ("a text file named db", text),
        ("a SQLite file named db", sqlite),
        ("a directory named db", dir),
    ]
}

#[test]
fn a_directory_that_is_not_a_ledger_is_left_byte_identical_by_every_command() {
    let root = tempfile::tempdir().unwrap();
    for (what, dir) in foreign_dirs(root.path()) {
        let before = snapshot(&dir);
        for args in [
            &["verify"][..],
            &["positions"],
            &["positions", "--json"],
            &["export"],
            &["stats", "--json"],
            &["replay"],
            &["append", "party", "macron", "--name", "Emmanuel Macron"],
        ] {
            let out = run(&dir, args);
            let msg = stderr(&out);
            assert_eq!(
                out.status.code(),
                Some(1),
                "{what}, {args:?}: {}",
                all(&out)
            );
            assert_eq!(
                msg.trim(),
                format!(
                    "error: {} is not an onrecord ledger (nothing was written to it)",
                    dir.display()
                ),
                "{what}, {args:?}"
            );
            assert_eq!(snapshot(&dir), before, "{what}: {args:?} changed it");
        }
        let out = run(&dir, &["append", "--jsonl", DEMO]);
        assert_eq!(out.status.code(), Some(1), "{what}: {}", all(&out));
        let init = run(&dir, &["init"]);
        assert_eq!(init.status.code(), Some(1), "{what}: {}", all(&init));
        assert!(
            stderr(&init).contains("is not an empty directory and holds no onrecord ledger"),
            "{what}: init said {}",
            stderr(&init)
        );
        assert_eq!(
            snapshot(&dir),
            before,
            "{what}: init or bulk append changed it"
        );
    }
}

#[test]
fn init_on_a_file_says_it_is_not_a_directory_and_leaves_it_alone() {
    let root = tempfile::tempdir().unwrap();
    let file = root.path().join("notes.txt");
    std::fs::write(&file, "mine\n").unwrap();
    let out = run(&file, &["init"]);
    assert_eq!(out.status.code(), Some(1), "{}", all(&out));
    assert!(
        stderr(&out).contains("is a file, not a ledger directory"),
        "{}",
        all(&out)
    );
    assert_eq!(std::fs::read(&file).unwrap(), b"mine\n");
}

#[test]
fn a_new_ledger_is_marked_and_init_on_it_says_a_ledger_exists() {
    let root = tempfile::tempdir().unwrap();
    let ledger = init(root.path(), "l");
    assert_eq!(
        std::fs::read(ledger.join(onrecord_sled::MARKER_FILE)).unwrap(),
        b"onrecord ledger\n"
    );
    let again = run(&ledger, &["init"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("a ledger already exists"),
        "{}",
        all(&again)
    );
}

#[test]
fn ledgers_made_before_the_marker_still_open_verify_and_get_marked() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for name in ["golden-v1", "golden-layout2"] {
        let dir = tempfile::tempdir().unwrap();
        let ledger = dir.path().join("ledger");
        copy_dir(&fixtures.join(name).join("ledger"), &ledger);
        assert!(!ledger.join(onrecord_sled::MARKER_FILE).exists());
        let head = std::fs::read_to_string(fixtures.join(name).join("head.txt")).unwrap();
        let (seq, hash) = head.trim().split_once(' ').unwrap();
        let out = ok(run(&ledger, &["verify"]), name);
        assert!(
            text(&out.stdout).contains(&format!("head seq={seq} hash={hash}")),
            "{name}: {}",
            text(&out.stdout)
        );
        assert!(ledger.join(onrecord_sled::MARKER_FILE).exists(), "{name}");
        let out = ok(run(&ledger, &["export"]), name);
        let expected = std::fs::read_to_string(fixtures.join(name).join("expected.jsonl")).unwrap();
        assert_eq!(text(&out.stdout), expected, "{name}");
    }
}

#[test]
fn a_refused_first_append_creates_nothing() {
    let root = tempfile::tempdir().unwrap();
    let absent = root.path().join("new.ledger");
    let empty = root.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    for path in [&absent, &empty] {
        let before = path.exists();
        // No such party or proposition yet: refused.
        let out = run(
            path,
            &[
                "append",
                "statement",
                "--proposition",
                "paris-meeting",
                "--party",
                "trump",
                "--stance",
                "likely",
                "--said-at",
                "2018-11-01",
            ],
        );
        assert_eq!(out.status.code(), Some(1), "{}", all(&out));
        // A revision conflict on the first append: refused too.
        let out = run(
            path,
            &[
                "append",
                "party",
                "trump",
                "--name",
                "Donald Trump",
                "--expect-revision",
                "0",
            ],
        );
        assert_eq!(out.status.code(), Some(3), "{}", all(&out));
        assert_eq!(path.exists(), before, "{}", path.display());
        if before {
            assert_eq!(
                std::fs::read_dir(path).unwrap().count(),
                0,
                "{}",
                path.display()
            );
        }
        // An append that succeeds creates the ledger.
        ok(
            run(
                path,
                &["append", "party", "trump", "--name", "Donald Trump"],
            ),
            "first append",
        );
        assert!(path.join(onrecord_sled::MARKER_FILE).exists());
        assert_verifies(path);
        assert_eq!(export(path).len(), 1);
    }
}

/// A demo ledger (17 events), and a copy of it taken at that point, closed.
fn demo_and_copy(dir: &Path) -> (PathBuf, PathBuf) {
    let ledger = demo_ledger(dir);
    let older = dir.join("older");
    copy_dir(&ledger, &older);
    (ledger, older)
}

/// Every reading command, with the arguments the demo ledger needs.
fn reading_commands(out_dir: &Path) -> Vec<Vec<String>> {
    let o = out_dir.to_str().unwrap();
    [
        vec!["export"],
        vec!["positions"],
        vec!["positions", "--json"],
        vec!["positions", "--as-of", "2018-11-05"],
        vec!["stats", "--json"],
        vec!["scores", "--json"],
        vec!["calibration", "--json"],
        vec!["history", "paris-meeting"],
        vec!["contradictions"],
        vec!["replay"],
        vec!["replay", "--json"],
        vec!["chart", "paris-meeting", "-o", &format!("{o}/chart.svg")],
        vec!["report", "-o", &format!("{o}/report")],
    ]
    .into_iter()
    .map(|v| v.into_iter().map(String::from).collect())
    .collect()
}

/// `verify` exits 5; every reading command exits 5 with exactly its message
/// and prints nothing on stdout.
fn assert_every_reader_refuses(ledger: &Path, what: &str) {
    let verify = run(ledger, &["verify"]);
    assert_eq!(verify.status.code(), Some(5), "{what}: {}", all(&verify));
    let message = stderr(&verify);
    assert_eq!(message.lines().count(), 1, "{what}: {message}");
    let out_dir = tempfile::tempdir().unwrap();
    for args in reading_commands(out_dir.path()) {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run(ledger, &args);
        assert_eq!(
            out.status.code(),
            Some(5),
            "{what}, {args:?}: {}",
            all(&out)
        );
        assert_eq!(stderr(&out), message, "{what}, {args:?}");
        assert!(
            out.stdout.is_empty(),
            "{what}, {args:?}: {}",
            text(&out.stdout)
        );
    }
    assert_eq!(
        std::fs::read_dir(out_dir.path()).unwrap().count(),
        0,
        "{what}: a chart or report was written"
    );
}

#[test]
fn every_reading_command_refuses_a_ledger_rolled_back_under_its_anchor() {
    let dir = tempfile::tempdir().unwrap();
    let (ledger, older) = demo_and_copy(dir.path());
    ok(
        run(
            &ledger,
            &["append", "party", "macron", "--name", "Emmanuel Macron"],
        ),
        "append",
    );
    // The older files over the newer ledger, keeping the newer anchor.
    let anchor = std::fs::read(ledger.join(onrecord_sled::ANCHOR_FILE)).unwrap();
    std::fs::remove_dir_all(&ledger).unwrap();
    copy_dir(&older, &ledger);
    std::fs::write(ledger.join(onrecord_sled::ANCHOR_FILE), anchor).unwrap();
    assert_every_reader_refuses(&ledger, "rolled back");
    let verify = stderr(&run(&ledger, &["verify"]));
    assert!(verify.starts_with("error: damage at seq 18: "), "{verify}");
}

#[test]
fn every_reading_command_refuses_a_ledger_whose_data_file_was_cut() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = demo_ledger(dir.path());
    let db = ledger.join("db");
    let written = std::fs::read(&db).unwrap();
    let len = written.iter().rposition(|b| *b != 0).unwrap() + 1;
    // Cut to about half of what was written: sled reopens an older state.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&db)
        .unwrap()
        .set_len(len as u64 / 2)
        .unwrap();
    let verify = run(&ledger, &["verify"]);
    assert_eq!(verify.status.code(), Some(5), "{}", all(&verify));
    if stderr(&verify).starts_with("error: damage at seq") {
        assert_every_reader_refuses(&ledger, "cut");
    } else {
        // sled cannot read it at all: every reader says so too (exit 5).
        let out = run(&ledger, &["export"]);
        assert_eq!(out.status.code(), Some(5), "{}", all(&out));
    }
}

/// The seq of the first demo statement whose quote holds `word`.
fn seq_quoting(ledger: &Path, word: &str) -> u64 {
    export(ledger)
        .iter()
        .find(|e| e.value["quote"].as_str().is_some_and(|q| q.contains(word)))
        .map(|e| e.seq)
        .expect("a quote with the word")
}

#[test]
fn export_and_replay_stop_before_an_altered_record_and_name_its_seq() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = demo_ledger(dir.path());
    let seq = seq_quoting(&ledger, "Paris");
    assert!(seq > 1 && seq < 17, "a record in the middle: {seq}");
    replace_in_record(&ledger, seq, "Paris", "Rome!");
    let verify = run(&ledger, &["verify"]);
    assert_eq!(verify.status.code(), Some(5), "{}", all(&verify));
    let message = stderr(&verify);
    assert!(
        message.starts_with(&format!("error: damage at seq {seq}: ")),
        "{message}"
    );
    for args in [&["export"][..], &["replay", "--json"]] {
        let out = run(&ledger, args);
        assert_eq!(out.status.code(), Some(5), "{args:?}: {}", all(&out));
        assert_eq!(stderr(&out), message, "{args:?}");
        let lines: Vec<String> = text(&out.stdout).lines().map(String::from).collect();
        assert_eq!(
            lines.len() as u64,
            seq - 1,
            "{args:?}: only the records before it"
        );
        assert!(
            !text(&out.stdout).contains("Rome!"),
            "{args:?}: the altered quote was written"
        );
    }
    let out = run(&ledger, &["replay"]);
    assert_eq!(out.status.code(), Some(5), "{}", all(&out));
    assert_eq!(stderr(&out), message);
    assert!(!text(&out.stdout).contains("Rome!"));
    // A range before the damage is proven and served.
    let before = run(
        &ledger,
        &["replay", "--json", "--to", &(seq - 2).to_string()],
    );
    assert_eq!(before.status.code(), Some(0), "{}", all(&before));
    assert_eq!(text(&before.stdout).lines().count() as u64, seq - 2);
}

#[test]
fn an_altered_last_record_refuses_appends_and_reads() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = demo_ledger(dir.path());
    edit_record(&ledger, 17, |bytes| {
        let last = bytes.len() - 1;
        bytes[last] ^= 0x01;
    });
    let append = run(
        &ledger,
        &["append", "party", "macron", "--name", "Emmanuel Macron"],
    );
    assert_eq!(append.status.code(), Some(5), "{}", all(&append));
    assert!(
        stderr(&append).contains("refusing to append"),
        "{}",
        all(&append)
    );
    assert_every_reader_refuses(&ledger, "last record altered");
}

#[test]
fn export_salvage_writes_what_verifies_and_still_exits_5() {
    // Altered in the middle: the records before it, exit 5.
    let dir = tempfile::tempdir().unwrap();
    let ledger = demo_ledger(dir.path());
    let seq = seq_quoting(&ledger, "Paris");
    replace_in_record(&ledger, seq, "Paris", "Rome!");
    let out = run(&ledger, &["export", "--salvage"]);
    assert_eq!(out.status.code(), Some(5), "{}", all(&out));
    assert_eq!(text(&out.stdout).lines().count() as u64, seq - 1);
    assert!(
        stderr(&out).starts_with(&format!(
            "error: salvaged seq 1 to {} only; damage at seq {seq}: ",
            seq - 1
        )),
        "{}",
        all(&out)
    );

    // Rolled back under its anchor: the older records, which verify, exit 5.
    let dir = tempfile::tempdir().unwrap();
    let (ledger, older) = demo_and_copy(dir.path());
    ok(
        run(
            &ledger,
            &["append", "party", "macron", "--name", "Emmanuel Macron"],
        ),
        "append",
    );
    let anchor = std::fs::read(ledger.join(onrecord_sled::ANCHOR_FILE)).unwrap();
    std::fs::write(older.join(onrecord_sled::ANCHOR_FILE), anchor).unwrap();
    let out = run(&older, &["export", "--salvage"]);
    assert_eq!(out.status.code(), Some(5), "{}", all(&out));
    let salvaged = text(&out.stdout);
    assert_eq!(salvaged.lines().count(), 17);
    assert!(stderr(&out).contains("damage at seq 18"), "{}", all(&out));
    // What was salvaged restores into a ledger that verifies.
    let file = dir.path().join("salvaged.jsonl");
    std::fs::write(&file, salvaged).unwrap();
    let restored = dir.path().join("restored");
    ok(
        run(&restored, &["append", "--jsonl", file.to_str().unwrap()]),
        "restore",
    );
    assert_verifies(&restored);

    // On a sound ledger, salvage is a plain export.
    let out = ok(
        run(&ledger, &["export", "--salvage"]),
        "salvage of a sound ledger",
    );
    assert_eq!(text(&out.stdout).lines().count(), 18);
}
