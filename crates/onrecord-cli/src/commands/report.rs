//! `chart` and `report`: the static views of `onrecord-report` written to
//! files. `chart` writes one proposition's credence chart as SVG; `report`
//! writes a self-contained `DIR/index.html` with every proposition, the
//! leaderboard and the calibration table.
//!
//! This module gathers values from the ledger (through `onrecord-store`) and
//! the read models, hands them to `onrecord-report`'s pure renderers and
//! writes the text they return; it never builds markup itself and never
//! writes to the ledger.

use std::fs;
use std::path::{Path, PathBuf};

use onrecord_core::{Event, Proposition, PropositionId};
use onrecord_projections::Filter;
use onrecord_report::{
    ChartInput, ChartResolution, PropositionSection, ReportInput, credence_chart_svg, report_html,
};
use onrecord_store::Ledger;

use crate::args::TimeArgs;
use crate::args_report::{ChartArgs, ReportArgs};
use crate::context::Context;
use crate::error::{CliError, io_reason};
use crate::output::Out;

use super::scores::score_log;
use super::views::{filter_of, known_at_filter, proposition_views};

/// The name of the page `report` writes inside its directory.
pub const REPORT_PAGE: &str = "index.html";

/// The proposition as opened, or exit 1 naming the id.
pub fn opened_proposition(ledger: &Ledger, id: &str) -> Result<Proposition, CliError> {
    let id = PropositionId::new(id)?;
    ledger
        .proposition_opened(&id)?
        .ok_or_else(|| CliError::invalid(format!("unknown proposition `{id}`")))
}

/// The resolution of `id` as the chart marks it, if `filter` knows it (recorded
/// within `--known-at`/`--at-seq` and already fact by `--as-of`, as for scores).
pub fn known_resolution(
    ledger: &Ledger,
    id: &PropositionId,
    filter: &Filter,
) -> Result<Option<ChartResolution>, CliError> {
    let Some(rec) = ledger.resolution(id)? else {
        return Ok(None);
    };
    match &rec.event {
        Event::PropositionResolved(r)
            if filter.admits_record(&rec) && filter.admits_said_at(&r.resolved_at) =>
        {
            Ok(Some(ChartResolution {
                resolved_at: r.resolved_at,
                outcome: r.outcome,
            }))
        }
        _ => Ok(None),
    }
}

/// The chart of one proposition under `filter`, folded from its own stream.
pub fn chart_input(
    ledger: &Ledger,
    proposition: &Proposition,
    filter: Filter,
) -> Result<ChartInput, CliError> {
    let id = &proposition.id;
    let history = ledger.history(id, None, filter)?;
    let resolution = known_resolution(ledger, id, &filter)?;
    Ok(ChartInput::from_history(proposition, &history, resolution))
}

/// Writes `text` to `path`, naming the path on failure.
pub fn write_file(path: &Path, text: &str) -> Result<(), CliError> {
    fs::write(path, text).map_err(|e| {
        CliError::invalid(format!(
            "cannot write {}: {}",
            path.display(),
            io_reason(&e)
        ))
    })
}

/// The time flags in words, for the report's caption (`None` when unfiltered).
fn describe(time: &TimeArgs) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(w) = &time.as_of {
        parts.push(format!("as of {w}"));
    }
    if let Some(w) = &time.known_at {
        parts.push(format!("as known at {w}"));
    }
    if let Some(n) = time.at_seq {
        parts.push(format!("up to seq {n}"));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// Everything the report shows, gathered under `filter`.
pub fn report_input(
    ledger: &Ledger,
    filter: Filter,
    caption: Option<String>,
) -> Result<ReportInput, CliError> {
    let views = proposition_views(ledger, None, None, filter)?;
    let (scores, calibration) = score_log(ledger, filter)?;
    let mut propositions = Vec::with_capacity(views.len());
    for v in views {
        let Some(proposition) = ledger.proposition_opened(&v.proposition)? else {
            continue;
        };
        let chart = chart_input(ledger, &proposition, filter)?;
        propositions.push(PropositionSection::new(
            proposition,
            &v.positions,
            &v.contradictions,
            chart,
            &scores,
        ));
    }
    Ok(ReportInput {
        caption,
        propositions,
        leaderboard: scores.parties,
        calibration,
    })
}

/// `chart`.
pub fn chart(ctx: &Context, args: &ChartArgs) -> Result<(), CliError> {
    let filter = filter_of(&args.time)?;
    let ledger = ctx.open()?;
    let proposition = opened_proposition(&ledger, &args.proposition)?;
    known_at_filter(
        &ledger,
        onrecord_core::StreamId::Proposition(proposition.id.clone()),
        &filter,
    )?;
    let svg = credence_chart_svg(&chart_input(&ledger, &proposition, filter)?);
    write_file(&args.output, &svg)?;
    let mut out = Out::new();
    out.line(format!(
        "wrote {}",
        crate::output::printable(&args.output.display().to_string())
    ))?;
    out.flush()
}

/// `report`.
pub fn report(ctx: &Context, args: &ReportArgs) -> Result<(), CliError> {
    let filter = filter_of(&args.time)?;
    if args.output.exists() && !args.output.is_dir() {
        return Err(CliError::invalid(format!(
            "{} is not a directory: report -o names the directory to write index.html into",
            args.output.display()
        )));
    }
    let ledger = ctx.open()?;
    let head = ledger.head().seq;
    let caption = match describe(&args.time) {
        Some(view) => format!("{head} events in the ledger; shown {view}."),
        None => format!("{head} events in the ledger."),
    };
    let input = report_input(&ledger, filter, Some(caption))?;
    fs::create_dir_all(&args.output).map_err(|e| {
        CliError::invalid(format!(
            "cannot create {}: {}",
            args.output.display(),
            io_reason(&e)
        ))
    })?;
    let page: PathBuf = args.output.join(REPORT_PAGE);
    write_file(&page, &report_html(&input))?;
    let mut out = Out::new();
    out.line(format!(
        "wrote {}",
        crate::output::printable(&page.display().to_string())
    ))?;
    out.flush()
}
