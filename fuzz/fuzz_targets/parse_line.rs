//! `parse_line` on arbitrary input: never panics; whatever parses, validation
//! accepts or refuses without panicking; error messages stay on one line.
#![no_main]

use std::convert::Infallible;

use libfuzzer_sys::fuzz_target;
use onrecord_core::{
    EventId, LedgerFacts, Party, PartyId, PartyKind, PropositionId, StatementFacts, parse_line,
    validate,
};

/// A ledger where everything referred to exists and nothing is resolved or retracted.
struct Everything;

impl LedgerFacts for Everything {
    type Error = Infallible;
    fn party(&self, id: &PartyId) -> Result<Option<Party>, Infallible> {
        Ok(Some(Party {
            id: id.clone(),
            name: id.to_string(),
            kind: PartyKind::Person,
            speaks_for: None,
            aliases: Vec::new(),
        }))
    }
    fn proposition(&self, _: &PropositionId) -> Result<Option<bool>, Infallible> {
        Ok(Some(false))
    }
    fn statement(&self, _: &EventId) -> Result<Option<StatementFacts>, Infallible> {
        Ok(Some(StatementFacts {
            proposition: PropositionId::new("p").unwrap(),
            party: PartyId::new("p").unwrap(),
            retracted: false,
        }))
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    match parse_line(line) {
        Ok(input) => {
            if let Err(onrecord_core::Rejection::Invalid(e)) = validate(input.draft, &Everything) {
                assert!(!e.to_string().contains('\n'));
            }
        }
        Err(e) => assert!(!e.to_string().contains('\n')),
    }
});
