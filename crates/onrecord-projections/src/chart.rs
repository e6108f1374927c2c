//! The read model of a credence chart: each party's counted statements on one
//! proposition, in said order, with the resolution and the time axis's ends,
//! built from a [`HistoryFold`](crate::HistoryFold)'s entries. Pure: what
//! `onrecord-report` draws, with no drawing here.

use onrecord_core::{Outcome, PartyId, Precision, Proposition, PropositionId, Stance, When};

use crate::HistoryEntry;

/// Microseconds in a day.
const DAY: i64 = 86_400_000_000;

/// Everything a credence chart shows, for one proposition.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartInput {
    /// The proposition charted.
    pub proposition: PropositionId,
    /// Its text, used as the chart's title.
    pub text: String,
    /// One series per party, drawn in this order.
    pub parties: Vec<PartySeries>,
    /// The outcome, once known.
    pub resolution: Option<ChartResolution>,
    /// The left end of the time axis.
    pub from: When,
    /// The right end of the time axis.
    pub to: When,
}

/// One party's counted statements, in said order (a party with none draws no line).
#[derive(Debug, Clone, PartialEq)]
pub struct PartySeries {
    /// Whose credence the line shows.
    pub party: PartyId,
    /// Its counted statements (not retracted, not declined), in said order.
    pub points: Vec<ChartPoint>,
}

/// One counted statement on the chart.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartPoint {
    /// When it was said.
    pub said_at: When,
    /// Its credence, 0-1.
    pub credence: f64,
    /// Who said it.
    pub speaker: PartyId,
    /// The words, verbatim.
    pub quote: Option<String>,
}

/// How and when a proposition resolved, as the chart marks it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChartResolution {
    /// When the outcome became fact.
    pub resolved_at: When,
    /// Whether it happened.
    pub outcome: Outcome,
}

impl ChartInput {
    /// A chart of `history` (a `HistoryFold`'s output): retracted and declined statements are left out, parties ordered by id, and the time axis spans the statements, the window and the resolution with a day's margin.
    pub fn from_history(
        proposition: &Proposition,
        history: &[HistoryEntry],
        resolution: Option<ChartResolution>,
    ) -> Self {
        let mut parties: Vec<PartySeries> = Vec::new();
        let mut counted: Vec<&HistoryEntry> = history
            .iter()
            .filter(|e| !e.retracted && e.stance != Stance::Declined && e.credence.is_some())
            .collect();
        counted.sort_by(|a, b| {
            (&a.party, a.said_at.micros(), a.seq).cmp(&(&b.party, b.said_at.micros(), b.seq))
        });
        for e in counted {
            let point = ChartPoint {
                said_at: e.said_at,
                credence: e.credence.unwrap_or_default(),
                speaker: e.speaker.clone(),
                quote: e.quote.clone(),
            };
            match parties.last_mut() {
                Some(s) if s.party == e.party => s.points.push(point),
                _ => parties.push(PartySeries {
                    party: e.party.clone(),
                    points: vec![point],
                }),
            }
        }
        let times = parties
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.said_at))
            .chain(proposition.window.iter().flat_map(|w| [w.from, w.to]))
            .chain(resolution.map(|r| r.resolved_at));
        let (from, to) = default_range(times);
        Self {
            proposition: proposition.id.clone(),
            text: proposition.text.clone(),
            parties,
            resolution,
            from,
            to,
        }
    }
}

/// The day before the earliest time to the day after the latest (today's epoch day 0 if none).
fn default_range(times: impl Iterator<Item = When>) -> (When, When) {
    let (lo, hi) = times.fold((i64::MAX, i64::MIN), |(lo, hi), t| {
        (lo.min(t.epoch_day()), hi.max(t.epoch_day()))
    });
    let (lo, hi) = if lo > hi { (0, 0) } else { (lo, hi) };
    let day = |d: i64| When::from_parts(d * DAY, Precision::Day);
    (day(lo - 1), day(hi + 2))
}
