//! `sled-knobs`: what sled 0.34's own settings do to the costs issue 14's
//! targets stop at, on bare sled (no onrecord code; only sled and std, so
//! the same file also builds outside the workspace with sled's
//! `compression` feature, which the workspace does not enable).
//!
//! Two experiments (docs/benchmarks.md, "What sled itself stops"):
//!
//! - `open DIR`: opens a sled directory (a COPY of a ledger: every open
//!   writes to it) `--runs` times with a ledger's configuration and the
//!   knobs given, and reports each open, one `get_lt` at the end of the
//!   keyspace and the drop, in ms, with the bytes the process wrote
//!   (`/proc/self/io` `write_bytes` and `wchar`) and the `db` file's size.
//!   `--idle-secs S` keeps the last open idle S seconds first (sled's
//!   segment cleaning runs only in its flusher thread, between flushes) and
//!   samples the file's size every second.
//! - `write DIR`: layout 3's write pattern, modelled: N records of 244 bytes
//!   packed 16 to a key in durable batches of 1,000 (apply_batch + flush +
//!   fdatasync, as the ledger does), and in each batch `--rewrites` chunks
//!   of `--value-bytes` each, chosen at random among `--chunks-per-event` x
//!   events-so-far chunk keys, rewritten whole (layout 3's `W`, `V`, `H`,
//!   `C` chunks). Reports the rate, the bytes written, the file's size and
//!   three reopen times. `--content FILE` takes the bytes of records and
//!   chunks from FILE (e.g. a real ledger's `db`) instead of made-up ones,
//!   so that `--compression` sees realistic data.
//!
//! Knobs for both: `--cache-mb` (64), `--flush-ms` (500, sled's default;
//! 0 = no flusher thread), `--segment-kib` (512, sled's default; only for a
//! new database), `--compression` (needs sled's `compression` feature,
//! which the workspace does not enable: build this file alone in a scratch
//! crate outside it, whose `Cargo.toml` has an empty `[workspace]`,
//! `sled = { version = "=0.34.7", features = ["compression"] }` and a
//! `[[bin]]` whose `path` is this file).
//!
//! ```sh
//! cp -r LEDGER /tmp/copy && target/release/sled-knobs open /tmp/copy --runs 5
//! target/release/sled-knobs write /tmp/w --events 200000 --segment-kib 8192
//! ```

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// The command line: a subcommand, a directory, then `--name value` pairs.
struct Args {
    what: String,
    dir: PathBuf,
    opts: HashMap<String, String>,
}

impl Args {
    fn parse() -> Result<Self> {
        let mut it = std::env::args().skip(1);
        let what = it
            .next()
            .ok_or("usage: sled-knobs open|write DIR [--knob value ...]")?;
        let dir = PathBuf::from(it.next().ok_or("a directory")?);
        let mut opts = HashMap::new();
        while let Some(name) = it.next() {
            let name = name
                .strip_prefix("--")
                .ok_or("options are --name value")?
                .to_owned();
            let value = if name == "compression" {
                "1".to_owned()
            } else {
                it.next().ok_or("a value")?
            };
            opts.insert(name, value);
        }
        Ok(Self { what, dir, opts })
    }

    fn num(&self, name: &str, default: u64) -> Result<u64> {
        Ok(match self.opts.get(name) {
            Some(v) => v.parse()?,
            None => default,
        })
    }

    fn float(&self, name: &str, default: f64) -> Result<f64> {
        Ok(match self.opts.get(name) {
            Some(v) => v.parse()?,
            None => default,
        })
    }

    /// A ledger's sled configuration (`onrecord-sled`'s `open`) plus the knobs.
    fn config(&self) -> Result<sled::Config> {
        let flush_ms = self.num("flush-ms", 500)?;
        let mut config = sled::Config::new()
            .path(&self.dir)
            .cache_capacity(self.num("cache-mb", 64)? * 1024 * 1024)
            .mode(sled::Mode::HighThroughput)
            .flush_every_ms(if flush_ms == 0 { None } else { Some(flush_ms) });
        if let Some(kib) = self.opts.get("segment-kib") {
            config = config.segment_size(kib.parse::<usize>()? * 1024);
        }
        if self.opts.contains_key("compression") {
            config = config.use_compression(true);
        }
        Ok(config)
    }

    fn knobs(&self) -> String {
        let mut k: Vec<_> = self.opts.iter().map(|(n, v)| format!("{n}={v}")).collect();
        k.sort();
        k.join(" ")
    }
}

/// `write_bytes` and `wchar` of this process so far.
fn io_written() -> (u64, u64) {
    let io = std::fs::read_to_string("/proc/self/io").unwrap_or_default();
    let field = |name: &str| {
        io.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    (field("write_bytes:"), field("wchar:"))
}

fn file_len(dir: &Path) -> u64 {
    std::fs::metadata(dir.join("db"))
        .map(|m| m.len())
        .unwrap_or(0)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn open(args: &Args) -> Result<()> {
    let runs = args.num("runs", 5)?;
    let idle = args.num("idle-secs", 0)?;
    println!("knobs: {}", args.knobs());
    for run in 0..runs {
        let (wb0, wc0) = io_written();
        let started = Instant::now();
        let db = args.config()?.open()?;
        let opened = started.elapsed();
        let (wb1, wc1) = io_written();
        let t = Instant::now();
        let last = db.get_lt([0xffu8; 8])?;
        std::hint::black_box(&last);
        let read = t.elapsed();
        if run + 1 == runs && idle > 0 {
            let before = file_len(&args.dir);
            let mut sizes = Vec::new();
            for _ in 0..idle {
                std::thread::sleep(Duration::from_secs(1));
                sizes.push(file_len(&args.dir) / 1_000_000);
            }
            println!(
                "idle {idle} s: db file {} MB -> {:?} MB (size_on_disk {} MB)",
                before / 1_000_000,
                sizes,
                db.size_on_disk()? / 1_000_000
            );
        }
        let t = Instant::now();
        drop(db);
        let dropped = t.elapsed();
        let (wb2, wc2) = io_written();
        println!(
            "run {run}: open {:.1} ms (wrote {} KiB, wchar {} KiB), get_lt {:.3} ms, drop {:.1} ms (wrote {} KiB, wchar {} KiB), db {} MB",
            ms(opened),
            (wb1 - wb0) / 1024,
            (wc1 - wc0) / 1024,
            ms(read),
            ms(dropped),
            (wb2 - wb1) / 1024,
            (wc2 - wc1) / 1024,
            file_len(&args.dir) / 1_000_000
        );
    }
    Ok(())
}

/// xorshift64*: enough for choosing chunks.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1)
    }
}

/// Up to 32 MiB of the 4 KiB blocks of `file` that are not mostly one byte
/// (sled's zeroed segments): content as compressible as a real ledger's.
fn real_bytes(file: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let mut f = File::open(file)?;
    let mut out = Vec::new();
    let mut block = vec![0u8; 4096];
    while out.len() < 32 << 20 {
        if f.read(&mut block)? < block.len() {
            break;
        }
        if block.iter().filter(|&&b| b == block[0]).count() < block.len() * 9 / 10 {
            out.extend_from_slice(&block);
        }
    }
    Ok(out)
}

fn write(args: &Args) -> Result<()> {
    let events = args.num("events", 200_000)?;
    let rewrites = args.num("rewrites", 1_000)?;
    let value_bytes = args.num("value-bytes", 1_400)? as usize;
    let per_event = args.float("chunks-per-event", 0.12)?;
    let idle = args.num("idle-secs", 0)?;
    let content = match args.opts.get("content") {
        Some(file) => real_bytes(Path::new(file))?,
        None => Vec::new(),
    };
    let mut at = 0usize;
    let mut bytes_from = |n: usize| -> Vec<u8> {
        if content.len() < n {
            return Vec::new();
        }
        if at + n > content.len() {
            at = 0;
        }
        at += n;
        content[at - n..at].to_vec()
    };
    let db = args.config()?.open()?;
    let data = File::open(args.dir.join("db"))?;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut chunk = Vec::new();
    let mut value = vec![0u8; value_bytes];
    let (wb0, wc0) = io_written();
    let started = Instant::now();
    let mut seq = 0u64;
    while seq < events {
        let to = (seq + 1_000).min(events);
        let mut batch = sled::Batch::default();
        for s in seq + 1..=to {
            // A record: 244 bytes that vary (compressible like JSON-ish text would be more).
            chunk.extend_from_slice(&244u32.to_le_bytes());
            let real = bytes_from(244);
            if real.is_empty() {
                chunk
                    .extend((0..244u32).map(|i| (s as u32).wrapping_mul(31).wrapping_add(i) as u8));
            } else {
                chunk.extend_from_slice(&real);
            }
            if s % 16 == 0 || s == to {
                let mut key = vec![b'R'];
                key.extend_from_slice(&((s - 1) / 16).to_be_bytes());
                batch.insert(key, &chunk[..]);
            }
            if s % 16 == 0 {
                chunk.clear();
            }
        }
        let population = ((to as f64 * per_event) as u64).max(1);
        for _ in 0..rewrites {
            let k = rng.below(population);
            let mut key = vec![b'W'];
            key.extend_from_slice(&k.to_be_bytes());
            let real = bytes_from(value_bytes);
            if !real.is_empty() {
                value.copy_from_slice(&real);
            }
            value[..8].copy_from_slice(&seq.to_le_bytes());
            batch.insert(key, &value[..]);
        }
        db.apply_batch(batch)?;
        db.flush()?;
        data.sync_data()?;
        seq = to;
    }
    let secs = started.elapsed().as_secs_f64();
    let (wb1, wc1) = io_written();
    let len = file_len(&args.dir);
    if idle > 0 {
        let mut sizes = Vec::new();
        for _ in 0..idle {
            std::thread::sleep(Duration::from_secs(1));
            sizes.push(file_len(&args.dir) / 1_000_000);
        }
        println!("idle {idle} s after the writes: db file MB {sizes:?}");
    }
    let keys = db.len();
    drop(db);
    let mut reopens = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let db = args.config()?.open()?;
        reopens.push(format!("{:.1}", ms(t.elapsed())));
        drop(db);
    }
    println!(
        "knobs: {} | {events} events, {keys} keys | {:.0} ev/s | wrote {} MB (wchar {} MB) | db file {} MB ({:.0} B/event) after writes, {} MB after reopens | reopen ms {:?}",
        args.knobs(),
        events as f64 / secs,
        (wb1 - wb0) / 1_000_000,
        (wc1 - wc0) / 1_000_000,
        len / 1_000_000,
        len as f64 / events as f64,
        file_len(&args.dir) / 1_000_000,
        reopens
    );
    Ok(())
}

fn main() -> Result<()> {
    let args = Args::parse()?;
    match args.what.as_str() {
        "open" => open(&args),
        "write" => write(&args),
        other => Err(format!("unknown experiment `{other}`: open or write").into()),
    }
}
