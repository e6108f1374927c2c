//! Reading your own writes through any server: a read may carry
//! `Onrecord-Min-Seq: N`, the seq of the client's last acknowledged append
//! (made through this server or another on the same ledger). A server whose
//! ledger is behind N (a PostgreSQL standby still replaying, a server whose
//! notification has not arrived) waits for its head to reach N, up to
//! [`crate::ServeOptions::min_seq_wait`], and then answers 503 `behind`
//! naming the seq it has ([`Problem::behind`]). Every answer of these routes
//! carries `Onrecord-Head-Seq`, the head the server had when it began the
//! answer (everything up to it is in the answer), so a client learns a seq
//! to ask for next time.
//!
//! The routes that honour it ([`honours_min_seq`]) are every `GET` that
//! needs a token; the OpenAPI document lists the header on exactly those
//! ([`MinSeqDoc`]).

use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::problem::Problem;

/// The request header naming the lowest seq an answer must include.
pub const MIN_SEQ_HEADER: &str = "onrecord-min-seq";

/// The response header naming the head an answer was begun at.
pub const HEAD_SEQ_HEADER: &str = "onrecord-head-seq";

/// Whether a request of `method` on `path` honours `Onrecord-Min-Seq`:
/// every `GET` under `/v1` that needs a token (the reads).
pub fn honours_min_seq(method: &Method, path: &str) -> bool {
    method == Method::GET && path.starts_with("/v1/") && !crate::routes::PUBLIC.contains(&path)
}

/// The seq a request's `Onrecord-Min-Seq` asks for (`None`: no header);
/// a value that is not a seq is 400, naming it.
pub fn requested_min_seq(headers: &HeaderMap) -> Result<Option<u64>, Problem> {
    let mut values = headers.get_all(MIN_SEQ_HEADER).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let shown = || onrecord_core::error::one_line(&String::from_utf8_lossy(value.as_bytes()));
    if values.next().is_some() {
        return Err(Problem::invalid(format!(
            "Onrecord-Min-Seq is given more than once (first `{}`): send it once",
            shown()
        )));
    }
    value
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Some)
        .ok_or_else(|| {
            Problem::invalid(format!(
                "invalid Onrecord-Min-Seq `{}`: expected a seq (a whole number from 0, \
                 the seq of an acknowledged append)",
                shown()
            ))
        })
}

/// Waits until this server's head is at least `wanted` (asking the store
/// itself when others move its head), for up to `wait`; its head then, or
/// 503 `behind` with the head it has.
async fn reach(state: &AppState, wanted: u64, wait: Duration) -> Result<u64, Problem> {
    let started = Instant::now();
    let mut published = state.head.clone();
    let head = *published.borrow_and_update();
    if head >= wanted {
        return Ok(head);
    }
    // Asked for more than this server knows of: ask the store now (on a
    // standby that is the replayed head; later moves come from the follower).
    if let Some(head) = ask_store(state).await
        && head >= wanted
    {
        return Ok(head);
    }
    let deadline = tokio::time::Instant::from_std(started + wait);
    loop {
        let head = *published.borrow_and_update();
        if head >= wanted {
            return Ok(head);
        }
        tokio::select! {
            changed = published.changed() => {
                if changed.is_err() {
                    return Err(Problem::unavailable("the server is stopping"));
                }
            }
            _ = tokio::time::sleep_until(deadline) => break,
        }
    }
    // Once more from the store, so the refusal names the freshest seq.
    let head = ask_store(state).await.unwrap_or(0).max(*published.borrow());
    if head >= wanted {
        return Ok(head);
    }
    Err(Problem::behind(wanted, head, started.elapsed()))
}

/// The store's head now, published to this server's tails, when others may
/// move it; `None` when they may not (this server's head is the store's)
/// or the store could not be read (the wait goes on with what is published).
async fn ask_store(state: &AppState) -> Option<u64> {
    if !state.ledger.others_move_head() {
        return None;
    }
    let ledger = std::sync::Arc::clone(&state.ledger);
    let head = tokio::task::spawn_blocking(move || ledger.current_head())
        .await
        .ok()?
        .ok()?
        .seq;
    crate::publish_head(&state.heads, head);
    Some(head)
}

/// Holds a read back until the ledger has its `Onrecord-Min-Seq` (or
/// answers 400 or 503 `behind`), and marks every answer of a read route
/// with `Onrecord-Head-Seq`. Sits inside authentication: a request without
/// a valid token waits for nothing.
pub(crate) async fn wait_for_min_seq(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if !honours_min_seq(request.method(), request.uri().path()) {
        return next.run(request).await;
    }
    let head = match requested_min_seq(request.headers()) {
        Err(problem) => return problem.into_response(),
        Ok(None) => *state.head.borrow(),
        Ok(Some(wanted)) => match reach(&state, wanted, state.options.min_seq_wait).await {
            Ok(head) => head,
            Err(problem) => {
                let has = problem.head;
                let mut response = problem.into_response();
                if let Some(has) = has {
                    response
                        .headers_mut()
                        .insert(HEAD_SEQ_HEADER, HeaderValue::from(has));
                }
                return response;
            }
        },
    };
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .insert(HEAD_SEQ_HEADER, HeaderValue::from(head));
    response
}

/// Adds `Onrecord-Min-Seq` (request), `Onrecord-Head-Seq` (response) and
/// the 503 `behind` answer to every operation of the document that
/// [`honours_min_seq`], so the document says what the middleware does.
pub(crate) struct MinSeqDoc;

impl utoipa::Modify for MinSeqDoc {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
        use utoipa::openapi::{
            ContentBuilder, Ref, Required, ResponseBuilder, header::HeaderBuilder,
        };
        let seq_schema = || {
            utoipa::openapi::ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::Type::Integer)
                .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                    utoipa::openapi::KnownFormat::Int64,
                )))
                .minimum(Some(0))
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            let Some(operation) = item.get.as_mut() else {
                continue;
            };
            if !honours_min_seq(&Method::GET, path) {
                continue;
            }
            operation.parameters.get_or_insert_with(Vec::new).push(
                ParameterBuilder::new()
                    .name("Onrecord-Min-Seq")
                    .parameter_in(ParameterIn::Header)
                    .required(Required::False)
                    .description(Some(
                        "The lowest seq the answer must include (the client's last acknowledged \
                         append): a server behind it waits up to its bound (2 s by default), \
                         then answers 503 `behind` with the seq it has",
                    ))
                    .schema(Some(seq_schema()))
                    .build(),
            );
            let behind = "`behind`: the ledger here has not reached Onrecord-Min-Seq within \
                          the bound (`head` names the seq it has; with Retry-After)";
            match operation.responses.responses.get_mut("503") {
                Some(utoipa::openapi::RefOr::T(unavailable)) => {
                    unavailable.description = format!("{}; or {behind}", unavailable.description);
                }
                Some(_) => {}
                None => {
                    operation.responses.responses.insert(
                        "503".to_owned(),
                        ResponseBuilder::new()
                            .description(format!("{behind}; or busy, damaged, unavailable"))
                            .content(
                                "application/problem+json",
                                ContentBuilder::new()
                                    .schema(Some(Ref::from_schema_name("Problem")))
                                    .build(),
                            )
                            .build()
                            .into(),
                    );
                }
            }
            for response in operation.responses.responses.values_mut() {
                if let utoipa::openapi::RefOr::T(response) = response {
                    response.headers.insert(
                        "Onrecord-Head-Seq".to_owned(),
                        HeaderBuilder::new()
                            .schema(seq_schema())
                            .description(Some(
                                "The head the server had when it began the answer \
                                 (everything up to it is in the answer)",
                            ))
                            .build(),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_min_seq(values: &[&[u8]]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(
                MIN_SEQ_HEADER,
                HeaderValue::from_bytes(value).expect("a header value"),
            );
        }
        headers
    }

    #[test]
    fn a_min_seq_is_a_whole_number_and_anything_else_is_refused_naming_it() {
        assert_eq!(requested_min_seq(&HeaderMap::new()).unwrap(), None);
        assert_eq!(requested_min_seq(&with_min_seq(&[b"0"])).unwrap(), Some(0));
        assert_eq!(
            requested_min_seq(&with_min_seq(&[b" 42 "])).unwrap(),
            Some(42)
        );
        for bad in [
            &b"-1"[..],
            b"abc",
            b"1.5",
            b"",
            b"99999999999999999999",
            b"\xff",
        ] {
            let problem = requested_min_seq(&with_min_seq(&[bad])).unwrap_err();
            assert_eq!(problem.status, 400);
            assert!(problem.kind.ends_with(":invalid"), "{}", problem.kind);
            let shown = String::from_utf8_lossy(bad);
            assert!(
                problem.detail.contains(&format!("`{}`", shown.trim())),
                "{}",
                problem.detail
            );
        }
        let twice = requested_min_seq(&with_min_seq(&[b"1", b"2"])).unwrap_err();
        assert!(twice.detail.contains("more than once"), "{}", twice.detail);
    }

    #[test]
    fn every_token_read_honours_min_seq_and_nothing_else_does() {
        for path in ["/v1/positions", "/v1/events", "/v1/events/3", "/v1/export"] {
            assert!(honours_min_seq(&Method::GET, path), "{path}");
        }
        for path in ["/v1/health", "/v1/openapi.json", "/", "/app.js"] {
            assert!(!honours_min_seq(&Method::GET, path), "{path}");
        }
        assert!(!honours_min_seq(&Method::POST, "/v1/events"));
    }

    #[test]
    fn behind_is_a_503_naming_both_seqs_with_retry_after() {
        let problem = Problem::behind(9, 4, Duration::from_millis(2000));
        assert_eq!(problem.status, 503);
        assert_eq!(problem.kind, "urn:onrecord:problem:behind");
        assert_eq!(problem.head, Some(4));
        assert_eq!(problem.retry_after, Some(1));
        assert!(problem.detail.contains("seq 4") && problem.detail.contains("seq 9"));
        let body = serde_json::to_value(&problem).unwrap();
        assert_eq!(body["head"], 4);
    }
}
