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

/// A ledger whose stored text tries formula and terminal-escape injection.
fn hostile_story() -> Env {
    let env = Env::new();
    let lines = [
        r#"{"type":"party","id":"evil","name":"Evil \u202egnp.exe"}"#,
        r#"{"type":"party","id":"ann","name":"Ann"}"#,
        r#"{"type":"party","id":"bob","name":"Bob"}"#,
        r#"{"type":"party","id":"cat","name":"Cat"}"#,
        r#"{"type":"proposition","id":"p","text":"Title \u001b]0;PWNED\u0007\u001b[2J"}"#,
        r#"{"type":"statement","proposition":"p","party":"evil","stance":"likely","said_at":"2018-11-01","quote":"=HYPERLINK(\"http://x\",\"y\")","source":"+cmd|' /C calc'!A0"}"#,
        r#"{"type":"statement","proposition":"p","party":"ann","stance":"unlikely","said_at":"2018-11-02","quote":"-probably not"}"#,
        r#"{"type":"statement","proposition":"p","party":"bob","stance":"likely","said_at":"2018-11-03","quote":"\u001b]0;PWNED\u0007\u001b[2J\u009b","source":"@SUM(A1)"}"#,
        r#"{"type":"statement","proposition":"p","party":"cat","stance":"very-unlikely","said_at":"2018-11-04","quote":"\tTab \u202eevil"}"#,
        r#"{"type":"resolution","proposition":"p","outcome":"did-not-happen","resolved_at":"2018-12-01"}"#,
    ];
    let r = env.run_stdin(&["append", "--jsonl", "-"], lines.join("\n"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    env
}

/// Characters that drive a terminal or reorder text.
fn has_unsafe(text: &str) -> bool {
    text.chars().any(|c| {
        (c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    })
}

fn csv_rows(text: &str) -> Vec<Vec<String>> {
    csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

#[test]
fn csv_cells_that_start_a_formula_are_neutralised_unless_exact_is_asked() {
    let env = hostile_story();
    let safe = env.ok(&["positions", "p", "--csv"]);
    assert!(!has_unsafe(&safe), "{safe:?}");
    let quotes: Vec<String> = csv_rows(&safe).into_iter().map(|r| r[7].clone()).collect();
    assert_eq!(
        quotes,
        [
            "'-probably not",
            "\\u{1b}]0;PWNED\\u{7}\\u{1b}[2J\\u{9b}",
            "'\tTab \\u{202e}evil",
            "'=HYPERLINK(\"http://x\",\"y\")",
        ]
    );
    let history = env.ok(&["history", "p", "--csv"]);
    assert!(!has_unsafe(&history), "{history:?}");
    let rows = csv_rows(&history);
    assert_eq!(rows[0][8], "'+cmd|' /C calc'!A0");
    assert_eq!(rows[2][8], "'@SUM(A1)");

    // --csv-exact gives back exactly what was recorded.
    let exact = env.ok(&["positions", "p", "--csv", "--csv-exact"]);
    let quotes: Vec<String> = csv_rows(&exact).into_iter().map(|r| r[7].clone()).collect();
    assert_eq!(
        quotes,
        [
            "-probably not",
            "\u{1b}]0;PWNED\u{7}\u{1b}[2J\u{9b}",
            "\tTab \u{202e}evil",
            "=HYPERLINK(\"http://x\",\"y\")",
        ]
    );
    let r = env.run(&["positions", "--csv-exact"]);
    assert_eq!(r.code, 2, "--csv-exact needs --csv: {}", r.stderr);

    // Numbers stay numbers: a negative log score is not prefixed.
    let scores = env.ok(&["scores", "--csv"]);
    let logs: Vec<String> = csv_rows(&scores)
        .into_iter()
        .map(|r| r[7].clone())
        .collect();
    assert!(logs.iter().any(|l| l.starts_with('-')), "{scores}");
    assert!(logs.iter().all(|l| l.parse::<f64>().is_ok()), "{scores}");
}

#[test]
fn tables_replay_lines_and_errors_never_pass_terminal_controls_or_bidi_overrides() {
    let env = hostile_story();
    for args in [
        &["positions"][..],
        &["history", "p"],
        &["replay"],
        &["scores"],
        &["contradictions"],
    ] {
        let out = env.ok(args);
        assert!(!has_unsafe(&out), "{args:?}: {out:?}");
    }
    let replay = env.ok(&["replay"]);
    assert!(replay.contains("Evil \\u{202e}gnp.exe"), "{replay}");
    assert!(replay.contains("p: Title  ]0;PWNED  [2J"), "{replay}");

    let err = env.fails(1, &["positions", "--party", "x\u{202e}y\u{1b}[2J"]);
    assert!(!has_unsafe(&err), "{err:?}");
    assert!(err.contains("x\\u{202e}y\\u{1b}[2J"), "{err}");

    // JSON stays exact.
    let json = env.json(&["positions", "p", "--json"]);
    let quotes: Vec<&str> = json["positions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["quote"].as_str().unwrap())
        .collect();
    assert!(quotes.contains(&"\tTab \u{202e}evil"), "{quotes:?}");
    assert!(
        quotes.contains(&"\u{1b}]0;PWNED\u{7}\u{1b}[2J\u{9b}"),
        "{quotes:?}"
    );
    let export = env.ok(&["export"]);
    assert!(export.contains("Evil \u{202e}gnp.exe"), "{export}");
}
