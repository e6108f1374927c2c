//! A ledger that can be read but not written (an archive, a published copy)
//! can still be read: `verify`, `positions`, `stats` and `export` work as a
//! user without write access, nothing in it changes, `append` says it is
//! read-only, and a ledger the user may not read at all is named with the
//! reason. Tests run as root here, so the binary runs as `nobody` through
//! `setpriv` (skipped, saying why, where that is impossible).

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::*;

/// How to run the binary as a user without write access to a root-owned
/// ledger: directly when not root, else through `setpriv` as `nobody`.
fn as_reader() -> Option<Command> {
    let uid = std::fs::metadata("/proc/self").ok()?.uid();
    if uid != 0 {
        return Some(Command::new(bin()));
    }
    let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"]
        .into_iter()
        .find(|p| Path::new(p).exists())?;
    let mut c = Command::new(setpriv);
    c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(bin());
    Some(c)
}

fn run_as_reader(ledger: &Path, args: &[&str]) -> Output {
    let mut c = as_reader().expect("checked by the caller");
    c.arg("--ledger")
        .arg(ledger)
        .args(args)
        .env("NO_COLOR", "1")
        .env("TMPDIR", "/tmp")
        .env_remove("ONRECORD_BUSY_WAIT_MS")
        .stdin(Stdio::null());
    c.output().expect("spawn onrecord")
}

fn all(out: &Output) -> String {
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}

/// Every file and directory under `dir`, with the bytes and mode of each.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (u32, Option<Vec<u8>>)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            let mode = std::fs::metadata(&p).unwrap().mode();
            if p.is_dir() {
                out.insert(p.clone(), (mode, None));
                stack.push(p);
            } else {
                out.insert(p.clone(), (mode, Some(std::fs::read(&p).unwrap())));
            }
        }
    }
    out
}

/// Makes `dir` and everything in it read-only (directories r-x, files r--).
fn make_read_only(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            make_read_only(&p);
        } else {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o444)).unwrap();
        }
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).unwrap();
}

/// A temp dir the reader can walk into.
fn open_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
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
fn reading_commands_work_on_a_read_only_ledger_and_change_nothing() {
    if as_reader().is_none() {
        println!("skipped: running as root and no setpriv to drop privileges with");
        return;
    }
    let dir = open_dir();
    let ledger = demo_ledger(dir.path());
    let (seq, hash) = head(&ledger);
    let expected = export(&ledger);
    make_read_only(&ledger);
    let before = snapshot(&ledger);

    let verify = run_as_reader(&ledger, &["verify"]);
    assert_eq!(verify.status.code(), Some(0), "{}", all(&verify));
    assert!(
        text(&verify.stdout).contains(&format!("head seq={seq} hash={hash}")),
        "{}",
        all(&verify)
    );
    for args in [
        &["positions", "--json"][..],
        &["stats", "--json"],
        &["history", "paris-meeting"],
    ] {
        let out = run_as_reader(&ledger, args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", all(&out));
        assert!(!out.stdout.is_empty(), "{args:?}");
    }
    let out = run_as_reader(&ledger, &["export"]);
    assert_eq!(out.status.code(), Some(0), "{}", all(&out));
    let lines: Vec<&str> = expected.iter().map(|e| e.line.as_str()).collect();
    assert_eq!(text(&out.stdout).lines().collect::<Vec<_>>(), lines);

    let append = run_as_reader(
        &ledger,
        &["append", "party", "macron", "--name", "Emmanuel Macron"],
    );
    assert_eq!(append.status.code(), Some(1), "{}", all(&append));
    assert_eq!(
        text(&append.stderr).trim(),
        format!(
            "error: the ledger at {} is read-only for this user: it can be read but not appended to",
            ledger.display()
        )
    );
    assert_eq!(
        snapshot(&ledger),
        before,
        "a read changed the read-only ledger"
    );
}

#[test]
fn a_read_only_ledger_made_before_the_marker_is_read_without_being_marked() {
    if as_reader().is_none() {
        println!("skipped: running as root and no setpriv to drop privileges with");
        return;
    }
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/golden-v1");
    let dir = open_dir();
    let ledger = dir.path().join("ledger");
    copy_dir(&fixture.join("ledger"), &ledger);
    make_read_only(&ledger);
    let before = snapshot(&ledger);
    let head = std::fs::read_to_string(fixture.join("head.txt")).unwrap();
    let (seq, hash) = head.trim().split_once(' ').unwrap();
    let verify = run_as_reader(&ledger, &["verify"]);
    assert_eq!(verify.status.code(), Some(0), "{}", all(&verify));
    assert!(
        text(&verify.stdout).contains(&format!("head seq={seq} hash={hash}")),
        "{}",
        all(&verify)
    );
    assert_eq!(snapshot(&ledger), before);
    assert!(!ledger.join(onrecord_sled::MARKER_FILE).exists());
}

#[test]
fn a_ledger_the_user_may_not_read_is_named_with_the_reason() {
    if as_reader().is_none() {
        println!("skipped: running as root and no setpriv to drop privileges with");
        return;
    }
    let dir = open_dir();
    let ledger = demo_ledger(dir.path());
    std::fs::set_permissions(&ledger, std::fs::Permissions::from_mode(0o700)).unwrap();
    for args in [&["verify"][..], &["positions"], &["export"]] {
        let out = run_as_reader(&ledger, args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", all(&out));
        assert_eq!(
            err.trim(),
            format!(
                "error: cannot read {}: permission denied for this user",
                ledger.display()
            ),
            "{args:?}"
        );
    }
}
