//! The `onrecord` command line: argument parsing ([`args`]), one module per
//! command group ([`commands`]), printing ([`output`]), JSON Lines input
//! ([`input`]) and its one bulk-append path ([`bulk`]), and the mapping of
//! failures to messages and exit codes ([`error`]).
//!
//! This crate stays thin: the domain rules live in `onrecord-core`, storage
//! and the query API in `onrecord-ledger`, the read models in
//! `onrecord-projections`. Commands parse, ask and print ([`render`] holds the
//! tables several print alike). It never touches sled directly.

#![warn(missing_docs)]

pub mod args;
pub mod args_report;
pub mod bulk;
pub mod commands;
pub mod context;
pub mod csv_out;
pub mod error;
pub mod hints;
pub mod input;
pub mod local_user;
pub mod output;
pub mod progress;
pub mod remote;
pub mod render;
pub mod time_flags;

use clap::Parser;

/// Runs the CLI on the process's arguments and returns the exit code.
pub fn main() -> i32 {
    // Before any thread: sled's log buffers must not fragment the heap.
    onrecord_sled::pin_mmap_threshold();
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help and version to stdout (exit 0), usage errors to
            // stderr (exit 2). Usage errors echo the arguments as typed, so
            // they are printed plain, each line made printable.
            if e.use_stderr() {
                let text = e.render().to_string();
                for line in text.lines() {
                    eprintln!("{}", output::printable(line));
                }
            } else {
                let _ = e.print();
            }
            return e.exit_code();
        }
    };
    match commands::run(cli) {
        Ok(()) => error::OK,
        Err(e) if e.code == output::BROKEN_PIPE => error::OK,
        Err(e) => {
            for line in &e.lines {
                eprintln!("error: {line}");
            }
            e.code
        }
    }
}
