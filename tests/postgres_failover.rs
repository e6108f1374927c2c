//! Replication and failover (issue 16 item 5), through the real binary: a
//! primary and two synchronous standbys on loopback (`synchronous_standby_names
//! = 'ANY 1 (s1, s2)'`, `synchronous_commit = on`), two `onrecord serve`
//! processes on the primary with clients appending through both, the
//! primary SIGKILLed under that load, a standby promoted (its
//! `synchronous_standby_names` reset, or every commit would wait for a
//! standby that is not there) and a server pointed at it. Every
//! acknowledged event is there, the sequence continues at head + 1, and
//! `verify` passes. Every process and cluster is ended even on failure.
//! Skipped where PostgreSQL cannot run, unless `ONRECORD_REQUIRE_POSTGRES`.

mod common;

use std::collections::BTreeMap;

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use onrecord_postgres::test_cluster::{Cluster, REQUIRE_ENV, Unavailable};
use serde_json::Value;

/// `onrecord --ledger URL ARGS...`, required to succeed: its stdout.
fn ok(url: &str, args: &[&str]) -> String {
    let (code, out) = common::run_at(url, args);
    assert_eq!(code, Some(0), "{args:?}: {out}");
    out
}

fn party(id: &str) -> String {
    format!(r#"{{"type":"party","id":"{id}","name":"Party {id}","kind":"person"}}"#)
}

/// A primary and two synchronous standbys, or `None` to skip.
fn replicated() -> Option<(Cluster, Cluster, Cluster)> {
    let settings = ["fsync=off", "max_connections=100", "wal_level=replica"];
    let primary = match Cluster::start(&settings) {
        Ok(c) => c,
        Err(Ok(Unavailable(why))) if std::env::var_os(REQUIRE_ENV).is_none() => {
            println!("skipped: PostgreSQL is not available here ({why})");
            return None;
        }
        Err(e) => panic!("the primary did not start: {e:?}"),
    };
    let s1 = primary.standby("s1", &settings).expect("standby s1");
    let s2 = primary.standby("s2", &settings).expect("standby s2");
    primary.wait_for_standbys(2).expect("both standbys stream");
    // One statement each: ALTER SYSTEM refuses to run in a transaction block.
    for sql in [
        "ALTER SYSTEM SET synchronous_standby_names = 'ANY 1 (s1, s2)'",
        "ALTER SYSTEM SET synchronous_commit = 'on'",
        "SELECT pg_reload_conf()",
    ] {
        primary
            .execute("postgres", sql)
            .expect("make the standbys synchronous");
    }
    Some((primary, s1, s2))
}

#[test]
fn a_killed_primary_loses_no_acknowledged_event_and_the_promoted_standby_continues_the_chain() {
    let Some((primary, s1, _s2)) = replicated() else {
        return;
    };
    let url = primary.url("postgres");
    ok(&url, &["init"]);
    let token = ok(&url, &["token", "create", "desk", "--role", "admin"]);
    let token = token.trim().to_owned();
    let servers = [common::Served::start(&url), common::Served::start(&url)];
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(20)))
            .build(),
    );

    let acknowledged = Mutex::new(BTreeMap::new());
    let primary_gone = AtomicBool::new(false);
    std::thread::scope(|scope| {
        for client in 0..6 {
            let (server, agent, token) = (&servers[client % 2], &agent, &token);
            let (acknowledged, primary_gone) = (&acknowledged, &primary_gone);
            scope.spawn(move || {
                for i in 0.. {
                    let id = format!("c{client}-{i}");
                    let answer = agent
                        .post(format!("{}/v1/events", server.base))
                        .header("content-type", "application/json")
                        .header("authorization", format!("Bearer {token}"))
                        .send(party(&id));
                    let Ok(mut answer) = answer else { break };
                    let body: Value = serde_json::from_str(
                        &answer.body_mut().read_to_string().unwrap_or_default(),
                    )
                    .unwrap_or(Value::Null);
                    if answer.status() == 201 {
                        let seq = body["seq"].as_u64().expect("an acknowledged seq");
                        acknowledged.lock().unwrap().insert(seq, id);
                    } else if primary_gone.load(Ordering::SeqCst) {
                        break;
                    } else {
                        panic!("{id} refused before the primary died: {body}");
                    }
                }
            });
        }
        // Let the load run, then kill the primary under it.
        std::thread::sleep(Duration::from_millis(1500));
        primary_gone.store(true, Ordering::SeqCst);
        primary.kill();
    });
    drop(servers);
    let acknowledged = acknowledged.into_inner().unwrap();
    assert!(
        acknowledged.len() > 10,
        "the load ran: {}",
        acknowledged.len()
    );

    s1.promote().expect("promote s1");
    // The new primary has no synchronous standby yet: without this reset
    // every commit on it would wait for one.
    for sql in [
        "ALTER SYSTEM SET synchronous_standby_names = ''",
        "SELECT pg_reload_conf()",
    ] {
        s1.execute("postgres", sql)
            .expect("reset synchronous_standby_names");
    }
    let url = s1.url("postgres");
    let exported: Vec<Value> = ok(&url, &["export"])
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    for (seq, id) in &acknowledged {
        assert_eq!(
            exported
                .get((*seq - 1) as usize)
                .and_then(|e| e["id"].as_str()),
            Some(id.as_str()),
            "acknowledged seq {seq} survives the failover"
        );
    }
    let head = exported.len() as u64;
    assert!(head >= *acknowledged.keys().last().unwrap());

    // A server pointed at the new primary goes on at head + 1.
    let server = common::Served::start(&url);
    let mut answer = agent
        .post(format!("{}/v1/events", server.base))
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .send(party("after-failover"))
        .expect("append after the failover");
    assert_eq!(answer.status(), 201);
    let body: Value = serde_json::from_str(&answer.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(body["seq"].as_u64(), Some(head + 1));
    drop(server);
    let verified = ok(&url, &["verify"]);
    assert!(
        verified.starts_with(&format!("ok: {} records", head + 1)),
        "{verified}"
    );
}
