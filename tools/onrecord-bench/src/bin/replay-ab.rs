//! Replay timings for A/B comparisons and profiling, on stores the bench left
//! behind (`onrecord-bench --phase bulk --dir DIR --events N`): one thing
//! timed per process, `--runs` times, so that two builds can be run
//! alternately on one store and a profiler (`perf record`) sees only that
//! thing. The bench's `replay-*` phases time the same calls; this adds the
//! bare scan and the fold over records held in memory (no sled at all, so the
//! fold's own cost can be compared between builds despite the VM's noise).
//!
//! ```sh
//! cargo run --release -p onrecord-bench --bin replay-ab -- --what fold DIR/onrecord
//! cargo run --release -p onrecord-bench --bin replay-ab -- --what sled DIR/sled
//! ```

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Result, ensure};
use clap::{Parser, ValueEnum};
use onrecord_bench::baselines::RawSled;
use onrecord_bench::ops;
use onrecord_projections::{Filter, PositionsFold};

/// What to time.
#[derive(Clone, Copy, ValueEnum)]
enum What {
    /// `records_from(1)` folded with `PositionsFold` and finished (the bench's replay).
    Fold,
    /// `records_from(1)` decoded and dropped: the ledger's scan alone.
    Scan,
    /// The fold alone, over every record read into memory first.
    Memory,
    /// Raw sled's scan + decode of the bench's raw store (the replay baseline).
    Sled,
}

/// Times one replay step on an existing store.
#[derive(Parser)]
struct Args {
    /// The store: a ledger directory, or for `--what sled` the bench's raw sled directory.
    store: PathBuf,
    /// What to time.
    #[arg(long, value_enum, default_value = "fold")]
    what: What,
    /// How many times, each reported.
    #[arg(long, default_value_t = 3)]
    runs: usize,
}

fn main() -> Result<()> {
    let args = Args::parse();
    // Opening a missing directory would create an empty store and time nothing.
    ensure!(
        args.store.is_dir(),
        "no store at {}: build one with `onrecord-bench --phase bulk --dir DIR --events N`",
        args.store.display()
    );
    match args.what {
        What::Sled => time_raw_sled(&args),
        What::Memory => time_fold_in_memory(&args),
        What::Scan | What::Fold => time_ledger_replay(&args),
    }
}

fn time_raw_sled(args: &Args) -> Result<()> {
    let raw = RawSled::open(&args.store)?;
    for _ in 0..args.runs {
        let started = Instant::now();
        let n = raw.replay()?;
        println!(
            "sled scan + decode: {n} records in {:.3} s",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

fn time_fold_in_memory(args: &Args) -> Result<()> {
    let ledger = onrecord_sled::open(&args.store, &ops::options())?;
    let head = ledger.head().seq;
    let records = ledger.records_from(1).collect::<Result<Vec<_>, _>>()?;
    ensure!(
        records.len() as u64 == head,
        "read {} of {head} records",
        records.len()
    );
    for _ in 0..args.runs {
        let started = Instant::now();
        let mut fold = PositionsFold::new(Filter::unfiltered(), None);
        records.iter().for_each(|r| fold.apply(r));
        let applied = started.elapsed().as_secs_f64();
        let positions = fold.finish().len();
        println!(
            "fold in memory: {head} records in {applied:.3} s, + finish {:.3} s, {positions} positions",
            started.elapsed().as_secs_f64() - applied
        );
    }
    Ok(())
}

fn time_ledger_replay(args: &Args) -> Result<()> {
    let ledger = onrecord_sled::open(&args.store, &ops::options())?;
    let head = ledger.head().seq;
    let fold = matches!(args.what, What::Fold);
    for _ in 0..args.runs {
        let started = Instant::now();
        let (n, positions) = if fold {
            ops::fold_all(&ledger)?
        } else {
            let mut n = 0;
            for rec in ledger.records_from(1) {
                std::hint::black_box(rec?);
                n += 1;
            }
            (n, 0)
        };
        ensure!(n == head, "read {n} of {head} records");
        println!(
            "{}: {n} records in {:.3} s, {positions} positions",
            if fold { "fold" } else { "scan" },
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
