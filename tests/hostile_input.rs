//! Input a careless or hostile user can give, through the real binary (issue
//! 12): times the export could not write back, endless lines, keys repeated
//! deep inside a line, odd line ends. Each is refused with one line naming
//! the value and exit 1, and nothing is written; what is accepted exports to
//! lines that read back to the same events.

mod util;

use std::process::Command;

use serde_json::Value;
use util::Env;

/// The export's lines without what belongs to the recording ledger (`seq`, `recorded_at`).
fn exported_events(env: &Env) -> Vec<Value> {
    env.ok(&["export"])
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).unwrap();
            let o = v.as_object_mut().unwrap();
            o.remove("seq");
            o.remove("recorded_at");
            v
        })
        .collect()
}

fn setup(env: &Env) {
    env.ok(&["append", "party", "trump", "--name", "Donald Trump"]);
    env.ok(&[
        "append",
        "proposition",
        "paris-meeting",
        "--text",
        "They meet",
    ]);
}

#[test]
fn times_outside_years_0000_to_9999_in_utc_are_refused_wherever_given() {
    let env = Env::new();
    setup(&env);
    let before = env.ok(&["export"]);
    let early = "0000-01-01T00:00:00+00:01";
    let late = "9999-12-31T23:59:59-00:01";
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "append",
                "statement",
                "--proposition",
                "paris-meeting",
                "--party",
                "trump",
                "--stance",
                "likely",
                "--said-at",
                early,
            ],
            early,
        ),
        (
            vec![
                "append",
                "proposition",
                "far",
                "--text",
                "Far",
                "--window",
                "9999-12-31T23:00:00Z..9999-12-31T23:59:59-00:01",
            ],
            late,
        ),
        (
            vec![
                "append",
                "resolution",
                "--proposition",
                "paris-meeting",
                "--outcome",
                "happened",
                "--resolved-at",
                late,
            ],
            late,
        ),
        (vec!["positions", "--as-of", late], late),
        (vec!["positions", "--known-at", early], early),
        (vec!["contradictions", "--as-of", early], early),
    ];
    for (args, value) in cases {
        let err = env.fails(1, &args);
        assert_eq!(
            err,
            format!("error: time `{value}` falls outside the years 0000-9999 in UTC\n"),
            "{args:?}"
        );
    }
    let line = format!(
        r#"{{"type":"statement","proposition":"paris-meeting","party":"trump","stance":"likely","said_at":"{early}"}}"#
    );
    let r = env.run_stdin(&["append", "--jsonl", "-"], line);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.starts_with(&format!(
            "error: line 1: time `{early}` falls outside the years 0000-9999 in UTC\n"
        )),
        "{}",
        r.stderr
    );
    assert_eq!(
        env.ok(&["export"]),
        before,
        "a refused time wrote something"
    );
}

#[test]
fn events_at_the_edges_of_the_accepted_years_export_and_restore_exactly() {
    let env = Env::new();
    setup(&env);
    env.ok(&[
        "append",
        "proposition",
        "far",
        "--text",
        "Far",
        "--window",
        "0000-01-01T00:01:00+00:01..9999-12-31T23:59:59.999999Z",
    ]);
    env.ok(&[
        "append",
        "statement",
        "--proposition",
        "far",
        "--party",
        "trump",
        "--stance",
        "likely",
        "--said-at",
        "0000-01-01",
    ]);
    env.ok(&[
        "append",
        "statement",
        "--proposition",
        "paris-meeting",
        "--party",
        "trump",
        "--stance",
        "unlikely",
        "--said-at",
        "9999-12-31T23:59:59+00:00",
    ]);
    env.ok(&[
        "append",
        "resolution",
        "--proposition",
        "far",
        "--outcome",
        "happened",
        "--resolved-at",
        "9999-12-31",
    ]);
    let backup = env.file("backup.jsonl");
    std::fs::write(&backup, env.ok(&["export"])).unwrap();
    let restored = Env::new();
    restored.ok(&["append", "--jsonl", backup.to_str().unwrap()]);
    assert_eq!(exported_events(&restored), exported_events(&env));
    // Every time a reading command prints is one the time flags accept.
    let positions = env.json(&["positions", "--json"]);
    for p in positions.as_array().unwrap() {
        for pos in p["positions"].as_array().unwrap() {
            let said = pos["said_at"].as_str().unwrap();
            env.ok(&["positions", "--as-of", said]);
        }
    }
}

#[test]
fn an_endless_line_is_refused_at_one_mib_with_bounded_memory() {
    let env = Env::new();
    // 256 MiB of address space: reading /dev/zero whole would fail to allocate.
    let script = format!(
        "ulimit -v 262144; exec '{}' --ledger '{}' append --jsonl /dev/zero",
        env!("CARGO_BIN_EXE_onrecord"),
        env.ledger().display()
    );
    let out = Command::new("sh")
        .arg("-c")
        .arg(script)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("error: line 1: longer than 1 MiB\n"),
        "{stderr}"
    );
    assert!(!env.ledger().exists(), "a refused file created a ledger");
}

#[test]
fn a_key_repeated_inside_a_nested_object_is_refused_by_name() {
    let env = Env::new();
    let input = concat!(
        r#"{"type":"proposition","id":"p1","text":"T","window":{"from":"2018-01-01","from":"2018-02-01","to":"2018-06-01"}}"#,
        "\n",
        r#"{"type":"proposition","id":"p2","text":"T","window":{"from":"2018-01-01","to":"2018-06-01","to":null}}"#,
        "\n",
    );
    let r = env.run_stdin(&["append", "--jsonl", "-"], input);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        r.stderr,
        "error: line 1: duplicate field `window.from` in a proposition line\n\
         error: line 2: duplicate field `window.to` in a proposition line\n\
         error: 2 line(s) refused; nothing was appended\n"
    );
    assert!(!env.ledger().exists());
}

#[test]
fn cr_only_line_ends_end_lines_and_json_errors_name_the_column_only() {
    let env = Env::new();
    let input = concat!(
        r#"{"type":"party","id":"a","name":"A"}"#,
        "\r",
        r#"{"type":"party","id":"b","name":"B"}"#,
        "\r"
    );
    let r = env.run_stdin(&["append", "--jsonl", "-"], input);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "appended 2, already recorded 0\n"),
        "{}",
        r.stderr
    );

    let bad = "\n\n{\"type\":\"party\",\"id\":\"c\",}\n";
    let r = env.run_stdin(&["append", "--jsonl", "-"], bad);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .starts_with("error: line 3: malformed JSON: trailing comma at column 26\n"),
        "{}",
        r.stderr
    );
}
