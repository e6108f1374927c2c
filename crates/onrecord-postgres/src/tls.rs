//! TLS to the database: which connections use it (the ledger URL's
//! `sslmode`) and what a server's certificate is checked against (the
//! compiled-in Mozilla roots, or the PEM file `sslrootcert` names). Builds
//! the connector; opens no socket itself.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio_postgres_rustls::MakeRustlsConnect;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

/// The connector every connection of a store uses. Whether it encrypts is
/// the configuration's `ssl_mode`: only `require` (which `verify-ca` and
/// `verify-full` become) ever starts TLS, and then always verifies.
pub(crate) type Connector = MakeRustlsConnect;

/// How a URL asks for TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TlsWanted {
    /// No TLS (`sslmode` absent, `disable`, `allow` or `prefer`).
    No,
    /// TLS with the server's certificate verified, chain and host name
    /// (`require`, `verify-ca`, `verify-full`), against these roots.
    Verified {
        /// A PEM file of the certificates to trust instead of the usual roots.
        root_file: Option<PathBuf>,
    },
}

/// Why TLS cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    /// The `sslrootcert` file cannot be read.
    #[error("cannot read sslrootcert {}: {reason}", path.display())]
    RootFile {
        /// The file.
        path: PathBuf,
        /// What went wrong, in words.
        reason: String,
    },
    /// The `sslrootcert` file holds no certificate.
    #[error("sslrootcert {} holds no PEM certificate", path.display())]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
}

/// The connector for `wanted`.
pub(crate) fn connector(wanted: &TlsWanted) -> Result<Connector, TlsSetupError> {
    let mut roots = RootCertStore::empty();
    match wanted {
        TlsWanted::Verified {
            root_file: Some(path),
        } => add_pem_roots(&mut roots, path)?,
        TlsWanted::Verified { root_file: None } | TlsWanted::No => {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
    }
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

/// Adds every certificate of the PEM file at `path` to `roots`.
fn add_pem_roots(roots: &mut RootCertStore, path: &Path) -> Result<(), TlsSetupError> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let unreadable = |reason: String| TlsSetupError::RootFile {
        path: path.to_owned(),
        reason,
    };
    let pem = std::fs::read(path).map_err(|e| unreadable(io_words(&e)))?;
    let mut added = 0;
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| unreadable(format!("not PEM ({e})")))?;
        roots
            .add(cert)
            .map_err(|e| unreadable(format!("not a usable certificate ({e})")))?;
        added += 1;
    }
    if added == 0 {
        return Err(TlsSetupError::NoCertificate {
            path: path.to_owned(),
        });
    }
    Ok(())
}

/// An I/O error in words, without the raw `os error` suffix.
fn io_words(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}
