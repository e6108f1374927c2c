//! The CLI's one error type, [`CliError`]: a one-line message and the exit
//! code it maps to, plus the mapping from store, domain and I/O errors.
//!
//! Nothing here prints or exits; `lib.rs` does that once, at the edge.

use std::fmt;
use std::path::Path;

use onrecord_core::{DomainError, InterchangeError};
use onrecord_ledger::query::NotYetAt;
use onrecord_ledger::{ErrorKind, QueryError, StoreError};

/// Exit code: success.
pub const OK: i32 = 0;
/// Exit code: invalid input, unknown id or not found.
pub const INVALID: i32 = 1;
/// Exit code: usage error (clap's own).
pub const USAGE: i32 = 2;
/// Exit code: conflict (expected revision or event id).
pub const CONFLICT: i32 = 3;
/// Exit code: the ledger is held by another process.
pub const BUSY: i32 = 4;
/// Exit code: the ledger is damaged.
pub const DAMAGE: i32 = 5;
/// Exit code: the server refused the token (none, unknown, revoked, expired, or without the role).
pub const DENIED: i32 = 6;

/// A failure to report: one line (without the `error: ` prefix) and an exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError {
    /// The process exit code.
    pub code: i32,
    /// The message lines; the first is the error itself, any others are details (bulk append).
    pub lines: Vec<String>,
}

impl CliError {
    /// An error with one message line.
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        Self {
            code,
            lines: vec![one_line(&message.into())],
        }
    }

    /// Invalid input (exit 1).
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(INVALID, message)
    }

    /// Usage error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(USAGE, message)
    }

    /// An error reported as several `error:` lines (e.g. one per bad input line).
    pub fn with_lines(code: i32, lines: Vec<String>) -> Self {
        Self {
            code,
            lines: lines.iter().map(|l| one_line(l)).collect(),
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.lines.join("; "))
    }
}

pub use onrecord_core::error::one_line;

/// The exit code a store error maps to: by its kind, in this one place.
pub fn code_of(e: &StoreError) -> i32 {
    if matches!(e, StoreError::Unreachable { .. }) {
        // As a server the CLI cannot reach: the ledger is there, not now.
        return BUSY;
    }
    match e.kind() {
        ErrorKind::Conflict => CONFLICT,
        ErrorKind::Busy => BUSY,
        ErrorKind::Damaged => DAMAGE,
        ErrorKind::Invalid | ErrorKind::NotFound | ErrorKind::Storage | ErrorKind::Unavailable => {
            INVALID
        }
    }
}

impl From<StoreError> for CliError {
    fn from(e: StoreError) -> Self {
        let message = match &e {
            StoreError::NoLedger(path) => {
                format!("no ledger at {} (run `onrecord init`)", path.display())
            }
            other => other.to_string(),
        };
        CliError::new(code_of(&e), message)
    }
}

impl From<QueryError> for CliError {
    fn from(e: QueryError) -> Self {
        match e {
            QueryError::Unknown { kind, id, near } => CliError::invalid(format!(
                "unknown {kind} `{id}`{}",
                crate::hints::suggest(&near)
            )),
            QueryError::NotYetRecorded {
                kind,
                id,
                at,
                recorded_seq,
            } => {
                let point = match at {
                    NotYetAt::Seq(seq) => format!("at seq {seq}"),
                    NotYetAt::KnownAt => "at the --known-at time".to_owned(),
                };
                CliError::invalid(format!(
                    "unknown {kind} `{id}` {point}: it was recorded at seq {recorded_seq}"
                ))
            }
            QueryError::Store(e) => e.into(),
        }
    }
}

impl From<DomainError> for CliError {
    fn from(e: DomainError) -> Self {
        CliError::invalid(e.to_string())
    }
}

impl From<InterchangeError> for CliError {
    fn from(e: InterchangeError) -> Self {
        CliError::invalid(e.to_string())
    }
}

/// Why an I/O operation failed, in words (never the raw `os error` text).
pub fn io_reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        NotFound => "no such file or directory".into(),
        PermissionDenied => "permission denied".into(),
        IsADirectory => "is a directory".into(),
        InvalidData => "invalid data".into(),
        _ => {
            let text = e.to_string();
            match text.find(" (os error") {
                Some(i) => text[..i].to_owned(),
                None => text,
            }
        }
    }
}

/// An error reading `path`.
pub fn read_error(path: &Path, e: &std::io::Error) -> CliError {
    CliError::invalid(format!("cannot read {}: {}", path.display(), io_reason(e)))
}
