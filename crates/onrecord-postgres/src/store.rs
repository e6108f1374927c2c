//! [`PostgresStorage`]: the engine's [`Storage`] over the `onrecord.keyspace`
//! table, driven synchronously on a tokio runtime the store owns (ADR 0004,
//! ADR 0005). One dedicated writer connection commits each write set; reads
//! go through a small pool and stream key ranges in bounded pages.
//!
//! Shared (the default): any number of processes write one ledger. Each
//! append is a transaction that takes the writer lock (a per-database
//! advisory lock) in shared mode, locks the head row (`FOR UPDATE`), checks
//! it is the head the engine built on, and commits the write set with the
//! new head and a `pg_notify` ([`HEAD_CHANNEL`]); a moved head commits
//! nothing ([`Applied::HeadMoved`]). An import or views rebuild takes the
//! lock exclusively for its duration ([`Storage::exclude_writers`]), as does
//! creating or migrating the schema. Exclusive
//! ([`PostgresOptions::shared`] `false`): the lock is held exclusively for the
//! store's life, as sled's file lock is.
//!
//! Only storage lives here: opening, recognising and migrating a database is
//! `lib.rs` and `schema.rs`, and what the keys mean is the engine's. Every
//! call blocks the calling thread until the runtime has done its work
//! ([`block_on`]); callers in async code should use a blocking thread, but
//! one that does not is slowed, never panicked.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use onrecord_ledger::keys::{self, MetaKey};
use onrecord_ledger::read_ahead::{RangeRest, ReadMemo, Span};
use onrecord_ledger::storage::{
    Acknowledged, Applied, Entries, Entry, Expect, HeadListener, Storage, WriteSet,
};
use onrecord_ledger::{Clock, Damage, Head, StoreError};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Statement};

use crate::address::Address;
use crate::error::PostgresError;
use crate::read_tables::{self, ReadRows};
use crate::schema::{self, SCHEMA_VERSION, SchemaState};
use crate::tls::Connector;

/// The advisory lock a writing store holds for its whole life (one writer
/// per ledger, as sled's file lock): "onrecord" in ASCII. Advisory locks
/// are per database, so ledgers in different databases do not contend.
pub(crate) const WRITER_LOCK: i64 = 0x6f6e_7265_636f_7264;

/// The first page of a range read, in rows; each next page doubles, up to
/// [`MAX_PAGE_ROWS`]. A short read (one stream chunk) fetches little; a
/// replay soon fetches large pages.
pub const FIRST_PAGE_ROWS: i64 = 16;
/// The most rows one page of a range read holds (and so what a range read
/// keeps in memory at most, with the row it hands out).
pub const MAX_PAGE_ROWS: i64 = 512;

/// The channel every commit that moves the head notifies, with the new
/// head's seq as its payload: other servers' live tails wake on it.
pub const HEAD_CHANNEL: &str = "onrecord_head";

/// The one statement that commits a write set: deletes, upserts (from two
/// arrays, so a write set is one round trip whatever its size), the head
/// row with a notification of the new head (sent at commit), and the read
/// tables' rows of the records it puts or deletes (`read_tables.rs`), as one
/// statement, so all of it or none is applied. It answers one row: whether
/// it wrote, and the head row as it found it.
///
/// `checked` (a shared store's [`Storage::apply_if`]): it first locks the
/// head row (`FOR UPDATE`, held to the commit) and writes only if that row
/// is still the head the write set was built on (`$13` seq, `$14` hash) and
/// no import cut short left its mark (`$15`, the import key: its staged
/// records would be under that head); otherwise it writes nothing and the
/// row it answers says so. Unchecked, it always writes (`$13`..`$15` unused).
fn apply_sql(checked: bool) -> String {
    let (head, when) = if checked {
        (
            "SELECT seq, hash, (seq = $13::bigint AND hash = $14::bytea AND NOT EXISTS (
        SELECT 1 FROM onrecord.keyspace WHERE key = $15::bytea)) AS ok
    FROM onrecord.head FOR UPDATE",
            "(SELECT ok FROM checked)",
        )
    } else {
        (
            "SELECT seq, hash, true AS ok, $13::bigint, $14::bytea, $15::bytea FROM onrecord.head",
            "true",
        )
    };
    format!(
        "WITH checked AS (
    {head}
), deleted AS (
    DELETE FROM onrecord.keyspace k USING unnest($3::bytea[]) AS g(key)
    WHERE k.key = g.key AND {when}
), upserted AS (
    INSERT INTO onrecord.keyspace (key, value)
    SELECT * FROM unnest($1::bytea[], $2::bytea[]) WHERE {when}
    ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value
), head AS (
    UPDATE onrecord.head
    SET seq = $4::bigint, hash = $5::bytea,
        last_recorded_at = coalesce($6::bigint, last_recorded_at)
    WHERE $4::bigint IS NOT NULL AND {when}
), notified AS (
    SELECT pg_notify('onrecord_head', $4::bigint::text) WHERE $4::bigint IS NOT NULL AND {when}
), {}
SELECT ok, seq, hash, (SELECT count(*) FROM notified) FROM checked",
        read_tables::write_rows_ctes(when)
    )
}

/// Readies the writer's connection: [`apply_sql`] prepared unchecked and
/// checked, planned once for every execution. PostgreSQL otherwise plans a
/// prepared statement again at each execution while it estimates that a
/// plan for the actual parameters is cheaper, which for this statement
/// (thirteen CTEs over arrays and JSON) it always does: planning then took
/// 0.44 ms per append, twice its execution (pg-bench, `plan_ms`). Its plan
/// does not depend on the parameters' values (keys by equality, arrays
/// unnested), so one generic plan is as good.
async fn prepare_writer(client: &Client) -> Result<(Statement, Statement), tokio_postgres::Error> {
    client
        .batch_execute("SET plan_cache_mode = force_generic_plan")
        .await?;
    let apply = client.prepare(&apply_sql(false)).await?;
    let apply_checked = client.prepare(&apply_sql(true)).await?;
    Ok((apply, apply_checked))
}

/// The values of many keys at once.
const GET_MANY_SQL: &str = "SELECT key, value FROM onrecord.keyspace WHERE key = ANY($1::bytea[])";

/// A read-ahead in one statement (one snapshot): the values of the keys
/// `$1` as rows of place 0, then for each span (its place from 1, its first
/// key `$2`, the key it ends before `$3`, whether from its end `$4`, how
/// many `$5`) that many entries nearest its start or end, each an index
/// scan of a few rows.
const READ_AHEAD_SQL: &str = "SELECT 0::bigint AS i, k.key, k.value
FROM onrecord.keyspace k WHERE k.key = ANY($1::bytea[])
UNION ALL
SELECT s.i, e.key, e.value
FROM unnest($2::bytea[], $3::bytea[], $4::bool[], $5::int[])
    WITH ORDINALITY AS s(first_key, end_key, from_end, n, i)
CROSS JOIN LATERAL (
    (SELECT k.key, k.value FROM onrecord.keyspace k
     WHERE s.from_end AND k.key >= s.first_key AND k.key < s.end_key
     ORDER BY k.key DESC LIMIT s.n)
    UNION ALL
    (SELECT k.key, k.value FROM onrecord.keyspace k
     WHERE NOT s.from_end AND k.key >= s.first_key AND k.key < s.end_key
     ORDER BY k.key ASC LIMIT s.n)
) AS e";

/// Whether a store is being opened for a new ledger or an existing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Intent {
    /// `create`: the database must hold no `onrecord` schema; it is made.
    Create,
    /// `open`: the database must hold an onrecord ledger this build reads.
    Open,
}

/// How a PostgreSQL ledger is opened.
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    /// How long to keep retrying while another process holds the writer lock.
    pub busy_wait: Duration,
    /// The most connections readers use at once (besides the writer's one).
    pub readers: usize,
    /// Transaction time and new event ids.
    pub clock: Clock,
    /// Whether other processes may write the ledger meanwhile (servers and
    /// commands sharing it: each append checks the head under its row lock);
    /// `false` holds the writer lock for the store's life, as sled does.
    pub shared: bool,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        Self {
            busy_wait: Duration::from_secs(10),
            readers: 4,
            clock: Clock::default(),
            shared: true,
        }
    }
}

/// The writer's connection and its prepared statements.
struct Writer {
    client: Client,
    /// [`apply_sql`] unchecked, for [`Storage::apply`].
    apply: Statement,
    /// [`apply_sql`] checked, for a shared store's [`Storage::apply_if`].
    apply_checked: Statement,
    /// Set once the connection failed: the lock went with it, and a commit
    /// in flight may or may not have happened, so writes are refused until
    /// the store is opened again (what happened, in words).
    lost: Option<String>,
    /// Whether a transaction is open holding the head row
    /// ([`Storage::hold_head`]), for the next `apply_if` to commit in.
    holding: bool,
}

/// A ledger's keyspace in a PostgreSQL database (see the module docs).
pub struct PostgresStorage {
    /// `postgres://USER@HOST:PORT/DB`, without a password.
    location: PathBuf,
    writer: Mutex<Writer>,
    readers: deadpool_postgres::Pool,
    /// The head row as it was on open.
    acknowledged: Acknowledged,
    /// Whether this process may only read (a standby, a read-only role).
    read_only: bool,
    /// Whether other processes may write the ledger meanwhile.
    shared: bool,
    /// How long a commit waits for the writer lock or the head row.
    busy_wait: Duration,
    /// How to connect again (the LISTEN connection of [`Storage::watch_heads`]).
    config: tokio_postgres::Config,
    /// How its connections speak TLS (or not: see [`crate::tls`]).
    tls: Connector,
    /// Drives every connection; shut down when the store is dropped.
    runtime: Option<tokio::runtime::Runtime>,
    handle: tokio::runtime::Handle,
    /// What the writer's thread read ahead for the batch it is building
    /// ([`Storage::read_ahead`]).
    memo: ReadMemo,
}

impl std::fmt::Debug for PostgresStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStorage")
            .field("location", &self.location)
            .field("read_only", &self.read_only)
            .finish()
    }
}

impl Drop for PostgresStorage {
    /// Closes every connection by shutting the runtime down (the server then
    /// releases the writer lock). Never blocks inside an async context.
    fn drop(&mut self) {
        self.readers.close();
        if let Some(runtime) = self.runtime.take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                runtime.shutdown_background();
            } else {
                runtime.shutdown_timeout(Duration::from_secs(1));
            }
        }
    }
}

/// Everything [`PostgresStorage::start`] sets up on the runtime.
struct Started {
    writer: Writer,
    readers: deadpool_postgres::Pool,
    acknowledged: Acknowledged,
    read_only: bool,
}

impl PostgresStorage {
    /// Connects to the database at `url`, recognises it (and for `Create`
    /// makes the schema), takes the writer lock unless only reading.
    pub(crate) fn connect(
        url: &str,
        options: &PostgresOptions,
        intent: Intent,
    ) -> Result<Self, StoreError> {
        let address = Address::parse(url).map_err(|e| {
            let location = PathBuf::from("postgres://");
            e.at(&location)
        })?;
        let location = address.location.clone();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("onrecord-postgres")
            .enable_all()
            .build()
            .map_err(|e| PostgresError::Runtime(e).at(&location))?;
        let handle = runtime.handle().clone();
        let tls = crate::tls::connector(&address.tls)
            .map_err(|e| PostgresError::from(e).at(&location))?;
        match block_on(&handle, Self::start(&address, &tls, options, intent)) {
            Ok(started) => Ok(Self {
                location,
                writer: Mutex::new(started.writer),
                readers: started.readers,
                acknowledged: started.acknowledged,
                read_only: started.read_only,
                shared: options.shared && !started.read_only,
                busy_wait: options.busy_wait,
                config: address.config.clone(),
                tls,
                runtime: Some(runtime),
                handle,
                memo: ReadMemo::default(),
            }),
            Err(e) => {
                runtime.shutdown_background();
                Err(e)
            }
        }
    }

    async fn start(
        address: &Address,
        tls: &Connector,
        options: &PostgresOptions,
        intent: Intent,
    ) -> Result<Started, StoreError> {
        let location = &address.location;
        let at = |e: tokio_postgres::Error| PostgresError::from(e).at(location);
        let (mut client, connection) = address.config.connect(tls.clone()).await.map_err(at)?;
        tokio::spawn(async move {
            // Ends when the client is dropped or the connection fails; a
            // failure shows on the client's next call.
            let _ = connection.await;
        });
        let mut state = schema::inspect(&client).await.map_err(at)?;
        let read_only = is_read_only(&client, state).await.map_err(at)?;
        if read_only && intent == Intent::Create {
            return Err(StoreError::ReadOnly(location.clone()));
        }
        if !read_only {
            take_writer_lock(&client, options.busy_wait, location).await?;
            // Someone may have made (or changed) the schema while we waited.
            state = schema::inspect(&client).await.map_err(at)?;
        }
        let settled = async {
            match (intent, state) {
                (Intent::Create, SchemaState::Absent) => {
                    schema::migrate(&mut client, 0).await.map_err(at)?;
                }
                (Intent::Create, SchemaState::At(_)) => {
                    return Err(StoreError::LedgerExists(location.clone()));
                }
                (_, SchemaState::Foreign) => {
                    return Err(StoreError::NotALedger(location.clone()));
                }
                (Intent::Open, SchemaState::Absent) => {
                    return Err(StoreError::NoLedger(location.clone()));
                }
                (Intent::Open, SchemaState::At(found)) if found > SCHEMA_VERSION => {
                    return Err(StoreError::NewerSchema {
                        location: location.clone(),
                        found,
                        known: SCHEMA_VERSION,
                    });
                }
                (Intent::Open, SchemaState::At(found)) if found < SCHEMA_VERSION && read_only => {
                    return Err(StoreError::ReadOnly(location.clone()));
                }
                (Intent::Open, SchemaState::At(found)) if found < SCHEMA_VERSION => {
                    schema::migrate(&mut client, found).await.map_err(at)?;
                }
                (Intent::Open, SchemaState::At(_)) => {}
            }
            Ok::<(), StoreError>(())
        }
        .await;
        if let Err(e) = settled {
            if !read_only {
                // Released now, not when the server notices this connection
                // is gone: a next attempt (open_or_create's create after its
                // open found no ledger) must not find it still held.
                let _ = client
                    .query_one("SELECT pg_advisory_unlock_all()", &[])
                    .await;
            }
            return Err(e);
        }
        let (apply, apply_checked) = prepare_writer(&client).await.map_err(at)?;
        let acknowledged = read_head_row(&client).await.map_err(at)?;
        if !read_only && options.shared {
            // The schema is settled: from now on the lock is taken per
            // commit, shared, so that other processes write too.
            client
                .query_one("SELECT pg_advisory_unlock($1)", &[&WRITER_LOCK])
                .await
                .map_err(at)?;
        }
        let manager = deadpool_postgres::Manager::from_config(
            address.config.clone(),
            tls.clone(),
            deadpool_postgres::ManagerConfig {
                recycling_method: deadpool_postgres::RecyclingMethod::Fast,
            },
        );
        let readers = deadpool_postgres::Pool::builder(manager)
            .max_size(options.readers.max(1))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(
                address
                    .config
                    .get_connect_timeout()
                    .copied()
                    .unwrap_or(crate::address::CONNECT_TIMEOUT)
                    * 3,
            ))
            .create_timeout(address.config.get_connect_timeout().copied())
            .build()
            .map_err(|e| PostgresError::from(e).at(location))?;
        Ok(Started {
            writer: Writer {
                client,
                apply,
                apply_checked,
                lost: None,
                holding: false,
            },
            readers,
            acknowledged,
            read_only,
        })
    }

    /// Runs `work` on the store's runtime, blocking this thread until it ends.
    fn run<T>(&self, work: impl std::future::Future<Output = T>) -> T {
        block_on(&self.handle, work)
    }

    /// Maps a client failure at this store.
    fn fail(&self, e: impl Into<PostgresError>) -> StoreError {
        e.into().at(&self.location)
    }

    /// One page of a range read: up to `rows` entries in `(start, end)`, in order.
    fn fetch_page(
        &self,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        rows: i64,
        descending: bool,
    ) -> Result<Vec<Entry>, StoreError> {
        self.run(fetch_rows(&self.readers, start, end, rows, descending))
            .map_err(|e| self.fail(e))
    }

    /// Starts fetching the page of up to `rows` entries in `(start, end)` on
    /// the store's runtime, for the caller to wait for later.
    fn fetch_page_ahead(&self, start: Bound<Vec<u8>>, end: Bound<Vec<u8>>, rows: i64) -> Ahead {
        let readers = self.readers.clone();
        self.handle.spawn(async move {
            fetch_rows(&readers, as_slice(&start), as_slice(&end), rows, false).await
        })
    }

    /// Drops the `onrecord` schema if its keyspace holds nothing (a ledger
    /// made for a first append that was refused), in one transaction.
    pub(crate) fn drop_if_empty(&self) -> Result<(), StoreError> {
        let writer = self.lock_writer();
        self.run(writer.client.batch_execute(
            "DO $$ BEGIN
                IF NOT EXISTS (SELECT 1 FROM onrecord.keyspace) THEN
                    DROP SCHEMA onrecord CASCADE;
                END IF;
            END $$",
        ))
        .map_err(|e| self.fail(e))
    }

    /// The writer, unless its connection was lost (then writes are refused
    /// until the store is opened again).
    fn usable_writer(&self) -> Result<std::sync::MutexGuard<'_, Writer>, StoreError> {
        let mut writer = self.lock_writer();
        // Anything but the commit a held head waits for lets go of it first.
        self.let_go(&mut writer);
        if writer.lost.is_some() && self.shared {
            // Shared writers hold no lock between transactions, and the
            // engine reads the committed head before every batch: a new
            // connection (to the same URL, which a failover may have moved
            // to a new primary) is all a write needs.
            self.reconnect(&mut writer)?;
        }
        if let Some(why) = &writer.lost {
            return Err(StoreError::WriteUnsure {
                path: self.location.clone(),
                detail: why.clone(),
            });
        }
        Ok(writer)
    }

    /// Replaces a lost writer connection with a new one and its prepared
    /// statements; an error (the database still unreachable) leaves it lost.
    fn reconnect(&self, writer: &mut Writer) -> Result<(), StoreError> {
        let at = |e: tokio_postgres::Error| PostgresError::from(e).at(&self.location);
        let (client, apply, apply_checked) = self.run(async {
            let (client, connection) = self.config.connect(self.tls.clone()).await.map_err(at)?;
            tokio::spawn(async move {
                let _ = connection.await;
            });
            let (apply, apply_checked) = prepare_writer(&client).await.map_err(at)?;
            Ok::<_, StoreError>((client, apply, apply_checked))
        })?;
        *writer = Writer {
            client,
            apply,
            apply_checked,
            lost: None,
            holding: false,
        };
        Ok(())
    }

    /// Notes that the writer's connection failed: no write follows until the
    /// store is opened again. With a commit in flight (`nothing_sent`
    /// false), whether it happened is unknown: [`StoreError::WriteUnsure`].
    /// Ends a transaction [`Storage::hold_head`] left open, writing nothing.
    fn let_go(&self, writer: &mut Writer) {
        if std::mem::take(&mut writer.holding) {
            // If this fails the connection is gone, and the transaction with it.
            let _ = self.run(writer.client.batch_execute("ROLLBACK"));
        }
    }

    /// What starts a commit's transaction: the writer lock shared, and a
    /// bound on how long it waits for the lock and the head row.
    fn begin_sql(&self) -> String {
        format!(
            "BEGIN; SET LOCAL lock_timeout = {}; SELECT pg_advisory_xact_lock_shared({WRITER_LOCK})",
            self.busy_wait.as_millis().max(1)
        )
    }

    fn connection_failed(
        &self,
        writer: &mut Writer,
        e: tokio_postgres::Error,
        nothing_sent: bool,
    ) -> StoreError {
        writer.holding = false;
        let detail = if nothing_sent {
            "the connection to the database was lost, and the writer lock with it".to_owned()
        } else {
            "the connection to the database failed during a commit, which may or may not have happened".to_owned()
        };
        writer.lost = Some(detail.clone());
        if nothing_sent {
            return self.fail(e);
        }
        StoreError::WriteUnsure {
            path: self.location.clone(),
            detail,
        }
    }

    fn lock_writer(&self) -> std::sync::MutexGuard<'_, Writer> {
        // A panic while holding it leaves no half-written state: a write set
        // is one statement, committed by the server or not at all.
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Polls `work` on this thread until it is done, parking between wake-ups,
/// with `runtime` as the current runtime (its worker drives the sockets and
/// timers the future registers). Unlike `Handle::block_on` this never
/// panics when the caller is itself inside an async task (the server calls
/// some engine methods from async code): the caller's thread is blocked for
/// the call, as it would be by sled.
fn block_on<F: std::future::Future>(runtime: &tokio::runtime::Handle, work: F) -> F::Output {
    /// Wakes the thread that is blocked on the future.
    struct ThreadWaker(std::thread::Thread);
    impl std::task::Wake for ThreadWaker {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.unpark();
        }
        fn wake_by_ref(self: &std::sync::Arc<Self>) {
            self.0.unpark();
        }
    }
    let _context = runtime.enter();
    let waker = std::task::Waker::from(std::sync::Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    let mut work = std::pin::pin!(work);
    loop {
        if let std::task::Poll::Ready(out) = work.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::park();
    }
}

/// Whether this session may only read: the server is a standby or read-only,
/// or this role may not insert into an existing ledger's keyspace.
async fn is_read_only(client: &Client, state: SchemaState) -> Result<bool, tokio_postgres::Error> {
    let server: bool = client
        .query_one(
            "SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on'",
            &[],
        )
        .await?
        .try_get(0)?;
    if server || !matches!(state, SchemaState::At(_)) {
        return Ok(server);
    }
    let may_write: bool = client
        .query_one(
            "SELECT has_table_privilege('onrecord.keyspace', 'INSERT, UPDATE, DELETE')",
            &[],
        )
        .await?
        .try_get(0)?;
    Ok(!may_write)
}

/// Takes the ledger's writer lock, retrying for up to `busy_wait`.
async fn take_writer_lock(
    client: &Client,
    busy_wait: Duration,
    location: &Path,
) -> Result<(), StoreError> {
    let started = Instant::now();
    loop {
        let taken: bool = client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&WRITER_LOCK])
            .await
            .and_then(|row| row.try_get(0))
            .map_err(|e| PostgresError::from(e).at(location))?;
        if taken {
            return Ok(());
        }
        if started.elapsed() >= busy_wait {
            return Err(StoreError::LedgerBusy(location.to_owned()));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The head row: what the last committed write set acknowledged.
async fn read_head_row(client: &Client) -> Result<Acknowledged, tokio_postgres::Error> {
    let row = client
        .query_one("SELECT seq, hash FROM onrecord.head", &[])
        .await?;
    let (seq, hash): (i64, Vec<u8>) = (row.try_get(0)?, row.try_get(1)?);
    Ok(
        match (u64::try_from(seq), <[u8; 32]>::try_from(hash.as_slice())) {
            (Ok(0), _) => Acknowledged::Missing,
            (Ok(seq), Ok(hash)) => Acknowledged::At(Head { seq, hash }),
            _ => Acknowledged::Unreadable("the onrecord.head row"),
        },
    )
}

/// Up to `rows` entries in `(start, end)`, in key order (or reverse order),
/// read on a connection of the pool that goes back to it at once.
async fn fetch_rows(
    readers: &deadpool_postgres::Pool,
    start: Bound<&[u8]>,
    end: Bound<&[u8]>,
    rows: i64,
    descending: bool,
) -> Result<Vec<Entry>, PostgresError> {
    let (sql, bounds) = range_query(start, end, descending);
    let mut params: Vec<&(dyn ToSql + Sync)> = bounds.iter().map(|b| b as _).collect();
    params.push(&rows);
    let client = readers.get().await?;
    let statement = client.prepare_cached(&sql).await?;
    let found = client.query(&statement, &params).await?;
    found
        .into_iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect()
}

/// A page being fetched ahead of its reader ([`Pages`]).
type Ahead = tokio::task::JoinHandle<Result<Vec<Entry>, PostgresError>>;

/// A range read that has come back for this many pages is taken to be a
/// scan (a replay, an export): from then on each page is fetched while the
/// one before it is read. A short read (a chunk, the first key of a range)
/// never fetches ahead.
const FETCH_AHEAD_FROM_PAGE: u32 = 2;

/// The SQL and bound values of a page of `(start, end)`: keys in order (or
/// reverse order), the page size as the last parameter.
fn range_query(start: Bound<&[u8]>, end: Bound<&[u8]>, descending: bool) -> (String, Vec<Vec<u8>>) {
    let mut conditions = Vec::new();
    let mut values = Vec::new();
    for (bound, inclusive, exclusive) in [(start, ">=", ">"), (end, "<=", "<")] {
        let (op, key) = match bound {
            Bound::Included(k) => (inclusive, k),
            Bound::Excluded(k) => (exclusive, k),
            Bound::Unbounded => continue,
        };
        values.push(key.to_vec());
        conditions.push(format!("key {op} ${}", values.len()));
    }
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    let order = if descending { "DESC" } else { "ASC" };
    let limit = values.len() + 1;
    (
        format!(
            "SELECT key, value FROM onrecord.keyspace {filter} ORDER BY key {order} LIMIT ${limit}"
        ),
        values,
    )
}

/// Whether `(start, end)` can hold no key at all.
fn is_empty_range(start: Bound<&[u8]>, end: Bound<&[u8]>) -> bool {
    match (start, end) {
        (Bound::Included(s), Bound::Included(e)) => s > e,
        (Bound::Included(s) | Bound::Excluded(s), Bound::Excluded(e))
        | (Bound::Excluded(s), Bound::Included(e)) => s >= e,
        _ => false,
    }
}

/// A range read fetched in pages (keyset pagination: each page starts after
/// the last key of the one before), so it holds at most two pages (the one
/// it hands out and the next, fetched ahead once the read is a scan) and no
/// connection between pages: a slow reader never holds up a writer, and it
/// sees what is committed when the page before is read, as sled's iterators
/// see what is committed as they go.
struct Pages<'a> {
    store: &'a PostgresStorage,
    next: Bound<Vec<u8>>,
    end: Bound<Vec<u8>>,
    page: std::vec::IntoIter<Entry>,
    rows: i64,
    exhausted: bool,
    /// How many pages were read so far.
    pages: u32,
    /// The next page, being fetched while this one is read (scans only).
    ahead: Option<Ahead>,
}

impl Iterator for Pages<'_> {
    type Item = Result<Entry, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(entry) = self.page.next() {
            return Some(Ok(entry));
        }
        let fetched = match self.ahead.take() {
            Some(ahead) => self
                .store
                .run(ahead)
                .unwrap_or_else(|e| Err(PostgresError::Runtime(std::io::Error::other(e))))
                .map_err(|e| self.store.fail(e)),
            None => {
                let (start, end) = (as_slice(&self.next), as_slice(&self.end));
                if self.exhausted || is_empty_range(start, end) {
                    return None;
                }
                self.store.fetch_page(start, end, self.rows, false)
            }
        };
        match fetched {
            Err(e) => {
                self.exhausted = true;
                Some(Err(e))
            }
            Ok(entries) => {
                self.exhausted = (entries.len() as i64) < self.rows;
                if let Some((key, _)) = entries.last() {
                    self.next = Bound::Excluded(key.clone());
                }
                self.rows = (self.rows * 2).min(MAX_PAGE_ROWS);
                self.pages += 1;
                if !self.exhausted
                    && self.pages >= FETCH_AHEAD_FROM_PAGE
                    && !is_empty_range(as_slice(&self.next), as_slice(&self.end))
                {
                    self.ahead = Some(self.store.fetch_page_ahead(
                        self.next.clone(),
                        self.end.clone(),
                        self.rows,
                    ));
                }
                self.page = entries.into_iter();
                self.page.next().map(Ok)
            }
        }
    }
}

fn as_slice(bound: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    bound.as_ref().map(Vec::as_slice)
}

fn owned(bound: Bound<&[u8]>) -> Bound<Vec<u8>> {
    bound.map(<[u8]>::to_vec)
}

/// A write set as [`apply_sql`]'s parameters.
struct ApplyParams {
    put_keys: Vec<Vec<u8>>,
    put_values: Vec<Vec<u8>>,
    deleted: Vec<Vec<u8>>,
    head_seq: Option<i64>,
    head_hash: Option<Vec<u8>>,
    head_recorded_at: Option<i64>,
    /// The read tables' rows of the records the set puts or deletes.
    read: read_tables::ReadParameters,
    /// The head a checked apply expects (`$13` seq, `$14` hash), and the
    /// import key whose presence stops it (`$15`); unused unchecked.
    expect_seq: i64,
    expect_hash: Vec<u8>,
    import_key: Vec<u8>,
}

impl ApplyParams {
    /// The last write to each key, split into puts and deletes; the head
    /// row's values from the `M head` key, when the set moves the head.
    fn of(writes: WriteSet) -> Self {
        let head_recorded_at = writes.head_recorded_at();
        let mut last: BTreeMap<Vec<u8>, Option<Vec<u8>>> = BTreeMap::new();
        for (key, value) in writes.into_ops() {
            last.insert(key, value);
        }
        let head_key = keys::meta(MetaKey::Head);
        let (mut put_keys, mut put_values, mut deleted) = (Vec::new(), Vec::new(), Vec::new());
        let (mut head_seq, mut head_hash, mut recorded_at) = (None, None, None);
        let mut read_rows = ReadRows::default();
        for (key, value) in last {
            read_rows.note(&key, value.as_deref());
            match value {
                Some(value) => {
                    if key == head_key
                        && let Some((seq, hash)) = head_of(&value)
                    {
                        (head_seq, head_hash) = (Some(seq), Some(hash));
                        recorded_at = head_recorded_at;
                    }
                    put_keys.push(key);
                    put_values.push(value);
                }
                None => deleted.push(key),
            }
        }
        Self {
            put_keys,
            put_values,
            deleted,
            head_seq,
            head_hash,
            head_recorded_at: recorded_at,
            read: read_rows.parameters(),
            expect_seq: 0,
            expect_hash: Vec::new(),
            import_key: keys::meta(MetaKey::Import),
        }
    }

    /// Makes a checked apply write only on `head`.
    fn expect(&mut self, head: &Head) {
        self.expect_seq = i64::try_from(head.seq).unwrap_or(i64::MAX);
        self.expect_hash = head.hash.to_vec();
    }

    /// The parameters in [`apply_sql`]'s order: the keyspace's `$1`..`$6`,
    /// then the read rows' `$7`..`$12`, then the expected head's `$13`..`$15`.
    fn as_sql(&self) -> Vec<&(dyn ToSql + Sync)> {
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![
            &self.put_keys,
            &self.put_values,
            &self.deleted,
            &self.head_seq,
            &self.head_hash,
            &self.head_recorded_at,
        ];
        params.extend(self.read.as_params());
        params.extend([
            &self.expect_seq as &(dyn ToSql + Sync),
            &self.expect_hash,
            &self.import_key,
        ]);
        params
    }
}

/// The head in a row's columns `at` (seq) and `at + 1` (hash) (`None`: not a head).
fn stored_head_at(
    row: &tokio_postgres::Row,
    at: usize,
) -> Result<Option<Head>, tokio_postgres::Error> {
    let (seq, hash): (i64, Vec<u8>) = (row.try_get(at)?, row.try_get(at + 1)?);
    Ok(
        match (u64::try_from(seq), <[u8; 32]>::try_from(hash.as_slice())) {
            (Ok(seq), Ok(hash)) => Some(Head { seq, hash }),
            _ => None,
        },
    )
}

/// How long the head listener waits before connecting again.
const LISTEN_RETRY: Duration = Duration::from_millis(500);

/// Follows the heads other processes commit, for as long as the store's
/// runtime runs: LISTEN on a connection of its own, hand each notified seq
/// to `on_head`; after (re)connecting, hand it the head row too, so that
/// commits made while no connection listened are not missed.
async fn listen_for_heads(config: tokio_postgres::Config, tls: Connector, on_head: HeadListener) {
    use futures_util::StreamExt;
    loop {
        if let Ok((client, mut connection)) = config.connect(tls.clone()).await {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<u64>();
            let driver = tokio::spawn(async move {
                let mut messages =
                    futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
                while let Some(Ok(message)) = messages.next().await {
                    if let tokio_postgres::AsyncMessage::Notification(n) = message
                        && let Ok(seq) = n.payload().parse::<u64>()
                        && tx.send(seq).is_err()
                    {
                        break;
                    }
                }
            });
            let listening = client
                .batch_execute(&format!("LISTEN {HEAD_CHANNEL}"))
                .await
                .is_ok();
            if listening && let Ok(Acknowledged::At(head)) = read_head_row(&client).await {
                on_head(head.seq);
            }
            while listening && let Some(seq) = rx.recv().await {
                on_head(seq);
            }
            drop(client);
            let _ = driver.await;
        }
        tokio::time::sleep(LISTEN_RETRY).await;
    }
}

/// The head a write set puts, as the head row stores it (seq, hash).
fn head_of(value: &[u8]) -> Option<(i64, Vec<u8>)> {
    let seq = u64::from_be_bytes(value.get(..8)?.try_into().ok()?);
    let hash = value.get(8..40)?;
    Some((i64::try_from(seq).ok()?, hash.to_vec()))
}

impl PostgresStorage {
    /// The rows of `sql` (prepared once per connection) on a connection of the readers' pool.
    fn query_a_reader(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<tokio_postgres::Row>, StoreError> {
        self.run(async {
            let client = self.readers.get().await.map_err(|e| self.fail(e))?;
            let statement = client.prepare_cached(sql).await.map_err(|e| self.fail(e))?;
            client
                .query(&statement, params)
                .await
                .map_err(|e| self.fail(e))
        })
    }

    /// The value of each of `keys`, in their order, from rows of (key, value).
    fn values_in_order(
        &self,
        keys: &[Vec<u8>],
        rows: Vec<tokio_postgres::Row>,
    ) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let mut found = std::collections::HashMap::with_capacity(rows.len());
        for row in rows {
            let key: Vec<u8> = row.try_get(0).map_err(|e| self.fail(e))?;
            let value: Vec<u8> = row.try_get(1).map_err(|e| self.fail(e))?;
            found.insert(key, value);
        }
        // A key asked for twice gets its value twice.
        Ok(keys.iter().map(|k| found.get(k).cloned()).collect())
    }
}

impl Storage for PostgresStorage {
    fn location(&self) -> &Path {
        &self.location
    }

    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(kept) = self.memo.recall(key) {
            return Ok(kept);
        }
        let value = self.run(async {
            let client = self.readers.get().await.map_err(|e| self.fail(e))?;
            let statement = client
                .prepare_cached("SELECT value FROM onrecord.keyspace WHERE key = $1")
                .await
                .map_err(|e| self.fail(e))?;
            match client
                .query_opt(&statement, &[&key])
                .await
                .map_err(|e| self.fail(e))?
            {
                Some(row) => row.try_get(0).map(Some).map_err(|e| self.fail(e)),
                None => Ok(None),
            }
        })?;
        self.memo.keep(key, value.as_deref());
        Ok(value)
    }

    fn contains(&self, key: &[u8]) -> Result<bool, StoreError> {
        if let Some(kept) = self.memo.recall(key) {
            return Ok(kept.is_some());
        }
        self.run(async {
            let client = self.readers.get().await.map_err(|e| self.fail(e))?;
            let statement = client
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM onrecord.keyspace WHERE key = $1)")
                .await
                .map_err(|e| self.fail(e))?;
            client
                .query_one(&statement, &[&key])
                .await
                .and_then(|row| row.try_get(0))
                .map_err(|e| self.fail(e))
        })
    }

    fn reads_are_round_trips(&self) -> bool {
        true
    }

    /// One query for all of `keys` (`WHERE key = ANY`).
    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let rows = self.query_a_reader(GET_MANY_SQL, &[&keys])?;
        self.values_in_order(keys, rows)
    }

    /// The keys and the spans in one statement ([`READ_AHEAD_SQL`]: one
    /// round trip, one snapshot), kept in the memo for this thread until
    /// [`Storage::end_read_ahead`].
    fn read_ahead(
        &self,
        keys: &[Vec<u8>],
        spans: &[Span],
    ) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        if spans.is_empty() {
            let values = self.get_many(keys)?;
            self.memo
                .begin(keys.iter().cloned().zip(values.iter().cloned()), []);
            return Ok(values);
        }
        let starts: Vec<&[u8]> = spans.iter().map(|s| s.start.as_slice()).collect();
        let ends: Vec<&[u8]> = spans.iter().map(|s| s.end.as_slice()).collect();
        let descending: Vec<bool> = spans.iter().map(|s| s.descending).collect();
        let limits: Vec<i32> = spans
            .iter()
            .map(|s| i32::try_from(s.limit.max(1)).unwrap_or(i32::MAX))
            .collect();
        let rows = self.query_a_reader(
            READ_AHEAD_SQL,
            &[&keys, &starts, &ends, &descending, &limits],
        )?;
        let mut key_rows = Vec::new();
        let mut found: Vec<Vec<Entry>> = vec![Vec::new(); spans.len()];
        for row in rows {
            let i: i64 = row.try_get(0).map_err(|e| self.fail(e))?;
            let entry: Entry = (
                row.try_get(1).map_err(|e| self.fail(e))?,
                row.try_get(2).map_err(|e| self.fail(e))?,
            );
            if i == 0 {
                key_rows.push(entry);
            } else if let Some(list) = usize::try_from(i - 1).ok().and_then(|i| found.get_mut(i)) {
                list.push(entry);
            }
        }
        let found_keys: std::collections::HashMap<Vec<u8>, Vec<u8>> =
            key_rows.into_iter().collect();
        // A key asked for twice gets its value twice.
        let values: Vec<Option<Vec<u8>>> =
            keys.iter().map(|k| found_keys.get(k).cloned()).collect();
        let spans_found = spans.iter().cloned().zip(found).map(|(span, mut entries)| {
            // In the span's order: nearest its end first when descending.
            entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            if span.descending {
                entries.reverse();
            }
            (span, entries)
        });
        self.memo.begin(
            keys.iter().cloned().zip(values.iter().cloned()),
            spans_found,
        );
        Ok(values)
    }

    fn end_read_ahead(&self) {
        self.memo.end();
    }

    /// Starts with what this thread's read-ahead settled of the range, if
    /// anything, and reads the rest from the store.
    fn range(&self, start: Bound<&[u8]>, end: Bound<&[u8]>) -> Entries<'_> {
        let (kept, next, exhausted) = match self.memo.recall_range(start, end) {
            None => (Vec::new(), owned(start), false),
            Some((kept, RangeRest::Nothing)) => (kept, Bound::Unbounded, true),
            Some((kept, RangeRest::From(from))) => (kept, from, false),
        };
        Box::new(Pages {
            store: self,
            next,
            end: owned(end),
            page: kept.into_iter(),
            rows: FIRST_PAGE_ROWS,
            exhausted,
            pages: 0,
            ahead: None,
        })
    }

    fn last(&self, start: Bound<&[u8]>, end: Bound<&[u8]>) -> Result<Option<Entry>, StoreError> {
        if is_empty_range(start, end) {
            return Ok(None);
        }
        if let Some(kept) = self.memo.recall_last(start, end) {
            return Ok(kept);
        }
        Ok(self.fetch_page(start, end, 1, true)?.pop())
    }

    /// Commits the write set as one statement (one round trip): the last
    /// write to each key wins, puts are upserted from two arrays, deletes
    /// go by one array, and the head row follows the `M head` key. If the
    /// connection fails with the statement in flight, whether it committed
    /// is unknown: the store then refuses writes until opened again.
    fn apply(&self, writes: WriteSet) -> Result<(), StoreError> {
        if self.read_only {
            return Err(StoreError::ReadOnly(self.location.clone()));
        }
        let params = ApplyParams::of(writes);
        let mut writer = self.usable_writer()?;
        let was_closed = writer.client.is_closed();
        let result = self.run(writer.client.execute(&writer.apply, &params.as_sql()));
        match result {
            Ok(_) => Ok(()),
            // The server refused the statement: it rolled back, nothing changed.
            Err(e) if e.as_db_error().is_some() => Err(self.fail(e)),
            Err(e) => Err(self.connection_failed(&mut writer, e, was_closed)),
        }
    }

    /// On a shared store, one transaction sent as one pipeline (one round
    /// trip): the writer lock in shared mode (waiting while an import holds
    /// it exclusively), then [`apply_sql`] checked (the head row locked and
    /// compared with `expect`; the write set, the head and the notification
    /// written only if it matches), then the commit, which commits nothing
    /// when the head had moved.
    fn apply_if(&self, expect: Expect, writes: WriteSet) -> Result<Applied, StoreError> {
        if !self.shared {
            return self.apply(writes).map(|()| Applied::Done);
        }
        if self.read_only {
            return Err(StoreError::ReadOnly(self.location.clone()));
        }
        let mut params = ApplyParams::of(writes);
        params.expect(&expect.head);
        let mut writer = self.lock_writer();
        // A held head's transaction is open: the commit goes in it.
        let held = std::mem::take(&mut writer.holding);
        if !held {
            drop(writer);
            writer = self.usable_writer()?;
        }
        let was_closed = writer.client.is_closed();
        let begin = if held {
            String::new()
        } else {
            self.begin_sql()
        };
        let client = &writer.client;
        let committed = self.run(async {
            let (begun, applied, commit) = futures_util::future::join3(
                async {
                    match held {
                        true => Ok(()),
                        false => client.batch_execute(&begin).await,
                    }
                },
                client.query_one(&writer.apply_checked, &params.as_sql()),
                client.batch_execute("COMMIT"),
            )
            .await;
            // A refused statement makes the rest fail and the COMMIT a
            // rollback: the first error is what happened.
            begun?;
            let row = applied?;
            commit?;
            Ok::<_, tokio_postgres::Error>(row)
        });
        let row = match committed {
            Ok(row) => row,
            Err(e) if e.as_db_error().is_some() => return Err(self.fail(e)),
            Err(e) => return Err(self.connection_failed(&mut writer, e, was_closed)),
        };
        let wrote: bool = row.try_get(0).map_err(|e| self.fail(e))?;
        if wrote {
            return Ok(Applied::Done);
        }
        // Nothing was written: the head had moved, an import cut short left
        // its mark, or the head row is not a head.
        match stored_head_at(&row, 1).map_err(|e| self.fail(e))? {
            Some(stored) => Ok(Applied::HeadMoved(stored)),
            None => Err(StoreError::DamagedHead(
                "the onrecord.head row is unreadable".into(),
            )),
        }
    }

    /// Opens the commit's transaction early: the writer lock shared, then
    /// the head row locked (`FOR UPDATE`), one round trip; other writers'
    /// commits wait for it. Only on a shared store that may write.
    fn hold_head(&self) -> Result<bool, StoreError> {
        if !self.shared || self.read_only {
            return Ok(false);
        }
        let mut writer = self.usable_writer()?;
        let was_closed = writer.client.is_closed();
        let begin = self.begin_sql();
        let client = &writer.client;
        let locked = self.run(async {
            let (begun, locked) = futures_util::future::join(
                client.batch_execute(&begin),
                client.query_one("SELECT seq FROM onrecord.head FOR UPDATE", &[]),
            )
            .await;
            begun?;
            locked.map(|_| ())
        });
        match locked {
            Ok(()) => {
                writer.holding = true;
                Ok(true)
            }
            Err(e) if e.as_db_error().is_some() => {
                // The server refused (a lock wait timed out): end the transaction.
                let _ = self.run(client.batch_execute("ROLLBACK"));
                Err(self.fail(e))
            }
            Err(e) => Err(self.connection_failed(&mut writer, e, was_closed)),
        }
    }

    fn release_head(&self) {
        let mut writer = self.lock_writer();
        self.let_go(&mut writer);
    }

    fn shared_writers(&self) -> bool {
        self.shared
    }

    /// Shared, or read-only: a standby replays the primary's commits, and a
    /// read-only role reads beside writers, so the head moves under it.
    fn others_move_head(&self) -> bool {
        self.shared || self.read_only
    }

    /// Takes the writer lock exclusively on the writer's connection,
    /// retrying for the busy wait while other processes' commits hold it.
    fn exclude_writers(&self) -> Result<(), StoreError> {
        if !self.shared {
            return Ok(());
        }
        let mut writer = self.usable_writer()?;
        let taken = self.run(take_writer_lock(
            &writer.client,
            self.busy_wait,
            &self.location,
        ));
        if let Err(StoreError::Unreachable { .. }) = &taken {
            writer.lost = Some("the connection to the database was lost".into());
        }
        taken
    }

    fn admit_writers(&self) {
        if !self.shared {
            return;
        }
        let writer = self.lock_writer();
        // If this fails the connection is gone, and the lock with it.
        let _ = self.run(
            writer
                .client
                .query_one("SELECT pg_advisory_unlock($1)", &[&WRITER_LOCK]),
        );
    }

    /// Listens on [`HEAD_CHANNEL`] on a connection of its own (connected
    /// again, with the head row read, whenever it is lost). Not on a store
    /// that may only read: a standby refuses `LISTEN` (notifications are
    /// not replicated), so its readers poll the head instead.
    fn watch_heads(&self, on_head: HeadListener) -> bool {
        if self.read_only {
            return false;
        }
        self.handle.spawn(listen_for_heads(
            self.config.clone(),
            self.tls.clone(),
            on_head,
        ));
        true
    }

    /// Nothing to do: [`Storage::apply`] returns only once the server has
    /// committed, as durably as its `synchronous_commit` setting makes it.
    fn sync(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn acknowledgement(&self) -> Acknowledged {
        self.acknowledged
    }

    fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// The SQL read tables against the records ([`read_tables::verify`]).
    fn verify_derived(&self, head: u64) -> Result<Option<Damage>, StoreError> {
        let found = self.run(async {
            let mut client = self.readers.get().await.map_err(|e| self.fail(e))?;
            read_tables::verify(&mut client, head)
                .await
                .map_err(|e| self.fail(e))
        })?;
        Ok(found.map(|(seq, table)| Damage {
            seq,
            problem: format!(
                "its row in the SQL read table onrecord.{table} does not match the record \
                 (the log and the kept views verify; the read tables are derived from them)"
            ),
        }))
    }

    fn size_on_disk(&self) -> Result<u64, StoreError> {
        self.run(async {
            let client = self.readers.get().await.map_err(|e| self.fail(e))?;
            let bytes: i64 = client
                .query_one(
                    "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint
                     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE n.nspname = 'onrecord' AND c.relkind = 'r'",
                    &[],
                )
                .await
                .and_then(|row| row.try_get(0))
                .map_err(|e| self.fail(e))?;
            Ok(u64::try_from(bytes).unwrap_or(0))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_queries_bind_only_the_bounds_they_have_and_the_page_size_last() {
        let (sql, values) = range_query(Bound::Included(b"R"), Bound::Excluded(b"S"), false);
        assert_eq!(
            sql,
            "SELECT key, value FROM onrecord.keyspace WHERE key >= $1 AND key < $2 ORDER BY key ASC LIMIT $3"
        );
        assert_eq!(values, vec![b"R".to_vec(), b"S".to_vec()]);
        let (sql, values) = range_query(Bound::Unbounded, Bound::Included(b"M"), true);
        assert_eq!(
            sql,
            "SELECT key, value FROM onrecord.keyspace WHERE key <= $1 ORDER BY key DESC LIMIT $2"
        );
        assert_eq!(values.len(), 1);
        let (sql, _) = range_query(Bound::Unbounded, Bound::Unbounded, false);
        assert_eq!(
            sql,
            "SELECT key, value FROM onrecord.keyspace  ORDER BY key ASC LIMIT $1"
        );
    }

    #[test]
    fn the_head_row_takes_the_seq_and_hash_of_the_head_key() {
        let mut value = 7u64.to_be_bytes().to_vec();
        value.extend([9u8; 32]);
        assert_eq!(head_of(&value), Some((7, vec![9u8; 32])));
        assert_eq!(head_of(&value[..20]), None);
    }
}
