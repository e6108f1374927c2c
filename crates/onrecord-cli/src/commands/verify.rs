//! `verify`: check the hash chain, the gapless sequence, the indexes and the
//! head; exit 5 on damage.

use crate::context::Context;
use crate::error::{CliError, DAMAGE};
use crate::output::Out;

/// Verifies the ledger and reports the result.
pub fn run(ctx: &Context) -> Result<(), CliError> {
    let ledger = ctx.open()?;
    let report = ledger.verify(&mut |_, _| {})?;
    if let Some(d) = report.damage {
        return Err(CliError::new(
            DAMAGE,
            format!("damage at seq {}: {}", d.seq, d.problem),
        ));
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
