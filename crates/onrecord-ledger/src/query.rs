//! The query API: one request struct per question a caller can ask (positions,
//! contradictions, history, scores, calibration, stats, a chart's input, the
//! report's input, whether the kept views are stale), each answered with plain
//! domain values by [`Query::run`]
//! over the narrow reads of [`LedgerReads`]. Each answer reads the smallest
//! slice of the ledger that holds it (the kept views when no time filter
//! applies, one proposition's stream for one proposition, the log up to
//! `at_seq` otherwise), and each request decides, in one place, whether the
//! ids it names are known under its filter ([`QueryError::Unknown`],
//! [`QueryError::NotYetRecorded`]) with the known ids closest to a mistyped one.
//!
//! This module depends on [`LedgerReads`] only, never on sled or the key
//! layout, so it can move into an engine crate over a storage trait as it is.
//! It writes nothing.

use std::collections::BTreeMap;
use std::fmt;

use onrecord_core::similar::closest;
use onrecord_core::{Event, Party, PartyId, Proposition, PropositionId, Recorded, StreamId};
use onrecord_projections::{
    CalibrationFold, CalibrationRow, ChartInput, ChartResolution, Contradiction, Filter,
    HistoryEntry, HistoryFold, Position, PropositionSection, ReportInput, ScoreReport, ScoresFold,
    contradictions,
};

use crate::{Ledger, LedgerStats, PositionsAt, StoreError};

/// The reads the queries need from a ledger, and nothing more.
pub trait LedgerReads {
    /// The proposition with this id, as opened.
    fn opened_proposition(&self, id: &PropositionId) -> Result<Option<Proposition>, StoreError>;
    /// Whether a party with this id is registered.
    fn has_party(&self, id: &PartyId) -> Result<bool, StoreError>;
    /// Every proposition id, in order.
    fn proposition_ids(&self) -> Result<Vec<PropositionId>, StoreError>;
    /// Every registered party id, in order.
    fn party_ids(&self) -> Result<Vec<PartyId>, StoreError>;
    /// Every registered party (id, name, kind), in id order.
    fn registered_parties(&self) -> Result<Vec<Party>, StoreError>;
    /// The first record of `stream`: the party's registration or the proposition's opening.
    fn stream_origin_record(&self, stream: &StreamId) -> Result<Option<Recorded>, StoreError>;
    /// The record resolving proposition `id`, if it has resolved.
    fn resolution_record(&self, id: &PropositionId) -> Result<Option<Recorded>, StoreError>;
    /// Positions of every proposition, or `only` one, as `filter` sees the ledger.
    fn positions_under(
        &self,
        only: Option<&PropositionId>,
        filter: Filter,
    ) -> Result<PositionsAt, StoreError>;
    /// Streams, in seq order, every record that can bear on `only` (its stream) or on everything (the log), up to the filter's `at_seq`.
    fn each_record_bearing_on(
        &self,
        only: Option<&PropositionId>,
        filter: Filter,
        apply: &mut dyn FnMut(&Recorded),
    ) -> Result<(), StoreError>;
    /// What the ledger holds, counted from its indexes.
    fn ledger_stats(&self) -> Result<LedgerStats, StoreError>;
    /// Whether the kept views reflect the whole log, so that answers without a
    /// time filter are read from them; a reader that keeps no views has none
    /// to fall behind.
    fn kept_views_current(&self) -> Result<bool, StoreError> {
        Ok(true)
    }
}

impl LedgerReads for Ledger {
    fn opened_proposition(&self, id: &PropositionId) -> Result<Option<Proposition>, StoreError> {
        self.proposition_opened(id)
    }

    fn has_party(&self, id: &PartyId) -> Result<bool, StoreError> {
        Ok(onrecord_core::LedgerFacts::party(self, id)?.is_some())
    }

    fn proposition_ids(&self) -> Result<Vec<PropositionId>, StoreError> {
        Ledger::proposition_ids(self)
    }

    fn party_ids(&self) -> Result<Vec<PartyId>, StoreError> {
        Ok(self.parties()?.into_iter().map(|p| p.id).collect())
    }

    fn registered_parties(&self) -> Result<Vec<Party>, StoreError> {
        self.parties()
    }

    fn stream_origin_record(&self, stream: &StreamId) -> Result<Option<Recorded>, StoreError> {
        self.stream(stream).next().transpose()
    }

    fn resolution_record(&self, id: &PropositionId) -> Result<Option<Recorded>, StoreError> {
        self.resolution(id)
    }

    fn positions_under(
        &self,
        only: Option<&PropositionId>,
        filter: Filter,
    ) -> Result<PositionsAt, StoreError> {
        self.positions_at(only, filter)
    }

    fn each_record_bearing_on(
        &self,
        only: Option<&PropositionId>,
        filter: Filter,
        apply: &mut dyn FnMut(&Recorded),
    ) -> Result<(), StoreError> {
        self.for_each_bearing_on(only, filter, apply)
    }

    fn ledger_stats(&self) -> Result<LedgerStats, StoreError> {
        self.stats()
    }

    fn kept_views_current(&self) -> Result<bool, StoreError> {
        self.views_current()
    }
}

/// A question to a ledger, answered with domain values.
pub trait Query {
    /// What the answer is.
    type Answer;
    /// Answers the question from `reads`, reading only what the answer needs.
    fn run(&self, reads: &(impl LedgerReads + ?Sized)) -> Result<Self::Answer, QueryError>;
}

impl Ledger {
    /// Answers `query` from this ledger.
    pub fn query<Q: Query>(&self, query: &Q) -> Result<Q::Answer, QueryError> {
        query.run(self)
    }
}

/// Which kind of id a query found unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    /// A party id.
    Party,
    /// A proposition id.
    Proposition,
}

impl fmt::Display for IdKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IdKind::Party => "party",
            IdKind::Proposition => "proposition",
        })
    }
}

/// The transaction-time bound before which an id was not yet recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotYetAt {
    /// The filter's `at_seq`.
    Seq(u64),
    /// The filter's `known_at`.
    KnownAt,
}

impl fmt::Display for NotYetAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotYetAt::Seq(seq) => write!(f, "at seq {seq}"),
            NotYetAt::KnownAt => f.write_str("at the known-at time"),
        }
    }
}

/// Why a query has no answer.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The ledger has no party or proposition with this id.
    #[error("unknown {kind} `{id}`")]
    Unknown {
        /// Party or proposition.
        kind: IdKind,
        /// The id asked for.
        id: String,
        /// The known ids closest to it (up to three, closest first), for a "did you mean".
        near: Vec<String>,
    },
    /// The id exists, but its registration or opening lies past the filter's transaction-time bound.
    #[error("unknown {kind} `{id}` {at}: it was recorded at seq {recorded_seq}")]
    NotYetRecorded {
        /// Party or proposition.
        kind: IdKind,
        /// The id asked for.
        id: String,
        /// The bound the filter sets.
        at: NotYetAt,
        /// The seq of its registration or opening.
        recorded_seq: u64,
    },
    /// Reading the ledger failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks the ledger has proposition `id`, returning it as opened; an unknown
/// id is refused with the closest known ones for a "did you mean".
pub fn known_proposition(
    reads: &(impl LedgerReads + ?Sized),
    id: &PropositionId,
) -> Result<Proposition, QueryError> {
    match reads.opened_proposition(id)? {
        Some(p) => Ok(p),
        None => {
            let ids = reads.proposition_ids().unwrap_or_default();
            Err(unknown(
                IdKind::Proposition,
                id.as_str(),
                ids.iter().map(|i| i.as_str()),
            ))
        }
    }
}

/// Checks the ledger has party `id`.
fn known_party(reads: &(impl LedgerReads + ?Sized), id: &PartyId) -> Result<(), QueryError> {
    if reads.has_party(id)? {
        return Ok(());
    }
    let ids = reads.party_ids().unwrap_or_default();
    Err(unknown(
        IdKind::Party,
        id.as_str(),
        ids.iter().map(|i| i.as_str()),
    ))
}

fn unknown<'a>(
    kind: IdKind,
    id: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> QueryError {
    QueryError::Unknown {
        kind,
        id: id.to_owned(),
        near: closest(id, candidates)
            .into_iter()
            .map(str::to_owned)
            .collect(),
    }
}

/// Refuses a known id whose stream (a party's registration, a proposition's
/// opening) the filter does not see yet: at `at_seq` 6 a proposition opened at
/// seq 7 is as unknown as one never opened.
fn visible_under(
    reads: &(impl LedgerReads + ?Sized),
    stream: StreamId,
    filter: &Filter,
) -> Result<(), QueryError> {
    if filter.known_at.is_none() && filter.at_seq.is_none() {
        return Ok(());
    }
    match reads.stream_origin_record(&stream)? {
        Some(rec) if !filter.admits_record(&rec) => {
            let (kind, id) = match &stream {
                StreamId::Party(id) => (IdKind::Party, id.to_string()),
                StreamId::Proposition(id) => (IdKind::Proposition, id.to_string()),
            };
            let at = match filter.at_seq {
                Some(seq) if rec.seq > seq => NotYetAt::Seq(seq),
                _ => NotYetAt::KnownAt,
            };
            Err(QueryError::NotYetRecorded {
                kind,
                id,
                at,
                recorded_seq: rec.seq,
            })
        }
        _ => Ok(()),
    }
}

/// One proposition's positions and the contradictions among them.
#[derive(Debug, Clone, PartialEq)]
pub struct PropositionView {
    /// The proposition.
    pub proposition: PropositionId,
    /// The positions asked for (only the party's, when one is given), ordered by party.
    pub positions: Vec<Position>,
    /// Contradictions among every party's positions, ordered by pair.
    pub contradictions: Vec<Contradiction>,
}

/// Current positions per proposition, under a time filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PositionsQuery {
    /// Only this proposition (which must be known under the filter).
    pub proposition: Option<PropositionId>,
    /// Only this party's positions (which must be known under the filter); contradictions still count every party.
    pub party: Option<PartyId>,
    /// Valid time, transaction time and log position.
    pub filter: Filter,
}

impl Query for PositionsQuery {
    /// One view per proposition the filter admits (or the one asked for), in id order, including propositions nobody has a position on.
    type Answer = Vec<PropositionView>;

    fn run(&self, reads: &(impl LedgerReads + ?Sized)) -> Result<Self::Answer, QueryError> {
        if let Some(id) = &self.proposition {
            known_proposition(reads, id)?;
        }
        if let Some(id) = &self.party {
            known_party(reads, id)?;
        }
        if let Some(id) = &self.proposition {
            visible_under(reads, StreamId::Proposition(id.clone()), &self.filter)?;
        }
        if let Some(id) = &self.party {
            visible_under(reads, StreamId::Party(id.clone()), &self.filter)?;
        }
        proposition_views(
            reads,
            self.proposition.as_ref(),
            self.party.as_ref(),
            self.filter,
        )
    }
}

/// Positions per proposition (all, or `only`) under `filter`, grouped, with their contradictions.
fn proposition_views(
    reads: &(impl LedgerReads + ?Sized),
    only: Option<&PropositionId>,
    party: Option<&PartyId>,
    filter: Filter,
) -> Result<Vec<PropositionView>, QueryError> {
    let at = reads.positions_under(only, filter)?;
    let mut groups: BTreeMap<PropositionId, Vec<Position>> = at
        .propositions
        .into_iter()
        .map(|id| (id, Vec::new()))
        .collect();
    for p in at.positions {
        groups.entry(p.proposition.clone()).or_default().push(p);
    }
    Ok(groups
        .into_iter()
        .map(|(proposition, mut positions)| {
            positions.sort_by(|a, b| a.party.cmp(&b.party));
            let contradictions = contradictions(&positions);
            if let Some(party) = party {
                positions.retain(|p| &p.party == party);
            }
            PropositionView {
                proposition,
                positions,
                contradictions,
            }
        })
        .collect())
}

/// Every contradiction between parties, under a time filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContradictionsQuery {
    /// Valid time, transaction time and log position.
    pub filter: Filter,
}

impl Query for ContradictionsQuery {
    /// Ordered by proposition, then pair.
    type Answer = Vec<Contradiction>;

    fn run(&self, reads: &(impl LedgerReads + ?Sized)) -> Result<Self::Answer, QueryError> {
        Ok(proposition_views(reads, None, None, self.filter)?
            .into_iter()
            .flat_map(|v| v.contradictions)
            .collect())
    }
}

/// One proposition's statements (one party's, if given), folded from its own stream.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryQuery {
    /// The proposition (which must be known).
    pub proposition: PropositionId,
    /// Only this party's statements (which must be known).
    pub party: Option<PartyId>,
    /// Valid time, transaction time and log position.
    pub filter: Filter,
}

impl Query for HistoryQuery {
    /// In said-at order, retracted statements marked.
    type Answer = Vec<HistoryEntry>;

    fn run(&self, reads: &(impl LedgerReads + ?Sized)) -> Result<Self::Answer, QueryError> {
        known_proposition(reads, &self.proposition)?;
        if let Some(id) = &self.party {
            known_party(reads, id)?;
        }
        visible_under(
            reads,
            StreamId::Proposition(self.proposition.clone()),
            &self.filter,
        )?;
        if let Some(id) = &self.party {
            visible_under(reads, StreamId::Party(id.clone()), &self.filter)?;
        }
        history(reads, &self.proposition, self.party.as_ref(), self.filter)
    }
}

fn history(
    reads: &(impl LedgerReads + ?Sized),
    proposition: &PropositionId,
    party: Option<&PartyId>,
    filter: Filter,
) -> Result<Vec<HistoryEntry>, QueryError> {
    let mut fold = HistoryFold::new(proposition.clone(), party.cloned(), filter);
    reads.each_record_bearing_on(Some(proposition), filter, &mut |rec| fold.apply(rec))?;
    Ok(fold.finish())
}

/// The scores of resolved propositions and the party leaderboard, under a time filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScoresQuery {
    /// Valid time, transaction time and log position.
    pub filter: Filter,
}

impl Query for ScoresQuery {
    /// Per resolved proposition and per party, as docs/scoring.md defines them.
    type Answer = ScoreReport;

    fn run(&self, reads: &(impl LedgerReads + ?Sized)) -> Result<Self::Answer, QueryError> {
        let mut fold = ScoresFold::new(self.filter);
        reads.each_record_bearing_on(None, self.filter, &mut |rec| fold.apply(rec))?;
        Ok(fold.finish())
    }
}

/// How often each stance band's statements came true, under a time filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CalibrationQuery {
    /// Valid time, transaction time and log position.
    pub filter: Filter,
}

impl Query for CalibrationQuery {
    /// One row per band.
    type Answer = Vec<CalibrationRow>;

    fn run(&self, reads: &(impl LedgerReads + ?Sized)) -> Result<Self::Answer, QueryError> {
        let mut fold = CalibrationFold::new(self.filter);
        reads.each_record_bearing_on(None, self.filter, &mut |rec| fold.apply(rec))?;
        Ok(fold.finish())
    }
}

/// What the ledger holds, from its indexes (never a pass over the records).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatsQuery;

impl Query for StatsQuery {
    /// Counts by event type, the head and the bytes on disk.
    type Answer = LedgerStats;

    fn run(&self, reads: &(impl LedgerReads + ?Sized)) -> Result<Self::Answer, QueryError> {
        Ok(reads.ledger_stats()?)
    }
}

/// Whether answers under a time filter are folded from the log only because
/// the kept views are behind it (an interrupted rebuild): still right, but
/// slower, until the views are rebuilt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StaleViewsQuery {
    /// Valid time, transaction time and log position.
    pub filter: Filter,
}

impl Query for StaleViewsQuery {
    /// True when the filter asks for what the kept views hold (no time filter) and they are stale.
    type Answer = bool;

    fn run(&self, reads: &(impl LedgerReads + ?Sized)) -> Result<Self::Answer, QueryError> {
        Ok(self.filter.is_unfiltered() && !reads.kept_views_current()?)
    }
}

/// One proposition's credence chart, under a time filter.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartQuery {
    /// The proposition (which must be known under the filter).
    pub proposition: PropositionId,
    /// Valid time, transaction time and log position.
    pub filter: Filter,
}

impl Query for ChartQuery {
    /// What `onrecord_report::credence_chart_svg` draws.
    type Answer = ChartInput;

    fn run(&self, reads: &(impl LedgerReads + ?Sized)) -> Result<Self::Answer, QueryError> {
        let proposition = known_proposition(reads, &self.proposition)?;
        visible_under(
            reads,
            StreamId::Proposition(self.proposition.clone()),
            &self.filter,
        )?;
        chart_input(reads, &proposition, self.filter)
    }
}

/// The chart of one proposition under `filter`, folded from its own stream.
fn chart_input(
    reads: &(impl LedgerReads + ?Sized),
    proposition: &Proposition,
    filter: Filter,
) -> Result<ChartInput, QueryError> {
    let history = history(reads, &proposition.id, None, filter)?;
    let resolution = known_resolution(reads, &proposition.id, &filter)?;
    Ok(ChartInput::from_history(proposition, &history, resolution))
}

/// The resolution of `id` as the chart marks it, if `filter` knows it (recorded
/// within `known_at`/`at_seq` and already fact by `as_of`, as for scores).
fn known_resolution(
    reads: &(impl LedgerReads + ?Sized),
    id: &PropositionId,
    filter: &Filter,
) -> Result<Option<ChartResolution>, QueryError> {
    let Some(rec) = reads.resolution_record(id)? else {
        return Ok(None);
    };
    match &rec.event {
        Event::PropositionResolved(r)
            if filter.admits_record(&rec) && filter.admits_said_at(&r.resolved_at) =>
        {
            Ok(Some(ChartResolution {
                resolved_at: r.resolved_at,
                outcome: r.outcome,
            }))
        }
        _ => Ok(None),
    }
}

/// Everything the report shows (every proposition with its positions,
/// contradictions, chart, scores and statement history; the parties' names;
/// the leaderboard; calibration), under a time filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportQuery {
    /// Valid time, transaction time and log position.
    pub filter: Filter,
    /// The line under the report's title.
    pub caption: Option<String>,
}

impl Query for ReportQuery {
    /// What `onrecord_report::report_html` renders.
    type Answer = ReportInput;

    fn run(&self, reads: &(impl LedgerReads + ?Sized)) -> Result<Self::Answer, QueryError> {
        let filter = self.filter;
        let views = proposition_views(reads, None, None, filter)?;
        // One pass over the log for both scores and calibration.
        let mut scores = ScoresFold::new(filter);
        let mut calibration = CalibrationFold::new(filter);
        reads.each_record_bearing_on(None, filter, &mut |rec| {
            scores.apply(rec);
            calibration.apply(rec);
        })?;
        let (scores, calibration) = (scores.finish(), calibration.finish());
        let mut propositions = Vec::with_capacity(views.len());
        for v in views {
            let Some(proposition) = reads.opened_proposition(&v.proposition)? else {
                continue;
            };
            // One fold of the proposition's stream for both its chart and its history.
            let history = history(reads, &proposition.id, None, filter)?;
            let resolution = known_resolution(reads, &proposition.id, &filter)?;
            let chart = ChartInput::from_history(&proposition, &history, resolution);
            propositions.push(PropositionSection::new(
                proposition,
                &v.positions,
                &v.contradictions,
                chart,
                history,
                &scores,
            ));
        }
        let party_names = reads
            .registered_parties()?
            .into_iter()
            .map(|p| (p.id, p.name))
            .collect();
        Ok(ReportInput {
            caption: self.caption.clone(),
            propositions,
            leaderboard: scores.parties,
            calibration,
            party_names,
        })
    }
}
