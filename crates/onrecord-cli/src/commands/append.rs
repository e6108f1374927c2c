//! `append`: record one event from flags, or a JSON Lines file in one atomic
//! batch (all lines or none), and report what was appended.
//!
//! Values are parsed with the domain's own parsers so a bad one is invalid
//! input (exit 1) naming the value; the store validates the event itself.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use onrecord_core::validate::EmptyLedger;
use onrecord_core::{
    BatchOverlay, Draft, EventId, LedgerFacts, Party, PartyId, PendingFacts, Proposition,
    PropositionId, PropositionResolved, Rejection, StatementDraft, StatementRetracted, When,
    validate,
};
use onrecord_store::{AppendOutcome, AppendRequest, ExpectedRevision, StoreError};
use serde::Serialize;

use crate::args::{AppendArgs, AppendKind, SingleOpts};
use crate::context::Context;
use crate::error::{CONFLICT, CliError, INVALID, code_of, read_error};
use crate::hints::{self, Known};
use crate::input::{MAX_REPORTED, NumberedEvent, abridge, read_events};
use crate::output::Out;
use crate::progress::{Busy, CountingReader, Progress, Unit};

/// Runs `append`, single or bulk.
pub fn run(ctx: &Context, args: AppendArgs) -> Result<(), CliError> {
    match (args.kind, args.jsonl) {
        (Some(kind), None) => single(ctx, kind, args.json),
        (None, Some(file)) => bulk(ctx, &file, args.json),
        (Some(kind), Some(_)) => Err(CliError::usage(format!(
            "append --jsonl cannot be combined with an event kind ({}): give one or the other",
            kind.name()
        ))),
        (None, None) => Err(CliError::usage(
            "append needs either an event kind (party, proposition, statement, retraction, resolution) or --jsonl FILE",
        )),
    }
}

fn party_id(s: &str) -> Result<PartyId, CliError> {
    Ok(PartyId::new(s)?)
}

fn opt_party(s: Option<String>) -> Result<Option<PartyId>, CliError> {
    s.as_deref().map(party_id).transpose()
}

fn when(s: &str) -> Result<When, CliError> {
    Ok(s.parse()?)
}

fn credence(s: &str) -> Result<f64, CliError> {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|c| c.is_finite() && (0.0..=1.0).contains(c))
        .ok_or_else(|| onrecord_core::DomainError::InvalidCredence(s.to_owned()).into())
}

/// A refused credence's message with the credence as the user typed it
/// (`1e-1000`, not the `0` it reads as); `None` if `e` is not about the credence.
fn credence_as_given(e: &onrecord_core::DomainError, given: &str) -> Option<CliError> {
    use onrecord_core::DomainError::{CredenceOutOfBand, CredenceWithDeclined};
    let read = match e {
        CredenceOutOfBand { credence, .. } | CredenceWithDeclined(credence) => credence,
        _ => return None,
    };
    let message = e.to_string();
    let rest = message.strip_prefix(&format!("credence {read} "))?;
    Some(CliError::invalid(format!("credence {given} {rest}")))
}

/// The draft and the single-append options a subcommand gives.
fn draft_of(kind: AppendKind) -> Result<(Draft, SingleOpts), CliError> {
    Ok(match kind {
        AppendKind::Party {
            id,
            name,
            kind,
            speaks_for,
            aliases,
            opts,
        } => (
            Draft::Party(Party {
                id: party_id(&id)?,
                name,
                kind: match kind {
                    Some(k) => k.parse()?,
                    None => onrecord_core::PartyKind::Person,
                },
                speaks_for: opt_party(speaks_for)?,
                aliases,
            }),
            opts,
        ),
        AppendKind::Proposition {
            id,
            text,
            criteria,
            window,
            opts,
        } => (
            Draft::Proposition(Proposition {
                id: PropositionId::new(&id)?,
                text,
                criteria,
                window: window.map(|w| w.parse()).transpose()?,
            }),
            opts,
        ),
        AppendKind::Statement {
            proposition,
            party,
            speaker,
            stance,
            said_at,
            credence: c,
            quote,
            source,
            qualifiers,
            opts,
        } => (
            Draft::Statement(StatementDraft {
                proposition: PropositionId::new(&proposition)?,
                party: opt_party(party)?,
                speaker: opt_party(speaker)?,
                stance: hints::parse_stance(&stance)?,
                credence: c.as_deref().map(credence).transpose()?,
                said_at: when(&said_at)?,
                quote,
                source,
                qualifiers,
            }),
            opts,
        ),
        AppendKind::Retraction {
            statement,
            reason,
            opts,
        } => (
            Draft::Retraction(StatementRetracted {
                statement: statement.parse::<EventId>()?,
                reason,
            }),
            opts,
        ),
        AppendKind::Resolution {
            proposition,
            outcome,
            resolved_at,
            source,
            note,
            opts,
        } => (
            Draft::Resolution(PropositionResolved {
                proposition: PropositionId::new(&proposition)?,
                outcome: outcome.parse()?,
                resolved_at: when(&resolved_at)?,
                source,
                note,
            }),
            opts,
        ),
    })
}

/// The JSON a single append prints with `--json`.
#[derive(Serialize)]
struct SingleJson {
    status: &'static str,
    seq: u64,
    event_id: String,
}

/// The JSON a bulk append prints with `--json`.
#[derive(Serialize)]
struct BulkJson {
    status: &'static str,
    appended: usize,
    already_recorded: usize,
}

fn single(ctx: &Context, kind: AppendKind, json: bool) -> Result<(), CliError> {
    let given_credence = match &kind {
        AppendKind::Statement { credence, .. } => credence.as_deref().map(str::trim),
        _ => None,
    }
    .map(str::to_owned);
    let (draft, opts) = draft_of(kind)?;
    let event_id = opts
        .event_id
        .as_deref()
        .map(str::parse::<EventId>)
        .transpose()?;
    let expected = match opts.expect_revision.as_deref() {
        Some(s) => s
            .parse::<ExpectedRevision>()
            .map_err(|e| CliError::invalid(e.to_string()))?,
        None => ExpectedRevision::Any,
    };
    // A ledger created for this append is kept only if the append succeeds.
    let outcome = ctx.open_or_create_then(|ledger| {
        ledger
            .append(AppendRequest {
                event_id,
                draft,
                expected,
            })
            .map_err(|e| match (&e, &given_credence) {
                (StoreError::Invalid(d), Some(given)) => {
                    credence_as_given(d, given).unwrap_or_else(|| hints::store_error(ledger, e))
                }
                _ => hints::store_error(ledger, e),
            })
    })?;
    let (status, words) = match outcome {
        AppendOutcome::Appended { .. } => ("appended", "appended"),
        AppendOutcome::AlreadyRecorded { .. } => ("already-recorded", "already recorded"),
    };
    let mut out = Out::new();
    if json {
        out.json(&SingleJson {
            status,
            seq: outcome.seq(),
            event_id: outcome.event_id().to_string(),
        })?;
    } else {
        out.line(format!(
            "{words} seq={} event={}",
            outcome.seq(),
            outcome.event_id()
        ))?;
    }
    out.flush()
}

fn bulk(ctx: &Context, file: &str, json: bool) -> Result<(), CliError> {
    let mut progress = Progress::new("reading", Unit::Bytes, ctx.quiet, json);
    let read = if file == "-" {
        let stdin = CountingReader::new(std::io::stdin().lock(), 0, &mut progress);
        read_events(BufReader::new(stdin)).map_err(|e| read_error(Path::new("stdin"), &e))
    } else {
        let path = Path::new(file);
        let f = File::open(path).map_err(|e| read_error(path, &e))?;
        if f.metadata().is_ok_and(|m| m.is_dir()) {
            return Err(CliError::invalid(format!(
                "cannot read {file}: is a directory"
            )));
        }
        let size = f.metadata().map_or(0, |m| m.len());
        let f = CountingReader::new(f, size, &mut progress);
        read_events(BufReader::new(f)).map_err(|e| read_error(path, &e))
    }?;
    progress.finish();
    if !read.errors.is_empty() {
        // Lines that did read are still checked against the ledger, so every
        // bad line is reported at once, not only the unreadable ones.
        let mut bad: Vec<(usize, String)> = read
            .errors
            .into_iter()
            .enumerate()
            .map(|(i, message)| (line_of(&message).unwrap_or(i), message))
            .collect();
        bad.extend(check_without_writing(ctx, &read.events));
        bad.sort_by_key(|(line, _)| *line);
        let messages: Vec<String> = bad.into_iter().map(|(_, m)| m).collect();
        return Err(refused(INVALID, &messages));
    }
    let lines: Vec<usize> = read.events.iter().map(|e| e.line).collect();
    // Ids each line defines, so a hint for line N may name an id from an earlier line.
    let defined: Vec<Known> = read
        .events
        .iter()
        .map(|e| {
            let mut k = Known::default();
            k.note(&e.event.draft);
            k
        })
        .collect();
    let requests = read
        .events
        .into_iter()
        .map(|e| AppendRequest {
            event_id: e.event.event_id,
            draft: e.event.draft,
            expected: ExpectedRevision::Any,
        })
        .collect();
    let ledger = ctx.open_or_create()?;
    let mut busy = Busy::start(format!("appending {} events", lines.len()), ctx.quiet, json);
    let batch = ledger.append_batch(requests);
    busy.finish();
    let outcomes = match batch {
        Ok(outcomes) => outcomes,
        Err(StoreError::BatchRejected(errors)) => {
            let code = if errors.iter().all(|(_, e)| e.is_conflict()) {
                CONFLICT
            } else {
                errors
                    .iter()
                    .map(|(_, e)| code_of(e))
                    .find(|c| *c != CONFLICT)
                    .unwrap_or(INVALID)
            };
            let in_ledger = Known::from_ledger(&ledger);
            let messages: Vec<String> = errors
                .iter()
                .enumerate()
                .map(|(k, (i, e))| {
                    // Hints only for the lines that will be listed (see `abridge`).
                    let message = if k < MAX_REPORTED {
                        let mut known = in_ledger.clone();
                        for d in defined.iter().take(*i) {
                            known.parties.extend(d.parties.iter().cloned());
                            known.propositions.extend(d.propositions.iter().cloned());
                        }
                        hints::store_message(e, &known)
                    } else {
                        e.to_string()
                    };
                    match lines.get(*i) {
                        Some(n) => format!("line {n}: {message}"),
                        None => message,
                    }
                })
                .collect();
            return Err(refused(code, &messages));
        }
        Err(e) => return Err(e.into()),
    };
    let appended = outcomes
        .iter()
        .filter(|o| matches!(o, AppendOutcome::Appended { .. }))
        .count();
    let already = outcomes.len() - appended;
    let mut out = Out::new();
    if json {
        out.json(&BulkJson {
            status: "ok",
            appended,
            already_recorded: already,
        })?;
    } else {
        out.line(format!("appended {appended}, already recorded {already}"))?;
    }
    out.flush()
}

/// The line number a `line N: ...` message names.
fn line_of(message: &str) -> Option<usize> {
    message
        .strip_prefix("line ")?
        .split(':')
        .next()?
        .parse()
        .ok()
}

/// `line N: why` for each read line the ledger (as it is, plus the file's
/// earlier lines) would refuse, found without writing or creating anything;
/// lines whose event id is already recorded are left to the append to judge.
/// Empty when the ledger cannot be opened (the read errors are reported alone).
fn check_without_writing(ctx: &Context, events: &[NumberedEvent]) -> Vec<(usize, String)> {
    match ctx.open() {
        Ok(ledger) => check_against(&ledger, Known::from_ledger(&ledger), events, |id| {
            ledger.get_by_id(id).is_ok_and(|r| r.is_some())
        }),
        Err(_) if !ctx.ledger.exists() => {
            check_against(&EmptyLedger, Known::default(), events, |_| false)
        }
        Err(_) => Vec::new(),
    }
}

fn check_against<F: LedgerFacts>(
    base: &F,
    mut known: Known,
    events: &[NumberedEvent],
    recorded: impl Fn(&EventId) -> bool,
) -> Vec<(usize, String)> {
    let mut pending = PendingFacts::default();
    let mut bad = Vec::new();
    for (k, e) in events.iter().enumerate() {
        if e.event.event_id.as_ref().is_some_and(&recorded) {
            continue;
        }
        let overlay = BatchOverlay {
            base,
            pending: &pending,
        };
        match validate(e.event.draft.clone(), &overlay) {
            Ok(v) => {
                // A stand-in id for lines without one: nothing can refer to it.
                let id = e
                    .event
                    .event_id
                    .unwrap_or_else(|| EventId::from_bytes((k as u128).to_be_bytes()));
                if pending.absorb(id, &v.event, base).is_err() {
                    break;
                }
            }
            Err(Rejection::Invalid(d)) => {
                // Hints only for the lines that will be listed (see `abridge`).
                let message = if bad.len() < MAX_REPORTED {
                    hints::store_message(&StoreError::Invalid(d), &known)
                } else {
                    d.to_string()
                };
                bad.push((e.line, format!("line {}: {message}", e.line)));
            }
            Err(Rejection::Lookup(_)) => break,
        }
        known.note(&e.event.draft);
    }
    bad
}

/// The error for a refused bulk input: each bad line (abridged), then a summary.
fn refused(code: i32, messages: &[String]) -> CliError {
    let mut lines = abridge(messages);
    lines.push(format!(
        "{} line(s) refused; nothing was appended",
        messages.len()
    ));
    CliError::with_lines(code, lines)
}
