//! `stats`: what the ledger holds (events by type, parties, propositions open
//! and resolved, statements, retractions, head, bytes on disk), counted from
//! the store's indexes, asked of the query API (`StatsQuery`).
//!
//! The JSON shape is part of the CLI contract (docs/event-schema.md, "Output
//! formats") and lives in `onrecord-wire` (`StatsJson`), shared with the
//! server; change it only by adding fields. Read-only: never appends.

use onrecord_ledger::query::StatsQuery;
use onrecord_wire::StatsJson;

use crate::args::StatsArgs;
use crate::context::Context;
use crate::error::CliError;
use crate::output::{Out, Table};

/// Prints the ledger's statistics.
pub fn run(ctx: &Context, args: &StatsArgs) -> Result<(), CliError> {
    let json: StatsJson = match ctx.remote()? {
        Some(remote) => remote.get_json("/v1/stats", &[])?,
        None => StatsJson::from_stats(&ctx.open()?.query(&StatsQuery)?),
    };
    let mut out = Out::new();
    if args.json {
        out.json(&json)?;
        return out.flush();
    }
    let e = &json.events;
    let mut t = Table::new(&["EVENTS", "COUNT"]);
    for (name, n) in [
        ("party", e.party),
        ("proposition", e.proposition),
        ("statement", e.statement),
        ("retraction", e.retraction),
        ("resolution", e.resolution),
        ("total", e.total),
    ] {
        t.row(vec![name.into(), n.to_string().into()]);
    }
    out.table(&t)?;
    out.line("")?;
    let p = &json.propositions;
    out.line(format!("parties:       {}", json.parties))?;
    out.line(format!(
        "propositions:  {} ({} open, {} resolved)",
        p.total, p.open, p.resolved
    ))?;
    out.line(format!(
        "statements:    {} ({} retracted)",
        json.statements, json.retractions
    ))?;
    out.line(format!(
        "head:          seq={} hash={}",
        json.head.seq, json.head.hash
    ))?;
    out.line(format!(
        "on disk:       {} ({} bytes)",
        human_bytes(json.bytes_on_disk),
        json.bytes_on_disk
    ))?;
    out.flush()
}

/// A byte count in binary units, e.g. `1.5 MiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut x = n as f64;
    let mut unit = 0;
    while x >= 1024.0 && unit < UNITS.len() - 1 {
        x /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{x:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_read_in_binary_units() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 * 1024 * 1024), "3.0 MiB");
    }
}
