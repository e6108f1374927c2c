//! The one order in which a request's draft is checked, for an append's batch
//! (`BatchBuilder::add`) and an import's first pass (`ImportCheck::check`)
//! alike: the expected revision first when the draft names its stream, so
//! that `no-stream` on an existing party is a conflict (what callers retrying
//! on conflicts expect), not a duplicate-party error; after validation
//! otherwise, since a retraction's stream is known only once its statement
//! is looked up.
//!
//! Each caller brings its own view of the ledger (its facts and its stream
//! revisions so far); this module only fixes the order and the refusals.

use onrecord_core::validate::Validated;
use onrecord_core::{Draft, LedgerFacts, Rejection, StreamId, validate};

use crate::{ExpectedRevision, StoreError};

/// Validates `draft` against `facts` and checks that its primary stream is at
/// `expected` (as `revision_of` reports it, `None` for no stream), in the
/// order the module docs give.
pub(crate) fn validate_at_revision<F>(
    draft: Draft,
    expected: ExpectedRevision,
    facts: &F,
    mut revision_of: impl FnMut(&StreamId) -> Result<Option<u64>, StoreError>,
) -> Result<Validated, StoreError>
where
    F: LedgerFacts<Error = StoreError>,
{
    let named = draft.primary_stream();
    if let Some(stream) = &named {
        check_revision(stream, expected, revision_of(stream)?)?;
    }
    let validated = validate(draft, facts).map_err(|r| match r {
        Rejection::Invalid(e) => StoreError::Invalid(e),
        Rejection::Lookup(e) => e,
    })?;
    if named.is_none() {
        let stream = &validated.streams[0];
        check_revision(stream, expected, revision_of(stream)?)?;
    }
    Ok(validated)
}

/// Refuses `stream` at revision `actual` (`None`: no stream) unless it is what `expected` asks for.
fn check_revision(
    stream: &StreamId,
    expected: ExpectedRevision,
    actual: Option<u64>,
) -> Result<(), StoreError> {
    if expected.admits(actual) {
        return Ok(());
    }
    Err(StoreError::WrongExpectedRevision {
        stream: stream.clone(),
        expected: expected.to_string(),
        actual: actual.map_or_else(|| "no-stream".to_owned(), |r| r.to_string()),
    })
}
