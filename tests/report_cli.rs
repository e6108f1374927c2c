//! End-to-end tests of the scoring and report commands (issue 6): `scores`,
//! `calibration`, `chart` and `report`, on the Armistice 2018 demo ledger,
//! including the report rendered by a real headless browser.

mod util;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use util::Env;

fn story() -> Env {
    let env = Env::new();
    env.load_story();
    env
}

/// The scores of `party` on `proposition` in a `scores --json` value.
fn party_scores<'a>(v: &'a Value, proposition: &str, party: &str) -> &'a Value {
    let p = v["propositions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["proposition"] == proposition)
        .unwrap_or_else(|| panic!("no {proposition} in {v}"));
    p["parties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["party"] == party)
        .unwrap_or_else(|| panic!("no {party} on {proposition} in {v}"))
}

#[test]
fn scores_pin_the_paris_worked_example() {
    let env = story();
    let v = env.json(&["scores", "--json"]);
    let paris = v["propositions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["proposition"] == "paris-meeting")
        .unwrap();
    assert_eq!(paris["outcome"], "happened");
    assert_eq!(paris["resolved_at"], "2018-11-11T00:00:00Z");
    assert_eq!(
        party_scores(&v, "paris-meeting", "trump"),
        &json!({"party":"trump","final_credence":0.325,"final_brier":0.455625,
                "mean_daily_brier":0.216151,"final_log":-1.12393,"statements":2})
    );
    assert_eq!(
        party_scores(&v, "paris-meeting", "kremlin"),
        &json!({"party":"kremlin","final_credence":0.97,"final_brier":0.0009,
                "mean_daily_brier":0.078066,"final_log":-0.030459,"statements":2})
    );
    let g20 = &v["propositions"][0];
    assert_eq!(g20["proposition"], "g20-meeting");
    assert_eq!(g20["outcome"], "did-not-happen");
    assert_eq!(g20["resolved_at"], "2018-12-01T00:00:00Z");
    // The leaderboard: best mean daily Brier first, over both propositions.
    assert_eq!(
        v["parties"],
        json!([
            {"party":"kremlin","propositions":2,"mean_final_brier":0.4709,
             "mean_daily_brier":0.427889,"mean_final_log":-1.768509},
            {"party":"trump","propositions":2,"mean_final_brier":0.228263,
             "mean_daily_brier":0.542372,"mean_final_log":-0.577195},
        ])
    );
}

#[test]
fn scores_json_keys_come_in_contract_order() {
    let env = story();
    let out = env.ok(&["scores", "--json"]);
    assert!(
        out.starts_with(
            r#"{"propositions":[{"proposition":"g20-meeting","outcome":"did-not-happen","resolved_at":"2018-12-01T00:00:00Z","parties":[{"party":"kremlin","final_credence":0.97,"final_brier":0.9409,"mean_daily_brier":0.777713,"final_log":-3.506558,"statements":2},"#
        ),
        "{out}"
    );
    assert!(
        out.ends_with(
            r#"],"parties":[{"party":"kremlin","propositions":2,"mean_final_brier":0.4709,"mean_daily_brier":0.427889,"mean_final_log":-1.768509},{"party":"trump","propositions":2,"mean_final_brier":0.228263,"mean_daily_brier":0.542372,"mean_final_log":-0.577195}]}
"#
        ),
        "{out}"
    );
}

#[test]
fn scores_as_tables_with_a_leaderboard() {
    let env = story();
    let out = env.ok(&["scores"]);
    let lines: Vec<&str> = out.lines().collect();
    let paris = lines
        .iter()
        .position(|l| *l == "paris-meeting: happened on 2018-11-11")
        .unwrap_or_else(|| panic!("{out}"));
    assert_eq!(
        &lines[paris + 1..paris + 4],
        [
            "PARTY    CREDENCE  FINAL BRIER  DAILY BRIER  FINAL LOG  STMTS",
            "kremlin  97%       0.000900     0.078066     -0.030459  2",
            "trump    32.5%     0.455625     0.216151     -1.123930  2",
        ]
    );
    assert!(
        lines.contains(&"g20-meeting: did-not-happen on 2018-12-01"),
        "{out}"
    );
    let board = lines
        .iter()
        .position(|l| l.starts_with("Leaderboard"))
        .unwrap();
    assert_eq!(
        &lines[board + 1..],
        [
            "RANK  PARTY    PROPS  DAILY BRIER  FINAL BRIER  FINAL LOG",
            "1     kremlin  2      0.427889     0.470900     -1.768509",
            "2     trump    2      0.542372     0.228263     -0.577195",
        ]
    );
}

#[test]
fn scores_travel_in_time() {
    let env = story();
    // Before either outcome was fact, nothing is scored.
    assert_eq!(
        env.ok(&["scores", "--as-of", "2018-11-10"]),
        "no resolved propositions\n"
    );
    assert_eq!(
        env.json(&["scores", "--as-of", "2018-11-10", "--json"]),
        json!({"propositions":[],"parties":[]})
    );
    // As of 2018-11-11 only paris-meeting has resolved: the worked example alone.
    let v = env.json(&["scores", "--as-of", "2018-11-11", "--json"]);
    assert_eq!(v["propositions"].as_array().unwrap().len(), 1);
    let names: Vec<&Value> = v["parties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["party"])
        .collect();
    assert_eq!(names, ["kremlin", "trump"]);
    assert_eq!(v["parties"][0]["mean_daily_brier"], 0.078066);
    assert_eq!(v["parties"][1]["mean_daily_brier"], 0.216151);
    // Up to seq 16 the g20 resolution (seq 17) is not yet recorded.
    let v = env.json(&["scores", "--at-seq", "16", "--json"]);
    assert_eq!(v["propositions"][0]["proposition"], "paris-meeting");
    assert_eq!(v["propositions"].as_array().unwrap().len(), 1);
    // Nothing was recorded by 2000.
    let v = env.json(&["scores", "--known-at", "2000-01-01", "--json"]);
    assert_eq!(v, json!({"propositions":[],"parties":[]}));
}

#[test]
fn calibration_counts_every_band_on_the_demo() {
    let env = story();
    assert_eq!(
        env.json(&["calibration", "--json"]),
        json!([
            {"stance":"almost-no-chance","low":0.01,"high":0.05,"statements":1,"happened":0,"share":0.0},
            {"stance":"very-unlikely","low":0.05,"high":0.2,"statements":0,"happened":0,"share":null},
            {"stance":"unlikely","low":0.2,"high":0.45,"statements":1,"happened":1,"share":1.0},
            {"stance":"even-chance","low":0.45,"high":0.55,"statements":0,"happened":0,"share":null},
            {"stance":"likely","low":0.55,"high":0.8,"statements":2,"happened":2,"share":1.0},
            {"stance":"very-likely","low":0.8,"high":0.95,"statements":1,"happened":0,"share":0.0},
            {"stance":"almost-certain","low":0.95,"high":0.99,"statements":3,"happened":1,"share":0.333333},
        ])
    );
    let out = env.ok(&["calibration"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "STANCE            BAND     STMTS  HAPPENED  SHARE"
    );
    assert_eq!(lines[2], "very-unlikely     5%-20%   0      0         -");
    assert_eq!(lines[5], "likely            55%-80%  2      2         100%");
    assert_eq!(
        lines[7],
        "almost-certain    95%-99%  3      1         33.3%"
    );
    // As of the Paris resolution: only its four statements count.
    let v = env.json(&["calibration", "--as-of", "2018-11-11", "--json"]);
    let counts: Vec<u64> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["statements"].as_u64().unwrap())
        .collect();
    assert_eq!(counts, [0, 0, 1, 0, 2, 0, 1]);
}

#[test]
fn scoring_commands_on_an_empty_ledger() {
    let env = Env::new();
    env.ok(&["init"]);
    assert_eq!(
        env.json(&["scores", "--json"]),
        json!({"propositions":[],"parties":[]})
    );
    let v = env.json(&["calibration", "--json"]);
    assert_eq!(v.as_array().unwrap().len(), 7);
    assert!(v.as_array().unwrap().iter().all(|r| r["share"].is_null()));
}

#[test]
fn the_new_commands_need_a_ledger() {
    let env = Env::new();
    let svg = env.file("c.svg");
    let dir = env.file("site");
    for cmd in [
        &["scores"][..],
        &["calibration"],
        &["chart", "paris-meeting", "-o", svg.to_str().unwrap()],
        &["report", "-o", dir.to_str().unwrap()],
    ] {
        let err = env.fails(1, cmd);
        assert!(err.contains("no ledger at"), "{cmd:?}: {err}");
    }
    assert!(!svg.exists() && !dir.exists());
}

/// Parses markup as XML (the report's doctype included).
fn parse(text: &str) -> roxmltree::Document<'_> {
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..roxmltree::ParsingOptions::default()
    };
    roxmltree::Document::parse_with_options(text, options)
        .unwrap_or_else(|e| panic!("not well-formed: {e}"))
}

/// The `data-party` of every element of `tag` with `class`.
fn parties_of(doc: &roxmltree::Document<'_>, tag: &str, class: &str) -> Vec<String> {
    doc.descendants()
        .filter(|n| n.has_tag_name(tag) && n.attribute("class") == Some(class))
        .map(|n| n.attribute("data-party").unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn chart_writes_one_line_per_party_and_one_marker_per_counted_statement() {
    let env = story();
    let path = env.file("paris.svg");
    let out = env.ok(&["chart", "paris-meeting", "-o", path.to_str().unwrap()]);
    assert_eq!(out, format!("wrote {}\n", path.display()));
    let svg = std::fs::read_to_string(&path).unwrap();
    let doc = parse(&svg);
    let root = doc.root_element();
    assert!(root.has_tag_name(("http://www.w3.org/2000/svg", "svg")));
    assert_eq!(root.attribute("data-proposition"), Some("paris-meeting"));
    assert_eq!(parties_of(&doc, "path", "party-line"), ["kremlin", "trump"]);
    // putin and peskov for the kremlin, bolton and trump for trump.
    assert_eq!(
        parties_of(&doc, "circle", "statement"),
        ["kremlin", "kremlin", "trump", "trump"]
    );
    let resolution = doc
        .descendants()
        .find(|n| n.attribute("class") == Some("resolution"))
        .unwrap();
    assert_eq!(resolution.attribute("data-outcome"), Some("happened"));

    // As of 5 November: Peskov has not spoken yet and the outcome is unknown.
    let early = env.file("early.svg");
    env.ok(&[
        "chart",
        "paris-meeting",
        "-o",
        early.to_str().unwrap(),
        "--as-of",
        "2018-11-05",
    ]);
    let svg = std::fs::read_to_string(&early).unwrap();
    let doc = parse(&svg);
    assert_eq!(
        parties_of(&doc, "circle", "statement"),
        ["kremlin", "trump", "trump"]
    );
    assert!(
        doc.descendants()
            .all(|n| n.attribute("class") != Some("resolution"))
    );
}

#[test]
fn chart_and_history_refuse_an_unknown_proposition_with_the_same_hint() {
    let env = story();
    let path = env.file("x.svg");
    let chart = env.fails(1, &["chart", "paris-meetin", "-o", path.to_str().unwrap()]);
    let history = env.fails(1, &["history", "paris-meetin"]);
    assert_eq!(
        chart,
        "error: unknown proposition `paris-meetin` (did you mean `paris-meeting`?)\n"
    );
    assert_eq!(chart, history);
}

#[test]
fn chart_of_an_unknown_proposition_exits_1_naming_it() {
    let env = story();
    let path = env.file("x.svg");
    let err = env.fails(1, &["chart", "paris-meetin", "-o", path.to_str().unwrap()]);
    assert!(err.contains("unknown proposition `paris-meetin`"), "{err}");
    assert!(!path.exists());
    let err = env.fails(1, &["chart", "Not An Id", "-o", path.to_str().unwrap()]);
    assert!(err.contains("Not An Id"), "{err}");
    // An unwritable output is named too.
    let bad = env.file("no-such-dir/x.svg");
    let err = env.fails(1, &["chart", "paris-meeting", "-o", bad.to_str().unwrap()]);
    assert!(
        err.contains("cannot write") && err.contains("no-such-dir"),
        "{err}"
    );
}

#[test]
fn the_committed_demo_charts_are_what_the_command_writes() {
    let env = story();
    for id in ["paris-meeting", "g20-meeting"] {
        let path = env.file(&format!("{id}.svg"));
        env.ok(&["chart", id, "-o", path.to_str().unwrap()]);
        let fresh = std::fs::read_to_string(&path).unwrap();
        let committed = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("docs/{id}.svg")),
        )
        .unwrap();
        assert!(
            fresh == committed,
            "docs/{id}.svg is stale: regenerate it with `onrecord chart {id} -o docs/{id}.svg` on the demo ledger"
        );
    }
}

/// Writes the demo's report into a fresh directory and returns the page's path.
fn demo_report(env: &Env) -> PathBuf {
    let dir = env.file("site/nested");
    let out = env.ok(&["report", "-o", dir.to_str().unwrap()]);
    let page = dir.join("index.html");
    assert_eq!(out, format!("wrote {}\n", page.display()));
    page
}

#[test]
fn report_writes_a_self_contained_page() {
    let env = story();
    let page = demo_report(&env);
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("<h1>onrecord report</h1>"));
    assert!(html.contains("17 events in the ledger."), "caption");
    assert!(!html.contains("<script") && !html.contains("<link"));
    let doc = parse(&html);
    let ids: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("h2"))
        .filter_map(|n| n.attribute("id"))
        .collect();
    assert_eq!(
        ids,
        [
            "prop-g20-meeting",
            "prop-paris-meeting",
            "leaderboard",
            "calibration"
        ]
    );
    let section = doc
        .descendants()
        .find(|n| {
            n.has_tag_name("section") && n.attribute("data-proposition") == Some("paris-meeting")
        })
        .unwrap();
    let tables: Vec<&str> = section
        .descendants()
        .filter(|n| n.has_tag_name("table"))
        .filter_map(|n| n.attribute("class"))
        .collect();
    assert_eq!(tables, ["positions", "scores", "history"]);
    assert_eq!(
        section
            .descendants()
            .filter(|n| n.has_tag_name("svg"))
            .count(),
        1
    );
    let board: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("table") && n.attribute("class") == Some("leaderboard"))
        .flat_map(|t| t.descendants())
        .filter_map(|n| n.attribute("data-party"))
        .collect();
    assert_eq!(board, ["kremlin", "trump"]);

    // Time travel reaches the report too: as of 6 November nothing is resolved.
    let dir = env.file("early");
    env.ok(&[
        "report",
        "-o",
        dir.to_str().unwrap(),
        "--as-of",
        "2018-11-06",
    ]);
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(html.contains("shown as of 2018-11-06"));
    assert!(!html.contains("class=\"scores\""));
    assert!(html.contains("No resolved propositions yet."));
}

#[test]
fn report_shows_names_sources_qualifiers_retractions_and_each_history() {
    let env = story();
    // A source that is not a web URL, one with another scheme, qualifiers, and a retraction.
    let statement = |stance: &str, said_at: &str, source: &str| {
        json!({"type":"statement","proposition":"paris-meeting","party":"trump","stance":stance,
               "said_at":said_at,"quote":"<b>We shall see</b>","source":source,
               "qualifiers":["if asked","brief"]})
        .to_string()
    };
    let r = env.run_stdin(
        &["append", "--jsonl", "-"],
        format!(
            "{}\n{}\n",
            statement("even-chance", "2018-11-08", "Press pool notes, 8 Nov"),
            statement("likely", "2018-11-09", "javascript:alert(1)"),
        ),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let export = env.ok(&["export"]);
    let retracted = export
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["said_at"] == "2018-11-09T00:00:00Z" || v["said_at"] == "2018-11-09")
        .unwrap_or_else(|| panic!("{export}"));
    let id = retracted["event_id"].as_str().unwrap();
    let retraction = json!({"type":"retraction","statement":id,"reason":"misattributed <i>x</i>"});
    let r = env.run_stdin(&["append", "--jsonl", "-"], retraction.to_string());
    assert_eq!(r.code, 0, "{}", r.stderr);

    let page = demo_report(&env);
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!html.contains("<b>") && !html.contains("<i>"), "escaped");
    assert!(
        !html.contains("href=\"javascript"),
        "no other scheme is a link"
    );
    let doc = parse(&html);
    let section = doc
        .descendants()
        .find(|n| {
            n.has_tag_name("section") && n.attribute("data-proposition") == Some("paris-meeting")
        })
        .unwrap();
    let text = |n: roxmltree::Node<'_, '_>| -> String {
        n.descendants()
            .filter(|d| d.is_text())
            .filter_map(|d| d.text())
            .collect()
    };
    let position = section
        .descendants()
        .find(|n| {
            n.has_tag_name("tr")
                && n.attribute("data-party") == Some("trump")
                && n.ancestors()
                    .any(|a| a.attribute("class") == Some("positions"))
        })
        .unwrap();
    let cells: Vec<String> = position
        .children()
        .filter(|c| c.is_element())
        .map(text)
        .collect();
    // The retracted statement does not count: the even-chance one is current.
    assert_eq!(
        cells,
        [
            "Donald Trump trump",
            "even-chance",
            "50 %",
            "2018-11-08",
            "Donald Trump trump",
            "<b>We shall see</b>",
            "if asked brief",
            "Press pool notes, 8 Nov"
        ]
    );
    assert!(position.descendants().all(|n| !n.has_tag_name("a")));
    // The seed's https sources are links; their notes stay text.
    let kremlin_link = section
        .descendants()
        .find(|n| {
            n.has_tag_name("tr")
                && n.attribute("data-party") == Some("kremlin")
                && n.ancestors()
                    .any(|a| a.attribute("class") == Some("positions"))
        })
        .and_then(|tr| tr.descendants().find(|n| n.has_tag_name("a")))
        .unwrap();
    assert!(
        kremlin_link
            .attribute("href")
            .unwrap()
            .starts_with("https://www.breitbart.com/")
    );
    let retractions: Vec<String> = section
        .descendants()
        .filter(|n| n.has_tag_name("ul") && n.attribute("class") == Some("retractions"))
        .flat_map(|ul| ul.children().filter(|c| c.has_tag_name("li")))
        .map(text)
        .collect();
    assert_eq!(
        retractions,
        [
            "Donald Trump: likely on 2018-11-09 (\u{201c}<b>We shall see</b>\u{201d}), retracted: misattributed <i>x</i>"
        ]
    );
    // The full history, collapsed: the seed's four statements and the two added.
    let details = section
        .descendants()
        .find(|n| n.has_tag_name("details"))
        .unwrap();
    assert_eq!(details.attribute("open"), None);
    let summary = details
        .children()
        .find(|n| n.has_tag_name("summary"))
        .unwrap();
    assert_eq!(
        text(summary),
        "Statement history: 6 statements, 1 retracted"
    );
    let states: Vec<(String, String)> = details
        .descendants()
        .filter(|n| n.has_tag_name("tr") && n.attribute("data-seq").is_some())
        .map(|tr| {
            let cells: Vec<String> = tr.children().filter(|c| c.is_element()).map(text).collect();
            (cells[0].clone(), cells[8].clone())
        })
        .collect();
    assert_eq!(states.len(), 6);
    assert_eq!(
        states[5],
        (
            "2018-11-09".to_owned(),
            "retracted: misattributed <i>x</i>".to_owned()
        )
    );
    let javascript_source = details
        .descendants()
        .find(|n| n.attribute("class") == Some("source") && text(*n) == "javascript:alert(1)")
        .unwrap();
    assert!(javascript_source.has_tag_name("span"));
}

/// `chromium` on the PATH, if installed.
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("chromium"))
        .find(|p| p.is_file())
}

/// Runs headless chromium on `url` with `extra` flags; returns stdout. Fails after two minutes.
fn headless(browser: &Path, profile: &Path, extra: &[String], url: &str) -> String {
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--window-size=1200,2000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "chromium {extra:?} exited with {status}");
            break;
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium {extra:?} did not finish in two minutes");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    reader.join().unwrap()
}

#[test]
fn the_report_renders_in_a_headless_browser() {
    let Some(browser) = chromium() else {
        println!("skipped: chromium not installed");
        return;
    };
    let env = story();
    let page = demo_report(&env);
    let url = format!("file://{}", page.display());
    let profile = env.file("chromium-profile");

    let dom = headless(&browser, &profile, &["--dump-dom".to_owned()], &url);
    for expected in [
        "<h1>onrecord report</h1>",
        "id=\"prop-paris-meeting\"",
        "id=\"prop-g20-meeting\"",
        "id=\"leaderboard\"",
        "id=\"calibration\"",
        "class=\"credence-chart\"",
    ] {
        assert!(
            dom.contains(expected),
            "{expected} missing from the rendered DOM"
        );
    }

    let shot = env.file("report.png");
    headless(
        &browser,
        &profile,
        &[format!("--screenshot={}", shot.display())],
        &url,
    );
    let decoder = png::Decoder::new(std::fs::File::open(&shot).expect("screenshot written"));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("a frame");
    assert_eq!((info.width, info.height), (1200, 2000));
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    let pixels: Vec<&[u8]> = buf[..info.buffer_size()]
        .chunks(info.color_type.samples())
        .collect();
    let background = pixels[0];
    let inked = pixels.iter().filter(|p| **p != background).count();
    // Text, tables and charts cover a fair part of the page, in many colours.
    assert!(
        inked * 100 > pixels.len(),
        "only {inked} of {} pixels differ from the background",
        pixels.len()
    );
    let mut colours: Vec<&[u8]> = pixels.clone();
    colours.sort_unstable();
    colours.dedup();
    assert!(colours.len() > 20, "only {} colours", colours.len());
}
