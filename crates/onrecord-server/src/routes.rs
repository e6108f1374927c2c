//! The `/v1` routes (and the web page's, from [`crate::page`]): parsing a
//! request into engine calls and the answer into JSON. Reads run on tokio's blocking pool (the engine is synchronous);
//! appends go to the writer. Error statuses come from [`crate::problem`] only.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event as SseEvent, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::StreamExt;
use onrecord_core::{EventId, Recorded, Recorder, parse_line, write_line};
use onrecord_ledger::access::Role;
use onrecord_ledger::{AppendOutcome, AppendRequest, ExpectedRevision, Ledger, StoreError};
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::token_json;
use crate::page;
use crate::problem::Problem;
use crate::reads;
use crate::tail::{TailGuard, TailItem, tail};
use crate::writer::WriteJob;
use onrecord_wire::{AppendedJson, BulkAppendedJson, HeadJson};

/// The OpenAPI document's frame: title, version and the bearer scheme.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "onrecord",
        description = "One statement ledger over HTTP: append, query, tail (docs/server.md)."
    ),
    modifiers(&BearerScheme)
)]
struct ApiDoc;

/// Adds the `bearer` security scheme (`Authorization: Bearer onr_...`).
struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Every route with its OpenAPI description, registered together so that
/// the document and the routes cannot drift; plus `/v1/openapi.json`.
pub(crate) fn router(state: AppState) -> Router {
    let max_body = state.options.max_body;
    let (router, mut api) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health))
        .routes(routes!(page::index))
        .routes(routes!(page::app_js))
        .routes(routes!(page::app_css))
        .routes(routes!(page::whoami))
        .routes(routes!(page::stance))
        .routes(routes!(page::parties))
        .routes(routes!(page::propositions))
        .routes(routes!(page::proposition))
        .routes(routes!(reads::report))
        .routes(routes!(events_tail, append))
        .routes(routes!(event_one))
        .routes(routes!(export))
        .routes(routes!(reads::positions_all))
        .routes(routes!(reads::positions_one))
        .routes(routes!(reads::history))
        .routes(routes!(reads::chart))
        .routes(routes!(reads::contradictions))
        .routes(routes!(reads::scores))
        .routes(routes!(reads::calibration))
        .routes(routes!(reads::stats))
        .routes(routes!(verify))
        .routes(routes!(tokens_list, tokens_create))
        .routes(routes!(tokens_revoke))
        .split_for_parts();
    // Once every route is in: the reads' `Onrecord-Min-Seq` and `Onrecord-Head-Seq`.
    utoipa::Modify::modify(&crate::min_seq::MinSeqDoc, &mut api);
    let document = Bytes::from(api.to_json().unwrap_or_default());
    router
        .route(
            "/v1/openapi.json",
            get(move || {
                let document = document.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], document) }
            }),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::cache::answer_cache,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::min_seq::wait_for_min_seq,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            authenticate,
        ))
        .layer(answers_compressed())
        .layer(DefaultBodyLimit::max(max_body))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(max_body))
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            state.options.request_timeout,
        ))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            state.options.request_timeout,
        ))
        .layer(axum::middleware::from_fn(problems_only))
        .layer(
            tower_http::trace::TraceLayer::new_for_http()
                .make_span_with(
                    tower_http::trace::DefaultMakeSpan::new().level(tracing::Level::INFO),
                )
                .on_response(
                    tower_http::trace::DefaultOnResponse::new()
                        .level(tracing::Level::INFO)
                        .latency_unit(tower_http::LatencyUnit::Micros),
                ),
        )
        .with_state(state)
}

/// Makes every refusal a problem document: the layers that answer before a
/// handler (body limit and body timeout, the request timeout, a malformed
/// query or path) answer with a bare status or plain text, which becomes the
/// problem of that status with the text as its detail. A route that does not
/// exist (404, 405) stays the router's own answer.
async fn problems_only(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if is_problem
        || !(status.is_client_error() || status.is_server_error())
        || status == StatusCode::NOT_FOUND
        || status == StatusCode::METHOD_NOT_ALLOWED
    {
        return response;
    }
    let text = axum::body::to_bytes(response.into_body(), 4096)
        .await
        .unwrap_or_default();
    let said = onrecord_core::error::one_line(String::from_utf8_lossy(&text).trim());
    let (name, title, default) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => (
            "too-large",
            "Too large",
            "the request body is larger than the server accepts",
        ),
        StatusCode::SERVICE_UNAVAILABLE => (
            "timeout",
            "Timed out",
            "the request took longer than the server allows; retry",
        ),
        StatusCode::REQUEST_TIMEOUT => (
            "timeout",
            "Timed out",
            "the request body took longer to arrive than the server allows",
        ),
        s if s.is_client_error() => ("invalid", "Invalid request", "the request is malformed"),
        _ => ("storage", "Server failure", "the server failed to answer"),
    };
    let detail = if said.is_empty() {
        default.to_owned()
    } else {
        said
    };
    Problem::new(status, name, title, detail).into_response()
}

/// Gzip for answers a client accepts it for, except streams read as they
/// come (the live tail and export as JSON Lines, Server-Sent Events), where
/// a compressor would hold events back until its buffer fills.
fn answers_compressed() -> tower_http::compression::CompressionLayer<
    tower_http::compression::predicate::And<
        tower_http::compression::DefaultPredicate,
        tower_http::compression::predicate::NotForContentType,
    >,
> {
    use tower_http::compression::predicate::{NotForContentType, Predicate};
    tower_http::compression::CompressionLayer::new().compress_when(
        tower_http::compression::DefaultPredicate::new()
            .and(NotForContentType::const_new("application/x-ndjson")),
    )
}

/// The routes anyone may call: health, the API document, and the web page's
/// shell, script and stylesheet (which hold no ledger data).
pub(crate) const PUBLIC: [&str; 5] = ["/v1/health", "/v1/openapi.json", "/", "/app.js", "/app.css"];

/// Refuses any request without a valid token (401) before a handler or an
/// extractor looks at it, so nothing about a route (its parameters, its
/// body's format) is told to a caller without one. Handlers then check the
/// role their route needs (403).
async fn authenticate(
    State(state): State<AppState>,
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    // A request on the ledger's own socket acts as its local user (see `local`).
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<crate::local::LocalPeer>>()
        .map(|info| info.0.user.clone());
    if let Some(user) = peer {
        match state
            .access
            .local_token(&user, onrecord_ledger::system_clock())
        {
            Ok(token) => match axum::http::HeaderValue::from_str(&format!("Bearer {token}")) {
                Ok(value) => {
                    request.headers_mut().insert(header::AUTHORIZATION, value);
                }
                Err(_) => {
                    return Problem::unavailable("cannot admit the local user").into_response();
                }
            },
            Err(_) => return Problem::unavailable("cannot admit the local user").into_response(),
        }
    }
    if !PUBLIC.contains(&request.uri().path()) {
        let caller = match state.authorize(request.headers(), Role::Read) {
            Ok(caller) => caller,
            Err(problem) => return problem.into_response(),
        };
        if let Err(wait) = state
            .limits
            .admit(&caller.token_id, std::time::Instant::now())
        {
            let mut problem = Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "Too many requests",
                format!(
                    "token `{}` made more than {} requests a second",
                    caller.token_id, state.options.rate_per_token
                ),
            );
            problem.retry_after = Some(u32::try_from(wait.as_secs().max(1)).unwrap_or(u32::MAX));
            return problem.into_response();
        }
    }
    next.run(request).await
}

/// Runs `read` on the blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    ledger: &Arc<Ledger>,
    read: impl FnOnce(&Ledger) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, Problem> {
    let ledger = Arc::clone(ledger);
    tokio::task::spawn_blocking(move || read(&ledger))
        .await
        .map_err(|_| Problem::unavailable("the server is stopping"))?
        .map_err(Problem::from)
}

/// A JSON line the engine wrote (`export`'s format), as a response body.
fn json_line(line: String) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], line).into_response()
}

/// The server is up.
#[derive(Serialize, utoipa::ToSchema)]
struct Health {
    /// Always `ok`.
    status: &'static str,
    /// The durable head seq.
    head: u64,
}

/// `GET /v1/health`: up, and the durable head seq (no token needed).
#[utoipa::path(get, path = "/v1/health", tag = "meta",
    responses((status = 200, description = "Up", body = Health)))]
async fn health(State(state): State<AppState>) -> Json<Health> {
    Json(Health {
        status: "ok",
        head: *state.head.borrow(),
    })
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct AppendParams {
    /// The expected revision of a single event's stream.
    expected_revision: Option<String>,
}

/// What a batch append answers: the CLI's bulk counts plus each event's outcome.
#[derive(Serialize, utoipa::ToSchema)]
struct BatchJson {
    #[serde(flatten)]
    counts: BulkAppendedJson,
    events: Vec<AppendedJson>,
}

/// The events of an append body: one JSON object, a JSON array of them, or
/// JSON Lines (`application/x-ndjson`); and whether it was a batch.
fn events_of(headers: &HeaderMap, body: &[u8]) -> Result<(Vec<String>, bool), Problem> {
    let text = std::str::from_utf8(body).map_err(|e| {
        Problem::invalid(format!(
            "the body is not UTF-8 (at byte {})",
            e.valid_up_to()
        ))
    })?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    if content_type.starts_with("application/x-ndjson")
        || content_type.starts_with("application/jsonl")
    {
        let lines: Vec<String> = text
            .lines()
            .map(|l| l.trim_end_matches('\r'))
            .filter(|l| !l.trim().is_empty())
            .map(str::to_owned)
            .collect();
        return Ok((lines, true));
    }
    match text.trim_start().as_bytes().first() {
        Some(b'[') => {
            let items: Vec<serde_json::Value> = serde_json::from_str(text)
                .map_err(|e| Problem::invalid(format!("malformed JSON array: {e}")))?;
            Ok((items.iter().map(|v| v.to_string()).collect(), true))
        }
        Some(_) => Ok((vec![text.to_owned()], false)),
        None => Err(Problem::invalid(
            "the body is empty: send an event, a JSON array or JSON Lines",
        )),
    }
}

/// What `caller`'s appends are recorded by: its token's name. A token whose
/// name cannot be recorded (made before names were checked) may not append.
fn recorder_of(caller: &crate::auth::Caller) -> Result<Recorder, Problem> {
    Recorder::new(caller.name.as_str()).map_err(|e| {
        Problem::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Forbidden",
            format!(
                "token `{}` cannot append: its name cannot be recorded ({e}); make a new token",
                caller.token_id
            ),
        )
    })
}

/// Who an event sent by `caller` is recorded by: the token's name, or the
/// line's own `recorded_by` when an admin token sends it (a restore keeps
/// who recorded each event). Any other token naming someone else is refused,
/// naming the value.
fn recorded_by(
    caller: &crate::auth::Caller,
    token_recorder: &Recorder,
    given: Option<Recorder>,
) -> Result<Recorder, String> {
    match given {
        None => Ok(token_recorder.clone()),
        Some(given) if caller.role == Role::Admin || given == *token_recorder => Ok(given),
        Some(given) => Err(format!(
            "recorded_by `{given}` is not this token's name `{token_recorder}`: only an admin token may append events recorded by someone else"
        )),
    }
}

/// `POST /v1/events`: append one event or a batch, all or nothing; answered
/// once durable.
#[utoipa::path(post, path = "/v1/events", tag = "events", params(AppendParams),
    request_body(content = String, description = "One event (a JSON object), a JSON array of them, or JSON Lines (application/x-ndjson), in the JSON Lines shape of docs/event-schema.md. Each event is recorded by the token's name (`recorded_by`); an event's own `recorded_by` is kept only when an admin token sends it (a restore), and from any other token must be absent or the token's name (else 400, nothing written)",
        content_type = "application/json"),
    responses(
        (status = 201, description = "Appended (a batch answers BatchJson)", body = AppendedJson),
        (status = 200, description = "Already recorded with the same content", body = AppendedJson),
        (status = 400, description = "Invalid; a batch lists every bad item", body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Expected revision or event id conflict", body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 503, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn append(
    State(state): State<AppState>,
    Query(params): Query<AppendParams>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let caller = state.authorize(&headers, Role::Append)?;
    let token_recorder = recorder_of(&caller)?;
    let (lines, batch) = events_of(&headers, &body)?;
    if let Some(index) = lines.iter().position(|l| l.len() > state.options.max_line) {
        return Err(Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            "Too large",
            format!(
                "event {index} is {} bytes; an event may take at most {}",
                lines[index].len(),
                state.options.max_line
            ),
        ));
    }
    if lines.len() > state.options.max_batch {
        return Err(Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            "Too large",
            format!(
                "{} events in one request; at most {} are accepted",
                lines.len(),
                state.options.max_batch
            ),
        ));
    }
    if lines.is_empty() {
        return Err(Problem::invalid("the batch holds no event"));
    }
    let expected = match params.expected_revision.as_deref() {
        Some(_) if batch => {
            return Err(Problem::invalid(
                "expected_revision applies to a single event, not a batch",
            ));
        }
        Some(s) => s
            .parse::<ExpectedRevision>()
            .map_err(|e| Problem::invalid(e.to_string()))?,
        None => ExpectedRevision::Any,
    };
    let mut requests = Vec::with_capacity(lines.len());
    let mut bad = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let recorded = parse_line(line)
            .map_err(|e| e.to_string())
            .and_then(|input| {
                let recorded_by = recorded_by(&caller, &token_recorder, input.recorded_by)?;
                Ok(AppendRequest {
                    event_id: input.event_id,
                    draft: input.draft,
                    expected,
                    recorded_by,
                })
            });
        match recorded {
            Ok(request) => requests.push(request),
            Err(detail) => bad.push(crate::problem::ItemProblem {
                index,
                kind: format!("{}invalid", crate::problem::PROBLEM_TYPE_PREFIX),
                detail,
            }),
        }
    }
    if !bad.is_empty() {
        let mut problem = Problem::invalid(match (batch, bad.len()) {
            (false, _) => bad[0].detail.clone(),
            (true, n) => format!("{n} event(s) of the batch are malformed; nothing was written"),
        });
        if batch {
            problem.errors = bad;
        }
        return Err(problem);
    }
    let (reply, answer) = oneshot::channel();
    state
        .jobs
        .try_send(WriteJob { requests, reply })
        .map_err(|_| Problem::unavailable("too many appends are waiting; retry shortly"))?;
    let outcomes = match answer.await {
        Ok(result) => result,
        Err(_) => return Err(Problem::unavailable("the server is stopping")),
    };
    let outcomes = match (outcomes, batch) {
        (Ok(o), _) => o,
        // A single event's refusal is that event's error, not a batch's.
        (Err(StoreError::BatchRejected(mut errors)), false) if errors.len() == 1 => {
            return Err(errors.remove(0).1.into());
        }
        (Err(e), _) => return Err(e.into()),
    };
    let appended = outcomes
        .iter()
        .filter(|o| matches!(o, AppendOutcome::Appended { .. }))
        .count() as u64;
    let status = if appended > 0 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    if !batch {
        return Ok((status, Json(AppendedJson::from_outcome(&outcomes[0]))).into_response());
    }
    let counts = onrecord_ledger::ImportCounts {
        appended,
        already_recorded: outcomes.len() as u64 - appended,
    };
    Ok((
        status,
        Json(BatchJson {
            counts: BulkAppendedJson::from_counts(&counts),
            events: outcomes.iter().map(AppendedJson::from_outcome).collect(),
        }),
    )
        .into_response())
}

/// `GET /v1/events/{seq}` or `GET /v1/events/{event_id}`: one event, as `export` writes it.
#[utoipa::path(get, path = "/v1/events/{key}", tag = "events",
    params(("key" = String, Path, description = "A seq or an event id")),
    responses(
        (status = 200, description = "The event, as one export line (`recorded_by`, who appended it, present unless it was recorded before envelope version 2)", content_type = "application/json"),
        (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn event_one(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    state.authorize(&headers, Role::Read)?;
    let found: Option<Recorded> = if let Ok(seq) = key.parse::<u64>() {
        blocking(&state.ledger, move |l| l.get(seq)).await?
    } else if let Ok(id) = key.parse::<EventId>() {
        blocking(&state.ledger, move |l| l.get_by_id(&id)).await?
    } else {
        return Err(Problem::invalid(format!(
            "`{key}` is neither a seq nor an event id"
        )));
    };
    match found {
        Some(record) => Ok(json_line(write_line(&record))),
        None => Err(Problem::not_found(format!(
            "no event `{key}` in the ledger"
        ))),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct TailParams {
    /// The first seq to send (default 1).
    from: Option<u64>,
    /// Only events about this proposition.
    proposition: Option<String>,
    /// Only events about this party.
    party: Option<String>,
}

/// `GET /v1/events?from=SEQ`: catch-up then live, as Server-Sent Events
/// (`id:` is the seq; `Last-Event-ID` resumes after it) or, with `Accept:
/// application/x-ndjson`, as typed JSON lines.
#[utoipa::path(get, path = "/v1/events", tag = "events", params(TailParams),
    responses((status = 200, description = "Catch-up, a caught-up marker, then live events, as text/event-stream or application/x-ndjson"),
        (status = 401, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn events_tail(
    State(state): State<AppState>,
    Query(params): Query<TailParams>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let caller = state.authorize(&headers, Role::Read)?;
    let slot = state.limits.open_tail(&caller.token_id).ok_or_else(|| {
        let mut problem = Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too-many-tails",
            "Too many live tails",
            format!(
                "token `{}` already holds {} live tails open",
                caller.token_id, state.options.max_tails_per_token
            ),
        );
        problem.retry_after = Some(1);
        problem
    })?;
    let resumed = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|seq| seq + 1);
    let from = resumed.or(params.from).unwrap_or(1);
    let mut filter = crate::tail::TailFilter::default();
    if let Some(p) = params.proposition.as_deref() {
        let id =
            onrecord_core::PropositionId::new(p).map_err(|e| Problem::invalid(e.to_string()))?;
        filter
            .streams
            .push(onrecord_core::StreamId::Proposition(id));
    }
    if let Some(p) = params.party.as_deref() {
        let id = onrecord_core::PartyId::new(p).map_err(|e| Problem::invalid(e.to_string()))?;
        filter.streams.push(onrecord_core::StreamId::Party(id));
    }
    let guard = TailGuard {
        access: Arc::clone(&state.access),
        token_id: caller.token_id,
        changes: state.access.changes(),
        slot,
    };
    let items = tail(
        guard,
        filter,
        Arc::clone(&state.ledger),
        state.head.clone(),
        state.stop.clone(),
        from,
        state.options.heartbeat,
    );
    let ndjson = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/x-ndjson"));
    if ndjson {
        let lines = items.map(|item| {
            item.map(|item| {
                let mut line = match item {
                    TailItem::Event(r) => {
                        format!("{{\"type\":\"event\",\"event\":{}}}", write_line(&r))
                    }
                    TailItem::CaughtUp(head) => {
                        format!("{{\"type\":\"caught-up\",\"head\":{head}}}")
                    }
                    TailItem::Heartbeat => "{\"type\":\"heartbeat\"}".to_owned(),
                };
                line.push('\n');
                Bytes::from(line)
            })
        });
        return Ok((
            [(header::CONTENT_TYPE, "application/x-ndjson")],
            Body::from_stream(lines),
        )
            .into_response());
    }
    let events = items.map(|item| {
        item.map(|item| match item {
            TailItem::Event(r) => SseEvent::default()
                .id(r.seq.to_string())
                .event("event")
                .data(write_line(&r)),
            TailItem::CaughtUp(head) => SseEvent::default()
                .event("caught-up")
                .data(format!("{{\"head\":{head}}}")),
            TailItem::Heartbeat => SseEvent::default().comment("heartbeat"),
        })
    });
    Ok(Sse::new(events).into_response())
}

/// `GET /v1/export`: every event as JSON Lines (what `append --jsonl` reads),
/// streamed and proven by the hash chain as it goes; at the first record
/// that does not check out the body is cut off, never completed.
#[utoipa::path(get, path = "/v1/export", tag = "events",
    responses((status = 200, description = "Every event as JSON Lines", content_type = "application/x-ndjson"),
        (status = 401, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn export(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, Problem> {
    state.authorize(&headers, Role::Read)?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Bytes, StoreError>>(64);
    let ledger = Arc::clone(&state.ledger);
    tokio::task::spawn_blocking(move || {
        // The store's head, which other servers on a shared ledger move too.
        let head = match ledger.current_head() {
            Ok(head) => head.seq,
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                return;
            }
        };
        for record in ledger.records_checked(1, head) {
            let chunk = record.map(|r| {
                let mut line = write_line(&r);
                line.push('\n');
                Bytes::from(line)
            });
            let failed = chunk.is_err();
            if tx.blocking_send(chunk).is_err() || failed {
                return;
            }
        }
    });
    let lines = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    Ok((
        [(header::CONTENT_TYPE, "application/x-ndjson")],
        Body::from_stream(lines),
    )
        .into_response())
}

/// What a passed verify found.
#[derive(Serialize, utoipa::ToSchema)]
struct VerifiedJson {
    /// Always `ok` (damage is a problem document).
    status: &'static str,
    /// Records checked.
    records: u64,
    /// Streams checked.
    streams: u64,
    /// The head checked against.
    head: HeadJson,
}

/// `GET /v1/verify`: the whole check `onrecord verify` makes; damage is a
/// `damaged` problem naming the first bad seq.
#[utoipa::path(get, path = "/v1/verify", tag = "admin",
    responses((status = 200, body = VerifiedJson),
        (status = 503, description = "Damaged, naming the first bad seq", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn verify(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<VerifiedJson>, Problem> {
    state.authorize(&headers, Role::Admin)?;
    let report = blocking(&state.ledger, |l| l.verify(&mut |_, _| {})).await?;
    if let Some(damage) = report.damage {
        return Err(StoreError::Damaged(damage).into());
    }
    Ok(Json(VerifiedJson {
        status: "ok",
        records: report.records,
        streams: report.streams,
        head: HeadJson {
            seq: report.head.seq,
            hash: report.head.hash_hex(),
        },
    }))
}

/// `GET /v1/tokens` (admin): every token, without secrets.
#[utoipa::path(get, path = "/v1/tokens", tag = "admin",
    responses((status = 200, body = Vec<crate::auth::TokenJson>)),
    security(("bearer" = [])))]
async fn tokens_list(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Vec<crate::auth::TokenJson>>, Problem> {
    state.authorize(&headers, Role::Admin)?;
    let tokens = blocking(&state.ledger, |l| l.tokens()).await?;
    Ok(Json(tokens.iter().map(|t| token_json(t, None)).collect()))
}

/// A token to make.
#[derive(Deserialize, utoipa::ToSchema)]
struct NewTokenJson {
    /// Who or what it is for; its appends are recorded by this name, so it
    /// must be 1-200 printable characters, not blank.
    #[schema(min_length = 1, max_length = 200)]
    name: String,
    role: String,
    /// RFC 3339 instant or date after which it stops working.
    expires_at: Option<String>,
}

/// `POST /v1/tokens` (admin): makes a token; the answer holds it, once.
#[utoipa::path(post, path = "/v1/tokens", tag = "admin", request_body = NewTokenJson,
    responses((status = 201, description = "Made; `token` is shown only here", body = crate::auth::TokenJson),
        (status = 400, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn tokens_create(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    state.authorize(&headers, Role::Admin)?;
    let request: NewTokenJson = serde_json::from_slice(&body)
        .map_err(|e| Problem::invalid(format!("malformed token request: {e}")))?;
    // A token's name is what its appends are recorded by.
    if let Err(onrecord_core::DomainError::InvalidRecorder { value, why }) =
        Recorder::new(request.name.as_str())
    {
        return Err(Problem::invalid(format!(
            "invalid token name `{}`: {why}",
            onrecord_core::error::one_line(&value)
        )));
    }
    let role = Role::parse(&request.role).ok_or_else(|| {
        Problem::invalid(format!(
            "unknown role `{}`: expected read, append or admin",
            request.role
        ))
    })?;
    let expires_at = request
        .expires_at
        .as_deref()
        .map(|s| {
            s.parse::<onrecord_core::TimeBound>()
                .map(|t| t.0)
                .map_err(|e| Problem::invalid(e.to_string()))
        })
        .transpose()?;
    let now = onrecord_ledger::system_clock();
    let made = crate::auth::new_token(&request.name, role, now, expires_at)
        .map_err(|e| Problem::unavailable(format!("no random source: {e}")))?;
    let record = made.record.clone();
    blocking(&state.ledger, move |l| l.add_token(&record)).await?;
    state.access.update(made.record.clone());
    Ok((
        StatusCode::CREATED,
        Json(token_json(&made.record, Some(made.token))),
    )
        .into_response())
}

/// `DELETE /v1/tokens/{id}` (admin): revokes a token at once, open tails included.
#[utoipa::path(delete, path = "/v1/tokens/{id}", tag = "admin",
    params(("id" = String, Path, description = "The token's id")),
    responses((status = 200, body = crate::auth::TokenJson),
        (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn tokens_revoke(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<crate::auth::TokenJson>, Problem> {
    state.authorize(&headers, Role::Admin)?;
    let now = onrecord_ledger::system_clock();
    let token = blocking(&state.ledger, move |l| l.revoke_token(&id, now)).await?;
    state.access.update(token.clone());
    Ok(Json(token_json(&token, None)))
}
