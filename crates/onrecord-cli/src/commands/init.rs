//! `init`: create an empty ledger, refusing when one exists.

use crate::context::Context;
use crate::error::CliError;
use crate::output::Out;

/// Creates the ledger at the context's path.
pub fn run(ctx: &Context) -> Result<(), CliError> {
    ctx.create()?;
    let mut out = Out::new();
    out.line(format!(
        "created an empty ledger at {}",
        crate::output::printable(&ctx.ledger_shown())
    ))?;
    out.flush()
}
