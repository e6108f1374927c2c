//! Errors as RFC 9457 `application/problem+json`: the one place that maps
//! the engine's error kinds (and the server's own refusals) to HTTP statuses
//! and stable problem types. Handlers return [`Problem`]; nothing else here.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use onrecord_ledger::{ErrorKind, QueryError, StoreError};
use serde::Serialize;

/// The prefix of every problem type this server returns.
pub const PROBLEM_TYPE_PREFIX: &str = "urn:onrecord:problem:";

/// One refused item of a batch.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ItemProblem {
    /// Its index in the batch, from 0.
    pub index: usize,
    /// The problem type of that item.
    #[serde(rename = "type")]
    pub kind: String,
    /// What is wrong with it, naming the value.
    pub detail: String,
}

/// An RFC 9457 problem document, with its status.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A stable URI naming the kind of problem (`urn:onrecord:problem:conflict`).
    #[serde(rename = "type")]
    pub kind: String,
    /// A short, fixed summary of the kind.
    pub title: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong here, in one line naming the value.
    pub detail: String,
    /// For a batch: every refused item, by index.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ItemProblem>,
    /// For `behind`: the seq this server's ledger has (short of the
    /// `Onrecord-Min-Seq` asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head: Option<u64>,
    /// Seconds to wait before retrying (also sent as `Retry-After`; `u32`
    /// keeps a problem small enough to return by value).
    #[serde(skip)]
    pub retry_after: Option<u32>,
    /// Whether to send `WWW-Authenticate: Bearer` (a 401).
    #[serde(skip)]
    pub www_authenticate: bool,
}

/// The status, type name and title of an engine error kind.
fn of_kind(kind: ErrorKind) -> (StatusCode, &'static str, &'static str) {
    match kind {
        ErrorKind::Invalid => (StatusCode::BAD_REQUEST, "invalid", "Invalid request"),
        ErrorKind::NotFound => (StatusCode::NOT_FOUND, "not-found", "Not found"),
        ErrorKind::Conflict => (StatusCode::CONFLICT, "conflict", "Conflict"),
        ErrorKind::Busy => (StatusCode::SERVICE_UNAVAILABLE, "busy", "Busy"),
        ErrorKind::Damaged => (StatusCode::SERVICE_UNAVAILABLE, "damaged", "Ledger damaged"),
        ErrorKind::Storage => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "storage",
            "Storage failure",
        ),
        ErrorKind::Unavailable => (
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Unavailable",
        ),
    }
}

impl Problem {
    /// A problem of `status` with the type name `name`.
    pub fn new(
        status: StatusCode,
        name: &str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            kind: format!("{PROBLEM_TYPE_PREFIX}{name}"),
            title,
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
            head: None,
            retry_after: None,
            www_authenticate: false,
        }
    }

    /// Bad input the server refused before the engine saw it (400 invalid).
    pub fn invalid(detail: impl Into<String>) -> Self {
        let (status, name, title) = of_kind(ErrorKind::Invalid);
        Self::new(status, name, title, detail)
    }

    /// Something asked for that is not there (404 not-found).
    pub fn not_found(detail: impl Into<String>) -> Self {
        let (status, name, title) = of_kind(ErrorKind::NotFound);
        Self::new(status, name, title, detail)
    }

    /// The server is stopping or its writer is gone (503 unavailable).
    pub fn unavailable(detail: impl Into<String>) -> Self {
        let (status, name, title) = of_kind(ErrorKind::Unavailable);
        let mut problem = Self::new(status, name, title, detail);
        problem.retry_after = Some(1);
        problem
    }
}

impl Problem {
    /// A read asked for seq `wanted` (`Onrecord-Min-Seq`) and this server's
    /// ledger had only `head` after waiting `waited` (503 behind, with
    /// `Retry-After` and the seq it has in `head`).
    pub fn behind(wanted: u64, head: u64, waited: std::time::Duration) -> Self {
        let mut problem = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "behind",
            "Behind",
            format!(
                "this server has the ledger up to seq {head}, not yet seq {wanted} \
                 (Onrecord-Min-Seq), after waiting {} ms; retry, or ask another server",
                waited.as_millis()
            ),
        );
        problem.head = Some(head);
        problem.retry_after = Some(1);
        problem
    }
}

impl From<StoreError> for Problem {
    fn from(e: StoreError) -> Self {
        let (status, name, title) = of_kind(e.kind());
        let mut problem = Problem::new(status, name, title, e.to_string());
        if let StoreError::DiskFull(_) = e {
            problem.status = StatusCode::INSUFFICIENT_STORAGE.as_u16();
        }
        if matches!(e.kind(), ErrorKind::Busy | ErrorKind::Unavailable) {
            problem.retry_after = Some(1);
        }
        if let StoreError::BatchRejected(errors) = e {
            problem.errors = errors
                .into_iter()
                .map(|(index, e)| ItemProblem {
                    index,
                    kind: format!("{PROBLEM_TYPE_PREFIX}{}", of_kind(e.kind()).1),
                    detail: e.to_string(),
                })
                .collect();
        }
        problem
    }
}

impl From<QueryError> for Problem {
    /// An unknown id in a query is a 404 naming the closest known ids.
    fn from(e: QueryError) -> Self {
        match e {
            QueryError::Store(e) => e.into(),
            QueryError::Unknown { kind, id, near } => Problem::not_found(format!(
                "unknown {kind} `{id}`{}",
                onrecord_core::similar::did_you_mean_suffix(&near)
            )),
            other @ QueryError::NotYetRecorded { .. } => Problem::not_found(other.to_string()),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.www_authenticate {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"onrecord\""),
            );
        }
        response
    }
}
