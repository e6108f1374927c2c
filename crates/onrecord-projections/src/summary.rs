//! The one definition of a party's current position on a proposition. Three
//! rules are written here once, and nowhere else:
//!
//! - **order**: a (proposition, party)'s statements are ordered by when each
//!   was said, then by its place in the log ([`order_key`]);
//! - **current**: of the statements that count (not retracted,
//!   [`StatementEntry::counts`]), the last in that order is current, and the
//!   position counts them ([`tally`]);
//! - **flip**: two successive sided statements in that order, unsided ones
//!   skipped, on different sides ([`is_flip`], [`Flips`]).
//!
//! Everything that makes a position goes through them: [`summarize`] (a
//! pair's entries in one go), [`extend`] (a statement that sorts last, the
//! common append), [`add_statement`] and [`retract_statement`] (the kept
//! views' incremental updates, given a statement's neighbours, which the
//! store looks up), and [`PositionsFold`](crate::PositionsFold), which walks
//! its compact entries with [`order_key`] and [`tally`].
//!
//! Everything here is a pure function of the values handed in: no I/O, no
//! store, no clock, and no filtering (callers pick the entries that count).

use onrecord_core::{EventId, PartyId, PropositionId, Side, Stance, StatementRecorded, When};

use crate::Position;

/// The key a pair's statements are ordered by: when it was said (micros),
/// then its place in the log: its seq, or anything that rises with seq (the
/// fold uses its entries' index). Of the statements that count, the one with
/// the greatest key is current.
pub fn order_key<T: Ord>(said_at_micros: i64, log_place: T) -> (i64, T) {
    (said_at_micros, log_place)
}

/// Whether two successive sided statements (in [`order_key`] order) flip:
/// both have a side and the sides differ.
pub fn is_flip(earlier: Option<Side>, later: Option<Side>) -> bool {
    matches!((earlier, later), (Some(a), Some(b)) if a != b)
}

/// The flips along a pair's counted statements in order: how many, and the
/// side of the last statement that had one (what the next one flips from).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flips {
    /// How many times successive sided statements changed side.
    pub count: u64,
    /// The side of the last sided statement counted so far.
    pub last_side: Option<Side>,
}

impl Flips {
    /// The flips after one more statement, on `side`, at the end; an unsided
    /// statement (even-chance, declined) flips nothing and is skipped.
    pub fn then(self, side: Option<Side>) -> Self {
        Flips {
            count: self.count + u64::from(is_flip(self.last_side, side)),
            last_side: side.or(self.last_side),
        }
    }

    /// The flips after a statement on `side` is counted in between its
    /// nearest sided neighbours (which it then separates).
    pub fn inserted(self, side: Side, neighbours: SidedNeighbours) -> Self {
        let SidedNeighbours { before, after } = neighbours;
        let made = u64::from(is_flip(before, Some(side))) + u64::from(is_flip(Some(side), after));
        Flips {
            count: (self.count + made).saturating_sub(u64::from(is_flip(before, after))),
            last_side: if after.is_none() {
                Some(side)
            } else {
                self.last_side
            },
        }
    }

    /// The flips after a statement on `side` is taken out from between its
    /// nearest sided neighbours (which then follow each other).
    pub fn removed(self, side: Side, neighbours: SidedNeighbours) -> Self {
        let SidedNeighbours { before, after } = neighbours;
        let lost = u64::from(is_flip(before, Some(side))) + u64::from(is_flip(Some(side), after));
        Flips {
            count: (self.count + u64::from(is_flip(before, after))).saturating_sub(lost),
            last_side: if after.is_none() {
                before
            } else {
                self.last_side
            },
        }
    }
}

/// The sides of the nearest sided statements that count on either side of
/// one statement, in its pair's order: all a flip count needs to take that
/// statement in or out in the middle.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SidedNeighbours {
    /// The side of the nearest sided counted statement before it, if any.
    pub before: Option<Side>,
    /// The side of the nearest sided counted statement after it, if any.
    pub after: Option<Side>,
}

/// What a pair's counted statements add up to: the current one, how many
/// count, and the flips along them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tally<T> {
    /// The last statement in order: the current one.
    pub current: T,
    /// How many statements count.
    pub statements: u64,
    /// The flips along them.
    pub flips: Flips,
}

/// Tallies a pair's counted statements, given in [`order_key`] order, each
/// with its side from `side_of`; `None` if there are none. The one walk
/// [`summarize`] and [`PositionsFold`](crate::PositionsFold) both make.
pub fn tally<T>(
    counted_in_order: impl IntoIterator<Item = T>,
    mut side_of: impl FnMut(&T) -> Option<Side>,
) -> Option<Tally<T>> {
    let mut tally: Option<Tally<T>> = None;
    for statement in counted_in_order {
        let side = side_of(&statement);
        tally = Some(match tally {
            None => Tally {
                current: statement,
                statements: 1,
                flips: Flips::default().then(side),
            },
            Some(t) => Tally {
                current: statement,
                statements: t.statements + 1,
                flips: t.flips.then(side),
            },
        });
    }
    tally
}

/// One statement as kept per (proposition, party), ordered by [`order_key`] of (said_at micros, seq).
#[derive(Debug, Clone, PartialEq)]
pub struct StatementEntry {
    /// The statement's place in the log.
    pub seq: u64,
    /// The statement's event id (what a retraction names).
    pub statement: EventId,
    /// When it was said (valid time).
    pub said_at: When,
    /// The likelihood band stated.
    pub stance: Stance,
    /// Its credence; `None` for declined.
    pub credence: Option<f64>,
    /// Who said it.
    pub speaker: PartyId,
    /// The words, verbatim.
    pub quote: Option<String>,
    /// Whether it has been retracted (retracted entries do not count).
    pub retracted: bool,
}

impl StatementEntry {
    /// The entry for a statement recorded at `seq` with event id `id`, not retracted.
    pub fn from_statement(seq: u64, id: EventId, s: &StatementRecorded) -> Self {
        Self {
            seq,
            statement: id,
            said_at: s.said_at,
            stance: s.stance,
            credence: s.credence,
            speaker: s.speaker.clone(),
            quote: s.quote.clone(),
            retracted: false,
        }
    }

    /// The key entries are ordered by: [`order_key`] of `(said_at micros, seq)`; later keys are more current.
    pub fn order_key(&self) -> (i64, u64) {
        order_key(self.said_at.micros(), self.seq)
    }

    /// Whether this statement counts towards its position: it is not retracted.
    pub fn counts(&self) -> bool {
        !self.retracted
    }

    /// The side of even this statement takes, if any (even-chance and declined take none).
    pub fn side(&self) -> Option<Side> {
        self.stance.side(self.credence)
    }
}

/// The kept summary of one (proposition, party): current statement, count, flips and the side of the last counted sided statement (for extending).
#[derive(Debug, Clone, PartialEq)]
pub struct PositionSummary {
    /// The current statement: the last counted entry in [`order_key`] order.
    pub current: StatementEntry,
    /// How many entries count (are not retracted).
    pub statements: u64,
    /// How many times successive sided credences changed side (low to high or back); see [`is_flip`].
    pub flips: u64,
    /// The side of the last counted statement that had one.
    pub last_side: Option<Side>,
}

impl PositionSummary {
    /// The position this summary stands for, on `proposition` for `party`.
    pub fn to_position(&self, proposition: PropositionId, party: PartyId) -> Position {
        let c = &self.current;
        Position {
            proposition,
            party,
            stance: c.stance,
            credence: c.credence,
            said_at: c.said_at,
            speaker: c.speaker.clone(),
            statement: c.statement,
            quote: c.quote.clone(),
            statements: self.statements,
            flips: self.flips,
        }
    }

    /// The flips this summary has counted.
    fn flip_count(&self) -> Flips {
        Flips {
            count: self.flips,
            last_side: self.last_side,
        }
    }

    /// Keeps `flips` as this summary's flip count.
    fn set_flips(&mut self, flips: Flips) {
        self.flips = flips.count;
        self.last_side = flips.last_side;
    }
}

/// Summarise entries given in (said_at, seq) order, skipping those that do not count; None if none count.
pub fn summarize<'a>(
    entries: impl IntoIterator<Item = &'a StatementEntry>,
) -> Option<PositionSummary> {
    let t = tally(
        entries.into_iter().filter(|e| e.counts()),
        |e: &&StatementEntry| e.side(),
    )?;
    Some(PositionSummary {
        current: t.current.clone(),
        statements: t.statements,
        flips: t.flips.count,
        last_side: t.flips.last_side,
    })
}

/// Extend a summary by an entry that sorts after every entry it summarises (the fast path of an append). Must equal summarize over the longer list.
///
/// `entry` must count (a newly appended statement always does); a
/// retraction changes which entry is current: see [`retract_statement`].
pub fn extend(summary: Option<PositionSummary>, entry: StatementEntry) -> PositionSummary {
    debug_assert!(entry.counts(), "extend is for counted entries only");
    let (statements, flips) = match &summary {
        None => (0, Flips::default()),
        Some(s) => {
            debug_assert!(
                s.current.order_key() < entry.order_key(),
                "extend needs an entry that sorts last"
            );
            (s.statements, s.flip_count())
        }
    };
    let flips = flips.then(entry.side());
    PositionSummary {
        current: entry,
        statements: statements + 1,
        flips: flips.count,
        last_side: flips.last_side,
    }
}

/// `summary` with a newly recorded `entry` counted in: what [`summarize`]
/// gives over the pair's entries with `entry` among them.
///
/// An entry that sorts after the current statement becomes current
/// ([`extend`]). An earlier one (a backdated statement) leaves the current
/// statement as it is and, if it has a side, is counted in between its
/// nearest sided neighbours, which `neighbours` gives: it is asked only then.
pub fn add_statement<E>(
    summary: Option<PositionSummary>,
    entry: StatementEntry,
    neighbours: impl FnOnce() -> Result<SidedNeighbours, E>,
) -> Result<PositionSummary, E> {
    let mut s = match summary {
        Some(s) if entry.order_key() <= s.current.order_key() => s,
        sorts_last => return Ok(extend(sorts_last, entry)),
    };
    s.statements += 1;
    if let Some(side) = entry.side() {
        s.set_flips(s.flip_count().inserted(side, neighbours()?));
    }
    Ok(s)
}

/// `summary` with its counted `entry` retracted: what [`summarize`] gives
/// over the pair's entries with `entry` marked retracted, `None` if nothing
/// counts any more.
///
/// If `entry` has a side, it is taken out from between its nearest sided
/// neighbours, which `neighbours` gives; if it was the current statement, the
/// nearest counted entry before it becomes current, which `previous` gives.
/// Each is asked only when needed.
pub fn retract_statement<E>(
    summary: PositionSummary,
    entry: &StatementEntry,
    neighbours: impl FnOnce() -> Result<SidedNeighbours, E>,
    previous: impl FnOnce() -> Result<StatementEntry, E>,
) -> Result<Option<PositionSummary>, E> {
    let mut s = summary;
    if s.statements <= 1 {
        return Ok(None);
    }
    s.statements -= 1;
    if let Some(side) = entry.side() {
        s.set_flips(s.flip_count().removed(side, neighbours()?));
    }
    if s.current.order_key() == entry.order_key() {
        s.current = previous()?;
    }
    Ok(Some(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: u64, day: i64, stance: Stance) -> StatementEntry {
        StatementEntry {
            seq,
            statement: EventId::from_bytes([seq as u8; 16]),
            said_at: When::from_parts(day * 86_400_000_000, onrecord_core::Precision::Day),
            stance,
            credence: stance.midpoint(),
            speaker: PartyId::new("trump").unwrap(),
            quote: None,
            retracted: false,
        }
    }

    fn flips(stances: &[Stance]) -> u64 {
        let entries: Vec<_> = (0..stances.len())
            .map(|i| entry(i as u64 + 1, i as i64, stances[i]))
            .collect();
        summarize(&entries).map_or(0, |s| s.flips)
    }

    #[test]
    fn flips_count_changes_of_side_and_skip_even_chance_and_declined() {
        use Stance::*;
        assert_eq!(flips(&[Unlikely, EvenChance, Likely]), 1);
        assert_eq!(flips(&[Unlikely, Likely, Unlikely]), 2);
        assert_eq!(flips(&[Unlikely, Declined, VeryLikely]), 1);
        assert_eq!(flips(&[Unlikely, Declined, EvenChance, VeryUnlikely]), 0);
        assert_eq!(flips(&[EvenChance, Likely, Declined, AlmostCertain]), 0);
        assert_eq!(flips(&[AlmostNoChance, Unlikely, VeryLikely, Likely]), 1);
    }

    #[test]
    fn retracted_entries_do_not_count_and_nothing_left_means_no_summary() {
        use Stance::*;
        let mut entries = vec![
            entry(1, 0, Unlikely),
            entry(2, 1, Likely),
            entry(3, 2, Unlikely),
        ];
        entries[1].retracted = true;
        let s = summarize(&entries).unwrap();
        assert_eq!((s.statements, s.flips, s.current.seq), (2, 0, 3));
        entries[2].retracted = true;
        assert_eq!(summarize(&entries).unwrap().current.seq, 1);
        entries[0].retracted = true;
        assert_eq!(summarize(&entries), None);
    }

    #[test]
    fn statements_are_ordered_by_when_said_then_by_place_in_the_log() {
        assert!(order_key(-5, 9u64) < order_key(3, 1));
        assert!(order_key(3, 1u64) < order_key(3, 2));
        let backdated = entry(9, 0, Stance::Likely);
        let earlier_in_log = entry(2, 1, Stance::Likely);
        assert!(backdated.order_key() < earlier_in_log.order_key());
    }

    #[test]
    fn a_flip_needs_two_sides_that_differ() {
        use Side::*;
        assert!(is_flip(Some(Low), Some(High)));
        assert!(is_flip(Some(High), Some(Low)));
        assert!(!is_flip(Some(Low), Some(Low)));
        assert!(!is_flip(None, Some(High)));
        assert!(!is_flip(Some(High), None));
    }

    #[test]
    fn a_side_counted_in_or_out_in_the_middle_changes_flips_by_its_neighbours() {
        use Side::*;
        let n = |before, after| SidedNeighbours { before, after };
        // low, low (0 flips) -> low, HIGH, low (2 flips), and back.
        let flat = Flips {
            count: 0,
            last_side: Some(Low),
        };
        let split = flat.inserted(High, n(Some(Low), Some(Low)));
        assert_eq!((split.count, split.last_side), (2, Some(Low)));
        assert_eq!(split.removed(High, n(Some(Low), Some(Low))), flat);
        // low, high (1 flip) -> low, LOW, high (still 1).
        let one = Flips {
            count: 1,
            last_side: Some(High),
        };
        assert_eq!(one.inserted(Low, n(Some(Low), Some(High))), one);
        // Nothing sided after it: it becomes the last side, and on removal the one before does.
        let last = one.inserted(Low, n(Some(High), None));
        assert_eq!((last.count, last.last_side), (2, Some(Low)));
        assert_eq!(last.removed(Low, n(Some(High), None)), one);
    }

    #[test]
    fn tally_takes_the_last_statement_as_current_and_counts_all() {
        let sides = [Some(Side::Low), None, Some(Side::High), None];
        let t = tally(sides.iter().enumerate(), |(_, side)| **side).unwrap();
        assert_eq!(t.current.0, 3);
        assert_eq!(t.statements, 4);
        assert_eq!((t.flips.count, t.flips.last_side), (1, Some(Side::High)));
        assert!(tally(std::iter::empty::<Side>(), |s| Some(*s)).is_none());
    }

    #[test]
    fn a_backdated_statement_keeps_the_current_one_and_only_a_sided_one_asks_for_neighbours() {
        use Stance::*;
        let s = extend(None, entry(1, 5, Unlikely));
        let none_asked = || -> Result<SidedNeighbours, ()> { panic!("neighbours asked for") };
        // Sorting last: it becomes current, no neighbours needed.
        let later = add_statement(Some(s.clone()), entry(2, 6, Likely), none_asked).unwrap();
        assert_eq!((later.current.seq, later.flips), (2, 1));
        // Backdated and unsided: counted, nothing else changes.
        let unsided = add_statement(Some(s.clone()), entry(3, 1, EvenChance), none_asked).unwrap();
        assert_eq!(
            (unsided.current.seq, unsided.statements, unsided.flips),
            (1, 2, 0)
        );
        // Backdated and sided: slotted in before the current statement.
        let before_current = SidedNeighbours {
            before: None,
            after: Some(Side::Low),
        };
        let sided = add_statement(Some(s), entry(4, 1, VeryLikely), || {
            Ok::<_, ()>(before_current)
        })
        .unwrap();
        assert_eq!(
            (
                sided.current.seq,
                sided.statements,
                sided.flips,
                sided.last_side
            ),
            (1, 2, 1, Some(Side::Low))
        );
    }

    #[test]
    fn retracting_the_current_statement_makes_the_previous_one_current() {
        use Stance::*;
        let entries = [entry(1, 0, Unlikely), entry(2, 1, Likely)];
        let s = summarize(&entries).unwrap();
        let neighbours = || {
            Ok::<_, ()>(SidedNeighbours {
                before: Some(Side::Low),
                after: None,
            })
        };
        let previous = || Ok::<_, ()>(entries[0].clone());
        let after = retract_statement(s.clone(), &entries[1], neighbours, previous)
            .unwrap()
            .unwrap();
        let mut rest = entries.clone();
        rest[1].retracted = true;
        assert_eq!(Some(after), summarize(&rest));
        // Retracting an earlier one leaves the current statement: `previous` is not asked.
        let no_previous = || -> Result<StatementEntry, ()> { panic!("previous asked for") };
        let earlier = SidedNeighbours {
            before: None,
            after: Some(Side::High),
        };
        let after = retract_statement(s.clone(), &entries[0], || Ok(earlier), no_previous)
            .unwrap()
            .unwrap();
        assert_eq!(
            (after.current.seq, after.statements, after.flips),
            (2, 1, 0)
        );
        // Nothing left to count: no summary.
        let one = summarize(&entries[..1]).unwrap();
        assert_eq!(
            retract_statement(one, &entries[0], neighbours, no_previous),
            Ok(None)
        );
    }

    #[test]
    fn extending_keeps_the_last_side_across_unsided_statements() {
        use Stance::*;
        let s = extend(None, entry(1, 0, Likely));
        let s = extend(Some(s), entry(2, 1, EvenChance));
        assert_eq!(s.last_side, Some(Side::High));
        assert_eq!(s.current.stance, EvenChance);
        let s = extend(Some(s), entry(3, 2, VeryUnlikely));
        assert_eq!(
            (s.flips, s.statements, s.last_side),
            (1, 3, Some(Side::Low))
        );
    }
}
