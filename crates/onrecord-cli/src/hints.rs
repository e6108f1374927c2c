//! Errors that help: "did you mean" hints for unknown party and proposition
//! ids (the query API names the close ids itself and [`suggest`] only formats
//! them; for bulk input they come from the ids the ledger, or an earlier line
//! of the input, has), for unknown statement ids (the recorded statements
//! whose ids sort next to it) and for unknown stance names.
//!
//! It only reads ids (party and proposition lists) to build messages; it never
//! appends, and it leaves exit codes to [`crate::error`].

use onrecord_core::DomainError;
use onrecord_core::similar::closest;
use onrecord_core::{Draft, Stance};
use onrecord_ledger::{Ledger, StoreError};

use crate::error::CliError;

/// ` (did you mean `a`?)`, ` (did you mean `a` or `b`?)`, or empty when nothing is close.
pub fn did_you_mean<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    suggest(&closest(wanted, candidates))
}

/// ` (did you mean `a`?)` naming the ids found close (closest first), or empty when there are none.
pub fn suggest(found: &[impl AsRef<str>]) -> String {
    onrecord_core::similar::did_you_mean_suffix(found)
}

/// Every registered party id (empty if the ledger cannot list them).
pub fn party_ids(ledger: &Ledger) -> Vec<String> {
    ledger
        .parties()
        .map(|ps| ps.into_iter().map(|p| p.id.to_string()).collect())
        .unwrap_or_default()
}

/// Every proposition id (empty if the ledger cannot list them).
pub fn proposition_ids(ledger: &Ledger) -> Vec<String> {
    ledger
        .proposition_ids()
        .map(|ids| ids.into_iter().map(|id| id.to_string()).collect())
        .unwrap_or_default()
}

/// Known ids to suggest from: the ledger's, plus any defined earlier in a bulk input.
#[derive(Debug, Clone, Default)]
pub struct Known {
    /// Party ids.
    pub parties: Vec<String>,
    /// Proposition ids.
    pub propositions: Vec<String>,
}

impl Known {
    /// The ids the ledger has.
    pub fn from_ledger(ledger: &Ledger) -> Self {
        Self {
            parties: party_ids(ledger),
            propositions: proposition_ids(ledger),
        }
    }

    /// Notes the ids a draft defines.
    pub fn note(&mut self, draft: &Draft) {
        match draft {
            Draft::Party(p) => self.parties.push(p.id.to_string()),
            Draft::Proposition(p) => self.propositions.push(p.id.to_string()),
            _ => {}
        }
    }
}

/// The hint for a domain error, if it names an unknown id or stance (else empty).
pub fn domain_hint(e: &DomainError, known: &Known) -> String {
    match e {
        DomainError::UnknownParty(id)
        | DomainError::UnknownSpeaker(id)
        | DomainError::UnknownSpeaksFor(id) => {
            did_you_mean(id.as_str(), known.parties.iter().map(String::as_str))
        }
        DomainError::UnknownProposition(id) => {
            did_you_mean(id.as_str(), known.propositions.iter().map(String::as_str))
        }
        DomainError::InvalidStance(s) => stance_hint(s),
        _ => String::new(),
    }
}

/// A store error's message with any "did you mean" hint appended.
pub fn store_message(e: &StoreError, known: &Known) -> String {
    match e {
        StoreError::Invalid(d) => format!("{e}{}", domain_hint(d, known)),
        _ => e.to_string(),
    }
}

/// The hint for an unknown statement id: the recorded statements whose ids are closest.
pub fn statement_hint(ledger: &Ledger, id: &onrecord_core::EventId) -> String {
    let near: Vec<String> = ledger
        .statements_near(id)
        .map(|ids| ids.iter().map(ToString::to_string).collect())
        .unwrap_or_default();
    did_you_mean(&id.to_string(), near.iter().map(String::as_str))
}

/// A store error as a [`CliError`], with a hint (from the ledger's ids) when it names an unknown id.
pub fn store_error(ledger: &Ledger, e: StoreError) -> CliError {
    let names_an_id = matches!(
        &e,
        StoreError::Invalid(
            DomainError::UnknownParty(_)
                | DomainError::UnknownSpeaker(_)
                | DomainError::UnknownSpeaksFor(_)
                | DomainError::UnknownProposition(_)
        )
    );
    let known = if names_an_id {
        Known::from_ledger(ledger)
    } else {
        Known::default()
    };
    let mut message = store_message(&e, &known);
    if let StoreError::Invalid(DomainError::UnknownStatement(id)) = &e {
        message.push_str(&statement_hint(ledger, id));
    }
    let mut err = CliError::from(e);
    if let Some(first) = err.lines.first_mut() {
        *first = crate::error::one_line(&message);
    }
    err
}

/// The hint for an unknown stance name: the closest names, if any.
pub fn stance_hint(wanted: &str) -> String {
    did_you_mean(wanted, Stance::ALL.iter().map(|s| s.name()))
}

/// Parses a stance name; an unknown one is invalid input (exit 1) listing the names and the closest.
pub fn parse_stance(s: &str) -> Result<Stance, CliError> {
    s.parse::<Stance>()
        .map_err(|e: DomainError| CliError::invalid(format!("{e}{}", stance_hint(s))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_name_up_to_three_close_ids() {
        let ids = ["trump", "kremlin", "putin"];
        assert_eq!(did_you_mean("kremln", ids), " (did you mean `kremlin`?)");
        assert_eq!(did_you_mean("zzzzzz", ids), "");
        assert_eq!(
            did_you_mean("ab", ["aa", "ab1", "abc"]),
            " (did you mean `aa`, `ab1` or `abc`?)"
        );
    }

    #[test]
    fn unknown_stances_name_the_closest() {
        assert_eq!(stance_hint("certain"), " (did you mean `almost-certain`?)");
        let err = parse_stance("certain").unwrap_err();
        assert!(err.lines[0].starts_with("unknown stance `certain`: expected one of"));
    }
}
