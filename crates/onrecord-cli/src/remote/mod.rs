//! The CLI as a client of `onrecord serve`: [`Remote`] sends a command's
//! request to a server (`--server URL`, or the Unix socket a local server
//! opens inside the ledger it holds) and turns its answer back into what the
//! command prints: JSON in the shapes of `onrecord-wire`, and problem
//! documents mapped to the same exit codes as on a local ledger, in one
//! place ([`Remote::refusal`]).
//!
//! The token is sent as `Authorization: Bearer` and never printed: no
//! message here repeats a request's headers. Nothing here reads or writes a
//! ledger.

pub mod unix;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use onrecord_core::{Draft, Event, Recorded, StatementRecorded, When, parse_line};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use ureq::http::Response;

use crate::error::{BUSY, CONFLICT, CliError, DAMAGE, DENIED, INVALID};

/// The name of the Unix socket `onrecord serve` opens inside the ledger directory.
pub const SOCKET_NAME: &str = "serve.sock";

/// The longest a connection may take to open before the server counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A server the CLI talks to.
pub struct Remote {
    agent: ureq::Agent,
    /// What requests' URLs start with (`http://host:port`).
    base: String,
    /// The server as messages name it: the URL, or the ledger it holds.
    shown: String,
    token: Option<String>,
    /// How long to keep retrying an answer of 429 (the busy wait).
    busy_wait: Duration,
    /// Sent as `Onrecord-Min-Seq` with every read (`--min-seq`).
    min_seq: Option<u64>,
}

/// A problem document, as far as the client reads it.
#[derive(Deserialize)]
struct ProblemDoc {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    detail: String,
    #[serde(default)]
    errors: Vec<ItemProblemDoc>,
}

/// One refused item of a batch.
#[derive(Deserialize)]
struct ItemProblemDoc {
    index: usize,
    detail: String,
}

/// A request's answer: its status and body.
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The body, to read.
    pub body: ureq::Body,
}

fn config() -> ureq::config::ConfigBuilder<ureq::typestate::AgentScope> {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(CONNECT_TIMEOUT))
        // A live tail waits for events as long as it is asked to.
        .timeout_recv_body(None)
        .max_idle_connections(0)
        .user_agent(concat!("onrecord/", env!("CARGO_PKG_VERSION")))
}

impl Remote {
    /// A client of the server at `url` (`http://HOST:PORT` or `https://…`),
    /// sending `token`; for https, `cacert` (a PEM file) is trusted instead
    /// of the usual roots.
    pub fn at_url(
        url: &str,
        token: Option<String>,
        cacert: Option<&Path>,
        busy_wait: Duration,
    ) -> Result<Self, CliError> {
        let base = url.trim_end_matches('/');
        let rest = base
            .strip_prefix("http://")
            .or_else(|| base.strip_prefix("https://"));
        if rest.is_none_or(|r| r.is_empty() || r.contains(['/', '?', '#', ' '])) {
            return Err(CliError::usage(format!(
                "invalid server URL `{url}`: expected http://HOST:PORT or https://HOST:PORT"
            )));
        }
        let mut config = config();
        if let Some(path) = cacert {
            config = config.tls_config(trusting(path)?);
        }
        Ok(Self {
            agent: config.build().into(),
            base: base.to_owned(),
            shown: base.to_owned(),
            token,
            busy_wait,
            min_seq: None,
        })
    }

    /// The same client, asking the server to hold `min_seq` before it
    /// answers a read (`Onrecord-Min-Seq`; a standby waits or says it is behind).
    pub fn with_min_seq(mut self, min_seq: Option<u64>) -> Self {
        self.min_seq = min_seq;
        self
    }

    /// A client of the server holding the ledger at `ledger`, through its socket.
    pub fn through_socket(ledger: &Path, socket: PathBuf, busy_wait: Duration) -> Self {
        let agent = ureq::Agent::with_parts(
            config().build(),
            unix::UnixConnector { path: socket },
            ureq::unversioned::resolver::DefaultResolver::default(),
        );
        Self {
            agent,
            base: "http://localhost".to_owned(),
            shown: format!("the server holding {}", ledger.display()),
            token: None,
            busy_wait,
            min_seq: None,
        }
    }

    /// The server as messages name it.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// Sends a request, retrying while the server answers 429 within the busy wait.
    fn send(
        &self,
        method: &str,
        path: &str,
        query: &[(&str, String)],
        accept: &str,
        body: Option<(&str, &[u8])>,
    ) -> Result<Answer, CliError> {
        let started = Instant::now();
        loop {
            let mut uri = format!("{}{path}", self.base);
            if !query.is_empty() {
                uri.push('?');
                let pairs: Vec<String> = query
                    .iter()
                    .map(|(k, v)| format!("{k}={}", percent_encode(v)))
                    .collect();
                uri.push_str(&pairs.join("&"));
            }
            let mut request = ureq::http::Request::builder()
                .method(method)
                .uri(&uri)
                .header("Accept", accept);
            if let Some(token) = &self.token {
                request = request.header("Authorization", format!("Bearer {token}"));
            }
            if method == "GET"
                && let Some(seq) = self.min_seq
            {
                request = request.header("Onrecord-Min-Seq", seq.to_string());
            }
            let result = match body {
                Some((content_type, bytes)) => {
                    let request = request
                        .header("Content-Type", content_type)
                        .body(bytes.to_vec())
                        .map_err(|e| self.unreachable(&e.to_string()))?;
                    self.agent.run(request)
                }
                None => {
                    let request = request
                        .body(())
                        .map_err(|e| self.unreachable(&e.to_string()))?;
                    self.agent.run(request)
                }
            };
            let response: Response<ureq::Body> = result.map_err(|e| self.transport_error(e))?;
            let status = response.status().as_u16();
            if status == 429 {
                let wait = response
                    .headers()
                    .get("Retry-After")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs)
                    .unwrap_or(Duration::from_secs(1));
                if started.elapsed() + wait <= self.busy_wait {
                    std::thread::sleep(wait);
                    continue;
                }
            }
            let (_, body) = response.into_parts();
            return Ok(Answer { status, body });
        }
    }

    /// Exit 4 naming the server: it could not be reached.
    fn unreachable(&self, reason: &str) -> CliError {
        CliError::new(
            BUSY,
            format!("cannot reach the server at {}: {reason}", self.shown),
        )
    }

    fn transport_error(&self, e: ureq::Error) -> CliError {
        let reason = match &e {
            // TLS failures arrive as invalid data, with rustls' reason inside.
            ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::InvalidData => io.to_string(),
            ureq::Error::Io(io) => crate::error::io_reason(io),
            ureq::Error::HostNotFound => "host not found".to_owned(),
            ureq::Error::Timeout(_) => "timed out".to_owned(),
            ureq::Error::ConnectionFailed => "connection failed".to_owned(),
            other => other.to_string(),
        };
        self.unreachable(&reason)
    }

    /// The error a refused request maps to: the problem's detail, with the
    /// exit code its type has on a local ledger; a batch's refused items are
    /// named by `item_name` (e.g. the input line), then summarised.
    pub fn refusal(&self, answer: Answer, item_name: &dyn Fn(usize) -> String) -> CliError {
        let Answer { status, mut body } = answer;
        let text = body
            .with_config()
            .limit(1024 * 1024)
            .read_to_vec()
            .unwrap_or_default();
        let Ok(problem) = serde_json::from_slice::<ProblemDoc>(&text) else {
            return CliError::invalid(format!(
                "{} answered HTTP {status} without a problem document",
                self.shown
            ));
        };
        let kind = problem
            .kind
            .rsplit(':')
            .next()
            .unwrap_or_default()
            .to_owned();
        let code = match kind.as_str() {
            "conflict" => CONFLICT,
            "busy" | "rate-limited" | "too-many-tails" | "behind" => BUSY,
            "damaged" => DAMAGE,
            "unauthorized" | "forbidden" => DENIED,
            _ => INVALID,
        };
        let detail = match kind.as_str() {
            "unauthorized" if self.token.is_none() => {
                format!(
                    "{} (give a token with --token or $ONRECORD_TOKEN)",
                    problem.detail
                )
            }
            _ => problem.detail,
        };
        if problem.errors.is_empty() {
            return CliError::new(code, detail);
        }
        let mut lines: Vec<String> = problem
            .errors
            .iter()
            .map(|item| format!("{}: {}", item_name(item.index), item.detail))
            .collect();
        lines.push(format!(
            "{} line(s) refused; nothing was appended",
            problem.errors.len()
        ));
        CliError::with_lines(code, lines)
    }

    /// `GET path?query`, read as JSON of type `T`.
    pub fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, CliError> {
        let answer = self.send("GET", path, query, "application/json", None)?;
        self.json_of(answer)
    }

    /// A successful answer's body read as JSON of type `T`; a refusal as its error.
    pub fn json_of<T: DeserializeOwned>(&self, answer: Answer) -> Result<T, CliError> {
        if !(200..300).contains(&answer.status) {
            return Err(self.refusal(answer, &|i| format!("item {i}")));
        }
        let mut body = answer.body;
        let bytes = body
            .with_config()
            .limit(u64::MAX)
            .read_to_vec()
            .map_err(|e| self.transport_error(e))?;
        serde_json::from_slice(&bytes).map_err(|e| {
            CliError::invalid(format!(
                "{} answered something this version cannot read: {e}",
                self.shown
            ))
        })
    }

    /// `GET path?query` as a stream of bytes (export, the live tail); a refusal as its error.
    pub fn get_stream(
        &self,
        path: &str,
        query: &[(&str, String)],
        accept: &str,
    ) -> Result<impl Read + use<>, CliError> {
        let answer = self.send("GET", path, query, accept, None)?;
        if !(200..300).contains(&answer.status) {
            return Err(self.refusal(answer, &|i| format!("item {i}")));
        }
        Ok(answer.body.into_reader())
    }

    /// `GET path?query` as text (a chart's SVG, the report's HTML); a refusal as its error.
    pub fn get_text(
        &self,
        path: &str,
        query: &[(&str, String)],
        accept: &str,
    ) -> Result<String, CliError> {
        let mut text = String::new();
        self.get_stream(path, query, accept)?
            .read_to_string(&mut text)
            .map_err(|e| self.unreachable(&crate::error::io_reason(&e)))?;
        Ok(text)
    }

    /// `method path?query` with a body of `content_type`; the raw answer.
    pub fn send_body(
        &self,
        method: &str,
        path: &str,
        query: &[(&str, String)],
        content_type: &str,
        body: &[u8],
    ) -> Result<Answer, CliError> {
        self.send(
            method,
            path,
            query,
            "application/json",
            Some((content_type, body)),
        )
    }

    /// Whether the server answers its health route at all (for the socket check).
    pub fn is_up(&self) -> bool {
        self.send("GET", "/v1/health", &[], "application/json", None)
            .is_ok_and(|a| a.status == 200)
    }
}

/// TLS settings trusting only the PEM certificates in `path` (a private CA,
/// or a server's own self-signed certificate) instead of the usual web roots,
/// as `curl --cacert` does.
fn trusting(path: &Path) -> Result<ureq::tls::TlsConfig, CliError> {
    use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};
    let pem = std::fs::read(path).map_err(|e| crate::error::read_error(path, &e))?;
    let roots: Vec<Certificate<'static>> = ureq::tls::parse_pem(&pem)
        .filter_map(|item| match item {
            Ok(PemItem::Certificate(c)) => Some(c),
            _ => None,
        })
        .collect();
    if roots.is_empty() {
        return Err(CliError::invalid(format!(
            "no PEM certificate in {}",
            path.display()
        )));
    }
    Ok(TlsConfig::builder()
        .root_certs(RootCerts::new_with_certs(&roots))
        .build())
}

/// `s` percent-encoded for a query string (RFC 3986 unreserved characters kept).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `s` percent-encoded as one path segment (an id in a route).
pub fn segment(s: &str) -> String {
    percent_encode(s)
}

/// The seq of an `export` line, if it has one.
pub fn seq_of(line: &str) -> Option<u64> {
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    value["seq"].as_u64()
}

/// The record an `export` line describes (seq, id, time and event), as the
/// text lines need it; `None` if the line lacks any of them.
pub fn recorded_of(line: &str) -> Option<Recorded> {
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    let seq = value["seq"].as_u64()?;
    let recorded_at = value["recorded_at"]
        .as_str()?
        .parse::<When>()
        .ok()?
        .micros();
    let input = parse_line(line).ok()?;
    let event = match input.draft {
        Draft::Party(p) => Event::PartyRegistered(p),
        Draft::Proposition(p) => Event::PropositionOpened(p),
        Draft::Statement(s) => Event::StatementRecorded(StatementRecorded {
            proposition: s.proposition,
            party: s.party?,
            speaker: s.speaker?,
            stance: s.stance,
            credence: s.credence,
            said_at: s.said_at,
            quote: s.quote,
            source: s.source,
            qualifiers: s.qualifiers,
        }),
        Draft::Retraction(r) => Event::StatementRetracted(r),
        Draft::Resolution(r) => Event::PropositionResolved(r),
    };
    Some(Recorded {
        seq,
        event_id: input.event_id?,
        recorded_by: input.recorded_by,
        recorded_at,
        event,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_encoded_so_times_with_plus_signs_arrive_intact() {
        assert_eq!(
            percent_encode("2018-11-06T10:00:00+01:00"),
            "2018-11-06T10%3A00%3A00%2B01%3A00"
        );
        assert_eq!(percent_encode("a b&c=d"), "a%20b%26c%3Dd");
    }

    #[test]
    fn a_server_url_must_be_http_or_https_with_a_host_and_no_path() {
        let wait = Duration::from_secs(1);
        assert!(Remote::at_url("http://127.0.0.1:7171", None, None, wait).is_ok());
        assert!(Remote::at_url("http://127.0.0.1:7171/", None, None, wait).is_ok());
        for bad in [
            "127.0.0.1:7171",
            "ftp://x",
            "http://",
            "http://x/v1",
            "http://x?y",
        ] {
            let e = Remote::at_url(bad, None, None, wait).err().unwrap();
            assert!(e.lines[0].contains(bad), "{bad}: {e}");
        }
    }
}
