//! The command-line declarations of the scoring and report commands:
//! `scores`, `calibration`, `chart` and `report` (issue 6).
//!
//! Kept beside [`crate::args`] rather than inside it so the scoring commands
//! stay in files of their own. Only declarations live here: this module may
//! not open a ledger, read or write files, or print anything.

use std::path::PathBuf;

use clap::Args;

use crate::args::TimeArgs;

/// `scores`.
#[derive(Debug, Args)]
pub struct ScoresArgs {
    /// The time-travel flags (`--as-of` also hides outcomes not yet fact by then).
    #[command(flatten)]
    pub time: TimeArgs,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
    /// Print RFC 4180 CSV: one row per resolved proposition and party
    #[arg(long, conflicts_with = "json")]
    pub csv: bool,
    /// With --csv: write every cell exactly as recorded, for scripts (by default a cell starting with = + - @ tab or CR gets a leading ' so spreadsheets do not run it, and control characters are escaped)
    #[arg(long, requires = "csv")]
    pub csv_exact: bool,
}

/// `calibration`.
#[derive(Debug, Args)]
pub struct CalibrationArgs {
    /// The time-travel flags.
    #[command(flatten)]
    pub time: TimeArgs,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

/// `chart`.
#[derive(Debug, Args)]
pub struct ChartArgs {
    /// The proposition to chart
    pub proposition: String,
    /// Where to write the SVG (replaced if it exists)
    #[arg(short, long, value_name = "FILE.svg")]
    pub output: PathBuf,
    /// The time-travel flags.
    #[command(flatten)]
    pub time: TimeArgs,
}

/// `report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The directory to write index.html into (created if missing)
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
    /// The time-travel flags.
    #[command(flatten)]
    pub time: TimeArgs,
}
