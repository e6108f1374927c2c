//! Bad input writes nothing: every file of the corpus in
//! `tests/fixtures/bad-input/` (listed with its expected message in
//! `expected.txt`), plus a few generated here (a 10 MiB line, invalid UTF-8),
//! is refused by `onrecord append --jsonl` with exit code 1 and a `line N:`
//! message naming the value, and the ledger's head (seq and hash) and export
//! are unchanged. What is tolerated is checked too: a UTF-8 byte-order mark at
//! the start, CRLF line ends and blank lines are accepted; an empty file
//! appends nothing and succeeds.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use common::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/bad-input");

struct Case {
    name: String,
    path: PathBuf,
    line: usize,
    expect: String,
}

fn manifest() -> Vec<Case> {
    let text = std::fs::read_to_string(Path::new(FIXTURES).join("expected.txt")).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let parts: Vec<&str> = l.splitn(3, " | ").collect();
            assert_eq!(parts.len(), 3, "bad manifest line: {l}");
            Case {
                name: parts[0].to_owned(),
                path: Path::new(FIXTURES).join(parts[0]),
                line: parts[1].parse().unwrap(),
                expect: parts[2].to_owned(),
            }
        })
        .collect()
}

/// The state that must not change: head through the library, and the export.
fn state(ledger: &Path) -> ((u64, String), Vec<String>) {
    let events = export(ledger);
    (head(ledger), events.into_iter().map(|e| e.line).collect())
}

fn import(ledger: &Path, file: &Path) -> Output {
    run(ledger, &["append", "--jsonl", file.to_str().unwrap()])
}

fn assert_refused(out: &Output, case: &str, line: usize, expect: &str) {
    let err = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{case}: exit code\nstdout: {}\nstderr: {err}",
        text(&out.stdout)
    );
    assert!(!err.contains("panicked"), "{case}: {err}");
    assert!(
        err.starts_with("error:"),
        "{case}: stderr must start with error: {err}"
    );
    let wanted = format!("line {line}:");
    let first = err
        .lines()
        .find(|l| l.contains("line "))
        .unwrap_or_else(|| panic!("{case}: no `line N:` in {err}"));
    assert!(
        first.contains(&wanted),
        "{case}: first bad line should be {line}: {err}"
    );
    assert!(
        first.contains(expect),
        "{case}: expected `{expect}` in: {first}"
    );
    assert!(
        !text(&out.stdout).contains("appended"),
        "{case}: claims to have appended: {}",
        text(&out.stdout)
    );
}

#[test]
fn each_bad_file_is_refused_naming_its_line_and_value_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = demo_ledger(dir.path());
    let before = state(&ledger);
    assert_eq!(before.0.0, 17, "the demo file holds 17 events");

    let mut cases = manifest();
    assert!(cases.len() >= 15, "the corpus lost files");

    // Generated cases: too big or too binary to commit.
    let big = dir.path().join("ten-mib-line.jsonl");
    let quote = "x".repeat(10 * 1024 * 1024);
    std::fs::write(
        &big,
        format!(
            "{{\"type\":\"statement\",\"proposition\":\"g20-meeting\",\"party\":\"trump\",\"stance\":\"likely\",\"said_at\":\"2018-11-05\",\"quote\":\"{quote}\"}}\n"
        ),
    )
    .unwrap();
    cases.push(Case {
        name: "ten-mib-line.jsonl (generated)".into(),
        path: big,
        line: 1,
        expect: "longer than".into(),
    });
    let utf8 = dir.path().join("invalid-utf8.jsonl");
    let mut bytes =
        b"{\"type\":\"party\",\"id\":\"macron\",\"name\":\"Emmanuel Macron\"}\n".to_vec();
    bytes.extend_from_slice(
        b"{\"type\":\"party\",\"id\":\"merkel\",\"name\":\"Angela \xff\xfe Merkel\"}\n",
    );
    std::fs::write(&utf8, bytes).unwrap();
    cases.push(Case {
        name: "invalid-utf8.jsonl (generated)".into(),
        path: utf8,
        line: 2,
        expect: "UTF-8".into(),
    });

    for case in &cases {
        let out = import(&ledger, &case.path);
        assert_refused(&out, &case.name, case.line, &case.expect);
        assert!(
            out.stderr.len() < 64 * 1024,
            "{}: the message must not echo the input ({} bytes of stderr)",
            case.name,
            out.stderr.len()
        );
        assert_eq!(state(&ledger), before, "{}: the ledger changed", case.name);
    }

    // The same refusal through standard input.
    let mut child = cmd(&ledger)
        .args(["append", "--jsonl", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(&std::fs::read(Path::new(FIXTURES).join("unknown-field.jsonl")).unwrap())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert_refused(&out, "stdin", 2, "unknown field `stanse`");
    assert_eq!(state(&ledger), before, "stdin: the ledger changed");
    assert_verifies(&ledger);

    println!(
        "bad input: {} files refused with exit 1 and their line and value named; head stayed at seq {} hash {}",
        cases.len() + 1,
        before.0.0,
        before.0.1
    );
}

#[test]
fn many_bad_lines_report_the_first_twenty_then_a_count() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = demo_ledger(dir.path());
    let before = state(&ledger);
    let out = import(
        &ledger,
        &Path::new(FIXTURES).join("twenty-five-bad-lines.jsonl"),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    for n in 2..=21 {
        assert!(
            err.contains(&format!("line {n}:")),
            "line {n} not reported: {err}"
        );
        assert!(
            err.contains(&format!("`Bad{}`", n - 1)),
            "value of line {n}: {err}"
        );
    }
    for n in 22..=26 {
        assert!(
            !err.contains(&format!("line {n}:")),
            "only 20 lines are listed: {err}"
        );
    }
    assert!(
        err.contains("25") || err.contains("5 more"),
        "the count of bad lines is given: {err}"
    );
    assert_eq!(state(&ledger), before);
}

#[test]
fn bom_crlf_and_blank_lines_are_tolerated_and_an_empty_file_appends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = demo_ledger(dir.path());

    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    let blank = dir.path().join("blank.jsonl");
    std::fs::write(&blank, "\n\r\n  \n").unwrap();
    for file in [&empty, &blank] {
        let before = state(&ledger);
        let out = import(&ledger, file);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            file.display(),
            text(&out.stderr)
        );
        assert_eq!(
            state(&ledger),
            before,
            "{} appended something",
            file.display()
        );
    }

    // A byte-order mark, CRLF line ends and blank lines between events.
    let tolerant = dir.path().join("tolerant.jsonl");
    std::fs::write(
        &tolerant,
        "\u{feff}{\"type\":\"party\",\"id\":\"macron\",\"name\":\"Emmanuel Macron\"}\r\n\r\n\
         {\"type\":\"proposition\",\"id\":\"helsinki\",\"text\":\"They meet in Helsinki\"}\r\n\
         \n{\"type\":\"statement\",\"proposition\":\"helsinki\",\"party\":\"macron\",\"stance\":\"unlikely\",\"said_at\":\"2018-07-01\",\"quote\":\"Non\"}\r\n",
    )
    .unwrap();
    let (seq_before, _) = head(&ledger);
    ok(import(&ledger, &tolerant), "BOM + CRLF + blank lines");
    let events = export(&ledger);
    assert_eq!(head(&ledger).0, seq_before + 3);
    let last = &events.last().unwrap().value;
    // CR is a line end, not part of the value.
    assert_eq!(last["quote"], "Non");
    assert_eq!(events[events.len() - 3].value["id"], "macron");
    assert_verifies(&ledger);
}
