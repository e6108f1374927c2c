//! onrecord's embedded backend: a ledger kept in one sled database in a
//! directory, beside a marker file (`onrecord-ledger`) and a head anchor
//! (`anchor`). The only crate that touches sled.
//!
//! [`SledStorage`] implements the engine's [`Storage`] over one sled tree
//! holding the engine's keyspace, byte for byte: new ledgers in keyspace
//! layout 3, entries packed into chunks ([`packed`], ADR 0007); ledgers
//! made before it one sled key per engine key (ADR 0003's layouts 1 and 2),
//! read and written as they are. This crate also decides, before sled opens anything, whether a
//! directory holds a ledger ([`marker`]), so it never writes into one that
//! does not; opens read-only archives from a private copy; and maps sled and
//! file-system failures to the engine's errors. The append pipeline, chain,
//! indexes and views are the engine's (`onrecord-ledger`).
#![warn(missing_docs)]

mod allocator;
mod anchor;
mod chunk;
mod marker;
pub mod packed;
mod pending;
mod raw;

use std::fs::File;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use onrecord_ledger::storage::{Acknowledged, Entries, Entry, Storage, WriteSet};
use onrecord_ledger::{Clock, Head, Ledger, Opening, StoreError};

use crate::anchor::Anchor;
use crate::marker::Recognised;
use crate::pending::{Merged, PENDING_LIMIT, Pending, is_empty_range};

pub use allocator::pin_mmap_threshold;
pub use anchor::ANCHOR_FILE;
pub use marker::MARKER_FILE;
pub use raw::RawLedger;

/// How a sled store holds the engine's keyspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StoreLayout {
    /// Keyspace layout 3: entries packed into chunks ([`packed`], ADR 0007).
    #[default]
    Chunks,
    /// One sled key per engine key: how ledgers before layout 3 are stored.
    KeyPerEntry,
}

/// How a sled ledger is opened.
#[derive(Debug, Clone)]
pub struct LedgerOptions {
    /// sled's page cache, in bytes.
    pub cache_capacity: u64,
    /// How long to keep retrying while another process holds the ledger.
    pub busy_wait: Duration,
    /// Transaction time and new event ids.
    pub clock: Clock,
    /// How a NEW ledger stores its keyspace; an existing one keeps its own.
    pub new_layout: StoreLayout,
}

impl Default for LedgerOptions {
    fn default() -> Self {
        Self {
            cache_capacity: 64 * 1024 * 1024,
            busy_wait: Duration::from_secs(10),
            clock: Clock::default(),
            new_layout: StoreLayout::default(),
        }
    }
}

/// How many times a batch's record bytes must be free on disk before it is
/// written: room for its indexes, kept views and sled's page rewrites.
pub const ROOM_FACTOR: u64 = 4;
/// Free bytes every append leaves on disk beyond its own needs: room for sled
/// to start new segments (512 KiB each) and flush its metadata.
pub const ROOM_RESERVE: u64 = 1024 * 1024;

/// One sled database holding a ledger's keyspace.
pub struct SledStorage {
    /// The ledger directory (messages name it, even when reading a copy).
    path: PathBuf,
    db: sled::Db,
    data_file: File,
    /// The head anchor outside sled; written after each durable write.
    anchor: Mutex<Anchor>,
    /// What the anchor held when the store was opened.
    anchored: Acknowledged,
    /// Whether the directory carries its marker file yet.
    marked: AtomicBool,
    /// How this store holds the keyspace.
    layout: StoreLayout,
    /// Whether a layout 3 store holds its mark yet (written with its first batch).
    layout_marked: AtomicBool,
    /// Write sets applied, not yet handed to sled (see [`pending`]).
    pending: Mutex<Pending>,
    /// Whether this process may only read (a read-only archive, read from a private copy).
    read_only: bool,
    /// The private copy a read-only ledger is read from; removed on drop,
    /// after sled (fields drop in order).
    _copy: Option<tempfile::TempDir>,
}

impl Drop for SledStorage {
    /// Pending writes go to sled when the store closes, as they would have at
    /// once before they were grouped: applied writes are never dropped here
    /// (they become durable, or not, as sled's own buffers do).
    fn drop(&mut self) {
        let mut pending = self.lock_pending();
        if !pending.is_empty() {
            let mut taken = std::mem::take(&mut *pending);
            drop(pending);
            let _ = self.write_pending(&mut taken);
        }
    }
}

impl std::fmt::Debug for SledStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SledStorage")
            .field("path", &self.path)
            .finish()
    }
}

/// A failure of sled or the file system, mapped to the engine's errors.
trait StorageFailure {
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
        StoreError::Storage {
            path: path.to_owned(),
            detail: io_words(&self),
            source: Some(Box::new(self)),
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
                source: Some(Box::new(other)),
            },
        }
    }
}

/// Maps a sled or io error at `path` to the engine's error.
fn storage(path: &Path, e: impl StorageFailure) -> StoreError {
    e.at(path)
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

/// An I/O error at `path`: a permission refused names the path and says so.
fn no_access_or_storage(path: &Path, e: std::io::Error) -> StoreError {
    if e.kind() == std::io::ErrorKind::PermissionDenied {
        StoreError::NoAccess(path.to_owned())
    } else {
        storage(path, e)
    }
}

impl Storage for SledStorage {
    fn location(&self) -> &Path {
        &self.path
    }

    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(value) = self.lock_pending().writes.get(key) {
            return Ok(value.clone());
        }
        if self.layout == StoreLayout::Chunks {
            return packed::get(&self.db, &self.path, key);
        }
        self.db
            .get(key)
            .map(|v| v.map(|v| v.to_vec()))
            .map_err(|e| storage(&self.path, e))
    }

    fn contains(&self, key: &[u8]) -> Result<bool, StoreError> {
        if let Some(value) = self.lock_pending().writes.get(key) {
            return Ok(value.is_some());
        }
        if self.layout == StoreLayout::Chunks {
            return Ok(packed::get(&self.db, &self.path, key)?.is_some());
        }
        self.db
            .contains_key(key)
            .map_err(|e| storage(&self.path, e))
    }

    fn range(&self, start: Bound<&[u8]>, end: Bound<&[u8]>) -> Entries<'_> {
        let pending = self.lock_pending().in_range(start, end);
        if self.layout == StoreLayout::Chunks {
            let stored = packed::range(&self.db, &self.path, start, end);
            if pending.is_empty() {
                return Box::new(stored);
            }
            return Box::new(Merged {
                pending: pending.into_iter().peekable(),
                stored: stored.peekable(),
            });
        }
        let stored = self.db.range::<&[u8], _>((start, end)).map(move |kv| {
            kv.map(|(k, v)| (k.to_vec(), v.to_vec()))
                .map_err(|e| storage(&self.path, e))
        });
        if pending.is_empty() {
            return Box::new(stored);
        }
        Box::new(Merged {
            pending: pending.into_iter().peekable(),
            stored: stored.peekable(),
        })
    }

    fn last(&self, start: Bound<&[u8]>, end: Bound<&[u8]>) -> Result<Option<Entry>, StoreError> {
        if is_empty_range(&start, &end) {
            return Ok(None);
        }
        let pending = self.lock_pending();
        // The last stored entry pending writes do not replace or delete.
        let mut stored = None;
        if self.layout == StoreLayout::Chunks {
            stored = packed::last(&self.db, &self.path, start, end, |k| {
                pending.writes.contains_key(k)
            })?;
        } else {
            for kv in self.db.range::<&[u8], _>((start, end)).rev() {
                let (k, v) = kv.map_err(|e| storage(&self.path, e))?;
                if !pending.writes.contains_key(k.as_ref()) {
                    stored = Some((k.to_vec(), v.to_vec()));
                    break;
                }
            }
        }
        let written = pending
            .in_range(start, end)
            .into_iter()
            .rev()
            .find_map(|(k, v)| v.map(|v| (k, v)));
        Ok(match (stored, written) {
            (Some(s), Some(w)) => Some(if w.0 > s.0 { w } else { s }),
            (s, w) => s.or(w),
        })
    }

    /// Joins the pending write sets; they go to sled at the next sync, or
    /// first if they would hold more than [`PENDING_LIMIT`] bytes. A write
    /// set larger than that goes to sled at once, alone.
    fn apply(&self, writes: WriteSet) -> Result<(), StoreError> {
        let size: usize = writes
            .ops()
            .map(|(k, v)| k.len() + v.map_or(0, <[u8]>::len))
            .sum();
        let mut pending = self.lock_pending();
        if !pending.is_empty() && pending.bytes + size > PENDING_LIMIT {
            self.write_pending(&mut pending)?;
        }
        if size > PENDING_LIMIT {
            // A large write set (an import's chunk) goes to sled on its own.
            let mut alone = Pending::default();
            alone.add(writes.into_ops());
            return self.write_pending(&mut alone);
        }
        pending.add(writes.into_ops());
        Ok(())
    }

    /// The pending write sets to sled as one batch, then sled's `flush()` and
    /// an fdatasync of the data file: only then is a write durable.
    fn sync(&self) -> Result<(), StoreError> {
        {
            let mut pending = self.lock_pending();
            if !pending.is_empty() {
                self.write_pending(&mut pending)?;
            }
        }
        self.db.flush().map_err(|e| storage(&self.path, e))?;
        self.data_file
            .sync_data()
            .map_err(|e| storage(&self.path, e))
    }

    /// Refuses a batch that would leave the disk nearly full. sled 0.34 can
    /// leave a data file it cannot reopen when it hits ENOSPC in the middle of
    /// writing (docs/reliability.md), so a write must fail *before* sled
    /// writes: it needs [`ROOM_FACTOR`] times its record bytes plus
    /// [`ROOM_RESERVE`] free.
    fn ensure_room(&self, record_bytes: u64) -> Result<(), StoreError> {
        let needed = record_bytes
            .saturating_mul(ROOM_FACTOR)
            .saturating_add(ROOM_RESERVE);
        match fs2::available_space(&self.path) {
            Ok(free) if free < needed => Err(StoreError::DiskFull(self.path.clone())),
            _ => Ok(()),
        }
    }

    /// Records `head` in the anchor (and marks a new ledger's directory). A
    /// failed write is not an error: the append is already durable, a stale
    /// anchor only lags behind, and an unmarked ledger is still recognised by
    /// its anchor, and marked when next opened.
    fn acknowledged(&self, head: &Head) {
        let _ = self
            .anchor
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .record(head);
        if !self.marked.load(Ordering::Relaxed) && marker::write(&self.path).is_ok() {
            self.marked.store(true, Ordering::Relaxed);
        }
    }

    fn acknowledgement(&self) -> Acknowledged {
        self.anchored
    }

    fn is_read_only(&self) -> bool {
        self.read_only
    }

    fn size_on_disk(&self) -> Result<u64, StoreError> {
        self.db.size_on_disk().map_err(|e| storage(&self.path, e))
    }
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

/// Removes the snapshot files sled was still writing when its process died
/// (`snap.<lsn>.generating`) and returns how many there were, or 0 when the
/// ledger is held by a live process (which may be writing one right now).
///
/// sled 0.34.7 reads the newest `snap.*` file at open, unfinished ones
/// included, and refuses to open when its checksum fails (spacejam/sled#1527).
/// A snapshot only shortens the log replay at open: it is written, synced and
/// only then renamed, so without the unfinished one sled recovers from the
/// previous snapshot and the log, as it does when a kill lands a moment
/// before the snapshot begins. Never a record is lost by this.
fn discard_unfinished_snapshots(dir: &Path) -> std::io::Result<usize> {
    use fs2::FileExt;
    let unfinished: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("snap.") && n.ends_with(".generating"))
        })
        .collect();
    if unfinished.is_empty() {
        return Ok(0);
    }
    // sled holds this lock for as long as a process has the ledger open.
    let data = File::open(dir.join("db"))?;
    if data.try_lock_exclusive().is_err() {
        return Ok(0);
    }
    for snapshot in &unfinished {
        std::fs::remove_file(snapshot)?;
    }
    File::open(dir)?.sync_all()?;
    FileExt::unlock(&data)?;
    Ok(unfinished.len())
}

fn is_lock_error(e: &sled::Error) -> bool {
    matches!(e, sled::Error::Io(io) if io.to_string().contains("could not acquire lock"))
}

impl SledStorage {
    fn lock_pending(&self) -> std::sync::MutexGuard<'_, Pending> {
        // A panic while holding it cannot leave half a write set in it (a
        // write set is added whole), so a poisoned lock is still usable.
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Hands every pending write to sled as one atomic batch; kept pending
    /// if sled refuses it (the next sync tries again).
    fn write_pending(&self, pending: &mut Pending) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        if self.layout == StoreLayout::Chunks {
            packed::stage(&self.db, &self.path, &pending.writes, &mut batch)?;
            if !self.layout_marked.load(Ordering::Relaxed) {
                batch.insert(packed::LAYOUT_MARK_KEY, &packed::LAYOUT_3[..]);
            }
        } else {
            for (key, value) in &pending.writes {
                match value {
                    Some(value) => batch.insert(&key[..], &value[..]),
                    None => batch.remove(&key[..]),
                }
            }
        }
        self.db
            .apply_batch(batch)
            .map_err(|e| storage(&self.path, e))?;
        self.layout_marked.store(true, Ordering::Relaxed);
        *pending = Pending::default();
        Ok(())
    }

    /// How this store holds the engine's keyspace.
    pub fn layout(&self) -> StoreLayout {
        self.layout
    }

    /// Opens sled in `dir` (the ledger at `path`, or a private copy of it).
    fn open(path: &Path, dir: &Path, options: &LedgerOptions) -> Result<Self, StoreError> {
        let config = sled::Config::new()
            .path(dir)
            .cache_capacity(options.cache_capacity)
            .mode(sled::Mode::HighThroughput);
        let started = Instant::now();
        let mut discarded_snapshots = false;
        let db = loop {
            match config.open() {
                Ok(db) => break db,
                Err(e) if is_lock_error(&e) => {
                    if started.elapsed() >= options.busy_wait {
                        return Err(StoreError::LedgerBusy(path.to_owned()));
                    }
                    std::thread::sleep(lock_retry_pause());
                }
                Err(e @ sled::Error::Corruption { .. }) if !discarded_snapshots => {
                    discarded_snapshots = true;
                    match discard_unfinished_snapshots(dir) {
                        Ok(0) => return Err(storage(path, e)),
                        Ok(_) => {}
                        Err(io) => return Err(storage(path, io)),
                    }
                }
                Err(e) => return Err(storage(path, e)),
            }
        };
        let data_file = File::open(dir.join("db")).map_err(|e| storage(path, e))?;
        let (anchor, anchored) = Anchor::open(dir).map_err(|e| storage(path, e))?;
        // An empty store is new: it takes the layout new ledgers are given.
        let (layout, layout_marked) =
            match packed::is_layout_3(&db).map_err(|e| storage(path, e))? {
                Some(true) => (StoreLayout::Chunks, true),
                Some(false) => (StoreLayout::KeyPerEntry, true),
                None => (
                    options.new_layout,
                    options.new_layout == StoreLayout::KeyPerEntry,
                ),
            };
        Ok(Self {
            path: path.to_owned(),
            db,
            data_file,
            anchor: Mutex::new(anchor),
            anchored,
            marked: AtomicBool::new(false),
            layout,
            layout_marked: AtomicBool::new(layout_marked),
            pending: Mutex::new(Pending::default()),
            read_only: false,
            _copy: None,
        })
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
        let mut store = Self::open(path, copy.path(), options)?;
        store.read_only = true;
        store.marked.store(true, Ordering::Relaxed);
        store._copy = Some(copy);
        Ok(store)
    }
}

/// Creates a new, empty ledger at `path` (a new or empty directory);
/// refuses if a ledger or anything else is there, writing nothing.
pub fn create(path: &Path, options: &LedgerOptions) -> Result<Ledger, StoreError> {
    let (store, _) = create_store(path, options)?;
    let ledger = Ledger::from_storage(Box::new(store), options.clock, Opening::Create)?;
    // `from_storage` anchored it, which marks it; a marker that cannot be
    // written is an error here, before anything relies on the ledger.
    marker::write(path).map_err(|e| storage(path, e))?;
    Ok(ledger)
}

/// The store for a new, empty ledger at `path`, as [`create`] checks and
/// opens it, but without the engine on top: for a caller that wraps it
/// (fault injection in the conformance suite) before
/// `Ledger::from_storage(.., Opening::Create)`. The directory's marker is
/// written with the ledger's first acknowledgement.
pub fn create_storage(path: &Path, options: &LedgerOptions) -> Result<SledStorage, StoreError> {
    create_store(path, options).map(|(store, _)| store)
}

/// Opens sled at `path` for a new ledger, after checking that nothing is
/// there; also says whether the directory existed (empty) before.
fn create_store(path: &Path, options: &LedgerOptions) -> Result<(SledStorage, bool), StoreError> {
    let existed = match marker::recognise(path).map_err(|e| storage(path, e))? {
        Recognised::Absent => false,
        Recognised::Empty => true,
        Recognised::Ledger { .. } => return Err(StoreError::LedgerExists(path.to_owned())),
        Recognised::Locked => return Err(StoreError::LedgerBusy(path.to_owned())),
        Recognised::NotADirectory => return Err(StoreError::NotADirectory(path.to_owned())),
        Recognised::Foreign => return Err(StoreError::NotEmpty(path.to_owned())),
    };
    Ok((SledStorage::open(path, path, options)?, existed))
}

/// The store of the existing ledger at `path`, as [`open`] recognises and
/// opens it, but without the engine on top: for a caller that wraps it
/// (fault injection in the conformance suite) before
/// `Ledger::from_storage(.., Opening::Existing)`. Fails as [`open`] does.
pub fn open_storage(path: &Path, options: &LedgerOptions) -> Result<SledStorage, StoreError> {
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
    if marker::is_writable(path).map_err(|e| no_access_or_storage(path, e))? {
        let store = SledStorage::open(path, path, options)?;
        store.marked.store(marked, Ordering::Relaxed);
        Ok(store)
    } else {
        SledStorage::open_read_only(path, options)
    }
}

/// Opens the ledger at `path`; fails with [`StoreError::NoLedger`] when
/// there is none and [`StoreError::NotALedger`] when something else is
/// there, in both cases before sled opens anything, so nothing is written.
/// A ledger this process may not write (a read-only archive) is read from
/// a private copy and refuses appends ([`StoreError::ReadOnly`]).
pub fn open(path: &Path, options: &LedgerOptions) -> Result<Ledger, StoreError> {
    let store = open_storage(path, options)?;
    // A read-only store counts as marked: its directory is never written.
    let unmarked = !store.marked.load(Ordering::Relaxed);
    let ledger = Ledger::from_storage(Box::new(store), options.clock, Opening::Existing)?;
    if unmarked {
        // A ledger made before the marker: recognised by what it holds,
        // marked now. Best effort: unmarked, it is still recognised by its
        // anchor or format key.
        let _ = marker::write(path);
    }
    Ok(ledger)
}

/// Opens the ledger at `path`, creating it when there is none.
pub fn open_or_create(path: &Path, options: &LedgerOptions) -> Result<Ledger, StoreError> {
    match open(path, options) {
        Err(StoreError::NoLedger(_)) => create(path, options),
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
    let (ledger, existed) = match open(path, options) {
        Err(StoreError::NoLedger(_)) => {
            let (store, existed) = create_store(path, options)?;
            let ledger = Ledger::from_storage(
                Box::new(store),
                options.clock,
                Opening::CreateWithFirstAppend,
            )?;
            (ledger, Some(existed))
        }
        other => (other?, None),
    };
    let result = write(&ledger);
    if let (Err(_), Some(existed)) = (&result, existed)
        && ledger.is_unwritten()
    {
        drop(ledger);
        remove_created(path, existed);
    }
    result
}

/// What [`upgrade`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upgraded {
    /// The ledger already was in keyspace layout 3; nothing was written.
    AlreadyLayout3,
    /// The ledger was rewritten in layout 3; the old one was kept at `backup`.
    Rewritten {
        /// The head, the same before and after.
        head: Head,
        /// Engine keys copied (records, indexes, views, marks, tokens).
        entries: u64,
        /// Where the ledger as it was before is kept.
        backup: PathBuf,
    },
}

/// Engine keys per write set while [`upgrade`] copies a ledger.
const UPGRADE_WRITE_SET: usize = 20_000;

/// The directory beside `path` named `path`'s name with `suffix`.
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "ledger".into());
    path.with_file_name(format!("{name}{suffix}"))
}

/// Swaps the directories `a` and `b` in one step (Linux `renameat2` with
/// `RENAME_EXCHANGE`): a crash leaves one or the other at each path, never
/// neither.
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let cstr = |p: &Path| {
        std::ffi::CString::new(p.as_os_str().as_bytes())
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))
    };
    let (a, b) = (cstr(a)?, cstr(b)?);
    // SAFETY: both are valid NUL-terminated paths that outlive the call.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Rewrites the ledger at `path` in keyspace layout 3, keeping every record,
/// hash, index, kept view and token: it must verify whole first; the copy is
/// written beside it (`<name>.upgrading`), must verify whole with the same
/// head, and only then takes the ledger's place in one rename; the ledger
/// as it was is kept at `<name>.before-layout3`. Interrupted before that
/// rename, the ledger is untouched (a later run starts the copy afresh).
pub fn upgrade(path: &Path, options: &LedgerOptions) -> Result<Upgraded, StoreError> {
    let store = open_storage(path, options)?;
    if store.is_read_only() {
        return Err(StoreError::ReadOnly(path.to_owned()));
    }
    if store.layout() == StoreLayout::Chunks {
        return Ok(Upgraded::AlreadyLayout3);
    }
    let backup = beside(path, ".before-layout3");
    if backup.exists() {
        return Err(StoreError::Storage {
            path: backup.clone(),
            detail: "a backup of an earlier upgrade is in the way; move it elsewhere first".into(),
            source: None,
        });
    }
    let source = Ledger::from_storage(Box::new(store), options.clock, Opening::Existing)?;
    let report = source.verify(&mut |_, _| {})?;
    if let Some(damage) = report.damage {
        return Err(StoreError::Damaged(damage));
    }
    let head = source.head();
    let source = source.into_storage();

    // The copy: a new layout 3 store beside the ledger (what an interrupted
    // run left there is an unfinished copy: the ledger itself is not layout 3).
    let staging = beside(path, ".upgrading");
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|e| storage(&staging, e))?;
    }
    let fresh = LedgerOptions {
        new_layout: StoreLayout::Chunks,
        ..options.clone()
    };
    let target = create_storage(&staging, &fresh)?;
    let mut entries = 0u64;
    let mut writes = WriteSet::default();
    for entry in source.range(Bound::Unbounded, Bound::Unbounded) {
        let (key, value) = entry?;
        writes.put(key, value);
        entries += 1;
        if writes.len() >= UPGRADE_WRITE_SET {
            (&target as &dyn Storage).commit(std::mem::take(&mut writes))?;
        }
    }
    (&target as &dyn Storage).commit(writes)?;
    drop(source);

    // The copy must verify whole, at the same head, before it is used.
    let copy = Ledger::from_storage(Box::new(target), options.clock, Opening::Existing)?;
    let copied = copy.verify(&mut |_, _| {})?;
    if let Some(damage) = copied.damage {
        return Err(StoreError::Damaged(damage));
    }
    if copy.head() != head {
        return Err(StoreError::DamagedHead(format!(
            "the layout 3 copy ends at seq {} instead of {}",
            copy.head().seq,
            head.seq
        )));
    }
    drop(copy);
    marker::write(&staging).map_err(|e| storage(&staging, e))?;
    exchange(&staging, path).map_err(|e| storage(path, e))?;
    std::fs::rename(&staging, &backup).map_err(|e| storage(&backup, e))?;
    Ok(Upgraded::Rewritten {
        head,
        entries,
        backup,
    })
}
