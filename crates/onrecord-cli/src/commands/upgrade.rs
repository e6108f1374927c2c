//! `upgrade`: rewrite a sled ledger in keyspace layout 3 (docs/adr/0007),
//! verified whole before and after, the old ledger kept beside it.

use crate::context::Context;
use crate::error::CliError;
use crate::output::Out;

/// Upgrades the ledger and says what was done.
pub fn run(ctx: &Context) -> Result<(), CliError> {
    if ctx.remote()?.is_some() {
        return Err(CliError::usage(
            "upgrade works on a ledger directory, not through a server",
        ));
    }
    let mut out = Out::new();
    match ctx.upgrade()? {
        onrecord_sled::Upgraded::AlreadyLayout3 => {
            out.line("ok: the ledger already is in keyspace layout 3; nothing was changed")?;
        }
        onrecord_sled::Upgraded::Rewritten {
            head,
            entries,
            backup,
        } => {
            out.line(format!(
                "ok: rewritten in keyspace layout 3 ({entries} keys), verified, head seq={} hash={}; the ledger as it was is kept at {}",
                head.seq,
                head.hash_hex(),
                backup.display()
            ))?;
        }
    }
    out.flush()
}
