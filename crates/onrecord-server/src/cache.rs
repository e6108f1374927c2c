//! Answers kept for the ledger state they were computed at: a query route's
//! answer depends only on the request (path and query) and the ledger up to
//! its durable head, so while the head stays where it is, the same request
//! gets the same bytes, and a dashboard polling a wide proposition costs one
//! query per append instead of one per poll. A move of the head empties the
//! answers kept for it. The answers of one proposition's routes
//! ([`PROPOSITION_ROUTES`]) depend on nothing but that proposition's stream
//! (its opening, statements, retractions, resolution; parties never change
//! once registered), so they are kept for the stream's revision instead and
//! outlive appends to other propositions. Each kind holds at most
//! [`CACHE_BYTES`] (entries past [`ENTRY_BYTES`] are never kept), so memory
//! stays bounded.
//!
//! A request with `Cache-Control: no-cache` is computed afresh. Every answer
//! of a cached route says which it was in its [`CACHE_HEADER`] header:
//! `hit` (kept), `miss` (computed now).
//!
//! It sits inside authentication (every request reaching it holds a read
//! token, and no answer depends on which), and serves only the read routes
//! in [`CACHED_ROUTES`]: never the live tail, export, verify, tokens or
//! anything that says who is asking.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use onrecord_core::{PropositionId, StreamId};

use crate::AppState;

/// The most bytes of answers kept at once.
pub const CACHE_BYTES: usize = 64 * 1024 * 1024;

/// The largest answer kept.
pub const ENTRY_BYTES: usize = 16 * 1024 * 1024;

/// Path prefixes of the routes whose answers are kept.
pub const CACHED_ROUTES: [&str; 6] = [
    "/v1/positions",
    "/v1/propositions/",
    "/v1/contradictions",
    "/v1/scores",
    "/v1/calibration",
    "/v1/report",
];

/// The response header saying whether an answer was kept (`hit`) or computed now (`miss`).
pub const CACHE_HEADER: &str = "onrecord-cache";

/// Marks `response` as a `hit` or a `miss` of the cache.
fn marked(mut response: Response, hit: bool) -> Response {
    response.headers_mut().insert(
        CACHE_HEADER,
        HeaderValue::from_static(if hit { "hit" } else { "miss" }),
    );
    response
}

/// Path prefixes of the routes answering about the one proposition named by
/// the next path segment, whose answers are kept for its stream's revision.
pub const PROPOSITION_ROUTES: [&str; 2] = ["/v1/positions/", "/v1/propositions/"];

/// What a kept answer is valid for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Validity {
    /// The durable head it was computed at.
    Head(u64),
    /// The revision of the proposition's stream it was computed at.
    Proposition(u64),
}

/// One kept answer: its content type and body.
struct Kept {
    content_type: Option<HeaderValue>,
    body: Bytes,
}

/// The answers computed at one head.
#[derive(Default)]
struct Answers {
    head: u64,
    by_request: HashMap<String, Kept>,
    bytes: usize,
}

/// The answers of proposition routes, each with the revision it is for.
#[derive(Default)]
struct PropositionAnswers {
    by_request: HashMap<String, (u64, Kept)>,
    bytes: usize,
}

/// The server's kept answers.
#[derive(Default)]
pub struct AnswerCache {
    answers: Mutex<Answers>,
    propositions: Mutex<PropositionAnswers>,
}

impl AnswerCache {
    fn get(&self, valid: Validity, key: &str) -> Option<Response> {
        let kept = match valid {
            Validity::Head(head) => {
                let answers = self.answers.lock().unwrap_or_else(|p| p.into_inner());
                if answers.head != head {
                    return None;
                }
                Self::response(answers.by_request.get(key)?)
            }
            Validity::Proposition(revision) => {
                let answers = self.propositions.lock().unwrap_or_else(|p| p.into_inner());
                match answers.by_request.get(key)? {
                    (kept_for, kept) if *kept_for == revision => Self::response(kept),
                    _ => return None,
                }
            }
        };
        Some(kept)
    }

    /// A kept answer as a response.
    fn response(kept: &Kept) -> Response {
        let mut response = Body::from(kept.body.clone()).into_response();
        if let Some(ct) = &kept.content_type {
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, ct.clone());
        }
        response
    }

    fn put(&self, valid: Validity, key: String, kept: Kept) {
        let head = match valid {
            Validity::Head(head) => head,
            Validity::Proposition(revision) => {
                let mut answers = self.propositions.lock().unwrap_or_else(|p| p.into_inner());
                let size = kept.body.len();
                if let Some((_, old)) = answers.by_request.remove(&key) {
                    answers.bytes -= old.body.len();
                }
                if answers.bytes + size > CACHE_BYTES {
                    // Full: start again rather than track ages.
                    *answers = PropositionAnswers::default();
                }
                answers.bytes += size;
                answers.by_request.insert(key, (revision, kept));
                return;
            }
        };
        let mut answers = self.answers.lock().unwrap_or_else(|p| p.into_inner());
        if answers.head != head {
            *answers = Answers {
                head,
                ..Answers::default()
            };
        }
        if answers.bytes + kept.body.len() <= CACHE_BYTES {
            answers.bytes += kept.body.len();
            answers.by_request.insert(key, kept);
        }
    }
}

/// The proposition a [`PROPOSITION_ROUTES`] path names, when its segment is
/// a plain id (one that needs no percent-decoding).
fn proposition_of(path: &str) -> Option<PropositionId> {
    let rest = PROPOSITION_ROUTES
        .iter()
        .find_map(|prefix| path.strip_prefix(prefix))?;
    let segment = rest.split('/').next()?;
    if segment.contains('%') {
        return None;
    }
    PropositionId::new(segment).ok()
}

/// What an answer to `path` computed now would be valid for: the revision
/// of the proposition it names (read from the ledger), else the head.
/// `None` when the revision cannot be read (the answer is then not kept).
async fn validity_now(state: &AppState, path: &str) -> Option<Validity> {
    let Some(proposition) = proposition_of(path) else {
        return Some(Validity::Head(*state.head.borrow()));
    };
    let ledger = std::sync::Arc::clone(&state.ledger);
    let stream = StreamId::Proposition(proposition);
    let revision = tokio::task::spawn_blocking(move || ledger.stream_revision(&stream))
        .await
        .ok()?
        .ok()?;
    // An unknown proposition has no answer worth keeping (404).
    revision.map(Validity::Proposition)
}

/// Answers a cached read route from the cache when what it was computed at
/// is current, else asks the route and keeps a successful answer computed
/// while that did not move.
pub(crate) async fn answer_cache(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if request.method() != Method::GET || !CACHED_ROUTES.iter().any(|r| path.starts_with(r)) {
        return next.run(request).await;
    }
    let key = request.uri().to_string();
    let Some(valid) = validity_now(&state, path).await else {
        return marked(next.run(request).await, false);
    };
    // `Cache-Control: no-cache` asks for an answer computed now (kept after).
    let fresh = request
        .headers()
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("no-cache"));
    if !fresh && let Some(response) = state.answers.get(valid, &key) {
        return marked(response, true);
    }
    let path = path.to_owned();
    let response = marked(next.run(request).await, false);
    if response.status() != StatusCode::OK || !still(&state, &path, valid).await {
        return response;
    }
    // Only an answer whose whole size is known and small enough is kept;
    // any other goes out as it is (a stream stays a stream).
    let size = axum::body::HttpBody::size_hint(response.body()).exact();
    if size.is_none_or(|n| n > ENTRY_BYTES as u64) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, ENTRY_BYTES).await else {
        return crate::problem::Problem::unavailable("the answer was cut off; retry")
            .into_response();
    };
    if still(&state, &path, valid).await {
        state.answers.put(
            valid,
            key,
            Kept {
                content_type: parts.headers.get(header::CONTENT_TYPE).cloned(),
                body: bytes.clone(),
            },
        );
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Whether what an answer was computed at is still current.
async fn still(state: &AppState, path: &str, valid: Validity) -> bool {
    match valid {
        Validity::Head(head) => *state.head.borrow() == head,
        Validity::Proposition(_) => validity_now(state, path).await == Some(valid),
    }
}
