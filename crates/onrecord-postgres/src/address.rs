//! Where a PostgreSQL ledger is: the URL a user gives (`postgres://USER@HOST:PORT/DB`),
//! parsed into the client's configuration, and the location messages name
//! (the same URL without any password). A URL without a password takes one
//! where libpq would: `$PGPASSWORD`, else the password file (`$PGPASSFILE`,
//! else `~/.pgpass`). Touches no socket; reads only that file.

use std::path::PathBuf;
use std::time::Duration;

use tokio_postgres::config::Host;

use crate::error::PostgresError;
use crate::tls::{ClientCertificate, TlsWanted};

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
    /// Whether connections use TLS, and what they trust (`sslmode`, `sslrootcert`).
    pub(crate) tls: TlsWanted,
}

impl Address {
    /// Parses `url`; a malformed one is refused naming it without its
    /// password. Without a password in it, one comes from the environment
    /// ([`PasswordSources::from_environment`]).
    pub(crate) fn parse(url: &str) -> Result<Self, PostgresError> {
        Self::parse_with(url, &PasswordSources::from_environment())
    }

    /// [`Address::parse`] with the password sources given.
    pub(crate) fn parse_with(
        url: &str,
        passwords: &PasswordSources,
    ) -> Result<Self, PostgresError> {
        if !is_postgres_url(url) {
            return Err(PostgresError::BadUrl {
                url: redact(url),
                reason: "it must start with postgres://".into(),
            });
        }
        let (for_client, tls) = tls_parameters(url).map_err(|reason| PostgresError::BadUrl {
            url: redact(url),
            reason,
        })?;
        let mut config: tokio_postgres::Config =
            for_client
                .parse()
                .map_err(|e: tokio_postgres::Error| PostgresError::BadUrl {
                    url: redact(url),
                    reason: e.to_string(),
                })?;
        // Only a URL asking for TLS gets it, and then always verified; with
        // any other `sslmode` no connection tries it.
        config.ssl_mode(match tls {
            TlsWanted::No => tokio_postgres::config::SslMode::Disable,
            TlsWanted::Verified { .. } => tokio_postgres::config::SslMode::Require,
        });
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
        if config.get_password().is_none()
            && let Some(password) = passwords.password_for(&config)
        {
            config.password(password);
        }
        let location = PathBuf::from(describe(&config));
        Ok(Self {
            config,
            location,
            tls,
        })
    }
}

/// Where a password comes from when the URL has none, in libpq's order.
#[derive(Debug, Clone, Default)]
pub(crate) struct PasswordSources {
    /// `$PGPASSWORD`.
    pub(crate) env_password: Option<String>,
    /// `$PGPASSFILE`, else `~/.pgpass`.
    pub(crate) password_file: Option<PathBuf>,
}

impl PasswordSources {
    /// This process's: `$PGPASSWORD`, and `$PGPASSFILE` or `$HOME/.pgpass`.
    pub(crate) fn from_environment() -> Self {
        let non_empty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        Self {
            env_password: non_empty("PGPASSWORD").map(|v| v.to_string_lossy().into_owned()),
            password_file: non_empty("PGPASSFILE")
                .map(PathBuf::from)
                .or_else(|| non_empty("HOME").map(|home| PathBuf::from(home).join(".pgpass"))),
        }
    }

    /// The password for `config`'s user, host, port and database:
    /// `$PGPASSWORD`, else the password file's first matching line. As
    /// libpq does, a password file that others may read (any group or
    /// world permission) is not read, nor is one that is missing.
    fn password_for(&self, config: &tokio_postgres::Config) -> Option<String> {
        if let Some(password) = &self.env_password {
            return Some(password.clone());
        }
        let file = self.password_file.as_ref()?;
        let metadata = std::fs::metadata(file).ok()?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            if !metadata.is_file() || metadata.permissions().mode() & 0o077 != 0 {
                return None;
            }
        }
        #[cfg(not(unix))]
        if !metadata.is_file() {
            return None;
        }
        let contents = std::fs::read_to_string(file).ok()?;
        let user = config.get_user()?;
        let host = match config.get_hosts().first()? {
            Host::Tcp(name) => name.clone(),
            // libpq matches a socket directory as `localhost`.
            Host::Unix(_) => "localhost".to_owned(),
        };
        let port = config
            .get_ports()
            .first()
            .copied()
            .unwrap_or(5432)
            .to_string();
        let db = config.get_dbname().unwrap_or(user);
        password_file_lookup(&contents, [&host, &port, db, user])
    }
}

/// The password of the first line of a password file whose
/// `hostname:port:database:username` match `wanted` (each field may be
/// `*`; `\:` and `\\` escape a colon and a backslash); `#` lines are comments.
fn password_file_lookup(contents: &str, wanted: [&str; 4]) -> Option<String> {
    contents
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .find_map(|line| {
            let fields = split_escaped(line.trim_end_matches('\r'));
            let [host, port, db, user, password] = <[String; 5]>::try_from(fields).ok()?;
            let matches = [host, port, db, user]
                .iter()
                .zip(wanted)
                .all(|(field, want)| field == "*" || field == want);
            matches.then_some(password)
        })
}

/// A password file line's five fields, escapes undone; the fifth is the
/// rest of the line (a password may hold escaped colons).
fn split_escaped(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next()
                    && let Some(f) = fields.last_mut()
                {
                    f.push(next)
                }
            }
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => {
                if let Some(f) = fields.last_mut() {
                    f.push(c)
                }
            }
        }
    }
    fields
}

/// Takes the TLS parameters out of `url`'s query: `sslmode` (`disable`,
/// `allow`, `prefer`: no TLS; `require`, `verify-ca`, `verify-full`: TLS,
/// the certificate always verified, chain and host name), `sslrootcert`
/// (a PEM file of the certificates to trust) and `sslcert` with `sslkey`
/// (a client certificate and its key, PEM); the rest of the URL is left
/// for the client to parse. An unknown `sslmode` is refused, naming it.
fn tls_parameters(url: &str) -> Result<(String, TlsWanted), String> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), TlsWanted::No));
    };
    let (mut wanted, mut root_file) = (false, None);
    let (mut cert_file, mut key_file) = (None, None);
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "sslmode" => {
                wanted = match value {
                    "disable" | "allow" | "prefer" => false,
                    "require" | "verify-ca" | "verify-full" => true,
                    other => {
                        return Err(format!(
                            "sslmode `{other}` is not one of disable, allow, prefer, require, verify-ca, verify-full"
                        ));
                    }
                };
            }
            "sslrootcert" => root_file = Some(PathBuf::from(percent_decoded(value))),
            "sslcert" => cert_file = Some(PathBuf::from(percent_decoded(value))),
            "sslkey" => key_file = Some(PathBuf::from(percent_decoded(value))),
            _ => kept.push(pair),
        }
    }
    if (root_file.is_some() || cert_file.is_some() || key_file.is_some()) && !wanted {
        return Err(
            "sslrootcert, sslcert and sslkey need sslmode=require, verify-ca or verify-full".into(),
        );
    }
    let client = match (cert_file, key_file) {
        (Some(cert), Some(key)) => Some(ClientCertificate { cert, key }),
        (None, None) => None,
        _ => return Err("sslcert and sslkey go together: give both or neither".into()),
    };
    let for_client = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    let tls = if wanted {
        TlsWanted::Verified { root_file, client }
    } else {
        TlsWanted::No
    };
    Ok((for_client, tls))
}

/// `%XX` escapes decoded (a path in a URL query may carry them).
fn percent_decoded(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(byte) = value
                .get(i + 1..i + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
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
    fn sslmode_chooses_tls_and_sslrootcert_what_it_trusts() {
        let plain = Address::parse("postgres://u@h/db?sslmode=prefer&application_name=x").unwrap();
        assert_eq!(plain.tls, TlsWanted::No);
        assert_eq!(plain.config.get_application_name(), Some("x"));
        let verified =
            Address::parse("postgres://u@h/db?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem")
                .unwrap();
        assert_eq!(
            verified.tls,
            TlsWanted::Verified {
                root_file: Some(PathBuf::from("/etc/ca.pem")),
                client: None,
            }
        );
        let e = Address::parse("postgres://u:pw@h/db?sslmode=maybe")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("sslmode `maybe`") && !e.contains("pw"), "{e}");
        assert!(Address::parse("postgres://u@h/db?sslrootcert=ca.pem").is_err());
    }

    #[test]
    fn a_url_without_a_password_takes_pgpassword_then_the_password_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pgpass");
        std::fs::write(
            &file,
            "# comment\nother:5432:*:desk:wrong\ndb.example:6543:ledger:desk:pa\\:ss\\\\w\n*:*:*:*:fallback\n",
        )
        .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let from_file = PasswordSources {
            env_password: None,
            password_file: Some(file.clone()),
        };
        let password = |url: &str, sources: &PasswordSources| {
            Address::parse_with(url, sources)
                .unwrap()
                .config
                .get_password()
                .map(|p| String::from_utf8_lossy(p).into_owned())
        };
        let url = "postgres://desk@db.example:6543/ledger";
        assert_eq!(password(url, &from_file).as_deref(), Some("pa:ss\\w"));
        assert_eq!(
            password("postgres://desk@elsewhere/ledger", &from_file).as_deref(),
            Some("fallback"),
            "the first line that matches, `*` matching anything"
        );
        let with_env = PasswordSources {
            env_password: Some("from-env".into()),
            ..from_file.clone()
        };
        assert_eq!(password(url, &with_env).as_deref(), Some("from-env"));
        assert_eq!(
            password("postgres://desk:in-url@db.example:6543/ledger", &with_env).as_deref(),
            Some("in-url"),
            "a password in the URL wins"
        );
        assert!(
            !Address::parse_with(url, &from_file)
                .unwrap()
                .location
                .to_string_lossy()
                .contains("pa:ss"),
            "the location never names it"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert_eq!(
                password(url, &from_file),
                None,
                "a file others may read is not read"
            );
        }
        let missing = PasswordSources {
            env_password: None,
            password_file: Some(dir.path().join("absent")),
        };
        assert_eq!(password(url, &missing), None);
    }

    #[test]
    fn only_postgres_urls_are_postgres_ledgers() {
        assert!(is_postgres_url("postgresql://u@h/db"));
        assert!(!is_postgres_url("./onrecord.ledger"));
        assert!(Address::parse("mysql://u@h/db").is_err());
    }
}
