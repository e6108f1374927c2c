//! The things statements are about: parties, propositions and outcomes.

use std::fmt;
use std::str::FromStr;

use crate::{DomainError, PartyId, PropositionId, When};

/// What sort of speaker a party is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PartyKind {
    /// A single human being.
    Person,
    /// A company, party, agency or other body.
    Organization,
    /// A government or state.
    Government,
}

impl PartyKind {
    /// The kind's name as written in the CLI and JSON.
    pub fn name(self) -> &'static str {
        match self {
            PartyKind::Person => "person",
            PartyKind::Organization => "organization",
            PartyKind::Government => "government",
        }
    }
}

impl FromStr for PartyKind {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "person" => Ok(PartyKind::Person),
            "organization" => Ok(PartyKind::Organization),
            "government" => Ok(PartyKind::Government),
            _ => Err(DomainError::InvalidPartyKind(s.to_owned())),
        }
    }
}

impl fmt::Display for PartyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Someone whose statements are recorded; may speak for another party.
#[derive(Debug, Clone, PartialEq)]
pub struct Party {
    /// The party's id.
    pub id: PartyId,
    /// Its display name.
    pub name: String,
    /// Person, organization or government.
    pub kind: PartyKind,
    /// The party whose position this party's statements express by default.
    pub speaks_for: Option<PartyId>,
    /// Other names the party goes by in text, e.g. `Putin`, `the Russian president`.
    pub aliases: Vec<String>,
}

/// The dates during which a proposition can happen, both inclusive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    /// The first day (or instant) of the window.
    pub from: When,
    /// The last day (or instant) of the window.
    pub to: When,
}

impl FromStr for Window {
    type Err = DomainError;

    /// Reads `FROM..TO`; checks from ≤ to.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (from, to) = s
            .split_once("..")
            .ok_or_else(|| DomainError::InvalidWindow(s.to_owned()))?;
        Window::new(from.parse()?, to.parse()?)
    }
}

impl Window {
    /// A window, refused when it ends before it starts.
    pub fn new(from: When, to: When) -> Result<Self, DomainError> {
        if from.micros() > to.micros() {
            return Err(DomainError::WindowReversed {
                from: from.to_string(),
                to: to.to_string(),
            });
        }
        Ok(Self { from, to })
    }
}

/// A question about the future that parties take positions on.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposition {
    /// The proposition's id.
    pub id: PropositionId,
    /// What would happen, in one sentence.
    pub text: String,
    /// What counts as it happening.
    pub criteria: Option<String>,
    /// When it can happen.
    pub window: Option<Window>,
}

/// How a proposition resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The event happened (scored as 1).
    Happened,
    /// The event did not happen (scored as 0).
    DidNotHappen,
}

impl Outcome {
    /// The outcome's name as written in the CLI and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Happened => "happened",
            Outcome::DidNotHappen => "did-not-happen",
        }
    }

    /// 1.0 when it happened, 0.0 when it did not: the value scores compare credences with.
    pub fn value(self) -> f64 {
        match self {
            Outcome::Happened => 1.0,
            Outcome::DidNotHappen => 0.0,
        }
    }
}

impl FromStr for Outcome {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "happened" => Ok(Outcome::Happened),
            "did-not-happen" => Ok(Outcome::DidNotHappen),
            _ => Err(DomainError::InvalidOutcome(s.to_owned())),
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_must_not_end_before_it_starts() {
        let w: Window = "2018-11-10..2018-11-12".parse().unwrap();
        assert_eq!(w.from.to_string(), "2018-11-10");
        let err = "2018-11-12..2018-11-10".parse::<Window>().unwrap_err();
        assert!(err.to_string().contains("2018-11-12..2018-11-10"), "{err}");
        assert!("2018-11-12".parse::<Window>().is_err());
    }

    #[test]
    fn kinds_and_outcomes_parse_by_name() {
        assert_eq!(
            "government".parse::<PartyKind>().unwrap(),
            PartyKind::Government
        );
        assert!("company".parse::<PartyKind>().is_err());
        assert_eq!("did-not-happen".parse::<Outcome>().unwrap().value(), 0.0);
        assert!("maybe".parse::<Outcome>().is_err());
    }
}
