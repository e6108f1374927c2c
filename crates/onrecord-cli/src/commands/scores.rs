//! `scores` and `calibration`: how well parties anticipated the outcomes of
//! resolved propositions, asked of the query API (`ScoresQuery`,
//! `CalibrationQuery`) under the time-travel flags and printed as tables,
//! JSON or CSV.
//!
//! The JSON shapes are part of the CLI contract (docs/event-schema.md,
//! "Output formats") and live in `onrecord-wire` (`ScoresJson`,
//! `CalibrationRowJson`), shared with the server; change them only by
//! adding fields. This module only parses, asks and prints: it never
//! decides what to read and never writes.

use onrecord_ledger::query::{CalibrationQuery, ScoresQuery};
use onrecord_wire::{CalibrationRowJson, PartyTotalsJson, PropositionScoresJson, ScoresJson};

use crate::args_report::{CalibrationArgs, ScoresArgs};
use crate::context::Context;
use crate::error::CliError;
use crate::output::{Out, Table, percent, round6};
use crate::render::day_of;
use crate::time_flags::{filter_of, query_of};

/// A score with 6 decimals, as in docs/scoring.md.
pub fn score(x: f64) -> String {
    format!("{:.6}", round6(x))
}

/// The scores table of one resolved proposition (one row per party).
pub fn proposition_table(p: &PropositionScoresJson) -> Table {
    let mut t = Table::new(&[
        "PARTY",
        "CREDENCE",
        "FINAL BRIER",
        "DAILY BRIER",
        "FINAL LOG",
        "STMTS",
    ]);
    for s in &p.parties {
        t.row(vec![
            s.party.clone().into(),
            percent(Some(s.final_credence)).into(),
            score(s.final_brier).into(),
            score(s.mean_daily_brier).into(),
            score(s.final_log).into(),
            s.statements.to_string().into(),
        ]);
    }
    t
}

/// The leaderboard table, in rank order (best mean daily Brier first).
pub fn leaderboard_table(parties: &[PartyTotalsJson]) -> Table {
    let mut t = Table::new(&[
        "RANK",
        "PARTY",
        "PROPS",
        "DAILY BRIER",
        "FINAL BRIER",
        "FINAL LOG",
    ]);
    for (i, p) in parties.iter().enumerate() {
        t.row(vec![
            (i + 1).to_string().into(),
            p.party.clone().into(),
            p.propositions.to_string().into(),
            score(p.mean_daily_brier).into(),
            score(p.mean_final_brier).into(),
            score(p.mean_final_log).into(),
        ]);
    }
    t
}

/// The calibration table (one row per band).
pub fn calibration_table(rows: &[CalibrationRowJson]) -> Table {
    let mut t = Table::new(&["STANCE", "BAND", "STMTS", "HAPPENED", "SHARE"]);
    for r in rows {
        t.row(vec![
            r.stance.clone().into(),
            format!("{}-{}", percent(Some(r.low)), percent(Some(r.high))).into(),
            r.statements.to_string().into(),
            r.happened.to_string().into(),
            percent(r.share).into(),
        ]);
    }
    t
}

/// Prints the per-proposition tables, then the leaderboard.
pub fn print_scores(out: &mut Out, report: &ScoresJson) -> Result<(), CliError> {
    if report.propositions.is_empty() {
        return out.line("no resolved propositions");
    }
    for (i, p) in report.propositions.iter().enumerate() {
        if i > 0 {
            out.line("")?;
        }
        out.heading(&format!(
            "{}: {} on {}",
            p.proposition,
            p.outcome,
            day_of(&p.resolved_at)
        ))?;
        if p.parties.is_empty() {
            out.line("no party spoke before the resolution")?;
        } else {
            out.table(&proposition_table(p))?;
        }
    }
    out.line("")?;
    out.heading("Leaderboard (by mean daily Brier; lower is better, 0 is perfect):")?;
    if report.parties.is_empty() {
        out.line("no scored parties")
    } else {
        out.table(&leaderboard_table(&report.parties))
    }
}

/// `scores`.
pub fn scores(ctx: &Context, args: &ScoresArgs) -> Result<(), CliError> {
    let query = ScoresQuery {
        filter: filter_of(&args.time)?,
    };
    let report: ScoresJson = match ctx.remote()? {
        Some(remote) => remote.get_json("/v1/scores", &query_of(&args.time)?)?,
        None => ScoresJson::from_report(&ctx.open()?.query(&query)?),
    };
    let mut out = Out::new();
    if args.json {
        out.json(&report)?;
    } else if args.csv {
        crate::csv_out::print_csv(
            &mut out,
            crate::csv_out::Columns {
                names: &SCORES_CSV_HEADERS,
                numeric: &[
                    "final_credence",
                    "final_brier",
                    "mean_daily_brier",
                    "final_log",
                    "statements",
                ],
            },
            scores_csv_rows(&report),
            crate::csv_out::CsvCells::from_flag(args.csv_exact),
        )?;
    } else {
        print_scores(&mut out, &report)?;
    }
    out.flush()
}

/// The columns of `scores --csv`: one row per resolved proposition and party.
pub const SCORES_CSV_HEADERS: [&str; 9] = [
    "proposition",
    "outcome",
    "resolved_at",
    "party",
    "final_credence",
    "final_brier",
    "mean_daily_brier",
    "final_log",
    "statements",
];

/// The rows of `scores --csv`: the values of `scores --json` (6 decimals).
fn scores_csv_rows(report: &ScoresJson) -> Vec<Vec<String>> {
    use crate::csv_out::number;
    let mut rows = Vec::new();
    for p in &report.propositions {
        for s in &p.parties {
            rows.push(vec![
                p.proposition.clone(),
                p.outcome.clone(),
                p.resolved_at.clone(),
                s.party.clone(),
                number(Some(s.final_credence)),
                number(Some(s.final_brier)),
                number(Some(s.mean_daily_brier)),
                number(Some(s.final_log)),
                s.statements.to_string(),
            ]);
        }
    }
    rows
}

/// `calibration`.
pub fn calibration(ctx: &Context, args: &CalibrationArgs) -> Result<(), CliError> {
    let query = CalibrationQuery {
        filter: filter_of(&args.time)?,
    };
    let rows: Vec<CalibrationRowJson> = match ctx.remote()? {
        Some(remote) => remote.get_json("/v1/calibration", &query_of(&args.time)?)?,
        None => ctx
            .open()?
            .query(&query)?
            .iter()
            .map(CalibrationRowJson::from)
            .collect(),
    };
    let mut out = Out::new();
    if args.json {
        out.json(&rows)?;
    } else {
        out.table(&calibration_table(&rows))?;
    }
    out.flush()
}
