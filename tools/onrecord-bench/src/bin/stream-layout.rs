//! An experiment on bare sled (no onrecord code), for the keyspace question in
//! docs/benchmarks.md: what do stream entries cost when each revision is its
//! own key (onrecord's v1 layout, `S` + stream + revision -> seq) against
//! packing a stream's seqs into chunks of C revisions under one key (the
//! chunk is rewritten whole as it fills)?
//!
//! Each event writes a 244-byte record under its seq and one entry in each of
//! two Zipf-chosen streams (a proposition among N/100, a party among N/2,000),
//! in batches of 1,000, each made durable (flush + fdatasync). Reports write
//! rate, keys, disk blocks, snapshot size and three reopen times per layout.
//!
//! `cargo run --release -p onrecord-bench --bin stream-layout -- --events 1000000`

use std::fs::File;
use std::path::Path;
use std::time::Instant;

use anyhow::Result;
use clap::Parser;
use onrecord_bench::bare_sled::{disk_and_snapshot_bytes, open, reopen_times_ms};
use onrecord_bench::rng::{Rng, Zipf};

/// Stream entries: one key per revision against packed chunks, on bare sled.
#[derive(Parser)]
struct Args {
    /// Events to write per layout.
    #[arg(long, default_value_t = 1_000_000)]
    events: u64,
    /// Layouts to try: 0 is one key per revision, C > 0 packs C revisions per key.
    #[arg(long, value_delimiter = ',', default_value = "0,16,64")]
    chunks: Vec<u64>,
    /// Workload seed.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

/// What one layout cost.
struct Outcome {
    chunk: u64,
    keys: usize,
    secs: f64,
    disk_bytes: u64,
    snapshot_bytes: u64,
    reopen_ms: Vec<u128>,
}

fn stream_key(stream: usize, n: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(24);
    key.push(b'S');
    key.extend_from_slice(format!("stream-{stream}").as_bytes());
    key.push(0);
    key.extend_from_slice(&n.to_be_bytes());
    key
}

fn run(args: &Args, chunk: u64, dir: &Path) -> Result<Outcome> {
    let propositions = Zipf::new((args.events / 100).max(20) as usize, 1.0);
    let parties = Zipf::new((args.events / 2_000).max(10) as usize, 1.0);
    let offset = (args.events / 100).max(20) as usize;
    let streams = offset + (args.events / 2_000).max(10) as usize;
    let mut rng = Rng::new(args.seed);
    let mut revisions = vec![0u64; streams];
    let mut chunks: Vec<Vec<u8>> = vec![Vec::new(); streams];
    let record = vec![7u8; 244];

    let db = open(dir)?;
    let data = File::open(dir.join("db"))?;
    let started = Instant::now();
    let mut batch = sled::Batch::default();
    for seq in 1..=args.events {
        batch.insert(&[&[b'R'][..], &seq.to_be_bytes()].concat()[..], &record[..]);
        let proposition = propositions.sample(&mut rng);
        let party = offset + parties.sample(&mut rng);
        for stream in [proposition, party] {
            let revision = revisions[stream];
            revisions[stream] += 1;
            if chunk == 0 {
                batch.insert(stream_key(stream, revision), &seq.to_be_bytes()[..]);
            } else {
                let entries = &mut chunks[stream];
                if revision.is_multiple_of(chunk) {
                    entries.clear();
                }
                entries.extend_from_slice(&seq.to_be_bytes());
                batch.insert(stream_key(stream, revision / chunk), &entries[..]);
            }
        }
        if seq.is_multiple_of(1_000) || seq == args.events {
            db.apply_batch(std::mem::take(&mut batch))?;
            db.flush()?;
            data.sync_data()?;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let keys = db.len();
    drop(db);
    let reopen_ms = reopen_times_ms(dir, 3)?;
    let (disk_bytes, snapshot_bytes) = disk_and_snapshot_bytes(dir)?;
    Ok(Outcome {
        chunk,
        keys,
        secs,
        disk_bytes,
        snapshot_bytes,
        reopen_ms,
    })
}

fn main() -> Result<()> {
    let args = Args::parse();
    println!(
        "| stream entries | keys | events/s | disk | snapshot | reopens (ms) |\n|---|---:|---:|---:|---:|---|"
    );
    for &chunk in &args.chunks {
        let dir = tempfile::tempdir()?;
        let out = run(&args, chunk, &dir.path().join("db"))?;
        let layout = match out.chunk {
            0 => "one key per revision".to_owned(),
            c => format!("chunks of {c}"),
        };
        println!(
            "| {layout} | {} | {:.0} | {:.0} MB | {:.1} MB | {:?} |",
            out.keys,
            args.events as f64 / out.secs,
            out.disk_bytes as f64 / 1e6,
            out.snapshot_bytes as f64 / 1e6,
            out.reopen_ms
        );
    }
    Ok(())
}
