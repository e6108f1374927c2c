//! `positions`, `history` and `contradictions`: each parses its flags into a
//! request of `onrecord_ledger::query`, asks the ledger, and prints the answer
//! as a table, JSON or CSV. Which slice of the ledger to read, and whether an
//! id is known, is the query API's decision, not this module's.
//!
//! The JSON shapes are part of the CLI contract (docs/event-schema.md,
//! "Output formats") and live in `onrecord-wire`, shared with the server;
//! change them only by adding fields.

use onrecord_core::{PartyId, PropositionId};
use onrecord_ledger::Ledger;
use onrecord_ledger::query::{ContradictionsQuery, HistoryQuery, PositionsQuery, StaleViewsQuery};
use onrecord_projections::Filter;
use onrecord_wire::{ContradictionJson, HistoryEntryJson, PropositionPositionsJson};

use crate::args::{ContradictionsArgs, HistoryArgs, PositionsArgs};
use crate::context::Context;
use crate::csv_out;
use crate::error::CliError;
use crate::output::Out;
use crate::render::{contradictions_table, history_table, print_positions};
use crate::time_flags::filter_of;

/// The columns of `positions --csv` (the fields of `positions --json`'s positions, plus the proposition).
pub const POSITIONS_CSV: [&str; 10] = [
    "proposition",
    "party",
    "stance",
    "credence",
    "said_at",
    "speaker",
    "statement",
    "quote",
    "statements",
    "flips",
];

/// The columns of `history --csv` (the fields of `history --json`).
pub const HISTORY_CSV: [&str; 10] = [
    "seq",
    "statement",
    "party",
    "speaker",
    "stance",
    "credence",
    "said_at",
    "quote",
    "source",
    "retracted",
];

/// Says on stderr (unless `--quiet`) when an answer is folded from the log
/// because the kept views are stale, and how to make them current.
fn note_stale_views(ctx: &Context, ledger: &Ledger, filter: Filter) -> Result<(), CliError> {
    if !ctx.quiet && ledger.query(&StaleViewsQuery { filter })? {
        eprintln!(
            "note: the kept views are behind the log (an interrupted `replay --rebuild`?); \
             answering from the log, which is slower; run `onrecord replay --rebuild`"
        );
    }
    Ok(())
}

/// `positions`.
pub fn positions(ctx: &Context, args: &PositionsArgs) -> Result<(), CliError> {
    let filter = filter_of(&args.time)?;
    let ledger = ctx.open()?;
    let query = PositionsQuery {
        proposition: args
            .proposition
            .as_deref()
            .map(PropositionId::new)
            .transpose()?,
        party: args.party.as_deref().map(PartyId::new).transpose()?,
        filter,
    };
    note_stale_views(ctx, &ledger, filter)?;
    let views = ledger.query(&query)?;
    let mut out = Out::new();
    if args.csv {
        let rows = views.iter().flat_map(|v| &v.positions).map(|p| {
            vec![
                p.proposition.to_string(),
                p.party.to_string(),
                p.stance.name().to_owned(),
                csv_out::number(p.credence),
                p.said_at.to_rfc3339(),
                p.speaker.to_string(),
                p.statement.to_string(),
                p.quote.clone().unwrap_or_default(),
                p.statements.to_string(),
                p.flips.to_string(),
            ]
        });
        csv_out::print_csv(
            &mut out,
            csv_out::Columns {
                names: &POSITIONS_CSV,
                numeric: &["credence", "statements", "flips"],
            },
            rows,
            csv_out::CsvCells::from_flag(args.csv_exact),
        )?;
    } else if args.json {
        match (&query.proposition, views.first()) {
            (Some(_), Some(v)) => out.json(&PropositionPositionsJson::from_view(v))?,
            _ => out.json(
                &views
                    .iter()
                    .map(PropositionPositionsJson::from_view)
                    .collect::<Vec<_>>(),
            )?,
        }
    } else {
        print_positions(&mut out, &views)?;
    }
    out.flush()
}

/// `contradictions`.
pub fn contradictions_cmd(ctx: &Context, args: &ContradictionsArgs) -> Result<(), CliError> {
    let query = ContradictionsQuery {
        filter: filter_of(&args.time)?,
    };
    let ledger = ctx.open()?;
    note_stale_views(ctx, &ledger, query.filter)?;
    let found = ledger.query(&query)?;
    let mut out = Out::new();
    if args.json {
        let list: Vec<ContradictionJson> = found.iter().map(ContradictionJson::from).collect();
        out.json(&list)?;
    } else if found.is_empty() {
        out.line("no contradictions")?;
    } else {
        out.table(&contradictions_table(&found))?;
    }
    out.flush()
}

/// `history`.
pub fn history(ctx: &Context, args: &HistoryArgs) -> Result<(), CliError> {
    let ledger = ctx.open()?;
    let query = HistoryQuery {
        proposition: PropositionId::new(&args.proposition)?,
        party: args.party.as_deref().map(PartyId::new).transpose()?,
        filter: Filter::unfiltered(),
    };
    let entries = ledger.query(&query)?;
    let mut out = Out::new();
    if args.csv {
        let rows = entries.iter().map(|e| {
            vec![
                e.seq.to_string(),
                e.statement.to_string(),
                e.party.to_string(),
                e.speaker.to_string(),
                e.stance.name().to_owned(),
                csv_out::number(e.credence),
                e.said_at.to_rfc3339(),
                e.quote.clone().unwrap_or_default(),
                e.source.clone().unwrap_or_default(),
                e.retracted.to_string(),
            ]
        });
        csv_out::print_csv(
            &mut out,
            csv_out::Columns {
                names: &HISTORY_CSV,
                numeric: &["seq", "credence"],
            },
            rows,
            csv_out::CsvCells::from_flag(args.csv_exact),
        )?;
    } else if args.json {
        let list: Vec<HistoryEntryJson> = entries.iter().map(HistoryEntryJson::from).collect();
        out.json(&list)?;
    } else if entries.is_empty() {
        out.line("no statements")?;
    } else {
        out.table(&history_table(&entries))?;
    }
    out.flush()
}
