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
    // 512 MiB of address space: reading /dev/zero whole would fail to
    // allocate. (The debug binary, sled's threads and their malloc arenas
    // reserve about 200 MiB before anything is read, and more threads under
    // load: 256 MiB failed on a busy CI machine without any line read.)
    let script = format!(
        "ulimit -v 524288; exec '{}' --ledger '{}' append --jsonl /dev/zero",
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

    // clap's usage errors echo arguments too.
    let r = env.run(&["positions", "--bogus\u{202e}\u{1b}]0;x\u{7}"]);
    assert_eq!(r.code, 2);
    assert!(!has_unsafe(&r.stderr), "{:?}", r.stderr);
    assert!(r.stderr.contains("--bogus\\u{202e}"), "{}", r.stderr);

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

#[test]
fn a_file_with_json_and_ledger_errors_reports_every_bad_line() {
    let env = Env::new();
    let input = concat!(
        r#"{"type":"party","id":"ann","name":"Ann"}"#,
        "\n",
        r#"{"type":"party","id":"bob","name":}"#,
        "\n",
        r#"{"type":"statement","proposition":"nowhere","party":"ann","stance":"likely","said_at":"2018-11-01"}"#,
        "\n",
        r#"{"type":"party","id":"ann","name":"Ann again"}"#,
        "\n",
    );
    let r = env.run_stdin(&["append", "--jsonl", "-"], input);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        "error: line 2: malformed JSON: expected value at column 35\n\
         error: line 3: unknown proposition `nowhere`\n\
         error: line 4: party `ann` is already registered\n\
         error: 3 line(s) refused; nothing was appended\n"
    );
    assert!(!env.ledger().exists(), "a refused file created a ledger");

    // On an existing ledger, re-sent lines (their event ids already recorded)
    // are not reported; new bad lines are, with their hints.
    let env = Env::new();
    env.load_story();
    let mut lines: Vec<String> = env.ok(&["export"]).lines().map(str::to_owned).collect();
    lines.push("not json".into());
    lines.push(
        r#"{"type":"statement","proposition":"g20-meting","party":"trump","stance":"likely","said_at":"2018-11-01"}"#
            .into(),
    );
    let before = env.ok(&["export"]);
    let r = env.run_stdin(&["append", "--jsonl", "-"], lines.join("\n"));
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        "error: line 18: malformed JSON: expected ident at column 2\n\
         error: line 19: unknown proposition `g20-meting` (did you mean `g20-meeting`?)\n\
         error: 2 line(s) refused; nothing was appended\n"
    );
    assert_eq!(env.ok(&["export"]), before);
}

#[test]
fn append_with_both_jsonl_and_an_event_kind_says_they_cannot_be_combined() {
    let env = Env::new();
    let r = env.run(&["append", "--jsonl", "x", "party", "a", "--name", "b"]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr,
        "error: append --jsonl cannot be combined with an event kind (party): give one or the other\n"
    );
    assert!(!env.ledger().exists());
}

#[test]
fn did_you_mean_ignores_case_and_surrounding_whitespace() {
    let env = Env::new();
    env.load_story();
    for typed in ["LIKELY", "likely ", " Likely"] {
        let err = env.fails(
            1,
            &[
                "append",
                "statement",
                "--proposition",
                "g20-meeting",
                "--party",
                "trump",
                "--stance",
                typed,
                "--said-at",
                "2018-11-20",
            ],
        );
        assert!(err.contains("(did you mean `likely`"), "{typed:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

#[test]
fn a_refused_credence_is_echoed_as_given() {
    let env = Env::new();
    env.load_story();
    let err = env.fails(
        1,
        &[
            "append",
            "statement",
            "--proposition",
            "g20-meeting",
            "--party",
            "trump",
            "--stance",
            "likely",
            "--credence",
            "1e-1000",
            "--said-at",
            "2018-11-20",
        ],
    );
    assert_eq!(
        err,
        "error: credence 1e-1000 is outside the likely band (0.55-0.8)\n"
    );
}

#[test]
fn a_proposition_or_party_not_yet_recorded_at_the_point_asked_is_unknown() {
    let env = Env::new();
    env.load_story();
    let err = env.fails(1, &["positions", "g20-meeting", "--at-seq", "6", "--json"]);
    assert_eq!(
        err,
        "error: unknown proposition `g20-meeting` at seq 6: it was recorded at seq 7\n"
    );
    let err = env.fails(1, &["positions", "--party", "peskov", "--at-seq", "4"]);
    assert_eq!(
        err,
        "error: unknown party `peskov` at seq 4: it was recorded at seq 5\n"
    );
    let err = env.fails(1, &["positions", "g20-meeting", "--known-at", "2000-01-01"]);
    assert!(
        err.starts_with("error: unknown proposition `g20-meeting` at the --known-at time"),
        "{err}"
    );
    let chart = env.file("g20.svg");
    let err = env.fails(
        1,
        &[
            "chart",
            "g20-meeting",
            "--at-seq",
            "6",
            "-o",
            chart.to_str().unwrap(),
        ],
    );
    assert!(
        err.starts_with("error: unknown proposition `g20-meeting` at seq 6"),
        "{err}"
    );
    assert!(!chart.exists());
    // At and after its opening it is known (with no positions yet at seq 7).
    let v = env.json(&["positions", "g20-meeting", "--at-seq", "7", "--json"]);
    assert_eq!(v["positions"], serde_json::json!([]));
}

#[test]
fn an_absurd_cache_size_is_refused_in_one_line() {
    let env = Env::new();
    let r = Env::exec(
        env.cmd(&["init"])
            .env("ONRECORD_CACHE_MB", "17592186044416"),
    );
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        "error: invalid ONRECORD_CACHE_MB `17592186044416`: expected 1 to 1048576 mebibytes\n"
    );
    assert!(!env.ledger().exists());
}

#[test]
fn the_stance_lexicon_reads_a_negation_after_the_cue_and_double_negations() {
    for (phrase, stance) in [
        (
            "it is almost certain that they will not meet",
            "almost-no-chance",
        ),
        ("There is no chance they will not meet", "almost-certain"),
        ("It is not likely that they will not meet", "likely"),
        ("We expect to meet no later than Friday", "very-likely"),
    ] {
        let r = Env::exec(Env::bare().args(["stance", "--json", phrase]));
        assert_eq!(r.code, 0, "{}", r.stderr);
        let v: Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(v["stance"], stance, "{phrase}: {v}");
    }
}

#[test]
fn report_to_an_existing_file_says_it_must_be_a_directory() {
    let env = Env::new();
    env.load_story();
    let file = env.file("taken.html");
    std::fs::write(&file, "keep me").unwrap();
    let path = file.to_str().unwrap();
    let err = env.fails(1, &["report", "-o", path]);
    assert_eq!(
        err,
        format!(
            "error: {path} is not a directory: report -o names the directory to write index.html into\n"
        )
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me");
}
