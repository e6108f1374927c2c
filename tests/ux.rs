//! End-to-end tests of what users expect from a good command-line tool
//! (issue 7): quiet progress, completions and a man page, CSV, `stats`,
//! `stance`, and errors that suggest what was meant.

mod util;

use clap::CommandFactory;
use serde_json::json;
use util::Env;

fn story() -> Env {
    let env = Env::new();
    env.load_story();
    env
}

/// Every subcommand name of the CLI, from its clap definition.
fn subcommands() -> Vec<String> {
    onrecord_cli::args::Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .collect()
}

#[test]
fn long_work_prints_no_progress_when_stderr_is_not_a_terminal() {
    let env = Env::new();
    let r = env.run_stdin(&["append", "--jsonl", "-"], util::STORY);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    // The export carries event ids, so appending it again is an idempotent no-op.
    let file = env.file("export.jsonl");
    std::fs::write(&file, env.ok(&["export"])).unwrap();
    let path = file.to_str().unwrap();
    for args in [
        &["append", "--jsonl", path][..],
        &["verify"],
        &["export"],
        &["--quiet", "verify"],
        &["export", "-q"],
        &["append", "--jsonl", path, "--quiet", "--json"],
    ] {
        let r = env.run(args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        assert_eq!(r.stderr, "", "{args:?}");
    }
    // --quiet also drops the rebuild note; without it the note stays.
    let r = env.run(&["replay", "--rebuild", "--quiet", "--to", "0"]);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    let r = env.run(&["replay", "--rebuild", "--to", "0"]);
    assert_eq!(r.stderr, "rebuilt the kept views from 17 records\n");
}

#[test]
fn completions_are_generated_for_every_shell_and_name_every_subcommand() {
    let names = subcommands();
    assert!(names.len() >= 13, "{names:?}");
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let r = Env::exec(Env::bare().args(["completions", shell]));
        assert_eq!(r.code, 0, "{shell}: {}", r.stderr);
        for name in &names {
            assert!(r.stdout.contains(name.as_str()), "{shell} lacks {name}");
        }
    }
    assert_eq!(Env::exec(Env::bare().args(["completions", "tcsh"])).code, 2);
}

#[test]
fn the_man_page_is_roff_and_names_every_subcommand() {
    let r = Env::exec(Env::bare().arg("man"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains(".TH onrecord 1"), "{}", r.stdout);
    assert!(
        r.stdout.contains("An event\\-sourced ledger"),
        "{}",
        r.stdout
    );
    for name in subcommands() {
        let roff = format!("onrecord\\-{}(1)", name.replace('-', "\\-"));
        assert!(r.stdout.contains(&roff), "man page lacks {roff}");
    }
}

/// A statement whose quote needs every kind of CSV quoting.
const AWKWARD: &str = "We said \"yes, maybe\",\nthen: no.";

fn awkward_ledger() -> Env {
    let env = Env::new();
    env.ok(&["append", "party", "kremlin", "--name", "The Kremlin"]);
    env.ok(&["append", "proposition", "p", "--text", "A, \"B\""]);
    env.ok(&[
        "append",
        "statement",
        "--proposition",
        "p",
        "--party",
        "kremlin",
        "--stance",
        "likely",
        "--said-at",
        "2018-11-06",
        "--quote",
        AWKWARD,
        "--source",
        "https://example.org/a,b",
    ]);
    env
}

fn read_csv(text: &str) -> Vec<Vec<String>> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    r.records()
        .map(|rec| rec.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

#[test]
fn positions_csv_round_trips_commas_quotes_and_newlines() {
    let env = awkward_ledger();
    let out = env.ok(&["positions", "--csv"]);
    assert!(out.ends_with("\r\n"), "{out:?}");
    let rows = read_csv(&out);
    assert_eq!(
        rows[0],
        [
            "proposition",
            "party",
            "stance",
            "credence",
            "said_at",
            "speaker",
            "statement",
            "quote",
            "statements",
            "flips"
        ]
    );
    assert_eq!(rows.len(), 2);
    let row = &rows[1];
    assert_eq!(
        (&row[0][..], &row[1][..], &row[2][..], &row[3][..]),
        ("p", "kremlin", "likely", "0.675")
    );
    assert_eq!(row[4], "2018-11-06T00:00:00Z");
    assert_eq!(row[7], AWKWARD);
    // The same fields as the JSON.
    let v = env.json(&["positions", "p", "--json"]);
    assert_eq!(v["positions"][0]["statement"], row[6].as_str());
    assert_eq!(v["positions"][0]["quote"], AWKWARD);
}

#[test]
fn history_csv_round_trips_and_matches_the_json() {
    let env = awkward_ledger();
    let rows = read_csv(&env.ok(&["history", "p", "--csv"]));
    assert_eq!(
        rows[0],
        [
            "seq",
            "statement",
            "party",
            "speaker",
            "stance",
            "credence",
            "said_at",
            "quote",
            "source",
            "retracted"
        ]
    );
    let v = env.json(&["history", "p", "--json"]);
    let row = &rows[1];
    assert_eq!(row[0], v[0]["seq"].to_string());
    assert_eq!(row[1], v[0]["statement"].as_str().unwrap());
    assert_eq!(row[7], AWKWARD);
    assert_eq!(row[8], "https://example.org/a,b");
    assert_eq!(row[9], "false");
    // An empty history or position list is just the header (bolton speaks for trump).
    let env = story();
    let rows = read_csv(&env.ok(&["history", "paris-meeting", "--party", "bolton", "--csv"]));
    assert_eq!(rows.len(), 1, "{rows:?}");
    // At seq 6 paris-meeting is open with no statement yet.
    let rows = read_csv(&env.ok(&[
        "positions",
        "paris-meeting",
        "--party",
        "trump",
        "--at-seq",
        "6",
        "--csv",
    ]));
    assert_eq!(rows.len(), 1, "{rows:?}");
}

#[test]
fn csv_and_json_conflict() {
    let env = story();
    for args in [
        &["positions", "--csv", "--json"][..],
        &["history", "paris-meeting", "--json", "--csv"],
    ] {
        let r = env.run(args);
        assert_eq!(r.code, 2, "{args:?}");
        assert!(r.stderr.contains("cannot be used with"), "{}", r.stderr);
    }
}

#[test]
fn stats_count_the_demo_story() {
    let env = story();
    let v = env.json(&["stats", "--json"]);
    let hash = v["head"]["hash"].as_str().unwrap().to_owned();
    assert_eq!(hash.len(), 64);
    assert!(v["bytes_on_disk"].as_u64().unwrap() > 0);
    assert_eq!(
        v,
        json!({
            "events": {"total": 17, "party": 5, "proposition": 2, "statement": 8, "retraction": 0, "resolution": 2},
            "parties": 5,
            "propositions": {"total": 2, "open": 0, "resolved": 2},
            "statements": 8,
            "retractions": 0,
            "head": {"seq": 17, "hash": hash},
            "bytes_on_disk": v["bytes_on_disk"],
        })
    );
    let text = env.ok(&["stats"]);
    assert!(
        text.contains("propositions:  2 (0 open, 2 resolved)"),
        "{text}"
    );
    assert!(
        text.contains(&format!("head:          seq=17 hash={hash}")),
        "{text}"
    );
    let verify = env.ok(&["verify"]);
    assert!(verify.ends_with(&format!("hash={hash}\n")), "{verify}");
}

#[test]
fn stats_need_a_ledger() {
    let env = Env::new();
    let err = env.fails(1, &["stats"]);
    assert!(err.contains("no ledger at"), "{err}");
}

#[test]
fn stance_suggests_a_band_and_names_the_cue() {
    let v = serde_json::from_str::<serde_json::Value>(
        &Env::exec(Env::bare().args(["stance", "--json", "We will probably not meet in Paris"]))
            .stdout,
    )
    .unwrap();
    assert_eq!(
        v,
        json!({
            "phrase": "We will probably not meet in Paris",
            "stance": "unlikely",
            "cue": "probably not",
            "origin": "kent",
            "negated": false,
            "matched": "probably not",
            "band": {"low": 0.2, "high": 0.45},
            "midpoint": 0.325,
        })
    );
    // Words given separately are one phrase; a negator before a cue is reported.
    let r = Env::exec(Env::bare().args(["stance", "it", "is", "not", "likely"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.starts_with("unlikely (20%-45%, midpoint 32.5%)\n"),
        "{}",
        r.stdout
    );
    let r = Env::exec(Env::bare().args([
        "stance",
        "--json",
        "We have no plans to meet, it is not confirmed",
    ]));
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        (v["stance"].as_str(), v["negated"].as_bool()),
        (Some("even-chance"), Some(true))
    );
    let r = Env::exec(Env::bare().args(["stance", "No comment"]));
    assert!(
        r.stdout.starts_with("declined (no credence)\n"),
        "{}",
        r.stdout
    );
    let v: serde_json::Value = serde_json::from_str(
        &Env::exec(Env::bare().args(["stance", "No comment", "--json"])).stdout,
    )
    .unwrap();
    assert_eq!((&v["band"], &v["midpoint"]), (&json!(null), &json!(null)));
}

#[test]
fn stance_without_a_cue_says_so_and_exits_0() {
    let r = Env::exec(Env::bare().args(["stance", "The weather in Paris"]));
    assert_eq!(r.code, 0);
    assert!(r.stdout.starts_with("no cue found\n"), "{}", r.stdout);
    let r = Env::exec(Env::bare().args(["stance", "--json", "The weather in Paris"]));
    assert_eq!(r.code, 0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["stance"], json!(null));
    assert_eq!(v["cue"], json!(null));
    assert_eq!(v["phrase"], "The weather in Paris");
    // It needs no ledger and creates none.
    let env = Env::new();
    env.ok(&["stance", "likely"]);
    assert!(!env.ledger().exists());
    assert_eq!(Env::exec(Env::bare().arg("stance")).code, 2);
}

#[test]
fn unknown_ids_suggest_the_closest_known_ones() {
    let env = story();
    let statement = |party: &'static str, proposition: &'static str| {
        vec![
            "append",
            "statement",
            "--proposition",
            proposition,
            "--party",
            party,
            "--stance",
            "likely",
            "--said-at",
            "2018-11-05",
        ]
    };
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            statement("kremln", "paris-meeting"),
            "error: unknown party `kremln` (did you mean `kremlin`?)\n",
        ),
        (
            statement("trump", "paris-meting"),
            "error: unknown proposition `paris-meting` (did you mean `paris-meeting`?)\n",
        ),
        (
            vec![
                "append",
                "party",
                "ushakov",
                "--name",
                "U",
                "--speaks-for",
                "kremlinn",
            ],
            "error: unknown party `kremlinn` in speaks_for (did you mean `kremlin`?)\n",
        ),
        (
            vec!["positions", "g20"],
            "error: unknown proposition `g20` (did you mean `g20-meeting`?)\n",
        ),
        (
            vec!["history", "paris"],
            "error: unknown proposition `paris` (did you mean `paris-meeting`?)\n",
        ),
        (
            vec!["positions", "--party", "putn"],
            "error: unknown party `putn` (did you mean `putin`?)\n",
        ),
        (
            vec!["history", "g20-meeting", "--party", "bolten"],
            "error: unknown party `bolten` (did you mean `bolton`?)\n",
        ),
        // Nothing close: no hint.
        (
            vec!["history", "zzzzzz"],
            "error: unknown proposition `zzzzzz`\n",
        ),
    ];
    for (args, want) in cases {
        assert_eq!(env.fails(1, &args), want, "{args:?}");
    }
    let mut speaker = statement("trump", "paris-meeting");
    speaker.extend(["--speaker", "peskow"]);
    let err = env.fails(1, &speaker);
    assert!(err.contains("(did you mean `peskov`?)"), "{err}");
}

#[test]
fn every_command_naming_a_proposition_refuses_a_misspelt_one_alike() {
    let env = Env::new();
    env.ok(&["append", "party", "trump", "--name", "Donald Trump"]);
    env.ok(&[
        "append",
        "proposition",
        "g20-meeting",
        "--text",
        "They meet at the G-20",
    ]);
    env.ok(&[
        "append",
        "proposition",
        "paris-meeting",
        "--text",
        "They meet in Paris",
    ]);
    env.ok(&[
        "append",
        "statement",
        "--proposition",
        "g20-meeting",
        "--party",
        "trump",
        "--stance",
        "likely",
        "--said-at",
        "2018-11-05",
    ]);
    let svg = env.file("chart.svg");
    let svg = svg.to_str().expect("a UTF-8 temp path");
    let want = "error: unknown proposition `g20-meting` (did you mean `g20-meeting`?)\n";
    for args in [
        vec!["chart", "g20-meting", "-o", svg],
        vec!["history", "g20-meting"],
        vec!["positions", "g20-meting"],
        vec!["positions", "g20-meting", "--json"],
        vec!["positions", "g20-meting", "--as-of", "2018-11-06"],
    ] {
        assert_eq!(env.fails(1, &args), want, "{args:?}");
    }
    assert!(
        !env.file("chart.svg").exists(),
        "a refused chart writes no file"
    );
    // `report` and `scores` name no proposition: a stray id is a usage error
    // (exit 2) before any lookup, and without it they answer.
    let dir = env.file("report");
    let dir = dir.to_str().expect("a UTF-8 temp path");
    for args in [
        vec!["report", "g20-meting", "-o", dir],
        vec!["scores", "g20-meting"],
    ] {
        assert_eq!(env.run(&args).code, 2, "{args:?}");
    }
    env.ok(&["report", "-o", dir]);
    env.ok(&["scores"]);
}

#[test]
fn bulk_hints_consider_parties_defined_earlier_in_the_file() {
    let env = story();
    let input = concat!(
        r#"{"type":"party","id":"ushakov","name":"Yuri Ushakov","speaks_for":"kremlin"}"#,
        "\n",
        r#"{"type":"statement","proposition":"paris-meeting","speaker":"ushakow","stance":"likely","said_at":"2018-11-07"}"#,
        "\n",
    );
    let r = env.run_stdin(&["append", "--jsonl", "-"], input);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        r.stderr,
        "error: line 2: unknown speaker `ushakow` (did you mean `ushakov`?)\n\
         error: 1 line(s) refused; nothing was appended\n"
    );
}

#[test]
fn an_unknown_stance_is_one_line_listing_the_names_and_exits_1() {
    let env = story();
    let err = env.fails(
        1,
        &[
            "append",
            "statement",
            "--proposition",
            "paris-meeting",
            "--party",
            "trump",
            "--stance",
            "certain",
            "--said-at",
            "2018-11-05",
        ],
    );
    assert_eq!(
        err,
        "error: unknown stance `certain`: expected one of almost-no-chance, very-unlikely, \
         unlikely, even-chance, likely, very-likely, almost-certain, declined \
         (did you mean `almost-certain`?)\n"
    );
}

#[test]
fn scores_csv_has_one_row_per_resolved_proposition_and_party() {
    let env = Env::new();
    env.load_story();
    let rows = read_csv(&env.ok(&["scores", "--csv"]));
    assert_eq!(
        rows[0],
        [
            "proposition",
            "outcome",
            "resolved_at",
            "party",
            "final_credence",
            "final_brier",
            "mean_daily_brier",
            "final_log",
            "statements"
        ]
    );
    let trump_paris = rows
        .iter()
        .find(|r| r[0] == "paris-meeting" && r[3] == "trump")
        .expect("trump's paris-meeting row");
    assert_eq!(trump_paris[1..3], ["happened", "2018-11-11T00:00:00Z"]);
    assert_eq!(trump_paris[5..7], ["0.455625", "0.216151"]);
    env.fails(2, &["scores", "--csv", "--json"]);
}

#[test]
fn a_mistyped_statement_id_suggests_the_recorded_one() {
    let env = story();
    let out = env.ok(&[
        "append",
        "statement",
        "--proposition",
        "paris-meeting",
        "--party",
        "trump",
        "--stance",
        "unlikely",
        "--said-at",
        "2018-11-07",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let id = v["event_id"].as_str().unwrap().to_owned();
    // The last hex digit mistyped: the id sorts right next to the real one.
    let last = id.chars().last().unwrap();
    let typo = format!(
        "{}{}",
        &id[..id.len() - 1],
        if last == '0' { '1' } else { '0' }
    );
    let err = env.fails(
        1,
        &[
            "append",
            "retraction",
            "--statement",
            &typo,
            "--reason",
            "misquoted",
        ],
    );
    assert_eq!(
        err,
        format!("error: unknown statement `{typo}` (did you mean `{id}`?)\n")
    );
}

#[test]
fn the_cache_size_comes_from_the_environment_and_a_bad_one_is_named() {
    let env = Env::new();
    let ok = Env::exec(env.cmd(&["init"]).env("ONRECORD_CACHE_MB", "16"));
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    let bad = Env::exec(env.cmd(&["stats"]).env("ONRECORD_CACHE_MB", "lots"));
    assert_eq!(bad.code, 2);
    assert_eq!(
        bad.stderr,
        "error: invalid ONRECORD_CACHE_MB `lots`: expected a number of mebibytes\n"
    );
}
