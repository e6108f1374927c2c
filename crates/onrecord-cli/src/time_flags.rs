//! The time-travel flags (`--as-of`, `--known-at`, `--at-seq`) as the
//! library's [`Filter`]. Parsing only: it never opens a ledger.

use onrecord_core::TimeBound;
use onrecord_projections::Filter;

use crate::args::TimeArgs;
use crate::error::CliError;

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
