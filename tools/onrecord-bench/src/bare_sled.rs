//! Helpers for the bare-sled experiments (`stream-layout`, `record-layout`):
//! opening a database as a ledger would, and what its files take on disk.
//! No onrecord code; only sled and the file system.

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::baselines::sled_config;

/// Opens (or creates) sled at `dir` with a ledger's configuration, retrying
/// for up to 10 s while a just-dropped handle's flusher still holds the lock.
pub fn open(dir: &Path) -> Result<sled::Db> {
    let started = Instant::now();
    loop {
        match sled_config(dir).open() {
            Ok(db) => return Ok(db),
            Err(_) if started.elapsed() < Duration::from_secs(10) => {
                std::thread::sleep(Duration::from_millis(10))
            }
            Err(e) => return Err(e).context("opening sled"),
        }
    }
}

/// How long each of `times` consecutive opens (each closed again) of the database at `dir` took, in ms.
pub fn reopen_times_ms(dir: &Path, times: usize) -> Result<Vec<u128>> {
    (0..times)
        .map(|_| {
            let started = Instant::now();
            let db = open(dir)?;
            let ms = started.elapsed().as_millis();
            drop(db);
            Ok(ms)
        })
        .collect()
}

/// Bytes allocated on disk by the files directly in `dir`, and the apparent
/// size of sled's snapshot files (`snap.*`, its page table) among them.
pub fn disk_and_snapshot_bytes(dir: &Path) -> Result<(u64, u64)> {
    let (mut disk, mut snapshot) = (0, 0);
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        if meta.is_file() {
            disk += meta.blocks() * 512;
            if entry.file_name().to_string_lossy().starts_with("snap.") {
                snapshot += meta.len();
            }
        }
    }
    Ok((disk, snapshot))
}
