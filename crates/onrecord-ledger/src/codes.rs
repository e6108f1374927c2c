//! The one table of the one-byte codes the ledger stores for domain enums:
//! in records ([`envelope`](crate::envelope): stance, time precision, party
//! kind, outcome) and in kept views (stance, time precision, side).
//!
//! These codes are part of the on-disk format: a code never changes meaning
//! and is never reused; a new variant gets a new code. Each table below is
//! written once and gives both directions, so encoding and decoding cannot
//! drift apart, and a variant added to the domain without a code here does
//! not compile.

use onrecord_core::{Outcome, PartyKind, Precision, Side, Stance};

/// Defines, from one table of `variant => code` rows, the function giving a
/// value's code (an exhaustive match) and the one giving the value of a code
/// (`None` for a code the table does not hold).
macro_rules! code_table {
    (
        $ty:ty, $(#[$to_doc:meta])* $to_code:ident, $(#[$from_doc:meta])* $from_code:ident {
            $($variant:path => $code:literal,)+
        }
    ) => {
        $(#[$to_doc])*
        pub(crate) fn $to_code(value: $ty) -> u8 {
            match value {
                $($variant => $code,)+
            }
        }

        $(#[$from_doc])*
        pub(crate) fn $from_code(code: u8) -> Option<$ty> {
            match code {
                $($code => Some($variant),)+
                _ => None,
            }
        }
    };
}

code_table!(Stance,
    /// A stance's stored code: its place from least to most likely, then `declined`.
    stance_code,
    /// The stance a stored code stands for.
    stance_from_code {
        Stance::AlmostNoChance => 0,
        Stance::VeryUnlikely => 1,
        Stance::Unlikely => 2,
        Stance::EvenChance => 3,
        Stance::Likely => 4,
        Stance::VeryLikely => 5,
        Stance::AlmostCertain => 6,
        Stance::Declined => 7,
    }
);

code_table!(Precision,
    /// A time precision's stored code.
    precision_code,
    /// The time precision a stored code stands for.
    precision_from_code {
        Precision::Day => 0,
        Precision::Instant => 1,
    }
);

code_table!(PartyKind,
    /// A party kind's stored code.
    kind_code,
    /// The party kind a stored code stands for.
    kind_from_code {
        PartyKind::Person => 0,
        PartyKind::Organization => 1,
        PartyKind::Government => 2,
    }
);

code_table!(Outcome,
    /// An outcome's stored code: 1 for happened, 0 for did not.
    outcome_code,
    /// The outcome a stored code stands for.
    outcome_from_code {
        Outcome::DidNotHappen => 0,
        Outcome::Happened => 1,
    }
);

code_table!(Side,
    /// A side's stored code (0 is kept for no side; see [`side_or_none_code`]).
    side_code,
    /// The side a stored code other than 0 stands for.
    side_from_code {
        Side::Low => 1,
        Side::High => 2,
    }
);

/// The stored code of a side that may be absent: 0 for none, else [`side_code`].
pub(crate) fn side_or_none_code(side: Option<Side>) -> u8 {
    side.map_or(0, side_code)
}

/// What a stored side-or-none code stands for: `Some(None)` for 0, `None` for an unknown code.
pub(crate) fn side_or_none_from_code(code: u8) -> Option<Option<Side>> {
    match code {
        0 => Some(None),
        code => side_from_code(code).map(Some),
    }
}

/// Every stance's stored code, written out a second time on purpose (the
/// tests of this table, of records and of kept views all check against it):
/// changing a row of the table above changes the bytes on disk.
#[cfg(test)]
pub(crate) const PINNED_STANCES: [(Stance, u8); 8] = [
    (Stance::AlmostNoChance, 0),
    (Stance::VeryUnlikely, 1),
    (Stance::Unlikely, 2),
    (Stance::EvenChance, 3),
    (Stance::Likely, 4),
    (Stance::VeryLikely, 5),
    (Stance::AlmostCertain, 6),
    (Stance::Declined, 7),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code, written out a second time on purpose: changing a row of a
    /// table above changes the bytes on disk, and must fail here.
    #[test]
    fn every_code_is_pinned_and_reads_back() {
        let stances = PINNED_STANCES;
        assert_eq!(stances.len(), Stance::ALL.len());
        for (stance, code) in stances {
            assert_eq!(stance_code(stance), code, "{stance:?}");
            assert_eq!(stance_from_code(code), Some(stance));
        }
        for (precision, code) in [(Precision::Day, 0), (Precision::Instant, 1)] {
            assert_eq!(precision_code(precision), code, "{precision:?}");
            assert_eq!(precision_from_code(code), Some(precision));
        }
        for (kind, code) in [
            (PartyKind::Person, 0),
            (PartyKind::Organization, 1),
            (PartyKind::Government, 2),
        ] {
            assert_eq!(kind_code(kind), code, "{kind:?}");
            assert_eq!(kind_from_code(code), Some(kind));
        }
        for (outcome, code) in [(Outcome::DidNotHappen, 0), (Outcome::Happened, 1)] {
            assert_eq!(outcome_code(outcome), code, "{outcome:?}");
            assert_eq!(outcome_from_code(code), Some(outcome));
        }
        for (side, code) in [(None, 0), (Some(Side::Low), 1), (Some(Side::High), 2)] {
            assert_eq!(side_or_none_code(side), code, "{side:?}");
            assert_eq!(side_or_none_from_code(code), Some(side));
        }
    }

    #[test]
    fn a_code_past_each_table_stands_for_nothing() {
        assert_eq!(stance_from_code(8), None);
        assert_eq!(precision_from_code(2), None);
        assert_eq!(kind_from_code(3), None);
        assert_eq!(outcome_from_code(2), None);
        assert_eq!(side_from_code(0), None);
        assert_eq!(side_or_none_from_code(3), None);
    }
}
