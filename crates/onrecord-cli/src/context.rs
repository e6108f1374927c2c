//! Where the ledger is and how to open it: the path rule (`--ledger`, else
//! `$ONRECORD_LEDGER`, else `./onrecord.ledger`) and the busy wait.
//!
//! Only opening lives here; commands decide what to do with the ledger.

use std::path::PathBuf;
use std::time::Duration;

use onrecord_store::{Ledger, LedgerOptions};

use crate::args::Cli;
use crate::error::CliError;

/// The ledger path used when neither `--ledger` nor `$ONRECORD_LEDGER` is given.
pub const DEFAULT_LEDGER: &str = "onrecord.ledger";

/// What every command needs to find and open the ledger.
#[derive(Debug, Clone)]
pub struct Context {
    /// The `--ledger` flag as given, if at all.
    pub explicit_ledger: Option<PathBuf>,
    /// The resolved ledger path.
    pub ledger: PathBuf,
    /// Options for opening it (the busy wait).
    pub options: LedgerOptions,
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
        let from_env = match std::env::var("ONRECORD_BUSY_WAIT_MS") {
            Ok(v) if !v.trim().is_empty() => Some(v.trim().parse::<u64>().map_err(|_| {
                CliError::usage(format!(
                    "invalid ONRECORD_BUSY_WAIT_MS `{v}`: expected a number of milliseconds"
                ))
            })?),
            _ => None,
        };
        if let Some(ms) = cli.busy_wait.or(from_env) {
            options.busy_wait = Duration::from_millis(ms);
        }
        Ok(Self {
            explicit_ledger: cli.ledger.clone(),
            ledger,
            options,
        })
    }

    /// Opens an existing ledger (reading commands).
    pub fn open(&self) -> Result<Ledger, CliError> {
        Ok(Ledger::open(&self.ledger, &self.options)?)
    }

    /// Opens the ledger, creating it when there is none (`append`).
    pub fn open_or_create(&self) -> Result<Ledger, CliError> {
        Ok(Ledger::open_or_create(&self.ledger, &self.options)?)
    }

    /// Creates a new ledger (`init`).
    pub fn create(&self) -> Result<Ledger, CliError> {
        Ok(Ledger::create(&self.ledger, &self.options)?)
    }
}
