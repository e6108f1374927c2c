//! `pg-bench`: onrecord on PostgreSQL against a plain-SQL baseline
//! (issue 16 item 7). Starts its own throwaway PostgreSQL cluster
//! (`synchronous_commit = on`, fsync on; with `--standby`, one synchronous
//! standby too), then on the same seeded records, side by side:
//!
//! - bulk: onrecord's `append_batch` of 1,000 against the baseline inserting
//!   the same encoded records (and their event-id and stream index rows) in
//!   one transaction per batch, no head lock, no views: the two alternate
//!   batch by batch, so the VM's drift falls on both;
//! - single appends against the baseline's one-row transactions, alternating;
//! - full replay (`records_from(1)`) against the baseline's `SELECT ... ORDER
//!   BY seq` + decode, in alternating rounds;
//! - one proposition's positions: onrecord's kept view and its SQL view
//!   against the baseline reading the proposition's stream and folding it;
//! - 1, 4 and 16 concurrent writers appending over HTTP through `onrecord
//!   serve` processes on the one database, against as many direct SQL
//!   connections each inserting one record per transaction.
//!
//! Prints the table (ratios, targets) and writes JSON like the main bench;
//! `pg_stat_statements` counts the statements each side sends. Every
//! server and cluster it started is stopped when it ends. See
//! `docs/benchmarks.md` ("PostgreSQL").
//!
//! ```sh
//! cargo build --release -p onrecord -p onrecord-bench
//! target/release/pg-bench --events 20000 --out pg.json
//! ```

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use clap::Parser;
use onrecord_bench::encode::encode_workload;
use onrecord_bench::ops::{self, BATCH};
use onrecord_bench::pg::{self, Baseline, BaselineWriter, Server, Sql};
use onrecord_bench::phases::quantile;
use onrecord_bench::report::{self, Row, Status, Unit};
use onrecord_bench::workload::{Workload, WorkloadConfig};
use onrecord_bench::{find_onrecord, workspace_root};
use onrecord_core::{EventId, InputEvent, PropositionId, draft_line};
use onrecord_ledger::{AppendRequest, Ledger, system_clock};
use onrecord_postgres::PostgresOptions;
use onrecord_postgres::test_cluster::Cluster;
use serde_json::{Value, json};

/// onrecord on PostgreSQL against a plain-SQL baseline on the same records.
#[derive(Debug, Parser)]
#[command(name = "pg-bench")]
struct Args {
    /// Events in the log (bulk appended in batches of 1,000).
    #[arg(long, default_value_t = 20_000)]
    events: usize,
    /// The workload's seed.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Single appends to time on each side.
    #[arg(long, default_value_t = 500)]
    singles: usize,
    /// Concurrent writer counts, comma-separated.
    #[arg(long, default_value = "1,4,16", value_delimiter = ',')]
    writers: Vec<usize>,
    /// Appends each concurrent writer makes, one after another.
    #[arg(long, default_value_t = 100)]
    appends: usize,
    /// `onrecord serve` processes on the one database (writers take them in turn).
    #[arg(long, default_value_t = 2)]
    servers: usize,
    /// Alternating replay rounds (the medians are judged).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Positions queries to time on each side.
    #[arg(long, default_value_t = 200)]
    queries: usize,
    /// Also start one synchronous standby (`synchronous_standby_names`): every commit waits for it.
    #[arg(long)]
    standby: bool,
    /// The onrecord binary the servers run (default: target/release/onrecord).
    #[arg(long)]
    onrecord_bin: Option<PathBuf>,
    /// Write every figure, the table and the machine info to this JSON file.
    #[arg(long)]
    out: Option<PathBuf>,
}

fn progress(msg: &str) {
    eprintln!("[pg-bench] {msg}");
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// p50, p99 and the rate of `samples` (µs) taken one after another.
fn latencies(mut samples: Vec<f64>) -> Value {
    let total: f64 = samples.iter().sum();
    let n = samples.len();
    json!({
        "samples": n,
        "p50_us": quantile(&mut samples, 0.5),
        "p99_us": quantile(&mut samples, 0.99),
        "eps": n as f64 / (total / 1e6).max(1e-9),
    })
}

/// Runs `write` on one thread per writer (its index and its connection) at
/// once: the seconds until all are done, and every append's latency.
fn timed_writers<W: Sync>(
    writers: &[W],
    write: impl Fn(usize, &W) -> Result<Vec<Duration>> + Sync,
) -> Result<(f64, Vec<Duration>)> {
    let t = Instant::now();
    let all = std::thread::scope(|scope| {
        let handles: Vec<_> = writers
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let write = &write;
                scope.spawn(move || write(i, w))
            })
            .collect();
        let mut all = Vec::new();
        for h in handles {
            all.extend(
                h.join()
                    .map_err(|_| anyhow::anyhow!("a writer panicked"))??,
            );
        }
        Ok::<_, anyhow::Error>(all)
    })?;
    Ok((t.elapsed().as_secs_f64(), all))
}

fn median(v: &[f64]) -> f64 {
    quantile(&mut v.to_vec(), 0.5)
}

/// Statement counts per database from `pg_stat_statements` since its last
/// reset: calls, server time (executing and planning) and WAL written (bytes, full-page images) per
/// database, and each database's top statements by calls.
fn statements(admin: &Sql, dbs: &[&str]) -> Result<Value> {
    let mut out = serde_json::Map::new();
    for db in dbs {
        let rows = admin.run(|c| async move {
            c.query(
                "SELECT s.calls, s.total_exec_time, left(regexp_replace(s.query, '\\s+', ' ', 'g'), 90),
                        s.wal_bytes::float8, s.wal_fpi, s.total_plan_time
                 FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
                 WHERE d.datname = $1 ORDER BY s.calls DESC",
                &[db],
            )
            .await
        })?;
        let (mut calls, mut ms, mut wal, mut fpi, mut plan) = (0i64, 0f64, 0f64, 0i64, 0f64);
        let mut top = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            let (c, t, q): (i64, f64, String) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
            let (w, f, p): (f64, i64, f64) = (row.try_get(3)?, row.try_get(4)?, row.try_get(5)?);
            calls += c;
            ms += t;
            wal += w;
            fpi += f;
            plan += p;
            if i < 12 {
                top.push(
                    json!({"calls": c, "exec_ms": t, "plan_ms": p, "wal_bytes": w, "wal_fpi": f, "query": q}),
                );
            }
        }
        out.insert(
            (*db).to_owned(),
            json!({"calls": calls, "exec_ms": ms, "plan_ms": plan, "wal_bytes": wal, "wal_fpi": fpi, "top": top}),
        );
    }
    admin.execute("SELECT pg_stat_statements_reset()")?;
    Ok(Value::Object(out))
}

fn calls(stats: &Value, db: &str) -> Option<f64> {
    stats[db]["calls"].as_f64()
}

fn main() -> Result<()> {
    let args = Args::parse();
    let bin = args.onrecord_bin.clone().or_else(find_onrecord).context(
        "no onrecord binary: `cargo build --release -p onrecord` or pass --onrecord-bin",
    )?;
    let concurrent: usize = args.writers.iter().map(|w| w * args.appends).sum();
    let config = WorkloadConfig {
        seed: args.seed,
        events: args.events,
        singles: args.singles.max(1),
    };
    let started = Instant::now();
    let w = Workload::generate(config);
    let (log, singles) = encode_workload(&w, system_clock());
    let n = log.len() as u64;
    let encoded_bytes: u64 = log.iter().map(|r| r.bytes.len() as u64).sum();
    progress(&format!(
        "generated {n} events ({} statements) and {} singles in {:.1}s",
        w.statements,
        singles.len(),
        started.elapsed().as_secs_f64()
    ));

    // The cluster: durable commits (fsync and synchronous_commit on, the
    // defaults), statement counts kept.
    progress("starting a PostgreSQL cluster (synchronous_commit = on)");
    // The standby gets the same settings: it refuses to start with fewer
    // connections than its primary.
    let settings = [
        "max_connections=200",
        "synchronous_commit=on",
        "shared_preload_libraries=pg_stat_statements",
        "pg_stat_statements.track_utility=on",
        "pg_stat_statements.track_planning=on",
    ];
    let cluster = match Cluster::start(&settings) {
        Ok(c) => c,
        Err(Ok(why)) => bail!("PostgreSQL cannot run here: {}", why.0),
        Err(Err(why)) => bail!("the PostgreSQL cluster did not start: {why}"),
    };
    let standby = if args.standby {
        progress("starting a synchronous standby");
        let s = cluster
            .standby("s1", &settings)
            .map_err(anyhow::Error::msg)
            .context("starting the standby")?;
        // One statement each: ALTER SYSTEM refuses to run in a transaction block.
        for sql in [
            "ALTER SYSTEM SET synchronous_standby_names = 's1'",
            "SELECT pg_reload_conf()",
        ] {
            cluster
                .execute("postgres", sql)
                .map_err(anyhow::Error::msg)?;
        }
        cluster.wait_for_standbys(1).map_err(anyhow::Error::msg)?;
        Some(s)
    } else {
        None
    };
    for sql in [
        "CREATE DATABASE onrecord_bench",
        "CREATE DATABASE baseline",
        "CREATE EXTENSION pg_stat_statements",
    ] {
        cluster
            .execute("postgres", sql)
            .map_err(anyhow::Error::msg)?;
    }
    let (url, base_url) = (cluster.url("onrecord_bench"), cluster.url("baseline"));
    let admin = Sql::connect(&cluster.url("postgres"))?;
    let sync_standby: String = admin.run(|c| async move {
        c.query_one("SHOW synchronous_standby_names", &[])
            .await?
            .try_get(0)
    })?;

    let ledger = onrecord_postgres::create(&url, &PostgresOptions::default())?;
    let baseline = Baseline::create(&base_url)?;

    // Bulk: the two alternate, batch by batch.
    progress(&format!(
        "bulk: {n} events in batches of {BATCH}, onrecord and the baseline alternating"
    ));
    admin.execute("SELECT pg_stat_statements_reset()")?;
    let (mut ours, mut theirs) = (Duration::ZERO, Duration::ZERO);
    let mut ids: Vec<EventId> = Vec::with_capacity(log.len());
    for (k, (events, records)) in w.events.chunks(BATCH).zip(log.chunks(BATCH)).enumerate() {
        let requests: Vec<AppendRequest> = events.iter().map(|e| ops::request(e, &ids)).collect();
        let mut run_ours = |requests: Vec<AppendRequest>| -> Result<()> {
            let t = Instant::now();
            let outcomes = ledger.append_batch(requests)?;
            ours += t.elapsed();
            ids.extend(outcomes.iter().map(|o| o.event_id()));
            Ok(())
        };
        let mut run_theirs = || -> Result<()> {
            let t = Instant::now();
            baseline.append(records)?;
            theirs += t.elapsed();
            Ok(())
        };
        if k % 2 == 0 {
            run_ours(requests)?;
            run_theirs()?;
        } else {
            run_theirs()?;
            run_ours(requests)?;
        }
    }
    ensure!(
        ledger.head().seq == n,
        "onrecord holds {}",
        ledger.head().seq
    );
    ensure!(
        baseline.count()? == n,
        "the baseline holds {}",
        baseline.count()?
    );
    let bulk_stats = statements(&admin, &["onrecord_bench", "baseline"])?;
    let bulk = json!({
        "events": n,
        "batch": BATCH,
        "onrecord": {"secs": ours.as_secs_f64(), "eps": n as f64 / ours.as_secs_f64()},
        "baseline": {"secs": theirs.as_secs_f64(), "eps": n as f64 / theirs.as_secs_f64()},
        "statements": bulk_stats,
    });
    progress(&format!(
        "bulk: onrecord {:.0} ev/s, baseline {:.0} ev/s",
        bulk["onrecord"]["eps"], bulk["baseline"]["eps"]
    ));

    // Single appends, alternating one by one.
    let m = args.singles.min(w.singles.len());
    progress(&format!("single: {m} appends each, alternating"));
    let (mut on, mut bl) = (Vec::with_capacity(m), Vec::with_capacity(m));
    for (i, (ev, record)) in w.singles.iter().zip(&singles).take(m).enumerate() {
        let req = AppendRequest::new(ev.draft.clone(), ops::bench_recorder());
        let ours = |req: AppendRequest| -> Result<f64> {
            let t = Instant::now();
            ledger.append(req)?;
            Ok(micros(t.elapsed()))
        };
        let theirs = || -> Result<f64> {
            let t = Instant::now();
            baseline.append(std::slice::from_ref(record))?;
            Ok(micros(t.elapsed()))
        };
        if i % 2 == 0 {
            on.push(ours(req)?);
            bl.push(theirs()?);
        } else {
            bl.push(theirs()?);
            on.push(ours(req)?);
        }
    }
    let total = n + m as u64;
    ensure!(
        ledger.head().seq == total,
        "onrecord holds {}",
        ledger.head().seq
    );
    ensure!(
        baseline.count()? == total,
        "the baseline holds {}",
        baseline.count()?
    );
    let single = json!({
        "appends": m,
        "onrecord": latencies(on),
        "baseline": latencies(bl),
        "statements": statements(&admin, &["onrecord_bench", "baseline"])?,
    });

    // Replay: alternating rounds after one untimed run of each.
    let rounds = args.rounds.max(1);
    progress(&format!(
        "replay: records_from(1) against SELECT + decode, {rounds} alternating rounds"
    ));
    let replay_ours = |ledger: &Ledger| -> Result<f64> {
        let t = Instant::now();
        let mut count = 0u64;
        for rec in ledger.records_from(1) {
            std::hint::black_box(rec?);
            count += 1;
        }
        ensure!(
            count == total,
            "onrecord replayed {count}; expected {total}"
        );
        Ok(t.elapsed().as_secs_f64())
    };
    let replay_theirs = || -> Result<f64> {
        let t = Instant::now();
        let count = baseline.replay()?;
        ensure!(
            count == total,
            "the baseline replayed {count}; expected {total}"
        );
        Ok(t.elapsed().as_secs_f64())
    };
    replay_ours(&ledger)?;
    replay_theirs()?;
    let (mut ro, mut rb, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let (o, b) = if round % 2 == 0 {
            let o = replay_ours(&ledger)?;
            (o, replay_theirs()?)
        } else {
            let b = replay_theirs()?;
            (replay_ours(&ledger)?, b)
        };
        ro.push(o);
        rb.push(b);
        ratios.push(b / o);
    }
    admin.execute("SELECT pg_stat_statements_reset()")?;
    replay_ours(&ledger)?;
    let replay_stats = statements(&admin, &["onrecord_bench"])?;
    let replay = json!({
        "events": total,
        "rounds": rounds,
        "onrecord": {"eps": total as f64 / median(&ro), "runs_secs": ro},
        "baseline": {"eps": total as f64 / median(&rb), "runs_secs": rb},
        "round_ratios": ratios,
        "statements_one_replay": replay_stats,
    });

    // Positions of the hottest proposition.
    let prop: PropositionId = w.hot_proposition.clone();
    progress(&format!(
        "query: positions of {prop}, {} runs each",
        args.queries
    ));
    let onrecord_sql = Sql::connect(&url)?;
    let view_sql = "SELECT party, stance, credence, said_at FROM onrecord.current_positions WHERE proposition = $1";
    let prop_text = prop.to_string();
    let expected = ledger.positions(Some(&prop))?.len();
    let (mut kept, mut view, mut fold) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..args.queries.max(1) {
        let t = Instant::now();
        let a = ledger.positions(Some(&prop))?.len();
        kept.push(micros(t.elapsed()));
        let t = Instant::now();
        let b = onrecord_sql
            .run(|c| async { c.query(view_sql, &[&prop_text]).await })?
            .len();
        view.push(micros(t.elapsed()));
        let t = Instant::now();
        let c = baseline.positions(&prop)?;
        fold.push(micros(t.elapsed()));
        ensure!(
            a == expected && b == expected && c == expected,
            "positions of {prop}: kept view {a}, SQL view {b}, baseline fold {c}"
        );
    }
    let query = json!({
        "proposition": prop_text,
        "positions": expected,
        "kept_view": latencies(kept),
        "sql_view": latencies(view),
        "baseline_stream_fold": latencies(fold),
    });
    drop(onrecord_sql);
    drop(ledger);

    // Concurrent writers: onrecord through servers, the baseline through
    // as many direct connections.
    let lines: Vec<String> = w
        .singles
        .iter()
        .map(|e| {
            draft_line(&InputEvent {
                event_id: None,
                recorded_by: None,
                draft: e.draft.clone(),
            })
        })
        .collect();
    let out = Command::new(&bin)
        .args([
            "--ledger", &url, "token", "create", "pg-bench", "--role", "append",
        ])
        .output()
        .context("onrecord token create")?;
    ensure!(
        out.status.success(),
        "token create failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bearer = format!("Bearer {}", String::from_utf8_lossy(&out.stdout).trim());
    let servers = (0..args.servers.max(1))
        .map(|_| Server::start(&bin, &url))
        .collect::<Result<Vec<_>>>()?;
    progress(&format!(
        "concurrent: {} servers ({}), writers {:?}, {} appends each",
        servers.len(),
        servers
            .iter()
            .map(|s| s.base.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        args.writers,
        args.appends
    ));
    baseline.start_sequence()?;
    let mut concurrent_runs = Vec::new();
    let mut next_line = 0usize;
    for &writers in &args.writers {
        let offset = next_line;
        next_line += writers * args.appends;
        let run_ours = || -> Result<(f64, Vec<Duration>)> {
            let agents: Vec<_> = (0..writers).map(|_| pg::agent()).collect();
            timed_writers(&agents, |i, agent| {
                let url = format!("{}/v1/events", servers[i % servers.len()].base);
                (0..args.appends)
                    .map(|j| {
                        let line = &lines[(offset + i * args.appends + j) % lines.len()];
                        pg::http_append(agent, &url, &bearer, line)
                    })
                    .collect()
            })
        };
        let run_theirs = || -> Result<(f64, Vec<Duration>)> {
            let conns = (0..writers)
                .map(|_| BaselineWriter::connect(&base_url))
                .collect::<Result<Vec<_>>>()?;
            timed_writers(&conns, |i, conn| {
                (0..args.appends)
                    .map(|j| conn.append(&singles[(offset + i * args.appends + j) % singles.len()]))
                    .collect()
            })
        };
        let ((os, mut ol), (bs, mut bl)) = (run_ours()?, run_theirs()?);
        ol.sort_unstable();
        bl.sort_unstable();
        let pct = |v: &[Duration], p: f64| micros(v[((v.len() as f64 - 1.0) * p).round() as usize]);
        let run = json!({
            "writers": writers,
            "appends": ol.len(),
            "onrecord": {"secs": os, "eps": ol.len() as f64 / os, "p50_us": pct(&ol, 0.5), "p99_us": pct(&ol, 0.99)},
            "baseline": {"secs": bs, "eps": bl.len() as f64 / bs, "p50_us": pct(&bl, 0.5), "p99_us": pct(&bl, 0.99)},
        });
        progress(&format!(
            "concurrent: {writers} writers: onrecord {:.0} appends/s (p50 {:.0} us, p99 {:.0} us), baseline {:.0}/s",
            run["onrecord"]["eps"],
            run["onrecord"]["p50_us"],
            run["onrecord"]["p99_us"],
            run["baseline"]["eps"]
        ));
        concurrent_runs.push(run);
    }
    drop(servers);
    let after = onrecord_postgres::open(&url, &PostgresOptions::default())?;
    let final_total = total + concurrent as u64;
    ensure!(
        after.head().seq == final_total,
        "onrecord holds {} after the concurrent writers; expected {final_total}",
        after.head().seq
    );
    let size_on_disk = after.size_on_disk()?;
    drop(after);
    ensure!(
        baseline.count()? == final_total,
        "the baseline holds {}",
        baseline.count()?
    );
    let baseline_bytes = baseline.size_bytes()?;
    drop(baseline);
    drop(admin);
    drop(standby);
    cluster.stop();

    let figures = json!({
        "bulk": bulk,
        "single": single,
        "replay": replay,
        "query": query,
        "concurrent": concurrent_runs,
        "footprint": {
            "encoded_bytes": encoded_bytes,
            "onrecord_schema_bytes": size_on_disk,
            "baseline_table_bytes": baseline_bytes,
            "events": final_total,
        },
        "synchronous_standby_names": sync_standby,
    });
    let rows = rows(&figures);
    let table = report::table(&rows);
    let machine = onrecord_bench::machine::info(&workspace_root());
    println!();
    println!(
        "pg-bench: N = {n} events, seed {}, {m} single appends, synchronous_commit = on, standby: {}",
        args.seed,
        if sync_standby.is_empty() {
            "none".to_owned()
        } else {
            sync_standby.clone()
        }
    );
    println!(
        "machine: {} x {}, kernel {}, {}",
        machine["nproc"],
        machine["cpu"].as_str().unwrap_or("?"),
        machine["kernel"].as_str().unwrap_or("?"),
        machine["date"].as_str().unwrap_or("?")
    );
    println!();
    print!("{table}");
    if let Some(out) = &args.out {
        let doc = json!({
            "machine": machine,
            "config": {
                "events": n, "seed": args.seed, "singles": m, "batch": BATCH,
                "writers": args.writers, "appends": args.appends, "servers": args.servers,
                "rounds": rounds, "queries": args.queries, "standby": args.standby,
            },
            "figures": figures,
            "rows": rows,
            "table_markdown": table,
        });
        std::fs::write(out, serde_json::to_string_pretty(&doc)? + "\n")
            .with_context(|| out.display().to_string())?;
        progress(&format!("wrote {}", out.display()));
    }
    Ok(())
}

/// One row of the table; its status from `target` (value/baseline at least
/// `min_ratio`), or info.
fn row(
    key: &str,
    scenario: &str,
    unit: Unit,
    (value, baseline): (Option<f64>, Option<f64>),
    baseline_name: &str,
    min_ratio: Option<f64>,
) -> Row {
    let ratio = match (value, baseline) {
        (Some(v), Some(b)) if b > 0.0 => Some(v / b),
        _ => None,
    };
    let (target, status) = match (min_ratio, ratio) {
        (None, _) => ("-".to_owned(), Status::Info),
        (Some(t), None) => (format!(">= {t}x baseline"), Status::Skip),
        (Some(t), Some(r)) => (
            format!(">= {t}x baseline"),
            if r >= t { Status::Pass } else { Status::Miss },
        ),
    };
    Row {
        key: key.into(),
        scenario: scenario.into(),
        value,
        unit,
        baseline_name: baseline_name.into(),
        baseline,
        ratio,
        target,
        status,
    }
}

/// The results table of `pg-bench`'s figures.
fn rows(f: &Value) -> Vec<Row> {
    let g = |v: &Value| v.as_f64();
    let eps = Unit::EventsPerSec;
    let us = Unit::Micros;
    let per = Unit::StatementsPerEvent;
    let plain = "plain SQL, 1 txn/batch";
    let mut rows = vec![
        row(
            "pg_bulk",
            "bulk durable append, batches of 1,000",
            eps,
            (
                g(&f["bulk"]["onrecord"]["eps"]),
                g(&f["bulk"]["baseline"]["eps"]),
            ),
            plain,
            Some(0.7),
        ),
        row(
            "pg_bulk_statements",
            "bulk: statements sent per event",
            per,
            (
                calls(&f["bulk"]["statements"], "onrecord_bench")
                    .zip(g(&f["bulk"]["events"]))
                    .map(|(c, n)| c / n),
                calls(&f["bulk"]["statements"], "baseline")
                    .zip(g(&f["bulk"]["events"]))
                    .map(|(c, n)| c / n),
            ),
            plain,
            None,
        ),
        row(
            "pg_single",
            "single durable append",
            eps,
            (
                g(&f["single"]["onrecord"]["eps"]),
                g(&f["single"]["baseline"]["eps"]),
            ),
            "plain SQL, 1 txn/event",
            Some(0.7),
        ),
    ];
    for (key, p) in [("p50", "p50_us"), ("p99", "p99_us")] {
        rows.push(row(
            &format!("pg_single_{key}"),
            &format!("single durable append, {key} latency"),
            us,
            (
                g(&f["single"]["onrecord"][p]),
                g(&f["single"]["baseline"][p]),
            ),
            "plain SQL, 1 txn/event",
            None,
        ));
    }
    rows.push(row(
        "pg_single_statements",
        "single: statements sent per append",
        per,
        (
            calls(&f["single"]["statements"], "onrecord_bench")
                .zip(g(&f["single"]["appends"]))
                .map(|(c, n)| c / n),
            calls(&f["single"]["statements"], "baseline")
                .zip(g(&f["single"]["appends"]))
                .map(|(c, n)| c / n),
        ),
        "plain SQL, 1 txn/event",
        None,
    ));
    rows.push(row(
        "pg_replay",
        "full replay (records_from, decoded)",
        eps,
        (
            g(&f["replay"]["onrecord"]["eps"]),
            g(&f["replay"]["baseline"]["eps"]),
        ),
        "SELECT ORDER BY seq + decode",
        Some(0.8),
    ));
    for (key, name, side) in [
        (
            "pg_query_kept",
            "positions of one proposition, kept view",
            "kept_view",
        ),
        (
            "pg_query_view",
            "same, SQL view current_positions",
            "sql_view",
        ),
    ] {
        for p in ["p50", "p99"] {
            rows.push(row(
                &format!("{key}_{p}"),
                &format!("{name}, {p}"),
                us,
                (
                    g(&f["query"][side][format!("{p}_us")]),
                    g(&f["query"]["baseline_stream_fold"][format!("{p}_us")]),
                ),
                "plain SQL: its stream's records + fold",
                None,
            ));
        }
    }
    for run in f["concurrent"].as_array().into_iter().flatten() {
        let w = run["writers"].as_u64().unwrap_or(0);
        let name = format!("{w} concurrent writers through servers (HTTP)");
        rows.push(row(
            &format!("pg_writers_{w}"),
            &name,
            eps,
            (g(&run["onrecord"]["eps"]), g(&run["baseline"]["eps"])),
            &format!("{w} SQL connections, 1 txn/event"),
            None,
        ));
        for p in ["p50", "p99"] {
            rows.push(row(
                &format!("pg_writers_{w}_{p}"),
                &format!("{name}, {p}"),
                us,
                (
                    g(&run["onrecord"][format!("{p}_us")]),
                    g(&run["baseline"][format!("{p}_us")]),
                ),
                &format!("{w} SQL connections, 1 txn/event"),
                None,
            ));
        }
    }
    let fp = &f["footprint"];
    let per_event = |v: Option<f64>| v.zip(g(&fp["events"])).map(|(b, n)| b / n);
    rows.push(row(
        "pg_disk",
        "bytes in the database per event",
        Unit::BytesPerEvent,
        (
            per_event(g(&fp["onrecord_schema_bytes"])),
            per_event(g(&fp["baseline_table_bytes"])),
        ),
        "plain SQL tables + indexes",
        None,
    ));
    rows
}
