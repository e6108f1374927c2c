//! `onrecord copy --from LEDGER --to LEDGER` (issue 16 item 6) with the real
//! binary: sled → PostgreSQL → sled gives identical `export` output and head
//! hash on the seed story and on a ledger of several chunks; a copy cut
//! short resumes and ends identical; a target holding another log is refused
//! with nothing written; a damaged source stops the copy at its first bad
//! seq (exit 5); API tokens go with the copy and a revocation follows. The PostgreSQL test gets a fresh database on the test
//! binary's own cluster and is skipped (printing "skipped") where
//! PostgreSQL cannot run, unless `ONRECORD_REQUIRE_POSTGRES` is set.

mod util;

use std::path::Path;

use onrecord_postgres::test_cluster::TestDatabase;
use util::{Env, Run};

/// `onrecord ARGS...` with no `--ledger`.
fn onrecord(args: &[&str]) -> Run {
    let mut cmd = Env::bare();
    cmd.args(args);
    Env::exec(&mut cmd)
}

/// `onrecord copy --from FROM --to TO EXTRA...`.
fn copy(from: &str, to: &str, extra: &[&str]) -> Run {
    let mut args = vec!["copy", "--from", from, "--to", to];
    args.extend_from_slice(extra);
    onrecord(&args)
}

fn ok(run: Run, what: &str) -> String {
    assert_eq!(run.code, 0, "{what} failed: {}{}", run.stdout, run.stderr);
    run.stdout
}

/// The ledger's `export` output.
fn export(ledger: &str) -> String {
    ok(onrecord(&["--ledger", ledger, "export"]), "export")
}

/// The ledger's `verify` line (names the head seq and hash).
fn verify(ledger: &str) -> String {
    ok(onrecord(&["--ledger", ledger, "verify"]), "verify")
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 temp path")
}

/// The seed story followed by `statements` generated statements (more than
/// one copy chunk when over 1,000), as JSON Lines.
fn story_and(statements: usize) -> String {
    let speakers = ["trump", "putin", "peskov", "bolton", "kremlin"];
    let stances = [
        "almost-no-chance",
        "very-unlikely",
        "unlikely",
        "even-chance",
        "likely",
        "very-likely",
        "almost-certain",
        "declined",
    ];
    let mut lines = util::STORY.to_owned();
    for i in 0..statements {
        lines.push_str(&format!(
            "{{\"type\":\"statement\",\"proposition\":\"{}\",\"speaker\":\"{}\",\"stance\":\"{}\",\"said_at\":\"2018-10-{:02}\",\"quote\":\"generated {i}\"}}\n",
            ["paris-meeting", "g20-meeting"][i % 2],
            speakers[i % speakers.len()],
            stances[i % stances.len()],
            i % 28 + 1
        ));
    }
    lines
}

/// A sled ledger in `env` holding `jsonl`.
fn sled_ledger(env: &Env, jsonl: &str) -> String {
    let input = env.file("input.jsonl");
    std::fs::write(&input, jsonl).unwrap();
    ok(
        env.run(&["append", "--jsonl", path(&input)]),
        "append --jsonl",
    );
    path(env.ledger()).to_owned()
}

#[test]
fn sled_to_postgres_and_back_exports_identically_with_the_same_head_hash() {
    let Some(db) = TestDatabase::new() else {
        return;
    };
    for (statements, what) in [(0, "the seed story"), (2_300, "a ledger of three chunks")] {
        db.reset();
        let env = Env::new();
        let source = sled_ledger(&env, &story_and(statements));
        let url = db.url();
        let back = env.file("back");
        let back = path(&back);

        let there = ok(copy(&source, &url, &[]), "copy sled → postgres");
        assert!(there.starts_with("copied seq 1 to "), "{there}");
        ok(copy(&url, back, &[]), "copy postgres → sled");

        let exported = export(&source);
        assert_eq!(
            exported.lines().count(),
            17 + statements,
            "{what}: every record"
        );
        assert_eq!(export(&url), exported, "{what}: postgres exports the same");
        assert_eq!(export(back), exported, "{what}: and so does the copy back");
        let verified = verify(&source);
        assert!(verified.contains("hash="), "{verified}");
        assert_eq!(verify(&url), verified, "{what}: the same head hash");
        assert_eq!(verify(back), verified, "{what}: the same head hash back");
        let positions = |l: &str| {
            ok(
                onrecord(&["--ledger", l, "positions", "--json"]),
                "positions",
            )
        };
        assert_eq!(
            positions(&url),
            positions(&source),
            "{what}: the same kept views"
        );
        assert_eq!(positions(back), positions(&source));

        let again = ok(copy(&source, &url, &[]), "copy onto a full copy");
        assert!(again.starts_with("nothing to copy"), "{again}");
    }
}

/// `token list --json` on `ledger`.
fn tokens(ledger: &str) -> serde_json::Value {
    serde_json::from_str(&ok(
        onrecord(&["--ledger", ledger, "token", "list", "--json"]),
        "token list",
    ))
    .unwrap()
}

#[test]
fn api_tokens_go_with_a_copy_to_postgres_and_back_and_a_revocation_follows() {
    let Some(db) = TestDatabase::new() else {
        return;
    };
    let env = Env::new();
    let source = sled_ledger(&env, util::STORY);
    let url = db.url();
    let back = env.file("back");
    let back = path(&back);
    let made = |name: &str| {
        let out = ok(
            onrecord(&[
                "--ledger", &source, "token", "create", name, "--role", "append", "--json",
            ]),
            "token create",
        );
        let made: serde_json::Value = serde_json::from_str(&out).unwrap();
        made["id"].as_str().unwrap().to_owned()
    };
    let (desk, _bot) = (made("desk"), made("bot"));

    let there = ok(copy(&source, &url, &[]), "copy sled → postgres");
    assert!(there.contains("copied 2 API tokens"), "{there}");
    let secrets = |list: &str| !list.contains("onr_");
    assert!(secrets(&there), "no secret printed: {there}");
    let back_json: serde_json::Value =
        serde_json::from_str(&ok(copy(&url, back, &["--json"]), "copy postgres → sled")).unwrap();
    assert_eq!(back_json["tokens"], 2, "{back_json}");
    assert_eq!(
        tokens(&url),
        tokens(&source),
        "postgres keeps the same tokens"
    );
    assert_eq!(tokens(back), tokens(&source), "and so does the copy back");

    // A token revoked at the source after the copy is revoked by the next one.
    ok(
        onrecord(&["--ledger", &source, "token", "revoke", &desk]),
        "token revoke",
    );
    let again = ok(copy(&source, &url, &[]), "copy again");
    assert!(
        again.starts_with("nothing to copy") && again.contains("copied 1 API token "),
        "{again}"
    );
    assert_eq!(tokens(&url), tokens(&source), "the revocation arrived");
}

#[test]
fn a_copy_cut_short_resumes_after_its_last_chunk_and_ends_identical() {
    let env = Env::new();
    let source = sled_ledger(&env, &story_and(40));
    let target = env.file("target");
    let target = path(&target);

    let first = ok(
        copy(&source, target, &["--upto", "23", "--chunk", "5"]),
        "a copy that stops at seq 23",
    );
    assert!(first.starts_with("copied seq 1 to 23 "), "{first}");
    assert_eq!(export(target).lines().count(), 23);
    let rest = ok(copy(&source, target, &["--chunk", "7"]), "the resumed copy");
    assert!(
        rest.starts_with("copied seq 24 to 57 ") && rest.contains("resumed after seq 23"),
        "{rest}"
    );
    assert_eq!(export(target), export(&source));
    assert_eq!(verify(target), verify(&source));

    // `--json`, for scripts: what this run copied, and the head it left.
    let again: serde_json::Value =
        serde_json::from_str(&ok(copy(&source, target, &["--json"]), "copy --json")).unwrap();
    assert_eq!(again["copied"], 0, "{again}");
    assert_eq!(again["resumed_after"], 57, "{again}");
    assert_eq!(again["head"]["seq"], 57, "{again}");
    assert!(
        verify(target).contains(again["head"]["hash"].as_str().unwrap()),
        "{again}"
    );
    assert_eq!(again["from"], source.as_str(), "{again}");
    assert_eq!(again["to"], target, "{again}");
}

#[test]
fn a_target_holding_another_log_is_refused_naming_the_first_differing_seq_and_left_as_it_was() {
    let env = Env::new();
    let source = sled_ledger(&env, util::STORY);

    // Another log from its first record.
    let other = Env::new();
    let other_ledger = sled_ledger(
        &other,
        "{\"type\":\"party\",\"id\":\"macron\",\"name\":\"Emmanuel Macron\",\"kind\":\"person\"}\n",
    );
    let before = export(&other_ledger);
    let refused = copy(&source, &other_ledger, &[]);
    assert_eq!(refused.code, 3, "{}", refused.stderr);
    assert!(
        refused.stderr.starts_with("error: ")
            && refused.stderr.contains("differs from the source at seq 1")
            && refused.stderr.contains("nothing was copied"),
        "{}",
        refused.stderr
    );
    assert_eq!(export(&other_ledger), before, "nothing was written");

    // The source's log with one more record of its own.
    let longer = env.file("longer");
    let longer = path(&longer);
    ok(copy(&source, longer, &[]), "copy");
    ok(
        onrecord(&[
            "--ledger",
            longer,
            "append",
            "party",
            "macron",
            "--name",
            "Emmanuel Macron",
            "--kind",
            "person",
        ]),
        "append to the copy",
    );
    let before = export(longer);
    let refused = copy(&source, longer, &[]);
    assert_eq!(refused.code, 3, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("differs from the source at seq 18"),
        "{}",
        refused.stderr
    );
    assert_eq!(export(longer), before, "nothing was written");
}

#[test]
fn a_damaged_source_stops_the_copy_at_its_first_bad_seq_with_exit_5() {
    let env = Env::new();
    let source = sled_ledger(&env, util::STORY);
    {
        // Through the layout-aware raw view, so the edit lands inside the
        // record whatever the sled layout (layout 3 packs records in chunks).
        let db = onrecord_sled::RawLedger::open(std::path::Path::new(&source))
            .expect("the closed ledger opens raw");
        let key = onrecord_ledger::keys::record(9);
        let mut bytes = db.get(key).unwrap().expect("seq 9 is stored").to_vec();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x01;
        db.insert(key, bytes).unwrap();
        db.flush().unwrap();
    }
    let target = env.file("target");
    let target = path(&target);
    let stopped = copy(&source, target, &["--chunk", "4"]);
    assert_eq!(stopped.code, 5, "{}{}", stopped.stdout, stopped.stderr);
    assert!(
        stopped.stderr.contains("seq 9") && stopped.stderr.lines().count() == 1,
        "{}",
        stopped.stderr
    );
    assert!(!stopped.stderr.contains("panicked"), "{}", stopped.stderr);
    let copied = export(target);
    assert_eq!(copied.lines().count(), 8, "seqs 1 to 8 are proven and kept");
    verify(target);
}
