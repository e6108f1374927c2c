//! `copy --from LEDGER --to LEDGER`: moves a ledger between backends (sled
//! directory, PostgreSQL URL, either way) record for record. Every record
//! keeps its bytes (seq, event id, transaction time, recorder, hash); the
//! source's chain is checked as it streams (`records_checked_verbatim`), and
//! the target rebuilds its indexes and kept views through the engine's write
//! path (`Ledger::append_verbatim`), one write set per chunk, so memory is
//! bounded by the chunk and a copy cut short leaves a sound prefix.
//!
//! API tokens go too, after the chain check and before the records (their
//! secrets' digests; a token revoked on either side stays revoked; one the
//! target keeps under the same id with another secret refuses the copy).
//!
//! Resuming: a target whose head is seq k with the source's hash at k holds
//! the source's seqs 1..k (the chain proves it) and is continued at k + 1; a
//! target holding anything else is refused, naming the first seq where the
//! two differ, before anything is written.
//!
//! This module only drives the copy and reports it; what a record is, and
//! what its indexes and views are, is the engine's. It never opens a ledger
//! but through [`Context`].

use onrecord_ledger::envelope::hash_record;
use onrecord_ledger::{Head, Ledger, StoreError, VerbatimRecord, hex};

use crate::args::CopyArgs;
use crate::context::Context;
use crate::error::{CONFLICT, CliError};
use crate::output::{Out, printable};
use crate::progress::{Progress, Unit};

/// Records per write set unless `--chunk` says otherwise: large enough that
/// a round trip per chunk costs little, small enough to keep memory low.
pub const CHUNK_RECORDS: u64 = 1_000;

/// What a finished copy did.
struct Copied {
    /// The target's head before the copy (0 for a new ledger).
    resumed_after: u64,
    /// The target's head after it.
    head: Head,
    /// API tokens written to the target (new, or revoked since).
    tokens: usize,
}

/// `copy --json`: what a finished copy did.
#[derive(serde::Serialize)]
struct CopyJson {
    /// The source, as messages name it.
    from: String,
    /// The target, as messages name it.
    to: String,
    /// Records written by this run (0: the target already held them).
    copied: u64,
    /// The target's head before this run (0: a new ledger).
    resumed_after: u64,
    /// The target's head after it.
    head: onrecord_wire::HeadJson,
    /// API tokens written to the target by this run (new, or revoked since).
    tokens: usize,
}

/// `copy`.
pub fn run(ctx: &Context, args: &CopyArgs) -> Result<(), CliError> {
    if args.from == args.to {
        return Err(CliError::usage(
            "--from and --to name the same ledger: nothing to copy",
        ));
    }
    if args.chunk == 0 {
        return Err(CliError::usage("--chunk must be at least 1"));
    }
    let source_ctx = ctx.for_ledger(args.from.clone());
    let target_ctx = ctx.for_ledger(args.to.clone());
    // A damaged source whose open check fails is refused here (exit 5),
    // before the target is made.
    let source = source_ctx.open()?;
    let upto = args.upto.unwrap_or(u64::MAX).min(source.head().seq);
    if upto == 0 {
        return Err(CliError::invalid(format!(
            "{} holds no records: nothing to copy",
            printable(&source_ctx.ledger_shown())
        )));
    }
    let copied = target_ctx
        .open_or_create_then(|target| copy_into(ctx, &source, target, upto, args.chunk))?;
    let mut out = Out::new();
    let head = copied.head;
    if args.json {
        // The ledgers as messages name them: a URL without its password.
        return out
            .json(&CopyJson {
                from: source_ctx.ledger_shown(),
                to: target_ctx.ledger_shown(),
                copied: head.seq - copied.resumed_after,
                resumed_after: copied.resumed_after,
                head: onrecord_wire::HeadJson {
                    seq: head.seq,
                    hash: head.hash_hex(),
                },
                tokens: copied.tokens,
            })
            .and_then(|()| out.flush());
    }
    let from = printable(&source_ctx.ledger_shown());
    let to = printable(&target_ctx.ledger_shown());
    if copied.resumed_after == head.seq {
        out.line(format!(
            "nothing to copy: {to} already holds seq 1 to {} of {from}, head hash={}",
            head.seq,
            head.hash_hex()
        ))?;
    } else {
        let resumed = if copied.resumed_after > 0 {
            format!(" (resumed after seq {})", copied.resumed_after)
        } else {
            String::new()
        };
        out.line(format!(
            "copied seq {} to {} from {from} to {to}{resumed}, head seq={} hash={}",
            copied.resumed_after + 1,
            head.seq,
            head.seq,
            head.hash_hex()
        ))?;
    }
    if copied.tokens > 0 {
        out.line(format!(
            "copied {} API token{} (their secrets' digests) from {from} to {to}",
            copied.tokens,
            if copied.tokens == 1 { "" } else { "s" }
        ))?;
    }
    out.flush()
}

/// Copies the source's records after the target's head, up to `upto`, in
/// chunks of `chunk`, once the target is known to hold the source's start.
fn copy_into(
    ctx: &Context,
    source: &Ledger,
    target: &Ledger,
    upto: u64,
    chunk: u64,
) -> Result<Copied, CliError> {
    let start = target.head();
    check_continues(source, target, start)?;
    let tokens = target.copy_tokens_from(source)?;
    let mut progress = Progress::new("copying", Unit::Records, ctx.quiet, false);
    let mut head = start;
    let mut pending: Vec<VerbatimRecord> = Vec::new();
    let mut failure = None;
    for record in source.records_checked_verbatim(start.seq + 1, upto) {
        match record {
            Ok(record) => pending.push(record),
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
        if pending.len() as u64 >= chunk {
            head = target.append_verbatim(std::mem::take(&mut pending))?;
            progress.update(head.seq, upto);
        }
    }
    // The records proven before a break are the source's: keep them.
    if !pending.is_empty() {
        head = target.append_verbatim(pending)?;
        progress.update(head.seq, upto);
    }
    progress.finish();
    match failure {
        None => Ok(Copied {
            resumed_after: start.seq,
            head,
            tokens,
        }),
        Some(e) => {
            let e = CliError::from(e);
            Err(CliError::new(
                e.code,
                format!(
                    "the source stops the copy: {}; the target holds seq 1 to {} (run `onrecord verify` on the source)",
                    e.lines.join("; "),
                    head.seq
                ),
            ))
        }
    }
}

/// Refuses a target that does not hold exactly the source's seqs 1..=its
/// head, naming the first seq where they differ. Costs one record read when
/// they agree (the chain makes the hash at the target's head stand for all
/// before it); streams both only to name a difference.
fn check_continues(source: &Ledger, target: &Ledger, start: Head) -> Result<(), CliError> {
    if start.seq == 0 {
        return Ok(());
    }
    if start.seq <= source.head().seq {
        let at_head = source
            .records_checked_verbatim(start.seq, start.seq)
            .next()
            .transpose()?;
        if at_head.is_some_and(|r| hash_record(&r.bytes) == start.hash) {
            return Ok(());
        }
    }
    let differs_at = first_difference(source, target, start.seq)?;
    Err(CliError::new(
        CONFLICT,
        format!(
            "the target already holds a different ledger: it differs from the source at seq {differs_at} (target head seq={} hash={}); nothing was copied",
            start.seq,
            hex(&start.hash)
        ),
    ))
}

/// The first seq at which the two ledgers' records differ (or one of them
/// ends), comparing up to `upto`, streaming both.
fn first_difference(source: &Ledger, target: &Ledger, upto: u64) -> Result<u64, StoreError> {
    let mut theirs = source.records_checked_verbatim(1, upto);
    let mut ours = target.records_checked_verbatim(1, upto);
    for seq in 1..=upto {
        let (a, b) = (theirs.next().transpose()?, ours.next().transpose()?);
        match (a, b) {
            (Some(a), Some(b)) if a.bytes == b.bytes => {}
            _ => return Ok(seq),
        }
    }
    Ok(upto + 1)
}
