//! Tables shared by several commands: positions, contradictions and
//! statement histories (`positions`, `contradictions`, `history` and `demo`
//! print them alike).
//!
//! Formatting only: it takes the query API's answers and builds [`Table`]s or
//! prints them; it never opens a ledger or decides what to show.

use onrecord_core::Stance;
use onrecord_ledger::query::PropositionView;
use onrecord_projections::{Contradiction, HistoryEntry};

use crate::error::CliError;
use crate::output::{Cell, Out, QUOTE_WIDTH, Style, Table, percent, shorten, styled};

fn stance_cell(stance: Stance, credence: Option<f64>) -> Cell {
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

/// The contradictions table.
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
