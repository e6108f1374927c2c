//! The kept views (current positions) through the real binary: stale views
//! (an interrupted `replay --rebuild`) are never served as current, not even
//! after the next append; and a kept view edited in place is reported as
//! damage (exit 5), never served.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Instant;

use common::*;
use onrecord_ledger::keys;
use serde_json::Value;

/// A closed ledger holding the demo's 17 events.
fn demo(dir: &Path) -> PathBuf {
    let ledger = demo_ledger(dir);
    assert_eq!(head(&ledger).0, 17);
    ledger
}

fn json(out: Output, what: &str) -> Value {
    let out = ok(out, what);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{what}: not JSON: {e}"))
}

/// The answers of the views (no time filter) and of the fold of the log
/// (`--at-seq` the head) must be the same, for positions and contradictions.
fn assert_answers_equal_the_fold(ledger: &Path, head_seq: u64, what: &str) {
    let at = head_seq.to_string();
    for command in ["positions", "contradictions"] {
        let served = json(run(ledger, &[command, "--json"]), what);
        let folded = json(run(ledger, &[command, "--json", "--at-seq", &at]), what);
        // Compared whole, reported short: the answers can be long.
        assert!(
            served == folded,
            "{what}: `{command}` differs from the fold of the log ({} vs {} bytes of JSON)",
            served.to_string().len(),
            folded.to_string().len()
        );
    }
}

/// Whether the ledger's kept views are marked current (read through the library).
fn views_current(ledger: &Path) -> bool {
    let options = onrecord_sled::LedgerOptions {
        cache_capacity: 4 * 1024 * 1024,
        ..Default::default()
    };
    onrecord_sled::open(ledger, &options)
        .expect("open ledger")
        .views_current()
        .expect("read the views marker")
}

/// Leaves the ledger as a `replay --rebuild` killed at a known point leaves
/// it: the views marker removed, then the kept positions and entries of
/// every proposition after the first deleted (the deletion phase cut short).
fn interrupt_rebuild_after_the_first_proposition(ledger: &Path) {
    with_raw(ledger, |db| {
        db.remove(keys::meta(keys::MetaKey::Views)).unwrap();
        for prefix in [keys::VIEW_POSITION, keys::VIEW_ENTRY] {
            let keys: Vec<_> = db
                .scan_prefix([prefix])
                .keys()
                .map(Result::unwrap)
                .filter(|k| !k[1..].starts_with(b"g20-meeting\0"))
                .collect();
            assert!(!keys.is_empty());
            for k in keys {
                db.remove(k).unwrap();
            }
        }
    });
}

#[test]
fn an_append_after_an_interrupted_rebuild_does_not_serve_partial_positions() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = demo(dir.path());
    interrupt_rebuild_after_the_first_proposition(&ledger);
    // One more statement by trump on paris-meeting, whose kept view is gone.
    ok(
        run(
            &ledger,
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
                "2018-11-10",
            ],
        ),
        "append after the interrupted rebuild",
    );
    assert!(
        !views_current(&ledger),
        "the append marked stale views current"
    );
    assert_answers_equal_the_fold(&ledger, 18, "stale views after an append");
    let positions = json(
        run(&ledger, &["positions", "paris-meeting", "--json"]),
        "positions",
    );
    let trump = positions["positions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["party"] == "trump")
        .expect("trump's position on paris-meeting");
    assert_eq!(trump["statements"], 3, "{trump}");
    assert_eq!(trump["stance"], "likely", "{trump}");
    assert_eq!(positions["positions"].as_array().unwrap().len(), 2);
    // trump now leans the same way as the kremlin on paris-meeting: only g20-meeting is contradicted.
    let contradictions = json(
        run(&ledger, &["contradictions", "--json"]),
        "contradictions",
    );
    assert_eq!(
        contradictions.as_array().unwrap().len(),
        1,
        "{contradictions}"
    );
    assert_eq!(contradictions[0]["proposition"], "g20-meeting");
    // The user is told why it is slower and what makes it fast again.
    let out = run(&ledger, &["positions"]);
    assert!(
        text(&out.stderr).contains("replay --rebuild"),
        "{}",
        text(&out.stderr)
    );
    // Stale views are not damage, and verify says they were not checked.
    let verified = ok(run(&ledger, &["verify"]), "verify stale views");
    assert!(
        text(&verified.stderr).contains("kept views: stale, not checked"),
        "{}",
        text(&verified.stderr)
    );
    ok(
        run(&ledger, &["replay", "--rebuild", "--quiet", "--to", "0"]),
        "rebuild",
    );
    assert!(views_current(&ledger));
    assert_answers_equal_the_fold(&ledger, 18, "rebuilt views");
    let verified = ok(run(&ledger, &["verify"]), "verify rebuilt views");
    assert_eq!(
        text(&verified.stderr),
        "",
        "no note once the views are current"
    );
}

/// A ledger of `statements` seeded statements on 200 propositions by 20 parties.
fn big_ledger(dir: &Path, statements: usize) -> (PathBuf, u64) {
    const STANCES: [&str; 8] = [
        "almost-no-chance",
        "very-unlikely",
        "unlikely",
        "even-chance",
        "likely",
        "very-likely",
        "almost-certain",
        "declined",
    ];
    let mut rng = Rng::new(12);
    let mut lines = String::new();
    for p in 0..20 {
        lines.push_str(&format!(
            "{{\"type\":\"party\",\"id\":\"party-{p}\",\"name\":\"Party {p}\"}}\n"
        ));
    }
    for q in 0..200 {
        lines.push_str(&format!(
            "{{\"type\":\"proposition\",\"id\":\"prop-{q}\",\"text\":\"Proposition {q}\"}}\n"
        ));
    }
    for _ in 0..statements {
        lines.push_str(&format!(
            "{{\"type\":\"statement\",\"proposition\":\"prop-{}\",\"party\":\"party-{}\",\"stance\":\"{}\",\"said_at\":\"2018-{:02}-{:02}\"}}\n",
            rng.below(200),
            rng.below(20),
            STANCES[rng.below(8) as usize],
            1 + rng.below(12),
            1 + rng.below(28),
        ));
    }
    let file = dir.join("big.jsonl");
    std::fs::write(&file, lines).unwrap();
    let ledger = init(dir, "big.ledger");
    ok(
        run(
            &ledger,
            &["append", "--quiet", "--jsonl", file.to_str().unwrap()],
        ),
        "import",
    );
    (ledger, 220 + statements as u64)
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

/// Kills `replay --rebuild` with SIGKILL at spread-out moments of its run; after
/// each kill one statement is appended. Whenever the kill lands, positions and
/// contradictions equal the fold of the log and `verify` passes; the timing
/// only decides how many kills land mid-rebuild (printed, not asserted).
#[test]
fn sigkill_during_a_rebuild_then_an_append_never_serves_wrong_positions() {
    let dir = tempfile::tempdir().unwrap();
    let statements = env_num("ONRECORD_REBUILD_KILL_STATEMENTS", 4_000) as usize;
    let kills = env_num("ONRECORD_REBUILD_KILLS", 4);
    let (pristine, head_seq) = big_ledger(dir.path(), statements);

    // How long a whole rebuild takes here, process start included.
    let calibration = dir.path().join("calibration.ledger");
    copy_dir(&pristine, &calibration);
    let started = Instant::now();
    ok(
        run(
            &calibration,
            &["replay", "--rebuild", "--quiet", "--to", "0"],
        ),
        "calibration rebuild",
    );
    let whole = started.elapsed();

    let mut landed_mid_rebuild = 0;
    for k in 1..=kills {
        let ledger = dir.path().join(format!("killed-{k}.ledger"));
        copy_dir(&pristine, &ledger);
        let mut child = cmd(&ledger)
            .args(["replay", "--rebuild", "--quiet", "--to", "0"])
            .spawn()
            .expect("spawn rebuild");
        std::thread::sleep(whole.mul_f64(k as f64 / (kills + 1) as f64));
        let _ = child.kill();
        child.wait().unwrap();
        let what = format!("kill {k} of {kills}");
        if !views_current(&ledger) {
            landed_mid_rebuild += 1;
        }
        ok(
            run(
                &ledger,
                &[
                    "append",
                    "statement",
                    "--proposition",
                    "prop-7",
                    "--party",
                    "party-3",
                    "--stance",
                    "very-likely",
                    "--said-at",
                    "2019-01-01",
                ],
            ),
            &what,
        );
        assert_answers_equal_the_fold(&ledger, head_seq + 1, &what);
        assert_verifies(&ledger);
    }
    println!(
        "{kills} kills of a {:?} rebuild of {head_seq} events: {landed_mid_rebuild} landed mid-rebuild",
        whole
    );
}

/// `bytes` with its one f64 `from` replaced by `to` (bincode writes an f64 as
/// its 8 little-endian bytes).
fn replace_f64(mut bytes: Vec<u8>, from: f64, to: f64) -> Vec<u8> {
    let needle = from.to_le_bytes();
    let at: Vec<usize> = (0..=bytes.len() - 8)
        .filter(|&i| bytes[i..i + 8] == needle)
        .collect();
    assert_eq!(at.len(), 1, "{from} once in the stored view");
    bytes[at[0]..at[0] + 8].copy_from_slice(&to.to_le_bytes());
    bytes
}

/// Replaces the one credence `from` in the stored value at `key` by `to`.
fn edit_credence(ledger: &Path, key: &[u8], from: f64, to: f64) {
    with_raw(ledger, |db| {
        let bytes = db.get(key).unwrap().expect("the kept view").to_vec();
        db.insert(key, replace_f64(bytes, from, to)).unwrap();
    });
}

fn position_key(proposition: &str, party: &str) -> Vec<u8> {
    keys::position(
        &onrecord_core::PropositionId::new(proposition).unwrap(),
        &onrecord_core::PartyId::new(party).unwrap(),
    )
}

/// Exit 5 and one line naming the proposition and party, never the edited value served.
fn assert_view_damage(out: Output, what: &str) -> String {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{what}: {err}");
    assert!(!text(&out.stdout).contains("0.03"), "{what}: served");
    assert_eq!(err.trim_end().lines().count(), 1, "{what}: {err}");
    assert!(
        err.contains("g20-meeting") && err.contains("kremlin"),
        "{what}: proposition and party not named: {err}"
    );
    err
}

#[test]
fn a_kept_position_edited_outside_its_band_is_refused_as_damage_not_served() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = demo(dir.path());
    // The kremlin's current statement on g20-meeting: almost-certain, 0.97.
    edit_credence(&ledger, &position_key("g20-meeting", "kremlin"), 0.97, 0.03);
    for args in [
        &["positions", "--json"][..],
        &["positions", "g20-meeting"],
        &["contradictions"],
        &["verify"],
    ] {
        let err = assert_view_damage(run(&ledger, args), &args.join(" "));
        assert!(err.contains("outside the band of almost-certain"), "{err}");
        println!("{}: {}", args.join(" "), err.trim());
    }
    // The way out the message names: the views are rebuilt from the log.
    ok(
        run(&ledger, &["replay", "--rebuild", "--quiet", "--to", "0"]),
        "rebuild",
    );
    assert_answers_equal_the_fold(&ledger, 17, "rebuilt after the edit");
    let positions = json(
        run(&ledger, &["positions", "g20-meeting", "--json"]),
        "positions",
    );
    assert_eq!(positions["positions"][0]["party"], "kremlin");
    assert_eq!(positions["positions"][0]["credence"], 0.97);
}

/// The stored key of the kept entry of `party`'s latest statement on `proposition`.
fn latest_entry_key(db: &onrecord_sled::RawLedger, proposition: &str, party: &str) -> Vec<u8> {
    let prefix = [
        &[keys::VIEW_ENTRY][..],
        proposition.as_bytes(),
        b"\0",
        party.as_bytes(),
        b"\0",
    ]
    .concat();
    db.scan_prefix(prefix)
        .keys()
        .last()
        .expect("a kept entry")
        .unwrap()
        .to_vec()
}

#[test]
fn verify_reports_any_kept_view_that_differs_from_the_log_naming_proposition_and_party() {
    type Edit = fn(&onrecord_sled::RawLedger);
    let cases: [(&str, Edit, &str); 5] = [
        (
            "a kept position's credence moved inside its band",
            |db| {
                let key = position_key("g20-meeting", "kremlin");
                let bytes = db.get(&key).unwrap().unwrap().to_vec();
                db.insert(&key, replace_f64(bytes, 0.97, 0.96)).unwrap();
            },
            "kremlin",
        ),
        (
            "a kept statement entry's credence moved inside its band",
            |db| {
                let key = latest_entry_key(db, "g20-meeting", "kremlin");
                let bytes = db.get(&key).unwrap().unwrap().to_vec();
                db.insert(&key, replace_f64(bytes, 0.97, 0.98)).unwrap();
            },
            "kremlin",
        ),
        (
            "a kept position deleted",
            |db| {
                db.remove(position_key("paris-meeting", "trump")).unwrap();
            },
            "trump",
        ),
        (
            "a kept statement entry deleted",
            |db| {
                let key = latest_entry_key(db, "paris-meeting", "trump");
                db.remove(key).unwrap();
            },
            "trump",
        ),
        (
            "a kept position for a party the log gives none there",
            |db| {
                let bytes = db
                    .get(position_key("g20-meeting", "kremlin"))
                    .unwrap()
                    .unwrap();
                db.insert(position_key("g20-meeting", "bolton"), bytes)
                    .unwrap();
            },
            "bolton",
        ),
    ];
    for (what, edit, party) in cases {
        let dir = tempfile::tempdir().unwrap();
        let ledger = demo(dir.path());
        with_raw(&ledger, edit);
        let out = run(&ledger, &["verify"]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(5), "{what}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{what}: {err}");
        assert!(err.contains("kept view"), "{what}: {err}");
        assert!(
            err.contains(party),
            "{what}: party {party} not named: {err}"
        );
        assert!(
            err.contains("g20-meeting") || err.contains("paris-meeting"),
            "{what}: proposition not named: {err}"
        );
        println!("{what}: {}", err.trim());
    }
}

#[test]
fn verify_reports_a_kept_view_of_a_proposition_the_log_does_not_hold() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = demo(dir.path());
    with_raw(&ledger, |db| {
        let bytes = db
            .get(position_key("g20-meeting", "kremlin"))
            .unwrap()
            .unwrap();
        db.insert(position_key("moon-landing", "kremlin"), bytes)
            .unwrap();
    });
    let out = run(&ledger, &["verify"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(
        err.contains("proposition moon-landing, party kremlin")
            && err.contains("no such proposition"),
        "{err}"
    );
}
