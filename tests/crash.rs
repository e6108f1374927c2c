//! Crash safety: the real binary is killed with SIGKILL at seeded pseudo-random
//! moments while it imports a large JSON Lines batch or runs a loop of single
//! appends. After every kill the ledger must open and verify, every append the
//! process acknowledged on stdout must be there unchanged, and a batch must be
//! either wholly present or wholly absent.
//!
//! Scale with `ONRECORD_CRASH_ITERATIONS` (default 30) and
//! `ONRECORD_CRASH_BATCH_LINES` (default 3000); `tools/soak.sh --long` does.
//!
//! New ledgers are keyspace layout 3 (records packed 16 to a sled key,
//! docs/adr/0007): the batches span many chunks, and every batch after the
//! first single append starts inside a chunk that earlier records share, so
//! kills land while chunks holding acknowledged records are rewritten; the
//! test counts both and requires them.
//!
//! A second test kills imports of several internal chunks
//! ([`onrecord_ledger::IMPORT_CHUNK`] events each) at set fractions of their
//! running time, so kills land while the input is checked, while chunks are
//! written without the head, and around the commit; after each the ledger
//! must hold all of the file or none of it, verify, and take appends.

mod common;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::*;

const SEED: u64 = 0x6f6e_7265_636f_7264; // "onrecord"
const BASE_PARTIES: usize = 8;

/// A single append the test asked for.
struct Single {
    event_id: String,
    proposition: String,
    party: String,
    quote: String,
    /// The seq the process printed, if it printed one before it died or exited.
    acked_seq: Option<u64>,
}

/// A bulk import the test asked for.
struct Batch {
    ids: Vec<String>,
    /// The ledger's head before it (its records share a chunk with the
    /// batch's first ones unless it is a multiple of the chunk size).
    head_before: u64,
    /// Whether the process was killed before it finished.
    killed: bool,
    /// Whether the process reported success (exit 0 or its counts on stdout).
    acked: bool,
}

#[derive(Default)]
struct Tally {
    iterations: u64,
    batches: u64,
    kills_mid_batch: u64,
    batches_present: u64,
    batches_absent: u64,
    single_loops: u64,
    single_kills: u64,
    singles_attempted: u64,
    singles_acked: u64,
    singles_acked_found: u64,
    singles_unacked_found: u64,
    /// Present batches whose records span more than one chunk.
    batches_spanning_chunks: u64,
    /// Batches killed while their first chunk also held earlier records.
    kills_in_a_shared_chunk: u64,
}

/// Waits for `child` until `deadline`; kills it (SIGKILL) if still running then.
/// Returns (killed, exit code, stdout).
fn wait_or_kill(mut child: Child, deadline: Instant) -> (bool, Option<i32>, String) {
    let mut killed = false;
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if Instant::now() >= deadline {
            // On unix `kill` sends SIGKILL.
            let _ = child.kill();
            killed = true;
            break child.wait().expect("wait after kill");
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    let mut stdout = String::new();
    if let Some(mut out) = child.stdout.take() {
        let _ = out.read_to_string(&mut stdout);
    }
    (killed, status.code(), stdout)
}

fn spawn(ledger: &Path, args: &[&str]) -> Child {
    cmd(ledger)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn onrecord")
}

/// A JSON Lines batch of `lines` events under fresh ids: parties, propositions, statements.
fn batch_file(
    dir: &Path,
    b: u64,
    lines: usize,
    rng: &mut Rng,
) -> (std::path::PathBuf, Vec<String>) {
    let mut text = String::with_capacity(lines * 200);
    let mut ids = Vec::with_capacity(lines);
    let groups = 20.min(lines / 3).max(1);
    for k in 0..lines {
        let id = rng.uuid();
        let line = if k < groups {
            format!(
                r#"{{"type":"party","event_id":"{id}","id":"b{b}-p{k}","name":"Batch {b} party {k}","kind":"organization"}}"#
            )
        } else if k < 2 * groups {
            let q = k - groups;
            format!(
                r#"{{"type":"proposition","event_id":"{id}","id":"b{b}-q{q}","text":"Batch {b} proposition {q} happens","window":{{"from":"2018-11-01","to":"2018-12-31"}}}}"#
            )
        } else {
            let g = k % groups;
            let base = k % BASE_PARTIES;
            let (party, stance, credence) = if k % 2 == 0 {
                (format!("b{b}-p{g}"), "likely", "0.7")
            } else {
                (format!("p{base}"), "very-unlikely", "null")
            };
            format!(
                r#"{{"type":"statement","event_id":"{id}","proposition":"b{b}-q{g}","party":"{party}","stance":"{stance}","credence":{credence},"said_at":"2018-11-{:02}","quote":"bulk {b} line {k}","qualifiers":["batch-{b}"]}}"#,
                1 + k % 28
            )
        };
        text.push_str(&line);
        text.push('\n');
        ids.push(id);
    }
    let path = dir.join(format!("batch-{b}.jsonl"));
    std::fs::write(&path, text).expect("write batch file");
    (path, ids)
}

/// Everything that must hold after a kill.
fn check(
    ledger: &Path,
    seen: &mut BTreeMap<String, String>,
    singles: &[Single],
    batches: &[Batch],
    tally: &mut Tally,
    when: &str,
) {
    let verify = run(ledger, &["verify"]);
    assert!(
        verify.status.success(),
        "{when}: verify exit {:?}: {}{}",
        verify.status.code(),
        text(&verify.stdout),
        text(&verify.stderr)
    );
    let events = export(ledger);
    assert_gapless(&events);
    let ids = by_id(&events);
    assert_eq!(ids.len(), events.len(), "{when}: an event id appears twice");
    // History never changes: every line seen before is still there, byte for byte.
    for (id, line) in seen.iter() {
        let now = ids
            .get(id)
            .unwrap_or_else(|| panic!("{when}: event {id} vanished"));
        assert_eq!(&now.line, line, "{when}: event {id} changed");
    }
    tally.singles_acked_found = 0;
    tally.singles_unacked_found = 0;
    for s in singles {
        let found = ids.get(&s.event_id);
        if let Some(seq) = s.acked_seq {
            let e = found.unwrap_or_else(|| {
                panic!(
                    "{when}: acknowledged event {} (seq {seq}) is missing",
                    s.event_id
                )
            });
            assert_eq!(e.seq, seq, "{when}: acknowledged event moved");
            tally.singles_acked_found += 1;
        } else if found.is_some() {
            tally.singles_unacked_found += 1;
        }
        if let Some(e) = found {
            let v = &e.value;
            assert_eq!(v["type"], "statement", "{when}: {}", e.line);
            assert_eq!(v["proposition"], s.proposition.as_str(), "{}", e.line);
            assert_eq!(v["party"], s.party.as_str(), "{}", e.line);
            assert_eq!(v["quote"], s.quote.as_str(), "{}", e.line);
        }
    }
    tally.batches_present = 0;
    tally.batches_absent = 0;
    tally.batches_spanning_chunks = 0;
    tally.kills_in_a_shared_chunk = 0;
    let chunk = |seq: u64| (seq - 1) / onrecord_sled::packed::RECORDS_PER_CHUNK as u64;
    for (b, batch) in batches.iter().enumerate() {
        let present: Vec<u64> = batch
            .ids
            .iter()
            .filter_map(|id| ids.get(id).map(|e| e.seq))
            .collect();
        let shared = batch.head_before % onrecord_sled::packed::RECORDS_PER_CHUNK as u64 != 0;
        if batch.killed && shared {
            tally.kills_in_a_shared_chunk += 1;
        }
        if let (Some(first), Some(last)) = (present.first(), present.last())
            && chunk(*first) != chunk(*last)
        {
            tally.batches_spanning_chunks += 1;
        }
        if present.is_empty() {
            assert!(!batch.acked, "{when}: acknowledged batch {b} is absent");
            tally.batches_absent += 1;
        } else {
            assert_eq!(
                present.len(),
                batch.ids.len(),
                "{when}: batch {b} is partly visible: {} of {} events",
                present.len(),
                batch.ids.len()
            );
            // Wholly present, in file order, at consecutive seqs.
            for w in present.windows(2) {
                assert_eq!(w[1], w[0] + 1, "{when}: batch {b} is not contiguous");
            }
            tally.batches_present += 1;
        }
    }
    for e in events {
        seen.insert(e.event_id, e.line);
    }
}

#[test]
fn sigkill_at_random_moments_loses_no_acknowledged_event_and_no_batch_is_partial() {
    let started = Instant::now();
    let iterations = env_num("ONRECORD_CRASH_ITERATIONS", 30);
    let lines = env_num("ONRECORD_CRASH_BATCH_LINES", 3000) as usize;
    let dir = tempfile::tempdir().unwrap();
    let ledger = init(dir.path(), "crash.ledger");
    let mut rng = Rng::new(SEED);

    // Parties p0.. and propositions q0.. for the single appends to refer to.
    let mut base = String::new();
    for k in 0..BASE_PARTIES {
        base.push_str(&format!(
            "{{\"type\":\"party\",\"id\":\"p{k}\",\"name\":\"Party {k}\"}}\n{{\"type\":\"proposition\",\"id\":\"q{k}\",\"text\":\"Proposition {k} happens\"}}\n"
        ));
    }
    let base_file = dir.path().join("base.jsonl");
    std::fs::write(&base_file, base).unwrap();
    ok(
        run(&ledger, &["append", "--jsonl", base_file.to_str().unwrap()]),
        "base import",
    );

    let mut seen = BTreeMap::new();
    let mut singles: Vec<Single> = Vec::new();
    let mut batches: Vec<Batch> = Vec::new();
    let mut tally = Tally::default();

    // Calibrate: one batch run to completion says how long a batch takes here.
    let (file, ids) = batch_file(dir.path(), 0, lines, &mut rng);
    let t0 = Instant::now();
    ok(
        run(&ledger, &["append", "--jsonl", file.to_str().unwrap()]),
        "calibration batch",
    );
    let batch_ms = t0.elapsed().as_millis().max(20) as u64;
    batches.push(Batch {
        ids,
        head_before: 2 * BASE_PARTIES as u64,
        killed: false,
        acked: true,
    });
    // Calibrate single appends the same way.
    let t0 = Instant::now();
    ok(
        run(
            &ledger,
            &[
                "append",
                "statement",
                "--proposition",
                "q0",
                "--party",
                "p0",
                "--stance",
                "likely",
                "--said-at",
                "2018-11-01",
            ],
        ),
        "calibration single append",
    );
    let single_ms = t0.elapsed().as_millis().max(5) as u64;
    check(
        &ledger,
        &mut seen,
        &singles,
        &batches,
        &mut tally,
        "calibration",
    );

    for i in 0..iterations {
        tally.iterations += 1;
        if i % 2 == 0 {
            // A bulk import killed anywhere from its start to half again past its usual end.
            tally.batches += 1;
            let b = batches.len() as u64;
            let head_before = seen.len() as u64;
            let (file, ids) = batch_file(dir.path(), b, lines, &mut rng);
            let delay = rng.below(batch_ms * 3 / 2 + 1);
            let child = spawn(&ledger, &["append", "--jsonl", file.to_str().unwrap()]);
            let (killed, code, stdout) =
                wait_or_kill(child, Instant::now() + Duration::from_millis(delay));
            if !killed {
                assert_eq!(code, Some(0), "batch {b} failed on its own: {stdout}");
            } else {
                tally.kills_mid_batch += 1;
            }
            batches.push(Batch {
                ids,
                head_before,
                killed,
                acked: !killed || !stdout.trim().is_empty(),
            });
            let _ = std::fs::remove_file(file);
        } else {
            // A loop of single appends; whichever is running at the moment is killed.
            tally.single_loops += 1;
            let budget = rng.below(single_ms * 8 + 1);
            let deadline = Instant::now() + Duration::from_millis(budget);
            for j in 0.. {
                let k = rng.below(BASE_PARTIES as u64);
                let event_id = rng.uuid();
                let quote = format!("single {i} {j}");
                let (prop, party) = (format!("q{k}"), format!("p{k}"));
                let child = spawn(
                    &ledger,
                    &[
                        "append",
                        "statement",
                        "--proposition",
                        &prop,
                        "--party",
                        &party,
                        "--stance",
                        "unlikely",
                        "--said-at",
                        "2018-11-07",
                        "--quote",
                        &quote,
                        "--event-id",
                        &event_id,
                    ],
                );
                tally.singles_attempted += 1;
                let (killed, code, stdout) = wait_or_kill(child, deadline);
                let acked = acks(&stdout);
                if let Some((_, printed)) = acked.first() {
                    assert_eq!(printed, &event_id, "the printed id is the one given");
                }
                if !killed {
                    assert_eq!(code, Some(0), "single append failed on its own: {stdout}");
                    assert_eq!(acked.len(), 1, "no acknowledgement printed: {stdout}");
                }
                if !acked.is_empty() {
                    tally.singles_acked += 1;
                }
                singles.push(Single {
                    event_id,
                    proposition: prop,
                    party,
                    quote,
                    acked_seq: acked.first().map(|(s, _)| *s),
                });
                if killed {
                    tally.single_kills += 1;
                    break;
                }
            }
        }
        check(
            &ledger,
            &mut seen,
            &singles,
            &batches,
            &mut tally,
            &format!("after iteration {i}"),
        );
    }

    let figures = format!(
        "crash: {} iterations in {:.1}s (batch of {lines} lines took {batch_ms} ms, a single append {single_ms} ms); \
         {} batches, {} killed mid-batch; batches present {} / absent {} (incl. calibration); \
         {} single-append loops, {} killed; single appends attempted {}, acknowledged {}, acknowledged and found {}, \
         unacknowledged but durable {}; ledger holds {} events; batches spanning chunks {}, killed in a shared chunk {}",
        tally.iterations,
        started.elapsed().as_secs_f64(),
        tally.batches,
        tally.kills_mid_batch,
        tally.batches_present,
        tally.batches_absent,
        tally.single_loops,
        tally.single_kills,
        tally.singles_attempted,
        tally.singles_acked,
        tally.singles_acked_found,
        tally.singles_unacked_found,
        seen.len(),
        tally.batches_spanning_chunks,
        tally.kills_in_a_shared_chunk
    );
    println!("{figures}");
    assert!(tally.iterations >= 30 || iterations < 30);
    assert_eq!(tally.singles_acked, tally.singles_acked_found);
    // Layout 3's cases were exercised: batches across chunks, and kills while
    // a chunk holding earlier, acknowledged records was being rewritten.
    assert!(tally.batches_spanning_chunks >= 1, "{figures}");
    assert!(
        tally.kills_in_a_shared_chunk >= 1 || tally.kills_mid_batch == 0,
        "{figures}"
    );
}

/// Copies the ledger directory (the process that held it is dead) and says
/// whether the copy holds an import that was written in part: the mark that
/// `Ledger::open` finds and undoes. The copy is opened without the engine
/// (which would undo it), so the ledger itself is left for the binary to open.
fn holds_a_partial_import(ledger: &Path) -> bool {
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
    let copy = tempfile::tempdir().unwrap();
    copy_dir(ledger, copy.path());
    let db = onrecord_sled::RawLedger::open(copy.path()).expect("open the copy's keyspace");
    db.get(b"Mimport").expect("read the copy").is_some()
}

#[test]
fn sigkill_during_an_import_of_several_chunks_leaves_all_of_it_or_none_and_the_ledger_usable() {
    let lines = (onrecord_ledger::IMPORT_CHUNK as usize) * 5 / 2;
    let dir = tempfile::tempdir().unwrap();
    let ledger = init(dir.path(), "chunks.ledger");
    let mut rng = Rng::new(SEED ^ 0x63_6875_6e6b); // "chunk"
    let mut base = String::new();
    for k in 0..BASE_PARTIES {
        base.push_str(&format!(
            "{{\"type\":\"party\",\"id\":\"p{k}\",\"name\":\"Party {k}\"}}\n"
        ));
    }
    let base_file = dir.path().join("base.jsonl");
    std::fs::write(&base_file, base).unwrap();
    ok(
        run(&ledger, &["append", "--jsonl", base_file.to_str().unwrap()]),
        "base import",
    );

    let mut seen = BTreeMap::new();
    let mut singles: Vec<Single> = Vec::new();
    let mut batches: Vec<Batch> = Vec::new();
    let mut tally = Tally::default();
    let (file, ids) = batch_file(dir.path(), 0, lines, &mut rng);
    let t0 = Instant::now();
    ok(
        run(&ledger, &["append", "--jsonl", file.to_str().unwrap()]),
        "calibration import",
    );
    let import_ms = t0.elapsed().as_millis().max(50) as u64;
    batches.push(Batch {
        ids,
        head_before: BASE_PARTIES as u64,
        killed: false,
        acked: true,
    });
    check(
        &ledger,
        &mut seen,
        &singles,
        &batches,
        &mut tally,
        "calibration",
    );

    // Percent of a whole import's time at which each kill comes.
    let points = [10u64, 35, 55, 70, 85, 100];
    let mut partial = 0;
    for (i, percent) in points.iter().enumerate() {
        let b = batches.len() as u64;
        let head_before = seen.len() as u64;
        let (file, ids) = batch_file(dir.path(), b, lines, &mut rng);
        let child = spawn(&ledger, &["append", "--jsonl", file.to_str().unwrap()]);
        let delay = Duration::from_millis(import_ms * percent / 100);
        let (killed, code, stdout) = wait_or_kill(child, Instant::now() + delay);
        if !killed {
            assert_eq!(code, Some(0), "import {b} failed on its own: {stdout}");
        }
        batches.push(Batch {
            ids,
            head_before,
            killed,
            acked: !killed || !stdout.trim().is_empty(),
        });
        if killed && holds_a_partial_import(&ledger) {
            partial += 1;
        }
        let when = format!("after the kill at {percent}% (import {b})");
        check(&ledger, &mut seen, &singles, &batches, &mut tally, &when);
        // The ledger takes appends after the kill.
        let event_id = rng.uuid();
        let out = ok(
            run(
                &ledger,
                &[
                    "append",
                    "statement",
                    "--proposition",
                    "b0-q0",
                    "--party",
                    "p0",
                    "--stance",
                    "likely",
                    "--said-at",
                    "2018-11-07",
                    "--quote",
                    &format!("after kill {i}"),
                    "--event-id",
                    &event_id,
                ],
            ),
            &format!("an append {when}"),
        );
        let acked = acks(&text(&out.stdout));
        assert_eq!(acked.len(), 1, "{when}: no acknowledgement");
        singles.push(Single {
            event_id,
            proposition: "b0-q0".into(),
            party: "p0".into(),
            quote: format!("after kill {i}"),
            acked_seq: Some(acked[0].0),
        });
        check(&ledger, &mut seen, &singles, &batches, &mut tally, &when);
        let _ = std::fs::remove_file(file);
    }
    println!(
        "crash (chunks): imports of {lines} lines ({} per chunk) took {import_ms} ms; {} kills, \
         {partial} left a partly written import that the next open undid; imports present {} / absent {} \
         (incl. calibration)",
        onrecord_ledger::IMPORT_CHUNK,
        points.len(),
        tally.batches_present,
        tally.batches_absent
    );
}

/// A process killed while sled writes its snapshot leaves an unfinished
/// `snap.<lsn>.generating` file; sled 0.34.7 would read it at the next open
/// and refuse the whole ledger as corrupt. The ledger must instead open with
/// every event, verify, take appends, and be rid of the unfinished file.
#[test]
fn a_kill_while_sled_writes_its_snapshot_leaves_a_ledger_that_opens_whole() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = demo_ledger(dir.path());
    let before = export(&ledger);
    // Named past any real snapshot, so sled picks it; its checksum is wrong,
    // as a file cut short by the kill is.
    let unfinished = ledger.join("snap.FFFFFFFFFFFF0000.generating");
    std::fs::write(&unfinished, [0x5au8; 4096]).unwrap();

    let after = export(&ledger);
    assert_eq!(
        after.iter().map(|e| &e.line).collect::<Vec<_>>(),
        before.iter().map(|e| &e.line).collect::<Vec<_>>(),
        "the export after the kill"
    );
    assert!(!unfinished.exists(), "the unfinished snapshot is removed");
    assert_verifies(&ledger);
    ok(
        run(
            &ledger,
            &[
                "append",
                "statement",
                "--proposition",
                "paris-meeting",
                "--party",
                "kremlin",
                "--stance",
                "likely",
                "--said-at",
                "2018-11-09",
            ],
        ),
        "append after the kill",
    );
    assert_eq!(export(&ledger).len(), before.len() + 1);
}
