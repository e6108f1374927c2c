//! Concurrent processes: many `onrecord append` processes on one ledger at
//! once. With the default busy wait every one succeeds, the sequence stays
//! gapless and each worker's events keep their order; with no wait the losers
//! fail cleanly with exit code 4 and leave nothing behind.
//!
//! The lock wait is a poll (sled's try-lock every 1-8 ms, varied), which is not fair:
//! on a loaded machine one process can lose every poll for the whole default
//! wait. Such a process fails with exit 4 like any loser; the test counts it,
//! prints it and retries it under the same event id (idempotent), so the
//! outcome does not depend on the machine's load.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;

use common::*;

const WORKERS: usize = 8;

fn setup(dir: &Path) -> PathBuf {
    let ledger = init(dir, "conc.ledger");
    let file = dir.join("base.jsonl");
    let mut base = String::new();
    for w in 0..WORKERS {
        base.push_str(&format!(
            "{{\"type\":\"party\",\"id\":\"w{w}\",\"name\":\"Worker {w}\"}}\n"
        ));
    }
    base.push_str("{\"type\":\"proposition\",\"id\":\"race\",\"text\":\"The race is won\"}\n");
    std::fs::write(&file, base).unwrap();
    ok(
        run(&ledger, &["append", "--jsonl", file.to_str().unwrap()]),
        "base import",
    );
    ledger
}

fn append_statement(
    ledger: &Path,
    worker: usize,
    index: usize,
    busy_wait: Option<&str>,
    event_id: Option<&str>,
) -> Output {
    let mut c = cmd(ledger);
    if let Some(ms) = busy_wait {
        c.env("ONRECORD_BUSY_WAIT_MS", ms);
    }
    c.args([
        "append",
        "statement",
        "--proposition",
        "race",
        "--party",
        &format!("w{worker}"),
        "--stance",
        "even-chance",
        "--said-at",
        "2018-11-11",
        "--quote",
        &format!("worker {worker} index {index}"),
    ]);
    if let Some(id) = event_id {
        c.args(["--event-id", id]);
    }
    c.output().expect("spawn onrecord")
}

/// Parses "worker W index I" back from a quote.
fn tag(quote: &str) -> Option<(usize, usize)> {
    let mut it = quote.split_whitespace();
    match (it.next(), it.next(), it.next(), it.next()) {
        (Some("worker"), Some(w), Some("index"), Some(i)) => {
            Some((w.parse().ok()?, i.parse().ok()?))
        }
        _ => None,
    }
}

#[test]
fn eight_workers_of_fifty_sequential_appends_all_succeed_in_order() {
    let per_worker = env_num("ONRECORD_CONC_PER_WORKER", 50) as usize;
    let started = std::time::Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let ledger = setup(dir.path());
    let base = export(&ledger).len() as u64;

    // Each append carries its own event id, so a process that gave up waiting
    // for the lock (exit 4) can be retried without any risk of a duplicate.
    let starved = std::sync::Mutex::new(Vec::<String>::new());
    let acked: Vec<Vec<(u64, String)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..WORKERS)
            .map(|w| {
                let (ledger, starved) = (&ledger, &starved);
                s.spawn(move || {
                    let mut rng = Rng::new(0x5eed + w as u64);
                    (0..per_worker)
                        .map(|i| {
                            let id = rng.uuid();
                            let mut out = append_statement(ledger, w, i, None, Some(&id));
                            while out.status.code() == Some(4) {
                                let err = text(&out.stderr);
                                assert!(err.contains("is in use by another process"), "{err}");
                                starved
                                    .lock()
                                    .unwrap()
                                    .push(format!("worker {w} append {i}: {}", err.trim()));
                                out = append_statement(ledger, w, i, None, Some(&id));
                            }
                            let out = ok(out, &format!("worker {w} append {i}"));
                            let a = acks(&text(&out.stdout));
                            assert_eq!(a.len(), 1, "worker {w} append {i}: {}", text(&out.stdout));
                            assert_eq!(a[0].1, id);
                            a[0].clone()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let starved = starved.into_inner().unwrap();
    for s in &starved {
        println!("concurrency: starved past the default busy wait, retried: {s}");
    }

    assert_verifies(&ledger);
    let events = export(&ledger);
    let n = assert_gapless(&events);
    assert_eq!(
        n,
        base + (WORKERS * per_worker) as u64,
        "every append is there once"
    );
    let ids = by_id(&events);
    let mut by_worker: BTreeMap<usize, Vec<(usize, u64)>> = BTreeMap::new();
    for e in &events {
        if let Some((w, i)) = e.value["quote"].as_str().and_then(tag) {
            assert_eq!(e.value["party"], format!("w{w}"), "{}", e.line);
            by_worker.entry(w).or_default().push((i, e.seq));
        }
    }
    for (w, acks) in acked.iter().enumerate() {
        // Each acknowledged seq holds the event printed with it.
        for (i, (seq, id)) in acks.iter().enumerate() {
            let e = ids
                .get(id)
                .unwrap_or_else(|| panic!("acknowledged {id} missing"));
            assert_eq!(e.seq, *seq);
            assert_eq!(tag(e.value["quote"].as_str().unwrap()), Some((w, i)));
        }
        // A worker's appends are in seq order in the order it made them.
        let mut mine = by_worker.remove(&w).unwrap_or_default();
        assert_eq!(mine.len(), per_worker, "worker {w}");
        mine.sort_by_key(|(_, seq)| *seq);
        let order: Vec<usize> = mine.iter().map(|(i, _)| *i).collect();
        assert_eq!(
            order,
            (0..per_worker).collect::<Vec<_>>(),
            "worker {w} order"
        );
    }
    let figures = format!(
        "concurrency: {WORKERS} workers x {per_worker} appends = {} processes, all acknowledged, seq {}..={n} gapless, \
         worker order kept, {} starved past the default busy wait (exit 4, retried), in {:.1}s",
        WORKERS * per_worker,
        base + 1,
        starved.len(),
        started.elapsed().as_secs_f64()
    );
    println!("{figures}");
}

/// Spawns `count` appends per worker with the given wait; returns (worker, index, output).
fn race(ledger: &Path, per_worker: usize, wait: &str) -> Vec<(usize, usize, Output)> {
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..WORKERS)
            .map(|w| {
                s.spawn(move || {
                    (0..per_worker)
                        .map(|i| (w, i, append_statement(ledger, w, i, Some(wait), None)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    })
}

fn assert_busy(out: &Output, ledger: &Path, what: &str) {
    assert_eq!(out.status.code(), Some(4), "{what}: {}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.starts_with("error:"), "{what}: {err}");
    assert!(
        err.contains("is in use by another process") && err.contains(&ledger.display().to_string()),
        "{what}: {err}"
    );
    assert!(
        out.stdout.is_empty(),
        "{what}: a loser printed {}",
        text(&out.stdout)
    );
}

#[test]
fn with_no_busy_wait_losers_exit_4_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = setup(dir.path());
    let before = export(&ledger);

    // Deterministic contention: this test holds the ledger open, so every append must lose.
    {
        let _held = onrecord_sled::open(&ledger, &Default::default()).unwrap();
        for (w, i, out) in race(&ledger, 2, "0") {
            assert_busy(&out, &ledger, &format!("held: worker {w} append {i}"));
        }
    }
    assert_eq!(export(&ledger).len(), before.len(), "losers wrote nothing");

    // Real contention: 8 workers x 10 appends at once, no wait. Any split of
    // winners and losers is fine; what the ledger holds must be exactly the winners.
    let results = race(&ledger, 10, "0");
    let mut winners = BTreeSet::new();
    let mut losers = 0;
    for (w, i, out) in &results {
        match out.status.code() {
            Some(0) => {
                let a = acks(&text(&out.stdout));
                assert_eq!(a.len(), 1);
                winners.insert(a[0].1.clone());
            }
            _ => {
                assert_busy(out, &ledger, &format!("race: worker {w} append {i}"));
                losers += 1;
            }
        }
    }
    assert_verifies(&ledger);
    let after = export(&ledger);
    assert_gapless(&after);
    let old: BTreeSet<_> = before.iter().map(|e| e.event_id.clone()).collect();
    let new: BTreeSet<_> = after
        .iter()
        .map(|e| e.event_id.clone())
        .filter(|id| !old.contains(id))
        .collect();
    assert_eq!(new, winners, "the ledger holds exactly the winners' events");
    let figures = format!(
        "concurrency (ONRECORD_BUSY_WAIT_MS=0): held lock: 16/16 refused with exit 4; race: {} won, {losers} lost with exit 4, ledger holds exactly the winners",
        winners.len()
    );
    println!("{figures}");
}
