//! `serve-load`: appends through `onrecord serve` from 1, 4, 16 and 32
//! concurrent clients on loopback, each appending single statements one
//! after another, and reports throughput and p50/p99 latency per client
//! count, and the group-commit gain (issue 15 item 5: 32 clients must reach
//! at least 5x one client's throughput). Every append is a durable one:
//! the server answers only after the writer's sync.
//!
//! With `--reads LEDGER --proposition P` it measures reads instead, on an
//! existing ledger (e.g. a 1M-event one made by `onrecord-bench --phase
//! bulk --keep`): `GET /v1/positions/P` one after another (p50/p99 end to
//! end on loopback; issue 15's target is p99 under 2 ms at 1M events), then
//! the server's memory with `--idle-tails` live tails held open.
//!
//! ```sh
//! cargo build --release -p onrecord -p onrecord-bench
//! target/release/serve-load --appends 200 --out serve.json
//! target/release/serve-load --reads /tmp/b1m/onrecord --proposition prop-189 --out reads.json
//! ```

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use clap::Parser;
use onrecord_bench::find_onrecord;
use serde_json::json;

/// Issue 15: 32 clients' append throughput over one client's.
const GROUP_COMMIT_TARGET: f64 = 5.0;

/// Loopback load on `onrecord serve`.
#[derive(Debug, Parser)]
struct Args {
    /// Appends each client makes, one after another.
    #[arg(long, default_value_t = 200)]
    appends: usize,
    /// Client counts to measure, comma-separated.
    #[arg(long, default_value = "1,4,16,32", value_delimiter = ',')]
    clients: Vec<usize>,
    /// The onrecord binary (default: target/release/onrecord).
    #[arg(long)]
    onrecord_bin: Option<PathBuf>,
    /// Where the ledger goes (default: a temporary directory).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Write the figures as JSON here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Measure reads on this existing ledger instead of appends.
    #[arg(long, value_name = "LEDGER")]
    reads: Option<PathBuf>,
    /// The proposition whose positions the reads ask for.
    #[arg(long, requires = "reads")]
    proposition: Option<String>,
    /// Position queries to time.
    #[arg(long, default_value_t = 2000)]
    query_runs: usize,
    /// Live tails to hold open while the server's memory is read.
    #[arg(long, default_value_t = 1000)]
    idle_tails: usize,
}

/// The server under load; stopped (SIGTERM, then waited for) on drop.
struct Served {
    child: Child,
    base: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

fn run_ok(cmd: &mut Command) -> Result<String> {
    let out = cmd.output()?;
    ensure!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn serve(bin: &Path, ledger: &Path) -> Result<Served> {
    let mut child = Command::new(bin)
        .arg("--ledger")
        .arg(ledger)
        // The load is one token's: lift its rate and tail limits, which are
        // not what is measured.
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--rate-limit",
            "1000000",
        ])
        .args(["--max-tails", "100000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().context("stdout")?).read_line(&mut line)?;
    let Some(base) = line.trim().rsplit(" on ").next().map(str::to_owned) else {
        bail!("no address in {line:?}");
    };
    ensure!(
        base.starts_with("http://127.0.0.1:"),
        "not loopback: {base}"
    );
    Ok(Served { child, base })
}

/// A client's HTTP agent. Its timeouts are per phase, never global or per
/// call: with either, ureq resolves every request's address in a thread of
/// its own, and spawning those took a tenth of the machine's CPU under 32
/// clients (`perf`), load the server does not cause.
fn agent() -> ureq::Agent {
    ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_recv_response(Some(Duration::from_secs(60)))
            .build(),
    )
}

/// Appends `line`; the latency.
fn append(agent: &ureq::Agent, url: &str, bearer: &str, line: &str) -> Result<Duration> {
    let started = Instant::now();
    let mut response = agent
        .post(url)
        .header("content-type", "application/json")
        .header("authorization", bearer)
        .send(line)?;
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string()?;
    ensure!(status == 201, "append answered {status}: {body}");
    Ok(started.elapsed())
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e6
}

/// A process's resident memory now and at its peak, in KiB (Linux).
fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Position queries through the server, then memory with idle tails held open.
fn reads(args: &Args, bin: &Path, ledger: &Path) -> Result<()> {
    let proposition = args
        .proposition
        .as_deref()
        .context("--reads needs --proposition")?;
    let token = run_ok(Command::new(bin).arg("--ledger").arg(ledger).args([
        "token",
        "create",
        "serve-load-reads",
        "--role",
        "read",
    ]))?;
    let bearer = format!("Bearer {token}");
    let served = serve(bin, ledger)?;
    let url = format!("{}/v1/positions/{proposition}", served.base);
    let agent = agent();
    // `fresh`: `Cache-Control: no-cache`, so the server computes the answer
    // (the cold figure); else a repeated request at an unmoved head is
    // answered from the server's answer cache (the warm figure).
    let ask = |fresh: bool| -> Result<Duration> {
        let started = Instant::now();
        let mut request = agent.get(&url).header("authorization", &bearer);
        if fresh {
            request = request.header("cache-control", "no-cache");
        }
        let mut response = request.call()?;
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string()?;
        ensure!(status == 200, "positions answered {status}: {body}");
        Ok(started.elapsed())
    };
    for _ in 0..50 {
        ask(true)?; // warm: the server's first reads bring the pages in
    }
    let mut figures = Vec::new();
    for (fresh, name) in [(true, "computed"), (false, "repeated")] {
        let mut latencies = (0..args.query_runs)
            .map(|_| ask(fresh))
            .collect::<Result<Vec<_>>>()?;
        latencies.sort_unstable();
        let (p50, p99) = (percentile(&latencies, 0.5), percentile(&latencies, 0.99));
        println!(
            "GET /v1/positions/{proposition} ({name}): p50 {p50:.0} us, p99 {p99:.0} us over {} runs (target p99 < 2000 us)",
            latencies.len()
        );
        figures
            .push(json!({"answer": name, "p50_us": p50, "p99_us": p99, "runs": latencies.len()}));
    }
    let pid = served.child.id();
    let (rss_before, _) = memory_kib(pid);
    let health: serde_json::Value = serde_json::from_str(
        &agent
            .get(format!("{}/v1/health", served.base))
            .call()?
            .body_mut()
            .read_to_string()?,
    )?;
    let next = health["head"].as_u64().context("health names the head")? + 1;
    let mut tails = Vec::with_capacity(args.idle_tails);
    for _ in 0..args.idle_tails {
        // From past the head: an idle tail, caught up at once.
        let response = agent
            .get(format!("{}/v1/events?from={next}", served.base))
            .header("accept", "application/x-ndjson")
            .header("authorization", &bearer)
            .call()?;
        ensure!(
            response.status() == 200,
            "tail answered {}",
            response.status()
        );
        tails.push(response);
    }
    std::thread::sleep(Duration::from_millis(500));
    let (rss_tails, hwm) = memory_kib(pid);
    println!(
        "server memory: {} KiB before the tails, {} KiB with {} idle tails open ({:.1} KiB each), peak {} KiB",
        rss_before,
        rss_tails,
        tails.len(),
        rss_tails.saturating_sub(rss_before) as f64 / tails.len().max(1) as f64,
        hwm
    );
    drop(tails);
    drop(served);
    if let Some(out) = &args.out {
        let doc = json!({
            "machine": onrecord_bench::machine::info(&onrecord_bench::workspace_root()),
            "ledger": ledger,
            "proposition": proposition,
            "positions": figures,
            "idle_tails": args.idle_tails,
            "rss_kib_before_tails": rss_before,
            "rss_kib_with_tails": rss_tails,
            "hwm_kib": hwm,
        });
        std::fs::write(out, serde_json::to_string_pretty(&doc)?)?;
    }
    Ok(())
}

fn main() -> Result<()> {
    let args = Args::parse();
    let bin = args.onrecord_bin.clone().or_else(find_onrecord).context(
        "no onrecord binary: `cargo build --release -p onrecord` or pass --onrecord-bin",
    )?;
    if let Some(ledger) = &args.reads {
        return reads(&args, &bin, ledger);
    }
    let temp = tempfile::tempdir()?;
    let dir = args.dir.clone().unwrap_or_else(|| temp.path().to_owned());
    let ledger = dir.join("serve-load-ledger");
    ensure!(
        !ledger.exists(),
        "{} exists; give a fresh --dir",
        ledger.display()
    );
    let token = run_ok(
        Command::new(&bin)
            .arg("--ledger")
            .arg(&ledger)
            .args(["token", "create", "load", "--role", "append"]),
    )?;
    let bearer = format!("Bearer {token}");
    let served = serve(&bin, &ledger)?;
    let url = format!("{}/v1/events", served.base);
    let setup = agent();
    for line in [
        r#"{"type":"party","id":"kremlin","name":"Kremlin","kind":"government"}"#,
        r#"{"type":"proposition","id":"paris-meeting","text":"Trump and Putin meet in Paris"}"#,
    ] {
        append(&setup, &url, &bearer, line)?;
    }
    let statement = r#"{"type":"statement","proposition":"paris-meeting","party":"kremlin","stance":"almost-certain","said_at":"2018-11-08"}"#;
    let mut results = Vec::new();
    println!("clients  appends   seconds   appends/s   p50 us   p99 us");
    for &clients in &args.clients {
        let started = Instant::now();
        let mut latencies: Vec<Duration> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..clients)
                .map(|_| {
                    let (url, bearer) = (&url, &bearer);
                    scope.spawn(move || -> Result<Vec<Duration>> {
                        let agent = agent();
                        (0..args.appends)
                            .map(|_| append(&agent, url, bearer, statement))
                            .collect()
                    })
                })
                .collect();
            let mut all = Vec::new();
            for h in handles {
                all.extend(h.join().expect("client thread")?);
            }
            Ok::<_, anyhow::Error>(all)
        })?;
        let secs = started.elapsed().as_secs_f64();
        latencies.sort_unstable();
        let rate = latencies.len() as f64 / secs;
        let (p50, p99) = (percentile(&latencies, 0.5), percentile(&latencies, 0.99));
        println!(
            "{clients:>7} {:>8} {secs:>9.2} {rate:>11.0} {p50:>8.0} {p99:>8.0}",
            latencies.len()
        );
        results.push(json!({
            "clients": clients, "appends": latencies.len(), "seconds": secs,
            "appends_per_sec": rate, "p50_us": p50, "p99_us": p99,
        }));
    }
    let rate_of = |n: usize| {
        results
            .iter()
            .find(|r| r["clients"] == n)
            .and_then(|r| r["appends_per_sec"].as_f64())
    };
    let gain = rate_of(32).zip(rate_of(1)).map(|(many, one)| many / one);
    if let Some(gain) = gain {
        let verdict = if gain >= GROUP_COMMIT_TARGET {
            "PASS"
        } else {
            "MISS"
        };
        println!("32 clients / 1 client: {gain:.1}x (target >= {GROUP_COMMIT_TARGET}x) {verdict}");
    }
    drop(served);
    let verified = run_ok(
        Command::new(&bin)
            .arg("--ledger")
            .arg(&ledger)
            .arg("verify"),
    )?;
    println!("{verified}");
    if let Some(out) = &args.out {
        let doc = json!({
            "machine": onrecord_bench::machine::info(&onrecord_bench::workspace_root()),
            "appends_per_client": args.appends,
            "runs": results,
            "gain_32_over_1": gain,
            "target": GROUP_COMMIT_TARGET,
        });
        std::fs::write(out, serde_json::to_string_pretty(&doc)?)?;
    }
    Ok(())
}
