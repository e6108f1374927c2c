//! End-to-end tests of the `onrecord` binary: every command, the JSON shapes
//! and every exit code of the CLI contract.

mod util;

use serde_json::{Value, json};
use util::{Env, STORY};

/// Every exported event, parsed.
fn export_lines(env: &Env) -> Vec<Value> {
    env.ok(&["export"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn story() -> Env {
    let env = Env::new();
    env.load_story();
    env
}

#[test]
fn init_creates_a_ledger_and_refuses_a_second_time() {
    let env = Env::new();
    assert!(env.ok(&["init"]).starts_with("created an empty ledger at "));
    let err = env.fails(1, &["init"]);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(env.ok(&["export"]), "");
    assert_eq!(env.json(&["positions", "--json"]), json!([]));
}

#[test]
fn reading_commands_need_a_ledger() {
    let env = Env::new();
    for cmd in [
        &["positions"][..],
        &["history", "p"],
        &["contradictions"],
        &["replay"],
        &["verify"],
        &["export"],
    ] {
        let err = env.fails(1, cmd);
        assert_eq!(
            err,
            format!(
                "error: no ledger at {} (run `onrecord init`)\n",
                env.ledger().display()
            )
        );
    }
}

#[test]
fn the_ledger_path_comes_from_the_environment_when_not_given() {
    let env = Env::new();
    let r = Env::exec(Env::bare().env("ONRECORD_LEDGER", env.ledger()).args([
        "append",
        "party",
        "trump",
        "--name",
        "Donald Trump",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(env.json(&["export"])["id"], "trump");
}

#[test]
fn append_records_every_kind_of_event() {
    let env = Env::new();
    let out = env.ok(&[
        "append",
        "party",
        "kremlin",
        "--name",
        "The Kremlin",
        "--kind",
        "government",
    ]);
    assert!(out.starts_with("appended seq=1 event="), "{out}");
    env.ok(&[
        "append",
        "party",
        "peskov",
        "--name",
        "Dmitry Peskov",
        "--speaks-for",
        "kremlin",
    ]);
    env.ok(&[
        "append",
        "proposition",
        "paris-meeting",
        "--text",
        "They meet in Paris",
        "--criteria",
        "Any talk counts",
        "--window",
        "2018-11-10..2018-11-12",
    ]);
    let id = "01932c07-a3e0-7cc0-8f0e-5a2b4c6d8e9f";
    let v = env.json(&[
        "append",
        "statement",
        "--proposition",
        "paris-meeting",
        "--speaker",
        "peskov",
        "--stance",
        "almost-certain",
        "--credence",
        "0.96",
        "--said-at",
        "2018-11-06",
        "--quote",
        "They will certainly meet",
        "--source",
        "https://example.org/a",
        "--qualifier",
        "brief",
        "--qualifier",
        "insistent",
        "--event-id",
        id,
        "--json",
    ]);
    assert_eq!(v, json!({"status": "appended", "seq": 4, "event_id": id}));
    let out = env.ok(&[
        "append",
        "retraction",
        "--statement",
        id,
        "--reason",
        "misattributed",
    ]);
    assert!(out.starts_with("appended seq=5 event="), "{out}");
    env.ok(&[
        "append",
        "resolution",
        "--proposition",
        "paris-meeting",
        "--outcome",
        "happened",
        "--resolved-at",
        "2018-11-11",
        "--source",
        "https://example.org/b",
        "--note",
        "they spoke",
    ]);
    let lines = export_lines(&env);
    assert_eq!(lines.len(), 6);
    assert_eq!(lines[0]["kind"], "government");
    assert_eq!(lines[1]["speaks_for"], "kremlin");
    assert_eq!(
        lines[2]["window"],
        json!({"from": "2018-11-10", "to": "2018-11-12"})
    );
    assert_eq!(lines[2]["criteria"], "Any talk counts");
    let s = &lines[3];
    assert_eq!(
        (&s["party"], &s["speaker"], &s["credence"], &s["qualifiers"]),
        (
            &json!("kremlin"),
            &json!("peskov"),
            &json!(0.96),
            &json!(["brief", "insistent"])
        )
    );
    assert_eq!(lines[4]["statement"], id);
    assert_eq!(lines[5]["outcome"], "happened");
    assert_eq!(lines[5]["note"], "they spoke");
}

#[test]
fn an_event_id_makes_an_append_idempotent_and_a_different_payload_a_conflict() {
    let env = Env::new();
    let id = "01932c07-a3e0-7cc0-8f0e-5a2b4c6d8e9f";
    let args = [
        "append",
        "party",
        "trump",
        "--name",
        "Donald Trump",
        "--event-id",
        id,
    ];
    assert_eq!(env.ok(&args), format!("appended seq=1 event={id}\n"));
    assert_eq!(
        env.ok(&args),
        format!("already recorded seq=1 event={id}\n")
    );
    let mut json_args = args.to_vec();
    json_args.push("--json");
    assert_eq!(
        env.json(&json_args),
        json!({"status": "already-recorded", "seq": 1, "event_id": id})
    );
    let err = env.fails(
        3,
        &[
            "append",
            "party",
            "trump",
            "--name",
            "Trump",
            "--event-id",
            id,
        ],
    );
    assert!(err.contains(id), "{err}");
}

#[test]
fn an_unmet_expected_revision_is_a_conflict() {
    let env = Env::new();
    env.ok(&[
        "append",
        "party",
        "trump",
        "--name",
        "T",
        "--expect-revision",
        "no-stream",
    ]);
    env.ok(&[
        "append",
        "proposition",
        "p",
        "--text",
        "T",
        "--expect-revision",
        "no-stream",
    ]);
    let statement = [
        "append",
        "statement",
        "--proposition",
        "p",
        "--party",
        "trump",
        "--stance",
        "likely",
        "--said-at",
        "2018-11-05",
    ];
    let mut wrong = statement.to_vec();
    wrong.extend(["--expect-revision", "5"]);
    let err = env.fails(3, &wrong);
    assert!(err.contains("wrong expected revision"), "{err}");
    let mut right = statement.to_vec();
    right.extend(["--expect-revision", "0"]);
    env.ok(&right);
    let mut exists = statement.to_vec();
    exists.extend(["--expect-revision", "no-stream"]);
    let err = env.fails(3, &exists);
    assert!(err.contains("expected no-stream, actual 1"), "{err}");
    let err = env.fails(
        1,
        &[
            "append",
            "party",
            "x",
            "--name",
            "X",
            "--expect-revision",
            "maybe",
        ],
    );
    assert!(err.contains("`maybe`"), "{err}");
}

#[test]
fn invalid_input_and_unknown_ids_exit_1_naming_the_value() {
    let env = story();
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "append",
                "statement",
                "--proposition",
                "paris-meeting",
                "--party",
                "nobody",
                "--stance",
                "likely",
                "--said-at",
                "2018-11-05",
            ],
            "unknown party `nobody`",
        ),
        (
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
            "unknown stance `certain`",
        ),
        (
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
                "2018-11-31",
            ],
            "invalid time `2018-11-31`",
        ),
        (
            &[
                "append",
                "statement",
                "--proposition",
                "paris-meeting",
                "--party",
                "trump",
                "--stance",
                "likely",
                "--credence",
                "0.9",
                "--said-at",
                "2018-11-05",
            ],
            "credence 0.9",
        ),
        (
            &["append", "party", "Trump", "--name", "T"],
            "invalid party id `Trump`",
        ),
        (&["positions", "nope"], "unknown proposition `nope`"),
        (
            &["positions", "--party", "nobody"],
            "unknown party `nobody`",
        ),
        (&["history", "nope"], "unknown proposition `nope`"),
        (
            &["positions", "--as-of", "yesterday"],
            "invalid time `yesterday`",
        ),
        (
            &["append", "--jsonl", "/nonexistent/file.jsonl"],
            "/nonexistent/file.jsonl",
        ),
    ];
    for (args, needle) in cases {
        let err = env.fails(1, args);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    // Nothing was appended by the refused commands.
    assert_eq!(export_lines(&env).len(), 17);
}

#[test]
fn usage_errors_exit_2() {
    let env = Env::new();
    for args in [
        &["positions", "--bogus"][..],
        &[],
        &["frobnicate"],
        &["append", "party", "x"],
        &["replay", "--from", "abc"],
    ] {
        assert_eq!(env.run(args).code, 2, "{args:?}");
    }
    let r = env.run(&["append"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.starts_with("error:"), "{}", r.stderr);
}

#[test]
fn help_documents_exit_codes_and_the_ledger_path() {
    let r = Env::exec(Env::bare().arg("--help"));
    assert_eq!(r.code, 0);
    for needle in [
        "Exit codes",
        "ONRECORD_LEDGER",
        "onrecord.ledger",
        "5  damage",
        "4  the ledger is busy",
    ] {
        assert!(r.stdout.contains(needle), "{needle}: {}", r.stdout);
    }
}

#[test]
fn positions_as_of_the_sixth_show_the_paris_contradiction() {
    let env = story();
    let v = env.json(&[
        "positions",
        "paris-meeting",
        "--as-of",
        "2018-11-06",
        "--json",
    ]);
    let kremlin_statement = v["positions"][0]["statement"].as_str().unwrap().to_owned();
    let trump_statement = v["positions"][1]["statement"].as_str().unwrap().to_owned();
    assert_eq!(
        v,
        json!({
            "proposition": "paris-meeting",
            "positions": [
                {"party": "kremlin", "stance": "almost-certain", "credence": 0.97,
                 "said_at": "2018-11-06T00:00:00Z", "speaker": "peskov",
                 "statement": kremlin_statement, "quote": "They will certainly meet",
                 "statements": 2, "flips": 0},
                {"party": "trump", "stance": "unlikely", "credence": 0.325,
                 "said_at": "2018-11-05T00:00:00Z", "speaker": "trump",
                 "statement": trump_statement,
                 "quote": "We haven't set anything up yet. We don't know that that's going to be the right place. I'm going to be in Paris for other reasons... probably not.",
                 "statements": 2, "flips": 1}
            ],
            "contradictions": [{"parties": ["kremlin", "trump"], "spread": 0.645}]
        })
    );
    // The statement ids are the events' ids.
    let lines = export_lines(&env);
    assert_eq!(lines[12]["event_id"], json!(kremlin_statement));
    assert_eq!(lines[10]["event_id"], json!(trump_statement));

    // On the 5th the Kremlin's position was still Putin's "likely".
    let v = env.json(&[
        "positions",
        "paris-meeting",
        "--as-of",
        "2018-11-05",
        "--json",
    ]);
    assert_eq!(v["positions"][0]["speaker"], "putin");
    assert_eq!(
        v["contradictions"],
        json!([{"parties": ["kremlin", "trump"], "spread": 0.35}])
    );
}

#[test]
fn positions_without_a_proposition_are_an_array_and_party_filters_positions_only() {
    let env = story();
    let v = env.json(&["positions", "--json"]);
    let props: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["proposition"].as_str().unwrap())
        .collect();
    assert_eq!(props, ["g20-meeting", "paris-meeting"]);
    assert_eq!(
        v[0]["contradictions"],
        json!([{"parties": ["kremlin", "trump"], "spread": 0.94}])
    );
    assert_eq!(v[0]["positions"][1]["stance"], "almost-no-chance");
    assert_eq!(v[0]["positions"][1]["flips"], 1);

    let v = env.json(&["positions", "--party", "trump", "--json"]);
    for p in v.as_array().unwrap() {
        assert_eq!(p["positions"].as_array().unwrap().len(), 1);
        assert_eq!(p["positions"][0]["party"], "trump");
        assert_eq!(p["contradictions"].as_array().unwrap().len(), 1);
    }

    let text = env.ok(&["positions"]);
    let header = text.lines().next().unwrap();
    for col in [
        "PROPOSITION",
        "PARTY",
        "STANCE",
        "CREDENCE",
        "SAID",
        "SPEAKER",
        "QUOTE",
    ] {
        assert!(header.contains(col), "{header}");
    }
    assert!(
        text.lines().any(|l| l.split_whitespace().take(4).eq([
            "paris-meeting",
            "trump",
            "unlikely",
            "32.5%"
        ])),
        "{text}"
    );
    assert!(text.contains("kremlin vs trump  64.5 pts"), "{text}");
    assert!(text.contains('…'), "quotes are shortened: {text}");
    assert!(!text.contains('\x1b'), "no colour with NO_COLOR");
}

#[test]
fn a_declined_position_has_a_null_credence() {
    let env = story();
    env.ok(&[
        "append",
        "statement",
        "--proposition",
        "g20-meeting",
        "--party",
        "trump",
        "--stance",
        "declined",
        "--said-at",
        "2018-11-30",
    ]);
    let v = env.json(&["positions", "g20-meeting", "--party", "trump", "--json"]);
    assert_eq!(v["positions"][0]["credence"], Value::Null);
    assert_eq!(v["positions"][0]["quote"], Value::Null);
    assert_eq!(v["contradictions"], json!([]));
}

#[test]
fn contradictions_list_every_pair_by_proposition() {
    let env = story();
    assert_eq!(
        env.json(&["contradictions", "--json"]),
        json!([
            {"proposition": "g20-meeting", "parties": ["kremlin", "trump"], "spread": 0.94},
            {"proposition": "paris-meeting", "parties": ["kremlin", "trump"], "spread": 0.645}
        ])
    );
    assert_eq!(
        env.json(&["contradictions", "--as-of", "2018-11-04", "--json"]),
        json!([])
    );
    let text = env.ok(&["contradictions"]);
    assert!(text.starts_with("PROPOSITION"), "{text}");
    assert!(
        text.contains("g20-meeting    kremlin vs trump  94 pts"),
        "{text}"
    );
}

#[test]
fn history_lists_statements_in_the_order_said() {
    let env = story();
    let v = env.json(&["history", "g20-meeting", "--party", "trump", "--json"]);
    let entries = v.as_array().unwrap();
    assert_eq!(entries.len(), 2);
    let e = &entries[0];
    let keys: Vec<&str> = e.as_object().unwrap().keys().map(String::as_str).collect();
    let mut expected = [
        "seq",
        "statement",
        "party",
        "speaker",
        "stance",
        "credence",
        "said_at",
        "quote",
        "source",
        "retracted",
    ];
    expected.sort();
    assert_eq!(keys, expected);
    assert_eq!(
        (
            &e["seq"],
            &e["stance"],
            &e["credence"],
            &e["said_at"],
            &e["retracted"]
        ),
        (
            &json!(12),
            &json!("almost-certain"),
            &json!(0.97),
            &json!("2018-11-05T00:00:00Z"),
            &json!(false)
        )
    );
    assert_eq!(entries[1]["stance"], "almost-no-chance");
    let all = env.json(&["history", "paris-meeting", "--json"]);
    let seqs: Vec<u64> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [8, 9, 11, 13]);
    let text = env.ok(&["history", "g20-meeting", "--party", "trump"]);
    assert!(text.lines().next().unwrap().starts_with("SEQ"), "{text}");
    assert!(text.contains("almost-no-chance  3%"), "{text}");
}

#[test]
fn a_retraction_removes_a_statement_from_positions() {
    let env = story();
    let v = env.json(&["positions", "paris-meeting", "--party", "kremlin", "--json"]);
    let peskov = v["positions"][0]["statement"].as_str().unwrap().to_owned();
    env.ok(&[
        "append",
        "retraction",
        "--statement",
        &peskov,
        "--reason",
        "misattributed",
    ]);
    let v = env.json(&["positions", "paris-meeting", "--party", "kremlin", "--json"]);
    assert_eq!(v["positions"][0]["speaker"], "putin");
    assert_eq!(v["positions"][0]["statements"], 1);
    assert_eq!(
        v["contradictions"],
        json!([{"parties": ["kremlin", "trump"], "spread": 0.35}])
    );
    let h = env.json(&["history", "paris-meeting", "--party", "kremlin", "--json"]);
    assert_eq!(h[1]["statement"], json!(peskov));
    assert_eq!(h[1]["retracted"], true);
    // Folding the log (any time filter) agrees with the kept view.
    let folded = env.json(&[
        "positions",
        "paris-meeting",
        "--party",
        "kremlin",
        "--at-seq",
        "1000",
        "--json",
    ]);
    assert_eq!(folded, v);
    // Retracting twice is refused.
    let err = env.fails(
        1,
        &[
            "append",
            "retraction",
            "--statement",
            &peskov,
            "--reason",
            "again",
        ],
    );
    assert!(err.contains(&peskov), "{err}");
}

#[test]
fn time_travel_by_seq_and_by_transaction_time() {
    let env = story();
    // At seq 12 the Kremlin had only Putin's "likely" on Paris.
    let v = env.json(&["positions", "paris-meeting", "--at-seq", "12", "--json"]);
    assert_eq!(v["positions"][0]["credence"], 0.675);
    assert_eq!(v["contradictions"][0]["spread"], 0.35);
    // At seq 5 no proposition was open yet.
    assert_eq!(
        env.json(&["positions", "--at-seq", "5", "--json"]),
        json!([])
    );

    let story_recorded_at = export_lines(&env)[16]["recorded_at"]
        .as_str()
        .unwrap()
        .to_owned();
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
        "2018-11-30",
    ]);
    let now = env.json(&["positions", "g20-meeting", "--party", "trump", "--json"]);
    assert_eq!(now["positions"][0]["stance"], "likely");
    let then = env.json(&[
        "positions",
        "g20-meeting",
        "--party",
        "trump",
        "--known-at",
        &story_recorded_at,
        "--json",
    ]);
    assert_eq!(then["positions"][0]["stance"], "almost-no-chance");
    assert_eq!(
        env.json(&["positions", "--known-at", "2000-01-01", "--json"]),
        json!([])
    );
    assert_eq!(
        env.json(&["contradictions", "--known-at", &story_recorded_at, "--json"])
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn replay_prints_the_log_as_text_or_json_lines() {
    let env = story();
    let text = env.ok(&["replay"]);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 18);
    assert!(lines[0].contains("SEQ") && lines[0].contains("TYPE") && lines[0].contains("SUMMARY"));
    assert!(
        lines[1].contains("party") && lines[1].contains("trump \"Donald Trump\" (person)"),
        "{}",
        lines[1]
    );
    assert!(
        lines[13].contains("statement")
            && lines[13].contains("paris-meeting kremlin: almost-certain 97%"),
        "{}",
        lines[13]
    );
    assert!(
        lines[17].contains("resolution") && lines[17].contains("g20-meeting did-not-happen"),
        "{}",
        lines[17]
    );

    let json_lines = env.ok(&["replay", "--json", "--from", "6", "--to", "7"]);
    let seqs: Vec<u64> = json_lines
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["seq"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(seqs, [6, 7]);
    let export = env.ok(&["export"]);
    assert_eq!(env.ok(&["replay", "--json"]), export);
    assert_eq!(env.ok(&["replay", "--from", "16"]).lines().count(), 3);
}

#[test]
fn rebuilding_the_views_gives_identical_positions() {
    let env = story();
    let before = env.ok(&["positions", "--json"]);
    let r = env.run(&["replay", "--rebuild", "--from", "1", "--to", "0"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("rebuilt the kept views from 17 records"),
        "{}",
        r.stderr
    );
    assert_eq!(env.ok(&["positions", "--json"]), before);
}

#[test]
fn verify_reports_the_head() {
    let env = story();
    let out = env.ok(&["verify"]);
    assert!(
        out.starts_with("ok: 17 records, chain and indexes verified, head seq=17 hash="),
        "{out}"
    );
    assert_eq!(out.trim_end().rsplit("hash=").next().unwrap().len(), 64);
}

#[test]
fn verify_exits_5_on_damage() {
    let env = story();
    {
        let db = onrecord_sled::RawLedger::open(env.ledger()).unwrap();
        let key = onrecord_ledger::keys::record(3);
        let mut bytes = db.get(key).unwrap().unwrap().to_vec();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x01;
        db.insert(key, bytes).unwrap();
        db.flush().unwrap();
    }
    let err = env.fails(5, &["verify"]);
    assert!(err.starts_with("error: damage at seq 3: "), "{err}");
    assert_eq!(err.lines().count(), 1);
}

#[test]
fn export_then_import_gives_identical_positions_and_ids_and_reimport_appends_nothing() {
    let a = story();
    let export = a.ok(&["export"]);
    let file = a.file("export.jsonl");
    std::fs::write(&file, &export).unwrap();

    let b = Env::new();
    let out = b.ok(&["append", "--jsonl", file.to_str().unwrap()]);
    assert_eq!(out, "appended 17, already recorded 0\n");
    assert_eq!(
        b.ok(&["positions", "--json"]),
        a.ok(&["positions", "--json"])
    );
    let ids = |env: &Env| -> Vec<Value> {
        export_lines(env)
            .into_iter()
            .map(|l| l["event_id"].clone())
            .collect()
    };
    assert_eq!(ids(&b), ids(&a));

    let again = b.json(&["append", "--jsonl", file.to_str().unwrap(), "--json"]);
    assert_eq!(
        again,
        json!({"status": "ok", "appended": 0, "already_recorded": 17})
    );
    assert_eq!(export_lines(&b).len(), 17);

    // The same id with other content is a conflict, and nothing is written.
    let changed = export.replacen("\"name\":\"Donald Trump\"", "\"name\":\"D. Trump\"", 1);
    let r = b.run_stdin(&["append", "--jsonl", "-"], changed);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.starts_with("error: line 1: event "),
        "{}",
        r.stderr
    );
}

#[test]
fn a_bulk_file_with_a_bad_line_appends_nothing_and_names_the_line() {
    let env = Env::new();
    let bad = STORY.replacen("\"stance\":\"likely\"", "\"stance\":\"probable\"", 1);
    let r = env.run_stdin(&["append", "--jsonl", "-"], bad);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .starts_with("error: line 8: unknown stance `probable`"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("nothing was appended"), "{}", r.stderr);
    env.fails(1, &["export"]);

    // A line that parses but breaks a rule (its party is unknown) is named too.
    let unknown = STORY.replacen("\"speaker\":\"bolton\"", "\"speaker\":\"boltn\"", 1);
    let r = env.run_stdin(&["append", "--jsonl", "-"], unknown);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .starts_with("error: line 9: unknown speaker `boltn`"),
        "{}",
        r.stderr
    );
    assert_eq!(env.ok(&["export"]), "");

    // Many bad lines: the first 20, then a count.
    let many = "{}\n".repeat(25);
    let r = env.run_stdin(&["append", "--jsonl", "-"], many);
    assert_eq!(r.code, 1);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 22, "{}", r.stderr);
    assert!(lines[19].starts_with("error: line 20: "));
    assert_eq!(lines[20], "error: ... and 5 more");
}

#[test]
fn bulk_input_tolerates_a_bom_crlf_and_blank_lines_but_not_bad_utf8_or_long_lines() {
    let env = Env::new();
    let crlf = format!("\u{feff}{}\r\n\r\n", STORY.replace('\n', "\r\n\r\n"));
    let r = env.run_stdin(&["append", "--jsonl", "-"], crlf);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "appended 17, already recorded 0\n");

    let other = Env::new();
    let mut bytes = b"{\"type\":\"party\",\"id\":\"a\",\"name\":\"A\"}\n".to_vec();
    bytes.extend_from_slice(b"{\"type\":\"party\",\"id\":\"b\",\"name\":\"\xff\"}\n");
    let r = other.run_stdin(&["append", "--jsonl", "-"], bytes);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .starts_with("error: line 2: line is not valid UTF-8"),
        "{}",
        r.stderr
    );

    let long = format!(
        "{{\"type\":\"party\",\"id\":\"a\",\"name\":\"{}\"}}\n",
        "x".repeat(1 << 20)
    );
    let r = other.run_stdin(&["append", "--jsonl", "-"], long);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.starts_with("error: line 1: longer than 1 MiB"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_busy_ledger_exits_4() {
    let env = story();
    let held = onrecord_sled::open(env.ledger(), &Default::default()).unwrap();
    let err = env.fails(4, &["positions"]);
    assert!(err.contains("in use by another process"), "{err}");
    let err = env.fails(4, &["append", "party", "x", "--name", "X"]);
    assert!(err.contains(&env.ledger().display().to_string()), "{err}");
    let r = Env::exec(
        env.cmd(&["--busy-wait", "0", "verify"])
            .env_remove("ONRECORD_BUSY_WAIT_MS"),
    );
    assert_eq!(r.code, 4, "{}", r.stderr);
    drop(held);
    env.ok(&["verify"]);
}

#[test]
fn the_demo_tells_the_2018_story() {
    let r = Env::exec(Env::bare().arg("demo"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out = r.stdout;
    assert!(out.contains("Positions as of 2018-11-06"), "{out}");
    assert!(
        out.contains("paris-meeting  kremlin vs trump  64.5 pts"),
        "{out}"
    );
    assert!(out.contains("Current positions"), "{out}");
    assert!(out.contains("history on g20-meeting"), "{out}");
    assert!(out.contains("almost-no-chance"), "{out}");

    // With --ledger the story stays there.
    let env = Env::new();
    env.ok(&["demo"]);
    assert_eq!(export_lines(&env).len(), 17);
    env.fails(1, &["demo"]);
}
