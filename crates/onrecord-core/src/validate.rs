//! The rules an event must pass against what the ledger already holds.
//!
//! [`validate`] turns a [`Draft`] (what a user asked to record) into an
//! [`Event`] plus the streams it belongs to ([`Event::streams`]), or refuses
//! it with a [`DomainError`] naming the offending value. It reads the ledger
//! only through the [`LedgerFacts`] trait, so it does no I/O itself;
//! [`BatchOverlay`] lets a batch see its own earlier events.

use std::collections::HashMap;

use crate::event::StreamId;
use crate::{
    DomainError, Event, EventId, Party, PartyId, Proposition, PropositionId, PropositionResolved,
    Stance, StatementRecorded, StatementRetracted, When,
};

/// The longest party name or reason, in characters.
pub const MAX_SHORT_TEXT: usize = 1_000;
/// The longest proposition text, criteria, quote, source or note, in characters.
pub const MAX_LONG_TEXT: usize = 20_000;
/// The most qualifiers one statement may carry.
pub const MAX_QUALIFIERS: usize = 32;

/// What validation needs to know about a recorded statement.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementFacts {
    /// The proposition it is about.
    pub proposition: PropositionId,
    /// Whose position it is.
    pub party: PartyId,
    /// Whether it has been retracted.
    pub retracted: bool,
}

/// Read access to the facts validation checks against; implemented by the store.
pub trait LedgerFacts {
    /// The error a lookup can fail with (an I/O or decoding error of the store).
    type Error;
    /// The registered party with this id, if any.
    fn party(&self, id: &PartyId) -> Result<Option<Party>, Self::Error>;
    /// `Some(resolved)` when the proposition exists.
    fn proposition(&self, id: &PropositionId) -> Result<Option<bool>, Self::Error>;
    /// The statement with this event id, if that event is a statement.
    fn statement(&self, id: &EventId) -> Result<Option<StatementFacts>, Self::Error>;
}

/// Why a draft was not turned into an event.
#[derive(Debug, Clone, PartialEq)]
pub enum Rejection<E> {
    /// It breaks a domain rule.
    Invalid(DomainError),
    /// The ledger could not be read.
    Lookup(E),
}

impl<E> From<DomainError> for Rejection<E> {
    fn from(e: DomainError) -> Self {
        Rejection::Invalid(e)
    }
}

/// A statement as a user gives it: party and speaker may default, credence may be implied.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementDraft {
    /// What the statement is about.
    pub proposition: PropositionId,
    /// Whose position it is, if said explicitly.
    pub party: Option<PartyId>,
    /// Who said it, if said explicitly.
    pub speaker: Option<PartyId>,
    /// The likelihood band stated.
    pub stance: Stance,
    /// An explicit credence, which must lie inside the stance's band.
    pub credence: Option<f64>,
    /// When it was said.
    pub said_at: When,
    /// The words, verbatim.
    pub quote: Option<String>,
    /// Where it was reported.
    pub source: Option<String>,
    /// Free-form qualifiers.
    pub qualifiers: Vec<String>,
}

/// What a user asks to record, before defaults are filled in and rules checked.
#[derive(Debug, Clone, PartialEq)]
pub enum Draft {
    /// Register a party.
    Party(Party),
    /// Open a proposition.
    Proposition(Proposition),
    /// Record a statement.
    Statement(StatementDraft),
    /// Retract a statement.
    Retraction(StatementRetracted),
    /// Resolve a proposition.
    Resolution(PropositionResolved),
}

/// An event that passed validation, with the streams it is appended to
/// (the first is the one an expected revision is checked against).
#[derive(Debug, Clone, PartialEq)]
pub struct Validated {
    /// The event to record.
    pub event: Event,
    /// Its streams, primary first.
    pub streams: Vec<StreamId>,
}

impl Draft {
    /// The stream an expected revision is checked against, when the draft alone
    /// names it (a retraction's stream is known only once its statement is looked up).
    pub fn primary_stream(&self) -> Option<StreamId> {
        match self {
            Draft::Party(p) => Some(StreamId::Party(p.id.clone())),
            Draft::Proposition(p) => Some(StreamId::Proposition(p.id.clone())),
            Draft::Statement(s) => Some(StreamId::Proposition(s.proposition.clone())),
            Draft::Resolution(r) => Some(StreamId::Proposition(r.proposition.clone())),
            Draft::Retraction(_) => None,
        }
    }

    /// Whether `event` is what this draft records once defaults are filled in:
    /// how a re-sent event id is recognised as the same event (an idempotent
    /// no-op) rather than a conflict.
    pub fn matches(&self, event: &Event) -> bool {
        match (self, event) {
            (Draft::Party(d), Event::PartyRegistered(e)) => d == e,
            (Draft::Proposition(d), Event::PropositionOpened(e)) => d == e,
            (Draft::Retraction(d), Event::StatementRetracted(e)) => d == e,
            (Draft::Resolution(d), Event::PropositionResolved(e)) => d == e,
            (Draft::Statement(d), Event::StatementRecorded(e)) => {
                (d.party.is_some() || d.speaker.is_some())
                    && d.party.as_ref().is_none_or(|p| *p == e.party)
                    && d.speaker.as_ref().is_none_or(|s| *s == e.speaker)
                    && d.proposition == e.proposition
                    && d.stance == e.stance
                    && d.stance.credence(d.credence).ok() == Some(e.credence)
                    && d.said_at == e.said_at
                    && d.quote == e.quote
                    && d.source == e.source
                    && d.qualifiers == e.qualifiers
            }
            _ => false,
        }
    }
}

fn check_text(field: &'static str, text: &str, max: usize) -> Result<(), DomainError> {
    if text.trim().is_empty() {
        return Err(DomainError::Empty(field));
    }
    let len = text.chars().count();
    if len > max {
        return Err(DomainError::TooLong { field, len, max });
    }
    Ok(())
}

/// Each alias is a non-empty short text on one line, given once per party, and not the party's name.
fn check_aliases(party: &Party) -> Result<(), DomainError> {
    let mut seen: Vec<String> = Vec::with_capacity(party.aliases.len() + 1);
    seen.push(party.name.trim().to_lowercase());
    for alias in &party.aliases {
        check_text("alias", alias, MAX_SHORT_TEXT)?;
        if alias.contains(['\n', '\r']) {
            return Err(DomainError::AliasNotOneLine(crate::error::one_line(alias)));
        }
        let folded = alias.trim().to_lowercase();
        if seen.contains(&folded) {
            return Err(DomainError::DuplicateAlias(crate::error::one_line(
                alias.trim(),
            )));
        }
        seen.push(folded);
    }
    Ok(())
}

fn check_optional(field: &'static str, text: &Option<String>) -> Result<(), DomainError> {
    text.as_deref()
        .map_or(Ok(()), |t| check_text(field, t, MAX_LONG_TEXT))
}

fn look<T, E>(r: Result<T, E>) -> Result<T, Rejection<E>> {
    r.map_err(Rejection::Lookup)
}

/// Checks a draft against the ledger and returns the event to record.
pub fn validate<F: LedgerFacts>(draft: Draft, facts: &F) -> Result<Validated, Rejection<F::Error>> {
    // Each draft gives its event and, for a retraction, the statement it retracts.
    let (event, retracted) = match draft {
        Draft::Party(party) => {
            check_text("party name", &party.name, MAX_SHORT_TEXT)?;
            check_aliases(&party)?;
            if look(facts.party(&party.id))?.is_some() {
                return Err(DomainError::DuplicateParty(party.id).into());
            }
            if let Some(boss) = &party.speaks_for {
                if *boss == party.id {
                    return Err(DomainError::SpeaksForItself(party.id).into());
                }
                if look(facts.party(boss))?.is_none() {
                    return Err(DomainError::UnknownSpeaksFor(boss.clone()).into());
                }
            }
            (Event::PartyRegistered(party), None)
        }
        Draft::Proposition(prop) => {
            check_text("proposition text", &prop.text, MAX_LONG_TEXT)?;
            check_optional("criteria", &prop.criteria)?;
            if let Some(w) = prop.window {
                crate::Window::new(w.from, w.to)?;
            }
            if look(facts.proposition(&prop.id))?.is_some() {
                return Err(DomainError::DuplicateProposition(prop.id).into());
            }
            (Event::PropositionOpened(prop), None)
        }
        Draft::Statement(d) => {
            if look(facts.proposition(&d.proposition))?.is_none() {
                return Err(DomainError::UnknownProposition(d.proposition).into());
            }
            let (party, speaker) = match (d.party, d.speaker) {
                (None, None) => return Err(DomainError::StatementWithoutParty.into()),
                (Some(party), speaker) => {
                    if look(facts.party(&party))?.is_none() {
                        return Err(DomainError::UnknownParty(party).into());
                    }
                    let speaker = match speaker {
                        Some(s) if s != party => {
                            if look(facts.party(&s))?.is_none() {
                                return Err(DomainError::UnknownSpeaker(s).into());
                            }
                            s
                        }
                        _ => party.clone(),
                    };
                    (party, speaker)
                }
                (None, Some(speaker)) => match look(facts.party(&speaker))? {
                    None => return Err(DomainError::UnknownSpeaker(speaker).into()),
                    Some(p) => (p.speaks_for.unwrap_or_else(|| speaker.clone()), speaker),
                },
            };
            let credence = d.stance.credence(d.credence)?;
            check_optional("quote", &d.quote)?;
            check_optional("source", &d.source)?;
            if d.qualifiers.len() > MAX_QUALIFIERS {
                return Err(DomainError::TooLong {
                    field: "qualifiers",
                    len: d.qualifiers.len(),
                    max: MAX_QUALIFIERS,
                }
                .into());
            }
            for q in &d.qualifiers {
                check_text("qualifier", q, MAX_SHORT_TEXT)?;
            }
            let event = Event::StatementRecorded(StatementRecorded {
                proposition: d.proposition,
                party,
                speaker,
                stance: d.stance,
                credence,
                said_at: d.said_at,
                quote: d.quote,
                source: d.source,
                qualifiers: d.qualifiers,
            });
            (event, None)
        }
        Draft::Retraction(r) => {
            check_text("reason", &r.reason, MAX_SHORT_TEXT)?;
            let Some(stmt) = look(facts.statement(&r.statement))? else {
                return Err(DomainError::UnknownStatement(r.statement).into());
            };
            if stmt.retracted {
                return Err(DomainError::AlreadyRetracted(r.statement).into());
            }
            (Event::StatementRetracted(r), Some(stmt))
        }
        Draft::Resolution(r) => {
            check_optional("source", &r.source)?;
            check_optional("note", &r.note)?;
            match look(facts.proposition(&r.proposition))? {
                None => return Err(DomainError::UnknownProposition(r.proposition).into()),
                Some(true) => return Err(DomainError::AlreadyResolved(r.proposition).into()),
                Some(false) => {}
            }
            (Event::PropositionResolved(r), None)
        }
    };
    let streams = event
        .streams(retracted.as_ref())
        .expect("a retraction's statement was looked up above, and an unknown one refused");
    Ok(Validated { event, streams })
}

/// The streams `event` belongs to ([`Event::streams`]), looking up in `facts`
/// the statement a retraction retracts; `None` when `facts` does not hold it.
pub fn streams_of<F: LedgerFacts>(
    event: &Event,
    facts: &F,
) -> Result<Option<Vec<StreamId>>, F::Error> {
    let retracted = match event {
        Event::StatementRetracted(r) => facts.statement(&r.statement)?,
        _ => None,
    };
    Ok(event.streams(retracted.as_ref()))
}

/// The facts a batch has added so far, kept in hash maps so a large batch
/// validates in linear time.
#[derive(Debug, Default, Clone)]
pub struct PendingFacts {
    parties: HashMap<PartyId, Party>,
    propositions: HashMap<PropositionId, bool>,
    statements: HashMap<EventId, StatementFacts>,
}

impl PendingFacts {
    /// Records the effect of an accepted event so later events of the batch see it.
    ///
    /// `base` is consulted for a retracted statement that predates the batch.
    pub fn absorb<F: LedgerFacts>(
        &mut self,
        id: EventId,
        event: &Event,
        base: &F,
    ) -> Result<(), F::Error> {
        match event {
            Event::PartyRegistered(p) => {
                self.parties.insert(p.id.clone(), p.clone());
            }
            Event::PropositionOpened(p) => {
                self.propositions.insert(p.id.clone(), false);
            }
            Event::StatementRecorded(s) => {
                let facts = StatementFacts {
                    proposition: s.proposition.clone(),
                    party: s.party.clone(),
                    retracted: false,
                };
                self.statements.insert(id, facts);
            }
            Event::StatementRetracted(r) => {
                if let Some(s) = self.statements.get_mut(&r.statement) {
                    s.retracted = true;
                } else if let Some(mut s) = base.statement(&r.statement)? {
                    s.retracted = true;
                    self.statements.insert(r.statement, s);
                }
            }
            Event::PropositionResolved(r) => {
                self.propositions.insert(r.proposition.clone(), true);
            }
        }
        Ok(())
    }
}

/// A ledger that holds nothing: what the first batch of a new ledger (or a
/// file checked on its own) is validated against.
#[derive(Debug, Clone, Copy, Default)]
pub struct EmptyLedger;

impl LedgerFacts for EmptyLedger {
    type Error = std::convert::Infallible;

    fn party(&self, _: &PartyId) -> Result<Option<Party>, Self::Error> {
        Ok(None)
    }

    fn proposition(&self, _: &PropositionId) -> Result<Option<bool>, Self::Error> {
        Ok(None)
    }

    fn statement(&self, _: &EventId) -> Result<Option<StatementFacts>, Self::Error> {
        Ok(None)
    }
}

/// The ledger as a batch sees it: the stored facts plus the batch's own earlier events.
pub struct BatchOverlay<'a, F> {
    /// What the ledger holds.
    pub base: &'a F,
    /// What the batch has added.
    pub pending: &'a PendingFacts,
}

impl<F: LedgerFacts> LedgerFacts for BatchOverlay<'_, F> {
    type Error = F::Error;

    fn party(&self, id: &PartyId) -> Result<Option<Party>, Self::Error> {
        match self.pending.parties.get(id) {
            Some(p) => Ok(Some(p.clone())),
            None => self.base.party(id),
        }
    }

    fn proposition(&self, id: &PropositionId) -> Result<Option<bool>, Self::Error> {
        match self.pending.propositions.get(id) {
            Some(r) => Ok(Some(*r)),
            None => self.base.proposition(id),
        }
    }

    fn statement(&self, id: &EventId) -> Result<Option<StatementFacts>, Self::Error> {
        match self.pending.statements.get(id) {
            Some(s) => Ok(Some(s.clone())),
            None => self.base.statement(id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Outcome, PartyKind};
    use std::convert::Infallible;

    #[derive(Default)]
    struct Facts(PendingFacts);

    impl LedgerFacts for Facts {
        type Error = Infallible;
        fn party(&self, id: &PartyId) -> Result<Option<Party>, Infallible> {
            Ok(self.0.parties.get(id).cloned())
        }
        fn proposition(&self, id: &PropositionId) -> Result<Option<bool>, Infallible> {
            Ok(self.0.propositions.get(id).copied())
        }
        fn statement(&self, id: &EventId) -> Result<Option<StatementFacts>, Infallible> {
            Ok(self.0.statements.get(id).cloned())
        }
    }

    fn pid(s: &str) -> PartyId {
        PartyId::new(s).unwrap()
    }
    fn prop(s: &str) -> PropositionId {
        PropositionId::new(s).unwrap()
    }

    fn party(id: &str, speaks_for: Option<&str>) -> Draft {
        Draft::Party(Party {
            id: pid(id),
            name: id.to_uppercase(),
            kind: PartyKind::Person,
            speaks_for: speaks_for.map(pid),
            aliases: Vec::new(),
        })
    }

    fn statement(party: Option<&str>, speaker: Option<&str>) -> Draft {
        Draft::Statement(StatementDraft {
            proposition: prop("paris-meeting"),
            party: party.map(pid),
            speaker: speaker.map(pid),
            stance: Stance::AlmostCertain,
            credence: None,
            said_at: "2018-11-06".parse().unwrap(),
            quote: Some("They will certainly meet".into()),
            source: None,
            qualifiers: vec!["brief".into()],
        })
    }

    /// Validates and absorbs, as a store would.
    fn record(facts: &mut Facts, draft: Draft) -> Result<(EventId, Event), DomainError> {
        let v = match validate(draft, facts) {
            Ok(v) => v,
            Err(Rejection::Invalid(e)) => return Err(e),
            Err(Rejection::Lookup(never)) => match never {},
        };
        let id = EventId::v7_at(1_700_000_000_000_000);
        let mut pending = std::mem::take(&mut facts.0);
        pending.absorb(id, &v.event, &Facts::default()).unwrap();
        facts.0 = pending;
        Ok((id, v.event))
    }

    fn seeded() -> Facts {
        let mut f = Facts::default();
        record(&mut f, party("kremlin", None)).unwrap();
        record(&mut f, party("peskov", Some("kremlin"))).unwrap();
        record(&mut f, party("trump", None)).unwrap();
        let p = Proposition {
            id: prop("paris-meeting"),
            text: "They meet".into(),
            criteria: None,
            window: None,
        };
        record(&mut f, Draft::Proposition(p)).unwrap();
        f
    }

    #[test]
    fn aliases_must_be_non_empty_single_lines_given_once() {
        let with = |aliases: &[&str]| {
            let Draft::Party(mut p) = party("putin", None) else {
                unreachable!()
            };
            p.name = "Vladimir Putin".into();
            p.aliases = aliases.iter().map(|a| a.to_string()).collect();
            record(&mut Facts::default(), Draft::Party(p))
        };
        assert!(with(&["Putin", "the Russian president"]).is_ok());
        assert_eq!(with(&[" "]).unwrap_err(), DomainError::Empty("alias"));
        assert_eq!(
            with(&["Putin", "putin"]).unwrap_err(),
            DomainError::DuplicateAlias("putin".into())
        );
        assert_eq!(
            with(&["vladimir putin"]).unwrap_err(),
            DomainError::DuplicateAlias("vladimir putin".into())
        );
        assert_eq!(
            with(&["Pu\ntin"]).unwrap_err(),
            DomainError::AliasNotOneLine("Pu\\ntin".into())
        );
    }

    #[test]
    fn a_speaker_who_speaks_for_a_party_states_that_partys_position() {
        let mut f = seeded();
        let (_, ev) = record(&mut f, statement(None, Some("peskov"))).unwrap();
        let Event::StatementRecorded(s) = ev else {
            panic!("not a statement")
        };
        assert_eq!(
            (s.party.as_str(), s.speaker.as_str()),
            ("kremlin", "peskov")
        );
        assert_eq!(s.credence, Some(0.97));
    }

    #[test]
    fn a_party_alone_is_its_own_speaker() {
        let mut f = seeded();
        let (_, ev) = record(&mut f, statement(Some("trump"), None)).unwrap();
        let Event::StatementRecorded(s) = ev else {
            panic!("not a statement")
        };
        assert_eq!((s.party.as_str(), s.speaker.as_str()), ("trump", "trump"));
    }

    #[test]
    fn unknown_references_are_named() {
        let mut f = seeded();
        let cases = [
            (
                statement(Some("putin"), None),
                DomainError::UnknownParty(pid("putin")),
            ),
            (
                statement(None, Some("lavrov")),
                DomainError::UnknownSpeaker(pid("lavrov")),
            ),
            (statement(None, None), DomainError::StatementWithoutParty),
            (
                party("bolton", Some("potus")),
                DomainError::UnknownSpeaksFor(pid("potus")),
            ),
            (
                party("trump", None),
                DomainError::DuplicateParty(pid("trump")),
            ),
            (
                party("solo", Some("solo")),
                DomainError::SpeaksForItself(pid("solo")),
            ),
        ];
        for (draft, expected) in cases {
            assert_eq!(record(&mut f, draft).unwrap_err(), expected);
        }
        let ghost = EventId::v7_at(1_700_000_000_000_000);
        let retract = Draft::Retraction(StatementRetracted {
            statement: ghost,
            reason: "typo".into(),
        });
        assert_eq!(
            record(&mut f, retract).unwrap_err(),
            DomainError::UnknownStatement(ghost)
        );
    }

    #[test]
    fn retractions_and_resolutions_happen_once() {
        let mut f = seeded();
        let (id, _) = record(&mut f, statement(Some("trump"), None)).unwrap();
        let retract = || {
            Draft::Retraction(StatementRetracted {
                statement: id,
                reason: "misquoted".into(),
            })
        };
        record(&mut f, retract()).unwrap();
        assert_eq!(
            record(&mut f, retract()).unwrap_err(),
            DomainError::AlreadyRetracted(id)
        );
        let resolve = || {
            Draft::Resolution(PropositionResolved {
                proposition: prop("paris-meeting"),
                outcome: Outcome::Happened,
                resolved_at: "2018-11-11".parse().unwrap(),
                source: None,
                note: None,
            })
        };
        record(&mut f, resolve()).unwrap();
        assert_eq!(
            record(&mut f, resolve()).unwrap_err(),
            DomainError::AlreadyResolved(prop("paris-meeting"))
        );
    }

    #[test]
    fn a_draft_matches_the_event_it_recorded_and_nothing_else() {
        let mut f = seeded();
        let draft = statement(None, Some("peskov"));
        let (_, ev) = record(&mut f, draft.clone()).unwrap();
        assert!(draft.matches(&ev));
        assert!(statement(Some("kremlin"), Some("peskov")).matches(&ev));
        assert!(!statement(Some("trump"), Some("peskov")).matches(&ev));
        let mut other = draft.clone();
        if let Draft::Statement(s) = &mut other {
            s.quote = Some("They might meet".into());
        }
        assert!(!other.matches(&ev));
    }

    #[test]
    fn each_event_belongs_to_its_streams_and_a_retraction_to_its_statements() {
        let mut f = seeded();
        let proposition = StreamId::Proposition(prop("paris-meeting"));
        let kremlin = StreamId::Party(pid("kremlin"));
        let v = validate(party("lavrov", Some("kremlin")), &f).unwrap();
        assert_eq!(v.streams, [StreamId::Party(pid("lavrov"))]);
        let (id, statement) = record(&mut f, statement(None, Some("peskov"))).unwrap();
        let retraction = Draft::Retraction(StatementRetracted {
            statement: id,
            reason: "misattributed".into(),
        });
        let v = validate(retraction, &f).unwrap();
        assert_eq!(v.streams, [proposition.clone(), kremlin.clone()]);
        assert_eq!(statement.streams(None), Some(v.streams.clone()));
        // Looked up the way verify does: the same streams; unknown without the statement.
        assert_eq!(streams_of(&v.event, &f), Ok(Some(v.streams.clone())));
        assert_eq!(streams_of(&v.event, &Facts::default()), Ok(None));
        assert_eq!(v.event.streams(None), None);
        let resolve = Draft::Resolution(PropositionResolved {
            proposition: prop("paris-meeting"),
            outcome: Outcome::DidNotHappen,
            resolved_at: "2018-11-11".parse().unwrap(),
            source: None,
            note: None,
        });
        assert_eq!(validate(resolve, &f).unwrap().streams, [proposition]);
    }

    #[test]
    fn a_drafts_primary_stream_is_the_first_stream_of_its_event() {
        let mut f = seeded();
        let (id, _) = record(&mut f, statement(Some("trump"), None)).unwrap();
        let opening = Draft::Proposition(Proposition {
            id: prop("summit"),
            text: "They hold a summit".into(),
            criteria: None,
            window: None,
        });
        let retraction = Draft::Retraction(StatementRetracted {
            statement: id,
            reason: "misquoted".into(),
        });
        let resolution = Draft::Resolution(PropositionResolved {
            proposition: prop("paris-meeting"),
            outcome: Outcome::Happened,
            resolved_at: "2018-11-11".parse().unwrap(),
            source: None,
            note: None,
        });
        for draft in [
            party("lavrov", None),
            opening,
            statement(None, Some("peskov")),
            retraction,
            resolution,
        ] {
            let primary = draft.primary_stream();
            let streams = validate(draft, &f).unwrap().streams;
            // A retraction's stream is known only once its statement is looked up.
            if let Some(primary) = primary {
                assert_eq!(streams[0], primary);
            } else {
                assert_eq!(streams[0], StreamId::Proposition(prop("paris-meeting")));
            }
        }
    }

    #[test]
    fn texts_must_not_be_empty_and_credence_must_fit_the_band() {
        let mut f = seeded();
        let mut d = party("nobody", None);
        if let Draft::Party(p) = &mut d {
            p.name = "  ".into();
        }
        assert_eq!(
            record(&mut f, d).unwrap_err(),
            DomainError::Empty("party name")
        );
        let mut s = statement(Some("trump"), None);
        if let Draft::Statement(st) = &mut s {
            st.credence = Some(0.5);
        }
        assert!(matches!(
            record(&mut f, s).unwrap_err(),
            DomainError::CredenceOutOfBand { .. }
        ));
    }
}
