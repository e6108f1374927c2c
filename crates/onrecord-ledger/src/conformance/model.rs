//! The model-based property test, the way redb's fuzzer checks its tables
//! against a `BTreeMap`: random operations (appends of every event type,
//! batches with a bad event in the middle, re-sent and clashing event ids,
//! expected revisions, reopenings, reads) go to the ledger and to [`Model`],
//! a plain in-memory statement of the rules, and after every operation the
//! two must agree on the outcome (which seqs, or which kind of refusal) and
//! on every read.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};

use onrecord_core::{Draft, EventId, Outcome, PartyId, PropositionId, Stance, StreamId};
use onrecord_projections::Position;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestCaseResult, TestRunner};

use super::drafts::*;
use super::{Backend, assert_sound};
use crate::{AppendOutcome, AppendRequest, ErrorKind, ExpectedRevision, Ledger, StoreError};

/// How many parties (`p0`..) and propositions (`q0`..) the operations draw from.
const PARTIES: u8 = 4;
/// See [`PARTIES`].
const PROPOSITIONS: u8 = 3;

/// What one request asks for, before it is turned into a draft against what
/// the ledger holds (which statement a retraction names, which id a re-send
/// repeats).
#[derive(Debug, Clone)]
pub(super) enum Step {
    /// Register party `p{who}`, speaking for `p{boss}`.
    Party { who: u8, boss: Option<u8> },
    /// Open proposition `q{0}`.
    Proposition(u8),
    /// A statement of `p{party}` on `q{prop}`.
    Statement {
        prop: u8,
        party: u8,
        stance: u8,
        day: u8,
    },
    /// Retract the n-th recorded statement (modulo), another kind of event, or an unknown id.
    Retract(u16),
    /// Resolve `q{prop}`.
    Resolve { prop: u8, happened: bool, day: u8 },
    /// Re-send the n-th event sent with an explicit id (modulo), same content.
    Resend(u16),
    /// Re-send the n-th explicit id (modulo) with other content.
    Clash(u16),
    /// A statement on a proposition nobody opens: always refused.
    Bad,
}

/// The expected revision a request carries, relative to its stream's state.
#[derive(Debug, Clone, Copy)]
pub(super) enum Expect {
    /// `Any`.
    Any,
    /// `NoStream`.
    NoStream,
    /// `StreamExists`.
    StreamExists,
    /// Exactly the stream's current revision.
    Current,
    /// Exactly the current revision plus this (never right).
    Off(u8),
}

/// One request of an operation.
#[derive(Debug, Clone)]
pub(super) struct Req {
    step: Step,
    /// Whether it carries an explicit event id (a re-send always does).
    explicit: bool,
    expect: Expect,
    /// Who sends it: recorder `r{recorder}` (a re-send may come from another).
    recorder: u8,
}

/// One operation of a random run.
#[derive(Debug, Clone)]
pub(super) enum Op {
    /// One append.
    Append(Req),
    /// One batch.
    Batch(Vec<Req>),
    /// Several batches with one sync (group commit), every request with an
    /// explicit id (so later batches can name what earlier ones record).
    Group(Vec<Vec<Req>>),
    /// Close and open the ledger again.
    Reopen,
    /// Read a seq (modulo head + 2: also 0 and past the head).
    GetSeq(u16),
    /// Read by event id (one recorded, or not).
    GetId(u16),
    /// Read a stream's revision.
    Revision(u8),
    /// Read the current positions (all, or of one proposition).
    Positions(Option<u8>),
}

/// A step, statements weighted most (the pool's ids make about half of them valid).
fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        2 => (0..PARTIES, proptest::option::of(0..PARTIES))
            .prop_map(|(who, boss)| Step::Party { who, boss }),
        2 => (0..PROPOSITIONS).prop_map(Step::Proposition),
        7 => (0..PROPOSITIONS, 0..PARTIES, 0u8..8, 0u8..20).prop_map(
            |(prop, party, stance, day)| Step::Statement { prop, party, stance, day }
        ),
        2 => any::<u16>().prop_map(Step::Retract),
        1 => (0..PROPOSITIONS, any::<bool>(), 0u8..20)
            .prop_map(|(prop, happened, day)| Step::Resolve { prop, happened, day }),
        1 => any::<u16>().prop_map(Step::Resend),
        1 => any::<u16>().prop_map(Step::Clash),
    ]
}

/// An expectation, mostly `Any`.
fn expect() -> impl Strategy<Value = Expect> {
    prop_oneof![
        12 => Just(Expect::Any),
        1 => Just(Expect::NoStream),
        1 => Just(Expect::StreamExists),
        2 => Just(Expect::Current),
        1 => (1u8..3).prop_map(Expect::Off),
    ]
}

/// One request: any step, with or without an explicit id, any expectation.
pub(super) fn request() -> impl Strategy<Value = Req> {
    (step(), any::<bool>(), expect(), 0u8..3).prop_map(|(step, explicit, expect, recorder)| Req {
        step,
        explicit,
        expect,
        recorder,
    })
}

/// A batch of 1-5 requests, a third of the time with an always-refused one put in the middle.
pub(super) fn batch() -> impl Strategy<Value = Vec<Req>> {
    (
        proptest::collection::vec(request(), 1..6),
        proptest::option::weighted(0.35, any::<prop::sample::Index>()),
    )
        .prop_map(|(mut requests, bad)| {
            if let Some(at) = bad {
                let at = at.index(requests.len() + 1);
                requests.insert(
                    at,
                    Req {
                        step: Step::Bad,
                        explicit: false,
                        expect: Expect::Any,
                        recorder: 0,
                    },
                );
            }
            requests
        })
}

/// An operation, writes weighted most.
fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => request().prop_map(Op::Append),
        3 => batch().prop_map(Op::Batch),
        1 => proptest::collection::vec(batch(), 1..4).prop_map(Op::Group),
        1 => Just(Op::Reopen),
        1 => any::<u16>().prop_map(Op::GetSeq),
        1 => any::<u16>().prop_map(Op::GetId),
        1 => (0..PARTIES + PROPOSITIONS + 1).prop_map(Op::Revision),
        1 => proptest::option::of(0..PROPOSITIONS).prop_map(Op::Positions),
    ]
}

/// The streams the operations can touch, plus one they never create.
fn pool_streams() -> Vec<StreamId> {
    let parties = (0..PARTIES).map(|i| StreamId::Party(pid(&format!("p{i}"))));
    let props = (0..PROPOSITIONS).map(|i| StreamId::Proposition(prop_id(&format!("q{i}"))));
    parties
        .chain(props)
        .chain([StreamId::Proposition(prop_id("nowhere"))])
        .collect()
}

/// What the model says an accepted request did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Accepted {
    /// Appended at this seq.
    Appended(u64),
    /// Already recorded at this seq.
    AlreadyRecorded(u64),
}

/// The rules of the ledger, stated plainly over hash maps: what is accepted,
/// at which seq, and what every read answers.
#[derive(Debug, Clone, Default)]
pub(super) struct Model {
    /// The accepted events in seq order (seq = index + 1): id, draft as sent,
    /// and whether the id was explicit.
    events: Vec<(EventId, Draft, bool)>,
    /// Who recorded each accepted event (the first sender of its id).
    recorders: Vec<onrecord_core::Recorder>,
    by_id: HashMap<EventId, usize>,
    parties: HashSet<PartyId>,
    /// Each open proposition, and whether it has resolved.
    propositions: HashMap<PropositionId, bool>,
    /// Each statement's proposition and party.
    statements: HashMap<EventId, (PropositionId, PartyId)>,
    retracted: HashSet<EventId>,
    /// Each stream's last revision.
    revisions: HashMap<StreamId, u64>,
}

impl Model {
    /// How many events the ledger holds: its head seq.
    pub(super) fn len(&self) -> u64 {
        self.events.len() as u64
    }

    fn admits(&self, stream: &StreamId, expected: ExpectedRevision) -> Result<(), ErrorKind> {
        let actual = self.revisions.get(stream).copied();
        let ok = match expected {
            ExpectedRevision::Any => true,
            ExpectedRevision::NoStream => actual.is_none(),
            ExpectedRevision::StreamExists => actual.is_some(),
            ExpectedRevision::Exact(n) => actual == Some(n),
        };
        ok.then_some(()).ok_or(ErrorKind::Conflict)
    }

    /// The streams an event joins (primary first), or `None` when a domain rule refuses it.
    fn streams_of(&self, draft: &Draft) -> Option<Vec<StreamId>> {
        match draft {
            Draft::Party(p) => {
                let boss_ok = p
                    .speaks_for
                    .as_ref()
                    .is_none_or(|b| *b != p.id && self.parties.contains(b));
                (!self.parties.contains(&p.id) && boss_ok)
                    .then(|| vec![StreamId::Party(p.id.clone())])
            }
            Draft::Proposition(p) => (!self.propositions.contains_key(&p.id))
                .then(|| vec![StreamId::Proposition(p.id.clone())]),
            Draft::Statement(s) => {
                let party = s.party.as_ref()?;
                (self.propositions.contains_key(&s.proposition) && self.parties.contains(party))
                    .then(|| {
                        vec![
                            StreamId::Proposition(s.proposition.clone()),
                            StreamId::Party(party.clone()),
                        ]
                    })
            }
            Draft::Retraction(r) => {
                let (prop, party) = self.statements.get(&r.statement)?;
                (!self.retracted.contains(&r.statement)).then(|| {
                    vec![
                        StreamId::Proposition(prop.clone()),
                        StreamId::Party(party.clone()),
                    ]
                })
            }
            Draft::Resolution(r) => (self.propositions.get(&r.proposition) == Some(&false))
                .then(|| vec![StreamId::Proposition(r.proposition.clone())]),
        }
    }

    /// Applies one request as the ledger must: an explicit id already
    /// recorded decides first, then the revision of a stream the draft
    /// names, then the domain rules, then (for a retraction) the revision
    /// of its statement's proposition. `new_id` is the id the ledger gave
    /// it if it had none.
    fn apply(&mut self, request: &AppendRequest, new_id: EventId) -> Result<Accepted, ErrorKind> {
        if let Some(id) = request.event_id
            && let Some(&i) = self.by_id.get(&id)
        {
            return if self.events[i].1 == request.draft {
                Ok(Accepted::AlreadyRecorded(i as u64 + 1))
            } else {
                Err(ErrorKind::Conflict)
            };
        }
        let early = request.draft.primary_stream();
        if let Some(stream) = &early {
            self.admits(stream, request.expected)?;
        }
        let streams = self.streams_of(&request.draft).ok_or(ErrorKind::Invalid)?;
        if early.is_none() {
            self.admits(&streams[0], request.expected)?;
        }
        let id = request.event_id.unwrap_or(new_id);
        match &request.draft {
            Draft::Party(p) => {
                self.parties.insert(p.id.clone());
            }
            Draft::Proposition(p) => {
                self.propositions.insert(p.id.clone(), false);
            }
            Draft::Statement(s) => {
                let party = s.party.clone().expect("checked above");
                self.statements.insert(id, (s.proposition.clone(), party));
            }
            Draft::Retraction(r) => {
                self.retracted.insert(r.statement);
            }
            Draft::Resolution(r) => {
                self.propositions.insert(r.proposition.clone(), true);
            }
        }
        for stream in streams {
            let next = self.revisions.get(&stream).map_or(0, |r| r + 1);
            self.revisions.insert(stream, next);
        }
        self.events
            .push((id, request.draft.clone(), request.event_id.is_some()));
        self.recorders.push(request.recorded_by.clone());
        self.by_id.insert(id, self.events.len() - 1);
        Ok(Accepted::Appended(self.len()))
    }

    /// Applies a batch all or nothing: the outcomes, or every refusal by index.
    fn apply_batch(
        &mut self,
        requests: &[AppendRequest],
        new_ids: &[EventId],
    ) -> Result<Vec<Accepted>, Vec<(usize, ErrorKind)>> {
        let mut after = self.clone();
        let mut outcomes = Vec::new();
        let mut refusals = Vec::new();
        for (i, (request, id)) in requests.iter().zip(new_ids).enumerate() {
            match after.apply(request, *id) {
                Ok(accepted) => outcomes.push(accepted),
                Err(kind) => refusals.push((i, kind)),
            }
        }
        if refusals.is_empty() {
            *self = after;
            Ok(outcomes)
        } else {
            Err(refusals)
        }
    }

    /// Current positions, computed from the rules in the docs: per
    /// (proposition, party), the statements not retracted in (said_at, seq)
    /// order; the last is current; flips count changes between low and high
    /// sides, skipping statements with no side.
    fn positions(&self, only: Option<&PropositionId>) -> Vec<Position> {
        let mut pairs: BTreeMap<(PropositionId, PartyId), Vec<Said>> = BTreeMap::new();
        let mut quotes = HashMap::new();
        for (i, (id, draft, _)) in self.events.iter().enumerate() {
            let Draft::Statement(s) = draft else { continue };
            if self.retracted.contains(id) || only.is_some_and(|p| *p != s.proposition) {
                continue;
            }
            let party = s.party.clone().expect("model statements name their party");
            quotes.insert(*id, (s.quote.clone(), s.said_at));
            pairs
                .entry((s.proposition.clone(), party))
                .or_default()
                .push((s.said_at.micros(), i as u64 + 1, *id, s.stance));
        }
        pairs
            .into_iter()
            .map(|((proposition, party), mut said)| {
                said.sort_by_key(|(micros, seq, ..)| (*micros, *seq));
                let (mut flips, mut last_side) = (0, None);
                for (.., stance) in &said {
                    let side = stance.side(stance.credence(None).expect("no explicit credence"));
                    if let (Some(a), Some(b)) = (last_side, side)
                        && a != b
                    {
                        flips += 1;
                    }
                    last_side = side.or(last_side);
                }
                let (_, _, statement, stance) = *said.last().expect("a pair has a statement");
                let (quote, said_at) = quotes[&statement].clone();
                Position {
                    proposition,
                    speaker: party.clone(),
                    party,
                    stance,
                    credence: stance.credence(None).expect("no explicit credence"),
                    said_at,
                    statement,
                    quote,
                    statements: said.len() as u64,
                    flips,
                }
            })
            .collect()
    }
}

/// A counted statement as positions order it: said-at micros, seq, id, stance.
type Said = (i64, u64, EventId, Stance);

/// The model and what turning steps into requests needs: a source of fresh explicit ids.
#[derive(Debug, Default)]
pub(super) struct Harness {
    /// What the ledger must hold.
    pub(super) model: Model,
    next_id: u64,
}

/// An id standing in for one the ledger would make up, in a batch it refused.
fn placeholder(i: usize) -> EventId {
    test_id(u64::MAX - i as u64)
}

impl Harness {
    fn fresh_id(&mut self) -> EventId {
        self.next_id += 1;
        test_id(self.next_id)
    }

    /// Turns `reqs` into requests against the model as the batch goes
    /// (so `Current` is the revision the request's stream will have then),
    /// naming only ids the ledger holds or the batch gives explicitly.
    pub(super) fn build(&mut self, reqs: &[Req]) -> Vec<AppendRequest> {
        let mut scratch = self.model.clone();
        // Statements and explicit events that later requests may name.
        let mut statements: Vec<EventId> = scratch
            .events
            .iter()
            .filter(|(_, d, _)| matches!(d, Draft::Statement(_)))
            .map(|(id, ..)| *id)
            .collect();
        let mut explicit: Vec<(EventId, Draft)> = scratch
            .events
            .iter()
            .filter(|(.., e)| *e)
            .map(|(id, d, _)| (*id, d.clone()))
            .collect();
        let mut out = Vec::new();
        for (i, r) in reqs.iter().enumerate() {
            let (draft, resent) = match &r.step {
                Step::Resend(n) if !explicit.is_empty() => {
                    let (id, draft) = explicit[*n as usize % explicit.len()].clone();
                    (draft, Some(id))
                }
                Step::Clash(n) if !explicit.is_empty() => {
                    let (id, draft) = explicit[*n as usize % explicit.len()].clone();
                    let other = match draft {
                        Draft::Statement(mut s) => {
                            let at = Stance::ALL.iter().position(|x| *x == s.stance).unwrap_or(0);
                            s.stance = Stance::ALL[(at + 1) % Stance::ALL.len()];
                            Draft::Statement(s)
                        }
                        _ => proposition("clash"),
                    };
                    (other, Some(id))
                }
                step => (self.draft(step, &statements), None),
            };
            let event_id = resent.or_else(|| r.explicit.then(|| self.fresh_id()));
            let stream = draft.primary_stream().or_else(|| match &draft {
                Draft::Retraction(x) => scratch
                    .statements
                    .get(&x.statement)
                    .map(|(prop, _)| StreamId::Proposition(prop.clone())),
                _ => None,
            });
            let current = stream.and_then(|s| scratch.revisions.get(&s).copied());
            let expected = match r.expect {
                Expect::Any => ExpectedRevision::Any,
                Expect::NoStream => ExpectedRevision::NoStream,
                Expect::StreamExists => ExpectedRevision::StreamExists,
                Expect::Current => ExpectedRevision::Exact(current.unwrap_or(0)),
                Expect::Off(k) => {
                    ExpectedRevision::Exact(current.map_or(0, |c| c + 1) + u64::from(k))
                }
            };
            let request = AppendRequest {
                event_id,
                draft,
                expected,
                recorded_by: recorder(&format!("r{}", r.recorder)),
            };
            if scratch.apply(&request, placeholder(i)).is_ok()
                && let Some(id) = request.event_id
                && resent.is_none()
            {
                if matches!(request.draft, Draft::Statement(_)) {
                    statements.push(id);
                }
                explicit.push((id, request.draft.clone()));
            }
            out.push(request);
        }
        out
    }

    /// The draft a step stands for, naming one of `statements` or an event
    /// the ledger holds where it names one.
    fn draft(&self, step: &Step, statements: &[EventId]) -> Draft {
        let events = &self.model.events;
        let p = |i: u8| format!("p{i}");
        let q = |i: u8| format!("q{i}");
        let day = |d: u8| format!("2018-11-{:02}", d + 1);
        match step {
            Step::Party { who, boss } => party(&p(*who), boss.map(p).as_deref()),
            Step::Proposition(i) => proposition(&q(*i)),
            Step::Statement {
                prop,
                party: who,
                stance,
                day: d,
            } => statement(&q(*prop), &p(*who), Stance::ALL[*stance as usize], &day(*d)),
            Step::Retract(n) => {
                let n = *n as usize;
                let target = match n % (statements.len() + 2) {
                    k if k < statements.len() => statements[k],
                    k if k == statements.len() && !events.is_empty() => {
                        // Any recorded event: mostly another kind than a statement.
                        events[n % events.len()].0
                    }
                    _ => test_id(1_000_000 + n as u64),
                };
                retraction(target)
            }
            Step::Resolve {
                prop,
                happened,
                day: d,
            } => {
                let outcome = if *happened {
                    Outcome::Happened
                } else {
                    Outcome::DidNotHappen
                };
                resolution(&q(*prop), outcome, &day(*d))
            }
            Step::Resend(_) | Step::Clash(_) | Step::Bad => {
                statement("nowhere", "p0", Stance::Likely, "2018-11-01")
            }
        }
    }

    /// Sends `requests` (as one append when `single`, else as a batch) to
    /// the ledger and the model, and checks they agree: the same seqs and
    /// ids when accepted, the same kinds of refusal at the same indexes
    /// when refused. The model takes the batch only if the ledger did.
    pub(super) fn write(
        &mut self,
        ledger: &Ledger,
        requests: Vec<AppendRequest>,
        single: bool,
    ) -> TestCaseResult {
        let actual = if single {
            ledger.append(requests[0].clone()).map(|o| vec![o])
        } else {
            ledger.append_batch(requests.clone())
        };
        self.agree(requests, actual, single)
    }

    /// Checks the ledger's answer `actual` to `requests` against the model's
    /// and, where both accepted, lets the model take them.
    pub(super) fn agree(
        &mut self,
        requests: Vec<AppendRequest>,
        actual: Result<Vec<AppendOutcome>, StoreError>,
        single: bool,
    ) -> TestCaseResult {
        let new_ids: Vec<EventId> = match &actual {
            Ok(outcomes) if outcomes.len() == requests.len() => {
                outcomes.iter().map(AppendOutcome::event_id).collect()
            }
            _ => (0..requests.len()).map(placeholder).collect(),
        };
        let predicted = self.model.apply_batch(&requests, &new_ids);
        match (actual, predicted) {
            (Ok(outcomes), Ok(expected)) => {
                prop_assert_eq!(outcomes.len(), expected.len());
                for ((outcome, want), request) in outcomes.iter().zip(&expected).zip(&requests) {
                    let got = match outcome {
                        AppendOutcome::Appended { seq, .. } => Accepted::Appended(*seq),
                        AppendOutcome::AlreadyRecorded { seq, .. } => {
                            Accepted::AlreadyRecorded(*seq)
                        }
                    };
                    prop_assert_eq!(got, *want, "outcome of {:?}", request);
                    if let Some(id) = request.event_id {
                        prop_assert_eq!(outcome.event_id(), id);
                    }
                }
            }
            (Err(err), Err(refusals)) => {
                let got: Vec<(usize, ErrorKind)> = match err {
                    StoreError::BatchRejected(errors) if !single => {
                        errors.iter().map(|(i, e)| (*i, e.kind())).collect()
                    }
                    other if single => vec![(0, other.kind())],
                    other => return Err(TestCaseError::fail(format!("not a refusal: {other}"))),
                };
                prop_assert_eq!(got, refusals, "refusals of {:?}", requests);
            }
            (Ok(outcomes), Err(refusals)) => {
                return Err(TestCaseError::fail(format!(
                    "the ledger took {requests:?} ({outcomes:?}); the model refuses {refusals:?}"
                )));
            }
            (Err(err), Ok(expected)) => {
                return Err(TestCaseError::fail(format!(
                    "the ledger refused {requests:?} with {err:?}; the model takes it: {expected:?}"
                )));
            }
        }
        Ok(())
    }

    /// Takes what the ledger holds past the model's head as the effect of
    /// `requests`, reading the records back: an import reports counts only,
    /// and a ledger reopened after a failed sync holds all of a write or
    /// none of it. With `whole` (the write was acknowledged) none is wrong
    /// unless the model appends nothing either.
    pub(super) fn adopt(
        &mut self,
        ledger: &Ledger,
        requests: Vec<AppendRequest>,
        whole: bool,
    ) -> TestCaseResult {
        let base = self.model.len();
        let head = ledger.head().seq;
        let placeholders: Vec<EventId> = (0..requests.len()).map(placeholder).collect();
        let predicted = match self.model.clone().apply_batch(&requests, &placeholders) {
            Ok(predicted) => predicted,
            Err(refusals) => {
                return Err(fail(format!(
                    "the ledger took {requests:?}; the model refuses {refusals:?}"
                )));
            }
        };
        let appended = predicted
            .iter()
            .filter(|p| matches!(p, Accepted::Appended(_)))
            .count() as u64;
        if head == base && !(whole && appended > 0) {
            return Ok(());
        }
        prop_assert_eq!(head, base + appended, "all of the write or none of it");
        let mut outcomes = Vec::new();
        for (p, r) in predicted.iter().zip(&requests) {
            outcomes.push(match *p {
                Accepted::Appended(seq) => {
                    let rec = ledger
                        .get(seq)
                        .map_err(fail)?
                        .ok_or_else(|| fail(format!("no record at seq {seq}")))?;
                    prop_assert!(r.draft.matches(&rec.event), "seq {} holds {:?}", seq, r);
                    AppendOutcome::Appended {
                        seq,
                        event_id: rec.event_id,
                    }
                }
                Accepted::AlreadyRecorded(seq) => AppendOutcome::AlreadyRecorded {
                    seq,
                    event_id: r.event_id.expect("only an explicit id is already recorded"),
                },
            });
        }
        self.agree(requests, Ok(outcomes), false)
    }

    /// Checks what the ledger answers after every operation: its head,
    /// every stream's revision and the current positions.
    pub(super) fn check_state(&self, ledger: &Ledger) -> TestCaseResult {
        prop_assert_eq!(ledger.head().seq, self.model.len(), "head");
        for stream in pool_streams() {
            prop_assert_eq!(
                ledger.stream_revision(&stream).map_err(fail)?,
                self.model.revisions.get(&stream).copied(),
                "revision of {}",
                stream
            );
        }
        prop_assert_eq!(
            ledger.positions(None).map_err(fail)?,
            self.model.positions(None),
            "current positions"
        );
        Ok(())
    }

    /// Checks one read the operation asks for against the model.
    fn check_read(&self, ledger: &Ledger, op: &Op) -> TestCaseResult {
        let events = &self.model.events;
        match op {
            Op::GetSeq(n) => {
                let seq = u64::from(*n) % (self.model.len() + 2);
                let rec = ledger.get(seq).map_err(fail)?;
                match seq.checked_sub(1).and_then(|i| events.get(i as usize)) {
                    None => prop_assert!(rec.is_none(), "nothing at seq {}", seq),
                    Some((id, draft, _)) => {
                        let rec = rec.ok_or_else(|| fail(format!("no record at seq {seq}")))?;
                        prop_assert_eq!((rec.seq, rec.event_id), (seq, *id));
                        prop_assert!(draft.matches(&rec.event), "seq {} holds {:?}", seq, draft);
                        prop_assert_eq!(
                            rec.recorded_by.as_ref(),
                            self.model.recorders.get(seq as usize - 1),
                            "who recorded seq {}",
                            seq
                        );
                    }
                }
            }
            Op::GetId(n) => {
                let n = *n as usize;
                let id = match events.get(n % (events.len() + 1)) {
                    Some((id, ..)) => *id,
                    None => test_id(2_000_000 + n as u64),
                };
                let seq = ledger.get_by_id(&id).map_err(fail)?.map(|r| r.seq);
                prop_assert_eq!(seq, self.model.by_id.get(&id).map(|i| *i as u64 + 1));
            }
            Op::Revision(i) => {
                let stream = &pool_streams()[*i as usize];
                prop_assert_eq!(
                    ledger.stream_revision(stream).map_err(fail)?,
                    self.model.revisions.get(stream).copied()
                );
                let seqs: Vec<u64> = ledger
                    .stream(stream)
                    .map(|r| r.map(|r| r.seq))
                    .collect::<Result<_, _>>()
                    .map_err(fail)?;
                prop_assert_eq!(
                    seqs.len() as u64,
                    self.model.revisions.get(stream).map_or(0, |r| r + 1),
                    "events of {}",
                    stream
                );
            }
            Op::Positions(only) => {
                let only = only.map(|i| prop_id(&format!("q{i}")));
                prop_assert_eq!(
                    ledger.positions(only.as_ref()).map_err(fail)?,
                    self.model.positions(only.as_ref())
                );
            }
            Op::Append(_) | Op::Batch(_) | Op::Group(_) | Op::Reopen => {}
        }
        Ok(())
    }
}

/// A ledger error as a test failure.
pub(super) fn fail(e: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(e.to_string())
}

/// The parties and propositions every run starts from, sent like any batch:
/// all but the last party and proposition, which the operations may add.
pub(super) fn seed_requests() -> Vec<Req> {
    let req = |step| Req {
        step,
        explicit: true,
        expect: Expect::Any,
        recorder: 0,
    };
    let parties = (0..PARTIES - 1).map(|who| Step::Party {
        who,
        boss: who.checked_sub(1),
    });
    let propositions = (0..PROPOSITIONS - 1).map(Step::Proposition);
    parties.chain(propositions).map(req).collect()
}

/// One run: the seed, then `ops`, each checked against the model; `verify`
/// and the other soundness checks at the end, and again after a reopen.
fn run(backend: &mut dyn Backend, ops: Vec<Op>) -> TestCaseResult {
    let mut ledger = backend.create();
    let mut harness = Harness::default();
    let seed = harness.build(&seed_requests());
    harness.write(&ledger, seed, false)?;
    for op in &ops {
        match op {
            Op::Append(r) => {
                let requests = harness.build(std::slice::from_ref(r));
                harness.write(&ledger, requests, true)?;
            }
            Op::Batch(rs) => {
                let requests = harness.build(rs);
                harness.write(&ledger, requests, false)?;
            }
            Op::Group(batches) => {
                // Built one after the other against the model as it will be,
                // then sent together; each must fare as it would alone.
                let before = harness.model.clone();
                let mut sent = Vec::new();
                for rs in batches {
                    let named: Vec<Req> = rs
                        .iter()
                        .cloned()
                        .map(|r| Req {
                            explicit: true,
                            ..r
                        })
                        .collect();
                    let requests = harness.build(&named);
                    let ids: Vec<EventId> = (0..requests.len()).map(placeholder).collect();
                    let _ = harness.model.apply_batch(&requests, &ids);
                    sent.push(requests);
                }
                harness.model = before;
                let results = ledger.append_batches(sent.clone());
                prop_assert_eq!(results.len(), sent.len());
                for (requests, result) in sent.into_iter().zip(results) {
                    harness.agree(requests, result, false)?;
                }
            }
            Op::Reopen => {
                let head = ledger.head();
                ledger = backend.reopen(ledger);
                prop_assert_eq!(ledger.head(), head, "a reopened ledger keeps its head");
            }
            read => harness.check_read(&ledger, read)?,
        }
        harness.check_state(&ledger)?;
    }
    assert_sound(&ledger);
    let head = ledger.head();
    let ledger = backend.reopen(ledger);
    prop_assert_eq!(ledger.head(), head);
    harness.check_state(&ledger)?;
    assert_sound(&ledger);
    Ok(())
}

/// A runner for `cases` cases that keeps no regression files (the failing
/// input is printed, minimised, when a case fails).
pub(super) fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

/// Random sequences of up to 40 operations (single appends of every event
/// type, batches with a bad event in the middle, group commits of several
/// batches, re-sent and clashing ids, expected revisions, reopenings, reads) agree with the model after every
/// operation, and leave a sound ledger.
pub fn random_operations_agree_with_a_model(backend: &mut dyn Backend) {
    let cases = backend.property_cases();
    let backend = RefCell::new(backend);
    let ops = proptest::collection::vec(op(), 1..40);
    let result = runner(cases).run(&ops, |ops| run(&mut **backend.borrow_mut(), ops));
    if let Err(e) = result {
        panic!("{e}");
    }
}
