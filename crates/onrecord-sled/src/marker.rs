//! Recognising a ledger before sled opens anything.
//!
//! sled 0.34 creates or rewrites its files (`db`, `conf`, `blobs/`) in any
//! directory it is pointed at, so whether a path holds an onrecord ledger is
//! decided here first, by reading only:
//!
//! - a ledger made by this version holds the marker file
//!   [`MARKER_FILE`], written atomically (temporary file, fsync, rename) once
//!   its first durable write is done;
//! - a ledger made before the marker holds sled's `conf` (its text header)
//!   and `db` files, and either a valid head anchor or, inside `db`, the bytes
//!   of the ledger's format key. Such a ledger gets its marker the first time
//!   it is opened with write access.
//!
//! Anything else that is not absent or an empty directory is foreign: nothing
//! is ever written into it. Only this module reads or writes the marker.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::Path;

use crate::anchor::ANCHOR_FILE;
use onrecord_ledger::keys::{self, MetaKey};

/// The marker file's name inside a ledger directory.
pub const MARKER_FILE: &str = "onrecord-ledger";

/// What the marker file holds, exactly.
const MARKER_TEXT: &[u8] = b"onrecord ledger\n";

/// How sled 0.34's `conf` file begins.
const SLED_CONF_START: &[u8] = b"segment_size: ";

/// What a path holds, judged without writing anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Recognised {
    /// Nothing is there.
    Absent,
    /// An empty directory.
    Empty,
    /// Something that is not a directory.
    NotADirectory,
    /// An onrecord ledger; `marked` when it holds the marker file.
    Ledger {
        /// Whether the marker file is there (ledgers made before it are not).
        marked: bool,
    },
    /// sled's files and nothing proving them an onrecord ledger, while
    /// another process holds sled's lock: a ledger being created.
    Locked,
    /// A directory holding something else.
    Foreign,
}

/// Judges what `path` holds, reading only.
pub(crate) fn recognise(path: &Path) -> io::Result<Recognised> {
    let meta = match fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Recognised::Absent),
        Err(e) => return Err(e),
    };
    if !meta.is_dir() {
        return Ok(Recognised::NotADirectory);
    }
    match fs::read(path.join(MARKER_FILE)) {
        Ok(bytes) if bytes == MARKER_TEXT => return Ok(Recognised::Ledger { marked: true }),
        Ok(_) => return Ok(Recognised::Foreign),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    if fs::read_dir(path)?.next().is_none() {
        return Ok(Recognised::Empty);
    }
    if !has_sled_files(path)? {
        return Ok(Recognised::Foreign);
    }
    if has_valid_anchor(path)? || holds_format_key(&path.join("db"))? {
        return Ok(Recognised::Ledger { marked: false });
    }
    if is_locked(&path.join("db")) {
        return Ok(Recognised::Locked);
    }
    Ok(Recognised::Foreign)
}

/// Whether `path` holds sled 0.34's `conf` (by its header) and a `db` file.
fn has_sled_files(path: &Path) -> io::Result<bool> {
    let db = match fs::symlink_metadata(path.join("db")) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    if !db.is_file() {
        return Ok(false);
    }
    let mut start = [0u8; SLED_CONF_START.len()];
    match File::open(path.join("conf")) {
        Ok(mut conf) => Ok(conf.read_exact(&mut start).is_ok() && start == SLED_CONF_START),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Whether `path` holds a head anchor whose bytes check out.
fn has_valid_anchor(path: &Path) -> io::Result<bool> {
    match fs::read(path.join(ANCHOR_FILE)) {
        Ok(bytes) => Ok(crate::anchor::is_valid(&bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Whether sled's data file holds the ledger's format key (written when every
/// ledger is created), read in 1 MiB pieces. Only ledgers made before both the
/// anchor and the marker need this pass, once.
fn holds_format_key(db: &Path) -> io::Result<bool> {
    let needle = keys::meta(MetaKey::Format);
    let mut file = File::open(db)?;
    let mut buf = vec![0u8; 1024 * 1024];
    let mut kept = 0usize;
    loop {
        let n = file.read(&mut buf[kept..])?;
        if n == 0 {
            return Ok(false);
        }
        let filled = kept + n;
        if buf[..filled].windows(needle.len()).any(|w| w == needle) {
            return Ok(true);
        }
        // Keep the tail that could start the key across the boundary.
        kept = (needle.len() - 1).min(filled);
        buf.copy_within(filled - kept..filled, 0);
    }
}

/// Whether another process holds sled's lock on `db` (read-only probe).
fn is_locked(db: &Path) -> bool {
    use fs2::FileExt;
    match File::open(db) {
        Ok(file) => {
            let locked = file.try_lock_shared().is_err();
            let _ = FileExt::unlock(&file);
            locked
        }
        Err(_) => false,
    }
}

/// Writes the marker into the ledger directory `path`, atomically: a
/// temporary file, fsync, rename, then fsync of the directory.
pub(crate) fn write(path: &Path) -> io::Result<()> {
    let temp = path.join(format!("{MARKER_FILE}.tmp"));
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&temp)?;
    file.write_all(MARKER_TEXT)?;
    file.sync_all()?;
    fs::rename(&temp, path.join(MARKER_FILE))?;
    File::open(path)?.sync_all()
}

/// Whether this process may write the ledger at `path` (a read-only archive
/// may not), judged by opening sled's data file for writing, which writes
/// nothing. (A writable `db` in a directory that is not writable is left to
/// sled, whose error then names the path.)
pub(crate) fn is_writable(path: &Path) -> io::Result<bool> {
    match OpenOptions::new().write(true).open(path.join("db")) {
        Ok(_) => Ok(true),
        Err(e) if is_read_only_error(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Permission denied or a read-only file system (EROFS, 30).
pub(crate) fn is_read_only_error(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::PermissionDenied
        || e.kind() == io::ErrorKind::ReadOnlyFilesystem
        || e.raw_os_error() == Some(30)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_directories_are_told_apart_from_ledgers_without_writing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("v");
        assert_eq!(recognise(&p).unwrap(), Recognised::Absent);
        fs::create_dir(&p).unwrap();
        assert_eq!(recognise(&p).unwrap(), Recognised::Empty);
        fs::write(p.join("db"), b"important text\n").unwrap();
        assert_eq!(recognise(&p).unwrap(), Recognised::Foreign);
        fs::write(p.join("conf"), b"segment_size: 524288\n").unwrap();
        assert_eq!(recognise(&p).unwrap(), Recognised::Foreign);
        fs::write(p.join("db"), [b"xx".as_slice(), b"Mformat", b"yy"].concat()).unwrap();
        assert_eq!(recognise(&p).unwrap(), Recognised::Ledger { marked: false });
        write(&p).unwrap();
        assert_eq!(recognise(&p).unwrap(), Recognised::Ledger { marked: true });
        assert!(!p.join(format!("{MARKER_FILE}.tmp")).exists());
    }

    #[test]
    fn the_format_key_is_found_across_a_read_boundary() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db");
        let mut bytes = vec![0u8; 1024 * 1024 - 3];
        bytes.extend_from_slice(b"Mformat");
        fs::write(&db, &bytes).unwrap();
        assert!(holds_format_key(&db).unwrap());
        fs::write(&db, vec![0u8; 3 * 1024 * 1024]).unwrap();
        assert!(!holds_format_key(&db).unwrap());
    }
}
