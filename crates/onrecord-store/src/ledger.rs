//! The ledger: opening (with the process lock), durable atomic appends with
//! expected revisions and idempotent event ids, and streaming reads.
//!
//! Every append or batch becomes ONE sled `apply_batch` holding the records,
//! their indexes, the kept views and the new head, followed by `flush()` and an
//! fdatasync of sled's data file before it is acknowledged. A bulk import
//! (`crate::import`) writes the same batches in bounded chunks, all but the
//! last without the head.

use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use onrecord_core::validate::{BatchOverlay, PendingFacts};
use onrecord_core::{
    Draft, Event, EventId, LedgerFacts, Party, PartyId, PropositionId, Recorded, Rejection,
    StatementFacts, StreamId, validate,
};

use crate::anchor::{Anchor, AnchorState};
use crate::chain::CheckedRecords;
use crate::envelope::{self, EnvelopeV1, GENESIS_HASH, Hash};
use crate::keys::{self, MetaKey};
use crate::marker::{self, Recognised};
use crate::stream_index::{LAYOUT_2, PendingIndex, StageError, StreamLayout};
use crate::views::ViewUpdate;
use crate::{Damage, StoreError};

/// How a ledger is opened.
#[derive(Debug, Clone)]
pub struct LedgerOptions {
    /// sled's page cache, in bytes.
    pub cache_capacity: u64,
    /// How long to keep retrying while another process holds the ledger.
    pub busy_wait: Duration,
    /// The clock giving transaction time, in microseconds since the epoch.
    pub clock: fn() -> i64,
}

/// The most parties [`Ledger`] keeps read (names and all), so that an import
/// naming millions of parties does not keep them all.
const PARTY_CACHE: usize = 4096;

/// How many times a batch's record bytes must be free on disk before it is
/// written: room for its indexes, kept views and sled's page rewrites.
pub const ROOM_FACTOR: u64 = 4;
/// Free bytes every append leaves on disk beyond its own needs: room for sled
/// to start new segments (512 KiB each) and flush its metadata.
pub const ROOM_RESERVE: u64 = 1024 * 1024;

/// Microseconds since the Unix epoch, from the system clock.
pub fn system_clock() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

impl Default for LedgerOptions {
    fn default() -> Self {
        Self {
            cache_capacity: 64 * 1024 * 1024,
            busy_wait: Duration::from_secs(10),
            clock: system_clock,
        }
    }
}

/// The stream revision an append expects, checked against its primary stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExpectedRevision {
    /// No check.
    #[default]
    Any,
    /// The stream must not exist yet.
    NoStream,
    /// The stream must exist.
    StreamExists,
    /// The stream's last revision must be exactly this (revisions count from 0).
    Exact(u64),
}

/// A text that is not an expected revision.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid expected revision `{0}`: expected any, no-stream, stream-exists or a number")]
pub struct InvalidExpectedRevision(pub String);

impl FromStr for ExpectedRevision {
    type Err = InvalidExpectedRevision;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "any" => Ok(Self::Any),
            "no-stream" => Ok(Self::NoStream),
            "stream-exists" => Ok(Self::StreamExists),
            n => n
                .parse()
                .map(Self::Exact)
                .map_err(|_| InvalidExpectedRevision(n.to_owned())),
        }
    }
}

impl fmt::Display for ExpectedRevision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Any => f.write_str("any"),
            Self::NoStream => f.write_str("no-stream"),
            Self::StreamExists => f.write_str("stream-exists"),
            Self::Exact(n) => write!(f, "{n}"),
        }
    }
}

impl ExpectedRevision {
    /// Whether a stream at `actual` (`None`: no stream) is what this expects.
    pub(crate) fn admits(self, actual: Option<u64>) -> bool {
        match self {
            Self::Any => true,
            Self::NoStream => actual.is_none(),
            Self::StreamExists => actual.is_some(),
            Self::Exact(n) => actual == Some(n),
        }
    }
}

/// One event to append: what to record, optionally under a chosen id and revision check.
#[derive(Debug, Clone)]
pub struct AppendRequest {
    /// The id to record it under; a fresh v7 id when `None`. A known id makes the append idempotent.
    pub event_id: Option<EventId>,
    /// What to record.
    pub draft: Draft,
    /// The revision its primary stream must be at.
    pub expected: ExpectedRevision,
}

impl AppendRequest {
    /// A request with a fresh id and no revision check.
    pub fn new(draft: Draft) -> Self {
        Self {
            event_id: None,
            draft,
            expected: ExpectedRevision::Any,
        }
    }
}

/// What an acknowledged append did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendOutcome {
    /// The event was written at `seq`.
    Appended {
        /// Its sequence number.
        seq: u64,
        /// Its id.
        event_id: EventId,
    },
    /// The same event was already in the ledger at `seq`; nothing was written.
    AlreadyRecorded {
        /// The original sequence number.
        seq: u64,
        /// Its id.
        event_id: EventId,
    },
}

impl AppendOutcome {
    /// The seq the event holds in the ledger.
    pub fn seq(&self) -> u64 {
        match self {
            Self::Appended { seq, .. } | Self::AlreadyRecorded { seq, .. } => *seq,
        }
    }

    /// The event's id.
    pub fn event_id(&self) -> EventId {
        match self {
            Self::Appended { event_id, .. } | Self::AlreadyRecorded { event_id, .. } => *event_id,
        }
    }
}

/// The ledger's head: its last seq (0 when empty) and that record's hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    /// The last sequence number.
    pub seq: u64,
    /// The hash of the record at `seq` (zeros when empty).
    pub hash: Hash,
}

impl Head {
    fn encode(&self) -> [u8; 40] {
        let mut v = [0u8; 40];
        v[..8].copy_from_slice(&self.seq.to_be_bytes());
        v[8..].copy_from_slice(&self.hash);
        v
    }

    pub(crate) fn decode(bytes: &[u8]) -> Option<Self> {
        let seq = u64::from_be_bytes(bytes.get(..8)?.try_into().ok()?);
        let hash = bytes.get(8..40)?.try_into().ok()?;
        Some(Self { seq, hash })
    }

    /// The hash as lower-case hex.
    pub fn hash_hex(&self) -> String {
        hex(&self.hash)
    }
}

/// Lower-case hex of some bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) struct WriterState {
    pub(crate) head: Head,
    pub(crate) last_recorded_at: i64,
    pub(crate) damaged: Option<String>,
    /// Set while a ledger created for its first append has written nothing
    /// yet (`Some(true)` when its directory existed, empty, before): if that
    /// append is refused, the ledger is removed again (see [`Ledger::open_or_create_then`]).
    pub(crate) unwritten: Option<bool>,
    /// The head anchor outside sled (see [`crate::anchor`]); written only under this lock.
    anchor: Anchor,
}

impl WriterState {
    /// Records `head` in the anchor. A failed write is not an error: the
    /// append is already durable, and a stale anchor only lags behind.
    pub(crate) fn record_anchor(&mut self, head: &Head) {
        let _ = self.anchor.record(head);
    }
}

/// An open ledger. One process at a time; within it, appends are serialised by a mutex.
pub struct Ledger {
    path: PathBuf,
    /// Whether this process may only read (a read-only archive, read from a private copy).
    read_only: bool,
    db: sled::Db,
    data_file: File,
    /// How the stream index is keyed (see [`crate::stream_index`]).
    layout: StreamLayout,
    /// What the anchor held when the ledger was opened.
    anchored: AnchorState,
    clock: fn() -> i64,
    writer: Mutex<WriterState>,
    /// Parties read so far (they never change once registered); at most
    /// [`PARTY_CACHE`] of them.
    parties: Mutex<HashMap<PartyId, Party>>,
    /// The private copy a read-only ledger is read from; removed on drop,
    /// after sled (fields drop in order).
    _copy: Option<tempfile::TempDir>,
}

impl fmt::Debug for Ledger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ledger").field("path", &self.path).finish()
    }
}

/// A failure of sled or the file system, mapped to the store's own errors.
pub(crate) trait StorageFailure {
    /// The store error this failure at `path` means.
    fn at(self, path: &Path) -> StoreError;
}

impl StorageFailure for std::io::Error {
    fn at(self, path: &Path) -> StoreError {
        // ENOSPC (28) and EDQUOT (122): the disk or the quota is full.
        if self.kind() == std::io::ErrorKind::StorageFull
            || matches!(self.raw_os_error(), Some(28 | 122))
        {
            return StoreError::DiskFull(path.to_owned());
        }
        let text = self.to_string();
        let detail = match text.find(" (os error") {
            Some(i) => text[..i].to_owned(),
            None => text,
        };
        StoreError::Storage {
            path: path.to_owned(),
            detail,
        }
    }
}

impl StorageFailure for sled::Error {
    fn at(self, path: &Path) -> StoreError {
        match self {
            sled::Error::Io(io) => io.at(path),
            sled::Error::Corruption { at, .. } => StoreError::CorruptStorage {
                path: path.to_owned(),
                detail: match at {
                    Some(ptr) => format!("sled cannot read back its data file (at {ptr:?})"),
                    None => "sled cannot read back its data file".to_owned(),
                },
            },
            other => StoreError::Storage {
                path: path.to_owned(),
                detail: other.to_string(),
            },
        }
    }
}

/// Maps a sled or io error at `path` to the store's error.
pub(crate) fn storage(path: &Path, e: impl StorageFailure) -> StoreError {
    e.at(path)
}

/// Removes a ledger that was created for an append or import that was then
/// refused: the directory itself when it was made for it (`existed` false),
/// else what was put in the empty directory that was there.
pub fn remove_created(path: &Path, existed: bool) {
    if !existed {
        let _ = std::fs::remove_dir_all(path);
        return;
    }
    if let Ok(entries) = std::fs::read_dir(path) {
        for entry in entries.flatten() {
            let p = entry.path();
            let _ = if p.is_dir() {
                std::fs::remove_dir_all(&p)
            } else {
                std::fs::remove_file(&p)
            };
        }
    }
}

/// Copies the files of the ledger directory `from` into `to` (sled's `db`,
/// `conf`, snapshots and `blobs/`, and the anchor); the failing path on error.
fn copy_files(from: &Path, to: &Path) -> Result<(), (PathBuf, std::io::Error)> {
    let entries = std::fs::read_dir(from).map_err(|e| (from.to_owned(), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| (from.to_owned(), e))?;
        let source = entry.path();
        let target = to.join(entry.file_name());
        let kind = entry.file_type().map_err(|e| (source.clone(), e))?;
        if kind.is_dir() {
            std::fs::create_dir(&target).map_err(|e| (target.clone(), e))?;
            copy_files(&source, &target)?;
        } else if kind.is_file() {
            std::fs::copy(&source, &target).map_err(|e| (source.clone(), e))?;
            // The copy keeps the archive's read-only mode; sled must write its copy.
            let mut permissions = std::fs::metadata(&target)
                .map_err(|e| (target.clone(), e))?
                .permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            permissions.set_readonly(false);
            std::fs::set_permissions(&target, permissions).map_err(|e| (target.clone(), e))?;
        }
    }
    Ok(())
}

/// An I/O error at `path`: a permission refused names the path and says so.
fn no_access_or_storage(path: &Path, e: std::io::Error) -> StoreError {
    if e.kind() == std::io::ErrorKind::PermissionDenied {
        StoreError::NoAccess(path.to_owned())
    } else {
        storage(path, e)
    }
}

/// An I/O error in words, without the raw `os error` suffix.
fn io_words(e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::PermissionDenied {
        return "permission denied".into();
    }
    let text = e.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

/// How long to wait before trying sled's lock again: 1-8 ms, varied per try
/// (from the clock's nanoseconds and the process id) so that waiting
/// processes do not poll in step and one of them cannot keep missing the
/// moment the lock is free.
fn lock_retry_pause() -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let spread = (nanos ^ std::process::id().wrapping_mul(2_654_435_761)) % 8;
    Duration::from_millis(1 + u64::from(spread))
}

fn is_lock_error(e: &sled::Error) -> bool {
    matches!(e, sled::Error::Io(io) if io.to_string().contains("could not acquire lock"))
}

impl Ledger {
    /// Creates a new, empty ledger at `path` (a new or empty directory);
    /// refuses if a ledger or anything else is there, writing nothing.
    pub fn create(path: &Path, options: &LedgerOptions) -> Result<Self, StoreError> {
        let ledger = Self::create_unwritten(path, options)?;
        let format = envelope::FORMAT_VERSION.to_be_bytes();
        let mut marks = sled::Batch::default();
        marks.insert(keys::meta(MetaKey::Format), &format[..]);
        marks.insert(keys::meta(MetaKey::Layout), &LAYOUT_2[..]);
        ledger.db.apply_batch(marks).map_err(|e| storage(path, e))?;
        ledger.make_durable()?;
        ledger.lock_writer().unwritten = None;
        ledger.anchor_if_missing();
        marker::write(path).map_err(|e| storage(path, e))?;
        Ok(ledger)
    }

    /// Opens sled at `path` for a new ledger, after checking that nothing is
    /// there; its format marks are written with its first write.
    fn create_unwritten(path: &Path, options: &LedgerOptions) -> Result<Self, StoreError> {
        let existed = match marker::recognise(path).map_err(|e| storage(path, e))? {
            Recognised::Absent => false,
            Recognised::Empty => true,
            Recognised::Ledger { .. } => return Err(StoreError::LedgerExists(path.to_owned())),
            Recognised::Locked => return Err(StoreError::LedgerBusy(path.to_owned())),
            Recognised::NotADirectory => return Err(StoreError::NotADirectory(path.to_owned())),
            Recognised::Foreign => return Err(StoreError::NotEmpty(path.to_owned())),
        };
        let mut ledger = Self::open_sled(path, path, options)?;
        ledger.layout = StreamLayout::Chunked;
        ledger.lock_writer().unwritten = Some(existed);
        Ok(ledger)
    }

    /// Opens the ledger at `path`; fails with [`StoreError::NoLedger`] when
    /// there is none and [`StoreError::NotALedger`] when something else is
    /// there, in both cases before sled opens anything, so nothing is written.
    /// A ledger this process may not write (a read-only archive) is read from
    /// a private copy and refuses appends ([`StoreError::ReadOnly`]).
    pub fn open(path: &Path, options: &LedgerOptions) -> Result<Self, StoreError> {
        let started = Instant::now();
        let marked = loop {
            match marker::recognise(path).map_err(|e| no_access_or_storage(path, e))? {
                Recognised::Absent | Recognised::Empty => {
                    return Err(StoreError::NoLedger(path.to_owned()));
                }
                Recognised::NotADirectory | Recognised::Foreign => {
                    return Err(StoreError::NotALedger(path.to_owned()));
                }
                Recognised::Ledger { marked } => break marked,
                Recognised::Locked if started.elapsed() >= options.busy_wait => {
                    return Err(StoreError::LedgerBusy(path.to_owned()));
                }
                Recognised::Locked => std::thread::sleep(lock_retry_pause()),
            }
        };
        let writable = marker::is_writable(path).map_err(|e| no_access_or_storage(path, e))?;
        let ledger = if writable {
            Self::open_sled(path, path, options)?
        } else {
            Self::open_read_only(path, options)?
        };
        let format = ledger
            .db
            .get(keys::meta(MetaKey::Format))
            .map_err(|e| storage(path, e))?;
        match format.as_deref() {
            Some(v) if v == envelope::FORMAT_VERSION.to_be_bytes() => {
                if !ledger.read_only {
                    ledger.anchor_if_missing();
                    if !marked {
                        // A ledger made before the marker: recognised by what it
                        // holds, marked now. Best effort: unmarked, it is still
                        // recognised by its anchor or format key.
                        let _ = marker::write(path);
                    }
                }
                Ok(ledger)
            }
            Some(v) if v.len() == 2 => Err(StoreError::UnknownFormat {
                seq: 0,
                version: u16::from_be_bytes([v[0], v[1]]),
                supported: envelope::FORMAT_VERSION,
            }),
            _ => Err(StoreError::NotALedger(path.to_owned())),
        }
    }

    /// Opens the ledger at `path`, creating it when there is none.
    pub fn open_or_create(path: &Path, options: &LedgerOptions) -> Result<Self, StoreError> {
        match Self::open(path, options) {
            Err(StoreError::NoLedger(_)) => Self::create(path, options),
            other => other,
        }
    }

    /// Opens the ledger at `path` and runs `write` on it; when there is no
    /// ledger, creates one for `write` and keeps it only if `write` succeeds:
    /// a refused first append leaves nothing behind (not even the directory,
    /// unless it was there, empty, before).
    pub fn open_or_create_then<T, E: From<StoreError>>(
        path: &Path,
        options: &LedgerOptions,
        write: impl FnOnce(&Ledger) -> Result<T, E>,
    ) -> Result<T, E> {
        let ledger = match Self::open(path, options) {
            Err(StoreError::NoLedger(_)) => Self::create_unwritten(path, options)?,
            other => other?,
        };
        let result = write(&ledger);
        if result.is_err() {
            let unwritten = ledger.lock_writer().unwritten;
            if let Some(existed) = unwritten {
                drop(ledger);
                remove_created(path, existed);
            }
        }
        result
    }

    /// Opens a ledger this process may not write: copies its files (under a
    /// shared lock, so no writer changes them meanwhile) into a private
    /// temporary directory and opens sled there. sled 0.34 cannot open a
    /// database without write access; the copy costs one read and write of
    /// the data file (figures in docs/benchmarks.md).
    fn open_read_only(path: &Path, options: &LedgerOptions) -> Result<Self, StoreError> {
        use fs2::FileExt;
        let why = |what: &Path, e: std::io::Error| StoreError::ReadOnlyOpen {
            path: path.to_owned(),
            detail: format!("{}: {}", what.display(), io_words(&e)),
        };
        let data = path.join("db");
        let source = File::open(&data).map_err(|e| why(&data, e))?;
        let started = Instant::now();
        while source.try_lock_shared().is_err() {
            if started.elapsed() >= options.busy_wait {
                return Err(StoreError::LedgerBusy(path.to_owned()));
            }
            std::thread::sleep(lock_retry_pause());
        }
        let copy = tempfile::Builder::new()
            .prefix("onrecord-read-only-")
            .tempdir()
            .map_err(|e| why(&std::env::temp_dir(), e))?;
        copy_files(path, copy.path()).map_err(|(at, e)| {
            if matches!(e.raw_os_error(), Some(28 | 122)) {
                StoreError::ReadOnlyOpen {
                    path: path.to_owned(),
                    detail: format!(
                        "no room to copy it into {} (it needs {} bytes; set TMPDIR to a larger place)",
                        copy.path().display(),
                        std::fs::metadata(&data).map_or(0, |m| m.len())
                    ),
                }
            } else {
                why(&at, e)
            }
        })?;
        let _ = FileExt::unlock(&source);
        let mut ledger = Self::open_sled(path, copy.path(), options)?;
        ledger.read_only = true;
        ledger._copy = Some(copy);
        Ok(ledger)
    }

    /// Opens sled in `dir` (the ledger at `path`, or a private copy of it).
    fn open_sled(path: &Path, dir: &Path, options: &LedgerOptions) -> Result<Self, StoreError> {
        let config = sled::Config::new()
            .path(dir)
            .cache_capacity(options.cache_capacity)
            .mode(sled::Mode::HighThroughput);
        let started = Instant::now();
        let db = loop {
            match config.open() {
                Ok(db) => break db,
                Err(e) if is_lock_error(&e) => {
                    if started.elapsed() >= options.busy_wait {
                        return Err(StoreError::LedgerBusy(path.to_owned()));
                    }
                    std::thread::sleep(lock_retry_pause());
                }
                Err(e) => return Err(storage(path, e)),
            }
        };
        let data_file = File::open(dir.join("db")).map_err(|e| storage(path, e))?;
        let (anchor, anchored) = Anchor::open(dir).map_err(|e| storage(path, e))?;
        let layout = StreamLayout::of(&db).map_err(|e| storage(path, e))?;
        // An import a crash cut short is undone before anything reads the head.
        if crate::import::recover(&db, path, layout)? {
            db.flush().map_err(|e| storage(path, e))?;
            data_file.sync_data().map_err(|e| storage(path, e))?;
        }
        let state = Self::read_writer_state(&db, path, anchor, anchored)?;
        Ok(Self {
            path: path.to_owned(),
            read_only: false,
            db,
            data_file,
            layout,
            anchored,
            clock: options.clock,
            writer: Mutex::new(state),
            parties: Mutex::new(HashMap::new()),
            _copy: None,
        })
    }

    /// Anchors a ledger that has no anchor yet (a new one, or one written
    /// before anchors) at its head, unless that head fails its check.
    fn anchor_if_missing(&self) {
        if self.anchored == AnchorState::Missing {
            let mut state = self.lock_writer();
            if state.damaged.is_none() {
                let head = state.head;
                state.record_anchor(&head);
            }
        }
    }

    /// What the anchor held when the ledger was opened.
    pub(crate) fn anchored(&self) -> AnchorState {
        self.anchored
    }

    /// Reads the head and checks it against the last record and the anchor:
    /// at most three keyed lookups, no scan.
    fn read_writer_state(
        db: &sled::Db,
        path: &Path,
        anchor: Anchor,
        anchored: AnchorState,
    ) -> Result<WriterState, StoreError> {
        let stored = db
            .get(keys::meta(MetaKey::Head))
            .map_err(|e| storage(path, e))?;
        let last = db
            .range(keys::record(0)..=keys::record(u64::MAX))
            .next_back()
            .transpose()
            .map_err(|e| storage(path, e))?;
        let head = match &stored {
            Some(bytes) => Head::decode(bytes),
            None => Some(Head {
                seq: 0,
                hash: GENESIS_HASH,
            }),
        };
        let mut state = WriterState {
            head: head.unwrap_or(Head {
                seq: 0,
                hash: GENESIS_HASH,
            }),
            last_recorded_at: i64::MIN,
            damaged: None,
            unwritten: None,
            anchor,
        };
        let Some(head) = head else {
            state.damaged = Some("the stored head is unreadable".into());
            return Ok(state);
        };
        match last {
            None if head.seq == 0 => {}
            None => {
                state.damaged = Some(format!(
                    "the head names seq {} but the ledger holds no record",
                    head.seq
                ))
            }
            Some((key, bytes)) => {
                let seq = keys::record_seq(&key).unwrap_or(0);
                if seq != head.seq {
                    state.damaged = Some(format!(
                        "the head names seq {} but the last record is seq {seq}",
                        head.seq
                    ));
                } else if envelope::hash_record(&bytes) != head.hash {
                    state.damaged = Some(format!("the hash of seq {seq} does not match the head"));
                } else {
                    match envelope::decode_envelope(&bytes, seq) {
                        Ok(env) => state.last_recorded_at = env.recorded_at,
                        Err(e) => state.damaged = Some(e.to_string()),
                    }
                }
            }
        }
        if state.damaged.is_none() {
            state.damaged = Self::check_anchor(db, path, head, anchored)?;
        }
        Ok(state)
    }

    /// Why the ledger falls short of its anchor, if it does: the anchored seq
    /// must be held, with the anchored hash.
    fn check_anchor(
        db: &sled::Db,
        path: &Path,
        head: Head,
        anchored: AnchorState,
    ) -> Result<Option<String>, StoreError> {
        let anchor = match anchored {
            AnchorState::Missing => return Ok(None),
            AnchorState::Unreadable => {
                return Ok(Some(format!(
                    "its anchor file ({}) is unreadable",
                    crate::anchor::ANCHOR_FILE
                )));
            }
            AnchorState::At(anchor) => anchor,
        };
        if anchor.seq > head.seq {
            return Ok(Some(format!(
                "seq {} was acknowledged but the ledger ends at seq {}: records were lost",
                anchor.seq, head.seq
            )));
        }
        let hash = if anchor.seq == head.seq {
            head.hash
        } else if anchor.seq == 0 {
            GENESIS_HASH
        } else {
            match db
                .get(keys::record(anchor.seq))
                .map_err(|e| storage(path, e))?
            {
                Some(bytes) => envelope::hash_record(&bytes),
                None => {
                    return Ok(Some(format!(
                        "the acknowledged seq {} is missing",
                        anchor.seq
                    )));
                }
            }
        };
        Ok((hash != anchor.hash).then(|| {
            format!(
                "the hash of seq {} does not match the one acknowledged for it",
                anchor.seq
            )
        }))
    }

    /// The directory the ledger lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The ledger's head (last seq and hash).
    pub fn head(&self) -> Head {
        self.lock_writer().head
    }

    pub(crate) fn lock_writer(&self) -> std::sync::MutexGuard<'_, WriterState> {
        // A panic while holding the lock cannot leave half a batch in sled (the
        // batch is applied whole or not at all), so a poisoned lock is still usable.
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn tree(&self) -> &sled::Db {
        &self.db
    }

    /// The clock giving transaction time.
    pub(crate) fn clock(&self) -> fn() -> i64 {
        self.clock
    }

    /// How this ledger's stream index is keyed.
    pub(crate) fn layout(&self) -> StreamLayout {
        self.layout
    }

    pub(crate) fn storage_err(&self, e: impl StorageFailure) -> StoreError {
        storage(&self.path, e)
    }

    /// Forgets the parties read so far (after an import's writes were undone).
    pub(crate) fn forget_parties(&self) {
        self.parties
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// sled `flush()` then fdatasync of the data file: only then is a write durable.
    pub(crate) fn make_durable(&self) -> Result<(), StoreError> {
        self.db.flush().map_err(|e| self.storage_err(e))?;
        self.data_file.sync_data().map_err(|e| self.storage_err(e))
    }

    /// Refuses a batch that would leave the disk nearly full. sled 0.34 can
    /// leave a data file it cannot reopen when it hits ENOSPC in the middle of
    /// writing (docs/reliability.md), so an append must fail *before* sled
    /// writes: it needs [`ROOM_FACTOR`] times its record bytes plus
    /// [`ROOM_RESERVE`] free.
    pub(crate) fn ensure_room(&self, record_bytes: u64) -> Result<(), StoreError> {
        let needed = record_bytes
            .saturating_mul(ROOM_FACTOR)
            .saturating_add(ROOM_RESERVE);
        match fs2::available_space(&self.path) {
            Ok(free) if free < needed => Err(StoreError::DiskFull(self.path.clone())),
            _ => Ok(()),
        }
    }

    /// Appends one event durably; see [`Ledger::append_batch`] for the rules.
    pub fn append(&self, request: AppendRequest) -> Result<AppendOutcome, StoreError> {
        match self.append_batch(vec![request]) {
            Ok(mut outcomes) => Ok(outcomes.remove(0)),
            Err(StoreError::BatchRejected(mut errors)) if errors.len() == 1 => {
                Err(errors.remove(0).1)
            }
            Err(e) => Err(e),
        }
    }

    /// Appends a batch atomically and durably: all of its events or none.
    ///
    /// Each event is validated against the ledger plus the batch's earlier
    /// events; an event id already recorded with the same content is a no-op
    /// (its outcome is [`AppendOutcome::AlreadyRecorded`]), with other content a
    /// conflict. When any event is refused, nothing is written and
    /// [`StoreError::BatchRejected`] lists every refusal by index.
    pub fn append_batch(
        &self,
        requests: Vec<AppendRequest>,
    ) -> Result<Vec<AppendOutcome>, StoreError> {
        if self.read_only {
            return Err(StoreError::ReadOnly(self.path.clone()));
        }
        let mut state = self.lock_writer();
        if let Some(why) = &state.damaged {
            return Err(StoreError::DamagedHead(why.clone()));
        }
        // Stale views (an interrupted rebuild) stay stale: the batch neither
        // extends them nor marks them current; only a rebuild does.
        let keep_views = self.views_reflect(state.head.seq)?;
        let mut batch = BatchBuilder::new(self, &state, keep_views);
        let mut outcomes = Vec::with_capacity(requests.len());
        let mut errors = Vec::new();
        for (index, request) in requests.into_iter().enumerate() {
            match batch.add(request) {
                Ok(outcome) => outcomes.push(outcome),
                Err(e) => errors.push((index, e)),
            }
        }
        if !errors.is_empty() {
            return Err(StoreError::BatchRejected(errors));
        }
        if batch.appended == 0 {
            return Ok(outcomes);
        }
        self.ensure_room(batch.bytes)?;
        let first_write = state.unwritten.is_some();
        let (writes, head, recorded_at) = batch.finish(first_write)?;
        self.db
            .apply_batch(writes)
            .map_err(|e| self.storage_err(e))?;
        self.make_durable()?;
        state.record_anchor(&head);
        state.head = head;
        state.last_recorded_at = recorded_at;
        if first_write {
            state.unwritten = None;
            // The append is durable; a ledger without its marker is still
            // recognised by its anchor, and marked when next opened.
            let _ = marker::write(&self.path);
        }
        Ok(outcomes)
    }

    /// The recorded statements whose ids sort right before and after `id`: two
    /// keyed lookups in the event-id index, so a mistyped statement id can be
    /// answered with the ids it is closest to (a typo late in a UUID keeps its
    /// place in the order).
    pub fn statements_near(&self, id: &EventId) -> Result<Vec<EventId>, StoreError> {
        let key = keys::event(id);
        let start = [keys::EVENT];
        let end = keys::prefix_end(&start);
        let before = self.db.range(&start[..]..&key[..]).next_back();
        let after = self.db.range(&key[..]..&end[..]).next();
        let mut out = Vec::new();
        for kv in [before, after].into_iter().flatten() {
            let (k, _) = kv.map_err(|e| self.storage_err(e))?;
            let Ok(bytes) = <[u8; 16]>::try_from(&k[1..]) else {
                continue;
            };
            let near = EventId::from_bytes(bytes);
            if near != *id && self.statement(&near)?.is_some() {
                out.push(near);
            }
        }
        Ok(out)
    }

    /// The record at `seq`, if any.
    pub fn get(&self, seq: u64) -> Result<Option<Recorded>, StoreError> {
        match self
            .db
            .get(keys::record(seq))
            .map_err(|e| self.storage_err(e))?
        {
            Some(bytes) => envelope::decode_recorded(&bytes, seq).map(Some),
            None => Ok(None),
        }
    }

    /// The record with event id `id`, if any.
    pub fn get_by_id(&self, id: &EventId) -> Result<Option<Recorded>, StoreError> {
        match self
            .db
            .get(keys::event(id))
            .map_err(|e| self.storage_err(e))?
        {
            Some(seq) => self.get(keys::be_u64(&seq)),
            None => Ok(None),
        }
    }

    /// Streams the records with `from <= seq <= to`, in seq order, one at a time.
    pub fn records(&self, from: u64, to: u64) -> Records<'_> {
        Records {
            ledger: self,
            inner: self.db.range(keys::record(from)..=keys::record(to)),
        }
    }

    /// Streams the records with `from <= seq <= to`, each proven by the hash
    /// chain before it is yielded; stops with [`StoreError::Damaged`] at the
    /// first bad seq (see [`crate::chain`]).
    pub fn records_checked(&self, from: u64, to: u64) -> CheckedRecords<'_> {
        CheckedRecords::new(self, from, to)
    }

    /// Refuses a ledger whose open check failed (its head or anchor says
    /// acknowledged records are missing or altered) with the damage `verify`
    /// reports, so that no reader serves it as whole. Costs nothing on a
    /// sound ledger; walks the log (as `verify` does) only on a damaged one.
    pub fn ensure_whole(&self) -> Result<(), StoreError> {
        let Some(why) = self.lock_writer().damaged.clone() else {
            return Ok(());
        };
        Err(StoreError::Damaged(self.open_damage(why)?))
    }

    /// The first damage of a ledger whose open check failed, as `verify` names it.
    fn open_damage(&self, why: String) -> Result<Damage, StoreError> {
        let report = self.verify(&mut |_, _| {})?;
        Ok(report.damage.unwrap_or(Damage {
            seq: self.head().seq,
            problem: why,
        }))
    }

    /// The first damage `verify` would report, if the open check already
    /// found the ledger damaged (else `None`, at no cost): what a salvage
    /// stops before.
    pub fn damage_found_on_open(&self) -> Result<Option<Damage>, StoreError> {
        // The writer lock is released before the walk, which takes it again.
        let damaged = self.lock_writer().damaged.clone();
        damaged.map(|why| self.open_damage(why)).transpose()
    }

    /// Whether this process may only read the ledger (a read-only archive).
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// Streams every record from `from` to the end.
    pub fn records_from(&self, from: u64) -> Records<'_> {
        self.records(from, u64::MAX)
    }

    /// The last revision of `stream`, or `None` when it does not exist.
    pub fn stream_revision(&self, stream: &StreamId) -> Result<Option<u64>, StoreError> {
        let v = self
            .db
            .get(keys::stream_head(stream))
            .map_err(|e| self.storage_err(e))?;
        Ok(v.map(|b| keys::be_u64(&b)))
    }

    /// Streams the events of one stream in revision order.
    pub fn stream(
        &self,
        stream: &StreamId,
    ) -> impl Iterator<Item = Result<Recorded, StoreError>> + '_ {
        self.layout.seqs(&self.db, stream).map(move |seq| {
            let seq = seq.map_err(|e| self.storage_err(e))?;
            self.get(seq)?.ok_or_else(|| StoreError::Corrupt {
                seq,
                detail: "the stream index names a missing record".into(),
            })
        })
    }

    /// Every registered party, in id order (reads the party stream heads, not the log).
    pub fn parties(&self) -> Result<Vec<Party>, StoreError> {
        let mut out = Vec::new();
        for kv in self.db.scan_prefix([keys::STREAM_HEAD, b'p']) {
            let (key, _) = kv.map_err(|e| self.storage_err(e))?;
            let id = std::str::from_utf8(&key[2..])
                .ok()
                .and_then(|s| PartyId::new(s).ok());
            if let Some(party) = id.map(|id| self.party(&id)).transpose()?.flatten() {
                out.push(party);
            }
        }
        Ok(out)
    }

    /// Every proposition id, in order (reads the stream heads, not the log).
    pub fn proposition_ids(&self) -> Result<Vec<PropositionId>, StoreError> {
        let mut out = Vec::new();
        for kv in self.db.scan_prefix([keys::STREAM_HEAD, b'q']) {
            let (key, _) = kv.map_err(|e| self.storage_err(e))?;
            if let Some(id) = std::str::from_utf8(&key[2..])
                .ok()
                .and_then(|s| PropositionId::new(s).ok())
            {
                out.push(id);
            }
        }
        Ok(out)
    }

    /// The event at revision 0 of `stream`: the party's registration or the proposition's opening.
    fn stream_origin(&self, stream: &StreamId) -> Result<Option<Event>, StoreError> {
        match self
            .layout
            .seq_at(&self.db, stream, 0)
            .map_err(|e| self.storage_err(e))?
        {
            Some(seq) => Ok(self.get(seq)?.map(|r| r.event)),
            None => Ok(None),
        }
    }

    /// The proposition with this id, as opened.
    pub fn proposition_opened(
        &self,
        id: &PropositionId,
    ) -> Result<Option<onrecord_core::Proposition>, StoreError> {
        match self.stream_origin(&StreamId::Proposition(id.clone()))? {
            Some(Event::PropositionOpened(p)) => Ok(Some(p)),
            _ => Ok(None),
        }
    }

    /// The resolution of proposition `id`, if it has resolved.
    pub fn resolution(&self, id: &PropositionId) -> Result<Option<Recorded>, StoreError> {
        match self
            .db
            .get(keys::resolved(id))
            .map_err(|e| self.storage_err(e))?
        {
            Some(seq) => self.get(keys::be_u64(&seq)),
            None => Ok(None),
        }
    }

    /// Bytes the ledger's files take on disk.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        self.db.size_on_disk().map_err(|e| self.storage_err(e))
    }

    /// Checks the whole ledger: hash chain, gapless sequence, indexes and head.
    pub fn verify(
        &self,
        on_progress: &mut dyn FnMut(u64, u64),
    ) -> Result<VerifyReport, StoreError> {
        crate::verify::verify(self, on_progress)
    }
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// How many records were checked.
    pub records: u64,
    /// How many streams were checked.
    pub streams: u64,
    /// The head it checked against.
    pub head: Head,
    /// The first damage found, if any.
    pub damage: Option<Damage>,
    /// Whether the kept views were compared with a fold of the log, and how
    /// that went (a difference is reported as `damage`).
    pub views: crate::ViewsVerified,
}

/// A streaming iterator over records in seq order.
pub struct Records<'a> {
    ledger: &'a Ledger,
    inner: sled::Iter,
}

impl Iterator for Records<'_> {
    type Item = Result<Recorded, StoreError>;
    fn next(&mut self) -> Option<Self::Item> {
        let item = self.inner.next()?;
        Some(
            item.map_err(|e| self.ledger.storage_err(e))
                .and_then(|(key, bytes)| {
                    envelope::decode_recorded(&bytes, keys::record_seq(&key).unwrap_or(0))
                }),
        )
    }
}

impl LedgerFacts for Ledger {
    type Error = StoreError;

    fn party(&self, id: &PartyId) -> Result<Option<Party>, StoreError> {
        // A registered party never changes (append-only), so once read it is
        // kept: validating a statement then costs a hash lookup, not a read
        // and decode of the party's registration record.
        let cache = || self.parties.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(p) = cache().get(id) {
            return Ok(Some(p.clone()));
        }
        match self.stream_origin(&StreamId::Party(id.clone()))? {
            Some(Event::PartyRegistered(p)) => {
                let mut cache = cache();
                if cache.len() >= PARTY_CACHE {
                    cache.clear();
                }
                cache.insert(id.clone(), p.clone());
                Ok(Some(p))
            }
            _ => Ok(None),
        }
    }

    fn proposition(&self, id: &PropositionId) -> Result<Option<bool>, StoreError> {
        if self
            .stream_revision(&StreamId::Proposition(id.clone()))?
            .is_none()
        {
            return Ok(None);
        }
        let resolved = self
            .db
            .contains_key(keys::resolved(id))
            .map_err(|e| self.storage_err(e))?;
        Ok(Some(resolved))
    }

    fn statement(&self, id: &EventId) -> Result<Option<StatementFacts>, StoreError> {
        let Some(rec) = self.get_by_id(id)? else {
            return Ok(None);
        };
        let Event::StatementRecorded(s) = rec.event else {
            return Ok(None);
        };
        let retracted = self
            .db
            .contains_key(keys::retracted(id))
            .map_err(|e| self.storage_err(e))?;
        Ok(Some(StatementFacts {
            proposition: s.proposition,
            party: s.party,
            retracted,
        }))
    }
}

/// Builds one batch's writes, seeing the ledger plus the batch's earlier events.
pub(crate) struct BatchBuilder<'a> {
    ledger: &'a Ledger,
    writes: sled::Batch,
    pending: PendingFacts,
    explicit_ids: HashMap<EventId, (u64, Event)>,
    /// Each stream's last revision as of the batch so far, and whether the batch moved it.
    stream_heads: HashMap<StreamId, (Option<u64>, bool)>,
    /// The batch's stream-index entries.
    index: PendingIndex,
    pub(crate) head: Head,
    recorded_at: i64,
    pub(crate) appended: u64,
    pub(crate) bytes: u64,
    /// The batch's view writes; `None` when the views are stale and left alone.
    views: Option<ViewUpdate>,
}

impl<'a> BatchBuilder<'a> {
    fn new(ledger: &'a Ledger, state: &WriterState, keep_views: bool) -> Self {
        // Transaction time never goes backwards, even if the clock does.
        let recorded_at = (ledger.clock)().max(state.last_recorded_at);
        Self::continuing(ledger, state.head, recorded_at, keep_views)
    }

    /// A batch that follows `head`, its events recorded at `recorded_at`
    /// (an import's later chunks continue its earlier ones); `keep_views`
    /// says whether the kept views are current and so extended.
    pub(crate) fn continuing(
        ledger: &'a Ledger,
        head: Head,
        recorded_at: i64,
        keep_views: bool,
    ) -> Self {
        Self {
            ledger,
            writes: sled::Batch::default(),
            pending: PendingFacts::default(),
            explicit_ids: HashMap::new(),
            stream_heads: HashMap::new(),
            index: PendingIndex::default(),
            head,
            recorded_at,
            appended: 0,
            bytes: 0,
            views: keep_views.then(ViewUpdate::default),
        }
    }

    /// The transaction time of the batch's events.
    pub(crate) fn recorded_at(&self) -> i64 {
        self.recorded_at
    }

    fn stream_head(&mut self, stream: &StreamId) -> Result<Option<u64>, StoreError> {
        if let Some((rev, _)) = self.stream_heads.get(stream) {
            return Ok(*rev);
        }
        let rev = self.ledger.stream_revision(stream)?;
        self.stream_heads.insert(stream.clone(), (rev, false));
        Ok(rev)
    }

    fn check_revision(
        &mut self,
        stream: &StreamId,
        expected: ExpectedRevision,
    ) -> Result<(), StoreError> {
        let actual = self.stream_head(stream)?;
        if expected.admits(actual) {
            return Ok(());
        }
        Err(StoreError::WrongExpectedRevision {
            stream: stream.clone(),
            expected: expected.to_string(),
            actual: actual.map_or_else(|| "no-stream".to_owned(), |r| r.to_string()),
        })
    }

    pub(crate) fn add(&mut self, request: AppendRequest) -> Result<AppendOutcome, StoreError> {
        if let Some(id) = request.event_id {
            if let Some((seq, event)) = self.explicit_ids.get(&id) {
                return if request.draft.matches(event) {
                    Ok(AppendOutcome::AlreadyRecorded {
                        seq: *seq,
                        event_id: id,
                    })
                } else {
                    Err(StoreError::EventIdConflict(id))
                };
            }
            if let Some(rec) = self.ledger.get_by_id(&id)? {
                return if request.draft.matches(&rec.event) {
                    Ok(AppendOutcome::AlreadyRecorded {
                        seq: rec.seq,
                        event_id: id,
                    })
                } else {
                    Err(StoreError::EventIdConflict(id))
                };
            }
        }
        // The revision is checked before the content where the draft names its
        // stream, so `no-stream` on an existing party is a conflict, as callers
        // retrying on conflicts expect, not a duplicate-party error.
        let early = request.draft.primary_stream();
        if let Some(stream) = &early {
            self.check_revision(stream, request.expected)?;
        }
        let overlay = BatchOverlay {
            base: self.ledger,
            pending: &self.pending,
        };
        let validated = validate(request.draft, &overlay).map_err(|r| match r {
            Rejection::Invalid(e) => StoreError::Invalid(e),
            Rejection::Lookup(e) => e,
        })?;
        if early.is_none() {
            self.check_revision(&validated.streams[0], request.expected)?;
        }

        let seq = self.head.seq + 1;
        let event_id = request.event_id.unwrap_or_else(EventId::new_v7);
        let env = EnvelopeV1 {
            seq,
            event_id: *event_id.as_bytes(),
            event_type: validated.event.event_type().code(),
            recorded_at: self.recorded_at,
            prev_hash: self.head.hash,
            payload: envelope::encode_payload(&validated.event),
        };
        let bytes = envelope::encode_record(&env);
        self.bytes += bytes.len() as u64;
        let seq_bytes = seq.to_be_bytes();
        self.head = Head {
            seq,
            hash: envelope::hash_record(&bytes),
        };
        self.writes.insert(&keys::record(seq)[..], bytes);
        self.writes
            .insert(&keys::event(&event_id)[..], &seq_bytes[..]);
        for stream in &validated.streams {
            let revision = self.stream_head(stream)?.map_or(0, |r| r + 1);
            if let Some(head) = self.stream_heads.get_mut(stream) {
                *head = (Some(revision), true);
            }
            self.index
                .stage(
                    self.ledger.layout,
                    &self.ledger.db,
                    &mut self.writes,
                    stream,
                    revision,
                    seq,
                )
                .map_err(|e| match e {
                    StageError::Storage(e) => self.ledger.storage_err(e),
                    StageError::Damaged { stream, revision } => StoreError::DamagedHead(format!(
                        "the stream index of {stream} does not hold the revisions before {revision}"
                    )),
                })?;
        }
        match &validated.event {
            Event::StatementRetracted(r) => self
                .writes
                .insert(&keys::retracted(&r.statement)[..], &seq_bytes[..]),
            Event::PropositionResolved(r) => self
                .writes
                .insert(keys::resolved(&r.proposition), &seq_bytes[..]),
            _ => {}
        }
        if let Some(views) = &mut self.views {
            views.on_event(self.ledger, seq, event_id, &validated.event)?;
        }
        self.pending
            .absorb(event_id, &validated.event, self.ledger)?;
        if request.event_id.is_some() {
            self.explicit_ids.insert(event_id, (seq, validated.event));
        }
        self.appended += 1;
        Ok(AppendOutcome::Appended { seq, event_id })
    }

    /// The keys this batch will overwrite that may hold values written before
    /// seq `base`: the heads of the streams it moved and the kept views it
    /// changes (what an import journals before it overwrites them).
    pub(crate) fn prior_keys(&self, base: u64) -> Vec<Vec<u8>> {
        let mut out: Vec<Vec<u8>> = self
            .stream_heads
            .iter()
            .filter(|(_, (_, moved))| *moved)
            .map(|(stream, _)| keys::stream_head(stream))
            .collect();
        if let Some(views) = &self.views {
            out.extend(views.prior_keys(base));
        }
        out
    }

    /// Adds the stream heads, index chunks and kept views (when current) to
    /// the writes. Stream heads and index chunks are written once per batch,
    /// at their last value, however many of the batch's events they took.
    fn write_indexes(&mut self) -> Result<(), StoreError> {
        for (stream, (revision, moved)) in &self.stream_heads {
            if let (Some(revision), true) = (revision, moved) {
                self.writes
                    .insert(keys::stream_head(stream), &revision.to_be_bytes()[..]);
            }
        }
        std::mem::take(&mut self.index).write(&mut self.writes);
        match self.views.as_mut() {
            Some(views) => std::mem::take(views).write(self.ledger, &mut self.writes),
            None => Ok(()),
        }
    }

    /// The writes of an import's chunk that is not its last: everything but
    /// the head and the views marker, so nothing of it is committed.
    pub(crate) fn stage(mut self) -> Result<(sled::Batch, Head), StoreError> {
        self.write_indexes()?;
        Ok((self.writes, self.head))
    }

    /// The writes of a whole batch: records, indexes, views and the views
    /// marker (only when the views were current), and the head;
    /// `first_write` adds the format marks of a ledger created for this batch.
    pub(crate) fn finish(
        mut self,
        first_write: bool,
    ) -> Result<(sled::Batch, Head, i64), StoreError> {
        self.write_indexes()?;
        if first_write {
            let format = envelope::FORMAT_VERSION.to_be_bytes();
            self.writes.insert(keys::meta(MetaKey::Format), &format[..]);
            self.writes
                .insert(keys::meta(MetaKey::Layout), &LAYOUT_2[..]);
        }
        if self.views.is_some() {
            self.writes.insert(
                keys::meta(MetaKey::Views),
                &crate::views::views_marker(self.head.seq)[..],
            );
        }
        self.writes
            .insert(keys::meta(MetaKey::Head), &self.head.encode()[..]);
        Ok((self.writes, self.head, self.recorded_at))
    }
}
