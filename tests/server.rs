//! `onrecord serve` through the real binary on a free loopback port:
//! appends acknowledged once durable (under 64 concurrent clients, across a
//! SIGKILL and a graceful stop), problem+json for each error kind, the live
//! tail's catch-up-then-live with resumption, and the chain-checked export.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

/// A server process on a free port; killed (and waited for) when dropped.
struct Server {
    child: Child,
    base: String,
    agent: ureq::Agent,
    /// An admin token every helper request carries.
    token: String,
}

/// Makes a token on a ledger no server holds; the token printed once.
fn create_token(ledger: &Path, name: &str, role: &str) -> String {
    let out = common::ok(
        common::run(ledger, &["token", "create", name, "--role", role]),
        "token create",
    );
    common::text(&out.stdout).trim().to_owned()
}

impl Server {
    /// Starts `onrecord serve` on `ledger`, port 0, with a fresh admin token,
    /// and reads the address it serves.
    fn start(ledger: &Path) -> Self {
        let token = create_token(ledger, "test-admin", "admin");
        Self::start_with(ledger, token)
    }

    /// Starts `onrecord serve` on `ledger`; helper requests carry `token`.
    fn start_with(ledger: &Path, token: String) -> Self {
        Self::start_args(ledger, token, &[])
    }

    /// Starts `onrecord serve` on `ledger` with `extra` flags; helper requests carry `token`.
    fn start_args(ledger: &Path, token: String, extra: &[&str]) -> Self {
        let (child, base) = common::spawn_serve(ledger, extra, Stdio::null());
        let agent = ureq::Agent::new_with_config(
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(30)))
                .build(),
        );
        Self {
            child,
            base,
            agent,
            token,
        }
    }

    fn bearer(&self) -> String {
        format!("Bearer {}", self.token)
    }

    /// Opens a live tail as typed JSON lines (`query` after `/v1/events`) with `token`.
    fn tail(&self, query: &str, token: &str) -> ureq::http::Response<ureq::Body> {
        self.agent
            .get(self.url(&format!("/v1/events{query}")))
            .header("accept", "application/x-ndjson")
            .header("authorization", format!("Bearer {token}"))
            .call()
            .expect("open a tail")
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// GET `path`: status and body.
    fn get(&self, path: &str) -> (u16, String) {
        let mut response = self
            .agent
            .get(self.url(path))
            .header("authorization", self.bearer())
            .call()
            .expect("GET");
        let status = response.status().as_u16();
        (
            status,
            response.body_mut().read_to_string().unwrap_or_default(),
        )
    }

    /// GET `path`: status, body and the `onrecord-cache` header (`hit`, `miss` or empty).
    fn get_cached(&self, path: &str) -> (u16, String, String) {
        let mut response = self
            .agent
            .get(self.url(path))
            .header("authorization", self.bearer())
            .call()
            .expect("GET");
        let status = response.status().as_u16();
        let cache = response
            .headers()
            .get("onrecord-cache")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body = response.body_mut().read_to_string().unwrap_or_default();
        (status, body, cache)
    }

    /// POST `body` to `path` with `content_type`: status, content type and body.
    fn post(&self, path: &str, content_type: &str, body: &str) -> (u16, String, String) {
        let mut response = self
            .agent
            .post(self.url(path))
            .header("content-type", content_type)
            .header("authorization", self.bearer())
            .send(body)
            .expect("POST");
        let status = response.status().as_u16();
        let kind = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        (
            status,
            kind,
            response.body_mut().read_to_string().unwrap_or_default(),
        )
    }

    /// Appends one JSON event; the parsed answer.
    fn append(&self, line: &str) -> (u16, Value) {
        let (status, _, body) = self.post("/v1/events", "application/json", line);
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }

    /// Sends SIGTERM and waits for the process; its exit status.
    fn stop(mut self) -> std::process::ExitStatus {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let status = self.child.wait().expect("wait for the server");
        std::mem::forget(self);
        status
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn party(id: &str) -> String {
    format!(r#"{{"type":"party","id":"{id}","name":"Party {id}","kind":"person"}}"#)
}

fn ledger_in(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("ledger")
}

/// The exported events of a ledger not held by a server.
fn exported(ledger: &Path) -> Vec<common::Exported> {
    common::export(ledger)
}

#[test]
fn sixty_four_clients_appending_at_once_get_one_gapless_chain_with_every_ack_present() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_in(&dir);
    let server = Server::start(&ledger);
    let acks: Vec<(u64, String)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..64)
            .map(|client| {
                let server = &server;
                scope.spawn(move || {
                    (0..5)
                        .map(|i| {
                            let (status, answer) = server.append(&party(&format!("c{client}-{i}")));
                            assert_eq!(status, 201, "{answer}");
                            (
                                answer["seq"].as_u64().unwrap(),
                                answer["event_id"].as_str().unwrap().to_owned(),
                            )
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let (status, verified) = server.get("/v1/verify");
    assert_eq!(status, 200, "{verified}");
    assert!(server.stop().success());
    let events = exported(&ledger);
    assert_eq!(common::assert_gapless(&events), 320);
    let by_id = common::by_id(&events);
    for (seq, id) in &acks {
        assert_eq!(by_id.get(id).map(|e| e.seq), Some(*seq), "ack {seq} {id}");
    }
    let mut seqs: Vec<u64> = acks.iter().map(|(s, _)| *s).collect();
    seqs.sort_unstable();
    seqs.dedup();
    assert_eq!(seqs.len(), 320, "every ack names its own seq");
}

#[test]
fn each_kind_of_refusal_is_a_problem_document_with_its_status_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&ledger_in(&dir));
    assert_eq!(server.append(&party("trump")).0, 201);

    let problem = |status: u16, kind: &str, body: &str| {
        let v: Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body}"));
        assert_eq!(v["status"], status, "{v}");
        assert_eq!(v["type"], format!("urn:onrecord:problem:{kind}"), "{v}");
        v
    };
    // Invalid: the value is named.
    let (status, kind, body) = server.post(
        "/v1/events",
        "application/json",
        r#"{"type":"party","id":"x","name":"X","kind":"robot"}"#,
    );
    assert_eq!((status, kind.as_str()), (400, "application/problem+json"));
    assert!(
        problem(400, "invalid", &body)["detail"]
            .as_str()
            .unwrap()
            .contains("robot")
    );
    // Conflict: expected and actual revision.
    let (status, _, body) = server.post(
        "/v1/events?expected_revision=no-stream",
        "application/json",
        &party("trump"),
    );
    assert_eq!(status, 409);
    let detail = problem(409, "conflict", &body)["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        detail.contains("expected no-stream") && detail.contains("actual 0"),
        "{detail}"
    );
    // A batch with one bad item: every bad item by index, nothing written.
    let (status, _, body) = server.post(
        "/v1/events",
        "application/x-ndjson",
        &format!("{}\n{}\n{}\n", party("a"), party("trump"), party("b")),
    );
    assert_eq!(status, 400);
    let v = problem(400, "invalid", &body);
    assert_eq!(v["errors"][0]["index"], 1, "{v}");
    assert_eq!(v["errors"].as_array().unwrap().len(), 1);
    // Not found.
    let (status, body) = server.get("/v1/events/99");
    assert_eq!(status, 404);
    problem(404, "not-found", &body);
    // Too many events in one request.
    let many: String = (0..10_001)
        .map(|i| party(&format!("p{i}")) + "\n")
        .collect();
    let (status, _, body) = server.post("/v1/events", "application/x-ndjson", &many);
    assert_eq!(status, 413);
    problem(413, "too-large", &body);
    // A body declared past the size cap is refused before it is read.
    let status_line = {
        use std::io::{Read, Write};
        let addr = server.base.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        write!(
            stream,
            "POST /v1/events HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            server.bearer(),
            17 * 1024 * 1024
        )
        .unwrap();
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).unwrap();
        String::from_utf8_lossy(&head).into_owned()
    };
    assert_eq!(status_line, "HTTP/1.1 413");

    let (_, health) = server.get("/v1/health");
    let health: Value = serde_json::from_str(&health).unwrap();
    assert_eq!(health["head"], 1, "no refusal wrote anything: {health}");
    assert!(server.stop().success());
}

/// Reads SSE frames from `reader` until `frames` frames with data are read.
fn sse_frames(reader: &mut impl BufRead, frames: usize) -> Vec<(Option<String>, String, String)> {
    let mut out = Vec::new();
    let (mut id, mut event, mut data) = (None, String::new(), String::new());
    while out.len() < frames {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 {
            break;
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            if !data.is_empty() {
                out.push((
                    id.take(),
                    std::mem::take(&mut event),
                    std::mem::take(&mut data),
                ));
            }
            continue;
        }
        if let Some(v) = line.strip_prefix("id: ").or(line.strip_prefix("id:")) {
            id = Some(v.to_owned());
        } else if let Some(v) = line.strip_prefix("event: ").or(line.strip_prefix("event:")) {
            event = v.to_owned();
        } else if let Some(v) = line.strip_prefix("data: ").or(line.strip_prefix("data:")) {
            data = v.to_owned();
        }
    }
    out
}

#[test]
fn the_live_tail_catches_up_then_follows_and_resumes_after_the_last_event_id() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&ledger_in(&dir));
    for id in ["a", "b", "c"] {
        assert_eq!(server.append(&party(id)).0, 201);
    }
    let response = server
        .agent
        .get(server.url("/v1/events?from=2"))
        .header("accept", "text/event-stream")
        .header("authorization", server.bearer())
        .call()
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut reader = BufReader::new(response.into_body().into_reader());
    let caught_up = sse_frames(&mut reader, 3);
    let ids: Vec<_> = caught_up.iter().map(|f| f.0.clone()).collect();
    assert_eq!(ids, vec![Some("2".into()), Some("3".into()), None]);
    assert_eq!(caught_up[2].1, "caught-up");
    assert_eq!(caught_up[2].2, r#"{"head":3}"#);
    // Live: an append made now arrives next, with its seq as the SSE id.
    assert_eq!(server.append(&party("d")).0, 201);
    let live = sse_frames(&mut reader, 1);
    assert_eq!(live[0].0.as_deref(), Some("4"));
    let event: Value = serde_json::from_str(&live[0].2).unwrap();
    assert_eq!(event["id"], "d");
    drop(reader);

    // A browser resuming sends the last id it saw: no gap, no duplicate.
    assert_eq!(server.append(&party("e")).0, 201);
    let response = server
        .agent
        .get(server.url("/v1/events"))
        .header("last-event-id", "3")
        .header("authorization", server.bearer())
        .call()
        .unwrap();
    let mut reader = BufReader::new(response.into_body().into_reader());
    let resumed: Vec<_> = sse_frames(&mut reader, 3)
        .into_iter()
        .map(|f| f.0)
        .collect();
    assert_eq!(resumed, vec![Some("4".into()), Some("5".into()), None]);
    drop(reader);

    // The same stream as typed JSON lines.
    let response = server.tail("?from=5", &server.token);
    let mut lines = BufReader::new(response.into_body().into_reader()).lines();
    let first: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(
        (first["type"].as_str(), first["event"]["seq"].as_u64()),
        (Some("event"), Some(5))
    );
    let second: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(second, serde_json::json!({"type": "caught-up", "head": 5}));
    drop(lines);
    // A stop ends open tails too, so the server exits.
    assert!(server.stop().success());
}

/// Appends from 8 clients until `signal` stops the server; checks every
/// acknowledged append is kept and a restarted server continues the chain.
fn appends_survive(signal: i32) {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_in(&dir);
    let server = Server::start(&ledger);
    let server_token = server.token.clone();
    let base = server.base.clone();
    let acked = std::sync::Mutex::new(Vec::<(u64, String)>::new());
    std::thread::scope(|scope| {
        for client in 0..8 {
            let acked = &acked;
            let server = &server;
            let base = &base;
            scope.spawn(move || {
                for i in 0.. {
                    let Ok(mut response) = server
                        .agent
                        .post(format!("{base}/v1/events"))
                        .header("content-type", "application/json")
                        .header("authorization", server.bearer())
                        .send(party(&format!("k{client}-{i}")))
                    else {
                        return; // the server is gone
                    };
                    let Ok(body) = response.body_mut().read_to_string() else {
                        return;
                    };
                    let Ok(answer) = serde_json::from_str::<Value>(&body) else {
                        return;
                    };
                    if let (Some(seq), Some(id)) =
                        (answer["seq"].as_u64(), answer["event_id"].as_str())
                    {
                        acked.lock().unwrap().push((seq, id.to_owned()));
                    }
                }
            });
        }
        std::thread::sleep(Duration::from_millis(700));
        unsafe { libc::kill(server.child.id() as i32, signal) };
    });
    let mut server = server;
    let status = server.child.wait().unwrap();
    if signal == libc::SIGTERM {
        assert!(status.success(), "a graceful stop exits 0: {status:?}");
    }
    drop(server);
    let acked = acked.into_inner().unwrap();
    assert!(
        !acked.is_empty(),
        "some appends were acknowledged before the kill"
    );
    let events = exported(&ledger);
    let by_id = common::by_id(&events);
    for (seq, id) in &acked {
        assert_eq!(
            by_id.get(id).map(|e| e.seq),
            Some(*seq),
            "acknowledged {seq} {id} is kept"
        );
    }
    let head = common::assert_gapless(&events);
    let server = Server::start_with(&ledger, server_token);
    let (status, answer) = server.append(&party("after-restart"));
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["seq"], head + 1);
    assert!(server.stop().success());
    common::assert_verifies(&ledger);
}

#[test]
fn a_sigkill_under_load_loses_no_acknowledged_append_and_a_restart_continues_the_chain() {
    appends_survive(libc::SIGKILL);
}

#[test]
fn a_graceful_stop_under_load_answers_or_refuses_every_append_and_loses_none() {
    appends_survive(libc::SIGTERM);
}

#[test]
fn export_streams_the_ledger_as_json_lines_that_append_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_in(&dir);
    let server = Server::start(&ledger);
    let (status, _, body) = server.post(
        "/v1/events",
        "application/json",
        &format!("[{}, {}]", party("a"), party("b")),
    );
    assert_eq!(status, 201, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["appended"], 2);
    let (status, export) = server.get("/v1/export");
    assert_eq!(status, 200);
    assert!(server.stop().success());
    // The export is what `onrecord export` writes, so a new ledger takes it whole.
    let cli_export = common::ok(common::run(&ledger, &["export"]), "export");
    assert_eq!(export, common::text(&cli_export.stdout));
    let copy = dir.path().join("copy");
    let file = dir.path().join("export.jsonl");
    std::fs::write(&file, &export).unwrap();
    common::ok(
        common::run(&copy, &["append", "--jsonl", file.to_str().unwrap()]),
        "re-import",
    );
    assert_eq!(common::export(&copy).len(), 2);
}

#[test]
fn every_route_but_health_needs_a_token_with_the_role_and_a_revoked_one_stops_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_in(&dir);
    let reader = create_token(&ledger, "dashboard", "read");
    let appender = create_token(&ledger, "desk-bot", "append");
    let server = Server::start(&ledger);
    let status_with =
        |method: &str, path: &str, token: Option<&str>, body: &str| -> (u16, String) {
            let url = server.url(path);
            let request = match method {
                "GET" => server.agent.get(&url).force_send_body(),
                _ => server.agent.post(&url),
            };
            let request = request.header("content-type", "application/json");
            let request = match token {
                Some(t) => request.header("authorization", format!("Bearer {t}")),
                None => request,
            };
            let mut response = request.send(body).unwrap();
            let status = response.status().as_u16();
            (
                status,
                response.body_mut().read_to_string().unwrap_or_default(),
            )
        };
    // Health is open; everything else is not.
    assert_eq!(status_with("GET", "/v1/health", None, "").0, 200);
    for path in ["/v1/events/1", "/v1/export", "/v1/verify", "/v1/tokens"] {
        let (status, body) = status_with("GET", path, None, "");
        assert_eq!(status, 401, "{path}: {body}");
    }
    assert_eq!(status_with("POST", "/v1/events", None, &party("x")).0, 401);
    // A wrong secret is the same 401, and nothing echoes it.
    let forged = format!("{}ff", &appender[..appender.len() - 2]);
    let (status, body) = status_with("POST", "/v1/events", Some(&forged), &party("x"));
    assert_eq!(status, 401);
    assert!(!body.contains(&forged[20..]), "{body}");
    // Roles: read may read, not append; append may append, not verify.
    assert_eq!(status_with("GET", "/v1/export", Some(&reader), "").0, 200);
    assert_eq!(
        status_with("POST", "/v1/events", Some(&reader), &party("x")).0,
        403
    );
    assert_eq!(
        status_with("POST", "/v1/events", Some(&appender), &party("x")).0,
        201
    );
    assert_eq!(status_with("GET", "/v1/verify", Some(&appender), "").0, 403);

    // A tail opened with the read token ends when that token is revoked.
    let response = server.tail("", &reader);
    let mut lines = BufReader::new(response.into_body().into_reader()).lines();
    let first: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(first["type"], "event");
    let caught_up: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(caught_up["type"], "caught-up");
    let reader_id = reader.trim_start_matches("onr_").split('_').next().unwrap();
    let mut revoked = server
        .agent
        .delete(server.url(&format!("/v1/tokens/{reader_id}")))
        .header("authorization", server.bearer())
        .call()
        .unwrap();
    assert_eq!(
        revoked.status(),
        200,
        "{}",
        revoked.body_mut().read_to_string().unwrap()
    );
    assert!(
        lines.next().is_none(),
        "the open tail ends once its token is revoked"
    );
    assert_eq!(status_with("GET", "/v1/export", Some(&reader), "").0, 401);
    assert!(server.stop().success());

    // The token list never shows a secret or its digest.
    let listed = common::ok(
        common::run(&ledger, &["token", "list", "--json"]),
        "token list",
    );
    let listed = common::text(&listed.stdout);
    for token in [&reader, &appender] {
        assert!(
            !listed.contains(token.rsplit('_').next().unwrap()),
            "{listed}"
        );
    }
    let listed: Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 3);
}

#[test]
fn every_query_route_answers_exactly_what_the_cli_prints_with_json() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = common::demo_ledger(dir.path());
    // (CLI arguments, route): the same question both ways.
    let questions: &[(&[&str], &str)] = &[
        (&["positions", "--json"], "/v1/positions"),
        (
            &["positions", "paris-meeting", "--json"],
            "/v1/positions/paris-meeting",
        ),
        (
            &[
                "positions",
                "paris-meeting",
                "--as-of",
                "2018-11-08",
                "--json",
            ],
            "/v1/positions/paris-meeting?as_of=2018-11-08",
        ),
        (
            &[
                "positions",
                "--party",
                "kremlin",
                "--at-seq",
                "12",
                "--json",
            ],
            "/v1/positions?party=kremlin&at_seq=12",
        ),
        (
            &["history", "paris-meeting", "--json"],
            "/v1/propositions/paris-meeting/history",
        ),
        (&["contradictions", "--json"], "/v1/contradictions"),
        (&["scores", "--json"], "/v1/scores"),
        (&["calibration", "--json"], "/v1/calibration"),
        (&["stats", "--json"], "/v1/stats"),
    ];
    let printed: Vec<Value> = questions
        .iter()
        .map(|(args, _)| {
            let out = common::ok(common::run(&ledger, args), &args.join(" "));
            serde_json::from_slice(&out.stdout).unwrap()
        })
        .collect();
    let server = Server::start(&ledger);
    for ((args, route), cli) in questions.iter().zip(printed) {
        let (status, body) = server.get(route);
        assert_eq!(status, 200, "{route}: {body}");
        let mut served: Value = serde_json::from_str(&body).unwrap();
        let mut cli = cli;
        if route.ends_with("/stats") {
            // The bytes on disk move as sled writes; everything else must match.
            served["bytes_on_disk"] = Value::Null;
            cli["bytes_on_disk"] = Value::Null;
        }
        assert_eq!(
            served,
            cli,
            "{route} differs from `onrecord {}`",
            args.join(" ")
        );
    }
    // Answers are gzipped for a client that accepts it; live streams never are.
    let gzipped = server
        .agent
        .get(server.url("/v1/positions"))
        .header("authorization", server.bearer())
        .header("accept-encoding", "gzip")
        .call()
        .unwrap();
    assert_eq!(gzipped.headers().get("content-encoding").unwrap(), "gzip");
    let tail = server
        .agent
        .get(server.url("/v1/events"))
        .header("authorization", server.bearer())
        .header("accept", "application/x-ndjson")
        .header("accept-encoding", "gzip")
        .call()
        .unwrap();
    assert!(tail.headers().get("content-encoding").is_none());
    drop((gzipped, tail));
    // An unknown proposition: 404 with the CLI's "did you mean".
    let (status, body) = server.get("/v1/positions/paris-meting");
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("did you mean `paris-meeting`?"), "{body}");
    let (status, body) = server.get("/v1/positions?as_of=yesterday");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("yesterday"), "{body}");
    assert!(server.stop().success());
}

#[test]
fn the_openapi_document_lists_real_routes_only_and_every_one_of_them() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = common::demo_ledger(dir.path());
    let server = Server::start(&ledger);
    // The document needs no token, like health.
    let mut response = server
        .agent
        .get(server.url("/v1/openapi.json"))
        .call()
        .unwrap();
    assert_eq!(response.status(), 200);
    let doc: Value = serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let paths = doc["paths"].as_object().expect("paths");
    let mut documented: Vec<String> = Vec::new();
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            documented.push(format!("{} {path}", method.to_uppercase()));
            let url = server.url(
                &path
                    .replace("{key}", "1")
                    .replace("{proposition}", "paris-meeting")
                    .replace("{id}", "no-such-token"),
            );
            let request = || match method.as_str() {
                "get" => server.agent.get(&url).force_send_body(),
                "post" => server.agent.post(&url),
                "delete" => server.agent.delete(&url).force_send_body(),
                other => panic!("unexpected method {other} on {path}"),
            };
            // Every documented route but health and the web page's shell needs a token.
            let anonymous = request()
                .header("accept", "application/x-ndjson")
                .send("{}")
                .unwrap()
                .status()
                .as_u16();
            if !["/v1/health", "/", "/app.js", "/app.css"].contains(&path.as_str()) {
                assert_eq!(anonymous, 401, "{method} {path} answers without a token");
            } else {
                assert_eq!(anonymous, 200, "{method} {path} needs no token");
            }
            let response = request()
                .header("authorization", server.bearer())
                .header("accept", "application/x-ndjson")
                .header("content-type", "application/json")
                .send("{}")
                .unwrap();
            let status = response.status().as_u16();
            let kind = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            // A documented route exists: never 405, and a 404 is ours (a problem), not the router's.
            assert_ne!(status, 405, "{method} {path}");
            if status == 404 {
                assert_eq!(
                    kind, "application/problem+json",
                    "{method} {path} is not routed"
                );
            }
        }
    }
    documented.sort();
    let expected = [
        "DELETE /v1/tokens/{id}",
        "GET /",
        "GET /app.css",
        "GET /app.js",
        "GET /v1/calibration",
        "GET /v1/contradictions",
        "GET /v1/events",
        "GET /v1/events/{key}",
        "GET /v1/export",
        "GET /v1/health",
        "GET /v1/parties",
        "GET /v1/positions",
        "GET /v1/positions/{proposition}",
        "GET /v1/propositions",
        "GET /v1/propositions/{proposition}",
        "GET /v1/propositions/{proposition}/chart.svg",
        "GET /v1/propositions/{proposition}/history",
        "GET /v1/report",
        "GET /v1/scores",
        "GET /v1/stance",
        "GET /v1/stats",
        "GET /v1/tokens",
        "GET /v1/verify",
        "GET /v1/whoami",
        "POST /v1/events",
        "POST /v1/tokens",
    ];
    assert_eq!(documented, expected);
    // And a route that is not documented is not served.
    let (status, _) = server.get("/v1/not-a-route");
    assert_eq!(status, 404);
    assert!(server.stop().success());
}

#[test]
fn a_token_past_its_rate_or_its_tail_cap_gets_429_with_retry_after_and_others_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_in(&dir);
    let other = create_token(&ledger, "other", "read");
    let token = create_token(&ledger, "admin", "admin");
    let server = Server::start_args(&ledger, token, &["--rate-limit", "5", "--max-tails", "1"]);
    // A burst of 10 is allowed (twice the rate of 5/s), then requests are
    // refused until the bucket refills: count the 200s before the first 429.
    let started = std::time::Instant::now();
    let mut admitted = 0;
    let refused = loop {
        let mut response = server
            .agent
            .get(server.url("/v1/stats"))
            .header("authorization", server.bearer())
            .call()
            .unwrap();
        match response.status().as_u16() {
            200 => admitted += 1,
            429 => break response,
            other => panic!("{other}: {}", response.body_mut().read_to_string().unwrap()),
        }
        assert!(admitted < 200, "no request was ever refused");
    };
    let refilled = (started.elapsed().as_secs_f64() * 5.0).ceil() as usize;
    assert!(
        (10..=10 + refilled).contains(&admitted),
        "{admitted} admitted in {:?}",
        started.elapsed()
    );
    let mut refused = refused;
    assert!(refused.headers().get("retry-after").is_some());
    let body = refused.body_mut().read_to_string().unwrap();
    assert!(body.contains("urn:onrecord:problem:rate-limited"), "{body}");
    // Another token is not held back by the first one's requests.
    let mut fine = server
        .agent
        .get(server.url("/v1/stats"))
        .header("authorization", format!("Bearer {other}"))
        .call()
        .unwrap();
    assert_eq!(
        fine.status(),
        200,
        "{}",
        fine.body_mut().read_to_string().unwrap()
    );
    // One tail per token: a second is refused while the first is open.
    let open = server.tail("", &other);
    assert_eq!(open.status(), 200);
    let second = server.tail("", &other);
    assert_eq!(second.status(), 429);
    drop(open);
    assert!(server.stop().success());
}

#[test]
fn a_tail_filtered_by_proposition_and_party_sends_only_their_events_catch_up_and_live() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = common::demo_ledger(dir.path());
    let expected: Vec<u64> = common::export(&ledger)
        .iter()
        .filter(|e| {
            e.value["type"] == "statement"
                && e.value["proposition"] == "paris-meeting"
                && e.value["party"] == "kremlin"
        })
        .map(|e| e.seq)
        .collect();
    assert!(!expected.is_empty());
    let server = Server::start(&ledger);
    let response = server.tail("?proposition=paris-meeting&party=kremlin", &server.token);
    let mut lines = BufReader::new(response.into_body().into_reader()).lines();
    let mut seen = Vec::new();
    loop {
        let line: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
        match line["type"].as_str() {
            Some("event") => seen.push(line["event"]["seq"].as_u64().unwrap()),
            Some("caught-up") => break,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(seen, expected);
    // Live: a statement elsewhere is skipped, the next one on the pair arrives.
    let elsewhere = r#"{"type":"party","id":"elsewhere","name":"Elsewhere","kind":"person"}"#;
    assert_eq!(server.append(elsewhere).0, 201);
    let (status, answer) = server.append(
        r#"{"type":"statement","proposition":"paris-meeting","party":"kremlin","stance":"likely","said_at":"2018-11-12"}"#,
    );
    assert_eq!(status, 201, "{answer}");
    let next: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(next["event"]["seq"], answer["seq"]);
    drop(lines);
    assert!(server.stop().success());
}

/// The commands a user runs to read a ledger, each printing what a script or a
/// person relies on (tables, JSON, CSV, the log).
const READ_COMMANDS: &[&[&str]] = &[
    &["positions"],
    &["positions", "paris-meeting", "--json"],
    &["positions", "--party", "trump", "--as-of", "2018-11-06"],
    &["positions", "--csv"],
    &["history", "paris-meeting"],
    &["history", "g20-meeting", "--party", "trump", "--json"],
    &["history", "paris-meeting", "--csv"],
    &["contradictions"],
    &["contradictions", "--json", "--known-at", "2999-01-01"],
    &["scores"],
    &["scores", "--json"],
    &["scores", "--csv"],
    &["calibration"],
    &["calibration", "--json", "--at-seq", "12"],
    &["verify"],
    &["export"],
    &["tail", "--from", "9"],
    &["tail", "--json"],
    &["positions", "paris-meetin"],
    &["history", "nope"],
    &["positions", "--as-of", "2018-13-01"],
    &["extract", ARTICLE, "--json"],
    &[
        "extract",
        ARTICLE,
        "--jsonl",
        "--proposition",
        "paris-meeting",
        "--said-at",
        "2018-11-06",
    ],
    &[
        "extract",
        ARTICLE,
        "--jsonl",
        "--proposition",
        "paris-meetin",
        "--said-at",
        "2018-11-06",
    ],
];

/// The founding article, for `extract` (which matches speakers to the ledger's parties).
const ARTICLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/founding-article.txt"
);

/// Runs `onrecord ARGS` against the server at `url` with `token` (no local ledger involved).
fn remote(url: &str, token: Option<&str>, args: &[&str]) -> std::process::Output {
    let mut c = Command::new(common::bin());
    c.arg("--server").arg(url);
    if let Some(t) = token {
        c.env("ONRECORD_TOKEN", t);
    }
    c.args(args)
        .env("NO_COLOR", "1")
        .env_remove("ONRECORD_LEDGER")
        .stdin(Stdio::null())
        .output()
        .expect("spawn onrecord")
}

/// The exit code, stdout and stderr of a run.
fn printed(out: &std::process::Output) -> (Option<i32>, String, String) {
    (
        out.status.code(),
        common::text(&out.stdout),
        common::text(&out.stderr),
    )
}

/// The time flags the report is compared under.
const REPORT_TIMES: &[&[&str]] = &[&[], &["--as-of", "2018-11-06", "--at-seq", "14"]];

/// Runs `report -o DIR` with `time` (locally, or against `server` with its
/// token) and returns the page it wrote.
fn report_written(
    ledger: &Path,
    dir: &Path,
    time: &[&str],
    server: Option<(&str, &str)>,
) -> String {
    let _ = std::fs::remove_dir_all(dir);
    let mut args = vec!["report", "-o", dir.to_str().unwrap()];
    args.extend(time);
    let out = match server {
        Some((url, token)) => remote(url, Some(token), &args),
        None => common::run(ledger, &args),
    };
    common::ok(out, "report");
    std::fs::read_to_string(dir.join("index.html")).unwrap()
}

#[test]
fn every_read_command_prints_the_same_through_a_server_and_its_socket_as_on_the_local_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = common::demo_ledger(dir.path());
    let token = create_token(&ledger, "reader", "admin");
    let chart_local = dir.path().join("local.svg");
    let local: Vec<_> = READ_COMMANDS
        .iter()
        .map(|args| printed(&common::run(&ledger, args)))
        .collect();
    common::ok(
        common::run(
            &ledger,
            &[
                "chart",
                "paris-meeting",
                "-o",
                chart_local.to_str().unwrap(),
            ],
        ),
        "local chart",
    );
    let reports_local: Vec<String> = REPORT_TIMES
        .iter()
        .map(|time| report_written(&ledger, &dir.path().join("local-report"), time, None))
        .collect();
    assert!(
        reports_local[1].contains("shown as of 2018-11-06"),
        "{}",
        reports_local[1]
    );
    assert!(local[0].1.contains("kremlin vs trump"), "{}", local[0].1);
    assert_eq!(local[18].0, Some(1), "an unknown id is exit 1 locally");
    assert!(
        local[18].2.contains("did you mean `paris-meeting`"),
        "{}",
        local[18].2
    );

    let server = Server::start_with(&ledger, token.clone());
    for (args, want) in READ_COMMANDS.iter().zip(&local) {
        let got = printed(&remote(&server.base, Some(&token), args));
        assert_eq!(&got, want, "--server {args:?}");
        // The ledger's own path reaches the server holding it through its socket.
        let got = printed(&common::run(&ledger, args));
        assert_eq!(&got, want, "--ledger {args:?} while served");
    }
    for (time, want) in REPORT_TIMES.iter().zip(&reports_local) {
        let got = report_written(
            &ledger,
            &dir.path().join("remote-report"),
            time,
            Some((&server.base, &token)),
        );
        assert_eq!(&got, want, "report {time:?}");
    }
    let chart_remote = dir.path().join("remote.svg");
    common::ok(
        remote(
            &server.base,
            Some(&token),
            &[
                "chart",
                "paris-meeting",
                "-o",
                chart_remote.to_str().unwrap(),
            ],
        ),
        "chart through the server",
    );
    assert_eq!(
        std::fs::read_to_string(&chart_remote).unwrap(),
        std::fs::read_to_string(&chart_local).unwrap()
    );
}

#[test]
fn appends_through_a_server_answer_with_the_local_exit_codes_and_never_print_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = common::demo_ledger(dir.path());
    let admin = create_token(&ledger, "desk", "admin");
    let reader = create_token(&ledger, "dashboard", "read");
    let server = Server::start_with(&ledger, admin.clone());
    let url = server.base.clone();
    let statement = [
        "append",
        "statement",
        "--proposition",
        "paris-meeting",
        "--party",
        "trump",
        "--stance",
        "likely",
        "--said-at",
        "2018-11-08",
        "--quote",
        "maybe after all",
    ];
    let mut outputs = Vec::new();

    let out = remote(&url, Some(&admin), &statement);
    assert_eq!(out.status.code(), Some(0), "{}", common::text(&out.stderr));
    assert!(common::text(&out.stdout).starts_with("appended seq=18 event="));
    outputs.push(out);

    // A stream revision not met: exit 3, as locally.
    let mut stale = statement.to_vec();
    stale.extend(["--expect-revision", "1"]);
    let out = remote(&url, Some(&admin), &stale);
    assert_eq!(out.status.code(), Some(3), "{}", common::text(&out.stderr));
    outputs.push(out);

    // A read token may not append: exit 6; no token at all: exit 6, saying how to give one.
    let out = remote(&url, Some(&reader), &statement);
    assert_eq!(out.status.code(), Some(6), "{}", common::text(&out.stderr));
    outputs.push(out);
    let out = remote(&url, None, &["positions"]);
    assert_eq!(out.status.code(), Some(6));
    assert!(
        common::text(&out.stderr).contains("--token"),
        "{}",
        common::text(&out.stderr)
    );
    outputs.push(out);

    // A batch with refused lines: every one named by its line, nothing appended.
    let batch = dir.path().join("batch.jsonl");
    std::fs::write(
        &batch,
        format!(
            "{}\n\n{}\n{}\n",
            party("newcomer"),
            r#"{"type":"statement","proposition":"no-such","party":"newcomer","stance":"likely","said_at":"2018-11-09"}"#,
            r#"{"type":"statement","proposition":"paris-meeting","party":"nobody","stance":"likely","said_at":"2018-11-09"}"#,
        ),
    )
    .unwrap();
    let out = remote(
        &url,
        Some(&admin),
        &["append", "--jsonl", batch.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = common::text(&out.stderr);
    assert!(
        err.contains("line 3: ") && err.contains("line 4: "),
        "{err}"
    );
    assert!(
        err.contains("2 line(s) refused; nothing was appended"),
        "{err}"
    );
    outputs.push(out);
    let (status, head) = server.get("/v1/health");
    assert_eq!(status, 200);
    assert!(head.contains("\"head\":18"), "{head}");

    // The same batch without its bad lines goes in whole.
    std::fs::write(
        &batch,
        format!("{}\n{}\n", party("newcomer"), party("other")),
    )
    .unwrap();
    let out = remote(
        &url,
        Some(&admin),
        &["append", "--jsonl", batch.to_str().unwrap(), "--json"],
    );
    assert_eq!(
        common::text(&out.stdout).trim(),
        r#"{"status":"ok","appended":2,"already_recorded":0}"#
    );
    outputs.push(out);

    drop(server);
    // No server: exit 4 naming the URL.
    let out = remote(&url, Some(&admin), &["positions"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(
        common::text(&out.stderr).contains(&url),
        "{}",
        common::text(&out.stderr)
    );
    outputs.push(out);

    for out in &outputs {
        for token in [&admin, &reader] {
            let secret = token.rsplit('_').next().unwrap();
            assert!(!common::text(&out.stdout).contains(secret));
            assert!(!common::text(&out.stderr).contains(secret));
        }
    }
    assert_eq!(common::assert_gapless(&exported(&ledger)), 20);
}

#[test]
fn a_ledger_held_by_serve_takes_appends_and_follows_through_its_socket_instead_of_waiting() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = common::demo_ledger(dir.path());
    let server = Server::start(&ledger);
    let mut follow = common::cmd(&ledger)
        .args(["tail", "--follow", "--from", "17", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start tail --follow");
    let mut lines = BufReader::new(follow.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(first.contains(r#""seq":17"#), "{first}");

    // No busy wait: without the socket this would fail with exit 4 at once.
    let out = common::run(
        &ledger,
        &[
            "--busy-wait",
            "0",
            "append",
            "party",
            "walk-in",
            "--name",
            "Walk In",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", common::text(&out.stderr));
    let appended = lines.next().unwrap().unwrap();
    assert!(
        appended.contains(r#""seq":18"#) && appended.contains("walk-in"),
        "{appended}"
    );
    // Through the socket, the append is recorded by the local user, as a local append is.
    let elsewhere = dir.path().join("elsewhere");
    common::ok(
        common::run(&elsewhere, &["append", "party", "x", "--name", "X"]),
        "a local append",
    );
    let me = common::export(&elsewhere)[0].value["recorded_by"].clone();
    assert!(me.as_str().unwrap().starts_with("local:"), "{me}");
    assert!(
        appended.contains(&format!(r#""recorded_by":{me}"#)),
        "{appended} by {me}"
    );
    let _ = follow.kill();
    let _ = follow.wait();

    let status = server.stop();
    assert!(status.success());
    assert!(
        !ledger.join("serve.sock").exists(),
        "the socket goes with the server"
    );
    let out = common::run(&ledger, &["tail", "--follow"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(common::text(&out.stderr).contains("onrecord serve"));
    assert_eq!(common::assert_gapless(&exported(&ledger)), 18);
}

/// A server started with `extra` flags whose stderr is kept (a file), and the address it printed.
fn start_logged(ledger: &Path, extra: &[&str], log: &Path) -> (Child, String) {
    common::spawn_serve(ledger, extra, std::fs::File::create(log).unwrap().into())
}

/// Kills and reaps a child when dropped, even if the test fails first.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn served_over_tls_the_cli_trusts_the_given_certificate_only_and_requests_are_logged_without_tokens()
 {
    let dir = tempfile::tempdir().unwrap();
    let ledger = common::demo_ledger(dir.path());
    let token = create_token(&ledger, "desk", "read");
    let want = printed(&common::run(
        &ledger,
        &["positions", "paris-meeting", "--json"],
    ));
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls");
    let cert = fixtures.join("cert.pem");
    let key = fixtures.join("key.pem");
    let log = dir.path().join("serve.log");
    let (child, base) = start_logged(
        &ledger,
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
        &log,
    );
    let server = Reaped(child);
    assert!(base.starts_with("https://127.0.0.1:"), "{base}");

    let mut trusted = Command::new(common::bin());
    trusted
        .args([
            "--server",
            &base,
            "--cacert",
            fixtures.join("ca.pem").to_str().unwrap(),
        ])
        .args(["positions", "paris-meeting", "--json"])
        .env("ONRECORD_TOKEN", &token);
    assert_eq!(printed(&trusted.output().unwrap()), want);

    // Without the certificate the server is not trusted: exit 4, naming it.
    let untrusted = remote(&base, Some(&token), &["positions"]);
    assert_eq!(untrusted.status.code(), Some(4));
    assert!(common::text(&untrusted.stderr).contains(&base));
    // Plain HTTP to the TLS port gets no answer a client could take for one.
    let plain = remote(
        &base.replace("https://", "http://"),
        Some(&token),
        &["positions"],
    );
    assert_ne!(plain.status.code(), Some(0));

    drop(server);
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.contains("/v1/positions/paris-meeting"), "{log}");
    assert!(log.contains("status=200"), "{log}");
    let secret = token.rsplit('_').next().unwrap();
    assert!(!log.contains(secret), "the log holds a token: {log}");
}

#[test]
fn refusals_from_before_a_handler_are_problem_documents_too() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = common::demo_ledger(dir.path());
    let server = Server::start(&ledger);
    // A malformed query parameter is refused by axum's extractor before the handler.
    let (status, body) = server.get("/v1/positions?at_seq=twelve");
    assert_eq!(status, 400);
    let v: Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("not JSON: {body}"));
    assert_eq!(v["type"], "urn:onrecord:problem:invalid", "{v}");
    assert!(v["detail"].as_str().unwrap().contains("at_seq"), "{v}");
    // The body limit layer's 413, for a body declared past the cap.
    let answer = {
        use std::io::{Read, Write};
        let addr = server.base.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        write!(
            stream,
            "POST /v1/events HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            server.bearer(),
            17 * 1024 * 1024
        )
        .unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer
    };
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    let body = &answer[answer.find("\r\n\r\n").unwrap() + 4..];
    let v: Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body}"));
    assert_eq!(v["type"], "urn:onrecord:problem:too-large", "{v}");
}

/// POSTs `body` to `/v1/events` as JSON Lines with `token`: status and body.
fn append_as(server: &Server, token: &str, body: &str) -> (u16, String) {
    let mut response = server
        .agent
        .post(server.url("/v1/events"))
        .header("content-type", "application/x-ndjson")
        .header("authorization", format!("Bearer {token}"))
        .send(body)
        .expect("POST");
    let status = response.status().as_u16();
    (
        status,
        response.body_mut().read_to_string().unwrap_or_default(),
    )
}

#[test]
fn each_append_is_recorded_by_its_tokens_name_and_only_an_admin_may_restore_another() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_in(&dir);
    let bot = create_token(&ledger, "desk-bot", "append");
    let server = Server::start(&ledger);
    // The live tail shows who recorded what as it happens.
    let tail = server.tail("?from=1", &server.token);
    let mut lines = BufReader::new(tail.into_body().into_reader()).lines();
    let caught_up: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(caught_up["type"], "caught-up");

    // Two clients' appends; each is recorded by its own token's name.
    let (status, body) = append_as(&server, &bot, &party("a"));
    assert_eq!(status, 201, "{body}");
    assert_eq!(server.append(&party("b")).0, 201);
    let live: Vec<Value> = (0..2)
        .map(|_| serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap())
        .collect();
    assert_eq!(live[0]["event"]["recorded_by"], "desk-bot");
    assert_eq!(live[1]["event"]["recorded_by"], "test-admin");
    drop(lines);

    // An append token naming itself is fine; naming someone else is refused whole.
    let own = party("c").replacen('{', r#"{"recorded_by":"desk-bot","#, 1);
    assert_eq!(append_as(&server, &bot, &own).0, 201);
    let other = party("e").replacen('{', r#"{"recorded_by":"local:alice","#, 1);
    let (status, body) = append_as(&server, &bot, &format!("{}\n{other}\n", party("d")));
    assert_eq!(status, 400, "{body}");
    let problem: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(problem["errors"][0]["index"], 1, "{body}");
    let detail = problem["errors"][0]["detail"].as_str().unwrap();
    assert!(
        detail.contains("recorded_by `local:alice` is not this token's name `desk-bot`"),
        "{detail}"
    );
    let (_, so_far) = server.get("/v1/export");
    assert_eq!(
        so_far.lines().count(),
        3,
        "nothing of the refused batch is written"
    );

    // An admin restore keeps each line's recorder; a line without one is the admin's.
    let restore = format!("{other}\n{}\n", party("f"));
    let (status, body) = append_as(&server, &server.token, &restore);
    assert_eq!(status, 201, "{body}");
    let (status, export) = server.get("/v1/export");
    assert_eq!(status, 200);
    let recorders: Vec<(String, String)> = export
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (
                v["id"].as_str().unwrap().to_owned(),
                v["recorded_by"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("a", "desk-bot"),
        ("b", "test-admin"),
        ("c", "desk-bot"),
        ("e", "local:alice"),
        ("f", "test-admin"),
    ];
    assert_eq!(
        recorders,
        expected.map(|(a, b)| (a.to_owned(), b.to_owned())).to_vec()
    );
    // One event by seq says it too.
    let (_, first) = server.get("/v1/events/1");
    assert!(first.contains(r#""recorded_by":"desk-bot""#), "{first}");

    // A token name that could not be recorded is refused when the token is made.
    let (status, _, body) = server.post(
        "/v1/tokens",
        "application/json",
        r#"{"name":"bad\u001bname","role":"append"}"#,
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("invalid token name"), "{body}");
    assert!(server.stop().success());
}

#[test]
fn a_repeated_read_is_answered_from_the_head_it_was_computed_at_and_never_after_an_append() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = common::demo_ledger(dir.path());
    let server = Server::start(&ledger);
    let path = "/v1/positions/paris-meeting?as_of=2018-11-30";
    let (status, first) = server.get(path);
    assert_eq!(status, 200);
    let (_, again) = server.get(path);
    assert_eq!(again, first, "the same request at the same head");
    let (status, _) = server.append(
        r#"{"type":"statement","proposition":"paris-meeting","party":"trump","stance":"almost-certain","said_at":"2018-11-07","quote":"We will meet"}"#,
    );
    assert_eq!(status, 201);
    let (_, after) = server.get(path);
    assert_ne!(
        after, first,
        "an append moves the head, and the answer with it"
    );
    let v: Value = serde_json::from_str(&after).unwrap();
    let trump = v["positions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["party"] == "trump")
        .unwrap();
    assert_eq!(trump["stance"], "almost-certain", "{v}");
    // Other routes and query strings are answered for themselves.
    let (_, other) = server.get("/v1/positions/paris-meeting?as_of=2018-11-05");
    assert_ne!(other, after);
    assert!(server.stop().success());
}

#[test]
fn a_propositions_kept_answer_outlives_appends_to_other_propositions_but_never_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = common::demo_ledger(dir.path());
    let server = Server::start(&ledger);
    let path = "/v1/positions/paris-meeting";
    let (status, first, cache) = server.get_cached(path);
    assert_eq!((status, cache.as_str()), (200, "miss"));
    let (_, again, cache) = server.get_cached(path);
    assert_eq!((again.as_str(), cache.as_str()), (first.as_str(), "hit"));

    // An append about another proposition leaves this one's answer kept...
    let (status, _) = server.append(
        r#"{"type":"proposition","id":"g20-summit","text":"They meet at the G20","window":{"from":"2018-11-01","to":"2018-12-31"}}"#,
    );
    assert_eq!(status, 201);
    let (_, after_other, cache) = server.get_cached(path);
    assert_eq!(
        (after_other.as_str(), cache.as_str()),
        (first.as_str(), "hit")
    );
    // ...while routes over every proposition are computed again.
    let (_, _, cache) = server.get_cached("/v1/positions");
    assert_eq!(cache, "miss");

    // An append about this proposition is in the very next answer.
    let (status, _) = server.append(
        r#"{"type":"statement","proposition":"paris-meeting","party":"trump","stance":"almost-certain","said_at":"2018-11-07","quote":"We will meet"}"#,
    );
    assert_eq!(status, 201);
    let (_, after_own, cache) = server.get_cached(path);
    assert_eq!(cache, "miss");
    let v: Value = serde_json::from_str(&after_own).unwrap();
    let trump = v["positions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["party"] == "trump")
        .unwrap();
    assert_eq!(trump["stance"], "almost-certain", "{v}");
    // `Cache-Control: no-cache` is always computed now.
    let response = server
        .agent
        .get(server.url(path))
        .header("authorization", server.bearer())
        .header("cache-control", "no-cache")
        .call()
        .expect("GET");
    assert_eq!(response.headers().get("onrecord-cache").unwrap(), "miss");
    assert!(server.stop().success());
}

#[test]
fn tokens_are_managed_through_the_socket_of_the_server_holding_the_ledger_and_work_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = common::demo_ledger(dir.path());
    let server = Server::start(&ledger);
    let listed_before = common::ok(common::run(&ledger, &["token", "list", "--json"]), "list");
    let made = common::ok(
        common::run(
            &ledger,
            &[
                "--busy-wait",
                "0",
                "token",
                "create",
                "night-desk",
                "--role",
                "read",
            ],
        ),
        "create through the socket",
    );
    let token = common::text(&made.stdout).trim().to_owned();
    assert!(token.starts_with("onr_"), "{token}");
    // The server knows it at once: no restart.
    let answered = remote(&server.base, Some(&token), &["stats", "--json"]);
    assert_eq!(
        answered.status.code(),
        Some(0),
        "{}",
        common::text(&answered.stderr)
    );
    let listed: Value =
        serde_json::from_slice(&common::run(&ledger, &["token", "list", "--json"]).stdout).unwrap();
    let before: Value = serde_json::from_slice(&listed_before.stdout).unwrap();
    assert_eq!(
        listed.as_array().unwrap().len(),
        before.as_array().unwrap().len() + 1
    );
    let id = token.trim_start_matches("onr_").split('_').next().unwrap();
    let revoked = common::ok(common::run(&ledger, &["token", "revoke", id]), "revoke");
    assert!(common::text(&revoked.stdout).contains("night-desk"));
    let refused = remote(&server.base, Some(&token), &["stats"]);
    assert_eq!(refused.status.code(), Some(6));
    let table = common::text(&common::run(&ledger, &["token", "list"]).stdout);
    assert!(
        table
            .lines()
            .any(|l| l.contains("night-desk") && l.contains("revoked")),
        "{table}"
    );
    assert!(server.stop().success());
}

/// GET `path` with `Onrecord-Min-Seq: min_seq`: status, `Onrecord-Head-Seq`, body.
fn get_at_least(server: &Server, path: &str, min_seq: &str) -> (u16, Option<u64>, Value) {
    let mut response = server
        .agent
        .get(server.url(path))
        .header("authorization", server.bearer())
        .header("onrecord-min-seq", min_seq)
        .call()
        .expect("GET");
    let head = response
        .headers()
        .get("onrecord-head-seq")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let body = response.body_mut().read_to_string().unwrap_or_default();
    let body = serde_json::from_str(&body).unwrap_or(Value::String(body));
    (response.status().as_u16(), head, body)
}

#[test]
fn a_read_with_a_min_seq_waits_for_that_seq_or_says_behind_naming_the_head() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_in(&dir);
    let token = create_token(&ledger, "desk", "admin");
    let server = Server::start_args(&ledger, token.clone(), &["--min-seq-wait", "300"]);
    let (status, answer) = server.append(&party("alice"));
    assert_eq!(status, 201);
    let seq = answer["seq"].as_u64().unwrap();

    // Its own acknowledged seq is there at once, on every read route.
    for path in ["/v1/parties", "/v1/positions", "/v1/stats", "/v1/events/1"] {
        let (status, head, body) = get_at_least(&server, path, &seq.to_string());
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(head, Some(seq), "{path}");
    }
    // Past the head: 503 behind after the bound, with the seq it has.
    let started = std::time::Instant::now();
    let (status, head, body) = get_at_least(&server, "/v1/positions", "1000");
    assert_eq!(status, 503, "{body}");
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(body["type"], "urn:onrecord:problem:behind");
    assert_eq!(body["head"].as_u64(), Some(seq));
    assert_eq!(head, Some(seq));
    // Not a seq: 400 naming the value.
    let (status, _, body) = get_at_least(&server, "/v1/positions", "next");
    assert_eq!(status, 400);
    assert!(
        body["detail"].as_str().unwrap().contains("`next`"),
        "{body}"
    );
    // The document says which routes take it.
    let (_, doc) = server.get("/v1/openapi.json");
    let doc: Value = serde_json::from_str(&doc).unwrap();
    let names = |path: &str| -> Vec<String> {
        doc["paths"][path]["get"]["parameters"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .map(|p| p["name"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert!(names("/v1/positions").contains(&"Onrecord-Min-Seq".to_owned()));
    assert!(!names("/v1/health").contains(&"Onrecord-Min-Seq".to_owned()));
    // The CLI sends it with --min-seq (or $ONRECORD_MIN_SEQ).
    let held = remote(
        &server.base,
        Some(&token),
        &["--min-seq", &seq.to_string(), "stats", "--json"],
    );
    assert_eq!(
        held.status.code(),
        Some(0),
        "{}",
        common::text(&held.stderr)
    );
    let behind = remote(&server.base, Some(&token), &["--min-seq", "1000", "stats"]);
    let said = common::text(&behind.stderr);
    assert_eq!(behind.status.code(), Some(4), "{said}");
    assert!(said.contains(&format!("seq {seq}")), "{said}");
    assert_eq!(said.trim().lines().count(), 1, "{said}");
    assert!(server.stop().success());

    // A read that asks for the next seq waits for the append that makes it.
    let server = Server::start_args(&ledger, token, &["--min-seq-wait", "20000"]);
    let next = (seq + 1).to_string();
    std::thread::scope(|scope| {
        let reader = scope.spawn(|| get_at_least(&server, "/v1/parties", &next));
        std::thread::sleep(Duration::from_millis(200));
        let (status, _) = server.append(&party("bob"));
        assert_eq!(status, 201);
        let (status, head, body) = reader.join().unwrap();
        assert_eq!(status, 200, "{body}");
        assert_eq!(head, Some(seq + 1));
        assert!(
            body.as_array().unwrap().iter().any(|p| p["id"] == "bob"),
            "{body}"
        );
    });
    assert!(server.stop().success());
}
