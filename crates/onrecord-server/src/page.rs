//! The web page for the desk: the shell at `GET /` with its script and
//! stylesheet (no token needed: they hold no ledger data), and the small
//! `/v1` reads the page needs besides the report: who the token is
//! (`whoami`), the lexicon's stance suggestion for a quote (`stance`), and the
//! parties and propositions its form offers.
//!
//! The page asks for a token once, keeps it in `sessionStorage` and sends it
//! as `Authorization: Bearer` (never in a URL); it renders nothing itself but
//! the form: the report is `GET /v1/report`, refreshed whenever the live
//! tail brings an event. A strict Content-Security-Policy allows only the
//! page's own script, stylesheet and requests, so even markup that escaped
//! the renderer could run nothing.

use std::sync::OnceLock;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use onrecord_core::Stance;
use onrecord_core::lexicon::suggest;
use onrecord_ledger::access::Role;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::problem::Problem;

/// The page's script, served as `/app.js`.
const APP_JS: &str = include_str!("page/app.js");
/// The page's own styles; the report's come first (`onrecord_report::REPORT_STYLE`).
const PAGE_CSS: &str = include_str!("page/page.css");
/// The page's markup, with `{{STANCES}}` where the stance options go.
const PAGE_HTML: &str = include_str!("page/index.html");

/// The page's policy: its own script, styles and requests only; no frames, no forms posted by the browser.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The longest quote the stance route looks at, in bytes (longer text is cut).
const MAX_STANCE_TEXT: usize = 4096;

/// `text` as a response of `content_type`, with the page's security headers.
fn page_response(content_type: &'static str, text: &'static str) -> Response {
    let mut response = ([(header::CONTENT_TYPE, content_type)], text).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// The stance options of the form: the seven bands, least likely first, then `declined`.
fn stance_options() -> String {
    Stance::ALL
        .iter()
        .map(|s| {
            let label = match s.band() {
                Some((low, high)) => format!(
                    "{} ({}\u{2013}{} %)",
                    s.name(),
                    (low * 100.0).round(),
                    (high * 100.0).round()
                ),
                None => format!("{} (no position)", s.name()),
            };
            format!("<option value=\"{}\">{label}</option>", s.name())
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `GET /`: the page shell (no ledger data; no token needed).
#[utoipa::path(get, path = "/", tag = "page",
    responses((status = 200, description = "The web page: asks for a token, then shows the live report and, for the append role, a form to record a statement", content_type = "text/html")))]
pub(crate) async fn index() -> Response {
    static PAGE: OnceLock<String> = OnceLock::new();
    let page = PAGE.get_or_init(|| PAGE_HTML.replace("{{STANCES}}", &stance_options()));
    page_response("text/html; charset=utf-8", page.as_str())
}

/// `GET /app.js`: the page's script.
#[utoipa::path(get, path = "/app.js", tag = "page",
    responses((status = 200, description = "The page's script", content_type = "text/javascript")))]
pub(crate) async fn app_js() -> Response {
    page_response("text/javascript; charset=utf-8", APP_JS)
}

/// `GET /app.css`: the page's stylesheet (the report's, then the page's own).
#[utoipa::path(get, path = "/app.css", tag = "page",
    responses((status = 200, description = "The page's stylesheet", content_type = "text/css")))]
pub(crate) async fn app_css() -> Response {
    static CSS: OnceLock<String> = OnceLock::new();
    let css = CSS.get_or_init(|| format!("{}\n{PAGE_CSS}", onrecord_report::REPORT_STYLE));
    page_response("text/css; charset=utf-8", css.as_str())
}

/// Who a token belongs to: never its secret.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct WhoamiJson {
    /// The token's public id.
    id: String,
    /// Who or what the token is for.
    name: String,
    /// `read`, `append` or `admin`.
    role: &'static str,
}

/// `GET /v1/whoami`: the caller's token id, name and role (any role).
#[utoipa::path(get, path = "/v1/whoami", tag = "meta",
    responses((status = 200, body = WhoamiJson),
        (status = 401, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(crate) async fn whoami(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<WhoamiJson>, Problem> {
    let caller = state.authorize(&headers, Role::Read)?;
    Ok(Json(WhoamiJson {
        id: caller.token_id,
        name: caller.name,
        role: caller.role.name(),
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct StanceParams {
    /// The quote or phrase to read.
    text: Option<String>,
}

/// A band's inclusive ends.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct BandJson {
    /// The lowest credence of the band.
    low: f64,
    /// The highest credence of the band.
    high: f64,
}

/// The lexicon's suggestion for a phrase, as `onrecord stance --json` prints
/// it (`text` for its `phrase`); all but `text` are null when no cue is found.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct StanceJson {
    /// The phrase read.
    text: String,
    /// The suggested stance.
    stance: Option<&'static str>,
    /// The matched cue, as the lexicon writes it.
    cue: Option<&'static str>,
    /// Where the cue comes from (`icd-203`, `kent`, `official`).
    origin: Option<&'static str>,
    /// Whether a negator turned the cue around.
    negated: Option<bool>,
    /// The words of the phrase that matched.
    matched: Option<String>,
    /// The suggested stance's band.
    band: Option<BandJson>,
    /// The band's midpoint.
    midpoint: Option<f64>,
}

/// `GET /v1/stance?text=...`: which stance band the lexicon suggests for a
/// quote (the same lexicon as `onrecord stance`); a suggestion only.
#[utoipa::path(get, path = "/v1/stance", tag = "queries", params(StanceParams),
    responses((status = 200, body = StanceJson),
        (status = 401, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(crate) async fn stance(
    State(state): State<AppState>,
    Query(params): Query<StanceParams>,
    headers: HeaderMap,
) -> Result<Json<StanceJson>, Problem> {
    state.authorize(&headers, Role::Read)?;
    let mut text = params.text.unwrap_or_default();
    if text.len() > MAX_STANCE_TEXT {
        let mut end = MAX_STANCE_TEXT;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    let found = suggest(&text);
    Ok(Json(match found {
        Some(s) => StanceJson {
            text,
            stance: Some(s.stance.name()),
            cue: Some(s.cue),
            origin: Some(s.origin.name()),
            negated: Some(s.negated),
            matched: Some(s.matched),
            band: s.stance.band().map(|(low, high)| BandJson { low, high }),
            midpoint: s.stance.midpoint(),
        },
        None => StanceJson {
            text,
            stance: None,
            cue: None,
            origin: None,
            negated: None,
            matched: None,
            band: None,
            midpoint: None,
        },
    }))
}

/// A registered party, as the page's form offers it.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct PartyJson {
    /// The party's id.
    id: String,
    /// Its display name.
    name: String,
    /// `person`, `organization` or `government`.
    kind: &'static str,
    /// The party its statements speak for by default, if any.
    speaks_for: Option<String>,
    /// Other names it goes by in text (what `extract` matches speakers by).
    aliases: Vec<String>,
}

/// `GET /v1/parties`: every registered party, in id order.
#[utoipa::path(get, path = "/v1/parties", tag = "queries",
    responses((status = 200, body = Vec<PartyJson>),
        (status = 401, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(crate) async fn parties(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Vec<PartyJson>>, Problem> {
    state.authorize(&headers, Role::Read)?;
    let parties = crate::routes::blocking(&state.ledger, |l| l.parties()).await?;
    Ok(Json(
        parties
            .into_iter()
            .map(|p| PartyJson {
                id: p.id.as_str().to_owned(),
                name: p.name,
                kind: p.kind.name(),
                speaks_for: p.speaks_for.map(|s| s.as_str().to_owned()),
                aliases: p.aliases,
            })
            .collect(),
    ))
}

/// An opened proposition, as the page's form offers it.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct PropositionJson {
    /// The proposition's id.
    id: String,
    /// What would happen, in one sentence.
    text: String,
}

/// `GET /v1/propositions`: every opened proposition, in id order.
#[utoipa::path(get, path = "/v1/propositions", tag = "queries",
    responses((status = 200, body = Vec<PropositionJson>),
        (status = 401, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(crate) async fn propositions(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Vec<PropositionJson>>, Problem> {
    state.authorize(&headers, Role::Read)?;
    let opened = crate::routes::blocking(&state.ledger, |l| {
        let mut out = Vec::new();
        for id in l.proposition_ids()? {
            if let Some(p) = l.proposition_opened(&id)? {
                out.push(PropositionJson {
                    id: p.id.as_str().to_owned(),
                    text: p.text,
                });
            }
        }
        Ok(out)
    })
    .await?;
    Ok(Json(opened))
}

/// `GET /v1/propositions/{proposition}`: one opened proposition; 404 naming the closest known ids.
#[utoipa::path(get, path = "/v1/propositions/{proposition}", tag = "queries",
    params(("proposition" = String, Path, description = "The proposition id")),
    responses((status = 200, body = PropositionJson),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown proposition (with the closest known ids)", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(crate) async fn proposition(
    State(state): State<AppState>,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: HeaderMap,
) -> Result<Json<PropositionJson>, Problem> {
    state.authorize(&headers, Role::Read)?;
    let id = onrecord_core::PropositionId::new(&id).map_err(|e| Problem::invalid(e.to_string()))?;
    let ledger = std::sync::Arc::clone(&state.ledger);
    let opened = tokio::task::spawn_blocking(move || {
        onrecord_ledger::query::known_proposition(&*ledger, &id)
    })
    .await
    .map_err(|_| Problem::unavailable("the server is stopping"))?
    .map_err(Problem::from)?;
    Ok(Json(PropositionJson {
        id: opened.id.as_str().to_owned(),
        text: opened.text,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_offers_the_seven_bands_then_declined() {
        let options = stance_options();
        let values: Vec<&str> = options
            .lines()
            .map(|l| l.split('"').nth(1).unwrap())
            .collect();
        assert_eq!(
            values,
            [
                "almost-no-chance",
                "very-unlikely",
                "unlikely",
                "even-chance",
                "likely",
                "very-likely",
                "almost-certain",
                "declined"
            ]
        );
        assert!(options.contains(">likely (55\u{2013}80 %)<"), "{options}");
    }

    #[test]
    fn the_shell_holds_no_inline_script_and_names_its_own_files() {
        assert!(PAGE_HTML.contains("<script src=\"/app.js\" defer></script>"));
        assert_eq!(PAGE_HTML.matches("<script").count(), 1);
        assert!(!PAGE_HTML.contains("onclick=") && !PAGE_HTML.contains("onsubmit="));
        assert!(PAGE_HTML.contains("{{STANCES}}"));
        assert!(CONTENT_SECURITY_POLICY.contains("script-src 'self';"));
    }
}
