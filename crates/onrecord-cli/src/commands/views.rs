//! `positions`, `history` and `contradictions`: the read models, as tables or
//! JSON. Current positions come from the store's kept view; any time filter
//! (`--as-of`, `--known-at`, `--at-seq`) folds the log as a stream instead.
//!
//! The JSON shapes are part of the CLI contract (docs/event-schema.md,
//! "Output formats"); change them only by adding fields.

use std::collections::BTreeMap;

use onrecord_core::{LedgerFacts, PartyId, PropositionId, TimeBound};
use onrecord_projections::{Contradiction, Filter, HistoryEntry, Position, contradictions};
use onrecord_store::Ledger;
use serde::Serialize;

use crate::args::{ContradictionsArgs, HistoryArgs, PositionsArgs, TimeArgs};
use crate::context::Context;
use crate::csv_out;
use crate::error::CliError;
use crate::hints;
use crate::output::{Cell, Out, QUOTE_WIDTH, Style, Table, percent, round6, shorten, styled};

/// One proposition's positions and the contradictions among them.
#[derive(Debug, Clone)]
pub struct PropositionView {
    /// The proposition.
    pub proposition: PropositionId,
    /// The positions shown (only `--party`'s when given), ordered by party.
    pub positions: Vec<Position>,
    /// Contradictions among every party's positions, ordered by pair.
    pub contradictions: Vec<Contradiction>,
}

/// The filter the time flags ask for.
pub fn filter_of(time: &TimeArgs) -> Result<Filter, CliError> {
    let bound = |s: &Option<String>| -> Result<Option<TimeBound>, CliError> {
        Ok(s.as_deref().map(str::parse::<TimeBound>).transpose()?)
    };
    Ok(Filter {
        as_of: bound(&time.as_of)?,
        known_at: bound(&time.known_at)?,
        at_seq: time.at_seq,
    })
}

/// Parses a proposition id and checks the ledger has it.
pub fn known_proposition(ledger: &Ledger, id: &str) -> Result<PropositionId, CliError> {
    let id = PropositionId::new(id)?;
    match ledger.proposition_opened(&id)? {
        Some(_) => Ok(id),
        None => Err(CliError::invalid(format!(
            "unknown proposition `{id}`{}",
            hints::did_you_mean(
                id.as_str(),
                hints::proposition_ids(ledger).iter().map(String::as_str)
            )
        ))),
    }
}

/// Parses a party id and checks the ledger has it.
pub fn known_party(ledger: &Ledger, id: &str) -> Result<PartyId, CliError> {
    let id = PartyId::new(id)?;
    match ledger.party(&id)? {
        Some(_) => Ok(id),
        None => Err(CliError::invalid(format!(
            "unknown party `{id}`{}",
            hints::did_you_mean(
                id.as_str(),
                hints::party_ids(ledger).iter().map(String::as_str)
            )
        ))),
    }
}

/// Positions per proposition (all, or `only`), from the kept view or by folding the log under `filter`.
pub fn proposition_views(
    ledger: &Ledger,
    only: Option<&PropositionId>,
    party: Option<&PartyId>,
    filter: Filter,
) -> Result<Vec<PropositionView>, CliError> {
    let at = ledger.positions_at(only, filter)?;
    let mut groups: BTreeMap<PropositionId, Vec<Position>> = at
        .propositions
        .into_iter()
        .map(|id| (id, Vec::new()))
        .collect();
    let all = at.positions;
    for p in all {
        groups.entry(p.proposition.clone()).or_default().push(p);
    }
    Ok(groups
        .into_iter()
        .map(|(proposition, mut positions)| {
            positions.sort_by(|a, b| a.party.cmp(&b.party));
            let contradictions = contradictions(&positions);
            if let Some(party) = party {
                positions.retain(|p| &p.party == party);
            }
            PropositionView {
                proposition,
                positions,
                contradictions,
            }
        })
        .collect())
}

#[derive(Serialize)]
struct PositionJson {
    party: String,
    stance: &'static str,
    credence: Option<f64>,
    said_at: String,
    speaker: String,
    statement: String,
    quote: Option<String>,
    statements: u64,
    flips: u64,
}

#[derive(Serialize)]
struct PairJson {
    parties: [String; 2],
    spread: f64,
}

#[derive(Serialize)]
struct PropositionJson {
    proposition: String,
    positions: Vec<PositionJson>,
    contradictions: Vec<PairJson>,
}

#[derive(Serialize)]
struct ContradictionJson {
    proposition: String,
    parties: [String; 2],
    spread: f64,
}

#[derive(Serialize)]
struct HistoryJson {
    seq: u64,
    statement: String,
    party: String,
    speaker: String,
    stance: &'static str,
    credence: Option<f64>,
    said_at: String,
    quote: Option<String>,
    source: Option<String>,
    retracted: bool,
}

fn position_json(p: &Position) -> PositionJson {
    PositionJson {
        party: p.party.to_string(),
        stance: p.stance.name(),
        credence: p.credence,
        said_at: p.said_at.to_rfc3339(),
        speaker: p.speaker.to_string(),
        statement: p.statement.to_string(),
        quote: p.quote.clone(),
        statements: p.statements,
        flips: p.flips,
    }
}

fn view_json(v: &PropositionView) -> PropositionJson {
    PropositionJson {
        proposition: v.proposition.to_string(),
        positions: v.positions.iter().map(position_json).collect(),
        contradictions: v
            .contradictions
            .iter()
            .map(|c| PairJson {
                parties: [c.parties.0.to_string(), c.parties.1.to_string()],
                spread: round6(c.spread),
            })
            .collect(),
    }
}

fn stance_cell(stance: onrecord_core::Stance, credence: Option<f64>) -> Cell {
    styled(stance.name(), Style::of_stance(stance, credence))
}

fn quote_cell(quote: &Option<String>) -> Cell {
    quote
        .as_deref()
        .map(|q| shorten(q, QUOTE_WIDTH))
        .unwrap_or_else(|| "-".to_owned())
        .into()
}

/// A spread as percentage points, e.g. `64.5 pts`.
pub fn points(spread: f64) -> String {
    let p = (spread * 1000.0).round() / 10.0;
    if p.fract() == 0.0 {
        format!("{p:.0} pts")
    } else {
        format!("{p:.1} pts")
    }
}

/// The positions table for some views (one row per position).
pub fn positions_table(views: &[PropositionView]) -> Table {
    let mut t = Table::new(&[
        "PROPOSITION",
        "PARTY",
        "STANCE",
        "CREDENCE",
        "SAID",
        "SPEAKER",
        "STMTS",
        "FLIPS",
        "QUOTE",
    ]);
    for v in views {
        for p in &v.positions {
            t.row(vec![
                p.proposition.to_string().into(),
                p.party.to_string().into(),
                stance_cell(p.stance, p.credence),
                percent(p.credence).into(),
                p.said_at.date_string().into(),
                p.speaker.to_string().into(),
                p.statements.to_string().into(),
                p.flips.to_string().into(),
                quote_cell(&p.quote),
            ]);
        }
    }
    t
}

/// The contradictions table for some views.
pub fn contradictions_table<'a>(all: impl IntoIterator<Item = &'a Contradiction>) -> Table {
    let mut t = Table::new(&["PROPOSITION", "PARTIES", "SPREAD"]);
    for c in all {
        t.row(vec![
            c.proposition.to_string().into(),
            format!("{} vs {}", c.parties.0, c.parties.1).into(),
            styled(points(c.spread), Style::Red),
        ]);
    }
    t
}

/// The history table.
pub fn history_table(entries: &[HistoryEntry]) -> Table {
    let mut t = Table::new(&[
        "SEQ", "SAID", "PARTY", "SPEAKER", "STANCE", "CREDENCE", "QUOTE", "NOTE",
    ]);
    for e in entries {
        t.row(vec![
            e.seq.to_string().into(),
            e.said_at.date_string().into(),
            e.party.to_string().into(),
            e.speaker.to_string().into(),
            stance_cell(e.stance, e.credence),
            percent(e.credence).into(),
            quote_cell(&e.quote),
            if e.retracted {
                styled("retracted", Style::Dim)
            } else {
                "".into()
            },
        ]);
    }
    t
}

/// Prints positions and then contradictions as tables.
pub fn print_positions(out: &mut Out, views: &[PropositionView]) -> Result<(), CliError> {
    let table = positions_table(views);
    if table.is_empty() {
        out.line("no positions")?;
    } else {
        out.table(&table)?;
    }
    let found: Vec<&Contradiction> = views.iter().flat_map(|v| &v.contradictions).collect();
    if !found.is_empty() {
        out.line("")?;
        out.heading("Contradictions (parties on opposite sides of even):")?;
        out.table(&contradictions_table(found))?;
    }
    Ok(())
}

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

/// Says on stderr (unless `--quiet`) when an unfiltered answer is folded from
/// the log because the kept views are stale, and how to make them current.
fn note_stale_views(ctx: &Context, ledger: &Ledger, filter: Filter) -> Result<(), CliError> {
    if !ctx.quiet && filter.is_unfiltered() && !ledger.views_current()? {
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
    let only = args
        .proposition
        .as_deref()
        .map(|p| known_proposition(&ledger, p))
        .transpose()?;
    let party = args
        .party
        .as_deref()
        .map(|p| known_party(&ledger, p))
        .transpose()?;
    note_stale_views(ctx, &ledger, filter)?;
    let views = proposition_views(&ledger, only.as_ref(), party.as_ref(), filter)?;
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
        csv_out::print_csv(&mut out, &POSITIONS_CSV, rows)?;
    } else if args.json {
        match (&only, views.first()) {
            (Some(_), Some(v)) => out.json(&view_json(v))?,
            _ => out.json(&views.iter().map(view_json).collect::<Vec<_>>())?,
        }
    } else {
        print_positions(&mut out, &views)?;
    }
    out.flush()
}

/// `contradictions`.
pub fn contradictions_cmd(ctx: &Context, args: &ContradictionsArgs) -> Result<(), CliError> {
    let filter = filter_of(&args.time)?;
    let ledger = ctx.open()?;
    note_stale_views(ctx, &ledger, filter)?;
    let views = proposition_views(&ledger, None, None, filter)?;
    let found: Vec<&Contradiction> = views.iter().flat_map(|v| &v.contradictions).collect();
    let mut out = Out::new();
    if args.json {
        let list: Vec<ContradictionJson> = found
            .iter()
            .map(|c| ContradictionJson {
                proposition: c.proposition.to_string(),
                parties: [c.parties.0.to_string(), c.parties.1.to_string()],
                spread: round6(c.spread),
            })
            .collect();
        out.json(&list)?;
    } else if found.is_empty() {
        out.line("no contradictions")?;
    } else {
        out.table(&contradictions_table(found))?;
    }
    out.flush()
}

/// The history of one proposition (one party's, if given), folded from its stream.
pub fn history_entries(
    ledger: &Ledger,
    proposition: &PropositionId,
    party: Option<&PartyId>,
) -> Result<Vec<HistoryEntry>, CliError> {
    Ok(ledger.history(proposition, party, Filter::unfiltered())?)
}

/// `history`.
pub fn history(ctx: &Context, args: &HistoryArgs) -> Result<(), CliError> {
    let ledger = ctx.open()?;
    let proposition = known_proposition(&ledger, &args.proposition)?;
    let party = args
        .party
        .as_deref()
        .map(|p| known_party(&ledger, p))
        .transpose()?;
    let entries = history_entries(&ledger, &proposition, party.as_ref())?;
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
        csv_out::print_csv(&mut out, &HISTORY_CSV, rows)?;
    } else if args.json {
        let list: Vec<HistoryJson> = entries
            .iter()
            .map(|e| HistoryJson {
                seq: e.seq,
                statement: e.statement.to_string(),
                party: e.party.to_string(),
                speaker: e.speaker.to_string(),
                stance: e.stance.name(),
                credence: e.credence,
                said_at: e.said_at.to_rfc3339(),
                quote: e.quote.clone(),
                source: e.source.clone(),
                retracted: e.retracted,
            })
            .collect();
        out.json(&list)?;
    } else if entries.is_empty() {
        out.line("no statements")?;
    } else {
        out.table(&history_table(&entries))?;
    }
    out.flush()
}
