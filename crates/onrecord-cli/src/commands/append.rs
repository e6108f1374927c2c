//! `append`: record one event from flags, or a JSON Lines file atomically
//! (all lines or none) in bounded memory, and report what was appended.
//!
//! Values are parsed with the domain's own parsers so a bad one is invalid
//! input (exit 1) naming the value; the store validates the event itself.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use onrecord_core::{
    Draft, EventId, Party, PartyId, Proposition, PropositionId, PropositionResolved,
    StatementDraft, StatementRetracted, When,
};
use onrecord_ledger::{AppendOutcome, AppendRequest, ExpectedRevision, StoreError};
use serde::Serialize;

use crate::args::{AppendArgs, AppendKind, SingleOpts};
use crate::context::Context;
use crate::error::{CONFLICT, CliError, INVALID, code_of, read_error};
use crate::hints::{self, Known};
use crate::input::{NumberedEvent, Refusals, read_events};
use crate::output::Out;
use crate::progress::{CountingReader, Progress, Unit};

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
    appended: u64,
    already_recorded: u64,
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

/// The input of a bulk append, readable twice: the file, or stdin copied
/// to an unnamed temporary file (gone when the process ends, however it ends)
/// as it is read the first time.
struct BulkInput {
    /// What error messages call it.
    name: PathBuf,
    /// The file, or the copy of stdin once it is complete.
    file: File,
    /// The file's size in bytes (0 for stdin).
    size: u64,
    /// Whether this is stdin (then the first read copies it into `file`).
    stdin: bool,
}

impl BulkInput {
    fn open(file: &str) -> Result<Self, CliError> {
        if file == "-" {
            let name = PathBuf::from("stdin");
            let copy = tempfile::tempfile().map_err(|e| {
                CliError::invalid(format!(
                    "cannot buffer stdin in {}: {}",
                    std::env::temp_dir().display(),
                    crate::error::io_reason(&e)
                ))
            })?;
            return Ok(Self {
                name,
                file: copy,
                size: 0,
                stdin: true,
            });
        }
        let path = Path::new(file);
        let f = File::open(path).map_err(|e| read_error(path, &e))?;
        if f.metadata().is_ok_and(|m| m.is_dir()) {
            return Err(CliError::invalid(format!(
                "cannot read {file}: is a directory"
            )));
        }
        Ok(Self {
            name: path.to_owned(),
            size: f.metadata().map_or(0, |m| m.len()),
            file: f,
            stdin: false,
        })
    }

    /// Reads every line once, as [`read_events`] does, showing progress as `label`.
    fn read(
        &mut self,
        label: &'static str,
        ctx: &Context,
        json: bool,
        on_event: impl FnMut(NumberedEvent),
        on_error: impl FnMut(String),
    ) -> Result<(), CliError> {
        let mut progress = Progress::new(label, Unit::Bytes, ctx.quiet, json);
        let read = if self.stdin {
            let stdin = CountingReader::new(std::io::stdin().lock(), 0, &mut progress);
            let mut tee = Tee {
                inner: stdin,
                copy: BufWriter::new(&self.file),
            };
            let read = read_events(BufReader::new(&mut tee), on_event, on_error);
            let flushed = tee.copy.flush();
            self.stdin = false;
            read.and(flushed)
        } else {
            let rewound = (&self.file).seek(SeekFrom::Start(0));
            let f = CountingReader::new(&self.file, self.size, &mut progress);
            rewound.and_then(|_| read_events(BufReader::new(f), on_event, on_error))
        };
        progress.finish();
        read.map_err(|e| read_error(&self.name, &e))
    }
}

/// A reader that copies what it reads into `copy` (stdin into its buffer file).
struct Tee<R, W> {
    inner: R,
    copy: W,
}

impl<R: Read, W: Write> Read for Tee<R, W> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.copy.write_all(&buf[..n])?;
        Ok(n)
    }
}

/// Exit code and messages of the lines the ledger refused, gathered as they come.
#[derive(Default)]
struct LedgerRefusals {
    refusals: Refusals,
    all_conflicts: bool,
    first_other: Option<i32>,
}

impl LedgerRefusals {
    fn push(&mut self, e: &StoreError, message: String) {
        if self.refusals.is_empty() {
            self.all_conflicts = true;
        }
        if !e.is_conflict() {
            self.all_conflicts = false;
            self.first_other.get_or_insert(code_of(e));
        }
        self.refusals.push(message);
    }

    /// The exit code: conflict when every refusal is one, else the first other one's.
    fn code(&self) -> i32 {
        if self.all_conflicts {
            CONFLICT
        } else {
            self.first_other.unwrap_or(INVALID)
        }
    }
}

/// `append --jsonl`: all lines or none, in two passes over the input (see
/// `onrecord_ledger::ImportCheck`): check every line, writing nothing; then
/// write them in bounded chunks that the last one commits. Memory holds one
/// line and a few facts per event, not the file.
fn bulk(ctx: &Context, file: &str, json: bool) -> Result<(), CliError> {
    let mut input = BulkInput::open(file)?;
    let path = ctx.ledger.clone();
    let existed = path.exists();
    let fresh = !path.join("db").exists();
    let ledger = ctx.for_import().open_or_create()?;
    let counts = match import(ctx, &ledger, &mut input, json) {
        Ok(counts) => counts,
        Err((e, unreadable)) => {
            if fresh && unreadable {
                // As when the input was read before the ledger was opened: an
                // input that cannot be read or parsed leaves no new ledger
                // (only what this process created goes).
                drop(ledger);
                onrecord_sled::remove_created(&path, existed);
            }
            return Err(e);
        }
    };
    let mut out = Out::new();
    if json {
        out.json(&BulkJson {
            status: "ok",
            appended: counts.appended,
            already_recorded: counts.already_recorded,
        })?;
    } else {
        out.line(format!(
            "appended {}, already recorded {}",
            counts.appended, counts.already_recorded
        ))?;
    }
    out.flush()
}

/// Both passes of a bulk import into `ledger`; what it appended, or why not
/// and whether the input itself could not be read or parsed.
fn import(
    ctx: &Context,
    ledger: &onrecord_ledger::Ledger,
    input: &mut BulkInput,
    json: bool,
) -> Result<onrecord_ledger::ImportCounts, (CliError, bool)> {
    let ledger_error = |e: CliError| (e, false);
    let mut import = ledger.import().map_err(|e| ledger_error(e.into()))?;
    // Unreadable lines and lines the ledger refuses arrive in line order in
    // this one pass; both go into one list, so every bad line is reported.
    let bad_lines = std::cell::Cell::new(0usize);
    let refused = std::cell::RefCell::new(LedgerRefusals::default());
    // Hints name ids from the ledger and from the lines before the refused one.
    let mut in_ledger: Option<Known> = None;
    let mut defined = Known::default();
    input
        .read(
            "checking",
            ctx,
            json,
            |e| {
                let mut here = Known::default();
                here.note(&e.event.draft);
                let request = AppendRequest {
                    event_id: e.event.event_id,
                    draft: e.event.draft,
                    expected: ExpectedRevision::Any,
                };
                if let Err(err) = import.check(request) {
                    let mut refused = refused.borrow_mut();
                    let message = if refused.refusals.lists_next() {
                        let mut known = in_ledger
                            .get_or_insert_with(|| Known::from_ledger(ledger))
                            .clone();
                        known.parties.extend(defined.parties.iter().cloned());
                        known
                            .propositions
                            .extend(defined.propositions.iter().cloned());
                        hints::store_message(&err, &known)
                    } else {
                        err.to_string()
                    };
                    refused.push(&err, format!("line {}: {message}", e.line));
                }
                if refused.borrow().refusals.lists_next() {
                    defined.parties.append(&mut here.parties);
                    defined.propositions.append(&mut here.propositions);
                }
            },
            |message| {
                bad_lines.set(bad_lines.get() + 1);
                refused.borrow_mut().refusals.push(message);
            },
        )
        .map_err(|e| (e, true))?;
    let refused = refused.into_inner();
    if bad_lines.get() > 0 {
        return Err((refused_lines(INVALID, refused.refusals), true));
    }
    if !refused.refusals.is_empty() {
        let code = refused.code();
        return Err(ledger_error(refused_lines(code, refused.refusals)));
    }
    drop(defined);
    let counts = if import.counts().appended == 0 {
        import.counts()
    } else {
        let mut writer = import.into_writer().map_err(|e| ledger_error(e.into()))?;
        let mut failed: Option<StoreError> = None;
        let mut changed = false;
        input
            .read(
                "appending",
                ctx,
                json,
                |e| {
                    if failed.is_some() {
                        return;
                    }
                    let request = AppendRequest {
                        event_id: e.event.event_id,
                        draft: e.event.draft,
                        expected: ExpectedRevision::Any,
                    };
                    if let Err(err) = writer.write(request) {
                        failed = Some(err);
                    }
                },
                |_| changed = true,
            )
            .map_err(ledger_error)?;
        let result = match failed {
            // What the first pass accepted the second refused: the input changed.
            Some(e) if matches!(e, StoreError::Invalid(_)) || e.is_conflict() || changed => {
                Err(StoreError::ImportChanged)
            }
            Some(e) => Err(e),
            None if changed => Err(StoreError::ImportChanged),
            None => writer.commit(),
        };
        result.map_err(|e| ledger_error(e.into()))?
    };
    Ok(counts)
}

/// The error for a refused bulk input: each bad line (abridged), then a summary.
fn refused_lines(code: i32, refusals: Refusals) -> CliError {
    let count = refusals.count();
    let mut lines = refusals.lines();
    lines.push(format!("{count} line(s) refused; nothing was appended"));
    CliError::with_lines(code, lines)
}
