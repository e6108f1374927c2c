//! End-to-end tests of `onrecord extract` (issue 17) through the real binary:
//! the founding article with the demo ledger, review output that `append`
//! accepts, HTML input, party aliases, and bad input.

mod util;

use serde_json::Value;
use util::Env;

const FOUNDING: &str = include_str!("fixtures/founding-article.txt");

/// An environment whose ledger is the demo's (with its aliases), and the founding article in a file.
fn demo_with_article() -> (Env, String) {
    let env = Env::new();
    env.ok(&["demo"]);
    let article = env.file("article.txt");
    std::fs::write(&article, FOUNDING).unwrap();
    (env, article.to_str().unwrap().to_owned())
}

/// The statement whose quote contains `words`.
fn statement<'a>(found: &'a Value, words: &str) -> &'a Value {
    found["statements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["quote"].as_str().unwrap().contains(words))
        .unwrap_or_else(|| panic!("no statement quoting {words:?} in {found}"))
}

#[test]
fn the_founding_article_gives_each_statement_its_speaker_and_none_to_putin() {
    let (env, article) = demo_with_article();
    let found = env.json(&["extract", &article, "--said-at", "2018-11-06", "--json"]);
    let expect = [
        ("probably not", "trump", "trump"),
        ("We haven’t set anything up yet", "trump", "trump"),
        ("we will be meeting at the G-20", "trump", "trump"),
        ("look forward", "bolton", "trump"),
        ("They will certainly meet", "peskov", "kremlin"),
        (
            "Indeed, the circumstances have changed",
            "peskov",
            "kremlin",
        ),
        ("long and thorough meeting", "peskov", "kremlin"),
    ];
    for (words, speaker, party) in expect {
        let s = statement(&found, words);
        assert_eq!(s["party"]["speaker"], speaker, "{s}");
        assert_eq!(s["party"]["party"], party, "{s}");
    }
    let fragment = statement(&found, "probably not");
    assert_eq!(fragment["kind"], "fragment");
    assert_eq!(fragment["stance"]["stance"], "unlikely");
    assert_eq!(fragment["stance"]["cue"], "probably not");
    let certain = statement(&found, "They will certainly meet");
    assert_eq!(certain["kind"], "direct");
    assert_eq!(certain["stance"]["stance"], "almost-certain");
    assert_eq!(certain["speaker"]["resolved"], "Dmitry Peskov");
    let added = statement(&found, "Indeed, the circumstances");
    assert_eq!(added["speaker"]["as_written"], "he");
    assert_eq!(added["speaker"]["resolved_by"], "pronoun");
    // Offsets are characters into the article: they point at the quote and its attribution.
    let chars: Vec<char> = FOUNDING.chars().collect();
    let span = |v: &Value| {
        let (a, b) = (
            v["start"].as_u64().unwrap() as usize,
            v["end"].as_u64().unwrap() as usize,
        );
        chars[a..b].iter().collect::<String>()
    };
    assert_eq!(span(&certain["quote_span"]), "They will certainly meet,");
    assert_eq!(span(&certain["attribution_span"]), "said Peskov");
    for s in found["statements"].as_array().unwrap() {
        assert_ne!(s["party"]["speaker"], "putin", "{s}");
        assert_ne!(s["speaker"]["resolved"], "Vladimir Putin", "{s}");
    }
}

#[test]
fn the_review_table_shows_quote_speaker_party_and_stance() {
    let (env, article) = demo_with_article();
    let out = env.ok(&["extract", &article]);
    let header = out.lines().next().unwrap();
    for column in [
        "KIND",
        "QUOTE",
        "SPEAKER",
        "AS WRITTEN",
        "PARTY",
        "STANCE",
        "CUE",
        "CONF",
    ] {
        assert!(header.contains(column), "{header}");
    }
    let row = out
        .lines()
        .find(|l| l.contains("They will certainly meet"))
        .unwrap();
    for cell in [
        "direct",
        "Dmitry Peskov",
        "peskov for kremlin",
        "almost-certain",
    ] {
        assert!(row.contains(cell), "{row}");
    }
}

#[test]
fn jsonl_output_is_accepted_by_append_as_it_is_and_the_rest_is_listed_on_stderr() {
    let (env, article) = demo_with_article();
    let before = env.ok(&["stats", "--json"]);
    let r = env.run(&[
        "extract",
        &article,
        "--said-at",
        "2018-11-06",
        "--proposition",
        "paris-meeting",
        "--source",
        "https://example.org/kremlin-says",
        "--jsonl",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // extract itself appends nothing.
    assert_eq!(env.ok(&["stats", "--json"]), before);
    let lines: Vec<Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l["quote"] == "They will certainly meet"
                && l["party"] == "kremlin"
                && l["speaker"] == "peskov"
                && l["stance"] == "almost-certain"
                && l["said_at"] == "2018-11-06"
                && l["source"] == "https://example.org/kremlin-says")
    );
    // "look forward" has a speaker but no stance cue: it is listed with the reason.
    assert!(
        r.stderr.contains("“look forward”") && r.stderr.contains("no stance cue"),
        "{}",
        r.stderr
    );
    let reviewed = env.file("reviewed.jsonl");
    std::fs::write(&reviewed, &r.stdout).unwrap();
    let appended = env.ok(&["append", "--jsonl", reviewed.to_str().unwrap()]);
    assert_eq!(
        appended,
        format!("appended {}, already recorded 0\n", lines.len())
    );
}

#[test]
fn jsonl_without_a_proposition_or_a_day_is_a_usage_error_and_bad_values_are_named() {
    let (env, article) = demo_with_article();
    let err = env.fails(
        2,
        &["extract", &article, "--jsonl", "--said-at", "2018-11-06"],
    );
    assert!(err.contains("--proposition"), "{err}");
    let err = env.fails(
        2,
        &[
            "extract",
            &article,
            "--jsonl",
            "--proposition",
            "paris-meeting",
        ],
    );
    assert!(err.contains("--said-at"), "{err}");
    let err = env.fails(1, &["extract", &article, "--said-at", "2018-11-31"]);
    assert!(err.contains("2018-11-31"), "{err}");
    let err = env.fails(
        1,
        &[
            "extract",
            &article,
            "--proposition",
            "paris-meting",
            "--said-at",
            "2018-11-06",
            "--jsonl",
        ],
    );
    assert!(
        err.contains("paris-meting") && err.contains("paris-meeting"),
        "{err}"
    );
}

#[test]
fn extract_without_a_ledger_matches_no_party_and_creates_nothing() {
    let env = Env::new();
    let dir = env.file("work");
    std::fs::create_dir(&dir).unwrap();
    let article = env.file("article.txt");
    std::fs::write(&article, FOUNDING).unwrap();
    let r = Env::exec(Env::bare().current_dir(&dir).args([
        "extract",
        article.to_str().unwrap(),
        "--json",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let found: Value = serde_json::from_str(&r.stdout).unwrap();
    let s = statement(&found, "They will certainly meet");
    assert_eq!(s["speaker"]["resolved"], "Dmitry Peskov");
    assert!(s["party"].is_null());
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "nothing is written"
    );
    // A ledger named but absent is an error, and is not created either.
    let err = env.fails(1, &["extract", article.to_str().unwrap()]);
    assert!(err.contains("no ledger at"), "{err}");
    assert!(!env.ledger().exists());
}

#[test]
fn html_input_gives_the_article_text_without_navigation_captions_or_comments() {
    let env = Env::new();
    let page = env.file("page.html");
    std::fs::write(
        &page,
        r#"<!doctype html><html><head><title>News</title>
<script>var s = "“Script,” said Script Author.";</script><style>p{}</style></head>
<body><nav><a href="/">Home</a> <p>&ldquo;Subscribe now,&rdquo; said Nav Bar.</p></nav>
<article>
<h1>Kremlin says leaders will meet</h1>
<p>Kremlin spokesman Dmitry Peskov spoke on Tuesday.</p>
<p>&ldquo;They will certainly meet,&rdquo; said Peskov. &#8220;It will be brief &amp; busy,&#8221; he added.</p>
<figure><img src="a.jpg"><figcaption>&ldquo;Smile,&rdquo; said Photo Grapher.</figcaption></figure>
<!-- "Hidden," said Html Comment. -->
<aside><p>&ldquo;Read more,&rdquo; said Side Bar.</p></aside>
</article>
<section id="comments"><p>&ldquo;Fake news,&rdquo; said Angry Reader.</p></section>
<footer><p>&ldquo;All rights reserved,&rdquo; said Foot Note.</p></footer>
</body></html>"#,
    )
    .unwrap();
    let found = env_json_without_ledger(
        &env,
        &["extract", "--html", page.to_str().unwrap(), "--json"],
    );
    let quotes: Vec<&str> = found["statements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["quote"].as_str().unwrap())
        .collect();
    assert_eq!(
        quotes,
        ["They will certainly meet,", "It will be brief & busy,"]
    );
    let added = statement(&found, "brief & busy");
    assert_eq!(added["speaker"]["resolved"], "Dmitry Peskov");
}

/// Runs with no ledger at all (in a fresh working directory) and parses stdout as JSON.
fn env_json_without_ledger(env: &Env, args: &[&str]) -> Value {
    let dir = env.file("cwd");
    std::fs::create_dir_all(&dir).unwrap();
    let r = Env::exec(Env::bare().current_dir(&dir).args(args));
    assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap()
}

#[test]
fn html_without_an_article_body_is_refused_naming_the_file() {
    let env = Env::new();
    let page = env.file("empty.html");
    std::fs::write(
        &page,
        "<html><body><nav>Home | World</nav><script>run()</script><footer>(c) 2018</footer></body></html>",
    )
    .unwrap();
    let r = Env::exec(Env::bare().current_dir(env.file("")).args([
        "extract",
        "--html",
        page.to_str().unwrap(),
    ]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.starts_with("error: ")
            && r.stderr.contains("empty.html")
            && r.stderr.contains("no article body"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.lines().count(), 1);
}

#[test]
fn a_party_s_aliases_are_recorded_exported_imported_and_used_to_match_speakers() {
    let env = Env::new();
    env.ok(&[
        "append",
        "party",
        "kremlin",
        "--name",
        "The Kremlin",
        "--kind",
        "government",
    ]);
    env.ok(&[
        "append",
        "party",
        "putin",
        "--name",
        "Vladimir Putin",
        "--speaks-for",
        "kremlin",
        "--alias",
        "the Russian president",
        "--alias",
        "Putin",
    ]);
    let export = env.ok(&["export"]);
    assert!(
        export.contains(r#""speaks_for":"kremlin","aliases":["the Russian president","Putin"]}"#),
        "{export}"
    );
    assert!(
        export
            .lines()
            .next()
            .unwrap()
            .ends_with(r#""speaks_for":null}"#),
        "{export}"
    );
    // The export reads back into another ledger, aliases and all.
    let copy = Env::new();
    let r = copy.run_stdin(&["append", "--jsonl", "-"], export.clone());
    assert_eq!(r.code, 0, "{}", r.stderr);
    let without_times = |export: &str| -> Vec<Value> {
        export
            .lines()
            .map(|l| {
                let mut v: Value = serde_json::from_str(l).unwrap();
                v.as_object_mut().unwrap().remove("recorded_at");
                v
            })
            .collect()
    };
    assert_eq!(without_times(&copy.ok(&["export"])), without_times(&export));
    // A repeated alias is refused, naming it, and nothing is written.
    let err = env.fails(
        1,
        &[
            "append",
            "party",
            "medvedev",
            "--name",
            "Dmitry Medvedev",
            "--alias",
            "DAM",
            "--alias",
            "dam",
        ],
    );
    assert!(err.contains("`dam`"), "{err}");
    let article = env.file("a.txt");
    std::fs::write(
        &article,
        "“We will meet in Paris,” the Russian president said on Tuesday.\n",
    )
    .unwrap();
    let found = env.json(&["extract", article.to_str().unwrap(), "--json"]);
    let s = statement(&found, "We will meet in Paris");
    assert_eq!(s["party"]["speaker"], "putin");
    assert_eq!(s["party"]["party"], "kremlin");
    assert_eq!(s["party"]["matched_by"], "alias");
}

#[test]
fn empty_and_quoteless_input_says_no_quoted_statements_found() {
    let env = Env::new();
    let empty = env.file("empty.txt");
    std::fs::write(&empty, "").unwrap();
    let plain = env.file("plain.txt");
    std::fs::write(
        &plain,
        "The summit opened on Monday. Leaders arrived in Paris.\n",
    )
    .unwrap();
    for file in [&empty, &plain] {
        let r = Env::exec(
            Env::bare()
                .current_dir(env.file(""))
                .args(["extract", file.to_str().unwrap()]),
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(
            r.stdout.starts_with("no quoted statements found"),
            "{}",
            r.stdout
        );
    }
    // From standard input too.
    let r = Env::exec(
        Env::bare()
            .current_dir(env.file(""))
            .args(["extract", "-"])
            .write_stdin(""),
    );
    assert_eq!(
        (r.code, r.stdout.starts_with("no quoted statements found")),
        (0, true)
    );
}

#[test]
fn an_unbalanced_quote_is_reported_and_the_other_quotes_are_still_found() {
    let env = Env::new();
    let file = env.file("unbalanced.txt");
    let text = "Peskov said the talks were “going well.\n\nThe talks go on.\n\n“They will certainly meet,” said Dmitry Peskov.\n\nA stray ” mark.\n";
    std::fs::write(&file, text).unwrap();
    let open_mark = text[..text.find('“').unwrap()].chars().count();
    let r = Env::exec(Env::bare().current_dir(env.file("")).args([
        "extract",
        file.to_str().unwrap(),
        "--json",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let found: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(found["statements"].as_array().unwrap().len(), 1);
    assert_eq!(found["statements"][0]["quote"], "They will certainly meet,");
    assert_eq!(found["unbalanced_quotes"], serde_json::json!([open_mark]));
}

#[test]
fn invalid_utf8_is_refused_naming_the_byte_offset() {
    let env = Env::new();
    let file = env.file("latin1.txt");
    std::fs::write(
        &file,
        b"\xe2\x80\x9cWe will meet,\xe2\x80\x9d said Caf\xe9 Owner.",
    )
    .unwrap();
    let r = Env::exec(
        Env::bare()
            .current_dir(env.file(""))
            .args(["extract", file.to_str().unwrap()]),
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("latin1.txt") && r.stderr.contains("offset 28"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.lines().count(), 1);
    assert!(r.stdout.is_empty());
}

#[test]
fn a_ten_megabyte_article_is_read_whole_and_every_quote_is_found() {
    let env = Env::new();
    let file = env.file("long.txt");
    let copies = 10 * 1024 * 1024 / FOUNDING.len() + 1;
    let mut text = String::with_capacity(copies * (FOUNDING.len() + 2));
    for _ in 0..copies {
        text.push_str(FOUNDING);
        text.push_str("\n\n");
    }
    // One paragraph of 1 MB with quote marks that never close, and one without spaces.
    text.push_str(&"“unclosed ".repeat(100_000));
    text.push_str("\n\n");
    text.push_str(&"a.".repeat(500_000));
    text.push('\n');
    std::fs::write(&file, &text).unwrap();
    let r = Env::exec(Env::bare().current_dir(env.file("")).args([
        "extract",
        file.to_str().unwrap(),
        "--json",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let found: Value = serde_json::from_str(&r.stdout).unwrap();
    let per_copy = 8;
    assert_eq!(
        found["statements"].as_array().unwrap().len(),
        copies * per_copy
    );
    assert_eq!(
        found["unbalanced_quotes"].as_array().unwrap().len(),
        100_000
    );
}
