//! `verify`: check the hash chain, the gapless sequence, the indexes, the
//! head and the kept views; exit 5 on damage.

use onrecord_store::ViewsVerified;

use crate::context::Context;
use crate::error::{CliError, DAMAGE};
use crate::output::Out;
use crate::progress::{Progress, Unit};

/// Verifies the ledger and reports the result.
pub fn run(ctx: &Context) -> Result<(), CliError> {
    let ledger = ctx.open()?;
    let mut progress = Progress::new("verifying", Unit::Records, ctx.quiet, false);
    let report = ledger.verify(&mut |done, total| progress.update(done, total))?;
    progress.finish();
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
    // What became of the kept views is a note on stderr: stdout keeps its
    // one-line contract, the head hash last.
    if !ctx.quiet {
        match report.views {
            ViewsVerified::Equal { positions } => {
                eprintln!("kept views: {positions} positions equal the log")
            }
            ViewsVerified::Stale => {
                eprintln!("kept views: stale, not checked (run `onrecord replay --rebuild`)")
            }
            ViewsVerified::NotChecked => {}
        }
    }
    out.flush()
}
