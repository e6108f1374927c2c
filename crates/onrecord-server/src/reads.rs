//! The query routes: positions, history, contradictions, scores, calibration
//! and stats, answered by the engine's query API (`Ledger::query`) on the
//! blocking pool, in the CLI's JSON shapes (`onrecord-wire`), with the CLI's
//! time-travel vocabulary as query parameters (`as_of`, `known_at`,
//! `at_seq`, `party`); and the report, rendered by `onrecord-report` as
//! `onrecord report` renders it. No read model or markup is assembled here.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use onrecord_core::{PartyId, PropositionId, TimeBound};
use onrecord_ledger::access::Role;
use onrecord_ledger::query::{
    CalibrationQuery, ChartQuery, ContradictionsQuery, HistoryQuery, PositionsQuery, ReportQuery,
    ScoresQuery, StatsQuery,
};
use onrecord_ledger::{Ledger, QueryError};
use onrecord_projections::Filter;
use onrecord_wire::{
    CalibrationRowJson, ContradictionJson, HistoryEntryJson, PropositionPositionsJson, ScoresJson,
    StatsJson,
};
use serde::Deserialize;

use crate::AppState;
use crate::problem::Problem;

/// The query parameters every read takes (all optional).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ReadParams {
    /// Valid time: statements said at or before (a date means its end, UTC).
    as_of: Option<String>,
    /// Transaction time: what the ledger knew then.
    known_at: Option<String>,
    /// Only events up to this seq.
    at_seq: Option<u64>,
    /// Only this party's positions or statements.
    party: Option<String>,
}

/// The time filter of `as_of`, `known_at` and `at_seq` query parameters.
fn filter_of(
    as_of: &Option<String>,
    known_at: &Option<String>,
    at_seq: Option<u64>,
) -> Result<Filter, Problem> {
    let bound = |name: &str, s: &Option<String>| -> Result<Option<TimeBound>, Problem> {
        s.as_deref()
            .map(|v| {
                v.parse::<TimeBound>()
                    .map_err(|e| Problem::invalid(format!("{name}: {e}")))
            })
            .transpose()
    };
    Ok(Filter {
        as_of: bound("as_of", as_of)?,
        known_at: bound("known_at", known_at)?,
        at_seq,
    })
}

impl ReadParams {
    fn filter(&self) -> Result<Filter, Problem> {
        filter_of(&self.as_of, &self.known_at, self.at_seq)
    }

    fn party(&self) -> Result<Option<PartyId>, Problem> {
        self.party
            .as_deref()
            .map(|p| PartyId::new(p).map_err(|e| Problem::invalid(e.to_string())))
            .transpose()
    }
}

fn proposition(id: &str) -> Result<PropositionId, Problem> {
    PropositionId::new(id).map_err(|e| Problem::invalid(e.to_string()))
}

/// Runs a query on the blocking pool.
async fn ask<T: Send + 'static>(
    state: &AppState,
    headers: &HeaderMap,
    query: impl FnOnce(&Ledger) -> Result<T, QueryError> + Send + 'static,
) -> Result<T, Problem> {
    state.authorize(headers, Role::Read)?;
    let ledger = Arc::clone(&state.ledger);
    tokio::task::spawn_blocking(move || query(&ledger))
        .await
        .map_err(|_| Problem::unavailable("the server is stopping"))?
        .map_err(Problem::from)
}

/// `GET /v1/positions`: every proposition's current (or past) positions.
#[utoipa::path(get, path = "/v1/positions", tag = "queries", params(ReadParams),
    responses((status = 200, body = Vec<PropositionPositionsJson>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown proposition or party (with the closest known ids)", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(crate) async fn positions_all(
    State(state): State<AppState>,
    Query(params): Query<ReadParams>,
    headers: HeaderMap,
) -> Result<Json<Vec<PropositionPositionsJson>>, Problem> {
    let request = PositionsQuery {
        proposition: None,
        party: params.party()?,
        filter: params.filter()?,
    };
    let views = ask(&state, &headers, move |l| l.query(&request)).await?;
    Ok(Json(
        views
            .iter()
            .map(PropositionPositionsJson::from_view)
            .collect(),
    ))
}

/// `GET /v1/positions/{proposition}`: one proposition's positions (as `positions P --json`).
#[utoipa::path(get, path = "/v1/positions/{proposition}", tag = "queries", params(("proposition" = String, Path, description = "The proposition id"), ReadParams),
    responses((status = 200, body = PropositionPositionsJson),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown proposition or party (with the closest known ids)", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(crate) async fn positions_one(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(params): Query<ReadParams>,
    headers: HeaderMap,
) -> Result<Json<PropositionPositionsJson>, Problem> {
    let request = PositionsQuery {
        proposition: Some(proposition(&id)?),
        party: params.party()?,
        filter: params.filter()?,
    };
    let views = ask(&state, &headers, move |l| l.query(&request)).await?;
    views
        .first()
        .map(|v| Json(PropositionPositionsJson::from_view(v)))
        .ok_or_else(|| Problem::not_found(format!("no positions on `{id}`")))
}

/// `GET /v1/propositions/{proposition}/chart.svg`: its credence chart, as `onrecord chart` writes it.
#[utoipa::path(get, path = "/v1/propositions/{proposition}/chart.svg", tag = "queries", params(("proposition" = String, Path, description = "The proposition id"), ReadParams),
    responses((status = 200, description = "The chart", content_type = "image/svg+xml", body = String),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown proposition (with the closest known ids)", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(crate) async fn chart(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(params): Query<ReadParams>,
    headers: HeaderMap,
) -> Result<axum::response::Response, Problem> {
    use axum::response::IntoResponse;
    let request = ChartQuery {
        proposition: proposition(&id)?,
        filter: params.filter()?,
    };
    let input = ask(&state, &headers, move |l| l.query(&request)).await?;
    let svg = onrecord_report::credence_chart_svg(&input);
    Ok(([(axum::http::header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}

/// `GET /v1/propositions/{proposition}/history`: every statement, in the order said.
#[utoipa::path(get, path = "/v1/propositions/{proposition}/history", tag = "queries", params(("proposition" = String, Path, description = "The proposition id"), ReadParams),
    responses((status = 200, body = Vec<HistoryEntryJson>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown proposition or party (with the closest known ids)", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(crate) async fn history(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(params): Query<ReadParams>,
    headers: HeaderMap,
) -> Result<Json<Vec<HistoryEntryJson>>, Problem> {
    let request = HistoryQuery {
        proposition: proposition(&id)?,
        party: params.party()?,
        filter: params.filter()?,
    };
    let entries = ask(&state, &headers, move |l| l.query(&request)).await?;
    Ok(Json(entries.iter().map(HistoryEntryJson::from).collect()))
}

/// `GET /v1/contradictions`: pairs of parties on opposite sides of even.
#[utoipa::path(get, path = "/v1/contradictions", tag = "queries", params(ReadParams),
    responses((status = 200, body = Vec<ContradictionJson>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown proposition or party (with the closest known ids)", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(crate) async fn contradictions(
    State(state): State<AppState>,
    Query(params): Query<ReadParams>,
    headers: HeaderMap,
) -> Result<Json<Vec<ContradictionJson>>, Problem> {
    let request = ContradictionsQuery {
        filter: params.filter()?,
    };
    let pairs = ask(&state, &headers, move |l| l.query(&request)).await?;
    Ok(Json(pairs.iter().map(ContradictionJson::from).collect()))
}

/// `GET /v1/scores`: scores of resolved propositions, per party.
#[utoipa::path(get, path = "/v1/scores", tag = "queries", params(ReadParams),
    responses((status = 200, body = ScoresJson),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown proposition or party (with the closest known ids)", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(crate) async fn scores(
    State(state): State<AppState>,
    Query(params): Query<ReadParams>,
    headers: HeaderMap,
) -> Result<Json<ScoresJson>, Problem> {
    let request = ScoresQuery {
        filter: params.filter()?,
    };
    let report = ask(&state, &headers, move |l| l.query(&request)).await?;
    Ok(Json(ScoresJson::from_report(&report)))
}

/// `GET /v1/calibration`: per stance band, how often what was said happened.
#[utoipa::path(get, path = "/v1/calibration", tag = "queries", params(ReadParams),
    responses((status = 200, body = Vec<CalibrationRowJson>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown proposition or party (with the closest known ids)", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(crate) async fn calibration(
    State(state): State<AppState>,
    Query(params): Query<ReadParams>,
    headers: HeaderMap,
) -> Result<Json<Vec<CalibrationRowJson>>, Problem> {
    let request = CalibrationQuery {
        filter: params.filter()?,
    };
    let rows = ask(&state, &headers, move |l| l.query(&request)).await?;
    Ok(Json(rows.iter().map(CalibrationRowJson::from).collect()))
}

/// `GET /v1/stats`: what the ledger holds.
#[utoipa::path(get, path = "/v1/stats", tag = "queries",
    responses((status = 200, body = StatsJson)),
    security(("bearer" = [])))]
pub(crate) async fn stats(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<StatsJson>, Problem> {
    let stats = ask(&state, &headers, |l| l.query(&StatsQuery)).await?;
    Ok(Json(StatsJson::from_stats(&stats)))
}

/// The query parameters of the report (all optional): its time filter.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ReportParams {
    /// Valid time: statements said at or before (a date means its end, UTC).
    as_of: Option<String>,
    /// Transaction time: what the ledger knew then.
    known_at: Option<String>,
    /// Only events up to this seq.
    at_seq: Option<u64>,
}

impl ReportParams {
    /// The line under the report's title, as `onrecord report` writes it.
    fn caption(&self, head: u64) -> String {
        let mut view = Vec::new();
        if let Some(w) = &self.as_of {
            view.push(format!("as of {w}"));
        }
        if let Some(w) = &self.known_at {
            view.push(format!("as known at {w}"));
        }
        if let Some(n) = self.at_seq {
            view.push(format!("up to seq {n}"));
        }
        match view.is_empty() {
            true => format!("{head} events in the ledger."),
            false => format!("{head} events in the ledger; shown {}.", view.join(", ")),
        }
    }
}

/// `GET /v1/report`: the report's body (`<main class="report">`), rendered by
/// `onrecord-report` exactly as `onrecord report` renders it inside its page.
#[utoipa::path(get, path = "/v1/report", tag = "queries", params(ReportParams),
    responses((status = 200, description = "The report's body as an HTML fragment (one <main class=\"report\"> element)", content_type = "text/html"),
        (status = 400, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(crate) async fn report(
    State(state): State<AppState>,
    Query(params): Query<ReportParams>,
    headers: HeaderMap,
) -> Result<axum::response::Response, Problem> {
    use axum::response::IntoResponse;
    let filter = filter_of(&params.as_of, &params.known_at, params.at_seq)?;
    let body = ask(&state, &headers, move |l| {
        let caption = params.caption(l.head().seq);
        let input = l.query(&ReportQuery {
            filter,
            caption: Some(caption),
        })?;
        Ok(onrecord_report::report_body_html(&input))
    })
    .await?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (axum::http::header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response())
}
