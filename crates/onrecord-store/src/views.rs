//! Kept views (placeholder until the projections crate lands).

use onrecord_core::{Event, EventId};

use crate::{Ledger, StoreError};

/// The view writes one batch makes.
#[derive(Default)]
pub(crate) struct ViewUpdate;

impl ViewUpdate {
    pub(crate) fn on_event(&mut self, _: &Ledger, _: u64, _: EventId, _: &Event) -> Result<(), StoreError> {
        Ok(())
    }
    pub(crate) fn write(self, _: &Ledger, _: &mut sled::Batch) -> Result<(), StoreError> {
        Ok(())
    }
}
