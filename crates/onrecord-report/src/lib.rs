//! Static views of an onrecord ledger: a step chart of each party's credence
//! over time as SVG ([`credence_chart_svg`]) and a self-contained HTML report
//! ([`report_html`]) with positions, contradictions, charts, scores, each
//! proposition's statement history, the leaderboard and the calibration
//! table; its body alone ([`report_body_html`]) is what the server's web page
//! shows, so the page and `onrecord report` render the same thing.
//!
//! Pure string building: every function takes values and returns a `String`.
//! This crate does no I/O (no files, no network, no clock, no store); the
//! caller decides where the text goes.
#![warn(missing_docs)]

pub mod chart;
pub mod escape;
pub mod report;

#[cfg(test)]
mod fixture;

pub use chart::{ChartInput, ChartPoint, ChartResolution, PartySeries, credence_chart_svg};
pub use escape::escape;
pub use report::{
    PropositionSection, REPORT_STYLE, ReportInput, is_web_url, report_body_html, report_html,
    report_page, source_html,
};
