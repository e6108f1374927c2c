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
    /// Resolves the path rule and the busy wait from the parsed command line.
    pub fn from_cli(cli: &Cli) -> Self {
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
        if let Some(ms) = cli.busy_wait {
            options.busy_wait = Duration::from_millis(ms);
        }
        Self {
            explicit_ledger: cli.ledger.clone(),
            ledger,
            options,
        }
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
