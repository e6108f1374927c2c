//! The real binary on a PostgreSQL ledger (`--ledger postgres://...` and
//! `$ONRECORD_LEDGER`): `init` makes the schema, and append, positions
//! --json, verify and export work on it and answer as on sled; the SQL read
//! interface (`docs/sql.md`) answers as `positions` and `contradictions` do. Each test
//! gets a fresh database on the test binary's own cluster; skipped
//! (printing "skipped") where PostgreSQL cannot run, unless
//! `ONRECORD_REQUIRE_POSTGRES` is set.

mod util;

use onrecord_postgres::test_cluster::TestDatabase;
use serde_json::Value;
use util::Env;

/// `onrecord --ledger URL ARGS...`.
fn on(url: &str, args: &[&str]) -> util::Run {
    let mut cmd = Env::bare();
    cmd.arg("--ledger").arg(url).args(args);
    Env::exec(&mut cmd)
}

/// `value` without the statements' event ids (fresh v7 ids, different on each ledger).
fn without_ids(mut value: Value) -> Value {
    match &mut value {
        Value::Object(map) => {
            map.remove("statement");
            for v in map.values_mut() {
                *v = without_ids(v.take());
            }
        }
        Value::Array(items) => {
            for v in items.iter_mut() {
                *v = without_ids(v.take());
            }
        }
        _ => {}
    }
    value
}

/// Asserts `run` failed with exit 1 and one line of stderr naming each of
/// `words`; returns that line.
fn refused(run: util::Run, words: &[&str]) -> String {
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
    for word in words {
        assert!(run.stderr.contains(word), "no `{word}` in: {}", run.stderr);
    }
    run.stderr
}

fn ok(run: util::Run, what: &str) -> String {
    assert_eq!(run.code, 0, "{what} failed: {}{}", run.stdout, run.stderr);
    run.stdout
}

#[test]
fn init_append_positions_verify_and_export_work_on_postgres_as_on_sled() {
    let Some(db) = TestDatabase::new() else {
        return;
    };
    let url = db.url();
    let env = Env::new();
    let story = env.file("story.jsonl");
    std::fs::write(&story, util::STORY).unwrap();
    let story = story.to_str().unwrap();

    let created = ok(on(&url, &["init"]), "init");
    assert!(created.contains("created an empty ledger"), "{created}");
    let again = on(&url, &["init"]);
    assert_ne!(again.code, 0, "a second init is refused");
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);

    ok(
        on(&url, &["append", "--jsonl", story]),
        "append --jsonl on postgres",
    );
    ok(
        env.run(&["append", "--jsonl", story]),
        "append --jsonl on sled",
    );

    // $ONRECORD_LEDGER names it as well as --ledger does.
    let mut by_env = Env::bare();
    by_env
        .env("ONRECORD_LEDGER", &url)
        .args(["positions", "--json"]);
    let on_postgres: Value =
        serde_json::from_str(&ok(Env::exec(&mut by_env), "positions")).unwrap();
    let on_sled: Value =
        serde_json::from_str(&ok(env.run(&["positions", "--json"]), "positions on sled")).unwrap();
    assert!(on_postgres.as_array().is_some_and(|a| !a.is_empty()));
    assert_eq!(
        without_ids(on_postgres),
        without_ids(on_sled),
        "the same positions on both backends"
    );

    let verified = ok(on(&url, &["verify"]), "verify");
    assert!(!verified.is_empty());

    let exported = ok(on(&url, &["export"]), "export");
    let lines: Vec<Value> = exported
        .lines()
        .map(|l| serde_json::from_str(l).expect("export prints JSON Lines"))
        .collect();
    let story_lines = util::STORY.lines().filter(|l| !l.trim().is_empty()).count();
    assert_eq!(lines.len(), story_lines, "every event exported");
}

#[test]
fn demo_with_a_postgres_ledger_loads_the_story_into_that_database_and_nothing_onto_disk() {
    let Some(db) = TestDatabase::new() else {
        return;
    };
    let url = db.url();
    let env = Env::new();
    let mut demo = Env::bare();
    demo.current_dir(env.file(""))
        .args(["--ledger", &url, "demo"]);
    let shown = ok(Env::exec(&mut demo), "demo on postgres");
    assert!(
        shown.contains("events) into postgres://"),
        "the demo names the database it loaded: {shown}"
    );
    let in_dir: Vec<_> = std::fs::read_dir(env.file("")).unwrap().collect();
    assert!(in_dir.is_empty(), "nothing written to disk: {in_dir:?}");

    let story_lines = util::STORY.lines().filter(|l| !l.trim().is_empty()).count();
    let exported = ok(on(&url, &["export"]), "export after the demo");
    assert_eq!(
        exported.lines().count(),
        story_lines,
        "the story is in the database"
    );
    ok(on(&url, &["verify"]), "verify after the demo");
    let again = on(&url, &["demo"]);
    assert_ne!(again.code, 0, "a second demo into a ledger is refused");
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
}

#[test]
fn a_database_without_a_ledger_says_run_init_and_gets_no_schema() {
    let Some(db) = TestDatabase::new() else {
        return;
    };
    let run = on(&db.url(), &["positions"]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("no ledger at postgres://") && run.stderr.contains("onrecord init"),
        "{}",
        run.stderr
    );
    db.execute(
        "DO $$ BEGIN IF to_regnamespace('onrecord') IS NOT NULL THEN RAISE EXCEPTION 'written'; END IF; END $$",
    );
}

#[test]
fn an_unreachable_database_is_named_by_host_and_port_without_the_password() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let run = on(
        &format!("postgres://desk:s3cret@127.0.0.1:{port}/ledger"),
        &["positions"],
    );
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("127.0.0.1:{port}")),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("s3cret"), "{}", run.stderr);
}

/// `value[key]` as text ("" when absent or null), numbers as written.
fn field(value: &Value, key: &str) -> String {
    match &value[key] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A fresh database holding the seed story (`append --jsonl`), and its
/// URL; `None` to skip where PostgreSQL cannot run.
fn database_with_the_story() -> Option<(TestDatabase, String)> {
    let db = TestDatabase::new()?;
    let url = db.url();
    let env = Env::new();
    let story = env.file("story.jsonl");
    std::fs::write(&story, util::STORY).unwrap();
    ok(
        on(&url, &["append", "--jsonl", story.to_str().unwrap()]),
        "append --jsonl",
    );
    Some((db, url))
}

#[test]
fn verify_names_the_first_sql_read_row_that_does_not_match_its_record() {
    let Some((db, url)) = database_with_the_story() else {
        return;
    };
    ok(on(&url, &["verify"]), "verify of untouched tables");
    let seq_of = |sql: &str| db.query(sql)[0][0].clone().unwrap();
    let statement = seq_of("SELECT max(seq) FROM onrecord.recorded_statements");
    let party = seq_of("SELECT min(seq) FROM onrecord.recorded_parties");
    let verify_fails_at = |seq: &str, table: &str| {
        let run = on(&url, &["verify"]);
        assert_eq!(run.code, 5, "{}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains(&format!("seq {seq}")) && run.stderr.contains(table),
            "{}",
            run.stderr
        );
    };

    // A changed column, a row past the head, a missing row and one
    // that does not match its record.
    db.execute(&format!(
        "UPDATE onrecord.recorded_statements SET credence = credence + 0.01 WHERE seq = {statement}"
    ));
    verify_fails_at(&statement, "onrecord.recorded_statements");
    db.execute(&format!(
        "UPDATE onrecord.recorded_statements SET credence = credence - 0.01 WHERE seq = {statement}"
    ));
    ok(on(&url, &["verify"]), "verify once the row is put back");
    let fake = |seq: &str| {
        format!(
            "INSERT INTO onrecord.recorded_parties
               (seq, event_id, recorded_at, recorded_by, party, name, kind, speaks_for, aliases)
             VALUES ({seq}, gen_random_uuid(), now(), NULL, 'x', 'x', 'person', NULL, '{{}}')"
        )
    };
    db.execute(&fake("1000000"));
    verify_fails_at("1000000", "onrecord.recorded_parties");
    db.execute("DELETE FROM onrecord.recorded_parties WHERE seq = 1000000");
    ok(on(&url, &["verify"]), "verify once the extra row is gone");
    db.execute(&format!(
        "DELETE FROM onrecord.recorded_parties WHERE seq = {party}"
    ));
    verify_fails_at(&party, "onrecord.recorded_parties");
    db.execute(&fake(&party));
    verify_fails_at(&party, "onrecord.recorded_parties");
}

#[test]
fn sql_answers_current_positions_and_contradictions_as_the_cli_does() {
    let Some((db, url)) = database_with_the_story() else {
        return;
    };

    // What an analyst would type into psql (docs/sql.md).
    let rows = db.query(
        "SELECT party, stance, credence,
                to_char(said_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
                speaker, statement, quote, statements, flips
         FROM onrecord.current_positions
         WHERE proposition = 'paris-meeting'
         ORDER BY party",
    );
    let cli: Value = serde_json::from_str(&ok(
        on(&url, &["positions", "paris-meeting", "--json"]),
        "positions",
    ))
    .unwrap();
    let positions = cli["positions"].as_array().expect("positions");
    assert!(positions.len() >= 2, "{cli}");
    assert_eq!(rows.len(), positions.len(), "{rows:?} against {cli}");
    for (row, p) in rows.iter().zip(positions) {
        let cell = |i: usize| row[i].clone().unwrap_or_default();
        assert_eq!(cell(0), field(p, "party"));
        assert_eq!(cell(1), field(p, "stance"));
        let credence: Option<f64> = row[2].as_deref().map(|c| c.parse().unwrap());
        assert_eq!(credence, p["credence"].as_f64(), "credence of {}", cell(0));
        assert_eq!(cell(3), field(p, "said_at"));
        assert_eq!(cell(4), field(p, "speaker"));
        assert_eq!(cell(5), field(p, "statement"));
        assert_eq!(cell(6), field(p, "quote"));
        assert_eq!(cell(7), field(p, "statements"));
        assert_eq!(cell(8), field(p, "flips"));
    }
    // Speakers speak for parties (putin for the kremlin, bolton for trump):
    // a position is its party's, said by its speaker.
    assert!(
        rows.iter().any(|r| r[4] != r[0]),
        "speaks-for shows: {rows:?}"
    );

    let pairs = db.query(
        "SELECT proposition, party_a, party_b, round(spread::numeric, 6)
         FROM onrecord.contradictions ORDER BY proposition, party_a, party_b",
    );
    let cli: Value = serde_json::from_str(&ok(
        on(&url, &["contradictions", "--json"]),
        "contradictions",
    ))
    .unwrap();
    let listed = cli.as_array().expect("a list");
    assert_eq!(pairs.len(), listed.len(), "{pairs:?} against {cli}");
    for (row, c) in pairs.iter().zip(listed) {
        assert_eq!(row[0].as_deref(), c["proposition"].as_str());
        assert_eq!(row[1].as_deref(), c["parties"][0].as_str());
        assert_eq!(row[2].as_deref(), c["parties"][1].as_str());
        let spread: f64 = row[3].as_deref().unwrap().parse().unwrap();
        assert_eq!(Some(spread), c["spread"].as_f64());
    }
}

#[test]
fn a_login_the_server_refuses_is_exit_1_with_the_servers_message_and_no_password() {
    let Some(db) = TestDatabase::new() else {
        return;
    };
    let url = db
        .url()
        .replacen("postgres://postgres@", "postgres://nosuchrole:s3cret@", 1);
    let line = refused(
        on(&url, &["positions"]),
        &[
            "the server refused the login",
            "role \"nosuchrole\" does not exist",
        ],
    );
    assert!(!line.contains("s3cret"), "{line}");
}

/// A cluster of its own serving TLS with `tests/fixtures/tls`'s certificate
/// (valid for 127.0.0.1, signed by `ca.pem`), or `None` to skip.
fn tls_cluster(dir: &std::path::Path) -> Option<onrecord_postgres::test_cluster::Cluster> {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::copy(fixtures.join("cert.pem"), &cert).unwrap();
    std::fs::copy(fixtures.join("key.pem"), &key).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    cluster_of_its_own(
        dir,
        &[&cert, &key],
        &[
            "ssl=on".to_owned(),
            format!("ssl_cert_file='{}'", cert.display()),
            format!("ssl_key_file='{}'", key.display()),
        ],
    )
}

/// A cluster of its own with `settings`, reading `files` in `dir` (made the
/// `postgres` user's when run as root, as the cluster runs as it), or
/// `None` to skip.
fn cluster_of_its_own(
    dir: &std::path::Path,
    files: &[&std::path::Path],
    settings: &[String],
) -> Option<onrecord_postgres::test_cluster::Cluster> {
    use onrecord_postgres::test_cluster::{Cluster, REQUIRE_ENV, Unavailable};
    if unsafe { libc::geteuid() } == 0 {
        let id = |flag: &str| -> Option<u32> {
            let out = std::process::Command::new("id")
                .args([flag, "postgres"])
                .output()
                .ok()?;
            String::from_utf8_lossy(&out.stdout).trim().parse().ok()
        };
        if let (Some(uid), Some(gid)) = (id("-u"), id("-g")) {
            for file in files {
                std::os::unix::fs::chown(file, Some(uid), Some(gid)).unwrap();
            }
            std::os::unix::fs::chown(dir, Some(uid), Some(gid)).unwrap();
        }
    }
    let mut all = vec!["fsync=off"];
    all.extend(settings.iter().map(String::as_str));
    match Cluster::start(&all) {
        Ok(c) => Some(c),
        Err(Ok(Unavailable(why))) if std::env::var_os(REQUIRE_ENV).is_none() => {
            println!("skipped: PostgreSQL is not available here ({why})");
            None
        }
        Err(e) => panic!("the cluster did not start: {e:?}"),
    }
}

#[test]
fn sslcert_and_sslkey_log_in_with_a_client_certificate() {
    let env = Env::new();
    let dir = env.file("certs");
    std::fs::create_dir(&dir).unwrap();
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls");
    let copy = |name: &str| {
        let to = dir.join(name);
        std::fs::copy(fixtures.join(name), &to).unwrap();
        to
    };
    use std::os::unix::fs::PermissionsExt;
    let owner_only = |file: &std::path::Path| {
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600)).unwrap()
    };
    let (cert, key, client_ca) = (copy("cert.pem"), copy("key.pem"), copy("client-ca.pem"));
    owner_only(&key);
    let hba = dir.join("pg_hba.conf");
    std::fs::write(
        &hba,
        "local all postgres trust\nhost all postgres 127.0.0.1/32 trust\nhostssl all desk 127.0.0.1/32 cert\n",
    )
    .unwrap();
    let Some(cluster) = cluster_of_its_own(
        &dir,
        &[&cert, &key, &client_ca, &hba],
        &[
            "ssl=on".to_owned(),
            format!("ssl_cert_file='{}'", cert.display()),
            format!("ssl_key_file='{}'", key.display()),
            format!("ssl_ca_file='{}'", client_ca.display()),
            format!("hba_file='{}'", hba.display()),
        ],
    ) else {
        return;
    };
    for sql in [
        "CREATE ROLE desk LOGIN",
        "CREATE DATABASE desk_ledger OWNER desk",
    ] {
        cluster.execute("postgres", sql).unwrap();
    }
    // The client's files, where the user keeps them (not the cluster's).
    let mine = env.file("mine");
    std::fs::create_dir(&mine).unwrap();
    let (client, client_key) = (mine.join("client.pem"), mine.join("client-key.pem"));
    std::fs::copy(fixtures.join("client.pem"), &client).unwrap();
    std::fs::copy(fixtures.join("client-key.pem"), &client_key).unwrap();
    owner_only(&client_key);
    let ca = fixtures.join("ca.pem");
    let url = |extra: &str| {
        format!(
            "postgres://desk@127.0.0.1:{}/desk_ledger?sslmode=verify-full&sslrootcert={}{extra}",
            cluster.port(),
            ca.display()
        )
    };
    let with_cert = url(&format!(
        "&sslcert={}&sslkey={}",
        client.display(),
        client_key.display()
    ));
    ok(on(&with_cert, &["init"]), "init with a client certificate");
    ok(
        on(&with_cert, &["stats"]),
        "stats with a client certificate",
    );

    refused(on(&url(""), &["stats"]), &["the server refused the login"]);
    refused(
        on(&url(&format!("&sslcert={}", client.display())), &["stats"]),
        &["give both or neither"],
    );
    std::fs::set_permissions(&client_key, std::fs::Permissions::from_mode(0o644)).unwrap();
    refused(
        on(&with_cert, &["stats"]),
        &["make it owner-only", "client-key.pem"],
    );
}

#[test]
fn a_url_without_a_password_logs_in_with_pgpassword_or_the_password_file() {
    let env = Env::new();
    let dir = env.file("auth");
    std::fs::create_dir(&dir).unwrap();
    let hba = dir.join("pg_hba.conf");
    // The test's own superuser needs no password; `desk` needs SCRAM.
    std::fs::write(
        &hba,
        "local all postgres trust\nhost all postgres 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n",
    )
    .unwrap();
    let Some(cluster) =
        cluster_of_its_own(&dir, &[&hba], &[format!("hba_file='{}'", hba.display())])
    else {
        return;
    };
    for sql in [
        "CREATE ROLE desk LOGIN PASSWORD 'n0t-in-the-url'",
        "CREATE DATABASE desk_ledger OWNER desk",
    ] {
        cluster.execute("postgres", sql).unwrap();
    }
    let url = format!("postgres://desk@127.0.0.1:{}/desk_ledger", cluster.port());
    let passfile = env.file("pgpass");
    let run = |vars: &[(&str, &str)], args: &[&str]| {
        let mut cmd = Env::bare();
        cmd.env("PGPASSFILE", &passfile)
            .env("HOME", env.file("home"));
        for (name, value) in vars {
            cmd.env(name, value);
        }
        cmd.arg("--ledger").arg(&url).args(args);
        Env::exec(&mut cmd)
    };

    refused(run(&[], &["init"]), &["refused the login", "$PGPASSWORD"]);

    ok(
        run(&[("PGPASSWORD", "n0t-in-the-url")], &["init"]),
        "init with $PGPASSWORD",
    );

    std::fs::write(
        &passfile,
        format!(
            "127.0.0.1:{}:desk_ledger:desk:n0t-in-the-url\n",
            cluster.port()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&passfile, std::fs::Permissions::from_mode(0o600)).unwrap();
    let stats = ok(
        run(&[], &["stats", "--json"]),
        "stats with the password file",
    );
    assert!(stats.contains("\"head\""), "{stats}");

    // As libpq does, a password file others may read is not used.
    std::fs::set_permissions(&passfile, std::fs::Permissions::from_mode(0o644)).unwrap();
    let line = refused(run(&[], &["stats"]), &["refused the login"]);
    assert!(!line.contains("n0t-in-the-url"), "{line}");
    // `serve` on a URL with the password in it never prints the password
    // (nor looks for a local socket "in" the URL).
    use std::io::{BufRead, Read};
    let with_password = url.replacen("desk@", "desk:n0t-in-the-url@", 1);
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_onrecord"))
        .env("NO_COLOR", "1")
        .env_remove("PGPASSWORD")
        .arg("--ledger")
        .arg(&with_password)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _ = server.kill();
    let _ = server.wait();
    let mut stderr = String::new();
    server
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        line.starts_with("serving postgres://desk@127.0.0.1:"),
        "{line}"
    );
    for printed in [&line, &stderr] {
        assert!(!printed.contains("n0t-in-the-url"), "{printed}");
        assert!(!printed.contains("serve.sock"), "{printed}");
    }
}

#[test]
fn sslmode_require_connects_over_tls_verifying_the_certificate_against_sslrootcert() {
    let env = Env::new();
    let dir = env.file("tls");
    std::fs::create_dir(&dir).unwrap();
    let Some(cluster) = tls_cluster(&dir) else {
        return;
    };
    let ca = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls/ca.pem");
    let url = |extra: &str| format!("{}?{extra}", cluster.url("postgres"));
    let trusted = url(&format!("sslmode=verify-full&sslrootcert={}", ca.display()));
    ok(on(&trusted, &["init"]), "init over TLS");
    ok(
        on(
            &trusted,
            &[
                "append",
                "party",
                "trump",
                "--name",
                "Donald Trump",
                "--kind",
                "person",
            ],
        ),
        "append over TLS",
    );
    let served = ok(on(&trusted, &["positions", "--json"]), "positions over TLS");
    assert!(served.trim_start().starts_with('['), "{served}");

    // Not trusted: the usual roots do not hold the test CA, so the TLS
    // handshake (which `require` always makes, and verifies) fails.
    let untrusted = on(&url("sslmode=require"), &["positions"]);
    assert_eq!(untrusted.code, 4, "{}", untrusted.stderr);
    assert_eq!(
        untrusted.stderr.trim().lines().count(),
        1,
        "{}",
        untrusted.stderr
    );
    // An unreadable sslrootcert is named.
    refused(
        on(
            &url("sslmode=verify-full&sslrootcert=/nonexistent/ca.pem"),
            &["positions"],
        ),
        &["/nonexistent/ca.pem"],
    );
}
