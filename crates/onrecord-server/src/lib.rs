//! `onrecord serve`: one ledger shared over HTTP, on axum and tokio.
//!
//! The server holds the ledger open with one writer ([`writer`]: every
//! append goes through it, with group commit) and answers reads on tokio's
//! blocking pool (the engine is synchronous, ADR 0004). Routes live under
//! `/v1` (`docs/server.md`); errors are `application/problem+json`, mapped
//! from the engine's error kinds in one place ([`problem`]). The live tail
//! ([`tail`]) catches up from any seq and then follows the durable head:
//! this server's own appends, and on a ledger several servers share
//! (PostgreSQL) the heads the store reports other servers commit, or on a
//! standby the heads it replays (read every `head_poll`). A read may ask
//! for a minimum seq ([`min_seq`]: `Onrecord-Min-Seq`, else 503 `behind`).
//! The web page at `/` (`page`) shows the report (rendered by
//! `onrecord-report`, as `onrecord report` does) live from that tail.
//! Nothing here touches a store directly: only the engine's `Ledger`.
#![warn(missing_docs)]

pub mod auth;
pub mod cache;
pub mod limits;
pub mod local;
pub mod min_seq;
mod page;
pub mod problem;
mod reads;
mod routes;
pub mod tail;
pub mod tls;
mod writer;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use onrecord_ledger::Ledger;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

pub use problem::Problem;

/// Limits and timings of a server.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The largest request body accepted, in bytes (413 past it).
    pub max_body: usize,
    /// The most events one append request may carry (413 past it).
    pub max_batch: usize,
    /// How long a live tail may stay quiet before a heartbeat.
    pub heartbeat: Duration,
    /// Append jobs that may wait for the writer before appends get 503.
    pub queue: usize,
    /// Requests per second each token may make (bursts of twice that); 429 past it.
    pub rate_per_token: u32,
    /// Live tails one token may hold open at once; 429 past it.
    pub max_tails_per_token: usize,
    /// The longest event (one line, array item or body) accepted, in bytes.
    pub max_line: usize,
    /// How long a request may take to arrive and to be answered (a live
    /// tail or an export only until its stream starts); 503 past it.
    pub request_timeout: Duration,
    /// How long a read whose `Onrecord-Min-Seq` is past this server's head
    /// waits for the head to reach it; 503 `behind` past it.
    pub min_seq_wait: Duration,
    /// How often a server whose store's head moves without notice (a
    /// PostgreSQL standby replaying its primary) reads the head again.
    pub head_poll: Duration,
    /// How often a server on a ledger other processes write reads its tokens
    /// again, so that one made or revoked through another server takes effect here.
    pub token_poll: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            max_body: 16 * 1024 * 1024,
            max_batch: 10_000,
            heartbeat: Duration::from_secs(15),
            queue: 4096,
            rate_per_token: 200,
            max_tails_per_token: 16,
            max_line: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            min_seq_wait: Duration::from_secs(2),
            head_poll: Duration::from_millis(200),
            token_poll: Duration::from_secs(1),
        }
    }
}

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) ledger: Arc<Ledger>,
    pub(crate) access: Arc<auth::Access>,
    pub(crate) limits: Arc<limits::Limits>,
    pub(crate) jobs: mpsc::Sender<writer::WriteJob>,
    pub(crate) head: watch::Receiver<u64>,
    /// Publishes a head read from the store (see [`publish_head`]).
    pub(crate) heads: Arc<watch::Sender<u64>>,
    pub(crate) stop: watch::Receiver<bool>,
    pub(crate) options: ServeOptions,
    /// Read answers kept for the current head.
    pub(crate) answers: Arc<cache::AnswerCache>,
}

impl AppState {
    /// The caller of a request, if its token holds `role` (see [`auth`]).
    pub(crate) fn authorize(
        &self,
        headers: &axum::http::HeaderMap,
        role: onrecord_ledger::access::Role,
    ) -> Result<auth::Caller, Problem> {
        self.access
            .authorize(headers, role, onrecord_ledger::system_clock())
    }
}

/// Moves the published head forward to `seq` (never back: this server's
/// writer and the store's watch both publish, in either order).
pub(crate) fn publish_head(head: &watch::Sender<u64>, seq: u64) {
    head.send_if_modified(|current| {
        let moved = seq > *current;
        if moved {
            *current = seq;
        }
        moved
    });
}

/// Reads the store's head every `interval` and publishes it, until `stop`:
/// how a server on a store that sends no notice of new heads (a PostgreSQL
/// standby) follows them. A failed read (the store restarting) is retried
/// at the next interval.
async fn follow_head(
    ledger: Arc<Ledger>,
    heads: Arc<watch::Sender<u64>>,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.wait_for(|stop| *stop) => return,
        }
        let reader = Arc::clone(&ledger);
        if let Ok(Ok(head)) = tokio::task::spawn_blocking(move || reader.current_head()).await {
            publish_head(&heads, head.seq);
        }
    }
}

/// Reads the tokens the store keeps every `interval` until `stop`, so that
/// a token made or revoked through another server on the same ledger works,
/// or stops working (open tails included), here too within `interval`.
async fn follow_tokens(
    ledger: Arc<Ledger>,
    access: Arc<auth::Access>,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.wait_for(|stop| *stop) => return,
        }
        let reader = Arc::clone(&ledger);
        if let Ok(Ok(tokens)) = tokio::task::spawn_blocking(move || reader.tokens()).await {
            access.refresh(tokens);
        }
    }
}

/// Serves `ledger` on `listener` until `shutdown` completes; then stops
/// accepting, lets in-flight requests finish (appends are durable before
/// they are answered), ends live tails, and returns once the writer has
/// answered every append it took.
pub async fn serve(
    ledger: Ledger,
    listener: TcpListener,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with_socket(ledger, listener, None, options, shutdown).await
}

/// As [`serve`], on any listener (plain TCP, or [`tls::TlsListener`]), and
/// also on `socket`, the ledger's own Unix socket, whose connections act as
/// their local user ([`local`]).
pub async fn serve_with_socket<L>(
    ledger: Ledger,
    listener: L,
    socket: Option<tokio::net::UnixListener>,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    L: axum::serve::Listener,
    L::Addr: std::fmt::Debug,
{
    // The engine is synchronous (ADR 0004): even this one read goes to the blocking pool.
    let ledger = Arc::new(ledger);
    let tokens = {
        let ledger = Arc::clone(&ledger);
        tokio::task::spawn_blocking(move || ledger.tokens())
            .await
            .map_err(std::io::Error::other)?
            .map_err(std::io::Error::other)?
    };
    let (head_tx, head) = watch::channel(ledger.head().seq);
    let head_tx = Arc::new(head_tx);
    let (stop_tx, stop) = watch::channel(false);
    // On a ledger whose head others move, live tails and reads here follow
    // it: other servers' commits come from the store (PostgreSQL's
    // LISTEN/NOTIFY); a store that cannot tell (a standby, where NOTIFY
    // does not arrive) has its head read every `head_poll`.
    if ledger.others_move_head() {
        let heads = Arc::clone(&head_tx);
        let watched = ledger.watch_heads(Box::new(move |seq| publish_head(&heads, seq)));
        if !watched {
            tokio::spawn(follow_head(
                Arc::clone(&ledger),
                Arc::clone(&head_tx),
                options.head_poll,
                stop.clone(),
            ));
        }
    }
    let writer = writer::Writer::start(Arc::clone(&ledger), Arc::clone(&head_tx), options.queue);
    let access = Arc::new(auth::Access::new(tokens));
    if ledger.others_move_head() {
        tokio::spawn(follow_tokens(
            Arc::clone(&ledger),
            Arc::clone(&access),
            options.token_poll,
            stop.clone(),
        ));
    }
    let state = AppState {
        ledger,
        access,
        limits: Arc::new(limits::Limits::new(
            options.rate_per_token,
            options.max_tails_per_token,
        )),
        jobs: writer.jobs.clone(),
        head,
        heads: head_tx,
        stop,
        options,
        answers: Arc::new(cache::AnswerCache::default()),
    };
    let app = routes::router(state);
    let mut stopping = stop_tx.subscribe();
    let on_socket = socket.map(|socket| {
        let app = app
            .clone()
            .into_make_service_with_connect_info::<local::LocalPeer>();
        tokio::spawn(async move {
            axum::serve(socket, app)
                .with_graceful_shutdown(async move {
                    let _ = stopping.wait_for(|stop| *stop).await;
                })
                .await
        })
    });
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            // Live tails end now, so that the connections they hold close.
            let _ = stop_tx.send(true);
        })
        .await;
    if let Some(task) = on_socket {
        let _ = task.await;
    }
    tokio::task::spawn_blocking(move || writer.finish())
        .await
        .map_err(std::io::Error::other)?;
    result
}
