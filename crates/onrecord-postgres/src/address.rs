//! Where a PostgreSQL ledger is: the URL a user gives (`postgres://USER@HOST:PORT/DB`),
//! parsed into the client's configuration, and the location messages name
//! (the same URL without any password). Touches no socket.

use std::path::PathBuf;
use std::time::Duration;

use tokio_postgres::config::Host;

use crate::error::PostgresError;

/// How long a connection attempt may take when the URL does not say (`connect_timeout`).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether `ledger` names a PostgreSQL database rather than a directory.
pub fn is_postgres_url(ledger: &str) -> bool {
    ledger.starts_with("postgres://") || ledger.starts_with("postgresql://")
}

/// A parsed ledger URL: what to connect to and how to name it.
#[derive(Clone)]
pub(crate) struct Address {
    /// The client's configuration (password included, never printed).
    pub(crate) config: tokio_postgres::Config,
    /// `postgres://USER@HOST:PORT/DB`, never with a password.
    pub(crate) location: PathBuf,
}

impl Address {
    /// Parses `url`; a malformed one is refused naming it without its password.
    pub(crate) fn parse(url: &str) -> Result<Self, PostgresError> {
        if !is_postgres_url(url) {
            return Err(PostgresError::BadUrl {
                url: redact(url),
                reason: "it must start with postgres://".into(),
            });
        }
        let mut config: tokio_postgres::Config =
            url.parse()
                .map_err(|e: tokio_postgres::Error| PostgresError::BadUrl {
                    url: redact(url),
                    reason: e.to_string(),
                })?;
        if config.get_hosts().is_empty() {
            return Err(PostgresError::BadUrl {
                url: redact(url),
                reason: "it names no host".into(),
            });
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("onrecord");
        }
        let location = PathBuf::from(describe(&config));
        Ok(Self { config, location })
    }
}

/// `postgres://USER@HOST:PORT/DB` from a configuration, without its password.
fn describe(config: &tokio_postgres::Config) -> String {
    let user = config
        .get_user()
        .map(|u| format!("{u}@"))
        .unwrap_or_default();
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(name)) => name.clone(),
        Some(Host::Unix(dir)) => dir.display().to_string(),
        None => String::new(),
    };
    let db = config.get_dbname().unwrap_or("");
    format!("postgres://{user}{host}:{port}/{db}")
}

/// `url` with the password of its user info (`user:password@`) left out:
/// how a ledger URL may be printed.
pub fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority.rfind('@') {
        Some(at) => {
            let user = authority[..at].split(':').next().unwrap_or("");
            format!("{}{user}{}", &url[..scheme_end + 3], &rest[at..])
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_location_names_user_host_port_and_database_never_the_password() {
        let a = Address::parse("postgres://desk:s3cret@db.example:6543/ledger").unwrap();
        assert_eq!(
            a.location.to_str().unwrap(),
            "postgres://desk@db.example:6543/ledger"
        );
        let e = Address::parse("postgres://desk:s3cret@db.example:notaport/ledger")
            .err()
            .unwrap()
            .to_string();
        assert!(!e.contains("s3cret"), "{e}");
        assert!(
            e.contains("postgres://desk@db.example:notaport/ledger"),
            "{e}"
        );
    }

    #[test]
    fn only_postgres_urls_are_postgres_ledgers() {
        assert!(is_postgres_url("postgresql://u@h/db"));
        assert!(!is_postgres_url("./onrecord.ledger"));
        assert!(Address::parse("mysql://u@h/db").is_err());
    }
}
