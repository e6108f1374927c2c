//! A throwaway PostgreSQL cluster for tests (feature `test-cluster`): made
//! with `initdb` in a temporary directory, listening on a free loopback
//! port, stopped and removed by its guard. [`TestDatabase`] gives each test
//! a fresh database on one cluster shared by the whole test binary
//! ([`shared`]), which is stopped when the binary exits (an `atexit` hook)
//! or, if the binary is killed, by a watchdog process that outlives it.
//!
//! `initdb` and `pg_ctl` refuse to run as root, so as root they run as the
//! `postgres` user (`runuser`). Where that cannot be done, or no PostgreSQL
//! binaries are installed, tests print "skipped" and pass, unless
//! `ONRECORD_REQUIRE_POSTGRES` is set (CI sets it), when they fail. Later
//! tests (replication, failover) start their own [`Cluster`]s.
//!
//! Test support only: nothing here is used by the backend itself.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

/// The environment variable that turns a missing PostgreSQL into a failure.
pub const REQUIRE_ENV: &str = "ONRECORD_REQUIRE_POSTGRES";

/// Where Debian puts each major version's server binaries.
const PG_ROOT: &str = "/usr/lib/postgresql";

/// How the cluster's processes are run: as this user, or as `postgres` via `runuser`.
#[derive(Debug, Clone)]
struct RunAs {
    /// `Some((uid, gid))` of `postgres` when this process is root.
    postgres: Option<(u32, u32)>,
}

impl RunAs {
    /// A command for the server binary `program`, run as the right user.
    fn command(&self, program: &Path) -> Command {
        if self.postgres.is_some() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        }
    }
}

/// A running PostgreSQL cluster this process started; stopped (and its
/// directory removed) when dropped or [`Cluster::stop`]ped.
#[derive(Debug)]
pub struct Cluster {
    bin: PathBuf,
    run_as: RunAs,
    port: u16,
    data: PathBuf,
    /// The watchdog that stops the cluster if this process dies first.
    watchdog: Mutex<Option<Child>>,
    /// The cluster's directory (data, socket, log); `None` once stopped.
    dir: Mutex<Option<tempfile::TempDir>>,
}

/// Why a cluster cannot be started here (tests then skip unless required).
#[derive(Debug, Clone)]
pub struct Unavailable(pub String);

impl Cluster {
    /// Starts a new cluster (`initdb`, then `pg_ctl -w start`) with these
    /// extra `postgresql.conf` settings (`name=value`). `Err(Ok(_))`: this
    /// machine cannot run one; `Err(Err(_))`: it should have and failed.
    pub fn start(settings: &[&str]) -> Result<Self, Result<Unavailable, String>> {
        let bin = find_bin().ok_or_else(|| {
            Ok(Unavailable(format!(
                "no PostgreSQL server binaries under {PG_ROOT}/*/bin"
            )))
        })?;
        let run_as = run_as().map_err(Ok)?;
        let dir = tempfile::Builder::new()
            .prefix("onrecord-pg-")
            .tempdir()
            .map_err(|e| Err(format!("cannot make a temp dir: {e}")))?;
        if let Some((uid, gid)) = run_as.postgres {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid))
                .map_err(|e| Err(format!("cannot give the temp dir to postgres: {e}")))?;
        }
        let data = dir.path().join("data");
        let out = run_as
            .command(&bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| Err(format!("cannot run initdb: {e}")))?;
        if !out.status.success() {
            return Err(Err(format!(
                "initdb failed: {}",
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        Self::launch(bin, run_as, dir, data, settings).map_err(Err)
    }

    /// Starts the server on `data` (in `dir`) on a free loopback port with
    /// these extra settings, and its watchdog.
    fn launch(
        bin: PathBuf,
        run_as: RunAs,
        dir: tempfile::TempDir,
        data: PathBuf,
        settings: &[&str],
    ) -> Result<Self, String> {
        let mut last_error = String::new();
        // A free port can be taken by someone else before the server binds it: try a few.
        for _ in 0..5 {
            let port = free_port().map_err(|e| format!("no free port: {e}"))?;
            let mut options = format!(
                "-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={}",
                dir.path().display()
            );
            for setting in settings {
                options.push_str(&format!(" -c {setting}"));
            }
            let out = run_as
                .command(&bin.join("pg_ctl"))
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(dir.path().join("server.log"))
                .args(["-w", "-t", "60", "-o", &options, "start"])
                .stdin(Stdio::null())
                .output()
                .map_err(|e| format!("cannot run pg_ctl: {e}"))?;
            if out.status.success() {
                let cluster = Self {
                    watchdog: Mutex::new(None),
                    bin,
                    run_as,
                    port,
                    data,
                    dir: Mutex::new(Some(dir)),
                };
                cluster.start_watchdog();
                return Ok(cluster);
            }
            last_error = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stderr),
                std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default()
            );
        }
        Err(format!("pg_ctl start failed: {last_error}"))
    }

    /// A streaming standby of this cluster named `name` (its
    /// `application_name`, what `synchronous_standby_names` lists): a copy
    /// made by `pg_basebackup -R`, started on a port of its own.
    pub fn standby(&self, name: &str, settings: &[&str]) -> Result<Self, String> {
        let dir = tempfile::Builder::new()
            .prefix("onrecord-pg-standby-")
            .tempdir()
            .map_err(|e| format!("cannot make a temp dir: {e}"))?;
        if let Some((uid, gid)) = self.run_as.postgres {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid))
                .map_err(|e| format!("cannot give the temp dir to postgres: {e}"))?;
        }
        let data = dir.path().join("data");
        let out = self
            .run_as
            .command(&self.bin.join("pg_basebackup"))
            .arg("-D")
            .arg(&data)
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-U", "postgres", "-R", "-X", "stream", "--no-sync"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run pg_basebackup: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "pg_basebackup failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        // The last setting wins: the one `-R` wrote, with the standby's name added.
        let conninfo = format!(
            "\nprimary_conninfo = 'host=127.0.0.1 port={} user=postgres application_name={name}'\n",
            self.port
        );
        std::fs::OpenOptions::new()
            .append(true)
            .open(data.join("postgresql.auto.conf"))
            .and_then(|mut f| std::io::Write::write_all(&mut f, conninfo.as_bytes()))
            .map_err(|e| format!("cannot name the standby: {e}"))?;
        Self::launch(self.bin.clone(), self.run_as.clone(), dir, data, settings)
    }

    /// Waits (up to a minute) until `count` standbys stream from this cluster.
    pub fn wait_for_standbys(&self, count: i64) -> Result<(), String> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let sql = format!(
                "DO $$ BEGIN IF (SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming') < {count} THEN RAISE EXCEPTION 'not yet'; END IF; END $$"
            );
            if self.execute("postgres", &sql).is_ok() {
                return Ok(());
            }
            if std::time::Instant::now() > deadline {
                return Err(format!("{count} standbys did not start streaming"));
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// Kills the postmaster with SIGKILL, as a machine that dies would (its
    /// backends end when they notice). The directory stays until [`Cluster::stop`].
    pub fn kill(&self) {
        if let Ok(pid_file) = std::fs::read_to_string(self.data.join("postmaster.pid"))
            && let Some(pid) = pid_file
                .lines()
                .next()
                .and_then(|l| l.trim().parse::<i32>().ok())
        {
            // SAFETY: kill(2) on the postmaster this cluster started; no memory is touched.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
    }

    /// Promotes this standby to a primary (`pg_ctl promote`, waiting until
    /// it takes writes).
    pub fn promote(&self) -> Result<(), String> {
        let out = self
            .run_as
            .command(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&self.data)
            .args(["-w", "-t", "60", "promote"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run pg_ctl promote: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "pg_ctl promote failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    /// The loopback port the cluster listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of database `db` as the `postgres` superuser.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// Runs `sql` (one or more statements) in database `db` as the superuser.
    pub fn execute(&self, db: &str, sql: &str) -> Result<(), String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let url = self.url(db);
        runtime.block_on(async {
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .map_err(|e| e.to_string())?;
            let driver = tokio::spawn(connection);
            let result = client.batch_execute(sql).await.map_err(|e| {
                e.as_db_error()
                    .map_or_else(|| e.to_string(), |d| d.message().to_owned())
            });
            drop(client);
            let _ = driver.await;
            result
        })
    }

    /// Runs one query in database `db` as the superuser and returns its rows
    /// as text, as psql shows them (`None` for NULL), in the order the
    /// query gives them.
    pub fn query(&self, db: &str, sql: &str) -> Result<Vec<Vec<Option<String>>>, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let url = self.url(db);
        runtime.block_on(async {
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .map_err(|e| e.to_string())?;
            let driver = tokio::spawn(connection);
            let result = client.simple_query(sql).await.map_err(|e| {
                e.as_db_error()
                    .map_or_else(|| e.to_string(), |d| d.message().to_owned())
            });
            drop(client);
            let _ = driver.await;
            Ok(result?
                .into_iter()
                .filter_map(|message| match message {
                    tokio_postgres::SimpleQueryMessage::Row(row) => Some(
                        (0..row.len())
                            .map(|i| row.get(i).map(str::to_owned))
                            .collect(),
                    ),
                    _ => None,
                })
                .collect())
        })
    }

    /// Stops the cluster at once (`pg_ctl stop -m immediate`; the postmaster
    /// is killed if that fails), ends the watchdog and removes the directory.
    /// Idempotent.
    pub fn stop(&self) {
        let Some(dir) = self.dir.lock().unwrap_or_else(|p| p.into_inner()).take() else {
            return;
        };
        let stopped = self
            .run_as
            .command(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "-w", "-t", "30", "stop"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !stopped
            && let Ok(pid_file) = std::fs::read_to_string(self.data.join("postmaster.pid"))
            && let Some(pid) = pid_file
                .lines()
                .next()
                .and_then(|l| l.trim().parse::<i32>().ok())
        {
            // SAFETY: kill(2) on the postmaster this cluster started; no memory is touched.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
        if let Some(mut watchdog) = self
            .watchdog
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
        drop(dir);
    }

    /// Starts a process that waits for this one to end and then stops the
    /// cluster and removes its directory: the cluster never outlives the
    /// tests, even when they are killed. It has its own process group, so a
    /// signal to the tests' group does not take it down with them.
    fn start_watchdog(&self) {
        let Some(dir) = self
            .dir
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|d| d.path().to_owned())
        else {
            return;
        };
        let runuser = if self.run_as.postgres.is_some() {
            "runuser -u postgres -- "
        } else {
            ""
        };
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
             {runuser}'{pg_ctl}' -D '{data}' -m immediate -w stop >/dev/null 2>&1; \
             rm -rf '{dir}'",
            pid = std::process::id(),
            pg_ctl = self.bin.join("pg_ctl").display(),
            data = self.data.display(),
            dir = dir.display(),
        );
        let child = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn();
        if let Ok(child) = child {
            *self.watchdog.lock().unwrap_or_else(|p| p.into_inner()) = Some(child);
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The newest `/usr/lib/postgresql/<major>/bin` holding `initdb` and `pg_ctl`.
fn find_bin() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir(PG_ROOT)
        .ok()?
        .flatten()
        .filter_map(|entry| {
            let major = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            (bin.join("initdb").is_file() && bin.join("pg_ctl").is_file()).then_some((major, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

/// As root, the `postgres` user's ids (and `runuser` must exist); else this user.
fn run_as() -> Result<RunAs, Unavailable> {
    // SAFETY: geteuid has no preconditions and touches no memory.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(RunAs { postgres: None });
    }
    let has_runuser = Command::new("runuser")
        .arg("--help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !has_runuser {
        return Err(Unavailable(
            "running as root without `runuser` (initdb refuses root)".into(),
        ));
    }
    let id = |flag: &str| -> Option<u32> {
        let out = Command::new("id").args([flag, "postgres"]).output().ok()?;
        String::from_utf8(out.stdout).ok()?.trim().parse().ok()
    };
    match (id("-u"), id("-g")) {
        (Some(uid), Some(gid)) => Ok(RunAs {
            postgres: Some((uid, gid)),
        }),
        _ => Err(Unavailable(
            "running as root and there is no `postgres` user (initdb refuses root)".into(),
        )),
    }
}

/// A loopback TCP port that was free a moment ago.
fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The test binary's one cluster, started on first use.
static SHARED: OnceLock<Result<&'static Cluster, Result<Unavailable, String>>> = OnceLock::new();

extern "C" fn stop_shared_cluster() {
    if let Some(Ok(cluster)) = SHARED.get() {
        cluster.stop();
    }
}

/// The cluster shared by this test binary, started on first use (with
/// `fsync=off`: tests check the engine, not the disk). `None` when this
/// machine cannot run PostgreSQL and [`REQUIRE_ENV`] is unset: the caller
/// skips (this prints why). Panics if the cluster should start and does not.
pub fn shared() -> Option<&'static Cluster> {
    let started = SHARED.get_or_init(|| {
        let cluster =
            Cluster::start(&["fsync=off", "full_page_writes=off", "max_connections=300"])?;
        let cluster: &'static Cluster = Box::leak(Box::new(cluster));
        // SAFETY: registers a plain extern "C" function with no captured state.
        unsafe {
            libc::atexit(stop_shared_cluster);
        }
        Ok(cluster)
    });
    match started {
        Ok(cluster) => Some(cluster),
        Err(Ok(Unavailable(why))) if std::env::var_os(REQUIRE_ENV).is_none() => {
            println!("skipped: PostgreSQL is not available here ({why})");
            eprintln!("skipped: PostgreSQL is not available here ({why})");
            None
        }
        Err(Ok(Unavailable(why))) => {
            panic!("{REQUIRE_ENV} is set but PostgreSQL is not available: {why}")
        }
        Err(Err(why)) => panic!("the test PostgreSQL cluster did not start: {why}"),
    }
}

/// A fresh database on the shared cluster, dropped (with its connections)
/// when the guard goes.
#[derive(Debug)]
pub struct TestDatabase {
    cluster: &'static Cluster,
    name: String,
}

impl TestDatabase {
    /// A new empty database, or `None` when the tests must skip (see [`shared`]).
    pub fn new() -> Option<Self> {
        static MADE: AtomicU64 = AtomicU64::new(0);
        let cluster = shared()?;
        let name = format!(
            "onrecord_test_{}_{}",
            std::process::id(),
            MADE.fetch_add(1, Ordering::Relaxed)
        );
        cluster
            .execute("postgres", &format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
        Some(Self { cluster, name })
    }

    /// Its URL (`postgres://postgres@127.0.0.1:PORT/NAME`).
    pub fn url(&self) -> String {
        self.cluster.url(&self.name)
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The cluster it lives on.
    pub fn cluster(&self) -> &'static Cluster {
        self.cluster
    }

    /// Runs `sql` in it as the superuser (panics on failure: test setup).
    pub fn execute(&self, sql: &str) {
        self.cluster
            .execute(&self.name, sql)
            .unwrap_or_else(|e| panic!("`{sql}` failed in {}: {e}", self.name));
    }

    /// Runs one query in it as the superuser; its rows as text (panics on
    /// failure: test setup). See [`Cluster::query`].
    pub fn query(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        self.cluster
            .query(&self.name, sql)
            .unwrap_or_else(|e| panic!("`{sql}` failed in {}: {e}", self.name))
    }

    /// Removes any onrecord schema from it, so it holds no ledger again.
    pub fn reset(&self) {
        self.execute("DROP SCHEMA IF EXISTS onrecord CASCADE");
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let _ = self.cluster.execute(
            "postgres",
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}
