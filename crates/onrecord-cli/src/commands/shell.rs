//! `completions` and `man`: shell completion scripts and a roff man page,
//! generated from the clap command definition in [`crate::args`].
//!
//! Neither needs nor opens a ledger; both only write to stdout.

use clap::CommandFactory;
use clap_complete::Shell;

use crate::args::Cli;
use crate::error::CliError;
use crate::output::Out;

/// Prints the completion script for `shell`.
pub fn completions(shell: Shell) -> Result<(), CliError> {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "onrecord", &mut buf);
    let mut out = Out::new();
    out.bytes(&buf)?;
    out.flush()
}

/// Prints the man page, `onrecord(1)`, in roff.
pub fn man() -> Result<(), CliError> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut buf)
        .map_err(|e| CliError::invalid(format!("cannot render the man page: {e}")))?;
    let mut out = Out::new();
    out.bytes(&buf)?;
    out.flush()
}
