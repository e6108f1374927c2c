//! `cli-vs-sqlite`: onrecord's command line against the SQLite script a user
//! would write instead, process against process (issue 14, item 3).
//!
//! The seeded workload is written once as a JSON Lines file; then, in rounds
//! that alternate which side goes first, `onrecord --ledger DIR append --jsonl
//! FILE` and `python3 tools/sqlite-import.py DB FILE` each import it into a
//! fresh store (wall clock from spawn to exit, and the child's peak RSS from
//! `wait4`). Both answers are checked to hold every event and the same
//! positions on the hottest proposition; then `onrecord positions PROP --json`
//! and the `sqlite3` shell's query of the script's positions table run
//! alternately, many times each. Medians and p50/p99 go in a table with the
//! ratios and issue 14's targets (`docs/benchmarks.md`, "CLI against a SQLite
//! script"). Without `python3` or `sqlite3` that side is skipped, never failed.
//!
//! ```sh
//! cargo build --release -p onrecord -p onrecord-bench
//! target/release/cli-vs-sqlite --events 100000 --out cli.json
//! ```

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use clap::Parser;
use onrecord_bench::machine;
use onrecord_bench::report::{self, Row, Status, Unit};
use onrecord_bench::workload::{GenEvent, Workload, WorkloadConfig};
use onrecord_bench::{find_onrecord, workspace_root};
use onrecord_core::{Draft, When};
use serde_json::{Map, Value, json};

/// The events a `--quick` run holds.
const QUICK_EVENTS: usize = 5_000;
/// Issue 14: the CLI's bulk import at least this many times the SQLite script's rate.
const IMPORT_TARGET_RATIO: f64 = 2.0;
/// Issue 14: `positions PROP --json` as a process, p50, at 100k events (microseconds).
const POSITIONS_TARGET_100K_US: f64 = 10_000.0;
/// Issue 14: the same at 1M events (microseconds).
const POSITIONS_TARGET_1M_US: f64 = 20_000.0;
/// Issue 14: peak RSS of a 1M-line import (KiB).
const IMPORT_RSS_TARGET_KIB: f64 = 256.0 * 1024.0;

/// The `sqlite3` shell's answer to `positions PROP --json`: the positions
/// table joined to each current statement, then the contradicting pairs.
/// `{PROP}` is replaced by the proposition id (`[a-z0-9-]` only, nothing to quote).
const POSITIONS_SQL: &str = "\
SELECT p.party, json_extract(e.json, '$.stance') AS stance, p.credence, \
json_extract(e.json, '$.said_at') AS said_at, \
coalesce(json_extract(e.json, '$.speaker'), p.party) AS speaker, e.event_id AS statement, \
json_extract(e.json, '$.quote') AS quote, p.statements \
FROM positions p JOIN events e ON e.seq = p.seq WHERE p.proposition = '{PROP}' ORDER BY p.party; \
SELECT a.party AS a, b.party AS b, round(abs(a.credence - b.credence), 6) AS spread \
FROM positions a JOIN positions b ON b.proposition = a.proposition AND b.party > a.party \
WHERE a.proposition = '{PROP}' AND ((a.credence >= 0.55 AND b.credence <= 0.45) \
OR (a.credence <= 0.45 AND b.credence >= 0.55)) ORDER BY a.party, b.party;";

/// Times `onrecord append --jsonl` and `positions --json` against a SQLite script and the sqlite3 shell.
#[derive(Debug, Parser)]
#[command(name = "cli-vs-sqlite")]
struct Args {
    /// How many events the JSON Lines file holds.
    #[arg(long, default_value_t = 100_000)]
    events: usize,
    /// The seed of the synthetic workload.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Import rounds, each side once per round, the first side alternating.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// `positions` runs per side (alternating), after 3 untimed runs each.
    #[arg(long, default_value_t = 200)]
    query_runs: usize,
    /// A few seconds' smoke run: 5,000 events, 1 round, 10 query runs.
    #[arg(long)]
    quick: bool,
    /// The `onrecord` binary (default: target/release/onrecord, `$CARGO_TARGET_DIR`, or beside this one).
    #[arg(long)]
    onrecord_bin: Option<PathBuf>,
    /// The SQLite import script (default: tools/sqlite-import.py in this workspace).
    #[arg(long)]
    script: Option<PathBuf>,
    /// Where the file and the stores go (default: a temporary directory, removed afterwards).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Keep the file and the last stores of each side.
    #[arg(long)]
    keep: bool,
    /// Write the figures, every run's time, the table and the machine to this JSON file.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Internal: only write the workload to this JSON Lines file and print its size and hot proposition.
    #[arg(long, hide = true)]
    write_jsonl: Option<PathBuf>,
}

/// What the child that writes the JSON Lines file reports.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Written {
    /// The file's size.
    bytes: u64,
    /// The proposition with the most statements: what `positions` asks about.
    proposition: String,
}

/// Writes the workload's file in a child process, so that this process stays
/// small: a child's peak RSS from `wait4` starts at the spawning process's own
/// RSS (Linux carries the old memory's high-water mark across `exec`).
fn write_jsonl_in_child(seed: u64, events: usize, path: &Path) -> Result<Written> {
    let out = Command::new(std::env::current_exe()?)
        .args(["--seed", &seed.to_string(), "--events", &events.to_string()])
        .arg("--write-jsonl")
        .arg(path)
        .stderr(Stdio::inherit())
        .output()?;
    ensure!(out.status.success(), "writing the JSON Lines file failed");
    Ok(serde_json::from_slice(&out.stdout)?)
}

/// One finished child process: how long it took and how much memory it peaked at.
#[derive(Debug, Clone, Copy)]
struct ProcessRun {
    /// Spawn to reaped exit.
    wall: Duration,
    /// The child's peak resident set (`ru_maxrss` from `wait4`), in KiB.
    peak_rss_kib: u64,
}

/// The import and query runs of one side.
#[derive(Debug, Default)]
struct SideRuns {
    /// One per import round.
    imports: Vec<ProcessRun>,
    /// One per timed `positions` run.
    queries: Vec<ProcessRun>,
}

/// Whether `program args` runs and exits 0 (a missing tool is a skip, not a failure).
fn tool_works(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `cmd` to its end with stdout and stderr going to files, and times it.
fn run_process(cmd: &mut Command, stdout: &Path, stderr: &Path) -> Result<ProcessRun> {
    let out = File::create(stdout)?;
    let err = File::create(stderr)?;
    let start = Instant::now();
    let child = cmd
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .with_context(|| format!("starting {cmd:?}"))?;
    let (status, peak_rss_kib) = wait_with_peak_rss(child.id())?;
    let wall = start.elapsed();
    if status != 0 {
        let said = std::fs::read_to_string(stderr).unwrap_or_default();
        bail!(
            "{cmd:?} failed (wait status {status}): {}",
            said.lines().take(5).collect::<Vec<_>>().join(" / ")
        );
    }
    Ok(ProcessRun { wall, peak_rss_kib })
}

/// Reaps child `pid` with `wait4`, which alone gives that child's own peak
/// RSS (`getrusage(RUSAGE_CHILDREN)` is the maximum over every child so far).
/// Returns the raw wait status (0: exited with 0) and the peak RSS in KiB.
fn wait_with_peak_rss(pid: u32) -> Result<(i32, u64)> {
    let pid = libc::pid_t::try_from(pid)?;
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero `rusage` is a valid value (integers and timevals).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `pid` is our own unreaped child (std's `Child` never waits on
        // it after this), and both pointers are to live, writable locals.
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if reaped == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e).context("wait4");
        }
    }
    // Linux reports ru_maxrss in KiB.
    Ok((status, u64::try_from(usage.ru_maxrss).unwrap_or(0)))
}

/// One generated event as a user's JSON line: only the fields it has, and an
/// `event_id` only on statements a later line retracts (the file must name those).
fn json_line(ev: &GenEvent, retracted: bool) -> Value {
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_owned(), v);
    };
    let opt = |s: &Option<String>| s.as_ref().map(|s| json!(s));
    match &ev.draft {
        Draft::Party(p) => {
            put("type", json!("party"));
            put("id", json!(p.id.as_str()));
            put("name", json!(p.name));
            put("kind", json!(p.kind.name()));
            if let Some(boss) = &p.speaks_for {
                put("speaks_for", json!(boss.as_str()));
            }
        }
        Draft::Proposition(p) => {
            put("type", json!("proposition"));
            put("id", json!(p.id.as_str()));
            put("text", json!(p.text));
            if let Some(c) = opt(&p.criteria) {
                put("criteria", c);
            }
            if let Some(w) = p.window {
                put(
                    "window",
                    json!({"from": w.from.to_string(), "to": w.to.to_string()}),
                );
            }
        }
        Draft::Statement(s) => {
            put("type", json!("statement"));
            if retracted {
                put("event_id", json!(ev.id.to_string()));
            }
            put("proposition", json!(s.proposition.as_str()));
            if let Some(p) = &s.party {
                put("party", json!(p.as_str()));
            }
            if let Some(p) = &s.speaker {
                put("speaker", json!(p.as_str()));
            }
            put("stance", json!(s.stance.name()));
            if let Some(c) = s.credence {
                put("credence", json!(c));
            }
            put("said_at", json!(s.said_at.to_string()));
            if let Some(q) = opt(&s.quote) {
                put("quote", q);
            }
            if let Some(src) = opt(&s.source) {
                put("source", src);
            }
            if !s.qualifiers.is_empty() {
                put("qualifiers", json!(s.qualifiers));
            }
        }
        Draft::Retraction(r) => {
            put("type", json!("retraction"));
            put("statement", json!(r.statement.to_string()));
            put("reason", json!(r.reason));
        }
        Draft::Resolution(r) => {
            put("type", json!("resolution"));
            put("proposition", json!(r.proposition.as_str()));
            put("outcome", json!(r.outcome.name()));
            put("resolved_at", json!(r.resolved_at.to_string()));
            if let Some(src) = opt(&r.source) {
                put("source", src);
            }
            if let Some(n) = opt(&r.note) {
                put("note", n);
            }
        }
    }
    Value::Object(m)
}

/// Writes the workload's log as JSON Lines; returns the file's size in bytes.
fn write_jsonl(w: &Workload, path: &Path) -> Result<u64> {
    let retracted: BTreeSet<usize> = w.events.iter().filter_map(|e| e.retracts).collect();
    let mut out = BufWriter::new(File::create(path)?);
    for (i, ev) in w.events.iter().enumerate() {
        serde_json::to_writer(&mut out, &json_line(ev, retracted.contains(&i)))?;
        out.write_all(b"\n")?;
    }
    out.into_inner()?.sync_all()?;
    Ok(std::fs::metadata(path)?.len())
}

/// Removes a store left by an earlier run, if any (a directory or a SQLite file with its WAL).
fn remove_store(path: &Path) -> Result<()> {
    if path.is_dir() {
        std::fs::remove_dir_all(path)?;
    }
    for suffix in ["", "-wal", "-shm"] {
        let p = PathBuf::from(format!("{}{suffix}", path.display()));
        if p.is_file() {
            std::fs::remove_file(p)?;
        }
    }
    Ok(())
}

/// Flushes every dirty page to disk, so one run's deletions and writes back do not land in the next run's time.
fn settle_disk() {
    // Best effort: a failed `sync` only adds noise.
    let _ = Command::new("sync").status();
}

/// What both answers must agree on per position: party, stance, credence
/// (in millionths), said_at (microseconds), counted statements, quote.
type PositionKey = (String, String, Option<i64>, i64, u64, Option<String>);
/// What both answers must agree on per contradiction: the pair and the spread (in millionths).
type PairKey = (String, String, i64);

/// A credence or spread in millionths, so that printing either side's doubles cannot differ.
fn millionths(x: f64) -> i64 {
    (x * 1e6).round() as i64
}

fn said_at_micros(v: &Value) -> Result<i64> {
    let s = v.as_str().context("said_at is not a string")?;
    Ok(s.parse::<When>()?.micros())
}

fn onrecord_positions(answer: &Value) -> Result<(Vec<PositionKey>, Vec<PairKey>)> {
    let mut positions = Vec::new();
    for p in answer["positions"]
        .as_array()
        .context("no positions array")?
    {
        positions.push((
            p["party"].as_str().context("party")?.to_owned(),
            p["stance"].as_str().context("stance")?.to_owned(),
            p["credence"].as_f64().map(millionths),
            said_at_micros(&p["said_at"])?,
            p["statements"].as_u64().context("statements")?,
            p["quote"].as_str().map(str::to_owned),
        ));
    }
    let mut pairs: Vec<PairKey> = Vec::new();
    for c in answer["contradictions"]
        .as_array()
        .context("no contradictions")?
    {
        pairs.push((
            c["parties"][0].as_str().context("parties")?.to_owned(),
            c["parties"][1].as_str().context("parties")?.to_owned(),
            millionths(c["spread"].as_f64().context("spread")?),
        ));
    }
    Ok((positions, pairs))
}

fn sqlite_positions(output: &str) -> Result<(Vec<PositionKey>, Vec<PairKey>)> {
    // `sqlite3 -json` prints one array per statement that returned rows.
    let arrays: Vec<Value> = serde_json::Deserializer::from_str(output)
        .into_iter::<Value>()
        .collect::<Result<_, _>>()?;
    let rows = |v: Option<&Value>| v.and_then(Value::as_array).cloned().unwrap_or_default();
    let (first, second) = (rows(arrays.first()), rows(arrays.get(1)));
    // With no positions, the first array (if any) is the contradictions' (and there are none).
    let (positions_rows, pair_rows) = match first.first() {
        Some(row) if row.get("party").is_some() => (first, second),
        _ => (Vec::new(), Vec::new()),
    };
    let mut positions = Vec::new();
    for p in &positions_rows {
        positions.push((
            p["party"].as_str().context("party")?.to_owned(),
            p["stance"].as_str().context("stance")?.to_owned(),
            p["credence"].as_f64().map(millionths),
            said_at_micros(&p["said_at"])?,
            p["statements"].as_u64().context("statements")?,
            p["quote"].as_str().map(str::to_owned),
        ));
    }
    let mut pairs: Vec<PairKey> = Vec::new();
    for c in &pair_rows {
        pairs.push((
            c["a"].as_str().context("a")?.to_owned(),
            c["b"].as_str().context("b")?.to_owned(),
            millionths(c["spread"].as_f64().context("spread")?),
        ));
    }
    Ok((positions, pairs))
}

/// The median of some durations.
fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

/// The nearest-rank percentile `p` (0-100) of some durations, in microseconds.
fn percentile_us(xs: &[ProcessRun], p: f64) -> f64 {
    let mut v: Vec<Duration> = xs.iter().map(|r| r.wall).collect();
    v.sort();
    let rank = ((p / 100.0) * v.len() as f64).ceil().max(1.0) as usize;
    v[rank.min(v.len()) - 1].as_secs_f64() * 1e6
}

fn median_rss_kib(xs: &[ProcessRun]) -> f64 {
    let mut v: Vec<u64> = xs.iter().map(|r| r.peak_rss_kib).collect();
    v.sort_unstable();
    v[v.len() / 2] as f64
}

fn rate(events: usize, runs: &[ProcessRun]) -> f64 {
    events as f64 / median(runs.iter().map(|r| r.wall).collect()).as_secs_f64()
}

/// A table row; `status` from `ok` when there is a target, else info, or SKIP without a figure.
#[allow(clippy::too_many_arguments)]
fn row(
    key: &str,
    scenario: &str,
    value: Option<f64>,
    unit: Unit,
    baseline_name: &str,
    baseline: Option<f64>,
    target: Option<(&str, bool)>,
) -> Row {
    let ratio = match (value, baseline) {
        (Some(v), Some(b)) if b > 0.0 => Some(v / b),
        _ => None,
    };
    let status = match (target, value) {
        (None, _) => Status::Info,
        (Some(_), None) => Status::Skip,
        (Some((_, true)), Some(_)) => Status::Pass,
        (Some((_, false)), Some(_)) => Status::Miss,
    };
    Row {
        key: key.into(),
        scenario: scenario.into(),
        value,
        unit,
        baseline_name: baseline_name.into(),
        baseline,
        ratio,
        target: target.map_or("-".into(), |(t, _)| t.into()),
        status,
    }
}

/// The figures both sides gave, as table rows with issue 14's targets.
fn rows(events: usize, ours: &SideRuns, theirs: Option<&SideRuns>) -> Vec<Row> {
    let import = rate(events, &ours.imports);
    let import_base = theirs.map(|t| rate(events, &t.imports));
    let import_ratio = import_base.map(|b| import / b);
    let rss = median_rss_kib(&ours.imports);
    let p50 = percentile_us(&ours.queries, 50.0);
    let p99 = percentile_us(&ours.queries, 99.0);
    // Issue 14 sets the positions targets at these two sizes only.
    let positions_target = match events {
        100_000 => Some(("<= 10 ms p50 at 100k", p50 <= POSITIONS_TARGET_100K_US)),
        1_000_000 => Some(("<= 20 ms p50 at 1M", p50 <= POSITIONS_TARGET_1M_US)),
        _ => None,
    };
    let script = "SQLite script (python3, WAL, sync=FULL, 1 txn)";
    let shell = "`sqlite3 -json` shell, same question";
    vec![
        row(
            "cli_import",
            "`onrecord append --jsonl`, one file, one batch",
            Some(import),
            Unit::EventsPerSec,
            script,
            import_base,
            import_ratio.map(|r| (">= 2.0x the script", r >= IMPORT_TARGET_RATIO)),
        ),
        row(
            "cli_import_rss",
            "peak RSS of the import process",
            Some(rss),
            Unit::Kib,
            script,
            theirs.map(|t| median_rss_kib(&t.imports)),
            (events >= 1_000_000)
                .then_some(("<= 256 MiB at 1M lines", rss <= IMPORT_RSS_TARGET_KIB)),
        ),
        row(
            "cli_positions_p50",
            "`onrecord positions PROP --json` process, p50",
            Some(p50),
            Unit::Micros,
            shell,
            theirs.map(|t| percentile_us(&t.queries, 50.0)),
            positions_target,
        ),
        row(
            "cli_positions_p99",
            "`onrecord positions PROP --json` process, p99",
            Some(p99),
            Unit::Micros,
            shell,
            theirs.map(|t| percentile_us(&t.queries, 99.0)),
            None,
        ),
        row(
            "cli_positions_rss",
            "peak RSS of the positions process",
            Some(median_rss_kib(&ours.queries)),
            Unit::Kib,
            shell,
            theirs.map(|t| median_rss_kib(&t.queries)),
            None,
        ),
    ]
}

/// The two sides' commands and where their files go.
struct Sides {
    dir: PathBuf,
    jsonl: PathBuf,
    onrecord: PathBuf,
    /// The script, when `python3` with its `sqlite3` module runs here.
    script: Option<PathBuf>,
    /// Whether the `sqlite3` shell runs here.
    shell: bool,
}

impl Sides {
    fn ledger(&self) -> PathBuf {
        self.dir.join("onrecord.ledger")
    }

    fn sqlite_db(&self) -> PathBuf {
        self.dir.join("script.sqlite")
    }

    fn import_onrecord(&self) -> Result<ProcessRun> {
        remove_store(&self.ledger())?;
        settle_disk();
        run_process(
            Command::new(&self.onrecord)
                .arg("--ledger")
                .arg(self.ledger())
                .args(["append", "--json", "--jsonl"])
                .arg(&self.jsonl),
            &self.dir.join("onrecord-import.out"),
            &self.dir.join("onrecord-import.err"),
        )
    }

    fn import_sqlite(&self, script: &Path) -> Result<ProcessRun> {
        remove_store(&self.sqlite_db())?;
        settle_disk();
        run_process(
            Command::new("python3")
                .arg(script)
                .arg(self.sqlite_db())
                .arg(&self.jsonl),
            &self.dir.join("sqlite-import.out"),
            &self.dir.join("sqlite-import.err"),
        )
    }

    /// `true`, run as the sides are: its peak RSS is the least wait4 can report here.
    fn rss_floor(&self) -> Result<ProcessRun> {
        run_process(
            &mut Command::new("true"),
            &self.dir.join("floor.out"),
            &self.dir.join("floor.err"),
        )
    }

    fn positions_onrecord(&self, prop: &str) -> Result<ProcessRun> {
        run_process(
            Command::new(&self.onrecord)
                .arg("--ledger")
                .arg(self.ledger())
                .args(["positions", prop, "--json"]),
            &self.dir.join("onrecord-positions.out"),
            &self.dir.join("onrecord-positions.err"),
        )
    }

    fn positions_sqlite(&self, prop: &str) -> Result<ProcessRun> {
        run_process(
            Command::new("sqlite3")
                .arg("-json")
                .arg(self.sqlite_db())
                .arg(POSITIONS_SQL.replace("{PROP}", prop)),
            &self.dir.join("sqlite-positions.out"),
            &self.dir.join("sqlite-positions.err"),
        )
    }

    /// Both stores hold every event, and both answers on `prop` agree.
    fn check(&self, events: usize, prop: &str) -> Result<()> {
        let out = Command::new(&self.onrecord)
            .arg("--ledger")
            .arg(self.ledger())
            .args(["stats", "--json"])
            .output()?;
        ensure!(out.status.success(), "onrecord stats failed");
        let stats: Value = serde_json::from_slice(&out.stdout)?;
        ensure!(
            stats["events"]["total"].as_u64() == Some(events as u64),
            "the ledger holds {} events, not {events}",
            stats["events"]["total"]
        );
        if self.script.is_none() {
            return Ok(());
        }
        let db = rusqlite::Connection::open_with_flags(
            self.sqlite_db(),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )?;
        let held: i64 = db.query_row("SELECT count(*) FROM events", [], |r| r.get(0))?;
        ensure!(
            held == events as i64,
            "the script's database holds {held} events, not {events}"
        );
        drop(db);
        if !self.shell {
            return Ok(());
        }
        self.positions_onrecord(prop)?;
        self.positions_sqlite(prop)?;
        let ours: Value = serde_json::from_str(&std::fs::read_to_string(
            self.dir.join("onrecord-positions.out"),
        )?)?;
        let (mut ours, mut our_pairs) = onrecord_positions(&ours)?;
        let (mut theirs, mut their_pairs) = sqlite_positions(&std::fs::read_to_string(
            self.dir.join("sqlite-positions.out"),
        )?)?;
        for list in [&mut ours, &mut theirs] {
            list.sort();
        }
        for list in [&mut our_pairs, &mut their_pairs] {
            list.sort();
        }
        ensure!(
            ours == theirs,
            "the script's positions on {prop} differ from onrecord's ({} against {} parties)",
            theirs.len(),
            ours.len()
        );
        ensure!(
            our_pairs == their_pairs,
            "the contradictions on {prop} differ ({} against {} pairs)",
            their_pairs.len(),
            our_pairs.len()
        );
        println!(
            "checked: both hold {events} events and give the same {} positions and {} contradictions on {prop}",
            ours.len(),
            our_pairs.len()
        );
        Ok(())
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    if let Some(path) = &args.write_jsonl {
        let workload = Workload::generate(WorkloadConfig {
            seed: args.seed,
            events: args.events,
            singles: 0,
        });
        let written = Written {
            bytes: write_jsonl(&workload, path)?,
            proposition: workload.hot_proposition.as_str().to_owned(),
        };
        println!("{}", serde_json::to_string(&written)?);
        return Ok(());
    }
    let (events, rounds, query_runs) = if args.quick {
        (QUICK_EVENTS, 1, 10)
    } else {
        (args.events, args.rounds.max(1), args.query_runs.max(1))
    };
    let onrecord = args.onrecord_bin.clone().or_else(find_onrecord).context(
        "no onrecord binary: `cargo build --release -p onrecord` or pass --onrecord-bin",
    )?;
    let script = args
        .script
        .clone()
        .unwrap_or_else(|| workspace_root().join("tools/sqlite-import.py"));
    let script = if !script.is_file() {
        println!("skipped the SQLite side: no script at {}", script.display());
        None
    } else if !tool_works("python3", &["-c", "import sqlite3"]) {
        println!("skipped the SQLite side: python3 with its sqlite3 module is not available");
        None
    } else {
        Some(script)
    };
    let shell = script.is_some() && tool_works("sqlite3", &["-version"]);
    if script.is_some() && !shell {
        println!("skipped the sqlite3 shell's query: no working `sqlite3` on PATH");
    }

    let temp = match &args.dir {
        Some(_) => None,
        None => Some(tempfile::tempdir()?),
    };
    let dir = match (&args.dir, &temp) {
        (Some(d), _) => d.clone(),
        (None, Some(t)) => t.path().to_owned(),
        (None, None) => unreachable!("a temporary directory is made when no --dir is given"),
    };
    std::fs::create_dir_all(&dir)?;

    let started = Instant::now();
    let sides = Sides {
        jsonl: dir.join("events.jsonl"),
        dir: dir.clone(),
        onrecord,
        script,
        shell,
    };
    let Written {
        bytes,
        proposition: prop,
    } = write_jsonl_in_child(args.seed, events, &sides.jsonl)?;
    println!(
        "wrote {events} events ({:.1} MB) to {} in {:.1}s",
        bytes as f64 / 1e6,
        sides.jsonl.display(),
        started.elapsed().as_secs_f64()
    );
    // What wait4 reports for a child that needs less than this process holds.
    let rss_floor_kib = sides.rss_floor()?.peak_rss_kib;
    println!(
        "peak RSS floor: {:.1} MiB (this process's own, which wait4 counts for every child)",
        rss_floor_kib as f64 / 1024.0
    );

    let mut ours = SideRuns::default();
    let mut theirs = SideRuns::default();
    for round in 0..rounds {
        let onrecord_first = round % 2 == 0;
        for turn in 0..2 {
            if (turn == 0) == onrecord_first {
                let run = sides.import_onrecord()?;
                println!(
                    "round {}: onrecord import {:.2}s",
                    round + 1,
                    run.wall.as_secs_f64()
                );
                ours.imports.push(run);
            } else if let Some(script) = &sides.script {
                let run = sides.import_sqlite(script)?;
                println!(
                    "round {}: SQLite import {:.2}s",
                    round + 1,
                    run.wall.as_secs_f64()
                );
                theirs.imports.push(run);
            }
        }
    }
    sides.check(events, &prop)?;

    let shell_side = sides.shell;
    for _ in 0..3 {
        sides.positions_onrecord(&prop)?;
        if shell_side {
            sides.positions_sqlite(&prop)?;
        }
    }
    for i in 0..query_runs {
        let onrecord_first = i % 2 == 0;
        for turn in 0..2 {
            if (turn == 0) == onrecord_first {
                ours.queries.push(sides.positions_onrecord(&prop)?);
            } else if shell_side {
                theirs.queries.push(sides.positions_sqlite(&prop)?);
            }
        }
    }

    let both = sides.script.is_some() && shell_side;
    let table_rows = rows(events, &ours, both.then_some(&theirs));
    let table = report::table(&table_rows);
    println!(
        "\n{events} events, seed {}, {rounds} import rounds, {query_runs} positions runs on {prop}\n",
        args.seed
    );
    print!("{table}");
    if let Some(out) = &args.out {
        let secs = |runs: &[ProcessRun]| -> Vec<f64> {
            runs.iter().map(|r| r.wall.as_secs_f64()).collect()
        };
        let rss =
            |runs: &[ProcessRun]| -> Vec<u64> { runs.iter().map(|r| r.peak_rss_kib).collect() };
        let doc = json!({
            "events": events,
            "seed": args.seed,
            "jsonl_bytes": bytes,
            "proposition": prop,
            "rounds": rounds,
            "query_runs": query_runs,
            "rss_floor_kib": rss_floor_kib,
            "onrecord": {
                "import_secs": secs(&ours.imports),
                "import_peak_rss_kib": rss(&ours.imports),
                "positions_secs": secs(&ours.queries),
            },
            "sqlite": {
                "import_secs": secs(&theirs.imports),
                "import_peak_rss_kib": rss(&theirs.imports),
                "positions_secs": secs(&theirs.queries),
            },
            "rows": table_rows,
            "table": table,
            "machine": machine::info(&workspace_root()),
        });
        std::fs::write(out, serde_json::to_string_pretty(&doc)? + "\n")?;
        println!("\nwrote {}", out.display());
    }
    if args.keep {
        if let Some(t) = temp {
            println!("kept {}", t.keep().display());
        }
    } else if args.dir.is_some() {
        remove_store(&sides.ledger())?;
        remove_store(&sides.sqlite_db())?;
    }
    Ok(())
}
