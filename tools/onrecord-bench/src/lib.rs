//! onrecord-bench: a seeded synthetic workload and the benchmarks that hold
//! onrecord to its performance targets — durable bulk and single appends,
//! full replay, queries, footprint and peak memory — each against baselines
//! (raw sled, SQLite, a plain file) handed the same encoded records.
//!
//! The binary (`onrecord-bench`) runs each scenario in a child process of its
//! own, prints a table of figures, baselines, ratios and targets, and writes
//! everything to JSON for comparison with later runs. See `docs/benchmarks.md`.

pub mod bare_sled;
pub mod baselines;
pub mod encode;
pub mod machine;
pub mod ops;
pub mod phases;
pub mod report;
pub mod rng;
pub mod workload;
