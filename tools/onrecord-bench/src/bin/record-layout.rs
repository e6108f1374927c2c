//! An experiment on bare sled (no onrecord code), for the next keyspace
//! question in docs/benchmarks.md: what would packing records into chunks
//! of C per key (the chunk rewritten whole as it fills) do to writes, single
//! appends, scans, point reads, disk, and sled's open, against one key per
//! record (onrecord's `R` keys today, and the raw sled baseline)?
//!
//! Each layout writes N records of 244 bytes (the workload's mean) under
//! their seq in batches of 1,000, each made durable (flush + fdatasync);
//! then 2,000 single durable appends; then reopens three times, scans every
//! record in seq order (splitting chunks), and reads 100,000 records at
//! random seqs.
//!
//! `cargo run --release -p onrecord-bench --bin record-layout -- --events 1000000`

use std::fs::File;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, ensure};
use clap::Parser;
use onrecord_bench::bare_sled::{disk_and_snapshot_bytes, open, reopen_times_ms};
use onrecord_bench::rng::Rng;

/// Records one per key against packed chunks, on bare sled.
#[derive(Parser)]
struct Args {
    /// Records written in batches, per layout.
    #[arg(long, default_value_t = 1_000_000)]
    events: u64,
    /// Single durable appends after the batches.
    #[arg(long, default_value_t = 2_000)]
    singles: u64,
    /// Layouts to try: C records per key (1 is one key per record).
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    chunks: Vec<u64>,
    /// Seed for the random point reads.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

/// What one layout cost.
struct Outcome {
    keys: usize,
    bulk_secs: f64,
    single_secs: f64,
    disk_bytes: u64,
    snapshot_bytes: u64,
    reopen_ms: Vec<u128>,
    scan_secs: f64,
    point_read_us: f64,
}

fn record_key(chunk: u64, seq: u64) -> [u8; 9] {
    let mut key = [b'R'; 9];
    key[1..].copy_from_slice(&((seq - 1) / chunk).to_be_bytes());
    key
}

/// The record stored for `seq`: 244 bytes that differ from record to record.
fn record(seq: u64) -> Vec<u8> {
    let mut r = vec![0u8; 244];
    for (i, b) in r.iter_mut().enumerate() {
        *b = (seq as u8).wrapping_add(i as u8);
    }
    r
}

/// Writes records `from..=to` into `chunk_buf` (the current chunk), putting
/// each chunk into `batch` once: when it fills, or at `to` if it is partial.
fn stage(batch: &mut sled::Batch, chunk: u64, chunk_buf: &mut Vec<u8>, from: u64, to: u64) {
    for seq in from..=to {
        let r = record(seq);
        chunk_buf.extend_from_slice(&(r.len() as u32).to_le_bytes());
        chunk_buf.extend_from_slice(&r);
        if seq % chunk == 0 || seq == to {
            batch.insert(&record_key(chunk, seq)[..], &chunk_buf[..]);
        }
        if seq % chunk == 0 {
            chunk_buf.clear();
        }
    }
}

/// The records packed in one chunk value.
fn records_in(mut chunk: &[u8]) -> impl Iterator<Item = &[u8]> {
    std::iter::from_fn(move || {
        let (len, rest) = chunk.split_first_chunk::<4>()?;
        let (rec, rest) = rest.split_at(u32::from_le_bytes(*len) as usize);
        chunk = rest;
        Some(rec)
    })
}

fn run(args: &Args, chunk: u64, dir: &Path) -> Result<Outcome> {
    let db = open(dir)?;
    let data = File::open(dir.join("db"))?;
    let mut chunk_buf = Vec::new();
    let started = Instant::now();
    let mut seq = 0;
    while seq < args.events {
        let to = (seq + 1_000).min(args.events);
        let mut batch = sled::Batch::default();
        stage(&mut batch, chunk, &mut chunk_buf, seq + 1, to);
        db.apply_batch(batch)?;
        db.flush()?;
        data.sync_data()?;
        seq = to;
    }
    let bulk_secs = started.elapsed().as_secs_f64();
    let started = Instant::now();
    for _ in 0..args.singles {
        seq += 1;
        let mut batch = sled::Batch::default();
        stage(&mut batch, chunk, &mut chunk_buf, seq, seq);
        db.apply_batch(batch)?;
        db.flush()?;
        data.sync_data()?;
    }
    let single_secs = started.elapsed().as_secs_f64();
    let total = seq;
    let keys = db.len();
    drop(db);
    let reopen_ms = reopen_times_ms(dir, 3)?;
    let db = open(dir)?;
    let started = Instant::now();
    let mut scanned = 0u64;
    for item in db.range(&[b'R'][..]..&[b'S'][..]) {
        let (_, value) = item?;
        for rec in records_in(&value) {
            std::hint::black_box(rec);
            scanned += 1;
        }
    }
    let scan_secs = started.elapsed().as_secs_f64();
    ensure!(scanned == total, "scanned {scanned} of {total} records");
    let mut rng = Rng::new(args.seed);
    let reads = 100_000;
    let started = Instant::now();
    for _ in 0..reads {
        let seq = 1 + rng.below(total);
        let value = db.get(record_key(chunk, seq))?.context("a written chunk")?;
        let rec = records_in(&value).nth(((seq - 1) % chunk) as usize);
        ensure!(
            rec.is_some_and(|r| r[0] == seq as u8),
            "record {seq} misplaced"
        );
    }
    let point_read_us = started.elapsed().as_secs_f64() * 1e6 / reads as f64;
    drop(db);
    let (disk_bytes, snapshot_bytes) = disk_and_snapshot_bytes(dir)?;
    Ok(Outcome {
        keys,
        bulk_secs,
        single_secs,
        disk_bytes,
        snapshot_bytes,
        reopen_ms,
        scan_secs,
        point_read_us,
    })
}

fn main() -> Result<()> {
    let args = Args::parse();
    println!(
        "| records | keys | bulk ev/s | single ev/s | scan ev/s | point read | disk | snapshot | reopens (ms) |\n|---|---:|---:|---:|---:|---:|---:|---:|---|"
    );
    for &chunk in &args.chunks {
        ensure!(chunk > 0, "a chunk holds at least one record");
        let dir = tempfile::tempdir()?;
        let out = run(&args, chunk, &dir.path().join("db"))?;
        let layout = match chunk {
            1 => "one key per record".to_owned(),
            c => format!("chunks of {c}"),
        };
        let total = args.events + args.singles;
        println!(
            "| {layout} | {} | {:.0} | {:.0} | {:.0} | {:.1} us | {:.0} MB | {:.1} MB | {:?} |",
            out.keys,
            args.events as f64 / out.bulk_secs,
            args.singles as f64 / out.single_secs.max(1e-9),
            total as f64 / out.scan_secs,
            out.point_read_us,
            out.disk_bytes as f64 / 1e6,
            out.snapshot_bytes as f64 / 1e6,
            out.reopen_ms
        );
    }
    Ok(())
}
