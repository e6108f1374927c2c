//! The one definition of a party's current position on a proposition, as
//! building blocks both [`PositionsFold`](crate::PositionsFold) and the
//! store's kept views use: a [`StatementEntry`] per statement, and the
//! [`PositionSummary`] that [`summarize`] and [`extend`] make of them.
//!
//! Everything here is a pure function of the values handed in: no I/O, no
//! store, no clock, and no filtering (callers pick the entries that count).

use onrecord_core::{EventId, PartyId, PropositionId, Side, Stance, StatementRecorded, When};

use crate::Position;

/// One statement as kept per (proposition, party), ordered by (said_at micros, seq).
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

    /// The key entries are ordered by: `(said_at micros, seq)`; later keys are more current.
    pub fn order_key(&self) -> (i64, u64) {
        (self.said_at.micros(), self.seq)
    }

    /// The side of even this statement takes, if any (even-chance and declined take none).
    pub fn side(&self) -> Option<Side> {
        self.stance.side(self.credence)
    }
}

/// The kept summary of one (proposition, party): current statement, count, flips and the side of the last counted sided statement (for extending).
#[derive(Debug, Clone, PartialEq)]
pub struct PositionSummary {
    /// The current statement: the last counted entry in (said_at, seq) order.
    pub current: StatementEntry,
    /// How many entries count (are not retracted).
    pub statements: u64,
    /// How many times successive sided credences changed side (low to high or back).
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
}

/// Summarise entries given in (said_at, seq) order, skipping retracted ones; None if none count.
pub fn summarize<'a>(
    entries: impl IntoIterator<Item = &'a StatementEntry>,
) -> Option<PositionSummary> {
    entries
        .into_iter()
        .filter(|e| !e.retracted)
        .fold(None, |summary, e| Some(extend(summary, e.clone())))
}

/// Extend a summary by an entry that sorts after every entry it summarises (the fast path of an append). Must equal summarize over the longer list.
///
/// `entry` must not be retracted (a newly appended statement never is); a
/// retraction changes which entry is current, so it needs [`summarize`].
pub fn extend(summary: Option<PositionSummary>, entry: StatementEntry) -> PositionSummary {
    debug_assert!(!entry.retracted, "extend is for counted entries only");
    let side = entry.side();
    match summary {
        None => PositionSummary {
            current: entry,
            statements: 1,
            flips: 0,
            last_side: side,
        },
        Some(s) => {
            debug_assert!(
                s.current.order_key() < entry.order_key(),
                "extend needs an entry that sorts last"
            );
            let (flipped, last_side) = step_side(s.last_side, side);
            PositionSummary {
                current: entry,
                statements: s.statements + 1,
                flips: s.flips + u64::from(flipped),
                last_side,
            }
        }
    }
}

/// One counted statement's effect on the flip count: whether a statement on
/// `side` flips from `last_side`, and the last side after it. Shared by
/// [`extend`] and [`PositionsFold`](crate::PositionsFold) so both count flips alike.
pub(crate) fn step_side(last_side: Option<Side>, side: Option<Side>) -> (bool, Option<Side>) {
    let flipped = matches!((last_side, side), (Some(a), Some(b)) if a != b);
    (flipped, side.or(last_side))
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
