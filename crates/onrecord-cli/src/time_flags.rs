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

/// The time flags as a server's query parameters (`as_of`, `known_at`,
/// `at_seq`), after checking them as [`filter_of`] does, so a bad one is
/// refused with the same words locally and remotely.
pub fn query_of(time: &TimeArgs) -> Result<Vec<(&'static str, String)>, CliError> {
    filter_of(time)?;
    let mut query = Vec::new();
    if let Some(w) = &time.as_of {
        query.push(("as_of", w.clone()));
    }
    if let Some(w) = &time.known_at {
        query.push(("known_at", w.clone()));
    }
    if let Some(n) = time.at_seq {
        query.push(("at_seq", n.to_string()));
    }
    Ok(query)
}
