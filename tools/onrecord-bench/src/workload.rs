//! The seeded synthetic workload: parties (some speaking for others),
//! propositions, Zipf-skewed statements with realistic quotes, ~1 %
//! retractions of earlier statements, and resolutions at the end.
//!
//! Everything is a pure function of [`WorkloadConfig`]: the same seed and size
//! give the same drafts, byte for byte, on every machine.

use onrecord_core::{
    Draft, EventId, Outcome, Party, PartyId, PartyKind, Precision, Proposition, PropositionId,
    PropositionResolved, Stance, StatementDraft, StatementRetracted, When, Window,
};

use crate::rng::{Rng, Zipf};

/// A retraction names a statement at least this many events earlier, so that
/// with batches of this size the statement's id is always known by then.
pub const RETRACT_MIN_DISTANCE: usize = 1_000;
/// The share of body events that are retractions (when an old enough statement exists).
pub const RETRACTION_RATE: f64 = 0.01;
/// The Zipf exponent for both propositions and parties.
pub const ZIPF_EXPONENT: f64 = 1.0;
/// The shortest quote, in characters.
pub const QUOTE_MIN: usize = 20;
/// The longest quote, in characters.
pub const QUOTE_MAX: usize = 300;

const MICROS_PER_DAY: i64 = 86_400_000_000;
/// 2015-01-01, in days since the Unix epoch.
const FIRST_DAY: i64 = 16_436;
/// Statements are spread over ten years.
const SPAN_DAYS: i64 = 3_650;

const WORDS: &[&str] = &[
    "we",
    "will",
    "not",
    "rule",
    "out",
    "a",
    "meeting",
    "the",
    "talks",
    "are",
    "progressing",
    "there",
    "is",
    "no",
    "chance",
    "of",
    "agreement",
    "before",
    "summit",
    "our",
    "position",
    "remains",
    "unchanged",
    "it",
    "is",
    "highly",
    "likely",
    "that",
    "sanctions",
    "be",
    "lifted",
    "president",
    "expects",
    "to",
    "sign",
    "deal",
    "in",
    "coming",
    "weeks",
    "ministers",
    "have",
    "discussed",
    "all",
    "options",
    "including",
    "withdrawal",
    "ceasefire",
    "holds",
    "firm",
    "negotiations",
    "stalled",
    "frankly",
    "under",
    "any",
    "circumstances",
    "possible",
    "date",
    "has",
    "been",
    "set",
    "for",
    "next",
    "round",
    "delegation",
    "arrive",
    "on",
    "monday",
    "cannot",
    "confirm",
    "reports",
    "this",
    "stage",
    "question",
    "premature",
    "very",
];

const REASONS: &[&str] = &[
    "misquoted",
    "misattributed",
    "transcription error",
    "source withdrew the report",
];

/// How big a workload to make, and from which seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkloadConfig {
    /// The seed every random choice derives from.
    pub seed: u64,
    /// The total number of events in the log (setup, statements, retractions, resolutions).
    pub events: usize,
    /// How many single appends to make after the log (statements on open propositions).
    pub singles: usize,
}

impl WorkloadConfig {
    /// The number of parties for this size: N / 2,000, within 10..=1,000.
    pub fn parties(&self) -> usize {
        (self.events / 2_000).clamp(10, 1_000)
    }

    /// The number of propositions for this size: N / 100, within 20..=10,000.
    pub fn propositions(&self) -> usize {
        (self.events / 100).clamp(20, 10_000)
    }

    /// How many propositions resolve at the end: half of them.
    pub fn resolutions(&self) -> usize {
        self.propositions() / 2
    }
}

/// One generated event: the draft to record, the id the generator gave it
/// (used by the baselines' records), and for a retraction the index of the
/// statement it withdraws.
#[derive(Debug, Clone, PartialEq)]
pub struct GenEvent {
    /// The generator's id for this event.
    pub id: EventId,
    /// What to record (a retraction names the generator's id of its statement).
    pub draft: Draft,
    /// For a retraction, the index in [`Workload::events`] of the retracted statement.
    pub retracts: Option<usize>,
}

/// A generated workload.
#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    /// What it was made from.
    pub config: WorkloadConfig,
    /// The log, in append order.
    pub events: Vec<GenEvent>,
    /// Statements to append one at a time after the log.
    pub singles: Vec<GenEvent>,
    /// How many parties were registered.
    pub parties: usize,
    /// How many propositions were opened.
    pub propositions: usize,
    /// How many statements the log holds.
    pub statements: usize,
    /// How many retractions the log holds.
    pub retractions: usize,
    /// How many resolutions the log holds.
    pub resolutions: usize,
    /// The proposition with the most statements (Zipf rank 0): what the queries ask about.
    pub hot_proposition: PropositionId,
    /// A valid time halfway through the statements: the `as_of` the queries use.
    pub as_of_midpoint: When,
}

fn event_id(rng: &mut Rng) -> EventId {
    let mut b = rng.bytes16();
    b[6] = (b[6] & 0x0f) | 0x40; // version 4
    b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
    EventId::from_bytes(b)
}

fn words(rng: &mut Rng, len: usize) -> String {
    let mut s = String::with_capacity(len + 16);
    while s.len() < len {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(WORDS[rng.below(WORDS.len() as u64) as usize]);
    }
    s.truncate(len);
    if s.ends_with(' ') {
        s.pop();
        s.push('.');
    }
    s
}

/// A quote of 20-300 characters, most of them short (mean about 110).
fn quote(rng: &mut Rng) -> String {
    let u = rng.f64();
    let len = QUOTE_MIN + ((QUOTE_MAX - QUOTE_MIN) as f64 * u * u) as usize;
    let mut q = words(rng, len);
    if let Some(first) = q.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    q
}

fn day(d: i64) -> When {
    When::from_parts(d * MICROS_PER_DAY, Precision::Day)
}

fn stance_and_credence(rng: &mut Rng) -> (Stance, Option<f64>) {
    let stance = Stance::ALL[rng.below(Stance::ALL.len() as u64) as usize];
    let credence = match stance.band() {
        Some((lo, hi)) if rng.chance(0.3) => {
            let c = lo + (hi - lo) * rng.f64();
            Some(((c * 1000.0).round() / 1000.0).clamp(lo, hi))
        }
        _ => None,
    };
    (stance, credence)
}

struct Cast {
    ids: Vec<PartyId>,
    speaks_for: Vec<Option<usize>>,
    zipf: Zipf,
    by_rank: Vec<usize>,
}

impl Cast {
    /// A statement's party and speaker as a user would give them.
    fn pick(&self, rng: &mut Rng) -> (Option<PartyId>, Option<PartyId>) {
        let who = self.by_rank[self.zipf.sample(rng)];
        match self.speaks_for[who] {
            Some(boss) if rng.chance(0.3) => {
                (Some(self.ids[boss].clone()), Some(self.ids[who].clone()))
            }
            Some(_) => (None, Some(self.ids[who].clone())),
            None => (Some(self.ids[who].clone()), None),
        }
    }
}

fn statement(
    rng: &mut Rng,
    proposition: PropositionId,
    cast: &Cast,
    said_day: i64,
) -> StatementDraft {
    let (party, speaker) = cast.pick(rng);
    let (stance, credence) = stance_and_credence(rng);
    let said_at = if rng.chance(0.15) {
        When::instant(said_day * MICROS_PER_DAY + rng.below(MICROS_PER_DAY as u64) as i64)
    } else {
        day(said_day)
    };
    let quote = rng.chance(0.9).then(|| quote(rng));
    let source = rng.chance(0.7).then(|| {
        format!(
            "https://news.example/{}/{:06}",
            1970 + said_day / 365,
            rng.below(1_000_000)
        )
    });
    let qualifiers = match rng.below(10) {
        0 | 1 => vec!["brief".to_owned()],
        2 => vec!["off-record".to_owned()],
        _ => vec![],
    };
    StatementDraft {
        proposition,
        party,
        speaker,
        stance,
        credence,
        said_at,
        quote,
        source,
        qualifiers,
    }
}

impl Workload {
    /// Generates the workload for `config`; panics if `events` is too small to hold its setup.
    pub fn generate(config: WorkloadConfig) -> Self {
        let mut rng = Rng::new(config.seed);
        let n_parties = config.parties();
        let n_props = config.propositions();
        let n_resolutions = config.resolutions();
        let setup = n_parties + n_props;
        assert!(
            config.events > setup + n_resolutions,
            "{} events cannot hold {n_parties} parties, {n_props} propositions and {n_resolutions} resolutions",
            config.events
        );
        let body = config.events - setup - n_resolutions;
        let mut events = Vec::with_capacity(config.events);

        // Parties: governments and organizations first, then persons, some of
        // whom are spokespeople for one of the former.
        let n_bosses = (n_parties * 3 / 10).max(2);
        let mut ids: Vec<PartyId> = Vec::with_capacity(n_parties);
        let mut speaks_for = Vec::with_capacity(n_parties);
        for i in 0..n_parties {
            let (kind, prefix, label) = if i < n_bosses / 3 {
                (PartyKind::Government, "gov", "Government")
            } else if i < n_bosses {
                (PartyKind::Organization, "org", "Organization")
            } else {
                (PartyKind::Person, "person", "Person")
            };
            let boss = (kind == PartyKind::Person && rng.chance(0.4))
                .then(|| rng.below(n_bosses as u64) as usize);
            let id = PartyId::new(&format!("{prefix}-{i}")).expect("a valid slug");
            events.push(GenEvent {
                id: event_id(&mut rng),
                draft: Draft::Party(Party {
                    id: id.clone(),
                    name: format!("{label} {i}"),
                    kind,
                    speaks_for: boss.map(|b| ids[b].clone()),
                    aliases: Vec::new(),
                }),
                retracts: None,
            });
            ids.push(id);
            speaks_for.push(boss);
        }
        let mut by_rank: Vec<usize> = (0..n_parties).collect();
        rng.shuffle(&mut by_rank);
        let cast = Cast {
            ids,
            speaks_for,
            zipf: Zipf::new(n_parties, ZIPF_EXPONENT),
            by_rank,
        };

        // Propositions.
        let mut props = Vec::with_capacity(n_props);
        for i in 0..n_props {
            let id = PropositionId::new(&format!("prop-{i}")).expect("a valid slug");
            let len = rng.range(40, 160) as usize;
            let text = format!("Will {}?", words(&mut rng, len));
            let criteria = rng
                .chance(0.5)
                .then(|| format!("Reported by two outlets: {}", words(&mut rng, 40)));
            let window = rng.chance(0.5).then(|| {
                let from = FIRST_DAY + rng.below(SPAN_DAYS as u64) as i64;
                let to = from + rng.range(0, 365) as i64;
                Window::new(day(from), day(to)).expect("from <= to")
            });
            events.push(GenEvent {
                id: event_id(&mut rng),
                draft: Draft::Proposition(Proposition {
                    id: id.clone(),
                    text,
                    criteria,
                    window,
                }),
                retracts: None,
            });
            props.push(id);
        }
        let mut prop_by_rank: Vec<usize> = (0..n_props).collect();
        rng.shuffle(&mut prop_by_rank);
        let prop_zipf = Zipf::new(n_props, ZIPF_EXPONENT);

        // Statements and retractions.
        let mut statement_idx: Vec<usize> = Vec::with_capacity(body);
        let mut retracted: Vec<bool> = Vec::with_capacity(body);
        let (mut n_statements, mut n_retractions) = (0, 0);
        for j in 0..body {
            let index = events.len();
            let said_day = FIRST_DAY + (j as i64 * SPAN_DAYS) / body as i64;
            // Statements old enough to retract: those at least RETRACT_MIN_DISTANCE back.
            let eligible = statement_idx.partition_point(|&s| s + RETRACT_MIN_DISTANCE <= index);
            let target = (eligible > 0 && rng.chance(RETRACTION_RATE))
                .then(|| {
                    (0..8)
                        .map(|_| rng.below(eligible as u64) as usize)
                        .find(|&k| !retracted[k])
                })
                .flatten();
            let (draft, retracts) = match target {
                Some(k) => {
                    retracted[k] = true;
                    n_retractions += 1;
                    let target_event = statement_idx[k];
                    let reason = REASONS[rng.below(REASONS.len() as u64) as usize].to_owned();
                    let draft = Draft::Retraction(StatementRetracted {
                        statement: events[target_event].id,
                        reason,
                    });
                    (draft, Some(target_event))
                }
                None => {
                    let p = props[prop_by_rank[prop_zipf.sample(&mut rng)]].clone();
                    let jitter = rng.below(30) as i64;
                    let s = statement(&mut rng, p, &cast, said_day - jitter);
                    statement_idx.push(index);
                    retracted.push(false);
                    n_statements += 1;
                    (Draft::Statement(s), None)
                }
            };
            events.push(GenEvent {
                id: event_id(&mut rng),
                draft,
                retracts,
            });
        }

        // Resolutions: a random half of the propositions, never the hot one.
        let hot = prop_by_rank[0];
        let mut order: Vec<usize> = (0..n_props).filter(|&p| p != hot).collect();
        rng.shuffle(&mut order);
        let (resolved, open) = order.split_at(n_resolutions);
        for &p in resolved {
            let outcome = if rng.chance(0.5) {
                Outcome::Happened
            } else {
                Outcome::DidNotHappen
            };
            events.push(GenEvent {
                id: event_id(&mut rng),
                draft: Draft::Resolution(PropositionResolved {
                    proposition: props[p].clone(),
                    outcome,
                    resolved_at: day(FIRST_DAY + SPAN_DAYS + rng.below(30) as i64),
                    source: Some(format!("https://news.example/outcome/{p}")),
                    note: None,
                }),
                retracts: None,
            });
        }

        // Singles: statements on propositions still open (the hot one and the unresolved half).
        let mut open: Vec<usize> = open.to_vec();
        open.insert(0, hot);
        let open_zipf = Zipf::new(open.len(), ZIPF_EXPONENT);
        let singles = (0..config.singles)
            .map(|_| {
                let p = props[open[open_zipf.sample(&mut rng)]].clone();
                let s = statement(&mut rng, p, &cast, FIRST_DAY + SPAN_DAYS);
                GenEvent {
                    id: event_id(&mut rng),
                    draft: Draft::Statement(s),
                    retracts: None,
                }
            })
            .collect();

        debug_assert_eq!(events.len(), config.events);
        Self {
            config,
            events,
            singles,
            parties: n_parties,
            propositions: n_props,
            statements: n_statements,
            retractions: n_retractions,
            resolutions: n_resolutions,
            hot_proposition: props[hot].clone(),
            as_of_midpoint: day(FIRST_DAY + SPAN_DAYS / 2),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

    fn cfg(seed: u64, events: usize) -> WorkloadConfig {
        WorkloadConfig {
            seed,
            events,
            singles: 50,
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_workload_and_another_seed_another() {
        let a = Workload::generate(cfg(7, 5_000));
        let b = Workload::generate(cfg(7, 5_000));
        let c = Workload::generate(cfg(8, 5_000));
        assert_eq!(a, b);
        assert_ne!(a.events, c.events);
        assert_eq!(a.events.len(), 5_000);
        assert_eq!(a.singles.len(), 50);
        assert_eq!(
            a.parties + a.propositions + a.statements + a.retractions + a.resolutions,
            5_000
        );
    }

    #[test]
    fn propositions_and_parties_are_zipf_skewed() {
        let w = Workload::generate(cfg(1, 50_000));
        let mut per_prop: HashMap<&PropositionId, usize> = HashMap::new();
        let mut per_speaker: HashMap<&PartyId, usize> = HashMap::new();
        for ev in &w.events {
            if let Draft::Statement(s) = &ev.draft {
                *per_prop.entry(&s.proposition).or_default() += 1;
                let who = s.speaker.as_ref().or(s.party.as_ref()).unwrap();
                *per_speaker.entry(who).or_default() += 1;
            }
        }
        let top_share = |mut v: Vec<usize>, n: usize| {
            v.sort_unstable_by(|a, b| b.cmp(a));
            v.iter().take(n).sum::<usize>() as f64 / w.statements as f64
        };
        // 500 propositions: uniform would give the top 10 % a tenth; Zipf(1) about 55 %.
        assert_eq!(w.propositions, 500);
        let share = top_share(per_prop.values().copied().collect(), 50);
        assert!(share > 0.45, "top 10 % of propositions hold {share}");
        // The hottest proposition is the one the queries ask about.
        let hottest = per_prop.iter().max_by_key(|(_, n)| **n).unwrap().0;
        assert_eq!(**hottest, w.hot_proposition);
        // 25 parties: the top 3 speak far more than 3/25 of the time.
        let share = top_share(per_speaker.values().copied().collect(), 3);
        assert!(share > 0.3, "top 3 speakers hold {share}");
    }

    #[test]
    fn retractions_name_earlier_statements_once_each_and_are_about_one_percent() {
        let w = Workload::generate(cfg(3, 50_000));
        let mut seen = HashSet::new();
        for (i, ev) in w.events.iter().enumerate() {
            let Draft::Retraction(r) = &ev.draft else {
                assert!(ev.retracts.is_none());
                continue;
            };
            let target = ev.retracts.expect("a retraction knows its statement");
            assert!(
                target + RETRACT_MIN_DISTANCE <= i,
                "{target} is too close to {i}"
            );
            assert!(matches!(w.events[target].draft, Draft::Statement(_)));
            assert_eq!(r.statement, w.events[target].id);
            assert!(seen.insert(target), "statement {target} retracted twice");
        }
        assert_eq!(seen.len(), w.retractions);
        let rate = w.retractions as f64 / w.events.len() as f64;
        assert!((0.005..0.015).contains(&rate), "retraction rate {rate}");
    }

    #[test]
    fn quotes_are_20_to_300_characters_and_resolutions_come_last() {
        let w = Workload::generate(cfg(5, 20_000));
        let mut lens = Vec::new();
        for ev in w.events.iter().chain(&w.singles) {
            if let Draft::Statement(StatementDraft { quote: Some(q), .. }) = &ev.draft {
                lens.push(q.chars().count());
            }
        }
        assert!(lens.iter().all(|l| (QUOTE_MIN..=QUOTE_MAX).contains(l)));
        let mean = lens.iter().sum::<usize>() as f64 / lens.len() as f64;
        assert!((80.0..160.0).contains(&mean), "mean quote length {mean}");
        assert!(lens.iter().any(|l| *l > 250));
        let first_resolution = w
            .events
            .iter()
            .position(|e| matches!(e.draft, Draft::Resolution(_)))
            .unwrap();
        assert_eq!(first_resolution, w.events.len() - w.resolutions);
        assert!(
            w.events[first_resolution..]
                .iter()
                .all(|e| matches!(e.draft, Draft::Resolution(_)))
        );
    }
}
