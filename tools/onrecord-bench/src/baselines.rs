//! The baselines onrecord is measured against, each handed the same encoded
//! records: raw sled (no hashing, no index, no views), SQLite (WAL,
//! `synchronous=FULL`, an events table plus a stream index) and a plain
//! append-only file. Each acknowledges a batch only once it is durable.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use onrecord_ledger::{envelope, keys};

use crate::encode::EncodedRecord;

/// sled with the same configuration as a ledger, written with `apply_batch` + `flush` + fdatasync.
pub struct RawSled {
    db: sled::Db,
    data: File,
}

/// The sled configuration onrecord's `Ledger` uses (64 MiB cache, high-throughput mode).
pub fn sled_config(path: &Path) -> sled::Config {
    sled::Config::new()
        .path(path)
        .cache_capacity(64 * 1024 * 1024)
        .mode(sled::Mode::HighThroughput)
}

impl RawSled {
    /// Opens (or creates) a raw sled database at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let db = sled_config(path).open()?;
        let data = File::open(path.join("db")).context("sled's data file")?;
        Ok(Self { db, data })
    }

    /// Writes the records under their record keys in one batch, then makes them durable.
    pub fn append(&self, records: &[EncodedRecord]) -> Result<()> {
        let mut batch = sled::Batch::default();
        for r in records {
            batch.insert(&keys::record(r.seq)[..], &r.bytes[..]);
        }
        self.db.apply_batch(batch)?;
        self.db.flush()?;
        self.data.sync_data()?;
        Ok(())
    }

    /// How many records it holds.
    pub fn count(&self) -> usize {
        self.db.scan_prefix([keys::RECORD]).count()
    }

    /// Scans every record in seq order and decodes it (no fold); returns how many.
    pub fn replay(&self) -> Result<u64> {
        let mut n = 0;
        for kv in self.db.scan_prefix([keys::RECORD]) {
            let (key, bytes) = kv?;
            let seq = keys::record_seq(&key).unwrap_or(0);
            let rec = envelope::decode_recorded(&bytes, seq)?;
            std::hint::black_box(&rec);
            n += 1;
        }
        Ok(n)
    }
}

/// SQLite in WAL mode with `synchronous=FULL`: one transaction per append.
pub struct Sqlite {
    conn: rusqlite::Connection,
    revisions: HashMap<String, u64>,
}

impl Sqlite {
    /// Opens (or creates) the database at `path` with the events and streams tables.
    pub fn open(path: &Path) -> Result<Self> {
        let conn = rusqlite::Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS events (
                 seq INTEGER PRIMARY KEY,
                 event_id BLOB NOT NULL UNIQUE,
                 type INTEGER NOT NULL,
                 record BLOB NOT NULL);
             CREATE TABLE IF NOT EXISTS streams (
                 stream TEXT NOT NULL,
                 revision INTEGER NOT NULL,
                 seq INTEGER NOT NULL,
                 PRIMARY KEY (stream, revision)) WITHOUT ROWID;",
        )?;
        let mut revisions = HashMap::new();
        {
            let mut st =
                conn.prepare("SELECT stream, MAX(revision) FROM streams GROUP BY stream")?;
            let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
            for row in rows {
                let (s, rev) = row?;
                revisions.insert(s, rev as u64);
            }
        }
        Ok(Self { conn, revisions })
    }

    /// Inserts the records and their stream entries in one transaction and commits it.
    pub fn append(&mut self, records: &[EncodedRecord]) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut ev = tx.prepare_cached(
                "INSERT INTO events (seq, event_id, type, record) VALUES (?1, ?2, ?3, ?4)",
            )?;
            let mut st = tx.prepare_cached(
                "INSERT INTO streams (stream, revision, seq) VALUES (?1, ?2, ?3)",
            )?;
            for r in records {
                ev.execute(rusqlite::params![
                    r.seq as i64,
                    &r.event_id.as_bytes()[..],
                    r.event_type,
                    &r.bytes
                ])?;
                for s in &r.streams {
                    let rev = match self.revisions.get_mut(s) {
                        Some(rev) => {
                            *rev += 1;
                            *rev
                        }
                        None => {
                            self.revisions.insert(s.clone(), 0);
                            0
                        }
                    };
                    st.execute(rusqlite::params![s, rev as i64, r.seq as i64])?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// How many events it holds.
    pub fn count(&self) -> Result<u64> {
        let n: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))?;
        Ok(n as u64)
    }

    /// Reads every record in seq order and decodes it (no fold); returns how many.
    pub fn replay(&self) -> Result<u64> {
        let mut st = self
            .conn
            .prepare("SELECT seq, record FROM events ORDER BY seq")?;
        let mut rows = st.query([])?;
        let mut n = 0;
        while let Some(row) = rows.next()? {
            let seq: i64 = row.get(0)?;
            let bytes = row.get_ref(1)?.as_blob()?;
            let rec = envelope::decode_recorded(bytes, seq as u64)?;
            std::hint::black_box(&rec);
            n += 1;
        }
        Ok(n)
    }
}

/// A plain append-only file of length-prefixed records, fdatasync'd once per append.
pub struct PlainFile {
    file: File,
    buf: Vec<u8>,
}

impl PlainFile {
    /// Opens (or creates) the file at `path` for appending.
    pub fn open(path: &Path) -> Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Self {
            file,
            buf: Vec::new(),
        })
    }

    /// Writes the records (u32 length, then bytes) in one write, then fdatasyncs.
    pub fn append(&mut self, records: &[EncodedRecord]) -> Result<()> {
        self.buf.clear();
        for r in records {
            self.buf
                .extend_from_slice(&(r.bytes.len() as u32).to_le_bytes());
            self.buf.extend_from_slice(&r.bytes);
        }
        self.file.write_all(&self.buf)?;
        self.file.sync_data()?;
        Ok(())
    }

    /// How many records the file at `path` holds.
    pub fn count(path: &Path) -> Result<u64> {
        let bytes = std::fs::read(path)?;
        let (mut at, mut n) = (0, 0);
        while at + 4 <= bytes.len() {
            let len = u32::from_le_bytes(bytes[at..at + 4].try_into()?) as usize;
            at += 4 + len;
            n += 1;
        }
        anyhow::ensure!(at == bytes.len(), "{} ends inside a record", path.display());
        Ok(n)
    }
}
