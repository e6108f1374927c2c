//! Stances: the seven ICD 203 likelihood bands plus `declined`, and the
//! credences they allow.

use std::fmt;
use std::str::FromStr;

use crate::DomainError;

/// How likely a party says a proposition is, as an ICD 203 band, or `declined`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stance {
    /// 1-5 %.
    AlmostNoChance,
    /// 5-20 %.
    VeryUnlikely,
    /// 20-45 %.
    Unlikely,
    /// 45-55 %.
    EvenChance,
    /// 55-80 %.
    Likely,
    /// 80-95 %.
    VeryLikely,
    /// 95-99 %.
    AlmostCertain,
    /// The party refuses to take a position; no credence.
    Declined,
}

/// Which side of even a credence lies on, for flips and contradictions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// Credence at most 0.45: the party leans towards "it will not happen".
    Low,
    /// Credence at least 0.55: the party leans towards "it will happen".
    High,
}

impl Side {
    /// The side of a bare credence: ≤ 0.45 is low, ≥ 0.55 is high, between is neither.
    pub fn of_credence(credence: f64) -> Option<Side> {
        if credence <= 0.45 {
            Some(Side::Low)
        } else if credence >= 0.55 {
            Some(Side::High)
        } else {
            None
        }
    }
}

impl Stance {
    /// Every stance, from least to most likely, then `declined`.
    pub const ALL: [Stance; 8] = [
        Stance::AlmostNoChance,
        Stance::VeryUnlikely,
        Stance::Unlikely,
        Stance::EvenChance,
        Stance::Likely,
        Stance::VeryLikely,
        Stance::AlmostCertain,
        Stance::Declined,
    ];

    /// The stance's name as written in the CLI and JSON, e.g. `almost-certain`.
    pub fn name(self) -> &'static str {
        match self {
            Stance::AlmostNoChance => "almost-no-chance",
            Stance::VeryUnlikely => "very-unlikely",
            Stance::Unlikely => "unlikely",
            Stance::EvenChance => "even-chance",
            Stance::Likely => "likely",
            Stance::VeryLikely => "very-likely",
            Stance::AlmostCertain => "almost-certain",
            Stance::Declined => "declined",
        }
    }

    /// The inclusive credence band, or `None` for `declined`.
    pub fn band(self) -> Option<(f64, f64)> {
        match self {
            Stance::AlmostNoChance => Some((0.01, 0.05)),
            Stance::VeryUnlikely => Some((0.05, 0.20)),
            Stance::Unlikely => Some((0.20, 0.45)),
            Stance::EvenChance => Some((0.45, 0.55)),
            Stance::Likely => Some((0.55, 0.80)),
            Stance::VeryLikely => Some((0.80, 0.95)),
            Stance::AlmostCertain => Some((0.95, 0.99)),
            Stance::Declined => None,
        }
    }

    /// The credence a statement carries when none is given: the band's midpoint.
    pub fn midpoint(self) -> Option<f64> {
        match self {
            Stance::AlmostNoChance => Some(0.03),
            Stance::VeryUnlikely => Some(0.125),
            Stance::Unlikely => Some(0.325),
            Stance::EvenChance => Some(0.5),
            Stance::Likely => Some(0.675),
            Stance::VeryLikely => Some(0.875),
            Stance::AlmostCertain => Some(0.97),
            Stance::Declined => None,
        }
    }

    /// The credence a statement with this stance carries: the explicit one if it
    /// lies inside the band, else the midpoint; `declined` carries none.
    pub fn credence(self, explicit: Option<f64>) -> Result<Option<f64>, DomainError> {
        match (self.band(), explicit) {
            (None, None) => Ok(None),
            (None, Some(c)) => Err(DomainError::CredenceWithDeclined(c)),
            (Some(_), None) => Ok(self.midpoint()),
            (Some((low, high)), Some(c)) => {
                if c.is_finite() && (low..=high).contains(&c) {
                    Ok(Some(c))
                } else {
                    Err(DomainError::CredenceOutOfBand {
                        credence: c,
                        stance: self,
                        low,
                        high,
                    })
                }
            }
        }
    }

    /// The side of even this stance takes at `credence`; even-chance and declined take none.
    pub fn side(self, credence: Option<f64>) -> Option<Side> {
        match (self, credence) {
            (Stance::EvenChance | Stance::Declined, _) | (_, None) => None,
            (_, Some(c)) => Side::of_credence(c),
        }
    }
}

impl FromStr for Stance {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Stance::ALL
            .into_iter()
            .find(|st| st.name() == s)
            .ok_or_else(|| DomainError::InvalidStance(s.to_owned()))
    }
}

impl fmt::Display for Stance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for st in Stance::ALL {
            assert_eq!(st.name().parse::<Stance>().unwrap(), st);
        }
        assert_eq!(
            "certain".parse::<Stance>().unwrap_err(),
            DomainError::InvalidStance("certain".into())
        );
    }

    #[test]
    fn default_credence_is_the_band_midpoint() {
        let expect = [0.03, 0.125, 0.325, 0.5, 0.675, 0.875, 0.97];
        for (st, mid) in Stance::ALL.into_iter().zip(expect) {
            assert_eq!(st.credence(None).unwrap(), Some(mid));
            let (low, high) = st.band().unwrap();
            assert!(low <= mid && mid <= high);
        }
        assert_eq!(Stance::Declined.credence(None).unwrap(), None);
    }

    #[test]
    fn explicit_credence_must_lie_in_the_inclusive_band() {
        assert_eq!(Stance::Likely.credence(Some(0.55)).unwrap(), Some(0.55));
        assert_eq!(Stance::Likely.credence(Some(0.8)).unwrap(), Some(0.8));
        let err = Stance::Likely.credence(Some(0.9)).unwrap_err();
        assert!(err.to_string().contains("0.9"), "{err}");
        assert!(Stance::Likely.credence(Some(f64::NAN)).is_err());
        assert!(Stance::Declined.credence(Some(0.5)).is_err());
    }

    #[test]
    fn sides_ignore_even_chance_and_declined() {
        assert_eq!(Stance::Unlikely.side(Some(0.45)), Some(Side::Low));
        assert_eq!(Stance::Likely.side(Some(0.55)), Some(Side::High));
        assert_eq!(Stance::EvenChance.side(Some(0.45)), None);
        assert_eq!(Stance::Declined.side(None), None);
    }
}
