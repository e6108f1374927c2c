//! Where the ledger is and how to open it: the path rule (`--ledger`, else
//! `$ONRECORD_LEDGER`, else `./onrecord.ledger`), the busy wait and sled's
//! cache size (`$ONRECORD_CACHE_MB`, 64 by default; 16 for a bulk import).
//! A ledger named by a `postgres://USER@HOST:PORT/DB` URL is opened with
//! `onrecord_postgres`, any other with `onrecord_sled`: the only place the
//! CLI chooses a backend.
//!
//! Only opening lives here; commands decide what to do with the ledger.

use std::path::PathBuf;
use std::time::Duration;

use onrecord_ledger::Ledger;
use onrecord_postgres::PostgresOptions;
use onrecord_sled::LedgerOptions;

use crate::args::Cli;
use crate::error::CliError;
use crate::remote::{Remote, SOCKET_NAME};

/// sled's page cache for a bulk import, in MiB, unless `$ONRECORD_CACHE_MB` says otherwise.
pub const IMPORT_CACHE_MB: u64 = 16;

/// The ledger path used when neither `--ledger` nor `$ONRECORD_LEDGER` is given.
pub const DEFAULT_LEDGER: &str = "onrecord.ledger";

/// The largest page cache `$ONRECORD_CACHE_MB` may ask for (1 TiB): far past
/// any machine's need, and small enough that sled's sizing cannot overflow.
pub const MAX_CACHE_MB: u64 = 1024 * 1024;

/// What every command needs to find and open the ledger.
#[derive(Debug, Clone)]
pub struct Context {
    /// The `--ledger` flag as given, if at all.
    pub explicit_ledger: Option<PathBuf>,
    /// The resolved ledger path.
    pub ledger: PathBuf,
    /// Options for opening it (the busy wait).
    pub options: LedgerOptions,
    /// `--quiet`: no progress bars or notes on stderr.
    pub quiet: bool,
    /// `--server`, else a non-empty `$ONRECORD_SERVER`.
    pub server: Option<String>,
    /// `--token`, else a non-empty `$ONRECORD_TOKEN` (never printed).
    pub token: Option<String>,
    /// `--cacert`, else a non-empty `$ONRECORD_CACERT`: a certificate to trust for https.
    pub cacert: Option<PathBuf>,
    /// `--min-seq`, else `$ONRECORD_MIN_SEQ`: the seq a server must hold before it answers a read.
    pub min_seq: Option<u64>,
}

impl Context {
    /// Resolves the path rule and the busy wait (`--busy-wait`, else a non-empty `$ONRECORD_BUSY_WAIT_MS`).
    pub fn from_cli(cli: &Cli) -> Result<Self, CliError> {
        let ledger = cli
            .ledger
            .clone()
            .or_else(|| {
                std::env::var_os("ONRECORD_LEDGER")
                    .filter(|v| !v.is_empty())
                    .map(PathBuf::from)
            })
            .unwrap_or_else(|| PathBuf::from(DEFAULT_LEDGER));
        let mut options = LedgerOptions::default();
        if let Some(ms) = cli
            .busy_wait
            .or(env_number("ONRECORD_BUSY_WAIT_MS", "milliseconds")?)
        {
            options.busy_wait = Duration::from_millis(ms);
        }
        if let Some(mib) = env_number("ONRECORD_CACHE_MB", "mebibytes")? {
            if !(1..=MAX_CACHE_MB).contains(&mib) {
                return Err(CliError::invalid(format!(
                    "invalid ONRECORD_CACHE_MB `{mib}`: expected 1 to {MAX_CACHE_MB} mebibytes"
                )));
            }
            options.cache_capacity = mib * 1024 * 1024;
        }
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Ok(Self {
            explicit_ledger: cli.ledger.clone(),
            ledger,
            options,
            quiet: cli.quiet,
            server: cli.server.clone().or_else(|| env("ONRECORD_SERVER")),
            token: cli.token.clone().or_else(|| env("ONRECORD_TOKEN")),
            cacert: cli
                .cacert
                .clone()
                .or_else(|| env("ONRECORD_CACERT").map(PathBuf::from)),
            min_seq: match cli.min_seq {
                Some(seq) => Some(seq),
                None => env_number("ONRECORD_MIN_SEQ", "seqs")?,
            },
        })
    }
}

/// A non-empty environment variable read as a whole number; an unreadable one is a usage error naming it.
fn env_number(name: &str, unit: &str) -> Result<Option<u64>, CliError> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v.trim().parse::<u64>().map(Some).map_err(|_| {
            CliError::usage(format!("invalid {name} `{v}`: expected a number of {unit}"))
        }),
        _ => Ok(None),
    }
}

impl Context {
    /// The server a command goes to instead of opening the ledger itself:
    /// `--server` (or `$ONRECORD_SERVER`), else the local `onrecord serve`
    /// holding the ledger, reached through the socket it keeps in the ledger
    /// directory (a socket left by a server that is gone is ignored).
    pub fn remote(&self) -> Result<Option<Remote>, CliError> {
        if let Some(url) = &self.server {
            return Remote::at_url(
                url,
                self.token.clone(),
                self.cacert.as_deref(),
                self.options.busy_wait,
            )
            .map(|remote| Some(remote.with_min_seq(self.min_seq)));
        }
        let Some(socket) = self.local_socket() else {
            return Ok(None);
        };
        if !socket.exists() {
            return Ok(None);
        }
        let remote = Remote::through_socket(&self.ledger, socket, self.options.busy_wait);
        Ok(remote.is_up().then_some(remote))
    }

    /// The same context for another ledger (`copy`'s source and target): the
    /// same busy wait, cache and flags, `ledger` in place of `--ledger`.
    pub fn for_ledger(&self, ledger: PathBuf) -> Context {
        Context {
            explicit_ledger: Some(ledger.clone()),
            ledger,
            ..self.clone()
        }
    }

    /// Where a local `onrecord serve` keeps its socket for this ledger: in
    /// the ledger's directory; none for a PostgreSQL ledger, which has no
    /// directory (its servers are reached with `--server`).
    pub fn local_socket(&self) -> Option<PathBuf> {
        self.postgres()
            .is_none()
            .then(|| self.ledger.join(SOCKET_NAME))
    }

    /// The ledger as messages and output name it: its path, or its URL
    /// without a password.
    pub fn ledger_shown(&self) -> String {
        let shown = self.ledger.display().to_string();
        if onrecord_postgres::is_postgres_url(&shown) {
            onrecord_postgres::redact(&shown)
        } else {
            shown
        }
    }

    /// The ledger's URL and options when it is a PostgreSQL database, not a directory.
    fn postgres(&self) -> Option<(&str, PostgresOptions)> {
        let url = self
            .ledger
            .to_str()
            .filter(|l| onrecord_postgres::is_postgres_url(l))?;
        let options = PostgresOptions {
            busy_wait: self.options.busy_wait,
            clock: self.options.clock,
            ..PostgresOptions::default()
        };
        Some((url, options))
    }

    /// Opens an existing ledger for a reading command: one whose open check
    /// failed (acknowledged records missing or altered) is refused with exit
    /// 5 and the damage `verify` names, never served as whole.
    pub fn open(&self) -> Result<Ledger, CliError> {
        let ledger = self.open_even_damaged()?;
        ledger.ensure_whole()?;
        Ok(ledger)
    }

    /// Opens an existing ledger without refusing damage (`verify`, `export --salvage`).
    pub fn open_even_damaged(&self) -> Result<Ledger, CliError> {
        Ok(match self.postgres() {
            Some((url, options)) => onrecord_postgres::open(url, &options)?,
            None => onrecord_sled::open(&self.ledger, &self.options)?,
        })
    }

    /// Runs `write` on the ledger, creating one for it when there is none;
    /// a ledger created for a `write` that fails is removed again.
    pub fn open_or_create_then<T>(
        &self,
        write: impl FnOnce(&Ledger) -> Result<T, CliError>,
    ) -> Result<T, CliError> {
        match self.postgres() {
            Some((url, options)) => onrecord_postgres::open_or_create_then(url, &options, write),
            None => onrecord_sled::open_or_create_then(&self.ledger, &self.options, write),
        }
    }

    /// Opens the ledger, creating it when there is none (`append`).
    pub fn open_or_create(&self) -> Result<Ledger, CliError> {
        Ok(match self.postgres() {
            Some((url, options)) => onrecord_postgres::open_or_create(url, &options)?,
            None => onrecord_sled::open_or_create(&self.ledger, &self.options)?,
        })
    }

    /// The context a bulk import opens the ledger with: sled's page cache at
    /// [`IMPORT_CACHE_MB`] unless `$ONRECORD_CACHE_MB` sets it. sled 0.34 takes
    /// two to three times its nominal cache in memory, and an import reads
    /// little back, so the smaller cache keeps a 1M-line import well under
    /// 256 MiB (docs/benchmarks.md) at no measurable cost in speed.
    pub fn for_import(&self) -> Context {
        let mut ctx = self.clone();
        let set = std::env::var("ONRECORD_CACHE_MB").is_ok_and(|v| !v.trim().is_empty());
        if !set {
            ctx.options.cache_capacity = IMPORT_CACHE_MB * 1024 * 1024;
        }
        ctx
    }

    /// Rewrites a sled ledger in keyspace layout 3 (`upgrade`); a PostgreSQL
    /// ledger has no sled layout to change.
    pub fn upgrade(&self) -> Result<onrecord_sled::Upgraded, CliError> {
        if self.postgres().is_some() {
            return Err(CliError::usage(
                "upgrade rewrites sled ledgers; a PostgreSQL ledger has no keyspace layout to change",
            ));
        }
        Ok(onrecord_sled::upgrade(&self.ledger, &self.options)?)
    }

    /// Creates a new ledger (`init`): a directory, or the schema in a PostgreSQL database.
    pub fn create(&self) -> Result<Ledger, CliError> {
        Ok(match self.postgres() {
            Some((url, options)) => onrecord_postgres::create(url, &options)?,
            None => onrecord_sled::create(&self.ledger, &self.options)?,
        })
    }

    /// Removes the ledger at `--ledger` that this process created for an
    /// input that was then refused (the directory too, unless it `existed`).
    /// In a PostgreSQL database only a schema whose keyspace is still empty goes.
    pub fn remove_created(&self, existed: bool) {
        match self.postgres() {
            Some((url, options)) => onrecord_postgres::remove_created(url, &options),
            None => onrecord_sled::remove_created(&self.ledger, existed),
        }
    }
}
