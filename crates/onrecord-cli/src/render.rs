//! Tables shared by several commands: positions, contradictions and
//! statement histories (`positions`, `contradictions`, `history` and `demo`
//! print them alike), and the one-line summary of an event (`replay`, `tail`).
//!
//! Formatting only: it takes answers in their JSON shapes (`onrecord-wire`),
//! which a local ledger's query API and a server give alike, so a command
//! prints the same table whichever answered; it never opens a ledger or
//! decides what to show.

use onrecord_core::{Event, Recorded, Stance, When};
use onrecord_wire::{ContradictionJson, HistoryEntryJson, PropositionPositionsJson};

use crate::error::CliError;
use crate::output::{Cell, Out, QUOTE_WIDTH, Style, Table, percent, shorten, styled};

fn stance_cell(stance: &str, credence: Option<f64>) -> Cell {
    match stance.parse::<Stance>() {
        Ok(s) => styled(s.name(), Style::of_stance(s, credence)),
        Err(_) => stance.into(),
    }
}

/// The day part of an RFC 3339 time as the answers carry it (`2018-11-06`).
pub fn day_of(time: &str) -> String {
    time.parse::<When>()
        .map(|w| w.date_string())
        .unwrap_or_else(|_| time.to_owned())
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

/// The positions table for some propositions' positions (one row per position).
pub fn positions_table(views: &[PropositionPositionsJson]) -> Table {
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
                v.proposition.clone().into(),
                p.party.clone().into(),
                stance_cell(&p.stance, p.credence),
                percent(p.credence).into(),
                day_of(&p.said_at).into(),
                p.speaker.clone().into(),
                p.statements.to_string().into(),
                p.flips.to_string().into(),
                quote_cell(&p.quote),
            ]);
        }
    }
    t
}

/// The contradictions table.
pub fn contradictions_table<'a>(all: impl IntoIterator<Item = &'a ContradictionJson>) -> Table {
    let mut t = Table::new(&["PROPOSITION", "PARTIES", "SPREAD"]);
    for c in all {
        t.row(vec![
            c.proposition.clone().into(),
            format!("{} vs {}", c.parties[0], c.parties[1]).into(),
            styled(points(c.spread), Style::Red),
        ]);
    }
    t
}

/// The history table.
pub fn history_table(entries: &[HistoryEntryJson]) -> Table {
    let mut t = Table::new(&[
        "SEQ", "SAID", "PARTY", "SPEAKER", "STANCE", "CREDENCE", "QUOTE", "NOTE",
    ]);
    for e in entries {
        t.row(vec![
            e.seq.to_string().into(),
            day_of(&e.said_at).into(),
            e.party.clone().into(),
            e.speaker.clone().into(),
            stance_cell(&e.stance, e.credence),
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
pub fn print_positions(out: &mut Out, views: &[PropositionPositionsJson]) -> Result<(), CliError> {
    let table = positions_table(views);
    if table.is_empty() {
        out.line("no positions")?;
    } else {
        out.table(&table)?;
    }
    let found: Vec<ContradictionJson> = views
        .iter()
        .flat_map(|v| {
            v.contradictions.iter().map(|c| ContradictionJson {
                proposition: v.proposition.clone(),
                parties: c.parties.clone(),
                spread: c.spread,
            })
        })
        .collect();
    if !found.is_empty() {
        out.line("")?;
        out.heading("Contradictions (parties on opposite sides of even):")?;
        out.table(&contradictions_table(&found))?;
    }
    Ok(())
}

/// A one-line summary of an event for `replay` and `tail`.
pub fn summary(rec: &Recorded) -> String {
    match &rec.event {
        Event::PartyRegistered(p) => {
            let mut s = format!("{} \"{}\" ({})", p.id, shorten(&p.name, 40), p.kind);
            if let Some(boss) = &p.speaks_for {
                s.push_str(&format!(", speaks for {boss}"));
            }
            s
        }
        Event::PropositionOpened(p) => format!("{}: {}", p.id, shorten(&p.text, 60)),
        Event::StatementRecorded(s) => {
            let mut out = format!(
                "{} {}: {} {} (said {}",
                s.proposition,
                s.party,
                s.stance,
                percent(s.credence),
                s.said_at
            );
            if s.speaker != s.party {
                out.push_str(&format!(" by {}", s.speaker));
            }
            out.push(')');
            out
        }
        Event::StatementRetracted(r) => {
            format!("{} retracted: {}", r.statement, shorten(&r.reason, 60))
        }
        Event::PropositionResolved(r) => {
            format!("{} {} ({})", r.proposition, r.outcome, r.resolved_at)
        }
    }
}
