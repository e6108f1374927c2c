//! The scenarios, one phase each. The bench runs every phase in a child
//! process of its own (`onrecord-bench --phase NAME ...`) so that each phase's
//! peak RSS (`VmHWM`) is its own. A phase returns its figures as JSON and
//! fails (non-zero exit) when a count is wrong: counts are asserted, timings never.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use onrecord_core::{PropositionId, When};
use onrecord_ledger::{AppendRequest, system_clock};
use onrecord_projections::Filter;
use serde_json::{Value, json};

use crate::baselines::{PlainFile, RawSled, Sqlite};
use crate::encode::encode_workload;
use crate::ops::{self, BATCH};
use crate::workload::{Workload, WorkloadConfig};

/// What every phase is told.
#[derive(Debug, Clone)]
pub struct PhaseArgs {
    /// The directory holding every store of this run.
    pub dir: PathBuf,
    /// The workload.
    pub config: WorkloadConfig,
    /// The proposition the queries ask about.
    pub proposition: Option<String>,
    /// The valid time the `as_of` query uses.
    pub as_of: Option<String>,
    /// The `onrecord` binary for the end-to-end query, if found.
    pub onrecord_bin: Option<PathBuf>,
    /// Samples for the in-process kept-view query.
    pub query_samples: usize,
    /// Samples for the full-fold query.
    pub slow_samples: usize,
    /// Samples for the end-to-end query.
    pub cli_samples: usize,
    /// How many rounds the paired replay runs (and how many times SQLite's
    /// replay runs); their figures are the median runs.
    pub replay_runs: usize,
}

/// Where each store lives inside the run directory.
pub fn ledger_dir(dir: &Path) -> PathBuf {
    dir.join("onrecord")
}
fn sled_dir(dir: &Path) -> PathBuf {
    dir.join("sled")
}
fn sqlite_path(dir: &Path) -> PathBuf {
    dir.join("sqlite.db")
}
fn file_path(dir: &Path) -> PathBuf {
    dir.join("plain.log")
}

/// This process's peak resident set size in KiB (`VmHWM`), if readable.
pub fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Bytes allocated on disk under `path` (like `du`): blocks, not apparent length.
pub fn disk_bytes(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if meta.is_dir() {
        std::fs::read_dir(path)
            .map(|rd| rd.flatten().map(|e| disk_bytes(&e.path())).sum())
            .unwrap_or(0)
    } else {
        meta.blocks() * 512
    }
}

fn rate(events: u64, d: Duration) -> f64 {
    events as f64 / d.as_secs_f64().max(1e-9)
}

/// The `p`-quantile (0..=1) of some samples, nearest rank.
pub fn quantile(samples: &mut [f64], p: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    samples.sort_by(f64::total_cmp);
    let rank = ((p * samples.len() as f64).ceil() as usize).clamp(1, samples.len());
    samples[rank - 1]
}

fn timed<T>(f: impl FnOnce() -> Result<T>) -> Result<(T, Duration)> {
    let t = Instant::now();
    let v = f()?;
    Ok((v, t.elapsed()))
}

/// Runs `f` `runs` times (at least once); returns the last result, the median
/// duration ([`quantile`] 0.5) and every run's seconds. One replay on a shared
/// VM can be 10-20 % off; the median of a few is what the ratio should rest on.
fn timed_median<T>(
    runs: usize,
    mut f: impl FnMut() -> Result<T>,
) -> Result<(T, Duration, Vec<f64>)> {
    let mut secs = Vec::with_capacity(runs.max(1));
    let (mut last, d) = timed(&mut f)?;
    secs.push(d.as_secs_f64());
    for _ in 1..runs {
        let (v, d) = timed(&mut f)?;
        secs.push(d.as_secs_f64());
        last = v;
    }
    let median = quantile(&mut secs.clone(), 0.5);
    Ok((last, Duration::from_secs_f64(median), secs))
}

fn progress(msg: &str) {
    eprintln!("[onrecord-bench] {msg}");
}

/// Runs the phase called `name`.
pub fn run(name: &str, args: &PhaseArgs) -> Result<Value> {
    match name {
        "bulk" => bulk(args),
        "verify" => verify(args),
        "replay-onrecord" => replay_onrecord(args),
        "replay-sled" => replay_sled(args),
        "replay-sqlite" => replay_sqlite(args),
        "replay-paired" => replay_paired(args),
        "export" => export(args),
        "query" => query(args),
        "single" => single(args),
        "import" => import(args),
        "import-file" => import_file(args),
        other => bail!("unknown phase `{other}`"),
    }
}

/// The phases in the order the bench runs them.
pub const PHASES: [&str; 10] = [
    "bulk",
    "verify",
    "replay-onrecord",
    "replay-sled",
    "replay-sqlite",
    "replay-paired",
    "export",
    "query",
    "single",
    "import",
];

/// How many keys sled holds in the ledger at `path` (chunks in layout 3,
/// engine keys before it), counted with sled itself once the ledger is closed.
fn sled_key_count(path: &std::path::Path) -> Result<u64> {
    let started = std::time::Instant::now();
    let db = loop {
        match sled::open(path) {
            Ok(db) => break db,
            // sled's flusher can hold the lock a moment after the ledger closed.
            Err(_) if started.elapsed() < std::time::Duration::from_secs(10) => {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(e) => return Err(e.into()),
        }
    };
    Ok(db.len() as u64)
}

fn bulk(args: &PhaseArgs) -> Result<Value> {
    let dir = &args.dir;
    let n = args.config.events as u64;
    let (w, gen_time) = timed(|| Ok(Workload::generate(args.config)))?;
    let (log, _) = encode_workload(&w, system_clock());
    let encoded_bytes: u64 = log.iter().map(|r| r.bytes.len() as u64).sum();
    progress(&format!(
        "generated {n} events in {:.1}s ({} parties, {} propositions, {} statements, {} retractions, {} resolutions)",
        gen_time.as_secs_f64(),
        w.parties,
        w.propositions,
        w.statements,
        w.retractions,
        w.resolutions
    ));

    progress("bulk: onrecord append_batch");
    let ledger = onrecord_sled::create(&ledger_dir(dir), &ops::options())?;
    let (onrecord_time, _) = ops::append_log(&ledger, &w, BATCH)?;
    ensure!(
        ledger.head().seq == n,
        "onrecord holds {} events after the bulk append; expected {n}",
        ledger.head().seq
    );
    let size_on_disk = ledger.size_on_disk()?;
    drop(ledger);
    let onrecord_disk = disk_bytes(&ledger_dir(dir));
    let onrecord_sled_keys = sled_key_count(&ledger_dir(dir))?;
    progress(&format!(
        "bulk: the ledger holds {onrecord_sled_keys} sled keys ({:.3} per event)",
        onrecord_sled_keys as f64 / n as f64
    ));
    let (w_parties, w_props, w_statements, w_retractions, w_resolutions) = (
        w.parties,
        w.propositions,
        w.statements,
        w.retractions,
        w.resolutions,
    );
    let (hot, as_of) = (w.hot_proposition.clone(), w.as_of_midpoint);
    drop(w);

    progress("bulk: raw sled apply_batch + flush + fdatasync");
    let raw = RawSled::open(&sled_dir(dir))?;
    let ((), sled_time) = timed(|| {
        for chunk in log.chunks(BATCH) {
            raw.append(chunk)?;
        }
        Ok(())
    })?;
    ensure!(
        raw.count() as u64 == n,
        "raw sled holds {} records",
        raw.count()
    );
    drop(raw);

    progress("bulk: SQLite (WAL, synchronous=FULL), one transaction per batch");
    let mut sql = Sqlite::open(&sqlite_path(dir))?;
    let ((), sqlite_time) = timed(|| {
        for chunk in log.chunks(BATCH) {
            sql.append(chunk)?;
        }
        Ok(())
    })?;
    ensure!(sql.count()? == n, "SQLite holds {} events", sql.count()?);
    drop(sql);

    progress("bulk: plain file, one fdatasync per batch");
    let mut file = PlainFile::open(&file_path(dir))?;
    let ((), file_time) = timed(|| {
        for chunk in log.chunks(BATCH) {
            file.append(chunk)?;
        }
        Ok(())
    })?;
    let file_count = PlainFile::count(&file_path(dir))?;
    ensure!(file_count == n, "the plain file holds {file_count} records");

    let sqlite_disk = disk_bytes(&sqlite_path(dir))
        + disk_bytes(&dir.join("sqlite.db-wal"))
        + disk_bytes(&dir.join("sqlite.db-shm"));
    Ok(json!({
        "events": n,
        "batch": BATCH,
        "generate_secs": gen_time.as_secs_f64(),
        "onrecord": {"secs": onrecord_time.as_secs_f64(), "eps": rate(n, onrecord_time)},
        "sled": {"secs": sled_time.as_secs_f64(), "eps": rate(n, sled_time)},
        "sqlite": {"secs": sqlite_time.as_secs_f64(), "eps": rate(n, sqlite_time)},
        "file": {"secs": file_time.as_secs_f64(), "eps": rate(n, file_time)},
        "footprint": {
            "encoded_bytes": encoded_bytes,
            "onrecord_disk_bytes": onrecord_disk,
            "onrecord_size_on_disk": size_on_disk,
            "onrecord_sled_keys": onrecord_sled_keys,
            "sled_disk_bytes": disk_bytes(&sled_dir(dir)),
            "sqlite_disk_bytes": sqlite_disk,
            "file_disk_bytes": disk_bytes(&file_path(dir)),
        },
        "workload": {
            "parties": w_parties,
            "propositions": w_props,
            "statements": w_statements,
            "retractions": w_retractions,
            "resolutions": w_resolutions,
            "hot_proposition": hot.to_string(),
            "as_of": as_of.to_string(),
        },
        "vm_hwm_kib": vm_hwm_kib(),
    }))
}

fn verify(args: &PhaseArgs) -> Result<Value> {
    let n = args.config.events as u64;
    let ledger = ops::open_expecting(&ledger_dir(&args.dir), n)?;
    progress("verify: hash chain, sequence, indexes, kept views");
    let (report, t) = timed(|| Ok(ledger.verify(&mut |_, _| {})?))?;
    ensure!(
        report.damage.is_none(),
        "verify found damage: {:?}",
        report.damage
    );
    let onrecord_ledger::ViewsVerified::Equal { positions } = report.views else {
        bail!("verify did not compare the kept views: {:?}", report.views);
    };
    ensure!(
        report.records == n,
        "verify checked {} records; expected {n}",
        report.records
    );
    Ok(
        json!({"events": n, "secs": t.as_secs_f64(), "eps": rate(n, t), "view_positions": positions, "vm_hwm_kib": vm_hwm_kib()}),
    )
}

fn replay_onrecord(args: &PhaseArgs) -> Result<Value> {
    let n = args.config.events as u64;
    let ledger = ops::open_expecting(&ledger_dir(&args.dir), n)?;
    // One run, for this phase's peak RSS; the replay rate the table judges
    // comes from `replay-paired`, which alternates with raw sled.
    progress("replay: onrecord records_from(1) + PositionsFold, once (peak RSS)");
    let ((count, positions), t, runs) = timed_median(1, || ops::fold_all(&ledger))?;
    ensure!(count == n, "replay read {count} records; expected {n}");
    let fold_hwm = vm_hwm_kib();
    progress("replay: onrecord rebuild_views");
    let started = Instant::now();
    let rebuilt = ops::rebuild_views(&ledger).context("rebuild_views")?;
    let d = started.elapsed();
    let rebuild = json!({"secs": d.as_secs_f64(), "eps": rate(n, d), "records": rebuilt});
    Ok(json!({
        "events": n,
        "secs": t.as_secs_f64(),
        "eps": rate(n, t),
        "positions": positions,
        "runs_secs": runs,
        "fold_vm_hwm_kib": fold_hwm,
        "rebuild_views": rebuild,
        "vm_hwm_kib": vm_hwm_kib(),
    }))
}

fn replay_sled(args: &PhaseArgs) -> Result<Value> {
    let n = args.config.events as u64;
    let raw = RawSled::open(&sled_dir(&args.dir))?;
    progress("replay: raw sled scan + decode, once (peak RSS)");
    let (count, t, runs) = timed_median(1, || raw.replay())?;
    ensure!(
        count == n,
        "raw sled replay read {count} records; expected {n}"
    );
    Ok(
        json!({"events": n, "secs": t.as_secs_f64(), "eps": rate(n, t), "runs_secs": runs, "vm_hwm_kib": vm_hwm_kib()}),
    )
}

/// Full replays of onrecord (fold) and of raw sled (scan + decode) in
/// alternation in one process: each round runs both, the one going first
/// alternating between rounds, so that the VM's drift (10-45 % between runs
/// minutes apart) falls on both alike, after one untimed warm-up run of
/// each. The replay rows of the table rest on the medians of these runs;
/// each round's own ratio is kept too.
fn replay_paired(args: &PhaseArgs) -> Result<Value> {
    let n = args.config.events as u64;
    let ledger = ops::open_expecting(&ledger_dir(&args.dir), n)?;
    let raw = RawSled::open(&sled_dir(&args.dir))?;
    let rounds = args.replay_runs.max(1);
    progress(&format!(
        "replay: onrecord fold and raw sled scan + decode, alternating, {rounds} rounds"
    ));
    let fold = || -> Result<f64> {
        let ((count, _), d) = timed(|| ops::fold_all(&ledger))?;
        ensure!(count == n, "replay read {count} records; expected {n}");
        Ok(d.as_secs_f64())
    };
    let scan = || -> Result<f64> {
        let (count, d) = timed(|| raw.replay())?;
        ensure!(
            count == n,
            "raw sled replay read {count} records; expected {n}"
        );
        Ok(d.as_secs_f64())
    };
    // One untimed run of each first: the first read of a store after it was
    // written or opened pays for faulting its files and sled's page table in.
    fold()?;
    scan()?;
    let (mut ours, mut sled, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let (o, s) = if round % 2 == 0 {
            let o = fold()?;
            (o, scan()?)
        } else {
            let s = scan()?;
            (fold()?, s)
        };
        ours.push(o);
        sled.push(s);
        // onrecord's rate over raw sled's: (n / o) / (n / s).
        ratios.push(s / o);
    }
    let median = |v: &[f64]| quantile(&mut v.to_vec(), 0.5);
    let eps = |secs: f64| n as f64 / secs.max(1e-9);
    Ok(json!({
        "events": n,
        "rounds": rounds,
        "onrecord": {"eps": eps(median(&ours)), "runs_secs": ours},
        "sled": {"eps": eps(median(&sled)), "runs_secs": sled},
        "round_ratios": ratios,
        "median_round_ratio": median(&ratios),
        "vm_hwm_kib": vm_hwm_kib(),
    }))
}

/// What checking the chain costs `export` and `replay`: the records read and
/// decoded (`records`) against the same read with each record hashed and
/// proven by its successor (`records_checked`), in alternation as in
/// `replay-paired`; and what reading a read-only ledger costs up front: a
/// copy of its files (what `Ledger::open` does when it may not write them).
fn export(args: &PhaseArgs) -> Result<Value> {
    let n = args.config.events as u64;
    let path = ledger_dir(&args.dir);
    let ledger = ops::open_expecting(&path, n)?;
    let rounds = args.replay_runs.max(1);
    progress(&format!(
        "export: records vs chain-checked records, alternating, {rounds} rounds"
    ));
    let plain = || -> Result<f64> {
        let (count, d) = timed(|| {
            let mut count = 0u64;
            for rec in ledger.records_from(1) {
                rec?;
                count += 1;
            }
            Ok(count)
        })?;
        ensure!(count == n, "read {count} records; expected {n}");
        Ok(d.as_secs_f64())
    };
    let checked = || -> Result<f64> {
        let (count, d) = timed(|| {
            let mut count = 0u64;
            for rec in ledger.records_checked(1, u64::MAX) {
                rec?;
                count += 1;
            }
            Ok(count)
        })?;
        ensure!(count == n, "checked {count} records; expected {n}");
        Ok(d.as_secs_f64())
    };
    plain()?;
    checked()?;
    let (mut plains, mut checks) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        if round % 2 == 0 {
            plains.push(plain()?);
            checks.push(checked()?);
        } else {
            checks.push(checked()?);
            plains.push(plain()?);
        }
    }
    drop(ledger);
    let median = |v: &[f64]| quantile(&mut v.to_vec(), 0.5);
    let eps = |secs: f64| n as f64 / secs.max(1e-9);
    progress("export: copying the ledger's files, as a read-only open does");
    let copy_dir = args.dir.join("read-only-copy");
    let (bytes, copy_time) = timed(|| {
        std::fs::create_dir_all(&copy_dir)?;
        let mut bytes = 0u64;
        for entry in std::fs::read_dir(&path)? {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                bytes += std::fs::copy(entry.path(), copy_dir.join(entry.file_name()))?;
            }
        }
        Ok(bytes)
    })?;
    std::fs::remove_dir_all(&copy_dir)?;
    Ok(json!({
        "events": n,
        "rounds": rounds,
        "records": {"eps": eps(median(&plains)), "runs_secs": plains},
        "checked": {"eps": eps(median(&checks)), "runs_secs": checks},
        "checked_over_records": median(&checks) / median(&plains).max(1e-9),
        "read_only_copy": {"bytes": bytes, "secs": copy_time.as_secs_f64()},
        "vm_hwm_kib": vm_hwm_kib(),
    }))
}

fn replay_sqlite(args: &PhaseArgs) -> Result<Value> {
    let n = args.config.events as u64;
    let sql = Sqlite::open(&sqlite_path(&args.dir))?;
    progress(&format!(
        "replay: SQLite SELECT ORDER BY seq + decode, {} runs",
        args.replay_runs
    ));
    let (count, t, runs) = timed_median(args.replay_runs, || sql.replay())?;
    ensure!(
        count == n,
        "SQLite replay read {count} records; expected {n}"
    );
    Ok(
        json!({"events": n, "secs": t.as_secs_f64(), "eps": rate(n, t), "runs_secs": runs, "vm_hwm_kib": vm_hwm_kib()}),
    )
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn summary(mut samples: Vec<f64>) -> Value {
    let n = samples.len();
    json!({
        "samples": n,
        "p50_us": quantile(&mut samples, 0.50),
        "p99_us": quantile(&mut samples, 0.99),
        "max_us": quantile(&mut samples, 1.0),
    })
}

fn query(args: &PhaseArgs) -> Result<Value> {
    let n = args.config.events as u64;
    let dir = ledger_dir(&args.dir);
    let prop_text = args.proposition.as_deref().context("--proposition")?;
    let prop = PropositionId::new(prop_text)?;
    let as_of_text = args.as_of.as_deref().context("--as-of")?;
    let as_of: When = as_of_text.parse()?;
    let mut notes: Vec<String> = Vec::new();
    let ledger = ops::open_expecting(&dir, n)?;

    progress(&format!("query: kept view of {prop}"));
    let kept = {
        let positions = ops::kept_view_positions(&ledger, &prop).context("kept view")?;
        let mut samples = Vec::with_capacity(args.query_samples);
        for _ in 0..args.query_samples {
            let t = Instant::now();
            let got = ops::kept_view_positions(&ledger, &prop).context("kept view")?;
            samples.push(micros(t.elapsed()));
            ensure!(got == positions, "the kept view changed between reads");
        }
        let mut v = summary(samples);
        v["positions"] = json!(positions);
        v
    };

    progress(&format!("query: full fold of {prop} as of {as_of_text}"));
    let filter = Filter {
        as_of: Some(as_of.as_upper_bound()),
        ..Filter::default()
    };
    let mut samples = Vec::new();
    let mut positions = 0;
    for _ in 0..args.slow_samples {
        let t = Instant::now();
        positions = ops::fold_positions(&ledger, filter, &prop)?.len();
        samples.push(micros(t.elapsed()));
    }
    let mut fold = summary(samples);
    fold["positions"] = json!(positions);
    drop(ledger);

    let cli = match &args.onrecord_bin {
        None => {
            notes.push("end to end: no onrecord binary (build it with `cargo build --release` or pass --onrecord-bin); skipped".into());
            Value::Null
        }
        Some(bin) => match cli_query(bin, &dir, prop_text, args.cli_samples) {
            Ok(v) => v,
            Err(e) => {
                notes.push(format!(
                    "end to end: {} failed: {e:#}; skipped",
                    bin.display()
                ));
                Value::Null
            }
        },
    };
    Ok(json!({
        "proposition": prop_text,
        "as_of": as_of_text,
        "kept_view": kept,
        "full_fold_as_of": fold,
        "cli": cli,
        "notes": notes,
        "vm_hwm_kib": vm_hwm_kib(),
    }))
}

/// Times `onrecord positions PROP --json --ledger DIR` end to end (process start to exit).
fn cli_query(bin: &Path, ledger: &Path, prop: &str, samples: usize) -> Result<Value> {
    let mut times = Vec::with_capacity(samples);
    let mut bytes = 0;
    for _ in 0..samples.max(1) {
        let t = Instant::now();
        let out = Command::new(bin)
            .args(["positions", prop, "--json", "--ledger"])
            .arg(ledger)
            .output()?;
        times.push(micros(t.elapsed()));
        ensure!(
            out.status.success(),
            "exit {:?}: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
        serde_json::from_slice::<Value>(&out.stdout).context("its output is not JSON")?;
        bytes = out.stdout.len();
    }
    let mut v = summary(times);
    v["output_bytes"] = json!(bytes);
    Ok(v)
}

fn single(args: &PhaseArgs) -> Result<Value> {
    let dir = &args.dir;
    let n = args.config.events as u64;
    let w = Workload::generate(args.config);
    let (_, singles) = encode_workload(&w, system_clock());
    let m = w.singles.len() as u64;
    let ledger = ops::open_expecting(&ledger_dir(dir), n)?;

    progress(&format!(
        "single: {m} durable appends each, onrecord then plain file then SQLite"
    ));
    let mut on = Vec::with_capacity(w.singles.len());
    let t_all = Instant::now();
    for ev in &w.singles {
        let req = AppendRequest::new(ev.draft.clone(), ops::bench_recorder());
        let t = Instant::now();
        ledger.append(req)?;
        on.push(micros(t.elapsed()));
    }
    let on_total = t_all.elapsed();
    ensure!(
        ledger.head().seq == n + m,
        "onrecord holds {} events after the single appends; expected {}",
        ledger.head().seq,
        n + m
    );
    drop(ledger);

    let mut file = PlainFile::open(&file_path(dir))?;
    let mut fl = Vec::with_capacity(singles.len());
    let t_all = Instant::now();
    for r in &singles {
        let t = Instant::now();
        file.append(std::slice::from_ref(r))?;
        fl.push(micros(t.elapsed()));
    }
    let file_total = t_all.elapsed();
    ensure!(
        PlainFile::count(&file_path(dir))? == n + m,
        "plain file count"
    );

    let mut sql = Sqlite::open(&sqlite_path(dir))?;
    let mut sq = Vec::with_capacity(singles.len());
    let t_all = Instant::now();
    for r in &singles {
        let t = Instant::now();
        sql.append(std::slice::from_ref(r))?;
        sq.push(micros(t.elapsed()));
    }
    let sqlite_total = t_all.elapsed();
    ensure!(sql.count()? == n + m, "SQLite count");

    let with_rate = |samples: Vec<f64>, total: Duration| {
        let mut v = summary(samples);
        v["eps"] = json!(rate(m, total));
        v
    };
    Ok(json!({
        "appends": m,
        "onrecord": with_rate(on, on_total),
        "file": with_rate(fl, file_total),
        "sqlite": with_rate(sq, sqlite_total),
        "vm_hwm_kib": vm_hwm_kib(),
    }))
}

/// Waits for the child `pid` and returns its peak RSS in KiB (`wait4`'s rusage).
fn wait_peak_rss_kib(pid: u32) -> Result<(i32, u64)> {
    let mut status = 0;
    // SAFETY: wait4 only writes the status and the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
    ensure!(rc == pid as libc::pid_t, "wait4 failed");
    Ok((status, usage.ru_maxrss as u64)) // KiB on Linux
}

/// Writes the workload as JSON Lines for the import phase (a process of its
/// own, so that the process that runs the import stays small: a child's peak
/// RSS counts its parent's memory up to its `exec`).
fn import_file(args: &PhaseArgs) -> Result<Value> {
    let file = args.dir.join("import.jsonl");
    let w = Workload::generate(args.config);
    let (log, _) = encode_workload(&w, system_clock());
    drop(w);
    let mut out = std::io::BufWriter::new(std::fs::File::create(&file)?);
    for rec in &log {
        let recorded = onrecord_ledger::envelope::decode_recorded(&rec.bytes, rec.seq)?;
        use std::io::Write;
        writeln!(out, "{}", onrecord_core::write_line(&recorded))?;
    }
    std::io::Write::flush(&mut out)?;
    Ok(json!({ "lines": log.len() }))
}

/// `onrecord append --jsonl` of the whole workload, exported as JSON Lines
/// (every line with its event id, as a restore from a backup has), into a new
/// ledger: the real binary as a child process, its peak RSS from getrusage.
fn import(args: &PhaseArgs) -> Result<Value> {
    let n = args.config.events as u64;
    let Some(bin) = &args.onrecord_bin else {
        return Ok(json!({
            "events": n,
            "notes": ["import: no onrecord binary (build it with `cargo build --release` or pass --onrecord-bin); skipped"],
        }));
    };
    // The phase may run on its own (`--phase import --dir D`), before any other made D.
    std::fs::create_dir_all(&args.dir)?;
    let file = args.dir.join("import.jsonl");
    let made = Command::new(std::env::current_exe()?)
        .args(["--phase", "import-file", "--dir"])
        .arg(&args.dir)
        .args(["--seed", &args.config.seed.to_string()])
        .args(["--events", &n.to_string()])
        .args(["--singles", &args.config.singles.to_string()])
        .output()
        .context("writing the import file")?;
    ensure!(made.status.success(), "phase import-file failed");
    let file_bytes = std::fs::metadata(&file)?.len();
    progress(&format!(
        "import: onrecord append --jsonl of {n} lines ({:.0} MiB) into a new ledger",
        file_bytes as f64 / 1048576.0
    ));
    let ledger = args.dir.join("import-ledger");
    let ((status, peak, stdout), took) = timed(|| {
        let mut child = Command::new(bin)
            .arg("--ledger")
            .arg(&ledger)
            .args(["--quiet", "append", "--json", "--jsonl"])
            .arg(&file)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .context("running onrecord append --jsonl")?;
        // Its one line of JSON fits the pipe; read it once the child is reaped.
        let (status, peak) = wait_peak_rss_kib(child.id())?;
        let mut stdout = Vec::new();
        if let Some(mut out) = child.stdout.take() {
            std::io::Read::read_to_end(&mut out, &mut stdout)?;
        }
        Ok((status, peak, stdout))
    })?;
    ensure!(
        status == 0,
        "onrecord append --jsonl failed (wait status {status})"
    );
    let printed: Value = serde_json::from_slice(&stdout).context("reading its --json")?;
    ensure!(
        printed["appended"].as_u64() == Some(n),
        "the import appended {}; expected {n}",
        printed["appended"]
    );
    let _ = std::fs::remove_file(&file);
    Ok(json!({
        "events": n,
        "file_bytes": file_bytes,
        "import_s": took.as_secs_f64(),
        "import_events_per_s": rate(n, took),
        "import_peak_rss_kib": peak,
        "disk_bytes": disk_bytes(&ledger),
    }))
}
