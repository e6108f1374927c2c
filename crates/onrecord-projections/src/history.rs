//! History: every statement on one proposition (optionally by one party), in
//! the order it was said, with retracted ones flagged rather than hidden.
//!
//! Pure: the fold sees only the records handed to [`HistoryFold::apply`]; it
//! does no I/O and never reads the store or the clock.

use std::collections::{BTreeMap, HashMap};

use onrecord_core::{Event, EventId, PartyId, PropositionId, Recorded, Stance, When};

use crate::Filter;

/// One statement in a proposition's history.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    /// The statement's place in the log.
    pub seq: u64,
    /// The statement's event id.
    pub statement: EventId,
    /// Whose position it states.
    pub party: PartyId,
    /// Who said it.
    pub speaker: PartyId,
    /// The likelihood band stated.
    pub stance: Stance,
    /// Its credence; `None` for declined.
    pub credence: Option<f64>,
    /// When it was said (valid time).
    pub said_at: When,
    /// The words, verbatim.
    pub quote: Option<String>,
    /// Where it was reported.
    pub source: Option<String>,
    /// Conditions or hedges attached to it, e.g. `brief`.
    pub qualifiers: Vec<String>,
    /// Whether a retraction of it counts under the filter.
    pub retracted: bool,
    /// Why it was retracted, when it was (under the filter).
    pub retraction_reason: Option<String>,
}

/// Folds records into the history of one proposition, ordered by (said_at, seq).
#[derive(Debug, Clone)]
pub struct HistoryFold {
    proposition: PropositionId,
    party: Option<PartyId>,
    filter: Filter,
    entries: BTreeMap<(i64, u64), HistoryEntry>,
    index: HashMap<EventId, (i64, u64)>,
}

impl HistoryFold {
    /// A fold of `proposition`'s statements (only `party`'s, if given) that `filter` admits.
    pub fn new(proposition: PropositionId, party: Option<PartyId>, filter: Filter) -> Self {
        Self {
            proposition,
            party,
            filter,
            entries: BTreeMap::new(),
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
                if s.proposition != self.proposition
                    || self.party.as_ref().is_some_and(|p| *p != s.party)
                    || !self.filter.admits_said_at(&s.said_at)
                {
                    return;
                }
                let key = (s.said_at.micros(), rec.seq);
                self.index.insert(rec.event_id, key);
                self.entries.insert(
                    key,
                    HistoryEntry {
                        seq: rec.seq,
                        statement: rec.event_id,
                        party: s.party.clone(),
                        speaker: s.speaker.clone(),
                        stance: s.stance,
                        credence: s.credence,
                        said_at: s.said_at,
                        quote: s.quote.clone(),
                        source: s.source.clone(),
                        qualifiers: s.qualifiers.clone(),
                        retracted: false,
                        retraction_reason: None,
                    },
                );
            }
            Event::StatementRetracted(r) => {
                let entry = self.index.remove(&r.statement);
                if let Some(e) = entry.and_then(|key| self.entries.get_mut(&key)) {
                    e.retracted = true;
                    e.retraction_reason = Some(r.reason.clone());
                }
            }
            Event::PartyRegistered(_)
            | Event::PropositionOpened(_)
            | Event::PropositionResolved(_) => {}
        }
    }

    /// The history so far, ordered by (said_at, seq).
    pub fn entries(&self) -> Vec<HistoryEntry> {
        self.entries.values().cloned().collect()
    }

    /// The history after every record, ordered by (said_at, seq).
    pub fn finish(self) -> Vec<HistoryEntry> {
        self.entries.into_values().collect()
    }
}
