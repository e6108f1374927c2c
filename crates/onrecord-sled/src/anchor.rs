//! The head anchor: a 64-byte file (`anchor`) beside sled's own files that
//! names the last acknowledged seq and its record's hash.
//!
//! sled treats a damaged tail of its data file as a write torn by a crash and
//! silently recovers to an older state, so a truncated data file can open as a
//! ledger that is shorter (even empty) yet whose chain still checks out. The
//! anchor is the evidence that lives outside sled: it is rewritten in place
//! after every durable append, so it never names more than the ledger
//! acknowledged, and a ledger that holds less than its anchor, or a different
//! record at the anchored seq, is damaged. It is not fsynced: after a power
//! loss it may lag behind the head, which the check allows (the anchored seq
//! must be present with that hash; later records may follow). Only this module
//! reads or writes the file; it never touches sled. The engine checks the
//! ledger against it (`onrecord_ledger::Acknowledged`).

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use onrecord_ledger::{Acknowledged, Head};

/// The anchor's file name inside the ledger directory.
pub const ANCHOR_FILE: &str = "anchor";

const MAGIC: &[u8; 8] = b"ORANCH01";
const LEN: usize = 64;

/// The anchor file of a ledger; created by its first [`Anchor::record`].
#[derive(Debug)]
pub(crate) struct Anchor {
    path: PathBuf,
    file: Option<File>,
}

fn encode(head: &Head) -> [u8; LEN] {
    let mut bytes = [0u8; LEN];
    bytes[..8].copy_from_slice(MAGIC);
    bytes[8..16].copy_from_slice(&head.seq.to_be_bytes());
    bytes[16..48].copy_from_slice(&head.hash);
    let check = Sha256::digest(&bytes[..48]);
    bytes[48..].copy_from_slice(&check[..16]);
    bytes
}

fn decode(bytes: &[u8]) -> Option<Head> {
    if bytes.len() != LEN || &bytes[..8] != MAGIC {
        return None;
    }
    if Sha256::digest(&bytes[..48])[..16] != bytes[48..] {
        return None;
    }
    Some(Head {
        seq: u64::from_be_bytes(bytes[8..16].try_into().ok()?),
        hash: bytes[16..48].try_into().ok()?,
    })
}

/// Whether `bytes` are a whole anchor whose checksum checks out.
pub(crate) fn is_valid(bytes: &[u8]) -> bool {
    decode(bytes).is_some()
}

impl Anchor {
    /// Opens the anchor of the ledger at `dir`, if there is one, and says what it held.
    pub(crate) fn open(dir: &Path) -> io::Result<(Self, Acknowledged)> {
        let path = dir.join(ANCHOR_FILE);
        let file = match OpenOptions::new().read(true).write(true).open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Ok((Self { path, file: None }, Acknowledged::Missing));
            }
            // Still checked; left as it is (it will lag, which the check allows).
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => File::open(&path)?,
            Err(e) => return Err(e),
        };
        let len = file.metadata()?.len();
        let state = if len == 0 {
            Acknowledged::Missing
        } else {
            let mut bytes = [0u8; LEN];
            match (&file).read_exact(&mut bytes) {
                Ok(()) if len == LEN as u64 => {
                    decode(&bytes).map_or(Acknowledged::Unreadable(ANCHOR_FILE), Acknowledged::At)
                }
                Ok(()) => Acknowledged::Unreadable(ANCHOR_FILE),
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    Acknowledged::Unreadable(ANCHOR_FILE)
                }
                Err(e) => return Err(e),
            }
        };
        Ok((
            Self {
                path,
                file: Some(file),
            },
            state,
        ))
    }

    /// Records `head` as acknowledged: one 64-byte write in place, no fsync.
    pub(crate) fn record(&mut self, head: &Head) -> io::Result<()> {
        let file = match &mut self.file {
            Some(file) => file,
            None => self.file.insert(
                OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create(true)
                    .truncate(false)
                    .open(&self.path)?,
            ),
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileExt;
            file.write_all_at(&encode(head), 0)
        }
        #[cfg(not(unix))]
        {
            use std::io::{Seek, SeekFrom, Write};
            file.seek(SeekFrom::Start(0))?;
            file.write_all(&encode(head))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(seq: u64) -> Head {
        Head {
            seq,
            hash: [seq as u8; 32],
        }
    }

    #[test]
    fn an_anchor_reads_back_what_was_recorded_and_the_last_write_wins() {
        let dir = tempfile::tempdir().unwrap();
        let (mut anchor, state) = Anchor::open(dir.path()).unwrap();
        assert_eq!(state, Acknowledged::Missing);
        assert!(
            !dir.path().join(ANCHOR_FILE).exists(),
            "opening creates nothing"
        );
        anchor.record(&head(7)).unwrap();
        anchor.record(&head(8)).unwrap();
        drop(anchor);
        let (_, state) = Anchor::open(dir.path()).unwrap();
        assert_eq!(state, Acknowledged::At(head(8)));
    }

    #[test]
    fn any_changed_byte_or_a_short_file_makes_the_anchor_unreadable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(ANCHOR_FILE);
        let good = encode(&head(3));
        for i in 0..LEN {
            let mut bytes = good;
            bytes[i] ^= 0x01;
            std::fs::write(&path, bytes).unwrap();
            let (_, state) = Anchor::open(dir.path()).unwrap();
            assert_eq!(
                state,
                Acknowledged::Unreadable(ANCHOR_FILE),
                "byte {i} flipped"
            );
        }
        std::fs::write(&path, &good[..40]).unwrap();
        let (_, state) = Anchor::open(dir.path()).unwrap();
        assert_eq!(state, Acknowledged::Unreadable(ANCHOR_FILE), "short file");
    }
}
