//! Ledger statistics from the indexes (stream heads, markers, kept entries),
//! never from a scan of the records themselves.

use crate::ledger::Head;
use crate::{Ledger, StoreError, keys};

/// What a ledger holds, counted from its indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerStats {
    /// Registered parties (= `PartyRegistered` events).
    pub parties: u64,
    /// Opened propositions (= `PropositionOpened` events).
    pub propositions: u64,
    /// Propositions resolved (= `PropositionResolved` events).
    pub resolved: u64,
    /// Recorded statements (= `StatementRecorded` events), retracted ones included.
    pub statements: u64,
    /// Retracted statements (= `StatementRetracted` events).
    pub retractions: u64,
    /// The head: last seq and its hash.
    pub head: Head,
    /// Bytes the ledger's files take on disk.
    pub bytes_on_disk: u64,
}

impl LedgerStats {
    /// Propositions not yet resolved.
    pub fn open_propositions(&self) -> u64 {
        self.propositions.saturating_sub(self.resolved)
    }
}

impl Ledger {
    /// Counts what the ledger holds from its indexes. Costs one pass over the
    /// stream heads, markers and kept statement entries, not over the records.
    pub fn stats(&self) -> Result<LedgerStats, StoreError> {
        let count = |prefix: &[u8]| -> Result<u64, StoreError> {
            let mut n = 0;
            for kv in self.tree().scan_prefix(prefix) {
                kv.map_err(|e| self.storage_err(e))?;
                n += 1;
            }
            Ok(n)
        };
        Ok(LedgerStats {
            parties: count(&[keys::STREAM_HEAD, b'p'])?,
            propositions: count(&[keys::STREAM_HEAD, b'q'])?,
            resolved: count(&[keys::RESOLVED])?,
            statements: count(&[keys::VIEW_ENTRY])?,
            retractions: count(&[keys::RETRACTED])?,
            head: self.head(),
            bytes_on_disk: self.size_on_disk()?,
        })
    }
}
