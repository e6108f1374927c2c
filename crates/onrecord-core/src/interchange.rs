//! JSON Lines interchange: reading events users give and writing events as the
//! ledger holds them.
//!
//! One JSON object per line, told apart by its `"type"`: `party`,
//! `proposition`, `statement`, `retraction` or `resolution`
//! (docs/event-schema.md has every field). This module does no I/O: it reads
//! one `&str` line into an [`InputEvent`] with [`parse_line`] and writes one
//! [`Recorded`] event as a line with [`write_line`].
//!
//! Reading is strict so that a typo cannot pass silently: unknown and
//! repeated fields, wrong JSON types, bad ids, stances, kinds, outcomes and
//! times are all refused with an [`InterchangeError`] naming the offending
//! field or value. An explicit `null` reads as an absent optional field.
//! `seq` and `recorded_at` are accepted (so an export can be read back) but
//! ignored: they belong to the ledger that records the event. `recorded_by`
//! (who recorded it) is read and handed to the caller, which decides whether
//! to keep it (a restore) or refuse it.
//!
//! Writing is explicit: every field is written, absent ones as `null`, in a
//! fixed key order (two exceptions: a party's `aliases` only when it has some,
//! and `recorded_by` only when the record has one, so exports of ledgers from
//! before aliases and before envelope version 2 are unchanged), so `parse_line(&write_line(rec))` gives back the event id
//! and a draft that validates to the same event.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::Serialize;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::{
    DomainError, Draft, Event, EventId, Party, PartyId, Proposition, PropositionId,
    PropositionResolved, Recorded, Recorder, StatementDraft, StatementRetracted, When, Window,
};

// The fields each line may carry, in the order `write_line` writes them.
//
// Unknown fields are refused by checking keys against these lists rather than
// with `#[serde(deny_unknown_fields)]` on derived structs: a derived struct
// cannot say which field held a wrong JSON type, and checking here also lets
// `null` mean "absent" uniformly and refuses repeated keys, which a
// `serde_json::Value` would silently collapse. A test checks the lists
// against what `write_line` writes.
const PARTY_FIELDS: &[&str] = &[
    "type",
    "seq",
    "event_id",
    "recorded_at",
    "recorded_by",
    "id",
    "name",
    "kind",
    "speaks_for",
    "aliases",
];
const PROPOSITION_FIELDS: &[&str] = &[
    "type",
    "seq",
    "event_id",
    "recorded_at",
    "recorded_by",
    "id",
    "text",
    "criteria",
    "window",
];
const STATEMENT_FIELDS: &[&str] = &[
    "type",
    "seq",
    "event_id",
    "recorded_at",
    "recorded_by",
    "proposition",
    "party",
    "speaker",
    "stance",
    "credence",
    "said_at",
    "quote",
    "source",
    "qualifiers",
];
const RETRACTION_FIELDS: &[&str] = &[
    "type",
    "seq",
    "event_id",
    "recorded_at",
    "recorded_by",
    "statement",
    "reason",
];
const RESOLUTION_FIELDS: &[&str] = &[
    "type",
    "seq",
    "event_id",
    "recorded_at",
    "recorded_by",
    "proposition",
    "outcome",
    "resolved_at",
    "source",
    "note",
];
const WINDOW_FIELDS: &[&str] = &["from", "to"];

/// One line read from JSON Lines: what to record, and the event id it asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct InputEvent {
    /// The event id given on the line, if any (the ledger makes one otherwise).
    pub event_id: Option<EventId>,
    /// Who the line says recorded it (an exported line carries it), if anyone.
    pub recorded_by: Option<Recorder>,
    /// What the line asks to record, still to be validated.
    pub draft: Draft,
}

/// Why a JSON line could not be read; every message is one line naming the offending value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InterchangeError {
    /// The line is not valid JSON.
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    /// The line is valid JSON but not an object.
    #[error("expected a JSON object, found {0}")]
    NotAnObject(String),
    /// The `"type"` is not one of the known line types.
    #[error(
        "unknown type `{0}`: expected one of party, proposition, statement, retraction, resolution"
    )]
    UnknownType(String),
    /// A field is not allowed where it appears.
    #[error("unknown field `{field}` in {place}: allowed are {}", .allowed.join(", "))]
    UnknownField {
        /// Where it appeared, e.g. `a statement line` or `a window`.
        place: &'static str,
        /// The refused field name.
        field: String,
        /// The fields allowed there.
        allowed: &'static [&'static str],
    },
    /// A field appears twice in one object.
    #[error("duplicate field `{field}` in {place}")]
    DuplicateField {
        /// Where it appeared, e.g. `a statement line`.
        place: &'static str,
        /// The repeated field name.
        field: String,
    },
    /// A required field is absent (or `null`).
    #[error("missing field `{field}` in {place}")]
    MissingField {
        /// Where it is missing, e.g. `a statement line`.
        place: &'static str,
        /// The missing field name.
        field: &'static str,
    },
    /// A field holds the wrong JSON type.
    #[error("field `{field}` must be {expected}, found {found}")]
    WrongType {
        /// The field, e.g. `credence` or `qualifiers[1]`.
        field: String,
        /// What it must be, e.g. `a number`.
        expected: &'static str,
        /// What it holds, abridged.
        found: String,
    },
    /// A field's value breaks a domain rule (bad id, stance, time, window...).
    #[error(transparent)]
    Domain(#[from] DomainError),
}

/// The members of one JSON object in line order, duplicates kept so they can
/// be refused, plus the path of the first key repeated inside a nested value.
struct Entries {
    members: Vec<(String, Value)>,
    nested_repeat: Option<String>,
}

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor;
        impl<'de> Visitor<'de> for EntriesVisitor {
            type Value = Entries;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries, A::Error> {
                let mut members = Vec::new();
                let mut nested_repeat = None;
                while let Some((key, checked)) = map.next_entry::<String, Checked>()? {
                    if nested_repeat.is_none() {
                        nested_repeat = checked.repeat.map(|path| join_path(&key, &path));
                    }
                    members.push((key, checked.value));
                }
                Ok(Entries {
                    members,
                    nested_repeat,
                })
            }
        }
        deserializer.deserialize_map(EntriesVisitor)
    }
}

/// A JSON value and the path of the first key repeated inside it (`from`,
/// `a.b`, `[2].c`): `serde_json::Value` keeps only the last of repeated keys,
/// so repeats are caught while the value is read, at any depth.
struct Checked {
    value: Value,
    repeat: Option<String>,
}

impl From<Value> for Checked {
    fn from(value: Value) -> Self {
        Checked {
            value,
            repeat: None,
        }
    }
}

/// `parent` then `child` as one path: `window.from`, `qualifiers[1]`.
fn join_path(parent: &str, child: &str) -> String {
    if child.starts_with('[') {
        format!("{parent}{child}")
    } else {
        format!("{parent}.{child}")
    }
}

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CheckedVisitor;
        impl<'de> Visitor<'de> for CheckedVisitor {
            type Value = Checked;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E>(self, v: bool) -> Result<Checked, E> {
                Ok(Value::Bool(v).into())
            }
            fn visit_i64<E>(self, v: i64) -> Result<Checked, E> {
                Ok(Value::from(v).into())
            }
            fn visit_u64<E>(self, v: u64) -> Result<Checked, E> {
                Ok(Value::from(v).into())
            }
            fn visit_f64<E>(self, v: f64) -> Result<Checked, E> {
                Ok(Value::from(v).into())
            }
            fn visit_str<E>(self, v: &str) -> Result<Checked, E> {
                Ok(Value::String(v.to_owned()).into())
            }
            fn visit_string<E>(self, v: String) -> Result<Checked, E> {
                Ok(Value::String(v).into())
            }
            fn visit_unit<E>(self) -> Result<Checked, E> {
                Ok(Value::Null.into())
            }
            fn visit_none<E>(self) -> Result<Checked, E> {
                Ok(Value::Null.into())
            }
            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Checked, D2::Error> {
                Checked::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Checked, A::Error> {
                let mut items = Vec::new();
                let mut repeat = None;
                while let Some(item) = seq.next_element::<Checked>()? {
                    if repeat.is_none() {
                        repeat = item
                            .repeat
                            .map(|path| join_path(&format!("[{}]", items.len()), &path));
                    }
                    items.push(item.value);
                }
                Ok(Checked {
                    value: Value::Array(items),
                    repeat,
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Checked, A::Error> {
                let mut object = serde_json::Map::new();
                let mut repeat = None;
                while let Some((key, item)) = map.next_entry::<String, Checked>()? {
                    if repeat.is_none() {
                        if object.contains_key(&key) {
                            repeat = Some(key.clone());
                        } else if let Some(path) = item.repeat {
                            repeat = Some(join_path(&key, &path));
                        }
                    }
                    object.insert(key, item.value);
                }
                Ok(Checked {
                    value: Value::Object(object),
                    repeat,
                })
            }
        }
        deserializer.deserialize_any(CheckedVisitor)
    }
}

/// A serde_json error's message with its position as `column N` only: a line
/// is one line, so `at line 1 column N` would repeat what the caller's
/// `line N:` prefix already says (and wrongly, for line N > 1).
fn without_line(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let position = format!(" at line {} column {}", e.line(), e.column());
    match text.strip_suffix(&position) {
        Some(message) => format!("{message} at column {}", e.column()),
        None => text,
    }
}

use crate::error::one_line;

/// A short, one-line rendering of a JSON value for error messages.
fn describe(v: &Value) -> String {
    match v {
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
        other => {
            let text = other.to_string();
            if text.chars().count() > 40 {
                let cut: String = text.chars().take(37).collect();
                format!("{cut}...")
            } else {
                text
            }
        }
    }
}

fn wrong(field: impl Into<String>, expected: &'static str, v: &Value) -> InterchangeError {
    InterchangeError::WrongType {
        field: field.into(),
        expected,
        found: describe(v),
    }
}

fn string_of(field: &str, v: Value) -> Result<String, InterchangeError> {
    match v {
        Value::String(s) => Ok(s),
        other => Err(wrong(field, "a string", &other)),
    }
}

/// The non-null fields of one object, checked against what is allowed there.
struct Fields {
    place: &'static str,
    map: HashMap<String, Value>,
}

impl Fields {
    /// Refuses unknown and repeated fields, then drops `null`s (they mean absent).
    fn new(
        place: &'static str,
        entries: Vec<(String, Value)>,
        allowed: &'static [&'static str],
    ) -> Result<Self, InterchangeError> {
        let mut seen = HashSet::new();
        for (key, _) in &entries {
            if !allowed.contains(&key.as_str()) {
                return Err(InterchangeError::UnknownField {
                    place,
                    field: one_line(key),
                    allowed,
                });
            }
            if !seen.insert(key.as_str()) {
                return Err(InterchangeError::DuplicateField {
                    place,
                    field: one_line(key),
                });
            }
        }
        let map = entries.into_iter().filter(|(_, v)| !v.is_null()).collect();
        Ok(Self { place, map })
    }

    fn opt(&mut self, field: &str) -> Option<Value> {
        self.map.remove(field)
    }

    fn req(&mut self, field: &'static str) -> Result<Value, InterchangeError> {
        self.opt(field).ok_or(InterchangeError::MissingField {
            place: self.place,
            field,
        })
    }

    fn req_str(&mut self, field: &'static str) -> Result<String, InterchangeError> {
        string_of(field, self.req(field)?)
    }

    fn opt_str(&mut self, field: &'static str) -> Result<Option<String>, InterchangeError> {
        self.opt(field).map(|v| string_of(field, v)).transpose()
    }

    fn req_when(&mut self, field: &'static str) -> Result<When, InterchangeError> {
        Ok(self.req_str(field)?.parse()?)
    }

    fn opt_party(&mut self, field: &'static str) -> Result<Option<PartyId>, InterchangeError> {
        Ok(self.opt_str(field)?.map(|s| PartyId::new(&s)).transpose()?)
    }

    fn opt_f64(&mut self, field: &'static str) -> Result<Option<f64>, InterchangeError> {
        self.opt(field)
            .map(|v| v.as_f64().ok_or_else(|| wrong(field, "a number", &v)))
            .transpose()
    }

    fn strings(&mut self, field: &'static str) -> Result<Vec<String>, InterchangeError> {
        match self.opt(field) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| string_of(&format!("{field}[{i}]"), v))
                .collect(),
            Some(other) => Err(wrong(field, "an array of strings", &other)),
        }
    }

    /// Checks the fields every line may carry: returns `event_id` and
    /// `recorded_by`, checks and ignores `seq` and `recorded_at`.
    fn common(&mut self) -> Result<(Option<EventId>, Option<Recorder>), InterchangeError> {
        if let Some(seq) = self.opt("seq").filter(|v| v.as_u64().is_none()) {
            return Err(wrong("seq", "a non-negative integer", &seq));
        }
        if let Some(at) = self.opt_str("recorded_at")? {
            at.parse::<When>()?;
        }
        let recorded_by = self
            .opt_str("recorded_by")?
            .map(Recorder::new)
            .transpose()?;
        let event_id = self.opt_str("event_id")?.map(|s| s.parse()).transpose()?;
        Ok((event_id, recorded_by))
    }
}

fn parse_window(v: Value) -> Result<Window, InterchangeError> {
    let Value::Object(map) = v else {
        return Err(wrong("window", "an object with from and to", &v));
    };
    let mut f = Fields::new("a window", map.into_iter().collect(), WINDOW_FIELDS)?;
    let from = f.req_when("from")?;
    let to = f.req_when("to")?;
    Ok(Window::new(from, to)?)
}

/// Reads one JSON line into the event id it gives (if any) and the draft to validate.
pub fn parse_line(line: &str) -> Result<InputEvent, InterchangeError> {
    let (entries, nested_repeat) = match serde_json::from_str::<Entries>(line) {
        Ok(Entries {
            members,
            nested_repeat,
        }) => (members, nested_repeat),
        Err(e) if e.is_data() => {
            // Valid JSON that is not an object: say what it is.
            let found = serde_json::from_str::<Value>(line)
                .map(|v| describe(&v))
                .unwrap_or_else(|_| without_line(&e));
            return Err(InterchangeError::NotAnObject(found));
        }
        Err(e) => return Err(InterchangeError::MalformedJson(without_line(&e))),
    };
    let ty = match entries.iter().find(|(k, _)| k == "type") {
        None | Some((_, Value::Null)) => {
            return Err(InterchangeError::MissingField {
                place: "a line",
                field: "type",
            });
        }
        Some((_, Value::String(s))) => s.clone(),
        Some((_, other)) => return Err(wrong("type", "a string", other)),
    };
    let (place, allowed) = match ty.as_str() {
        "party" => ("a party line", PARTY_FIELDS),
        "proposition" => ("a proposition line", PROPOSITION_FIELDS),
        "statement" => ("a statement line", STATEMENT_FIELDS),
        "retraction" => ("a retraction line", RETRACTION_FIELDS),
        "resolution" => ("a resolution line", RESOLUTION_FIELDS),
        _ => return Err(InterchangeError::UnknownType(one_line(&ty))),
    };
    let mut f = Fields::new(place, entries, allowed)?;
    if let Some(path) = nested_repeat {
        return Err(InterchangeError::DuplicateField {
            place,
            field: one_line(&path),
        });
    }
    f.opt("type");
    let (event_id, recorded_by) = f.common()?;
    let draft = match ty.as_str() {
        "party" => Draft::Party(Party {
            id: PartyId::new(&f.req_str("id")?)?,
            name: f.req_str("name")?,
            kind: match f.opt_str("kind")? {
                Some(k) => k.parse()?,
                None => crate::PartyKind::Person,
            },
            speaks_for: f.opt_party("speaks_for")?,
            aliases: f.strings("aliases")?,
        }),
        "proposition" => Draft::Proposition(Proposition {
            id: PropositionId::new(&f.req_str("id")?)?,
            text: f.req_str("text")?,
            criteria: f.opt_str("criteria")?,
            window: f.opt("window").map(parse_window).transpose()?,
        }),
        "statement" => Draft::Statement(StatementDraft {
            proposition: PropositionId::new(&f.req_str("proposition")?)?,
            party: f.opt_party("party")?,
            speaker: f.opt_party("speaker")?,
            stance: f.req_str("stance")?.parse()?,
            credence: f.opt_f64("credence")?,
            said_at: f.req_when("said_at")?,
            quote: f.opt_str("quote")?,
            source: f.opt_str("source")?,
            qualifiers: f.strings("qualifiers")?,
        }),
        "retraction" => Draft::Retraction(StatementRetracted {
            statement: f.req_str("statement")?.parse()?,
            reason: f.req_str("reason")?,
        }),
        _ => Draft::Resolution(PropositionResolved {
            proposition: PropositionId::new(&f.req_str("proposition")?)?,
            outcome: f.req_str("outcome")?.parse()?,
            resolved_at: f.req_when("resolved_at")?,
            source: f.opt_str("source")?,
            note: f.opt_str("note")?,
        }),
    };
    Ok(InputEvent {
        event_id,
        recorded_by,
        draft,
    })
}

#[derive(Serialize)]
struct Line<'a, T> {
    #[serde(rename = "type")]
    ty: &'static str,
    seq: u64,
    event_id: String,
    recorded_at: String,
    // Written only when the record has one (envelope version 2), so that the
    // export of a ledger recorded before it stays the same, byte for byte.
    #[serde(skip_serializing_if = "Option::is_none")]
    recorded_by: Option<&'a str>,
    #[serde(flatten)]
    body: T,
}

#[derive(Serialize)]
struct PartyOut<'a> {
    id: &'a str,
    name: &'a str,
    kind: &'static str,
    speaks_for: Option<&'a str>,
    // Written only when the party has aliases, so that the export of a ledger
    // recorded before aliases existed stays the same, byte for byte.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    aliases: &'a [String],
}

#[derive(Serialize)]
struct WindowOut {
    from: String,
    to: String,
}

#[derive(Serialize)]
struct PropositionOut<'a> {
    id: &'a str,
    text: &'a str,
    criteria: Option<&'a str>,
    window: Option<WindowOut>,
}

#[derive(Serialize)]
struct StatementOut<'a> {
    proposition: &'a str,
    party: &'a str,
    speaker: &'a str,
    stance: &'static str,
    credence: Option<f64>,
    said_at: String,
    quote: Option<&'a str>,
    source: Option<&'a str>,
    qualifiers: &'a [String],
}

#[derive(Serialize)]
struct RetractionOut<'a> {
    statement: String,
    reason: &'a str,
}

#[derive(Serialize)]
struct ResolutionOut<'a> {
    proposition: &'a str,
    outcome: &'static str,
    resolved_at: String,
    source: Option<&'a str>,
    note: Option<&'a str>,
}

impl<'a> From<&'a Party> for PartyOut<'a> {
    fn from(p: &'a Party) -> Self {
        PartyOut {
            id: p.id.as_str(),
            name: &p.name,
            kind: p.kind.name(),
            speaks_for: p.speaks_for.as_ref().map(PartyId::as_str),
            aliases: &p.aliases,
        }
    }
}

impl<'a> From<&'a Proposition> for PropositionOut<'a> {
    fn from(p: &'a Proposition) -> Self {
        PropositionOut {
            id: p.id.as_str(),
            text: &p.text,
            criteria: p.criteria.as_deref(),
            window: p.window.map(|w| WindowOut {
                from: w.from.to_string(),
                to: w.to.to_string(),
            }),
        }
    }
}

impl<'a> From<&'a StatementRetracted> for RetractionOut<'a> {
    fn from(r: &'a StatementRetracted) -> Self {
        RetractionOut {
            statement: r.statement.to_string(),
            reason: &r.reason,
        }
    }
}

impl<'a> From<&'a PropositionResolved> for ResolutionOut<'a> {
    fn from(r: &'a PropositionResolved) -> Self {
        ResolutionOut {
            proposition: r.proposition.as_str(),
            outcome: r.outcome.name(),
            resolved_at: r.resolved_at.to_string(),
            source: r.source.as_deref(),
            note: r.note.as_deref(),
        }
    }
}

fn line<T: Serialize>(rec: &Recorded, body: T) -> String {
    let line = Line {
        ty: rec.event.event_type().json_name(),
        seq: rec.seq,
        event_id: rec.event_id.to_string(),
        recorded_at: When::instant(rec.recorded_at).to_rfc3339(),
        recorded_by: rec.recorded_by.as_ref().map(Recorder::as_str),
        body,
    };
    serde_json::to_string(&line).expect("plain structs with string keys always serialise")
}

/// Writes one recorded event as a compact JSON line (no newline), every field explicit.
pub fn write_line(rec: &Recorded) -> String {
    match &rec.event {
        Event::PartyRegistered(p) => line(rec, PartyOut::from(p)),
        Event::PropositionOpened(p) => line(rec, PropositionOut::from(p)),
        Event::StatementRecorded(s) => line(
            rec,
            StatementOut {
                proposition: s.proposition.as_str(),
                party: s.party.as_str(),
                speaker: s.speaker.as_str(),
                stance: s.stance.name(),
                credence: s.credence,
                said_at: s.said_at.to_string(),
                quote: s.quote.as_deref(),
                source: s.source.as_deref(),
                qualifiers: &s.qualifiers,
            },
        ),
        Event::StatementRetracted(r) => line(rec, RetractionOut::from(r)),
        Event::PropositionResolved(r) => line(rec, ResolutionOut::from(r)),
    }
}

/// A statement as a line asks for it: party and speaker may be left to the ledger.
#[derive(Serialize)]
struct StatementDraftOut<'a> {
    proposition: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    party: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    speaker: Option<&'a str>,
    stance: &'static str,
    credence: Option<f64>,
    said_at: String,
    quote: Option<&'a str>,
    source: Option<&'a str>,
    qualifiers: &'a [String],
}

/// A draft (and the event id it asks for) as one JSON line that
/// [`parse_line`] reads back to the same [`InputEvent`]: what a client
/// sends a server to append the event the flags describe.
pub fn draft_line(input: &InputEvent) -> String {
    #[derive(Serialize)]
    struct DraftLine<'a, T> {
        #[serde(rename = "type")]
        ty: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        event_id: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        recorded_by: Option<&'a str>,
        #[serde(flatten)]
        body: T,
    }
    fn of<T: Serialize>(
        ty: &'static str,
        event_id: Option<EventId>,
        recorded_by: Option<&str>,
        body: T,
    ) -> String {
        let line = DraftLine {
            ty,
            event_id: event_id.map(|id| id.to_string()),
            recorded_by,
            body,
        };
        serde_json::to_string(&line).expect("plain structs with string keys always serialise")
    }
    let event_id = input.event_id;
    let recorded_by = input.recorded_by.as_ref().map(Recorder::as_str);
    let draft = &input.draft;
    match draft {
        Draft::Party(p) => of("party", event_id, recorded_by, PartyOut::from(p)),
        Draft::Proposition(p) => of(
            "proposition",
            event_id,
            recorded_by,
            PropositionOut::from(p),
        ),
        Draft::Statement(s) => of(
            "statement",
            event_id,
            recorded_by,
            StatementDraftOut {
                proposition: s.proposition.as_str(),
                party: s.party.as_ref().map(PartyId::as_str),
                speaker: s.speaker.as_ref().map(PartyId::as_str),
                stance: s.stance.name(),
                credence: s.credence,
                said_at: s.said_at.to_string(),
                quote: s.quote.as_deref(),
                source: s.source.as_deref(),
                qualifiers: &s.qualifiers,
            },
        ),
        Draft::Retraction(r) => of("retraction", event_id, recorded_by, RetractionOut::from(r)),
        Draft::Resolution(r) => of("resolution", event_id, recorded_by, ResolutionOut::from(r)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::{BatchOverlay, PendingFacts, Rejection, validate};
    use crate::{LedgerFacts, Outcome, PartyKind, Precision, Stance, StatementFacts};
    use proptest::prelude::*;
    use std::convert::Infallible;

    const EXAMPLE: &str = include_str!("../../../examples/armistice-2018.jsonl");

    /// A ledger holding exactly the given parties, open propositions and statements.
    #[derive(Default)]
    struct Facts {
        parties: Vec<PartyId>,
        propositions: Vec<PropositionId>,
        statements: Vec<EventId>,
    }

    impl LedgerFacts for Facts {
        type Error = Infallible;
        fn party(&self, id: &PartyId) -> Result<Option<Party>, Infallible> {
            Ok(self.parties.contains(id).then(|| Party {
                id: id.clone(),
                name: id.to_string(),
                kind: PartyKind::Person,
                speaks_for: None,
                aliases: Vec::new(),
            }))
        }
        fn proposition(&self, id: &PropositionId) -> Result<Option<bool>, Infallible> {
            Ok(self.propositions.contains(id).then_some(false))
        }
        fn statement(&self, id: &EventId) -> Result<Option<StatementFacts>, Infallible> {
            Ok(self.statements.contains(id).then(|| StatementFacts {
                proposition: PropositionId::new("p").unwrap(),
                party: PartyId::new("p").unwrap(),
                retracted: false,
            }))
        }
    }

    /// The facts an event needs to be valid: whatever it refers to, and nothing it creates.
    fn facts_for(event: &Event) -> Facts {
        let mut f = Facts::default();
        match event {
            Event::PartyRegistered(p) => f.parties.extend(p.speaks_for.clone()),
            Event::PropositionOpened(_) => {}
            Event::StatementRecorded(s) => {
                f.parties.push(s.party.clone());
                f.parties.push(s.speaker.clone());
                f.propositions.push(s.proposition.clone());
            }
            Event::StatementRetracted(r) => f.statements.push(r.statement),
            Event::PropositionResolved(r) => f.propositions.push(r.proposition.clone()),
        }
        f
    }

    fn parse(line: &str) -> Draft {
        parse_line(line)
            .unwrap_or_else(|e| panic!("{line}: {e}"))
            .draft
    }

    fn err(line: &str) -> String {
        parse_line(line).unwrap_err().to_string()
    }

    fn pid(s: &str) -> PartyId {
        PartyId::new(s).unwrap()
    }

    fn prop(s: &str) -> PropositionId {
        PropositionId::new(s).unwrap()
    }

    fn day(s: &str) -> When {
        s.parse().unwrap()
    }

    const STATEMENT: &str = r#"{"type":"statement","proposition":"paris-meeting","speaker":"peskov","stance":"almost-certain","said_at":"2018-11-06","quote":"They will certainly meet","source":"https://example.org/a","qualifiers":["brief"]}"#;

    fn peskov_statement() -> StatementDraft {
        StatementDraft {
            proposition: prop("paris-meeting"),
            party: None,
            speaker: Some(pid("peskov")),
            stance: Stance::AlmostCertain,
            credence: None,
            said_at: day("2018-11-06"),
            quote: Some("They will certainly meet".into()),
            source: Some("https://example.org/a".into()),
            qualifiers: vec!["brief".into()],
        }
    }

    #[test]
    fn a_party_line_parses_with_kind_defaulting_to_person() {
        assert_eq!(
            parse(r#"{"type":"party","id":"trump","name":"Donald Trump"}"#),
            Draft::Party(Party {
                id: pid("trump"),
                name: "Donald Trump".into(),
                kind: PartyKind::Person,
                speaks_for: None,
                aliases: Vec::new(),
            })
        );
        assert_eq!(
            parse(
                r#"{"type":"party","id":"peskov","name":"Dmitry Peskov","kind":"person","speaks_for":"kremlin"}"#
            ),
            Draft::Party(Party {
                id: pid("peskov"),
                name: "Dmitry Peskov".into(),
                kind: PartyKind::Person,
                speaks_for: Some(pid("kremlin")),
                aliases: Vec::new(),
            })
        );
        let Draft::Party(p) =
            parse(r#"{"type":"party","id":"kremlin","name":"The Kremlin","kind":"government"}"#)
        else {
            panic!("not a party")
        };
        assert_eq!(p.kind, PartyKind::Government);
    }

    #[test]
    fn a_party_s_aliases_are_read_written_only_when_present_and_must_be_strings() {
        let Draft::Party(p) = parse(
            r#"{"type":"party","id":"putin","name":"Vladimir Putin","aliases":["Putin","the Russian president"]}"#,
        ) else {
            panic!("not a party")
        };
        assert_eq!(p.aliases, ["Putin", "the Russian president"]);
        let line = write_line(&recorded(Event::PartyRegistered(p.clone())));
        assert!(
            line.ends_with(r#""speaks_for":null,"aliases":["Putin","the Russian president"]}"#),
            "{line}"
        );
        assert_eq!(parse(&line), Draft::Party(p.clone()));
        let plain = Party {
            aliases: Vec::new(),
            ..p
        };
        let line = write_line(&recorded(Event::PartyRegistered(plain)));
        assert!(line.ends_with(r#""speaks_for":null}"#), "{line}");
        assert_eq!(
            err(r#"{"type":"party","id":"a","name":"A","aliases":"A."}"#),
            "field `aliases` must be an array of strings, found \"A.\""
        );
        assert_eq!(
            err(r#"{"type":"party","id":"a","name":"A","aliases":["B",7]}"#),
            "field `aliases[1]` must be a string, found 7"
        );
    }

    #[test]
    fn a_proposition_line_parses_with_and_without_window() {
        let line = r#"{"type":"proposition","id":"paris-meeting","text":"They meet","criteria":"Any talk","window":{"from":"2018-11-10","to":"2018-11-12"}}"#;
        assert_eq!(
            parse(line),
            Draft::Proposition(Proposition {
                id: prop("paris-meeting"),
                text: "They meet".into(),
                criteria: Some("Any talk".into()),
                window: Some(Window::new(day("2018-11-10"), day("2018-11-12")).unwrap()),
            })
        );
        let bare = parse(r#"{"type":"proposition","id":"p","text":"T"}"#);
        let Draft::Proposition(p) = bare else {
            panic!("not a proposition")
        };
        assert_eq!((p.criteria, p.window), (None, None));
    }

    #[test]
    fn a_statement_line_parses() {
        let input = parse_line(STATEMENT).unwrap();
        assert_eq!(input.event_id, None);
        assert_eq!(input.draft, Draft::Statement(peskov_statement()));
        let with_credence = parse(
            r#"{"type":"statement","proposition":"p","party":"trump","stance":"likely","credence":0.6,"said_at":"2018-11-05T14:30:00Z"}"#,
        );
        let Draft::Statement(s) = with_credence else {
            panic!("not a statement")
        };
        assert_eq!(s.credence, Some(0.6));
        assert_eq!(s.said_at.precision(), Precision::Instant);
        assert_eq!((s.party, s.speaker), (Some(pid("trump")), None));
        assert!(s.qualifiers.is_empty());
    }

    #[test]
    fn retraction_and_resolution_lines_parse() {
        let id = EventId::v7_at(1_700_000_000_000_000);
        let line = format!(
            r#"{{"type":"retraction","event_id":"{id}","statement":"{id}","reason":"misquoted"}}"#
        );
        let input = parse_line(&line).unwrap();
        assert_eq!(input.event_id, Some(id));
        assert_eq!(
            input.draft,
            Draft::Retraction(StatementRetracted {
                statement: id,
                reason: "misquoted".into(),
            })
        );
        assert_eq!(
            parse(
                r#"{"type":"resolution","proposition":"paris-meeting","outcome":"happened","resolved_at":"2018-11-11","source":"s","note":"n"}"#
            ),
            Draft::Resolution(PropositionResolved {
                proposition: prop("paris-meeting"),
                outcome: Outcome::Happened,
                resolved_at: day("2018-11-11"),
                source: Some("s".into()),
                note: Some("n".into()),
            })
        );
    }

    #[test]
    fn allowed_fields_are_exactly_the_exported_ones_in_order() {
        let statement = crate::StatementRecorded {
            proposition: prop("p"),
            party: pid("a"),
            speaker: pid("a"),
            stance: Stance::Likely,
            credence: Some(0.6),
            said_at: day("2018-11-05"),
            quote: None,
            source: None,
            qualifiers: Vec::new(),
        };
        let events = [
            (
                Event::PartyRegistered(Party {
                    id: pid("a"),
                    name: "A".into(),
                    kind: PartyKind::Person,
                    speaks_for: None,
                    aliases: vec!["Mr A".into()],
                }),
                PARTY_FIELDS,
            ),
            (
                Event::PropositionOpened(Proposition {
                    id: prop("p"),
                    text: "T".into(),
                    criteria: None,
                    window: None,
                }),
                PROPOSITION_FIELDS,
            ),
            (Event::StatementRecorded(statement), STATEMENT_FIELDS),
            (
                Event::StatementRetracted(StatementRetracted {
                    statement: EventId::v7_at(1_700_000_000_000_000),
                    reason: "r".into(),
                }),
                RETRACTION_FIELDS,
            ),
            (
                Event::PropositionResolved(PropositionResolved {
                    proposition: prop("p"),
                    outcome: Outcome::Happened,
                    resolved_at: day("2018-11-11"),
                    source: None,
                    note: None,
                }),
                RESOLUTION_FIELDS,
            ),
        ];
        for (event, allowed) in events {
            let line = write_line(&Recorded {
                recorded_by: Some(Recorder::new("local:alice").unwrap()),
                ..recorded(event)
            });
            let Entries {
                members: entries, ..
            } = serde_json::from_str(&line).unwrap();
            let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
            assert_eq!(keys, allowed, "{line}");
        }
    }

    #[test]
    fn every_example_line_in_the_schema_doc_parses() {
        let doc = include_str!("../../../docs/event-schema.md");
        let lines: Vec<&str> = doc.lines().filter(|l| l.starts_with("{\"type\"")).collect();
        assert!(lines.len() >= 8, "found {}", lines.len());
        for line in lines {
            parse(line);
        }
    }

    #[test]
    fn credences_read_back_bit_for_bit() {
        // Without serde_json's `float_roundtrip` this one reads back one ulp low.
        let c = 0.12161984804808465_f64;
        let line = format!(
            r#"{{"type":"statement","proposition":"p","party":"a","stance":"very-unlikely","credence":{c},"said_at":"2018-11-05"}}"#
        );
        let Draft::Statement(s) = parse(&line) else {
            panic!("not a statement")
        };
        assert_eq!(s.credence.map(f64::to_bits), Some(c.to_bits()));
    }

    #[test]
    fn an_unknown_field_is_refused_by_name_with_the_allowed_ones() {
        let line = STATEMENT.replace("\"stance\"", "\"stanse\"");
        let msg = err(&line);
        assert!(
            msg.starts_with("unknown field `stanse` in a statement line"),
            "{msg}"
        );
        assert!(
            msg.contains(
                "allowed are type, seq, event_id, recorded_at, recorded_by, proposition, party, speaker, stance,"
            ),
            "{msg}"
        );
        // Even with a null value, and inside a window.
        let msg = err(r#"{"type":"party","id":"a","name":"A","nmae":null}"#);
        assert!(msg.starts_with("unknown field `nmae`"), "{msg}");
        let msg = err(
            r#"{"type":"proposition","id":"p","text":"T","window":{"from":"2018-11-10","till":"2018-11-12"}}"#,
        );
        assert_eq!(
            msg,
            "unknown field `till` in a window: allowed are from, to"
        );
        assert!(!msg.contains('\n'));
    }

    #[test]
    fn names_from_the_input_stay_on_one_line_in_errors() {
        assert_eq!(
            err(r#"{"type":"party","id":"a","name":"A","na\nme":1}"#),
            "unknown field `na\\nme` in a party line: allowed are type, seq, event_id, recorded_at, recorded_by, id, name, kind, speaks_for, aliases"
        );
        assert!(err(r#"{"type":"spe\u0007ech"}"#).starts_with("unknown type `spe\\u{7}ech`"));
    }

    #[test]
    fn a_repeated_field_is_refused() {
        let msg = err(r#"{"type":"party","id":"a","name":"A","name":"B"}"#);
        assert_eq!(msg, "duplicate field `name` in a party line");
    }

    #[test]
    fn a_key_repeated_at_any_depth_is_refused_by_its_path() {
        let window = r#"{"type":"proposition","id":"p1","text":"T","window":{"from":"2018-01-01","from":"2018-02-01","to":"2018-06-01"}}"#;
        assert_eq!(
            err(window),
            "duplicate field `window.from` in a proposition line"
        );
        let to_null = r#"{"type":"proposition","id":"p1","text":"T","window":{"from":"2018-01-01","to":"2018-06-01","to":null}}"#;
        assert_eq!(
            err(to_null),
            "duplicate field `window.to` in a proposition line"
        );
        let deep = r#"{"type":"statement","proposition":"p","party":"a","stance":"likely","said_at":"2018-01-01","qualifiers":["x",{"k":{"z":1,"z":2}}]}"#;
        assert_eq!(
            err(deep),
            "duplicate field `qualifiers[1].k.z` in a statement line"
        );
    }

    #[test]
    fn json_errors_give_the_column_only() {
        let msg = err(r#"{"type":"party"} x"#);
        assert_eq!(msg, "malformed JSON: trailing characters at column 18");
    }

    #[test]
    fn wrong_json_types_are_refused_naming_field_and_value() {
        let cases = [
            (
                r#"{"type":"statement","proposition":"p","party":"a","stance":"likely","credence":"high","said_at":"2018-11-05"}"#,
                r#"field `credence` must be a number, found "high""#,
            ),
            (
                r#"{"type":"party","id":"a","name":5}"#,
                "field `name` must be a string, found 5",
            ),
            (
                r#"{"type":"statement","proposition":"p","party":"a","stance":"likely","said_at":"2018-11-05","qualifiers":"brief"}"#,
                r#"field `qualifiers` must be an array of strings, found "brief""#,
            ),
            (
                r#"{"type":"statement","proposition":"p","party":"a","stance":"likely","said_at":"2018-11-05","qualifiers":["brief",3]}"#,
                "field `qualifiers[1]` must be a string, found 3",
            ),
            (
                r#"{"type":"proposition","id":"p","text":"T","window":"2018-11-10..2018-11-12"}"#,
                r#"field `window` must be an object with from and to, found "2018-11-10..2018-11-12""#,
            ),
            (
                r#"{"type":"party","id":"a","name":"A","seq":-1}"#,
                "field `seq` must be a non-negative integer, found -1",
            ),
            (r#"{"type":7}"#, "field `type` must be a string, found 7"),
        ];
        for (line, expected) in cases {
            assert_eq!(err(line), expected, "{line}");
        }
    }

    #[test]
    fn malformed_and_non_object_lines_are_refused() {
        assert!(err(r#"{"type":"party""#).starts_with("malformed JSON: "));
        assert!(err("").starts_with("malformed JSON: "));
        assert_eq!(err("[1,2]"), "expected a JSON object, found an array");
        assert_eq!(
            err(r#""party""#),
            r#"expected a JSON object, found "party""#
        );
        assert_eq!(
            err(r#"{"type":"speech"}"#),
            "unknown type `speech`: expected one of party, proposition, statement, retraction, resolution"
        );
        assert_eq!(err(r#"{"id":"a"}"#), "missing field `type` in a line");
    }

    #[test]
    fn missing_required_fields_are_named() {
        let line = STATEMENT.replace(r#","said_at":"2018-11-06""#, "");
        assert_eq!(err(&line), "missing field `said_at` in a statement line");
        // null means absent, so a null required field is missing too.
        let line = STATEMENT.replace(r#""said_at":"2018-11-06""#, r#""said_at":null"#);
        assert_eq!(err(&line), "missing field `said_at` in a statement line");
        assert_eq!(
            err(r#"{"type":"proposition","id":"p","text":"T","window":{"from":"2018-11-10"}}"#),
            "missing field `to` in a window"
        );
    }

    #[test]
    fn invalid_values_are_named() {
        let msg = err(r#"{"type":"party","id":"Trump","name":"Donald Trump"}"#);
        assert!(msg.starts_with("invalid party id `Trump`"), "{msg}");
        let msg = err(&STATEMENT.replace("\"paris-meeting\"", "\"Paris\""));
        assert!(msg.starts_with("invalid proposition id `Paris`"), "{msg}");
        let msg = err(&STATEMENT.replace("2018-11-06", "2018-11-31"));
        assert!(msg.starts_with("invalid time `2018-11-31`"), "{msg}");
        let msg = err(&STATEMENT.replace("almost-certain", "certain"));
        assert!(msg.starts_with("unknown stance `certain`"), "{msg}");
        let msg = err(r#"{"type":"party","id":"a","name":"A","kind":"company"}"#);
        assert!(msg.starts_with("unknown party kind `company`"), "{msg}");
        let msg = err(
            r#"{"type":"resolution","proposition":"p","outcome":"maybe","resolved_at":"2018-11-11"}"#,
        );
        assert!(msg.starts_with("unknown outcome `maybe`"), "{msg}");
        let msg = err(r#"{"type":"retraction","statement":"nope","reason":"r"}"#);
        assert!(msg.starts_with("invalid event id `nope`"), "{msg}");
        let msg = err(r#"{"type":"party","event_id":"x1","id":"a","name":"A"}"#);
        assert!(msg.starts_with("invalid event id `x1`"), "{msg}");
    }

    #[test]
    fn a_reversed_window_is_refused() {
        let msg = err(
            r#"{"type":"proposition","id":"p","text":"T","window":{"from":"2018-11-12","to":"2018-11-10"}}"#,
        );
        assert_eq!(msg, "window 2018-11-12..2018-11-10 ends before it starts");
    }

    #[test]
    fn null_optionals_read_as_absent() {
        let line = r#"{"type":"statement","event_id":null,"seq":null,"recorded_at":null,"proposition":"paris-meeting","party":null,"speaker":"peskov","stance":"almost-certain","credence":null,"said_at":"2018-11-06","quote":"They will certainly meet","source":"https://example.org/a","qualifiers":["brief"]}"#;
        assert_eq!(parse(line), Draft::Statement(peskov_statement()));
        let mut bare = peskov_statement();
        bare.quote = None;
        bare.source = None;
        bare.qualifiers = Vec::new();
        let line = r#"{"type":"statement","proposition":"paris-meeting","speaker":"peskov","stance":"almost-certain","said_at":"2018-11-06","quote":null,"source":null,"qualifiers":null}"#;
        assert_eq!(parse(line), Draft::Statement(bare));
        let Draft::Party(p) =
            parse(r#"{"type":"party","id":"a","name":"A","kind":null,"speaks_for":null}"#)
        else {
            panic!("not a party")
        };
        assert_eq!((p.kind, p.speaks_for), (PartyKind::Person, None));
    }

    #[test]
    fn recorded_by_is_read_and_written_after_recorded_at_only_when_present() {
        let line = STATEMENT.replacen(
            r#""type":"statement","#,
            r#""type":"statement","recorded_by":"local:alice","#,
            1,
        );
        let input = parse_line(&line).unwrap();
        assert_eq!(
            input.recorded_by,
            Some(Recorder::new("local:alice").unwrap())
        );
        assert_eq!(parse_line(STATEMENT).unwrap().recorded_by, None);
        let null = STATEMENT.replacen(
            r#""type":"statement","#,
            r#""type":"statement","recorded_by":null,"#,
            1,
        );
        assert_eq!(parse_line(&null).unwrap().recorded_by, None);
        for (bad, says) in [
            (
                r#""recorded_by":"""#,
                "invalid recorded_by ``: it must not be blank",
            ),
            (r#""recorded_by":7"#, "field `recorded_by` must be a string"),
            (
                r#""recorded_by":"a\u001b[2J""#,
                "invalid recorded_by `a\\u{1b}[2J`",
            ),
        ] {
            let line = STATEMENT.replacen(
                r#""type":"statement","#,
                &format!(r#""type":"statement",{bad},"#),
                1,
            );
            let err = parse_line(&line).unwrap_err().to_string();
            assert!(err.contains(says), "{bad}: {err}");
        }
        let mut rec = recorded(Event::StatementRetracted(StatementRetracted {
            statement: "01932c07-a3e0-7cc0-8f0e-5a2b4c6d8e9f".parse().unwrap(),
            reason: "misquoted".into(),
        }));
        assert!(!write_line(&rec).contains("recorded_by"));
        rec.recorded_by = Some(Recorder::new("desk-bot").unwrap());
        assert!(write_line(&rec).contains(
            r#""recorded_at":"2018-11-06T12:00:00Z","recorded_by":"desk-bot","statement":"#
        ));
    }

    #[test]
    fn seq_and_recorded_at_are_accepted_and_ignored() {
        let line = STATEMENT.replacen(
            r#""type":"statement","#,
            r#""type":"statement","seq":42,"recorded_at":"2024-01-02T03:04:05.123456Z","#,
            1,
        );
        assert_eq!(parse(&line), Draft::Statement(peskov_statement()));
        let bad = STATEMENT.replacen(
            r#""type":"statement","#,
            r#""type":"statement","recorded_at":"yesterday","#,
            1,
        );
        assert!(err(&bad).starts_with("invalid time `yesterday`"));
    }

    fn recorded(event: Event) -> Recorded {
        Recorded {
            seq: 7,
            event_id: "01932c07-a3e0-7cc0-8f0e-5a2b4c6d8e9f".parse().unwrap(),
            recorded_at: 1_541_505_600_000_000,
            recorded_by: None,
            event,
        }
    }

    #[test]
    fn a_statement_exports_as_a_pinned_line() {
        let rec = recorded(Event::StatementRecorded(crate::StatementRecorded {
            proposition: prop("paris-meeting"),
            party: pid("kremlin"),
            speaker: pid("peskov"),
            stance: Stance::AlmostCertain,
            credence: Some(0.97),
            said_at: day("2018-11-06"),
            quote: Some("They will certainly meet".into()),
            source: None,
            qualifiers: vec!["brief".into()],
        }));
        assert_eq!(
            write_line(&rec),
            r#"{"type":"statement","seq":7,"event_id":"01932c07-a3e0-7cc0-8f0e-5a2b4c6d8e9f","recorded_at":"2018-11-06T12:00:00Z","proposition":"paris-meeting","party":"kremlin","speaker":"peskov","stance":"almost-certain","credence":0.97,"said_at":"2018-11-06","quote":"They will certainly meet","source":null,"qualifiers":["brief"]}"#
        );
    }

    #[test]
    fn other_types_export_every_field_in_order() {
        let party = recorded(Event::PartyRegistered(Party {
            id: pid("trump"),
            name: "Donald Trump".into(),
            kind: PartyKind::Person,
            speaks_for: None,
            aliases: Vec::new(),
        }));
        assert_eq!(
            write_line(&party),
            r#"{"type":"party","seq":7,"event_id":"01932c07-a3e0-7cc0-8f0e-5a2b4c6d8e9f","recorded_at":"2018-11-06T12:00:00Z","id":"trump","name":"Donald Trump","kind":"person","speaks_for":null}"#
        );
        let opened = recorded(Event::PropositionOpened(Proposition {
            id: prop("paris-meeting"),
            text: "They meet".into(),
            criteria: None,
            window: Some(
                Window::new(day("2018-11-10"), "2018-11-12T18:00:00Z".parse().unwrap()).unwrap(),
            ),
        }));
        assert!(write_line(&opened).ends_with(
            r#""id":"paris-meeting","text":"They meet","criteria":null,"window":{"from":"2018-11-10","to":"2018-11-12T18:00:00Z"}}"#
        ));
        let declined = recorded(Event::StatementRecorded(crate::StatementRecorded {
            proposition: prop("p"),
            party: pid("a"),
            speaker: pid("a"),
            stance: Stance::Declined,
            credence: None,
            said_at: "2018-11-06T09:15:00.5+01:00".parse().unwrap(),
            quote: None,
            source: None,
            qualifiers: Vec::new(),
        }));
        assert!(write_line(&declined).ends_with(
            r#""proposition":"p","party":"a","speaker":"a","stance":"declined","credence":null,"said_at":"2018-11-06T08:15:00.500Z","quote":null,"source":null,"qualifiers":[]}"#
        ));
        let id = EventId::v7_at(1_700_000_000_000_000);
        let retracted = recorded(Event::StatementRetracted(StatementRetracted {
            statement: id,
            reason: "misquoted".into(),
        }));
        assert!(write_line(&retracted).ends_with(&format!(
            r#""recorded_at":"2018-11-06T12:00:00Z","statement":"{id}","reason":"misquoted"}}"#
        )));
        let resolved = recorded(Event::PropositionResolved(PropositionResolved {
            proposition: prop("p"),
            outcome: Outcome::DidNotHappen,
            resolved_at: day("2018-12-01"),
            source: None,
            note: None,
        }));
        assert!(write_line(&resolved).ends_with(
            r#""proposition":"p","outcome":"did-not-happen","resolved_at":"2018-12-01","source":null,"note":null}"#
        ));
        assert!(write_line(&resolved).starts_with(r#"{"type":"resolution","seq":7,"#));
    }

    /// Checks `parse_line(write_line(rec))` gives the same id and a draft validating to the same event.
    fn assert_round_trip(rec: &Recorded) {
        let line = write_line(rec);
        let input = parse_line(&line).unwrap_or_else(|e| panic!("{line}: {e}"));
        assert_eq!(input.event_id, Some(rec.event_id), "{line}");
        assert_eq!(input.recorded_by, rec.recorded_by, "{line}");
        match validate(input.draft, &facts_for(&rec.event)) {
            Ok(v) => assert_eq!(v.event, rec.event, "{line}"),
            Err(Rejection::Invalid(e)) => panic!("{line}: {e}"),
            Err(Rejection::Lookup(never)) => match never {},
        }
    }

    #[test]
    fn the_example_story_parses_and_validates_in_file_order() {
        let mut counts = [0usize; 5];
        let mut pending = PendingFacts::default();
        let mut trump_on_paris = Vec::new();
        for (n, line) in EXAMPLE.lines().enumerate() {
            let input = parse_line(line).unwrap_or_else(|e| panic!("line {}: {e}", n + 1));
            assert_eq!(input.event_id, None);
            let facts = BatchOverlay {
                base: &crate::validate::EmptyLedger,
                pending: &pending,
            };
            let v = match validate(input.draft, &facts) {
                Ok(v) => v,
                Err(Rejection::Invalid(e)) => panic!("line {}: {e}", n + 1),
                Err(Rejection::Lookup(never)) => match never {},
            };
            counts[v.event.event_type() as usize - 1] += 1;
            if let Event::StatementRecorded(s) = &v.event {
                assert!(s.quote.is_some() && s.source.is_some(), "line {}", n + 1);
                if s.party.as_str() == "trump" && s.proposition.as_str() == "paris-meeting" {
                    trump_on_paris.push(s.credence);
                }
            }
            let event_id = EventId::v7_at(1_700_000_000_000_000);
            pending
                .absorb(event_id, &v.event, &crate::validate::EmptyLedger)
                .unwrap();
            // Every event also survives export and re-import.
            assert_round_trip(&Recorded {
                seq: n as u64 + 1,
                event_id,
                recorded_at: 1_700_000_000_000_000 + n as i64,
                recorded_by: Recorder::new(format!("local:user{n}")).ok(),
                event: v.event,
            });
        }
        assert_eq!(counts, [5, 2, 8, 0, 2]);
        assert_eq!(trump_on_paris, [Some(0.675), Some(0.325)]);
    }

    fn arb_slug() -> impl Strategy<Value = String> {
        "[a-z0-9][a-z0-9-]{0,20}"
    }

    fn arb_text() -> impl Strategy<Value = String> {
        "[A-Za-z0-9\"\\\\é€😀][ -~é€😀\n\t]{0,40}"
    }

    /// A time as a user may type it: a date, or RFC 3339 with any fraction and offset.
    fn arb_time_text() -> impl Strategy<Value = String> {
        let year = prop_oneof![0..=1i32, 9998..=9999i32, 0..=9999i32];
        let offset = prop_oneof![
            Just("Z".to_owned()),
            (any::<bool>(), 0..24u32, 0..60u32)
                .prop_map(|(west, h, m)| format!("{}{h:02}:{m:02}", if west { '-' } else { '+' })),
        ];
        let fraction = proptest::option::of("[0-9]{1,9}");
        let anywhere = (
            year,
            (1..=12u32, 1..=31u32),
            proptest::option::of(((0..24u32, 0..60u32, 0..60u32), fraction.clone(), offset)),
        );
        // The first and last hours of the accepted years, with offsets that
        // may carry them across the edge in UTC.
        let first = (
            Just(0i32),
            Just((1u32, 1u32)),
            (
                (0..2u32, 0..60u32, 0..60u32),
                fraction.clone(),
                (0..3u32, 0..60u32),
            )
                .prop_map(|(t, f, (h, m))| Some((t, f, format!("+{h:02}:{m:02}")))),
        );
        let last = (
            Just(9999i32),
            Just((12u32, 31u32)),
            (
                (22..24u32, 0..60u32, 0..60u32),
                fraction,
                (0..3u32, 0..60u32),
            )
                .prop_map(|(t, f, (h, m))| Some((t, f, format!("-{h:02}:{m:02}")))),
        );
        prop_oneof![anywhere, first, last].prop_map(|(y, (mo, d), time)| match time {
            None => format!("{y:04}-{mo:02}-{d:02}"),
            Some(((h, mi, s), frac, off)) => {
                let frac = frac.map(|f| format!(".{f}")).unwrap_or_default();
                format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{frac}{off}")
            }
        })
    }

    /// Times the input accepts, often at the edges of the accepted years.
    fn arb_when() -> impl Strategy<Value = When> {
        arb_time_text().prop_filter_map("a time the input accepts", |s| s.parse().ok())
    }

    fn arb_statement() -> impl Strategy<Value = crate::StatementRecorded> {
        (
            (arb_slug(), arb_slug(), arb_slug()),
            (0..Stance::ALL.len(), proptest::option::of(0.0f64..=1.0)),
            arb_when(),
            proptest::option::of(arb_text()),
            proptest::option::of(arb_text()),
            proptest::collection::vec(arb_text(), 0..4),
        )
            .prop_map(
                |((p, party, speaker), (st, t), said_at, quote, source, qualifiers)| {
                    let stance = Stance::ALL[st];
                    let credence = match (stance.band(), t) {
                        (None, _) => None,
                        (Some(_), None) => stance.midpoint(),
                        (Some((lo, hi)), Some(t)) => Some((lo + (hi - lo) * t).clamp(lo, hi)),
                    };
                    crate::StatementRecorded {
                        proposition: prop(&p),
                        party: pid(&party),
                        speaker: pid(&speaker),
                        stance,
                        credence,
                        said_at,
                        quote,
                        source,
                        qualifiers,
                    }
                },
            )
    }

    fn arb_event() -> impl Strategy<Value = Event> {
        let kinds = [
            PartyKind::Person,
            PartyKind::Organization,
            PartyKind::Government,
        ];
        prop_oneof![
            (
                arb_slug(),
                arb_text(),
                0..3usize,
                proptest::option::of(arb_slug()),
                proptest::collection::vec("[A-Za-zé€😀][ -~é€😀]{0,20}", 0..3),
            )
                .prop_filter("a party cannot speak for itself", |(id, _, _, boss, _)| {
                    boss.as_ref() != Some(id)
                })
                .prop_filter(
                    "aliases are given once and differ from the name",
                    |(_, name, _, _, aliases)| {
                        let mut seen = vec![name.trim().to_lowercase()];
                        aliases.iter().all(|a| {
                            let folded = a.trim().to_lowercase();
                            let fresh = !folded.is_empty() && !seen.contains(&folded);
                            seen.push(folded);
                            fresh
                        })
                    }
                )
                .prop_map(
                    move |(id, name, k, boss, aliases)| Event::PartyRegistered(Party {
                        id: pid(&id),
                        name,
                        kind: kinds[k],
                        speaks_for: boss.as_deref().map(pid),
                        aliases,
                    })
                ),
            (
                arb_slug(),
                arb_text(),
                proptest::option::of(arb_text()),
                proptest::option::of((arb_when(), arb_when())),
            )
                .prop_map(|(id, text, criteria, window)| {
                    Event::PropositionOpened(Proposition {
                        id: prop(&id),
                        text,
                        criteria,
                        window: window.map(|(a, b)| {
                            let (from, to) = if a.micros() <= b.micros() {
                                (a, b)
                            } else {
                                (b, a)
                            };
                            Window::new(from, to).unwrap()
                        }),
                    })
                }),
            arb_statement().prop_map(Event::StatementRecorded),
            (any::<[u8; 16]>(), arb_text()).prop_map(|(b, reason)| {
                Event::StatementRetracted(StatementRetracted {
                    statement: EventId::from_bytes(b),
                    reason,
                })
            }),
            (
                arb_slug(),
                any::<bool>(),
                arb_when(),
                proptest::option::of(arb_text()),
                proptest::option::of(arb_text()),
            )
                .prop_map(|(p, happened, resolved_at, source, note)| {
                    Event::PropositionResolved(PropositionResolved {
                        proposition: prop(&p),
                        outcome: if happened {
                            Outcome::Happened
                        } else {
                            Outcome::DidNotHappen
                        },
                        resolved_at,
                        source,
                        note,
                    })
                }),
        ]
    }

    proptest! {
        #[test]
        fn every_event_round_trips_through_a_line(
            event in arb_event(),
            seq in any::<u64>(),
            id in any::<[u8; 16]>(),
            recorded_at in -2_208_988_800_000_000i64..4_102_444_800_000_000,
            recorded_by in proptest::option::of("[a-z:]{1,20}|[^\\p{C}]{1,40}"),
        ) {
            let recorded_by = recorded_by.and_then(|r| Recorder::new(r).ok());
            let rec = Recorded { seq, event_id: EventId::from_bytes(id), recorded_at, recorded_by, event };
            let line = write_line(&rec);
            prop_assert!(!line.contains('\n'));
            let head = format!(r#"{{"type":"{}","seq":{seq},"#, rec.event.event_type().json_name());
            prop_assert!(line.starts_with(&head), "{}", line);
            assert_round_trip(&rec);
        }

        #[test]
        fn every_draft_a_client_sends_reads_back_as_the_same_draft(
            event in arb_event(),
            id in proptest::option::of(any::<[u8; 16]>()),
            leave_party_to_the_ledger in any::<bool>(),
            by_someone in any::<bool>(),
        ) {
            let draft = match event {
                Event::PartyRegistered(p) => Draft::Party(p),
                Event::PropositionOpened(p) => Draft::Proposition(p),
                Event::StatementRecorded(s) => Draft::Statement(StatementDraft {
                    proposition: s.proposition,
                    party: (!leave_party_to_the_ledger).then_some(s.party),
                    speaker: (!leave_party_to_the_ledger).then_some(s.speaker),
                    stance: s.stance,
                    credence: s.credence,
                    said_at: s.said_at,
                    quote: s.quote,
                    source: s.source,
                    qualifiers: s.qualifiers,
                }),
                Event::StatementRetracted(r) => Draft::Retraction(r),
                Event::PropositionResolved(r) => Draft::Resolution(r),
            };
            let input = InputEvent {
                event_id: id.map(EventId::from_bytes),
                recorded_by: by_someone.then(|| Recorder::new("desk-bot").unwrap()),
                draft,
            };
            let line = draft_line(&input);
            prop_assert_eq!(parse_line(&line), Ok(input), "{}", line);
        }

        #[test]
        fn every_time_written_is_one_the_input_accepts(text in arb_time_text()) {
            if let Ok(when) = text.parse::<When>() {
                prop_assert_eq!(when.to_string().parse::<When>(), Ok(when), "{}", text);
                let instant = when.to_rfc3339().parse::<When>();
                prop_assert_eq!(instant.map(|w| w.micros()), Ok(when.micros()), "{}", text);
                prop_assert!(when.date_string().parse::<When>().is_ok(), "{}", text);
            }
        }
    }
}
