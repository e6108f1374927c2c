//! onrecord's side of each scenario: appending the workload through the
//! public `Ledger` API, replaying with `PositionsFold`, and the kept-view calls.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use onrecord_core::{Draft, EventId, PropositionId, StatementRetracted};
use onrecord_ledger::{AppendRequest, Ledger};
use onrecord_projections::{Filter, Position, PositionsFold};
use onrecord_sled::LedgerOptions;

use crate::workload::{GenEvent, Workload};

/// Events per durable batch in the bulk scenario.
pub const BATCH: usize = 1_000;

/// The options the bench opens ledgers with: the CLI's defaults, with
/// `ONRECORD_CACHE_MB` honoured as the CLI honours it, and
/// `ONRECORD_BENCH_LAYOUT=2` making its new ledgers one sled key per engine
/// key (layout 2) instead of layout 3, for A/B runs of the two layouts.
pub fn options() -> LedgerOptions {
    let mut options = LedgerOptions::default();
    if std::env::var("ONRECORD_BENCH_LAYOUT").is_ok_and(|v| v.trim() == "2") {
        options.new_layout = onrecord_sled::StoreLayout::KeyPerEntry;
    }
    if let Some(mib) = std::env::var("ONRECORD_CACHE_MB")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        options.cache_capacity = mib.max(1) * 1024 * 1024;
    }
    options
}

/// The request for a generated event; a retraction names the id the ledger gave its statement.
///
/// Events are appended with fresh ids (`event_id: None`), as `onrecord append`
/// does, so no idempotency lookup is paid; `ids` maps the workload's indexes
/// to the ids the ledger chose.
pub fn request(ev: &GenEvent, ids: &[EventId]) -> AppendRequest {
    let draft = match (&ev.draft, ev.retracts) {
        (Draft::Retraction(r), Some(target)) => Draft::Retraction(StatementRetracted {
            statement: ids[target],
            reason: r.reason.clone(),
        }),
        (d, _) => d.clone(),
    };
    AppendRequest::new(draft, bench_recorder())
}

/// Who the benchmark's appends are recorded by: `bench` (the length of a
/// short token name, as a real append stores one).
pub fn bench_recorder() -> onrecord_core::Recorder {
    onrecord_core::Recorder::new("bench")
        .unwrap_or_else(|_| unreachable!("`bench` is a valid name"))
}

/// Appends the workload's log in batches of `batch`; returns the time spent
/// inside `append_batch` (building requests is not timed) and the ids given.
pub fn append_log(ledger: &Ledger, w: &Workload, batch: usize) -> Result<(Duration, Vec<EventId>)> {
    let mut ids: Vec<EventId> = Vec::with_capacity(w.events.len());
    let mut spent = Duration::ZERO;
    for chunk in w.events.chunks(batch) {
        let requests: Vec<AppendRequest> = chunk.iter().map(|e| request(e, &ids)).collect();
        let t = Instant::now();
        let outcomes = ledger
            .append_batch(requests)
            .with_context(|| format!("appending the batch starting at seq {}", ids.len() + 1))?;
        spent += t.elapsed();
        ids.extend(outcomes.iter().map(|o| o.event_id()));
    }
    Ok((spent, ids))
}

/// Replays the whole ledger through an unfiltered [`PositionsFold`]; returns (records, positions).
pub fn fold_all(ledger: &Ledger) -> Result<(u64, usize)> {
    let mut fold = PositionsFold::new(Filter::unfiltered(), None);
    let mut n = 0;
    for rec in ledger.records_from(1) {
        fold.apply(&rec?);
        n += 1;
    }
    Ok((n, fold.finish().len()))
}

/// One proposition's positions as of a valid time, by a full fold of the log.
pub fn fold_positions(
    ledger: &Ledger,
    filter: Filter,
    only: &PropositionId,
) -> Result<Vec<Position>> {
    let mut fold = PositionsFold::new(filter, Some(only.clone()));
    for rec in ledger.records_from(1) {
        fold.apply(&rec?);
    }
    Ok(fold.finish())
}

/// One proposition's current positions from the store's kept view (how many parties hold one).
pub fn kept_view_positions(ledger: &Ledger, only: &PropositionId) -> Result<usize> {
    Ok(ledger.positions(Some(only))?.len())
}

/// Rebuilds the kept views from the log; returns how many records were replayed.
pub fn rebuild_views(ledger: &Ledger) -> Result<u64> {
    Ok(ledger.rebuild_views(&mut |_, _| {})?)
}

/// Opens the ledger at `path`, failing unless it holds exactly `expected` events.
pub fn open_expecting(path: &Path, expected: u64) -> Result<Ledger> {
    let ledger = onrecord_sled::open(path, &options())?;
    let head = ledger.head().seq;
    if head != expected {
        bail!("the ledger holds {head} events; expected {expected}");
    }
    Ok(ledger)
}
