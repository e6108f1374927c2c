//! Who recorded each event, through the real binary: a command-line append
//! is recorded by `local:<user>`, `export` says so, and an export read back
//! with `append --jsonl` into another ledger keeps every `recorded_by`.

mod util;

use std::path::Path;

use serde_json::Value;
use util::{Env, STORY};

/// What the command line records appends by for the user running the tests:
/// `local:` and the login name `id -un` gives (else `$USER`).
fn local_user() -> String {
    let id = std::process::Command::new("id").arg("-un").output();
    let name = match id {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        _ => std::env::var("USER").expect("a user name"),
    };
    format!("local:{name}")
}

fn export_lines(env: &Env) -> Vec<Value> {
    env.ok(&["export"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
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
fn an_append_is_exported_as_recorded_by_the_local_user() {
    let env = Env::new();
    env.ok(&["append", "party", "trump", "--name", "Donald Trump"]);
    let out = env.ok(&["export"]);
    let line: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(line["recorded_by"], Value::String(local_user()), "{out}");
    // The key sits right after recorded_at, before the event's own fields.
    assert!(
        out.contains(&format!(
            r#","recorded_by":"{}","id":"trump""#,
            local_user()
        )),
        "{out}"
    );
    // A bulk append of lines without recorded_by is recorded by the local user too.
    env.load_story_after_trump();
    assert!(
        export_lines(&env)
            .iter()
            .all(|l| l["recorded_by"] == Value::String(local_user()))
    );
}

trait StoryAfterTrump {
    fn load_story_after_trump(&self);
}

impl StoryAfterTrump for Env {
    /// Loads the story but its `trump` party line (already registered).
    fn load_story_after_trump(&self) {
        let story: String = STORY
            .lines()
            .filter(|l| !l.contains(r#""id":"trump""#))
            .map(|l| format!("{l}\n"))
            .collect();
        let r = self.run_stdin(&["append", "--jsonl", "-"], story);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
}

#[test]
fn an_export_read_back_into_a_new_ledger_keeps_who_recorded_each_event() {
    let first = Env::new();
    first.load_story();
    // Lines that say who recorded them keep it (a restore); others get the local user.
    let restored = concat!(
        r#"{"type":"party","recorded_by":"desk-bot","id":"macron","name":"Emmanuel Macron"}"#,
        "\n",
        r#"{"type":"party","recorded_by":"Rédaction — bot 2","id":"elysee","name":"Élysée"}"#,
        "\n",
    );
    let r = first.run_stdin(&["append", "--jsonl", "-"], restored);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let exported = first.ok(&["export"]);
    let lines = export_lines(&first);
    assert_eq!(lines[17]["recorded_by"], "desk-bot");
    assert_eq!(lines[18]["recorded_by"], "Rédaction — bot 2");
    assert_eq!(lines[0]["recorded_by"], Value::String(local_user()));

    let second = Env::new();
    let file = second.file("export.jsonl");
    std::fs::write(&file, &exported).unwrap();
    second.ok(&["append", "--jsonl", file.to_str().unwrap()]);
    // The same lines, recorded_by included; only the transaction time is the new ledger's.
    let without_time = |text: &str| -> Vec<Value> {
        text.lines()
            .map(|l| {
                let mut v: Value = serde_json::from_str(l).unwrap();
                v.as_object_mut().unwrap().remove("recorded_at");
                v
            })
            .collect()
    };
    let again = second.ok(&["export"]);
    assert_eq!(without_time(&again), without_time(&exported));
    // And exporting the copy and reading it back once more changes nothing.
    let third = Env::new();
    let file = third.file("export.jsonl");
    std::fs::write(&file, &again).unwrap();
    third.ok(&["append", "--jsonl", file.to_str().unwrap()]);
    assert_eq!(without_time(&third.ok(&["export"])), without_time(&again));
    second.ok(&["verify"]);
}

#[test]
fn a_re_sent_export_is_already_recorded_and_keeps_the_first_recorder() {
    let env = Env::new();
    env.ok(&["append", "party", "trump", "--name", "Donald Trump"]);
    let mut line: Value = serde_json::from_str(env.ok(&["export"]).trim()).unwrap();
    line["recorded_by"] = Value::String("someone-else".into());
    let r = env.run_stdin(&["append", "--jsonl", "-"], line.to_string());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "appended 0, already recorded 1\n");
    assert_eq!(
        export_lines(&env)[0]["recorded_by"],
        Value::String(local_user())
    );
}

#[test]
fn a_line_naming_an_invalid_recorder_is_refused_naming_it_and_nothing_is_written() {
    let env = Env::new();
    env.load_story();
    let line = r#"{"type":"party","recorded_by":"  ","id":"macron","name":"Emmanuel Macron"}"#;
    let r = env.run_stdin(&["append", "--jsonl", "-"], line);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("line 1: invalid recorded_by `  `: it must not be blank"),
        "{}",
        r.stderr
    );
    assert_eq!(export_lines(&env).len(), 17);
}

#[test]
fn the_demo_records_the_local_user() {
    let env = Env::new();
    env.ok(&["demo"]);
    let lines = export_lines(&env);
    assert!(!lines.is_empty());
    assert!(
        lines
            .iter()
            .all(|l| l["recorded_by"] == Value::String(local_user()))
    );
}

#[test]
fn a_version_1_ledger_exports_as_before_and_takes_version_2_appends() {
    let env = Env::new();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/golden-v1/ledger");
    copy_dir(&fixture, env.ledger());
    let before = env.ok(&["export"]);
    let golden = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/golden-v1/expected.jsonl"),
    )
    .unwrap();
    assert_eq!(
        before, golden,
        "v1 records export without recorded_by, byte for byte"
    );
    env.ok(&["append", "party", "macron", "--name", "Emmanuel Macron"]);
    let after = export_lines(&env);
    assert_eq!(after.len(), 24);
    assert!(after[..23].iter().all(|l| l.get("recorded_by").is_none()));
    assert_eq!(after[23]["recorded_by"], Value::String(local_user()));
    let verified = env.ok(&["verify"]);
    assert!(verified.starts_with("ok: 24 records"), "{verified}");
}
