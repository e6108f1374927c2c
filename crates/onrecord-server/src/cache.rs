//! Answers kept for the head they were computed at: a query route's answer
//! depends only on the request (path and query) and the ledger up to its
//! durable head, so while the head stays where it is, the same request gets
//! the same bytes, and a dashboard polling a wide proposition costs one
//! query per append instead of one per poll. Any move of the head empties
//! the cache; it holds at most [`CACHE_BYTES`] (entries past
//! [`ENTRY_BYTES`] are never kept), so memory stays bounded.
//!
//! A request with `Cache-Control: no-cache` is computed afresh.
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

/// The server's kept answers.
#[derive(Default)]
pub struct AnswerCache {
    answers: Mutex<Answers>,
}

impl AnswerCache {
    fn get(&self, head: u64, key: &str) -> Option<Response> {
        let answers = self.answers.lock().unwrap_or_else(|p| p.into_inner());
        if answers.head != head {
            return None;
        }
        let kept = answers.by_request.get(key)?;
        let mut response = Body::from(kept.body.clone()).into_response();
        if let Some(ct) = &kept.content_type {
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, ct.clone());
        }
        Some(response)
    }

    fn put(&self, head: u64, key: String, kept: Kept) {
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

/// Answers a cached read route from the cache when its head is current,
/// else asks the route and keeps a successful answer computed while the
/// head did not move.
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
    let head = *state.head.borrow();
    // `Cache-Control: no-cache` asks for an answer computed now (kept after).
    let fresh = request
        .headers()
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("no-cache"));
    if !fresh && let Some(response) = state.answers.get(head, &key) {
        return response;
    }
    let response = next.run(request).await;
    if response.status() != StatusCode::OK || *state.head.borrow() != head {
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
    if *state.head.borrow() == head {
        state.answers.put(
            head,
            key,
            Kept {
                content_type: parts.headers.get(header::CONTENT_TYPE).cloned(),
                body: bytes.clone(),
            },
        );
    }
    Response::from_parts(parts, Body::from(bytes))
}
