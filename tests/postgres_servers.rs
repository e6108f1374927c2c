//! Many `onrecord serve` processes on one PostgreSQL ledger (issue 16 item
//! 4), through the real binary: three servers on one database, each on a
//! free loopback port, clients appending through all of them at once. One
//! gapless chain holding every acknowledged event once, `verify` clean;
//! exactly one winner of an expected-revision race run across servers; an
//! event id re-sent to another server is "already recorded"; a live tail on
//! one server sees the appends made through another, in order, no gap.
//! Every server is killed (and waited for) when its guard drops, even when
//! a test fails; the database lives on the test binary's own cluster.
//! Skipped (printing "skipped") where PostgreSQL cannot run, unless
//! `ONRECORD_REQUIRE_POSTGRES` is set.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use onrecord_postgres::test_cluster::TestDatabase;
use serde_json::Value;

/// `onrecord --ledger URL ARGS...`, run to completion and required to succeed.
fn onrecord(url: &str, args: &[&str]) -> String {
    let out = Command::new(common::bin())
        .arg("--ledger")
        .arg(url)
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("spawn onrecord");
    common::text(&common::ok(out, &args.join(" ")).stdout)
}

/// An `onrecord serve` process on the ledger at a URL; killed when dropped.
struct Server {
    child: Child,
    base: String,
    agent: ureq::Agent,
    token: String,
}

impl Server {
    /// Starts `onrecord serve` on `url`, port 0 (a free loopback port), and
    /// reads the address it prints; requests carry `token`.
    fn start(url: &str, token: &str) -> Self {
        let (child, base) = common::spawn_serve(url, &[], Stdio::null());
        let agent = ureq::Agent::new_with_config(
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(60)))
                .build(),
        );
        Self {
            child,
            base,
            agent,
            token: token.to_owned(),
        }
    }

    /// POSTs one JSON event to `/v1/events{query}`: status and parsed answer.
    fn append(&self, query: &str, event: &str) -> (u16, Value) {
        let mut response = self
            .agent
            .post(format!("{}/v1/events{query}", self.base))
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {}", self.token))
            .send(event)
            .expect("POST /v1/events");
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string().unwrap_or_default();
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }

    /// GETs `path`: status and parsed body.
    fn get(&self, path: &str) -> (u16, Value) {
        let mut response = self
            .agent
            .get(format!("{}{path}", self.base))
            .header("authorization", format!("Bearer {}", self.token))
            .call()
            .expect("GET");
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string().unwrap_or_default();
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }

    /// Opens a live tail from seq `from`, as typed JSON lines.
    fn tail(&self, from: u64) -> impl Iterator<Item = Value> {
        let response = self
            .agent
            .get(format!("{}/v1/events?from={from}", self.base))
            .header("accept", "application/x-ndjson")
            .header("authorization", format!("Bearer {}", self.token))
            .call()
            .expect("open a tail");
        assert_eq!(response.status(), 200);
        BufReader::new(response.into_body().into_reader())
            .lines()
            .map(|line| serde_json::from_str(&line.expect("a tail line")).expect("JSON"))
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

const PROPOSITION: &str = r#"{"type":"proposition","id":"paris-meeting","text":"Trump and Putin talk in Paris.","criteria":"Any direct conversation counts.","window":{"from":"2018-11-10","to":"2018-11-12"}}"#;

/// A ledger in a fresh database, an admin token, and `n` servers on it.
fn servers_on_one_ledger(db: &TestDatabase, n: usize) -> Vec<Server> {
    let url = db.url();
    onrecord(&url, &["init"]);
    let token = onrecord(&url, &["token", "create", "desk", "--role", "admin"]);
    (0..n).map(|_| Server::start(&url, token.trim())).collect()
}

/// Every event of the ledger, exported through the CLI: (seq order) lines.
fn exported(url: &str) -> Vec<Value> {
    onrecord(url, &["export"])
        .lines()
        .map(|l| serde_json::from_str(l).expect("an exported line is JSON"))
        .collect()
}

#[test]
fn clients_appending_through_three_servers_get_one_gapless_chain_with_every_ack_once() {
    let Some(db) = TestDatabase::new() else {
        return;
    };
    let servers = servers_on_one_ledger(&db, 3);
    let acknowledged = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for client in 0..12 {
            let server = &servers[client % servers.len()];
            let acknowledged = &acknowledged;
            scope.spawn(move || {
                for i in 0..15 {
                    let id = format!("c{client}-{i}");
                    let (status, answer) = server.append("", &party(&id));
                    assert_eq!(status, 201, "{id}: {answer}");
                    let seq = answer["seq"].as_u64().expect("an acknowledged seq");
                    acknowledged.lock().unwrap().push((seq, id));
                }
            });
        }
    });
    let mut acknowledged = acknowledged.into_inner().unwrap();
    acknowledged.sort();
    let seqs: Vec<u64> = acknowledged.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        seqs,
        (1..=180).collect::<Vec<u64>>(),
        "every seq acknowledged once, no gap"
    );
    let url = db.url();
    let events = exported(&url);
    assert_eq!(events.len(), 180);
    for (seq, id) in &acknowledged {
        assert_eq!(
            events[(*seq - 1) as usize]["id"].as_str(),
            Some(id.as_str()),
            "seq {seq} holds the event acknowledged for it"
        );
    }
    let ids: BTreeSet<&str> = events.iter().filter_map(|e| e["id"].as_str()).collect();
    assert_eq!(ids.len(), 180, "each event once");
    let verified = onrecord(&url, &["verify"]);
    assert!(verified.starts_with("ok: 180 records"), "{verified}");
    // Each server hears of the others' heads (a notification away).
    for server in &servers {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let (status, health) = server.get("/v1/health");
            assert_eq!(status, 200);
            if health["head"] == 180 {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "a server never heard of the shared head: {health}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[test]
fn an_expected_revision_race_across_servers_has_exactly_one_winner() {
    let Some(db) = TestDatabase::new() else {
        return;
    };
    let servers = servers_on_one_ledger(&db, 3);
    assert_eq!(servers[0].append("", &party("kremlin")).0, 201);
    assert_eq!(servers[1].append("", PROPOSITION).0, 201);
    // The proposition's stream is at revision 0; twelve clients expect it.
    let statement = r#"{"type":"statement","proposition":"paris-meeting","party":"kremlin","stance":"likely","said_at":"2018-11-09"}"#;
    let answers = Mutex::new(Vec::new());
    let start = std::sync::Barrier::new(12);
    std::thread::scope(|scope| {
        for client in 0..12 {
            let (server, answers, start) = (&servers[client % 3], &answers, &start);
            scope.spawn(move || {
                start.wait();
                let answer = server.append("?expected_revision=0", statement);
                answers.lock().unwrap().push(answer);
            });
        }
    });
    let answers = answers.into_inner().unwrap();
    let won: Vec<_> = answers.iter().filter(|(s, _)| *s == 201).collect();
    let lost: Vec<_> = answers.iter().filter(|(s, _)| *s == 409).collect();
    assert_eq!(won.len(), 1, "exactly one winner: {answers:?}");
    assert_eq!(lost.len(), 11, "every other client is told: {answers:?}");
    for (_, problem) in lost {
        let detail = problem["detail"].as_str().unwrap_or_default();
        assert!(
            detail.contains("expected 0") && detail.contains("actual 1"),
            "{detail}"
        );
    }
    assert_eq!(exported(&db.url()).len(), 3);
    onrecord(&db.url(), &["verify"]);
}

#[test]
fn an_event_id_resent_to_another_server_is_already_recorded() {
    let Some(db) = TestDatabase::new() else {
        return;
    };
    let servers = servers_on_one_ledger(&db, 2);
    let id = "0190a7b8-7c3d-7e4f-8a1b-2c3d4e5f6a7b";
    let event = format!(
        r#"{{"type":"party","id":"trump","name":"Donald Trump","kind":"person","event_id":"{id}"}}"#
    );
    let (status, first) = servers[0].append("", &event);
    assert_eq!(status, 201, "{first}");
    // Another server moves the head in between, so the retry is no accident of caching.
    assert_eq!(servers[1].append("", &party("kremlin")).0, 201);
    let (status, again) = servers[1].append("", &event);
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["status"], "already-recorded");
    assert_eq!(
        (again["seq"].as_u64(), again["event_id"].as_str()),
        (Some(1), Some(id))
    );
    assert_eq!(exported(&db.url()).len(), 2);
}

#[test]
fn a_live_tail_on_one_server_sees_appends_through_the_others_in_order_without_a_gap() {
    let Some(db) = TestDatabase::new() else {
        return;
    };
    let servers = servers_on_one_ledger(&db, 3);
    assert_eq!(servers[0].append("", &party("first")).0, 201);
    let mut tail = servers[1].tail(1);
    let caught_up = tail.next().map(|first| {
        assert_eq!(first["event"]["seq"], 1);
        tail.next()
    });
    assert_eq!(
        caught_up.flatten().map(|v| v["type"].clone()),
        Some(Value::from("caught-up"))
    );
    // Appends through the other two servers, from two clients at once.
    std::thread::scope(|scope| {
        for (n, server) in [(0, &servers[0]), (2, &servers[2])] {
            scope.spawn(move || {
                for i in 0..20 {
                    let id = format!("p{n}-{i}");
                    let (status, answer) = server.append("", &party(&id));
                    assert!(status == 201 || status == 200, "{answer}");
                }
            });
        }
    });
    let mut seen = Vec::new();
    for line in tail.by_ref() {
        if line["type"] == "event" {
            seen.push(line["event"]["seq"].as_u64().expect("a seq"));
        }
        if seen.len() == 40 {
            break;
        }
    }
    assert_eq!(
        seen,
        (2..=41).collect::<Vec<u64>>(),
        "every append through the other servers, in order, no gap"
    );
}

/// Polls `check` every 50 ms for up to 20 s; whether it came true.
fn within_seconds(mut check: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::time::Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
fn a_token_made_or_revoked_through_one_server_works_or_stops_on_the_others_open_tails_included() {
    let Some(db) = TestDatabase::new() else {
        return;
    };
    let servers = servers_on_one_ledger(&db, 2);
    let (a, b) = (&servers[0], &servers[1]);
    let made = a
        .agent
        .post(format!("{}/v1/tokens", a.base))
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {}", a.token))
        .send(r#"{"name":"bot","role":"read"}"#)
        .expect("POST /v1/tokens")
        .body_mut()
        .read_to_string()
        .unwrap();
    let made: Value = serde_json::from_str(&made).unwrap();
    let (id, secret) = (
        made["id"].as_str().unwrap().to_owned(),
        made["token"].as_str().unwrap().to_owned(),
    );
    let status_on_b = |path: &str| {
        b.agent
            .get(format!("{}{path}", b.base))
            .header("authorization", format!("Bearer {secret}"))
            .call()
            .expect("GET on B")
            .status()
            .as_u16()
    };
    assert!(
        within_seconds(|| status_on_b("/v1/stats") == 200),
        "a token made through A works on B"
    );
    // A tail on B with that token, then the token revoked through A.
    let tail = b
        .agent
        .get(format!("{}/v1/events?from=1", b.base))
        .header("accept", "application/x-ndjson")
        .header("authorization", format!("Bearer {secret}"))
        .call()
        .expect("open a tail on B");
    assert_eq!(tail.status(), 200);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let lines = BufReader::new(tail.into_body().into_reader())
            .lines()
            .count();
        let _ = tx.send(lines);
    });
    let revoked = a
        .agent
        .delete(format!("{}/v1/tokens/{id}", a.base))
        .header("authorization", format!("Bearer {}", a.token))
        .call()
        .expect("DELETE /v1/tokens/ID");
    assert_eq!(revoked.status(), 200);
    assert!(
        within_seconds(|| status_on_b("/v1/stats") == 401),
        "a token revoked through A stops on B"
    );
    assert!(
        rx.recv_timeout(Duration::from_secs(20)).is_ok(),
        "B closes the tail the revoked token held open"
    );
}
