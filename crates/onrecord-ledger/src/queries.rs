//! The slices the query API ([`crate::query`]) reads, each the smallest part
//! of the ledger that holds an answer: the kept views when no time filter
//! applies and they are current, else one proposition's stream, else the log
//! up to `at_seq`, streamed through the pure folds of `onrecord-projections`.
//! Only the query API calls these (through [`crate::LedgerReads`]); callers
//! (the CLI) choose what to ask, never how to read it. This module writes
//! nothing.

use onrecord_core::{Event, PropositionId, Recorded, StreamId};
use onrecord_projections::{Filter, Position, PositionsFold};

use crate::{Ledger, StoreError};

/// Positions under a time filter, with the propositions that existed under it.
#[derive(Debug, Clone, PartialEq)]
pub struct PositionsAt {
    /// Every proposition the filter admits (or just the one asked for), in id order,
    /// including those on which nobody has a position.
    pub propositions: Vec<PropositionId>,
    /// The positions, ordered by (proposition, party).
    pub positions: Vec<Position>,
}

impl Ledger {
    /// Positions of every proposition, or `only` one, as `filter` sees the ledger:
    /// the kept view when the filter is empty (no scan) and the views are
    /// current, else a streaming fold over that proposition's stream or the
    /// log up to `at_seq`. Stale views (an interrupted rebuild) are never read:
    /// the answer is folded from the log, slower but right, until
    /// `rebuild_views` makes them current again.
    pub(crate) fn positions_at(
        &self,
        only: Option<&PropositionId>,
        filter: Filter,
    ) -> Result<PositionsAt, StoreError> {
        if filter.is_unfiltered() && self.views_current()? {
            let propositions = match only {
                Some(id) => vec![id.clone()],
                None => self.proposition_ids()?,
            };
            return Ok(PositionsAt {
                propositions,
                positions: self.positions(only)?,
            });
        }
        let mut propositions: Vec<PropositionId> = only.into_iter().cloned().collect();
        let mut fold = PositionsFold::new(filter, only.cloned());
        self.for_each_bearing_on(only, filter, |rec| {
            if let Event::PropositionOpened(p) = &rec.event
                && only.is_none()
                && filter.admits_record(rec)
            {
                propositions.push(p.id.clone());
            }
            fold.apply(rec);
        })?;
        propositions.sort();
        // The fold keeps no quotes: each current statement's is read by its seq.
        let positions = fold.finish_quoted(|seq| self.get(seq))?;
        Ok(PositionsAt {
            propositions,
            positions,
        })
    }

    /// Streams, in seq order, every record that can bear on `only` (its stream:
    /// its statements and their retractions) or on everything (the log), up to
    /// the filter's `at_seq`.
    pub(crate) fn for_each_bearing_on(
        &self,
        only: Option<&PropositionId>,
        filter: Filter,
        mut apply: impl FnMut(&Recorded),
    ) -> Result<(), StoreError> {
        let mut to = filter.at_seq.unwrap_or(u64::MAX);
        if self.tree().others_move_head() {
            // Another process may have staged records past the committed
            // head (an import not yet committed): they are not the ledger.
            to = to.min(self.head_for_reads()?);
        }
        let records: Box<dyn Iterator<Item = Result<Recorded, StoreError>>> = match only {
            Some(id) => Box::new(self.stream(&StreamId::Proposition(id.clone()))),
            None => Box::new(self.records(1, to)),
        };
        for rec in records {
            let rec = rec?;
            if rec.seq > to {
                break;
            }
            apply(&rec);
        }
        Ok(())
    }
}
