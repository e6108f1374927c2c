//! Scores: how well each party's stated credences anticipated the outcomes of
//! resolved propositions (final Brier, mean daily Brier, final log score), per
//! proposition and totalled per party. The conventions are spelled out in
//! `docs/scoring.md`.
//!
//! Pure: [`ScoresFold`] sees only the records handed to it; no I/O, no store,
//! no clock. Which statements count is defined once, in the private
//! `resolved` module shared with [`crate::calibration`].

use std::collections::BTreeMap;

use onrecord_core::{Outcome, PartyId, PropositionId, Recorded, When};

use crate::Filter;
use crate::resolved::{Counted, ResolvedFold};

/// Every score, per resolved proposition and per party; maps 1:1 onto the CLI's JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreReport {
    /// Each resolved proposition, ordered by id.
    pub propositions: Vec<PropositionScores>,
    /// Each scored party's totals, best (lowest) mean daily Brier first, ties by party id.
    pub parties: Vec<PartyTotals>,
}

/// The scores on one resolved proposition.
#[derive(Debug, Clone, PartialEq)]
pub struct PropositionScores {
    /// The proposition scored.
    pub proposition: PropositionId,
    /// How it resolved.
    pub outcome: Outcome,
    /// When the outcome became fact.
    pub resolved_at: When,
    /// Each party with a counted statement, ordered by party id (empty if none spoke in time).
    pub parties: Vec<PartyScore>,
}

/// One party's scores on one resolved proposition.
#[derive(Debug, Clone, PartialEq)]
pub struct PartyScore {
    /// Whose scores these are.
    pub party: PartyId,
    /// The credence of the party's latest counted statement (by said_at, then seq).
    pub final_credence: f64,
    /// (final credence − outcome)², 0 best, 1 worst.
    pub final_brier: f64,
    /// The mean over each UTC day from the first counted statement to the day before resolution of (credence held − outcome)².
    pub mean_daily_brier: f64,
    /// ln(final credence) if it happened, else ln(1 − final credence); 0 best.
    pub final_log: f64,
    /// How many of the party's statements counted.
    pub statements: u64,
}

/// One party's scores averaged over the resolved propositions it spoke on.
#[derive(Debug, Clone, PartialEq)]
pub struct PartyTotals {
    /// Whose totals these are.
    pub party: PartyId,
    /// How many resolved propositions the party has scores on.
    pub propositions: u64,
    /// The mean of its final Brier scores.
    pub mean_final_brier: f64,
    /// The mean of its mean daily Brier scores.
    pub mean_daily_brier: f64,
    /// The mean of its final log scores.
    pub mean_final_log: f64,
}

/// Folds records into a [`ScoreReport`]; see [`Filter`] for time travel.
///
/// `known_at` and `at_seq` drop whole records; `as_of` drops statements said
/// after it and resolutions that were not yet fact by it.
#[derive(Debug, Clone)]
pub struct ScoresFold {
    inner: ResolvedFold,
}

impl ScoresFold {
    /// A fold scoring what `filter` admits.
    pub fn new(filter: Filter) -> Self {
        Self {
            inner: ResolvedFold::new(filter),
        }
    }

    /// Takes in the next record of the log (records must come in seq order).
    pub fn apply(&mut self, rec: &Recorded) {
        self.inner.apply(rec);
    }

    /// The scores so far.
    pub fn report(&self) -> ScoreReport {
        let propositions: Vec<PropositionScores> = self
            .inner
            .resolved()
            .map(|(prop, res, parties)| PropositionScores {
                proposition: prop.clone(),
                outcome: res.outcome,
                resolved_at: res.resolved_at,
                parties: parties
                    .into_iter()
                    .map(|(party, counted)| {
                        score_party(party.clone(), &counted, res.outcome, res.resolved_at)
                    })
                    .collect(),
            })
            .collect();
        let parties = totals(&propositions);
        ScoreReport {
            propositions,
            parties,
        }
    }

    /// The scores after every record.
    pub fn finish(self) -> ScoreReport {
        self.report()
    }
}

/// Scores `records` in one go (a convenience over [`ScoresFold`]).
pub fn scores<'a>(records: impl IntoIterator<Item = &'a Recorded>, filter: Filter) -> ScoreReport {
    let mut fold = ScoresFold::new(filter);
    records.into_iter().for_each(|r| fold.apply(r));
    fold.finish()
}

/// Scores one party's counted statements (non-empty, in said order, all before `resolved_at`).
fn score_party(
    party: PartyId,
    counted: &[Counted],
    outcome: Outcome,
    resolved_at: When,
) -> PartyScore {
    let o = outcome.value();
    let sq = |c: f64| (c - o) * (c - o);
    let final_credence = counted.last().map_or(0.5, |c| c.credence);

    // The credence held at the end of each day: the last statement said that day.
    let mut by_day: Vec<(i64, f64)> = Vec::with_capacity(counted.len());
    for c in counted {
        let day = c.said_at.epoch_day();
        match by_day.last_mut() {
            Some((d, credence)) if *d == day => *credence = c.credence,
            _ => by_day.push((day, c.credence)),
        }
    }
    let first_day = by_day.first().map_or(0, |(d, _)| *d);
    // Up to the day before resolution's day, but at least the first day.
    let last_day = (resolved_at.epoch_day() - 1).max(first_day);
    let mut sum = 0.0;
    for (i, (start, credence)) in by_day.iter().enumerate() {
        let next = by_day.get(i + 1).map_or(last_day, |(d, _)| d - 1);
        let end = next.min(last_day);
        if end >= *start {
            sum += (end - start + 1) as f64 * sq(*credence);
        }
    }
    let days = (last_day - first_day + 1) as f64;

    PartyScore {
        party,
        final_credence,
        final_brier: sq(final_credence),
        mean_daily_brier: sum / days,
        final_log: match outcome {
            Outcome::Happened => final_credence.ln(),
            Outcome::DidNotHappen => (1.0 - final_credence).ln(),
        },
        statements: counted.len() as u64,
    }
}

/// Per-party means over propositions, best mean daily Brier first, ties by party id.
fn totals(propositions: &[PropositionScores]) -> Vec<PartyTotals> {
    let mut sums: BTreeMap<&PartyId, (u64, f64, f64, f64)> = BTreeMap::new();
    for s in propositions.iter().flat_map(|p| &p.parties) {
        let e = sums.entry(&s.party).or_default();
        e.0 += 1;
        e.1 += s.final_brier;
        e.2 += s.mean_daily_brier;
        e.3 += s.final_log;
    }
    let mut out: Vec<PartyTotals> = sums
        .into_iter()
        .map(|(party, (n, fb, db, fl))| {
            let k = n as f64;
            PartyTotals {
                party: party.clone(),
                propositions: n,
                mean_final_brier: fb / k,
                mean_daily_brier: db / k,
                mean_final_log: fl / k,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        a.mean_daily_brier
            .total_cmp(&b.mean_daily_brier)
            .then_with(|| a.party.cmp(&b.party))
    });
    out
}
