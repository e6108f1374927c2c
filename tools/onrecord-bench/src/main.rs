//! `onrecord-bench`: runs every scenario (each in a child process), prints the
//! results table and writes the figures to JSON. See `docs/benchmarks.md`.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use anyhow::{Context, Result, bail};
use clap::Parser;
use onrecord_bench::phases::{self, PhaseArgs};
use onrecord_bench::report::{self, Row};
use onrecord_bench::workload::WorkloadConfig;
use onrecord_bench::{find_onrecord, workspace_root};
use serde_json::{Map, Value, json};

/// The events a --quick run holds.
const QUICK_EVENTS: usize = 20_000;

/// Benchmarks onrecord against raw sled, SQLite and a plain file on a seeded synthetic workload.
#[derive(Debug, Parser)]
#[command(name = "onrecord-bench", version)]
struct Cli {
    /// The seed of the synthetic workload.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// How many events the log holds.
    #[arg(long, default_value_t = 1_000_000)]
    events: usize,
    /// A small run (20,000 events, 200 single appends) that checks counts only; used by CI.
    #[arg(long)]
    quick: bool,
    /// How many single durable appends to time (default 2,000; 200 with --quick).
    #[arg(long)]
    singles: Option<usize>,
    /// Write every figure, the table and the machine info to this JSON file.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print deltas against an earlier run's JSON.
    #[arg(long)]
    compare: Option<PathBuf>,
    /// The `onrecord` binary for the end-to-end query (default: target/release/onrecord if built).
    #[arg(long)]
    onrecord_bin: Option<PathBuf>,
    /// Where to put the stores (default: a temporary directory, removed afterwards).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Keep the stores after the run.
    #[arg(long)]
    keep: bool,
    /// Internal: run one phase in this process and print its figures as JSON.
    #[arg(long, hide = true)]
    phase: Option<String>,
    /// Internal: the proposition the query phase asks about.
    #[arg(long, hide = true)]
    proposition: Option<String>,
    /// Internal: the valid time the query phase's full fold uses.
    #[arg(long, hide = true)]
    as_of: Option<String>,
}

impl Cli {
    fn config(&self) -> WorkloadConfig {
        let (events, singles) = if self.quick {
            (QUICK_EVENTS, self.singles.unwrap_or(200))
        } else {
            (self.events, self.singles.unwrap_or(2_000))
        };
        WorkloadConfig {
            seed: self.seed,
            events,
            singles,
        }
    }

    fn phase_args(&self, dir: &Path) -> PhaseArgs {
        PhaseArgs {
            dir: dir.to_owned(),
            config: self.config(),
            proposition: self.proposition.clone(),
            as_of: self.as_of.clone(),
            onrecord_bin: self.onrecord_bin.clone().or_else(find_onrecord),
            query_samples: if self.quick { 100 } else { 1_000 },
            slow_samples: if self.quick { 2 } else { 5 },
            cli_samples: if self.quick { 3 } else { 20 },
            replay_runs: if self.quick { 1 } else { 5 },
        }
    }
}

fn run_child(cli: &Cli, name: &str, dir: &Path, extra: &[(&str, String)]) -> Result<Value> {
    let me = std::env::current_exe()?;
    let cfg = cli.config();
    let mut cmd = Command::new(me);
    cmd.args(["--phase", name, "--dir"])
        .arg(dir)
        .args(["--seed", &cfg.seed.to_string()])
        .args(["--events", &cfg.events.to_string()])
        .args(["--singles", &cfg.singles.to_string()]);
    if cli.quick {
        cmd.arg("--quick");
    }
    if let Some(bin) = &cli.onrecord_bin {
        cmd.arg("--onrecord-bin").arg(bin);
    }
    for (flag, value) in extra {
        cmd.arg(flag).arg(value);
    }
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("starting phase {name}"))?;
    if !out.status.success() {
        bail!("phase {name} failed ({})", out.status);
    }
    serde_json::from_slice(&out.stdout).with_context(|| format!("reading phase {name}'s figures"))
}

fn run_all(cli: &Cli) -> Result<()> {
    let cfg = cli.config();
    let mut temp = None;
    let dir = match &cli.dir {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            if std::fs::read_dir(d)?.next().is_some() {
                bail!("{} is not empty", d.display());
            }
            d.clone()
        }
        None => {
            let t = tempfile::Builder::new()
                .prefix("onrecord-bench-")
                .tempdir()?;
            let path = t.path().to_owned();
            temp = Some(t);
            path
        }
    };
    eprintln!(
        "[onrecord-bench] {} events, seed {}, {} single appends, stores in {}",
        cfg.events,
        cfg.seed,
        cfg.singles,
        dir.display()
    );
    let mut figures = Map::new();
    for name in phases::PHASES {
        let mut extra = Vec::new();
        if name == "query" {
            let w = &figures["bulk"]["workload"];
            let text = |k: &str| w[k].as_str().map(str::to_owned).context(k.to_owned());
            extra.push(("--proposition", text("hot_proposition")?));
            extra.push(("--as-of", text("as_of")?));
        }
        let v = run_child(cli, name, &dir, &extra)?;
        figures.insert(name.to_owned(), v);
    }
    let figures = Value::Object(figures);
    let rows = report::rows(&figures);
    let table = report::table(&rows);
    let machine = onrecord_bench::machine::info(&workspace_root());

    println!();
    println!(
        "onrecord-bench: N = {} events, seed {}, {} single appends{}",
        cfg.events,
        cfg.seed,
        cfg.singles,
        if cli.quick {
            " (--quick: counts checked, timings not judged)"
        } else {
            ""
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
    if let Some(notes) = figures["query"]["notes"].as_array() {
        for n in notes.iter().filter_map(Value::as_str) {
            println!("note: {n}");
        }
    }
    if !cli.quick {
        println!(
            "note: peak RSS of the bulk phase includes the materialised workload and its encoded records"
        );
    }

    if let Some(old) = &cli.compare {
        let text = std::fs::read_to_string(old).with_context(|| old.display().to_string())?;
        let old_json: Value = serde_json::from_str(&text)?;
        let old_rows: Vec<Row> = serde_json::from_value(old_json["rows"].clone())?;
        println!();
        println!("compared with {}:", old.display());
        print!("{}", report::compare(&old_rows, &rows));
    }

    if let Some(out) = &cli.out {
        let doc = json!({
            "machine": machine,
            "config": {
                "events": cfg.events,
                "seed": cfg.seed,
                "singles": cfg.singles,
                "quick": cli.quick,
                "batch": onrecord_bench::ops::BATCH,
            },
            "figures": figures,
            "rows": rows,
            "table_markdown": table,
        });
        std::fs::write(out, serde_json::to_string_pretty(&doc)? + "\n")
            .with_context(|| out.display().to_string())?;
        eprintln!("[onrecord-bench] wrote {}", out.display());
    }
    if cli.keep || cli.dir.is_some() {
        if let Some(t) = temp {
            let _ = t.keep();
        }
        eprintln!("[onrecord-bench] stores kept in {}", dir.display());
    }
    Ok(())
}

fn main() -> ExitCode {
    // As the onrecord binary does: sled's log buffers must not fragment the heap.
    onrecord_sled::pin_mmap_threshold();
    let cli = Cli::parse();
    let result = match &cli.phase {
        Some(name) => {
            let dir = cli.dir.clone().unwrap_or_else(|| PathBuf::from("."));
            phases::run(name, &cli.phase_args(&dir)).map(|v| println!("{v}"))
        }
        None => run_all(&cli),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("onrecord-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}
