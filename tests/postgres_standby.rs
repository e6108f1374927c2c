//! Reads from a standby (issue 16 item 5), through the real binary: a
//! primary and one asynchronous streaming standby on loopback, one
//! `onrecord serve` on each. Appends go through the primary; reads through
//! the standby's server carry `Onrecord-Min-Seq` (the acknowledged seq) and
//! include the event, waiting for the standby's replay as needed; a live
//! tail on the standby follows the primary's appends; a min seq far past
//! the head is 503 `behind` after the server's bound, naming the seq it
//! has. Every process and cluster is ended even on failure.
//! Skipped where PostgreSQL cannot run, unless `ONRECORD_REQUIRE_POSTGRES`.

mod common;

use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use onrecord_postgres::test_cluster::{Cluster, REQUIRE_ENV, Unavailable};
use serde_json::Value;

/// `onrecord --ledger URL ARGS...`, required to succeed: its stdout.
fn ok(url: &str, args: &[&str]) -> String {
    let (code, out) = common::run_at(url, args);
    assert_eq!(code, Some(0), "{args:?}: {out}");
    out
}

/// One answer: status, the headers this test reads, and the body.
struct Answer {
    status: u16,
    head_seq: Option<u64>,
    retry_after: Option<String>,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build(),
    )
}

/// GET `path` on `server` with `token`, and `Onrecord-Min-Seq: min_seq` when given.
fn get(
    agent: &ureq::Agent,
    server: &common::Served,
    path: &str,
    token: &str,
    min_seq: Option<&str>,
) -> Answer {
    let mut request = agent
        .get(format!("{}{path}", server.base))
        .header("authorization", format!("Bearer {token}"));
    if let Some(seq) = min_seq {
        request = request.header("onrecord-min-seq", seq);
    }
    let mut response = request.call().expect("GET");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let head_seq = header("onrecord-head-seq").and_then(|v| v.parse().ok());
    let retry_after = header("retry-after");
    Answer {
        status: response.status().as_u16(),
        head_seq,
        retry_after,
        body: response.body_mut().read_to_string().unwrap_or_default(),
    }
}

fn party(id: &str) -> String {
    format!(r#"{{"type":"party","id":"{id}","name":"Party {id}","kind":"person"}}"#)
}

/// A primary and one asynchronous standby, or `None` to skip.
fn replicated() -> Option<(Cluster, Cluster)> {
    let settings = ["fsync=off", "max_connections=100", "wal_level=replica"];
    let primary = match Cluster::start(&settings) {
        Ok(c) => c,
        Err(Ok(Unavailable(why))) if std::env::var_os(REQUIRE_ENV).is_none() => {
            println!("skipped: PostgreSQL is not available here ({why})");
            return None;
        }
        Err(e) => panic!("the primary did not start: {e:?}"),
    };
    let standby = primary.standby("s1", &settings).expect("standby s1");
    primary.wait_for_standbys(1).expect("the standby streams");
    Some((primary, standby))
}

#[test]
fn a_server_on_a_standby_waits_for_the_clients_seq_or_says_it_is_behind() {
    let Some((primary, standby)) = replicated() else {
        return;
    };
    let url = primary.url("postgres");
    let standby_url = standby.url("postgres");
    ok(&url, &["init"]);
    let token = ok(&url, &["token", "create", "desk", "--role", "read"]);
    let token = token.trim().to_owned();
    let writer = ok(&url, &["token", "create", "bot", "--role", "append"]);
    let writer = writer.trim().to_owned();
    // The standby's server reads its tokens when it starts: wait for them to replay.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !common::run_at(&standby_url, &["token", "list"])
        .1
        .contains("bot")
    {
        assert!(
            Instant::now() < deadline,
            "the tokens never reached the standby"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let on_primary = common::Served::start(&url);
    let on_standby = common::Served::start(&standby_url);
    let agent = agent();

    // A live tail on the standby, open before any event: it must follow the
    // primary's appends, which no notification announces on a standby.
    let tail = agent
        .get(format!("{}/v1/events?from=1", on_standby.base))
        .header("accept", "application/x-ndjson")
        .header("authorization", format!("Bearer {token}"))
        .call()
        .expect("open a tail on the standby");
    assert_eq!(tail.status(), 200);
    let mut tail = BufReader::new(tail.into_body().into_reader());

    // Each append through the primary, then read at once through the
    // standby with its acknowledged seq: the answer includes it.
    let mut acknowledged = Vec::new();
    for i in 0..12 {
        let id = format!("p{i}");
        let mut answer = agent
            .post(format!("{}/v1/events", on_primary.base))
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {writer}"))
            .send(party(&id))
            .expect("append through the primary");
        assert_eq!(answer.status(), 201);
        let body: Value =
            serde_json::from_str(&answer.body_mut().read_to_string().unwrap()).unwrap();
        let seq = body["seq"].as_u64().expect("an acknowledged seq");
        acknowledged.push((seq, id.clone()));

        let seq_text = seq.to_string();
        let event = get(
            &agent,
            &on_standby,
            &format!("/v1/events/{seq}"),
            &token,
            Some(&seq_text),
        );
        assert_eq!(
            event.status, 200,
            "seq {seq} through the standby: {}",
            event.body
        );
        assert_eq!(event.json()["id"].as_str(), Some(id.as_str()));
        assert!(
            event.head_seq.is_some_and(|h| h >= seq),
            "head seq {:?}",
            event.head_seq
        );

        let parties = get(&agent, &on_standby, "/v1/parties", &token, Some(&seq_text));
        assert_eq!(parties.status, 200, "{}", parties.body);
        assert!(
            parties
                .json()
                .as_array()
                .is_some_and(|all| all.iter().any(|p| p["id"] == id.as_str())),
            "{id} missing from the standby's parties at seq {seq}: {}",
            parties.body
        );
    }
    let (last, _) = *acknowledged.last().unwrap();

    // The tail on the standby sent every one of them, in order.
    let mut seen = Vec::new();
    let mut line = String::new();
    while seen.len() < acknowledged.len() {
        line.clear();
        let read = tail.read_line(&mut line).expect("read the standby's tail");
        assert!(read > 0, "the standby's tail ended after {seen:?}");
        let item: Value = serde_json::from_str(line.trim()).expect("a JSON line");
        if item["type"] == "event" {
            let event = &item["event"];
            seen.push((
                event["seq"].as_u64().unwrap(),
                event["id"].as_str().unwrap().to_owned(),
            ));
        }
    }
    assert_eq!(seen, acknowledged);

    // Without the header the standby's answers still say which head they were at.
    let health = get(&agent, &on_standby, "/v1/stats", &token, None);
    assert_eq!(health.status, 200);
    assert_eq!(health.head_seq, Some(last));

    // Far past anything the ledger has: 503 behind after the bound (2 s by
    // default), naming the seq it has.
    let far = (last + 1000).to_string();
    let started = Instant::now();
    let behind = get(&agent, &on_standby, "/v1/positions", &token, Some(&far));
    let waited = started.elapsed();
    assert_eq!(behind.status, 503, "{}", behind.body);
    let problem = behind.json();
    assert_eq!(problem["type"], "urn:onrecord:problem:behind");
    assert_eq!(problem["head"].as_u64(), Some(last));
    assert!(
        problem["detail"].as_str().unwrap().contains(&far),
        "{}",
        problem["detail"]
    );
    assert_eq!(behind.retry_after.as_deref(), Some("1"));
    assert_eq!(behind.head_seq, Some(last));
    assert!(
        waited >= Duration::from_secs(2) && waited < Duration::from_secs(25),
        "answered behind after {waited:?}"
    );

    // The primary satisfies its own acknowledged seq at once, and a bad value is 400 naming it.
    let at_primary = get(
        &agent,
        &on_primary,
        "/v1/positions",
        &token,
        Some(&last.to_string()),
    );
    assert_eq!(at_primary.status, 200, "{}", at_primary.body);
    assert_eq!(at_primary.head_seq, Some(last));
    let bad = get(&agent, &on_standby, "/v1/positions", &token, Some("soon"));
    assert_eq!(bad.status, 400);
    assert!(
        bad.json()["detail"].as_str().unwrap().contains("`soon`"),
        "{}",
        bad.body
    );

    // The standby takes no appends.
    let refused = agent
        .post(format!("{}/v1/events", on_standby.base))
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {writer}"))
        .send(party("on-standby"))
        .expect("append through the standby");
    assert!(
        refused.status().as_u16() >= 400,
        "the standby took an append"
    );

    drop(tail);
    drop(on_standby);
    drop(on_primary);
}
