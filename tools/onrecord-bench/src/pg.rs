//! The plain-SQL baseline `pg-bench` holds onrecord on PostgreSQL against
//! (issue 16 item 7): the same encoded record bytes in an `events` table
//! (`seq` primary key, `event_id` unique, `type`, `record`) with a
//! `streams(stream, seq)` index, one transaction per batch or event, no
//! head lock, no read tables, no views. Each write is one round trip (BEGIN,
//! the inserts and COMMIT pipelined) and waits for the commit, as durable as
//! the server's `synchronous_commit` makes it. Also: the HTTP client and the
//! `onrecord serve` processes the concurrent-writers scenario drives.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use futures_util::{StreamExt, future};
use onrecord_core::{PropositionId, Recorded};
use onrecord_ledger::envelope;
use onrecord_projections::{Filter, PositionsFold};
use tokio_postgres::{Client, NoTls, Statement};

use crate::encode::EncodedRecord;

/// The baseline's schema: records, their unique event ids, a stream index.
const SCHEMA: &str = "CREATE TABLE events (
    seq bigint PRIMARY KEY,
    event_id bytea NOT NULL UNIQUE,
    type smallint NOT NULL,
    record bytea NOT NULL);
CREATE TABLE streams (
    stream text NOT NULL,
    seq bigint NOT NULL,
    PRIMARY KEY (stream, seq));
CREATE SEQUENCE events_seq;";

/// A batch of records, from arrays (one statement whatever the batch's size).
const INSERT_EVENTS: &str = "INSERT INTO events (seq, event_id, type, record)
    SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::smallint[], $4::bytea[])";
/// A batch's stream index rows, from arrays.
const INSERT_STREAMS: &str =
    "INSERT INTO streams (stream, seq) SELECT * FROM unnest($1::text[], $2::bigint[])";
/// One record whose seq the database gives (concurrent writers, no head
/// lock), with its stream rows: one statement, its own transaction.
const INSERT_NEXT: &str = "WITH e AS (
    INSERT INTO events (seq, event_id, type, record)
    VALUES (nextval('events_seq'), $1, $2, $3) RETURNING seq)
INSERT INTO streams (stream, seq) SELECT s, e.seq FROM e, unnest($4::text[]) AS s";
/// The log in seq order, for the replay.
const SELECT_ALL: &str = "SELECT seq, record FROM events ORDER BY seq";
/// One stream's records in order, for the positions query.
const SELECT_STREAM: &str = "SELECT e.seq, e.record FROM streams s JOIN events e ON e.seq = s.seq
    WHERE s.stream = $1 ORDER BY s.seq";

/// A connection on a runtime of its own, driven synchronously.
pub struct Sql {
    runtime: tokio::runtime::Runtime,
    client: Client,
}

impl Sql {
    /// Connects to `url` (a `postgres://` URL).
    pub fn connect(url: &str) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let client = runtime.block_on(async {
            let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
            tokio::spawn(async move {
                let _ = connection.await;
            });
            Ok::<_, tokio_postgres::Error>(client)
        })?;
        Ok(Self { runtime, client })
    }

    /// Runs `work` with the client on this connection's runtime.
    pub fn run<'a, T, F: std::future::Future<Output = T> + 'a>(
        &'a self,
        work: impl FnOnce(&'a Client) -> F,
    ) -> T {
        self.runtime.block_on(work(&self.client))
    }

    /// Runs one or more statements (simple protocol).
    pub fn execute(&self, sql: &str) -> Result<()> {
        Ok(self.run(|c| c.batch_execute(sql))?)
    }

    /// The first column of the first row of `sql`, as an `i64`.
    pub fn scalar(&self, sql: &str) -> Result<i64> {
        Ok(self.run(|c| async move { c.query_one(sql, &[]).await?.try_get(0) })?)
    }
}

/// The plain-SQL baseline's database and its prepared statements.
pub struct Baseline {
    sql: Sql,
    events: Statement,
    streams: Statement,
}

impl Baseline {
    /// Makes the baseline's tables in the (empty) database at `url`.
    pub fn create(url: &str) -> Result<Self> {
        let sql = Sql::connect(url)?;
        sql.execute(SCHEMA)?;
        let (events, streams) = sql.run(|c| async move {
            Ok::<_, tokio_postgres::Error>((
                c.prepare(INSERT_EVENTS).await?,
                c.prepare(INSERT_STREAMS).await?,
            ))
        })?;
        Ok(Self {
            sql,
            events,
            streams,
        })
    }

    /// Inserts the records and their stream rows in one transaction and
    /// waits for its commit: BEGIN, two inserts from arrays and COMMIT,
    /// pipelined (one round trip).
    pub fn append(&self, records: &[EncodedRecord]) -> Result<()> {
        let seqs: Vec<i64> = records.iter().map(|r| r.seq as i64).collect();
        let ids: Vec<&[u8]> = records.iter().map(|r| &r.event_id.as_bytes()[..]).collect();
        let types: Vec<i16> = records.iter().map(|r| i16::from(r.event_type)).collect();
        let bytes: Vec<&[u8]> = records.iter().map(|r| r.bytes.as_slice()).collect();
        let (mut names, mut stream_seqs) = (Vec::new(), Vec::new());
        for r in records {
            for s in &r.streams {
                names.push(s.as_str());
                stream_seqs.push(r.seq as i64);
            }
        }
        self.sql.run(|c| async {
            let (begun, inserted, indexed, committed) = future::join4(
                c.batch_execute("BEGIN"),
                c.execute(&self.events, &[&seqs, &ids, &types, &bytes]),
                c.execute(&self.streams, &[&names, &stream_seqs]),
                c.batch_execute("COMMIT"),
            )
            .await;
            begun?;
            let n = inserted?;
            indexed?;
            committed?;
            ensure!(n == records.len() as u64, "inserted {n} records");
            Ok(())
        })
    }

    /// How many records it holds.
    pub fn count(&self) -> Result<u64> {
        Ok(self.sql.scalar("SELECT count(*) FROM events")? as u64)
    }

    /// Reads every record in seq order (one query, rows streamed) and decodes it; how many.
    pub fn replay(&self) -> Result<u64> {
        self.sql.run(|c| async move {
            let rows = c.query_raw(SELECT_ALL, std::iter::empty::<i64>()).await?;
            let mut rows = std::pin::pin!(rows);
            let mut n = 0u64;
            while let Some(row) = rows.next().await {
                let row = row?;
                let seq: i64 = row.try_get(0)?;
                let bytes: &[u8] = row.try_get(1)?;
                let rec = envelope::decode_recorded(bytes, seq as u64)?;
                std::hint::black_box(&rec);
                n += 1;
            }
            Ok::<u64, anyhow::Error>(n)
        })
    }

    /// One proposition's current positions as a plain-SQL application with
    /// these tables would find them: its stream's records, decoded and
    /// folded (how many parties hold one).
    pub fn positions(&self, prop: &PropositionId) -> Result<usize> {
        let stream = format!("proposition/{prop}");
        let rows = self
            .sql
            .run(|c| async move { c.query(SELECT_STREAM, &[&stream]).await })?;
        let mut fold = PositionsFold::new(Filter::unfiltered(), Some(prop.clone()));
        for row in rows {
            let seq: i64 = row.try_get(0)?;
            let rec: Recorded = envelope::decode_recorded(row.try_get(1)?, seq as u64)?;
            fold.apply(&rec);
        }
        Ok(fold.finish().len())
    }

    /// Bytes its tables and their indexes take (`pg_total_relation_size`).
    pub fn size_bytes(&self) -> Result<u64> {
        Ok(self.sql.scalar(
            "SELECT (pg_total_relation_size('events') + pg_total_relation_size('streams'))::bigint",
        )? as u64)
    }

    /// Points the sequence concurrent writers take seqs from past the last record.
    pub fn start_sequence(&self) -> Result<()> {
        self.sql
            .execute("SELECT setval('events_seq', (SELECT max(seq) FROM events))")
    }
}

/// One concurrent writer of the baseline: its own connection, one record
/// per transaction, seqs from the database's sequence (no head lock).
pub struct BaselineWriter {
    sql: Sql,
    insert: Statement,
}

impl BaselineWriter {
    /// Connects a writer to the baseline at `url`.
    pub fn connect(url: &str) -> Result<Self> {
        let sql = Sql::connect(url)?;
        let insert = sql.run(|c| c.prepare(INSERT_NEXT))?;
        Ok(Self { sql, insert })
    }

    /// Inserts `record`'s bytes under a fresh event id (records are reused
    /// across writers) and waits for the commit; the latency.
    pub fn append(&self, record: &EncodedRecord) -> Result<Duration> {
        let id = onrecord_core::EventId::v7_at(onrecord_ledger::system_clock());
        let started = Instant::now();
        let streams: Vec<&str> = record.streams.iter().map(String::as_str).collect();
        let ty = i16::from(record.event_type);
        self.sql.run(|c| async {
            c.execute(
                &self.insert,
                &[&&id.as_bytes()[..], &ty, &record.bytes, &streams],
            )
            .await
        })?;
        Ok(started.elapsed())
    }
}

/// An `onrecord serve` process on the ledger; stopped (SIGTERM, then waited for) on drop.
pub struct Server {
    child: Child,
    /// Its base URL, `http://127.0.0.1:PORT`.
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        // SAFETY: kill(2) on the child this process started; no memory is touched.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts `onrecord --ledger URL serve` on a free loopback port, with the
    /// rate and tail limits lifted (they are not what is measured).
    pub fn start(bin: &Path, ledger: &str) -> Result<Self> {
        let mut child = Command::new(bin)
            .args(["--ledger", ledger])
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(["--rate-limit", "1000000", "--max-tails", "100000"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("starting onrecord serve")?;
        let mut line = String::new();
        let read = BufReader::new(child.stdout.take().context("stdout")?).read_line(&mut line);
        let base = line.trim().rsplit(" on ").next().map(str::to_owned);
        match base {
            Some(base) if read.is_ok() && base.starts_with("http://127.0.0.1:") => {
                Ok(Self { child, base })
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                bail!("onrecord serve printed no loopback address: {line:?}")
            }
        }
    }
}

/// An HTTP agent for one client, with per-phase timeouts (a global one makes
/// ureq resolve each request's address in a thread of its own).
pub fn agent() -> ureq::Agent {
    ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_recv_response(Some(Duration::from_secs(60)))
            .build(),
    )
}

/// POSTs one JSON event to `url` and waits for its 201 (durable); the latency.
pub fn http_append(agent: &ureq::Agent, url: &str, bearer: &str, line: &str) -> Result<Duration> {
    let started = Instant::now();
    let mut response = agent
        .post(url)
        .header("content-type", "application/json")
        .header("authorization", bearer)
        .send(line)?;
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string()?;
    ensure!(status == 201, "append answered {status}: {body}");
    Ok(started.elapsed())
}
