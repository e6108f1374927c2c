//! `chart` and `report`: the static views of `onrecord-report` written to
//! files. `chart` writes one proposition's credence chart as SVG; `report`
//! writes a self-contained `DIR/index.html` with every proposition, the
//! leaderboard and the calibration table.
//!
//! This module asks the query API for the chart's or the report's input
//! (`ChartQuery`, `ReportQuery`), hands it to `onrecord-report`'s pure
//! renderers and writes the text they return; it never builds markup or read
//! models itself and never writes to the ledger.

use std::fs;
use std::path::{Path, PathBuf};

use onrecord_core::PropositionId;
use onrecord_ledger::query::{ChartQuery, ReportQuery};
use onrecord_report::{credence_chart_svg, report_html, report_page};

use crate::args::TimeArgs;
use crate::args_report::{ChartArgs, ReportArgs};
use crate::context::Context;
use crate::error::{CliError, io_reason};
use crate::output::Out;
use crate::remote::segment;
use crate::time_flags::{filter_of, query_of};

/// The name of the page `report` writes inside its directory.
pub const REPORT_PAGE: &str = "index.html";

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

/// `chart`.
pub fn chart(ctx: &Context, args: &ChartArgs) -> Result<(), CliError> {
    let filter = filter_of(&args.time)?;
    let proposition = PropositionId::new(&args.proposition)?;
    let svg = match ctx.remote()? {
        Some(remote) => remote.get_text(
            &format!(
                "/v1/propositions/{}/chart.svg",
                segment(proposition.as_str())
            ),
            &query_of(&args.time)?,
            "image/svg+xml",
        )?,
        None => credence_chart_svg(&ctx.open()?.query(&ChartQuery {
            proposition,
            filter,
        })?),
    };
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
    let page = match ctx.remote()? {
        // The server renders the body with the same renderer and caption.
        Some(remote) => {
            report_page(&remote.get_text("/v1/report", &query_of(&args.time)?, "text/html")?)
        }
        None => {
            let ledger = ctx.open()?;
            let head = ledger.head().seq;
            let caption = match describe(&args.time) {
                Some(view) => format!("{head} events in the ledger; shown {view}."),
                None => format!("{head} events in the ledger."),
            };
            report_html(&ledger.query(&ReportQuery {
                filter,
                caption: Some(caption),
            })?)
        }
    };
    fs::create_dir_all(&args.output).map_err(|e| {
        CliError::invalid(format!(
            "cannot create {}: {}",
            args.output.display(),
            io_reason(&e)
        ))
    })?;
    let path: PathBuf = args.output.join(REPORT_PAGE);
    write_file(&path, &page)?;
    let mut out = Out::new();
    out.line(format!(
        "wrote {}",
        crate::output::printable(&path.display().to_string())
    ))?;
    out.flush()
}
