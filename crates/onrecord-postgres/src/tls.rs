//! TLS to the database: which connections use it (the ledger URL's
//! `sslmode`), what a server's certificate is checked against (the
//! compiled-in Mozilla roots, or the PEM file `sslrootcert` names), and the
//! client certificate it presents, if any (`sslcert` and `sslkey`). Builds
//! the connector (reading those files); opens no socket itself.

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
        /// The certificate to log in with, for servers that ask for one.
        client: Option<ClientCertificate>,
    },
}

/// A client certificate (`sslcert`) and its private key (`sslkey`), PEM files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClientCertificate {
    /// The certificate chain, leaf first.
    pub(crate) cert: PathBuf,
    /// Its private key (PKCS#8, PKCS#1 or SEC1); owner-only, as libpq requires.
    pub(crate) key: PathBuf,
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
    /// The client certificate or its key cannot be used.
    #[error("cannot use {which} {}: {reason}", path.display())]
    ClientFile {
        /// `sslcert` or `sslkey`.
        which: &'static str,
        /// The file.
        path: PathBuf,
        /// What went wrong, in words.
        reason: String,
    },
}

/// The connector for `wanted`.
pub(crate) fn connector(wanted: &TlsWanted) -> Result<Connector, TlsSetupError> {
    let mut roots = RootCertStore::empty();
    let (root_file, client) = match wanted {
        TlsWanted::Verified { root_file, client } => (root_file.as_deref(), client.as_ref()),
        TlsWanted::No => (None, None),
    };
    match root_file {
        Some(path) => add_pem_roots(&mut roots, path)?,
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(roots);
    let config = match client {
        None => builder.with_no_client_auth(),
        Some(client) => {
            let (chain, key) = read_client_certificate(client)?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| TlsSetupError::ClientFile {
                    which: "sslkey",
                    path: client.key.clone(),
                    reason: format!("it does not fit the certificate ({e})"),
                })?
        }
    };
    Ok(MakeRustlsConnect::new(config))
}

/// The client certificate's chain and key. As libpq does, a key file that
/// others may read (any group or world permission) is refused.
fn read_client_certificate(
    client: &ClientCertificate,
) -> Result<
    (
        Vec<rustls_pki_types::CertificateDer<'static>>,
        rustls_pki_types::PrivateKeyDer<'static>,
    ),
    TlsSetupError,
> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let unusable = |which, path: &Path, reason: String| TlsSetupError::ClientFile {
        which,
        path: path.to_owned(),
        reason,
    };
    let pem =
        std::fs::read(&client.cert).map_err(|e| unusable("sslcert", &client.cert, io_words(&e)))?;
    let chain = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| unusable("sslcert", &client.cert, format!("not PEM ({e})")))?;
    if chain.is_empty() {
        return Err(unusable(
            "sslcert",
            &client.cert,
            "it holds no PEM certificate".into(),
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&client.key)
            .map_err(|e| unusable("sslkey", &client.key, io_words(&e)))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(unusable(
                "sslkey",
                &client.key,
                format!(
                    "others may read it (mode {:o}); make it owner-only (chmod 600)",
                    mode & 0o777
                ),
            ));
        }
    }
    let pem =
        std::fs::read(&client.key).map_err(|e| unusable("sslkey", &client.key, io_words(&e)))?;
    let key = PrivateKeyDer::from_pem_slice(&pem).map_err(|e| {
        unusable(
            "sslkey",
            &client.key,
            format!("holds no PEM private key ({e})"),
        )
    })?;
    Ok((chain, key))
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
