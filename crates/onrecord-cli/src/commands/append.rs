//! `append`: record one event from flags, or a JSON Lines file atomically
//! (all lines or none) in bounded memory, and report what was appended.
//!
//! Values are parsed with the domain's own parsers so a bad one is invalid
//! input (exit 1) naming the value; the store validates the event itself.

use onrecord_core::{
    Draft, EventId, Party, PartyId, Proposition, PropositionId, PropositionResolved,
    StatementDraft, StatementRetracted, When,
};
use onrecord_ledger::{AppendRequest, ExpectedRevision, StoreError};
use onrecord_wire::{AppendedJson, BulkAppendedJson};

use crate::args::{AppendArgs, AppendKind, SingleOpts};
use crate::bulk::{self, BulkInput, BulkRefused};
use crate::context::Context;
use crate::error::CliError;
use crate::hints;
use crate::output::Out;

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
    if let Some(remote) = ctx.remote()? {
        let mut query = Vec::new();
        if let Some(revision) = &opts.expect_revision {
            query.push(("expected_revision", revision.clone()));
        }
        // The server records its token's name (the socket's: `local:<user>`).
        let line = onrecord_core::draft_line(&onrecord_core::InputEvent {
            event_id,
            recorded_by: None,
            draft,
        });
        let answer = remote.send_body(
            "POST",
            "/v1/events",
            &query,
            "application/json",
            line.as_bytes(),
        )?;
        let appended: AppendedJson = remote.json_of(answer)?;
        return print_appended(&appended, json);
    }
    // A ledger created for this append is kept only if the append succeeds.
    let outcome = ctx.open_or_create_then(|ledger| {
        ledger
            .append(AppendRequest {
                event_id,
                draft,
                expected,
                recorded_by: crate::local_user::local_recorder(),
            })
            .map_err(|e| match (&e, &given_credence) {
                (StoreError::Invalid(d), Some(given)) => {
                    credence_as_given(d, given).unwrap_or_else(|| hints::store_error(ledger, e))
                }
                _ => hints::store_error(ledger, e),
            })
    })?;
    print_appended(&AppendedJson::from_outcome(&outcome), json)
}

/// Prints what one append did, as JSON or as `appended seq=N event=ID`.
fn print_appended(appended: &AppendedJson, json: bool) -> Result<(), CliError> {
    let words = if appended.status == AppendedJson::ALREADY_RECORDED {
        "already recorded"
    } else {
        "appended"
    };
    let mut out = Out::new();
    if json {
        out.json(appended)?;
    } else {
        out.line(format!(
            "{words} seq={} event={}",
            appended.seq, appended.event_id
        ))?;
    }
    out.flush()
}

/// `append --jsonl`: all lines or none, through the CLI's one bulk-append
/// path ([`bulk::append_jsonl`]), into the ledger, created if there is none.
fn bulk(ctx: &Context, file: &str, json: bool) -> Result<(), CliError> {
    let mut input = BulkInput::open(file)?;
    if let Some(remote) = ctx.remote()? {
        let counts = bulk::send_jsonl(ctx, &remote, &mut input, json)?;
        return print_bulk(&counts, json);
    }
    let path = ctx.ledger.clone();
    let existed = path.exists();
    let fresh = !path.join("db").exists();
    let ledger = ctx.for_import().open_or_create()?;
    let counts = match bulk::append_jsonl(ctx, &ledger, &mut input, json) {
        Ok(counts) => counts,
        Err(BulkRefused {
            error,
            unreadable_input,
        }) => {
            if fresh && unreadable_input {
                // As when the input was read before the ledger was opened: an
                // input that cannot be read or parsed leaves no new ledger
                // (only what this process created goes).
                drop(ledger);
                ctx.remove_created(existed);
            }
            return Err(error);
        }
    };
    print_bulk(&counts, json)
}

/// Prints what a bulk append did.
fn print_bulk(counts: &onrecord_ledger::ImportCounts, json: bool) -> Result<(), CliError> {
    let mut out = Out::new();
    if json {
        out.json(&BulkAppendedJson::from_counts(counts))?;
    } else {
        out.line(format!(
            "appended {}, already recorded {}",
            counts.appended, counts.already_recorded
        ))?;
    }
    out.flush()
}
