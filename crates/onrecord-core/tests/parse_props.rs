//! Any input line either parses to a draft that validation accepts or refuses
//! with an error, or gives an error: `parse_line` and `validate` never panic,
//! and every error message stays on one line.

use std::convert::Infallible;

use onrecord_core::{
    EventId, LedgerFacts, Party, PartyId, PartyKind, PropositionId, StatementFacts, parse_line,
    validate,
};
use proptest::prelude::*;

/// A ledger where every party, open proposition and statement exists.
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

fn check(line: &str) {
    match parse_line(line) {
        Ok(input) => {
            // Validation either accepts or refuses; both are fine, panicking is not.
            for outcome in [
                validate(input.draft.clone(), &Everything).map(|_| ()),
                validate(input.draft, &onrecord_core::validate::EmptyLedger).map(|_| ()),
            ] {
                if let Err(onrecord_core::Rejection::Invalid(e)) = outcome {
                    assert!(!e.to_string().contains('\n'), "{e}");
                }
            }
        }
        Err(e) => assert!(!e.to_string().contains('\n'), "multi-line error: {e:?}"),
    }
}

/// JSON values that look like the fields of a line, often wrong.
fn field_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{Value, json};
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_map(|n| serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)),
        (0.0f64..=1.0).prop_map(|n| json!(n)),
        "[a-z0-9-]{0,70}".prop_map(Value::String),
        "\\PC{0,30}".prop_map(Value::String),
        prop_oneof![
            Just("2018-11-06"),
            Just("2018-11-31"),
            Just("2018-11-06T14:30:00+03:00"),
            Just("-262144-01-01"),
            Just("+262143-12-31T23:59:59Z"),
            Just("9999-12-31T23:59:59.999999999-23:59"),
            Just("0000-01-01"),
            Just("likely"),
            Just("declined"),
            Just("person"),
            Just("happened"),
            Just("01932c07-a3e0-7cc0-8f0e-5a2b4c6d8e9f"),
        ]
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![Just("from".to_owned()), Just("to".to_owned()), "[a-z]{1,5}"],
                inner,
                0..3
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

const FIELDS: &[&str] = &[
    "type",
    "seq",
    "event_id",
    "recorded_at",
    "id",
    "name",
    "kind",
    "speaks_for",
    "text",
    "criteria",
    "window",
    "proposition",
    "party",
    "speaker",
    "stance",
    "credence",
    "said_at",
    "quote",
    "source",
    "qualifiers",
    "statement",
    "reason",
    "outcome",
    "resolved_at",
    "note",
];

fn json_line() -> impl Strategy<Value = String> {
    let ty = prop_oneof![
        Just("party"),
        Just("proposition"),
        Just("statement"),
        Just("retraction"),
        Just("resolution"),
        Just("other"),
    ];
    (
        ty,
        prop::collection::vec((prop::sample::select(FIELDS), field_value()), 0..10),
    )
        .prop_map(|(ty, fields)| {
            let mut s = format!("{{\"type\":\"{ty}\"");
            for (k, v) in fields {
                s.push_str(&format!(",\"{k}\":{v}"));
            }
            s.push('}');
            s
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_string_parses_or_errors(line in "\\PC{0,200}") {
        check(&line);
    }

    #[test]
    fn any_json_shaped_line_parses_to_a_validatable_draft_or_errors(line in json_line()) {
        check(&line);
    }

    #[test]
    fn a_truncated_or_mutated_valid_line_never_panics(
        cut in 0usize..400,
        at in 0usize..400,
        byte in any::<u8>(),
    ) {
        let valid = r#"{"type":"statement","proposition":"paris-meeting","speaker":"peskov","stance":"almost-certain","credence":0.97,"said_at":"2018-11-06T14:30:00+03:00","quote":"They will certainly meet","source":"https://example.org/a","qualifiers":["brief"],"event_id":"01932c07-a3e0-7cc0-8f0e-5a2b4c6d8e9f"}"#;
        let mut bytes = valid.as_bytes()[..cut.min(valid.len())].to_vec();
        if !bytes.is_empty() {
            let i = at % bytes.len();
            bytes[i] = byte;
        }
        check(&String::from_utf8_lossy(&bytes));
    }
}
