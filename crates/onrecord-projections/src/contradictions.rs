//! Contradictions: pairs of parties whose current positions on the same
//! proposition lie on opposite sides of even.
//!
//! A pure function of the [`Position`]s handed in; no I/O, no store, no clock.

use onrecord_core::{PartyId, PropositionId, Side};

use crate::Position;

/// Two parties whose current credences on a proposition lie on opposite sides of even.
#[derive(Debug, Clone, PartialEq)]
pub struct Contradiction {
    /// The proposition they disagree on.
    pub proposition: PropositionId,
    /// The two parties, the lesser id first.
    pub parties: (PartyId, PartyId),
    /// The absolute difference of their credences.
    pub spread: f64,
}

/// Every contradicting pair among `positions` (any list; grouped by proposition), ordered by proposition then pair.
///
/// A pair contradicts when one literal credence is ≥ 0.55 and the other ≤ 0.45;
/// declined positions have no credence and never contradict. Positions of the
/// same party on the same proposition are never paired with each other.
pub fn contradictions(positions: &[Position]) -> Vec<Contradiction> {
    let mut sided: Vec<(&Position, f64)> = positions
        .iter()
        .filter_map(|p| {
            let c = p.credence?;
            Side::of_credence(c).map(|_| (p, c))
        })
        .collect();
    sided.sort_by(|(a, _), (b, _)| (&a.proposition, &a.party).cmp(&(&b.proposition, &b.party)));
    let mut out = Vec::new();
    for (i, (a, ca)) in sided.iter().enumerate() {
        for (b, cb) in sided[i + 1..]
            .iter()
            .take_while(|(b, _)| b.proposition == a.proposition)
        {
            if a.party != b.party && Side::of_credence(*ca) != Side::of_credence(*cb) {
                out.push(Contradiction {
                    proposition: a.proposition.clone(),
                    parties: (a.party.clone(), b.party.clone()),
                    spread: (ca - cb).abs(),
                });
            }
        }
    }
    out
}
