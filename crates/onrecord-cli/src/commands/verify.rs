//! `verify`: check the hash chain, the gapless sequence, the indexes and the
//! head; exit 5 on damage.

use crate::context::Context;
use onrecord_store::StoreError;

use crate::error::CliError;
use crate::output::Out;
use crate::progress::{Progress, Unit};

/// Verifies the ledger and reports the result.
pub fn run(ctx: &Context) -> Result<(), CliError> {
    let ledger = ctx.open_even_damaged()?;
    let mut progress = Progress::new("verifying", Unit::Records, ctx.quiet, false);
    let report = ledger.verify(&mut |done, total| progress.update(done, total))?;
    progress.finish();
    if let Some(d) = report.damage {
        // The same words every reading command refuses a damaged ledger with.
        return Err(StoreError::Damaged(d).into());
    }
    let mut out = Out::new();
    out.line(format!(
        "ok: {} records, chain and indexes verified, head seq={} hash={}",
        report.records,
        report.head.seq,
        report.head.hash_hex()
    ))?;
    out.flush()
}
