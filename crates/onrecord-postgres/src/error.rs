//! This backend's own failures ([`PostgresError`]) and the one place they are
//! mapped to the engine's [`StoreError`] (and so to its `ErrorKind`, which
//! front ends turn into exit codes and HTTP statuses). Nothing here talks to
//! the database; messages never hold a password.

use std::path::Path;

use onrecord_ledger::StoreError;
use tokio_postgres::error::SqlState;

/// What can fail in this backend before the engine's classification.
#[derive(Debug, thiserror::Error)]
pub enum PostgresError {
    /// The ledger URL cannot be parsed (shown without its password).
    #[error("`{url}` is not a usable PostgreSQL URL (postgres://USER@HOST:PORT/DB): {reason}")]
    BadUrl {
        /// The URL, password left out.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The runtime that drives the client could not be started.
    #[error("cannot start the database client's runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// The client or the server failed.
    #[error("{}", client_words(.0))]
    Client(#[from] tokio_postgres::Error),
    /// The readers' connection pool failed to hand out a connection.
    #[error("{}", pool_words(.0))]
    Pool(#[from] deadpool_postgres::PoolError),
    /// TLS to the database cannot be set up (an unreadable `sslrootcert`).
    #[error("{0}")]
    Tls(#[from] crate::tls::TlsSetupError),
    /// The readers' connection pool could not be built.
    #[error("cannot build the connection pool: {0}")]
    PoolBuild(#[from] deadpool_postgres::BuildError),
}

impl PostgresError {
    /// The engine's error for this failure at the ledger `location`.
    pub fn at(self, location: &Path) -> StoreError {
        let location = location.to_owned();
        match self {
            PostgresError::BadUrl { .. }
            | PostgresError::Tls(_)
            | PostgresError::Runtime(_)
            | PostgresError::PoolBuild(_) => StoreError::Storage {
                path: location,
                detail: self.to_string(),
                source: Some(Box::new(self)),
            },
            PostgresError::Client(e) => client_error(e, location),
            PostgresError::Pool(deadpool_postgres::PoolError::Backend(e)) => {
                client_error(e, location)
            }
            PostgresError::Pool(
                deadpool_postgres::PoolError::Timeout(_) | deadpool_postgres::PoolError::Closed,
            ) => StoreError::Unreachable {
                location,
                detail: self.to_string(),
                source: Some(Box::new(self)),
            },
            PostgresError::Pool(_) => StoreError::Storage {
                path: location,
                detail: self.to_string(),
                source: Some(Box::new(self)),
            },
        }
    }
}

/// Maps a client error by what it means for the ledger: the server's SQLSTATE
/// when the server answered, else a lost or refused connection.
fn client_error(e: tokio_postgres::Error, location: std::path::PathBuf) -> StoreError {
    let detail = client_words(&e);
    let Some(code) = e.code().cloned() else {
        // The server asked for a password and the client had none to give.
        if std::error::Error::source(&e).is_some_and(|s| s.to_string() == "password missing") {
            return StoreError::Storage {
                path: location,
                detail: "the server refused the login: it asks for a password and none was \
                         given (put it in the URL, $PGPASSWORD or the password file, \
                         $PGPASSFILE or ~/.pgpass)"
                    .to_owned(),
                source: Some(Box::new(e)),
            };
        }
        return if e.is_closed() || io_source(&e).is_some() {
            StoreError::Unreachable {
                location,
                detail,
                source: Some(Box::new(e)),
            }
        } else {
            StoreError::Storage {
                path: location,
                detail,
                source: Some(Box::new(e)),
            }
        };
    };
    match code {
        // The database named in the URL does not exist: no ledger there.
        c if c == SqlState::INVALID_CATALOG_NAME => StoreError::NoLedger(location),
        c if c == SqlState::DISK_FULL => StoreError::DiskFull(location),
        c if c == SqlState::T_R_SERIALIZATION_FAILURE
            || c == SqlState::T_R_DEADLOCK_DETECTED
            || c == SqlState::LOCK_NOT_AVAILABLE =>
        {
            StoreError::LedgerBusy(location)
        }
        c if c == SqlState::ADMIN_SHUTDOWN
            || c == SqlState::CRASH_SHUTDOWN
            || c == SqlState::CANNOT_CONNECT_NOW
            || c == SqlState::TOO_MANY_CONNECTIONS =>
        {
            StoreError::Unreachable {
                location,
                detail,
                source: Some(Box::new(e)),
            }
        }
        c if c == SqlState::DATA_CORRUPTED || c == SqlState::INDEX_CORRUPTED => {
            StoreError::CorruptStorage {
                path: location,
                detail,
            }
        }
        c if c == SqlState::INVALID_PASSWORD
            || c == SqlState::INVALID_AUTHORIZATION_SPECIFICATION =>
        {
            StoreError::Storage {
                path: location,
                detail: format!("the server refused the login: {detail}"),
                source: Some(Box::new(e)),
            }
        }
        _ => StoreError::Storage {
            path: location,
            detail,
            source: Some(Box::new(e)),
        },
    }
}

/// The I/O error under a client error, if the connection failed.
fn io_source(e: &tokio_postgres::Error) -> Option<&std::io::Error> {
    std::error::Error::source(e)?.downcast_ref::<std::io::Error>()
}

/// A client error in words: the server's message when it answered, else
/// what happened to the connection (without raw OS codes).
fn client_words(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return db.message().to_owned();
    }
    if let Some(io) = io_source(e) {
        return match io.kind() {
            std::io::ErrorKind::ConnectionRefused => "connection refused".to_owned(),
            std::io::ErrorKind::TimedOut => "the connection timed out".to_owned(),
            std::io::ErrorKind::ConnectionReset => "the connection was reset".to_owned(),
            _ => {
                let text = io.to_string();
                match text.find(" (os error") {
                    Some(i) => text[..i].to_owned(),
                    None => text,
                }
            }
        };
    }
    if e.is_closed() {
        return "the connection to the server was lost".to_owned();
    }
    e.to_string()
}

/// A pool error in words.
fn pool_words(e: &deadpool_postgres::PoolError) -> String {
    match e {
        deadpool_postgres::PoolError::Backend(e) => client_words(e),
        deadpool_postgres::PoolError::Timeout(_) => {
            "no connection to the server could be made in time".to_owned()
        }
        deadpool_postgres::PoolError::Closed => "the connection pool is closed".to_owned(),
        other => other.to_string(),
    }
}
