//! Current positions: for each (proposition, party), the party's latest
//! non-retracted statement plus how many statements count and how often the
//! party flipped, folded from the log one [`Recorded`] event at a time.
//!
//! Pure: the fold sees only the records handed to [`PositionsFold::apply`];
//! it does no I/O and never reads the store or the clock. "Current" is defined
//! once, in [`crate::summary`].

use std::collections::{BTreeMap, HashMap};

use onrecord_core::{Event, EventId, PartyId, PropositionId, Recorded, Stance, When};

use crate::Filter;
use crate::summary::{StatementEntry, summarize};

/// A party's current position on a proposition.
#[derive(Debug, Clone, PartialEq)]
pub struct Position {
    /// The proposition the position is on.
    pub proposition: PropositionId,
    /// Whose position it is.
    pub party: PartyId,
    /// The current statement's stance.
    pub stance: Stance,
    /// The current statement's credence; `None` for declined.
    pub credence: Option<f64>,
    /// When the current statement was said.
    pub said_at: When,
    /// Who said the current statement.
    pub speaker: PartyId,
    /// The current statement's event id.
    pub statement: EventId,
    /// The current statement's words, verbatim.
    pub quote: Option<String>,
    /// How many of the party's statements on the proposition count (not retracted, within the filter).
    pub statements: u64,
    /// How many times the party's successive sided credences crossed from low to high or back.
    pub flips: u64,
}

/// The key one (proposition, party) pair is kept under.
type PairKey = (PropositionId, PartyId);

/// Folds records into current positions; see [`Filter`] for time travel.
///
/// Keeps, per (proposition, party), only the counted statements (retracted
/// ones are dropped when their retraction is applied), plus an index from
/// statement id to its pair for retractions.
#[derive(Debug, Clone)]
pub struct PositionsFold {
    filter: Filter,
    only: Option<PropositionId>,
    pairs: BTreeMap<PairKey, BTreeMap<(i64, u64), StatementEntry>>,
    index: HashMap<EventId, (PairKey, (i64, u64))>,
}

impl PositionsFold {
    /// A fold counting what `filter` admits, on every proposition or `only` one.
    pub fn new(filter: Filter, only: Option<PropositionId>) -> Self {
        Self {
            filter,
            only,
            pairs: BTreeMap::new(),
            index: HashMap::new(),
        }
    }

    /// Takes in the next record of the log (records must come in seq order).
    pub fn apply(&mut self, rec: &Recorded) {
        if !self.filter.admits_record(rec) {
            return;
        }
        match &rec.event {
            Event::StatementRecorded(s) => {
                if self.only.as_ref().is_some_and(|p| *p != s.proposition)
                    || !self.filter.admits_said_at(&s.said_at)
                {
                    return;
                }
                let entry = StatementEntry::from_statement(rec.seq, rec.event_id, s);
                let key = entry.order_key();
                let pair = (s.proposition.clone(), s.party.clone());
                self.index.insert(rec.event_id, (pair.clone(), key));
                self.pairs.entry(pair).or_default().insert(key, entry);
            }
            Event::StatementRetracted(r) => {
                let Some((pair, key)) = self.index.remove(&r.statement) else {
                    return;
                };
                if let Some(entries) = self.pairs.get_mut(&pair) {
                    entries.remove(&key);
                    if entries.is_empty() {
                        self.pairs.remove(&pair);
                    }
                }
            }
            Event::PartyRegistered(_)
            | Event::PropositionOpened(_)
            | Event::PropositionResolved(_) => {}
        }
    }

    /// The positions so far, ordered by (proposition, party).
    pub fn positions(&self) -> Vec<Position> {
        self.pairs
            .iter()
            .filter_map(|((prop, party), entries)| {
                summarize(entries.values()).map(|s| s.to_position(prop.clone(), party.clone()))
            })
            .collect()
    }

    /// The positions after every record, ordered by (proposition, party).
    pub fn finish(self) -> Vec<Position> {
        self.positions()
    }
}

/// Folds `records` into positions in one go (a convenience over [`PositionsFold`]).
pub fn positions<'a>(
    records: impl IntoIterator<Item = &'a Recorded>,
    filter: Filter,
    only: Option<PropositionId>,
) -> Vec<Position> {
    let mut fold = PositionsFold::new(filter, only);
    records.into_iter().for_each(|r| fold.apply(r));
    fold.finish()
}
