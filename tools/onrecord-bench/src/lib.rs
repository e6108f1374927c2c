//! onrecord-bench: a seeded synthetic workload and the benchmarks that hold
//! onrecord to its performance targets — durable bulk and single appends,
//! full replay, queries, footprint and peak memory — each against baselines
//! (raw sled, SQLite, a plain file) handed the same encoded records.
//!
//! The binary (`onrecord-bench`) runs each scenario in a child process of its
//! own, prints a table of figures, baselines, ratios and targets, and writes
//! everything to JSON for comparison with later runs. The `pg-bench` binary
//! holds onrecord on PostgreSQL against a plain-SQL baseline ([`pg`]). See
//! `docs/benchmarks.md`.

pub mod bare_sled;
pub mod baselines;
pub mod encode;
pub mod machine;
pub mod ops;
pub mod pg;
pub mod phases;
pub mod report;
pub mod rng;
pub mod workload;

/// The workspace's root directory (where `target/` and `tools/` are).
pub fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The `onrecord` binary to measure: `target/release/onrecord` in the
/// workspace, under `$CARGO_TARGET_DIR`, or beside this binary.
pub fn find_onrecord() -> Option<std::path::PathBuf> {
    let mut candidates = vec![workspace_root().join("target/release/onrecord")];
    if let Some(t) = std::env::var_os("CARGO_TARGET_DIR") {
        candidates.push(std::path::PathBuf::from(t).join("release/onrecord"));
    }
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|me| me.parent().map(std::path::Path::to_owned))
    {
        candidates.push(dir.join("onrecord"));
    }
    candidates.into_iter().find(|p| p.is_file())
}
