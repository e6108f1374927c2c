//! Ledger statistics from the indexes (stream heads and markers), never from
//! a scan of the records or of any per-statement key.

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
    /// stream heads and markers (parties, propositions, resolutions,
    /// retractions), never over the records or the per-statement entries.
    pub fn stats(&self) -> Result<LedgerStats, StoreError> {
        let count = |prefix: &[u8]| -> Result<u64, StoreError> {
            let mut n = 0;
            for kv in self.tree().scan_prefix(prefix) {
                kv?;
                n += 1;
            }
            Ok(n)
        };
        let head = self.head();
        let parties = count(&[keys::STREAM_HEAD, b'p'])?;
        let propositions = count(&[keys::STREAM_HEAD, b'q'])?;
        let resolved = count(&[keys::RESOLVED])?;
        let retractions = count(&[keys::RETRACTED])?;
        // Every seq from 1 to the head holds exactly one event of the five
        // types (the gapless sequence `verify` proves), so the statements are
        // what the other four leave: no pass over one entry per statement.
        let others = parties + propositions + resolved + retractions;
        let statements = head
            .seq
            .checked_sub(others)
            .ok_or_else(|| StoreError::Corrupt {
                seq: head.seq,
                detail: format!("the indexes count {others} non-statement events past the head"),
            })?;
        Ok(LedgerStats {
            parties,
            propositions,
            resolved,
            statements,
            retractions,
            head,
            bytes_on_disk: self.size_on_disk()?,
        })
    }
}
