//! The CLI's one bulk-append path: JSON Lines (a file, stdin, or text the
//! binary carries) appended all or none, in bounded memory, through the
//! engine's two-pass import (`onrecord_ledger::ImportCheck`), with every bad
//! line reported and unknown ids hinted. `append --jsonl` and `demo` both
//! load events through [`append_jsonl`].
//!
//! It never opens or creates a ledger (the command does, and decides what a
//! failure leaves behind) and prints nothing but progress bars on stderr.

use std::cell::{Cell, RefCell};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use onrecord_core::Recorder;
use onrecord_ledger::{
    AppendRequest, ExpectedRevision, ImportCounts, ImportWrite, Ledger, StoreError,
};

use crate::context::Context;
use crate::error::{CONFLICT, CliError, INVALID, code_of, read_error};
use crate::hints::{self, Known};
use crate::input::{NumberedEvent, Refusals, read_events};
use crate::progress::{CountingReader, Progress, Unit};

/// The input of a bulk append, readable twice (one pass to check, one to write).
pub struct BulkInput {
    /// What error messages call it.
    name: PathBuf,
    /// Where its bytes come from.
    source: Source,
    /// Its size in bytes (0 when unknown: stdin).
    size: u64,
}

/// Where a [`BulkInput`]'s bytes come from.
enum Source {
    /// A file, read from its start on each pass.
    File(File),
    /// Stdin, copied to an unnamed temporary file (gone when the process
    /// ends, however it ends) as the first pass reads it; later passes read
    /// the copy once it is `complete`.
    Stdin { copy: File, complete: bool },
    /// Text the binary carries (the demo's story).
    Text(&'static str),
}

impl BulkInput {
    /// The file at `file`, or stdin when it is `-`.
    pub fn open(file: &str) -> Result<Self, CliError> {
        if file == "-" {
            let copy = tempfile::tempfile().map_err(|e| {
                CliError::invalid(format!(
                    "cannot buffer stdin in {}: {}",
                    std::env::temp_dir().display(),
                    crate::error::io_reason(&e)
                ))
            })?;
            return Ok(Self {
                name: PathBuf::from("stdin"),
                source: Source::Stdin {
                    copy,
                    complete: false,
                },
                size: 0,
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
            source: Source::File(f),
        })
    }

    /// Text the binary carries, called `name` in error messages.
    pub fn text(name: &str, text: &'static str) -> Self {
        Self {
            name: PathBuf::from(name),
            source: Source::Text(text),
            size: text.len() as u64,
        }
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
        let read = match &mut self.source {
            Source::Stdin {
                copy,
                complete: complete @ false,
            } => {
                let stdin = CountingReader::new(std::io::stdin().lock(), 0, &mut progress);
                let mut tee = Tee {
                    inner: stdin,
                    copy: BufWriter::new(&*copy),
                };
                let read = read_events(BufReader::new(&mut tee), on_event, on_error);
                let flushed = tee.copy.flush();
                *complete = true;
                read.and(flushed)
            }
            Source::File(file) | Source::Stdin { copy: file, .. } => {
                let rewound = (&*file).seek(SeekFrom::Start(0));
                let f = CountingReader::new(&*file, self.size, &mut progress);
                rewound.and_then(|_| read_events(BufReader::new(f), on_event, on_error))
            }
            Source::Text(text) => {
                let t = CountingReader::new(text.as_bytes(), self.size, &mut progress);
                read_events(BufReader::new(t), on_event, on_error)
            }
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

/// Why a bulk append wrote nothing.
#[derive(Debug)]
pub struct BulkRefused {
    /// What to report, with its exit code.
    pub error: CliError,
    /// Whether the input itself could not be read or parsed (rather than
    /// refused by the ledger): a ledger made for this append should go.
    pub unreadable_input: bool,
}

impl BulkRefused {
    fn by_ledger(error: CliError) -> Self {
        Self {
            error,
            unreadable_input: false,
        }
    }

    fn unreadable(error: CliError) -> Self {
        Self {
            error,
            unreadable_input: true,
        }
    }
}

/// Appends every event of `input` to `ledger`, all or none, in two passes
/// (see `onrecord_ledger::ImportCheck`): check every line, writing nothing;
/// then write them in bounded chunks that the last one commits. Memory holds
/// one line and a few facts per event, not the input. `json` only hides the
/// progress bars, as `--json` does.
pub fn append_jsonl(
    ctx: &Context,
    ledger: &Ledger,
    input: &mut BulkInput,
    json: bool,
) -> Result<ImportCounts, BulkRefused> {
    let ledger_error = |e: StoreError| BulkRefused::by_ledger(e.into());
    let local = crate::local_user::local_recorder();
    let mut import = ledger.import().map_err(ledger_error)?;
    // Unreadable lines and lines the ledger refuses arrive in line order in
    // this one pass; both go into one list, so every bad line is reported.
    let bad_lines = Cell::new(0usize);
    let refused = RefCell::new(LedgerRefusals::default());
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
                if let Err(err) = import.check(request_of(e.event, &local)) {
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
        .map_err(BulkRefused::unreadable)?;
    let refused = refused.into_inner();
    if bad_lines.get() > 0 {
        return Err(BulkRefused::unreadable(refused_lines(
            INVALID,
            refused.refusals,
        )));
    }
    if !refused.refusals.is_empty() {
        let code = refused.code();
        return Err(BulkRefused::by_ledger(refused_lines(
            code,
            refused.refusals,
        )));
    }
    drop(defined);
    if import.counts().appended == 0 {
        return Ok(import.counts());
    }
    let writer = import.into_writer().map_err(ledger_error)?;
    write_all(ctx, writer, input, json, &local)
}

/// The second pass: writes what the first pass checked (lines without a
/// `recorded_by` by `local`) and commits it, or refuses with
/// [`StoreError::ImportChanged`] when the input changed between them.
fn write_all(
    ctx: &Context,
    mut writer: ImportWrite<'_>,
    input: &mut BulkInput,
    json: bool,
    local: &Recorder,
) -> Result<ImportCounts, BulkRefused> {
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
                if let Err(err) = writer.write(request_of(e.event, local)) {
                    failed = Some(err);
                }
            },
            |_| changed = true,
        )
        .map_err(BulkRefused::by_ledger)?;
    let result = match failed {
        // What the first pass accepted the second refused: the input changed.
        Some(e) if matches!(e, StoreError::Invalid(_)) || e.is_conflict() || changed => {
            Err(StoreError::ImportChanged)
        }
        Some(e) => Err(e),
        None if changed => Err(StoreError::ImportChanged),
        None => writer.commit(),
    };
    result.map_err(|e| BulkRefused::by_ledger(e.into()))
}

/// The append request of one input line (bulk input checks no revisions):
/// recorded by the line's `recorded_by` when it has one (an exported line:
/// a restore keeps who recorded each event), else by `local`.
fn request_of(event: onrecord_core::InputEvent, local: &Recorder) -> AppendRequest {
    AppendRequest {
        event_id: event.event_id,
        draft: event.draft,
        expected: ExpectedRevision::Any,
        recorded_by: event.recorded_by.unwrap_or_else(|| local.clone()),
    }
}

/// The error for a refused bulk input: each bad line (abridged), then a summary.
fn refused_lines(code: i32, refusals: Refusals) -> CliError {
    let count = refusals.count();
    let mut lines = refusals.lines();
    lines.push(format!("{count} line(s) refused; nothing was appended"));
    CliError::with_lines(code, lines)
}

/// `append --jsonl` through a server: every line read and checked here as a
/// local import reads it (unreadable lines are reported the same way, and
/// nothing is sent), then sent as one JSON Lines request that the server
/// appends all or nothing. Lines without `recorded_by` are recorded by the
/// token's name; a line's own is kept only for an admin token (a restore). Lines the server refuses are named by their line
/// in the input. The request holds the input's events, so a server's caps on
/// body and batch size bound what one such append can carry (413 past them).
pub fn send_jsonl(
    ctx: &Context,
    remote: &crate::remote::Remote,
    input: &mut BulkInput,
    json: bool,
) -> Result<ImportCounts, CliError> {
    let mut body = Vec::new();
    let mut line_numbers = Vec::new();
    let mut refusals = Refusals::default();
    input.read(
        "reading",
        ctx,
        json,
        |e| {
            body.extend_from_slice(onrecord_core::draft_line(&e.event).as_bytes());
            body.push(b'\n');
            line_numbers.push(e.line);
        },
        |message| refusals.push(message),
    )?;
    if !refusals.is_empty() {
        return Err(refused_lines(INVALID, refusals));
    }
    if line_numbers.is_empty() {
        return Ok(ImportCounts::default());
    }
    let answer = remote.send_body("POST", "/v1/events", &[], "application/x-ndjson", &body)?;
    drop(body);
    if !(200..300).contains(&answer.status) {
        return Err(remote.refusal(answer, &|i| match line_numbers.get(i) {
            Some(n) => format!("line {n}"),
            None => format!("item {i}"),
        }));
    }
    let counts: onrecord_wire::BulkAppendedJson = remote.json_of(answer)?;
    Ok(ImportCounts {
        appended: counts.appended,
        already_recorded: counts.already_recorded,
    })
}
