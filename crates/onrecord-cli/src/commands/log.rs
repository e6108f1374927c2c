//! `replay` and `export`: the log itself, one event per line, in seq order,
//! streamed from the store (never all in memory). `replay`'s text lines are
//! made printable; JSON Lines are exact.

use onrecord_core::{When, write_line};

use onrecord_ledger::StoreError;

use crate::args::ReplayArgs;
use crate::context::Context;
use crate::error::CliError;
use crate::output::{Out, printable};
use crate::progress::{Progress, Unit};
use crate::render::summary;

/// `export`: every event as JSON Lines, each proven by the hash chain before
/// it is written; the first bad seq stops it with exit 5. With `salvage`, a
/// damaged ledger is exported up to its first bad seq, and still exits 5.
pub fn export(ctx: &Context, salvage: bool) -> Result<(), CliError> {
    if let Some(remote) = ctx.remote()? {
        if salvage {
            return Err(CliError::usage(
                "export --salvage reads a damaged ledger's files: run it where the ledger is, with the server stopped",
            ));
        }
        return export_from(&remote);
    }
    let (ledger, damage) = if salvage {
        let ledger = ctx.open_even_damaged()?;
        let damage = ledger.damage_found_on_open()?;
        (ledger, damage)
    } else {
        (ctx.open()?, None)
    };
    let to = match &damage {
        // seq 0: only the anchor is unreadable; every record verifies.
        Some(d) if d.seq > 0 => d.seq - 1,
        _ => u64::MAX,
    };
    let total = ledger.head().seq;
    let mut progress = Progress::new("exporting", Unit::Records, ctx.quiet, false);
    let mut out = Out::new();
    let mut written = 0u64;
    let mut failure = damage.map(StoreError::Damaged);
    for rec in ledger.records_checked(1, to) {
        match rec {
            Ok(rec) => {
                out.line(write_line(&rec))?;
                written = rec.seq;
                progress.update(rec.seq, total);
            }
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    progress.finish();
    out.flush()?;
    match failure {
        None => Ok(()),
        Some(e) if salvage => {
            let e = CliError::from(e);
            Err(CliError::new(
                e.code,
                format!("salvaged seq 1 to {written} only; {}", e.lines.join("; ")),
            ))
        }
        Some(e) => Err(e.into()),
    }
}

/// `replay`: the events from `--from` to `--to`, as text or JSON Lines; optionally rebuilds the views first.
pub fn replay(ctx: &Context, args: &ReplayArgs) -> Result<(), CliError> {
    let ledger = ctx.open()?;
    if args.rebuild {
        let mut progress = Progress::new("rebuilding", Unit::Records, ctx.quiet, args.json);
        let n = ledger.rebuild_views(&mut |done, total| progress.update(done, total))?;
        progress.finish();
        if !ctx.quiet {
            eprintln!("rebuilt the kept views from {n} records");
        }
    }
    let to = args.to.unwrap_or(u64::MAX);
    let mut out = Out::new();
    if args.json {
        for rec in ledger.records_checked(args.from, to) {
            out.line(write_line(&rec?))?;
        }
        return out.flush();
    }
    // Text: streamed with fixed column widths (seq digits of the head, the
    // longest RFC 3339 time with microseconds, the longest type name).
    let w = ledger.head().seq.max(1).to_string().len().max(3);
    let header = format!(
        "{:>w$}  {:<27}  {:<11}  SUMMARY",
        "SEQ", "RECORDED_AT", "TYPE"
    );
    out.heading(&header)?;
    for rec in ledger.records_checked(args.from, to) {
        let rec = rec?;
        out.line(format!(
            "{:>w$}  {:<27}  {:<11}  {}",
            rec.seq,
            When::instant(rec.recorded_at).to_rfc3339(),
            rec.event.event_type().json_name(),
            printable(&summary(&rec))
        ))?;
    }
    out.flush()
}

/// `export` through a server: its JSON Lines, copied as they arrive. The
/// server cuts the stream off at a record that does not check out, so a
/// stream that ends early is reported as damage, naming the last seq written.
fn export_from(remote: &crate::remote::Remote) -> Result<(), CliError> {
    use std::io::BufRead;
    let body = remote.get_stream("/v1/export", &[], "application/x-ndjson")?;
    let mut out = Out::new();
    let mut written = 0u64;
    for line in std::io::BufReader::new(body).lines() {
        match line {
            Ok(line) => {
                written = crate::remote::seq_of(&line).unwrap_or(written);
                out.line(line)?;
            }
            Err(_) => {
                out.flush()?;
                return Err(CliError::new(
                    crate::error::DAMAGE,
                    format!(
                        "the export from {} stopped after seq {written}: the server found a record that does not check out, or the connection was lost; run `onrecord verify`",
                        remote.shown()
                    ),
                ));
            }
        }
    }
    out.flush()
}
