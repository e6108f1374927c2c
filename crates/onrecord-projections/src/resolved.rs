//! The statements that scoring counts, kept compactly as the log streams by:
//! per (proposition, party) the non-retracted, non-declined statements, plus
//! each proposition's resolution. [`crate::scores`] and [`crate::calibration`]
//! both read from it, so they share one definition of "counted".
//!
//! Pure: it sees only the records handed to [`ResolvedFold::apply`]; no I/O,
//! no store, no clock.

use std::collections::{BTreeMap, HashMap};

use onrecord_core::{Event, EventId, Outcome, PartyId, PropositionId, Recorded, Stance, When};

use crate::Filter;

/// One counted statement, as kept: what scoring needs and nothing more.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Counted {
    /// When it was said.
    pub said_at: When,
    /// Its band (never `declined`).
    pub stance: Stance,
    /// Its credence.
    pub credence: f64,
}

/// A proposition's known outcome.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Resolution {
    /// Whether it happened.
    pub outcome: Outcome,
    /// When the outcome became fact.
    pub resolved_at: When,
}

/// Statements keyed by `(said_at micros, seq)`, so iteration is in said order.
type Statements = BTreeMap<(i64, u64), Counted>;

/// Folds records into counted statements and resolutions.
///
/// The [`Filter`]'s `known_at` and `at_seq` drop whole records; `as_of`
/// drops statements said after it and resolutions whose `resolved_at` lies
/// after it (a view as of a valid time knows no outcome that was not yet fact).
#[derive(Debug, Clone)]
pub(crate) struct ResolvedFold {
    filter: Filter,
    resolutions: BTreeMap<PropositionId, Resolution>,
    statements: BTreeMap<PropositionId, BTreeMap<PartyId, Statements>>,
    index: HashMap<EventId, (PropositionId, PartyId, (i64, u64))>,
}

impl ResolvedFold {
    /// An empty fold counting what `filter` admits.
    pub fn new(filter: Filter) -> Self {
        Self {
            filter,
            resolutions: BTreeMap::new(),
            statements: BTreeMap::new(),
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
                let Some(credence) = s.credence else {
                    return; // declined: no credence, never scored
                };
                if s.stance == Stance::Declined || !self.filter.admits_said_at(&s.said_at) {
                    return;
                }
                let key = (s.said_at.micros(), rec.seq);
                self.index
                    .insert(rec.event_id, (s.proposition.clone(), s.party.clone(), key));
                self.statements
                    .entry(s.proposition.clone())
                    .or_default()
                    .entry(s.party.clone())
                    .or_default()
                    .insert(
                        key,
                        Counted {
                            said_at: s.said_at,
                            stance: s.stance,
                            credence,
                        },
                    );
            }
            Event::StatementRetracted(r) => {
                let Some((prop, party, key)) = self.index.remove(&r.statement) else {
                    return;
                };
                let Some(parties) = self.statements.get_mut(&prop) else {
                    return;
                };
                if let Some(entries) = parties.get_mut(&party) {
                    entries.remove(&key);
                    if entries.is_empty() {
                        parties.remove(&party);
                    }
                }
                if parties.is_empty() {
                    self.statements.remove(&prop);
                }
            }
            Event::PropositionResolved(r) => {
                if self.filter.admits_said_at(&r.resolved_at) {
                    // A ledger resolves a proposition once; should a log hold two, the first stands.
                    self.resolutions
                        .entry(r.proposition.clone())
                        .or_insert(Resolution {
                            outcome: r.outcome,
                            resolved_at: r.resolved_at,
                        });
                }
            }
            Event::PartyRegistered(_) | Event::PropositionOpened(_) => {}
        }
    }

    /// Each resolved proposition (by id) with its resolution and, per party (by
    /// id), the statements said strictly before `resolved_at` in (said_at, seq)
    /// order; parties with none are left out.
    pub fn resolved(
        &self,
    ) -> impl Iterator<Item = (&PropositionId, Resolution, Vec<(&PartyId, Vec<Counted>)>)> {
        self.resolutions.iter().map(|(prop, res)| {
            let cutoff = (res.resolved_at.micros(), 0);
            let parties = self
                .statements
                .get(prop)
                .into_iter()
                .flatten()
                .filter_map(|(party, entries)| {
                    let counted: Vec<Counted> = entries.range(..cutoff).map(|(_, c)| *c).collect();
                    (!counted.is_empty()).then_some((party, counted))
                })
                .collect();
            (prop, *res, parties)
        })
    }
}
