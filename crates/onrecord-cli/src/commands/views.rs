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
use crate::remote::segment;
use crate::render::{contradictions_table, history_table, print_positions};
use crate::time_flags::{filter_of, query_of};

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
    let proposition = args
        .proposition
        .as_deref()
        .map(PropositionId::new)
        .transpose()?;
    let party = args.party.as_deref().map(PartyId::new).transpose()?;
    let views: Vec<PropositionPositionsJson> = if let Some(remote) = ctx.remote()? {
        let mut query = query_of(&args.time)?;
        if let Some(p) = &party {
            query.push(("party", p.to_string()));
        }
        match &proposition {
            Some(p) => {
                vec![remote.get_json(&format!("/v1/positions/{}", segment(p.as_str())), &query)?]
            }
            None => remote.get_json("/v1/positions", &query)?,
        }
    } else {
        let ledger = ctx.open()?;
        let query = PositionsQuery {
            proposition: proposition.clone(),
            party,
            filter,
        };
        note_stale_views(ctx, &ledger, filter)?;
        let views = ledger.query(&query)?;
        views
            .iter()
            .map(PropositionPositionsJson::from_view)
            .collect()
    };
    let mut out = Out::new();
    if args.csv {
        let rows = views.iter().flat_map(|v| {
            v.positions.iter().map(|p| {
                vec![
                    v.proposition.clone(),
                    p.party.clone(),
                    p.stance.clone(),
                    csv_out::number(p.credence),
                    p.said_at.clone(),
                    p.speaker.clone(),
                    p.statement.clone(),
                    p.quote.clone().unwrap_or_default(),
                    p.statements.to_string(),
                    p.flips.to_string(),
                ]
            })
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
        match (&proposition, views.first()) {
            (Some(_), Some(v)) => out.json(v)?,
            _ => out.json(&views)?,
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
    let found: Vec<ContradictionJson> = if let Some(remote) = ctx.remote()? {
        remote.get_json("/v1/contradictions", &query_of(&args.time)?)?
    } else {
        let ledger = ctx.open()?;
        note_stale_views(ctx, &ledger, query.filter)?;
        let found = ledger.query(&query)?;
        found.iter().map(ContradictionJson::from).collect()
    };
    let mut out = Out::new();
    if args.json {
        out.json(&found)?;
    } else if found.is_empty() {
        out.line("no contradictions")?;
    } else {
        out.table(&contradictions_table(&found))?;
    }
    out.flush()
}

/// `history`.
pub fn history(ctx: &Context, args: &HistoryArgs) -> Result<(), CliError> {
    let proposition = PropositionId::new(&args.proposition)?;
    let party = args.party.as_deref().map(PartyId::new).transpose()?;
    let entries: Vec<HistoryEntryJson> = if let Some(remote) = ctx.remote()? {
        let query: Vec<(&str, String)> = party.iter().map(|p| ("party", p.to_string())).collect();
        remote.get_json(
            &format!("/v1/propositions/{}/history", segment(proposition.as_str())),
            &query,
        )?
    } else {
        let ledger = ctx.open()?;
        let query = HistoryQuery {
            proposition,
            party,
            filter: Filter::unfiltered(),
        };
        let entries = ledger.query(&query)?;
        entries.iter().map(HistoryEntryJson::from).collect()
    };
    let mut out = Out::new();
    if args.csv {
        let rows = entries.iter().map(|e| {
            vec![
                e.seq.to_string(),
                e.statement.clone(),
                e.party.clone(),
                e.speaker.clone(),
                e.stance.clone(),
                csv_out::number(e.credence),
                e.said_at.clone(),
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
        out.json(&entries)?;
    } else if entries.is_empty() {
        out.line("no statements")?;
    } else {
        out.table(&history_table(&entries))?;
    }
    out.flush()
}
