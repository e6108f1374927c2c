//! The engine's typed errors ([`StoreError`]) and the one classification
//! front ends map from ([`ErrorKind`]): the CLI to exit codes, a server to
//! HTTP statuses, each in one place. Backends construct the storage variants.

use std::path::PathBuf;

use onrecord_core::{DomainError, EventId, StreamId};

/// Everything that can go wrong opening, appending to or reading a ledger.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No ledger exists at the path.
    #[error("no ledger at {0}")]
    NoLedger(PathBuf),
    /// `create` found a ledger already there.
    #[error("a ledger already exists at {0}")]
    LedgerExists(PathBuf),
    /// Another process holds the ledger's lock and did not let go within the wait.
    #[error("ledger {0} is in use by another process")]
    LedgerBusy(PathBuf),
    /// The path exists but is not an onrecord ledger; nothing was written to it.
    #[error("{0} is not an onrecord ledger (nothing was written to it)")]
    NotALedger(PathBuf),
    /// `create` was pointed at a directory that holds something else.
    #[error(
        "{0} is not an empty directory and holds no onrecord ledger; a new ledger needs a new or empty directory (nothing was written to it)"
    )]
    NotEmpty(PathBuf),
    /// The path is a file, not a ledger directory.
    #[error("{0} is a file, not a ledger directory (nothing was written to it)")]
    NotADirectory(PathBuf),
    /// The ledger fails a check (its open check, or the chain as a read
    /// streamed it): it is not served as whole.
    #[error("damage at seq {}: {}", .0.seq, .0.problem)]
    Damaged(Damage),
    /// The ledger can be read but not written by this process (an archive).
    #[error("the ledger at {0} is read-only for this user: it can be read but not appended to")]
    ReadOnly(PathBuf),
    /// This user may not read the path.
    #[error("cannot read {0}: permission denied for this user")]
    NoAccess(PathBuf),
    /// A read-only ledger could not be opened for reading.
    #[error("cannot read the read-only ledger at {path}: {detail}")]
    ReadOnlyOpen {
        /// The ledger path.
        path: PathBuf,
        /// Why, naming the file or directory concerned.
        detail: String,
    },
    /// A draft broke a domain rule; nothing was written.
    #[error("{0}")]
    Invalid(#[from] DomainError),
    /// The stream was not at the revision the caller expected; nothing was written.
    #[error("wrong expected revision on stream {stream}: expected {expected}, actual {actual}")]
    WrongExpectedRevision {
        /// The stream checked.
        stream: StreamId,
        /// What the caller expected, as given (`any`, `no-stream`, `stream-exists` or a number).
        expected: String,
        /// What the stream is at (`no-stream` or its last revision).
        actual: String,
    },
    /// The event id is already recorded with a different payload; nothing was written.
    #[error("event {0} is already recorded with a different payload")]
    EventIdConflict(EventId),
    /// Some events of a batch were refused; nothing of the batch was written.
    #[error("{} event(s) of the batch were refused; nothing was written", .0.len())]
    BatchRejected(Vec<(usize, StoreError)>),
    /// Some requests of an import were refused in its first pass; nothing was written.
    #[error("{0} event(s) of the import were refused; nothing was written")]
    ImportRefused(u64),
    /// An import's input read differently the second time (it changed while
    /// being imported); what was written of it was undone.
    #[error("the input changed while it was being imported; nothing was appended")]
    ImportChanged,
    /// A stored record could not be read back (damage or a bug).
    #[error("record at seq {seq} is unreadable: {detail}")]
    Corrupt {
        /// The record's sequence number.
        seq: u64,
        /// What is wrong with it.
        detail: String,
    },
    /// A stored record was written by a newer (or unknown) format version.
    #[error(
        "record at seq {seq} has unknown format version {version}; this onrecord reads versions up to {supported}"
    )]
    UnknownFormat {
        /// The record's sequence number.
        seq: u64,
        /// The version found.
        version: u16,
        /// The newest version this build reads.
        supported: u16,
    },
    /// The ledger's head does not match its last record; appending is refused until repaired.
    #[error("the ledger head fails its check ({0}); refusing to append (run `onrecord verify`)")]
    DamagedHead(String),
    /// The kept views do not reflect the log (an interrupted rebuild, or an older view format).
    #[error("the kept views of {0} are behind the log; run `onrecord replay --rebuild`")]
    StaleViews(PathBuf),
    /// A kept view (a party's position on a proposition) holds values the log
    /// cannot have produced: edited behind the ledger's back, or damaged.
    #[error(
        "the kept view of {view} is damaged: {problem}; `onrecord replay --rebuild` rebuilds the views from the log"
    )]
    DamagedView {
        /// Which view: the proposition and party (and statement seq for an entry).
        view: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A write reached the store but did not complete (it could not be made
    /// durable, or an import cut short could not be undone): what the store
    /// holds is known only once it is opened again, so the ledger takes no
    /// more writes until reopened.
    #[error(
        "a write to {path} did not complete ({detail}); reopen the ledger before appending again (retrying with the same event ids is safe)"
    )]
    WriteUnsure {
        /// The ledger's location.
        path: PathBuf,
        /// What failed.
        detail: String,
    },
    /// A token with this id is already kept.
    #[error("a token with id `{0}` already exists")]
    TokenExists(String),
    /// A kept token's bytes do not decode.
    #[error("the stored token `{id}` is unreadable: {problem}")]
    DamagedToken {
        /// The token's id.
        id: String,
        /// What is wrong with it.
        problem: String,
    },
    /// No token has this id.
    #[error("no token with id `{0}`")]
    NoSuchToken(String),
    /// A copy's target keeps a token under this id with another secret.
    #[error(
        "the target already keeps a token with id `{0}` and a different secret; nothing was copied"
    )]
    TokenClash(String),
    /// The file system is full; the append was not acknowledged and the ledger keeps its last head.
    #[error("no space left on the device holding {0}; nothing more was appended")]
    DiskFull(PathBuf),
    /// The backend cannot read its own data back (truncated or overwritten on disk).
    #[error("the ledger at {path} is damaged: {detail}")]
    CorruptStorage {
        /// The ledger path.
        path: PathBuf,
        /// What the backend reported, in words.
        detail: String,
    },
    /// The store's database server cannot be reached (refused, timed out,
    /// gone mid-call, shutting down): nothing can be read or written now.
    #[error("cannot reach the database of the ledger at {location}: {detail}")]
    Unreachable {
        /// The ledger's location (a URL without credentials).
        location: PathBuf,
        /// Why, in words (without raw OS codes).
        detail: String,
        /// The client's error itself, when there is one.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The store's schema was made by a newer onrecord than this one.
    #[error(
        "the ledger at {location} has schema version {found}; this onrecord knows versions up to {known} (use a newer onrecord)"
    )]
    NewerSchema {
        /// The ledger's location (a URL without credentials).
        location: PathBuf,
        /// The schema version the store holds.
        found: u32,
        /// The newest schema version this build knows.
        known: u32,
    },
    /// A record copied from another ledger does not continue this one
    /// (`Ledger::append_verbatim`): nothing of its write set was written.
    #[error("cannot copy the record at seq {seq}: {reason}")]
    VerbatimRefused {
        /// The seq of the record refused.
        seq: u64,
        /// Why it does not continue this ledger, in words.
        reason: String,
    },
    /// The backend or the file system failed.
    #[error("storage error at {path}: {detail}")]
    Storage {
        /// The ledger path.
        path: PathBuf,
        /// The underlying error, in words (without raw OS codes).
        detail: String,
        /// The underlying error itself, when there is one.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

/// The class of a [`StoreError`]: what a caller can do about it. Front ends
/// map kinds (never variants) to exit codes and HTTP statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request is wrong (bad input, a rule broken): fix it and retry.
    Invalid,
    /// What was asked for does not exist (no ledger there).
    NotFound,
    /// The ledger moved on (expected revision, event id): re-read and retry.
    Conflict,
    /// Another writer holds the ledger: retry later.
    Busy,
    /// The ledger fails a check: it is not served as whole; see `verify`.
    Damaged,
    /// The store or the file system failed (full disk, permissions, I/O).
    Storage,
    /// The ledger cannot take this now (read-only, a write of unknown fate): reopen or use another.
    Unavailable,
}

impl StoreError {
    /// The class of this error.
    pub fn kind(&self) -> ErrorKind {
        use StoreError as E;
        match self {
            E::NoLedger(_) | E::NoSuchToken(_) => ErrorKind::NotFound,
            E::LedgerBusy(_) => ErrorKind::Busy,
            E::WrongExpectedRevision { .. } | E::EventIdConflict(_) | E::VerbatimRefused { .. } => {
                ErrorKind::Conflict
            }
            E::BatchRejected(_) if self.is_conflict() => ErrorKind::Conflict,
            E::Damaged(_)
            | E::Corrupt { .. }
            | E::DamagedHead(_)
            | E::DamagedView { .. }
            | E::DamagedToken { .. }
            | E::CorruptStorage { .. } => ErrorKind::Damaged,
            // Written by a newer onrecord: readable by that one, not by this.
            E::UnknownFormat { .. }
            | E::NewerSchema { .. }
            | E::ReadOnly(_)
            | E::StaleViews(_)
            | E::WriteUnsure { .. }
            | E::Unreachable { .. } => ErrorKind::Unavailable,
            E::NoAccess(_) | E::ReadOnlyOpen { .. } | E::DiskFull(_) | E::Storage { .. } => {
                ErrorKind::Storage
            }
            E::LedgerExists(_)
            | E::NotALedger(_)
            | E::NotEmpty(_)
            | E::NotADirectory(_)
            | E::Invalid(_)
            | E::BatchRejected(_)
            | E::ImportRefused(_)
            | E::ImportChanged
            | E::TokenExists(_) => ErrorKind::Invalid,
            E::TokenClash(_) => ErrorKind::Conflict,
        }
    }

    /// Whether this is a conflict (expected revision or event id), which scripts may retry.
    pub fn is_conflict(&self) -> bool {
        match self {
            StoreError::WrongExpectedRevision { .. } | StoreError::EventIdConflict(_) => true,
            StoreError::BatchRejected(errors) => {
                !errors.is_empty() && errors.iter().all(|(_, e)| e.is_conflict())
            }
            _ => false,
        }
    }
}

/// What `verify` found wrong, at the first bad seq.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("seq {seq}: {problem}")]
pub struct Damage {
    /// The first sequence number at which the ledger is not as it should be.
    pub seq: u64,
    /// What is wrong there.
    pub problem: String,
}
