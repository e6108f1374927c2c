//! One module per command group; [`run`] dispatches the parsed command line.
//!
//! Commands parse their flags, ask the library (reads through
//! `onrecord_ledger::query`) and print with [`crate::output`] and
//! [`crate::render`]; they never assemble read models, never touch sled or
//! the file layout of a ledger, and never import another command's helpers.

pub mod append;
pub mod copy;
pub mod demo;
pub mod extract;
pub mod init;
pub mod log;
pub mod report;
pub mod scores;
pub mod serve;
pub mod shell;
pub mod stance;
pub mod stats;
pub mod tail;
pub mod token;
pub mod upgrade;
pub mod verify;
pub mod views;

use crate::args::{Cli, Command};
use crate::context::Context;
use crate::error::CliError;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<(), CliError> {
    let ctx = Context::from_cli(&cli)?;
    match cli.command {
        Command::Init => init::run(&ctx),
        Command::Append(args) => append::run(&ctx, args),
        Command::Replay(args) => log::replay(&ctx, &args),
        Command::Export(args) => log::export(&ctx, args.salvage),
        Command::Copy(args) => copy::run(&ctx, &args),
        Command::Positions(args) => views::positions(&ctx, &args),
        Command::History(args) => views::history(&ctx, &args),
        Command::Contradictions(args) => views::contradictions_cmd(&ctx, &args),
        Command::Verify => verify::run(&ctx),
        Command::Upgrade => upgrade::run(&ctx),
        Command::Demo => demo::run(&ctx),
        Command::Scores(args) => scores::scores(&ctx, &args),
        Command::Calibration(args) => scores::calibration(&ctx, &args),
        Command::Chart(args) => report::chart(&ctx, &args),
        Command::Report(args) => report::report(&ctx, &args),
        Command::Stats(args) => stats::run(&ctx, &args),
        Command::Stance(args) => stance::run(&args),
        Command::Extract(args) => extract::run(&ctx, &args),
        Command::Serve(args) => serve::run(&ctx, &args),
        Command::Tail(args) => tail::run(&ctx, &args),
        Command::Token(args) => token::run(&ctx, args.action),
        Command::Completions(args) => shell::completions(args.shell),
        Command::Man => shell::man(),
    }
}
