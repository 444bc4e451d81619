//! TLS at `wharf serve` start: the certificate files checked (a bad one stops start-up with a
//! message naming it), or with `--tls-self-signed` the CA and server certificate created or reused
//! under `<data-dir>/tls/`, and the reloader that watches them while serving.

use crate::config::{Settings, Tls};
use std::sync::Arc;
use wharf_api::tls::{self_signed, ClientAuth, TlsReloader, TlsSettings};

/// How often the certificate files are checked for changes (SIGHUP reloads at once).
pub const POLL: std::time::Duration = std::time::Duration::from_secs(5);

/// The reloader for the settings' TLS, or `None` for plain HTTP.
pub fn start(settings: &Settings) -> anyhow::Result<Option<Arc<TlsReloader>>> {
    let files = match &settings.tls {
        None => return Ok(None),
        Some(Tls::Files(files)) => files.clone(),
        Some(Tls::SelfSigned {
            client_ca,
            client_auth,
        }) => {
            let dir = settings.data_dir.join("tls");
            let names = self_signed::server_names(&settings.public_host);
            let made = self_signed::ensure(&dir, &names)?;
            tracing::info!(
                ca = %made.ca.display(),
                names = ?names,
                created = made.created,
                "serving HTTPS with a self-signed certificate; clients trust the CA file \
                 (aws --ca-bundle, skopeo --cert-dir, oras --ca-file, SSL_CERT_FILE)"
            );
            TlsSettings {
                client_ca: client_ca.clone(),
                client_auth: *client_auth,
                ..made.settings
            }
        }
    };
    let reloader = TlsReloader::new(files.clone())?;
    let client_certificates = match (&files.client_ca, files.client_auth) {
        (None, _) => "not asked for".to_string(),
        (Some(ca), ClientAuth::Required) => format!("required, from {}", ca.display()),
        (Some(ca), ClientAuth::Optional) => format!("optional, from {}", ca.display()),
    };
    tracing::info!(
        cert = %files.cert.display(),
        client_certificates,
        "TLS on: HTTP/2 and HTTP/1.1; certificate files are reloaded when they change or on SIGHUP"
    );
    Ok(Some(reloader))
}
