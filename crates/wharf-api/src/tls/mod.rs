//! TLS in transit: the settings (`tls_cert`, `tls_key`, `tls_client_ca`, `tls_client_auth`), the
//! checks that turn PEM files into a rustls `ServerConfig` with a clear message naming the file and
//! its problem, the reloader that swaps in new files without a restart (`reload`), the listener
//! that serves the app over TLS with HTTP/2 and HTTP/1.1 (`listener`) and the `--tls-self-signed`
//! certificate authority (`self_signed`). rustls runs on the ring provider, the one sqlx already
//! links, so there is one crypto stack for everything TLS.

pub mod listener;
pub mod reload;
pub mod self_signed;

pub use listener::serve;
pub use reload::TlsReloader;

use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{RootCertStore, ServerConfig};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where the listener's certificate, key and (optionally) client CA bundle live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    /// PEM certificate chain, the server's certificate first.
    pub cert: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) matching the first certificate.
    pub key: PathBuf,
    /// PEM bundle of the CAs client certificates must be signed by; `None`: no client certificates.
    pub client_ca: Option<PathBuf>,
    /// Whether a client must present a certificate when `client_ca` is set.
    pub client_auth: ClientAuth,
}

/// Whether clients must present a certificate signed by `tls_client_ca`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientAuth {
    /// Handshakes without a valid client certificate are refused.
    #[default]
    Required,
    /// Clients may present one (it must then verify) or none.
    Optional,
}

/// Why TLS files could not be used. Every message names the file (and the setting it came from).
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{setting} file {path} does not exist")]
    Missing {
        setting: &'static str,
        path: PathBuf,
    },
    #[error("{setting} file {path} cannot be read: {source}")]
    Unreadable {
        setting: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{setting} file {path} is not PEM or holds no {wanted} ({detail})")]
    NotPem {
        setting: &'static str,
        path: PathBuf,
        wanted: &'static str,
        detail: String,
    },
    #[error("tls_key file {path} is not a private key rustls can use: {source}")]
    BadKey {
        path: PathBuf,
        source: rustls::Error,
    },
    #[error("tls_key file {key} does not match the certificate in tls_cert file {cert}")]
    KeyMismatch { key: PathBuf, cert: PathBuf },
    #[error("tls_client_ca file {path} is not a usable CA bundle: {detail}")]
    BadClientCa { path: PathBuf, detail: String },
    #[error("building the TLS configuration: {0}")]
    Config(#[from] rustls::Error),
    #[error("generating the self-signed certificates in {dir}: {detail}")]
    SelfSigned { dir: PathBuf, detail: String },
}

/// The crypto provider every TLS object here is built with.
pub(crate) fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Reads a file a setting names, telling "missing" from "unreadable".
fn read(setting: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => TlsError::Missing {
            setting,
            path: path.to_path_buf(),
        },
        _ => TlsError::Unreadable {
            setting,
            path: path.to_path_buf(),
            source,
        },
    })
}

/// Every `CERTIFICATE` block of a PEM file; at least one.
fn certificates(
    setting: &'static str,
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = read(setting, path)?;
    let not_pem = |detail: String| TlsError::NotPem {
        setting,
        path: path.to_path_buf(),
        wanted: "CERTIFICATE block",
        detail,
    };
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, pem::Error>>()
        .map_err(|e| not_pem(e.to_string()))?;
    if certs.is_empty() {
        return Err(not_pem("no -----BEGIN CERTIFICATE----- block found".into()));
    }
    Ok(certs)
}

/// The private key of a PEM file.
fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let bytes = read("tls_key", path)?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| TlsError::NotPem {
        setting: "tls_key",
        path: path.to_path_buf(),
        wanted: "PRIVATE KEY block",
        detail: match e {
            pem::Error::NoItemsFound => "no -----BEGIN ... PRIVATE KEY----- block found".into(),
            e => e.to_string(),
        },
    })
}

/// Reads and checks the certificate and key: both PEM, the key usable and matching the
/// certificate.
pub fn certified_key(settings: &TlsSettings) -> Result<Arc<CertifiedKey>, TlsError> {
    let chain = certificates("tls_cert", &settings.cert)?;
    let key = private_key(&settings.key)?;
    let signing = provider()
        .key_provider
        .load_private_key(key)
        .map_err(|source| TlsError::BadKey {
            path: settings.key.clone(),
            source,
        })?;
    let certified = CertifiedKey::new(chain, signing);
    match certified.keys_match() {
        Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {}
        Err(rustls::Error::InconsistentKeys(_)) => {
            return Err(TlsError::KeyMismatch {
                key: settings.key.clone(),
                cert: settings.cert.clone(),
            })
        }
        Err(e) => {
            return Err(TlsError::NotPem {
                setting: "tls_cert",
                path: settings.cert.clone(),
                wanted: "valid X.509 certificate",
                detail: e.to_string(),
            })
        }
    }
    Ok(Arc::new(certified))
}

/// The full server configuration the settings describe: certificate, optional client
/// verification, and ALPN offering HTTP/2 before HTTP/1.1.
pub fn server_config(settings: &TlsSettings) -> Result<Arc<ServerConfig>, TlsError> {
    let certified = certified_key(settings)?;
    let builder =
        ServerConfig::builder_with_provider(provider()).with_safe_default_protocol_versions()?;
    let builder = match &settings.client_ca {
        None => builder.with_no_client_auth(),
        Some(path) => {
            let mut roots = RootCertStore::empty();
            for cert in certificates("tls_client_ca", path)? {
                roots.add(cert).map_err(|e| TlsError::BadClientCa {
                    path: path.clone(),
                    detail: e.to_string(),
                })?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider());
            let verifier = match settings.client_auth {
                ClientAuth::Required => verifier,
                ClientAuth::Optional => verifier.allow_unauthenticated(),
            };
            let verifier = verifier.build().map_err(|e| TlsError::BadClientCa {
                path: path.clone(),
                detail: e.to_string(),
            })?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder.with_cert_resolver(Arc::new(Fixed(certified)));
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// One certificate for every handshake (a reload builds a new configuration around a new one).
#[derive(Debug)]
struct Fixed(Arc<CertifiedKey>);

impl ResolvesServerCert for Fixed {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}
