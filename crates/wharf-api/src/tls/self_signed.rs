//! The `--tls-self-signed` quick start: a private certificate authority and a server certificate
//! it signs, for localhost, 127.0.0.1, ::1 and the configured public host, written under
//! `<data-dir>/tls/` (`ca.pem` for clients; `ca.key`, `server.pem`, `server.key`, the keys
//! 0600) and reused on later starts. `Authority` is also what tests issue certificates with.

use super::{TlsError, TlsSettings};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use std::path::{Path, PathBuf};

/// A certificate authority: its certificate (PEM) and the key that signs with it.
pub struct Authority {
    /// The CA certificate, PEM: what clients trust.
    pub cert_pem: String,
    issuer: Issuer<'static, KeyPair>,
    key_pem: String,
}

/// A certificate an `Authority` issued and its private key, both PEM. (No `Debug`: it holds a
/// private key.)
#[derive(Clone)]
pub struct Issued {
    pub cert_pem: String,
    pub key_pem: String,
}

fn rcgen_error(e: rcgen::Error) -> String {
    e.to_string()
}

/// What makes a CA certificate: its name and its right to sign certificates.
fn ca_params(name: &str) -> Result<CertificateParams, String> {
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(rcgen_error)?;
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    Ok(params)
}

/// The common name of the `--tls-self-signed` CA.
const CA_NAME: &str = "Wharf self-signed CA";

/// Validity from a day ago (clocks differ) to `days` from now.
fn validity(params: &mut CertificateParams, days: i64) {
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(days);
}

impl Authority {
    /// A new CA whose certificate's common name is `name`, valid ten years.
    pub fn generate(name: &str) -> Result<Authority, String> {
        let key = KeyPair::generate().map_err(rcgen_error)?;
        let mut params = ca_params(name)?;
        validity(&mut params, 3650);
        let cert = params.self_signed(&key).map_err(rcgen_error)?;
        let key_pem = key.serialize_pem();
        Ok(Authority {
            cert_pem: cert.pem(),
            issuer: Issuer::new(params, key),
            key_pem,
        })
    }

    /// The CA a previous start wrote with `generate(name)`. What a certificate it signs takes
    /// from the issuer (its name, and the key identifier derived from the key) is rebuilt from
    /// `name` and the key, so the CA certificate itself need not be parsed.
    pub fn from_pem(name: &str, cert_pem: &str, key_pem: &str) -> Result<Authority, String> {
        let key = KeyPair::from_pem(key_pem).map_err(rcgen_error)?;
        Ok(Authority {
            cert_pem: cert_pem.to_string(),
            issuer: Issuer::new(ca_params(name)?, key),
            key_pem: key_pem.to_string(),
        })
    }

    /// The CA's private key, PEM.
    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }

    /// A server certificate for `names` (DNS names or IP addresses), common name `names[0]`,
    /// valid two years.
    pub fn issue_server(&self, names: &[String]) -> Result<Issued, String> {
        self.issue(names, ExtendedKeyUsagePurpose::ServerAuth, 730)
    }

    /// A client certificate whose common name is `name`, valid two years.
    pub fn issue_client(&self, name: &str) -> Result<Issued, String> {
        self.issue(
            &[name.to_string()],
            ExtendedKeyUsagePurpose::ClientAuth,
            730,
        )
    }

    fn issue(
        &self,
        names: &[String],
        usage: ExtendedKeyUsagePurpose,
        days: i64,
    ) -> Result<Issued, String> {
        let key = KeyPair::generate().map_err(rcgen_error)?;
        let client = usage == ExtendedKeyUsagePurpose::ClientAuth;
        let sans = if client { Vec::new() } else { names.to_vec() };
        let mut params = CertificateParams::new(sans).map_err(rcgen_error)?;
        if let Some(first) = names.first() {
            params.distinguished_name.push(DnType::CommonName, first);
        }
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![usage];
        params.use_authority_key_identifier_extension = true;
        validity(&mut params, days);
        let cert = params.signed_by(&key, &self.issuer).map_err(rcgen_error)?;
        Ok(Issued {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }
}

/// The files `--tls-self-signed` uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelfSigned {
    /// The CA certificate clients trust (`--ca-bundle`, `--ca-file`, `SSL_CERT_FILE`).
    pub ca: PathBuf,
    /// The settings that serve the issued server certificate.
    pub settings: TlsSettings,
    /// Whether this call created the server certificate (false: reused from an earlier start).
    pub created: bool,
}

/// The names the server certificate covers: the loopback names plus `public_host` without its
/// port, once each.
pub fn server_names(public_host: &str) -> Vec<String> {
    let mut names: Vec<String> = ["localhost", "127.0.0.1", "::1"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let host = match public_host.rsplit_once(':') {
        Some((h, port)) if port.parse::<u16>().is_ok() && !h.contains(':') => h,
        _ => public_host,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if !host.is_empty() && !names.iter().any(|n| n == host) {
        names.push(host.to_string());
    }
    names
}

/// Makes sure `dir` holds a CA and a server certificate for `names`, creating what is missing;
/// returns where they are.
pub fn ensure(dir: &Path, names: &[String]) -> Result<SelfSigned, TlsError> {
    let fail = |detail: String| TlsError::SelfSigned {
        dir: dir.to_path_buf(),
        detail,
    };
    let io = |what: &Path, e: std::io::Error| fail(format!("{}: {e}", what.display()));
    let (ca, ca_key) = (dir.join("ca.pem"), dir.join("ca.key"));
    let (cert, key) = (dir.join("server.pem"), dir.join("server.key"));
    let settings = TlsSettings {
        cert: cert.clone(),
        key: key.clone(),
        client_ca: None,
        client_auth: Default::default(),
    };
    if ca.exists() && cert.exists() && key.exists() {
        return Ok(SelfSigned {
            ca,
            settings,
            created: false,
        });
    }
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let authority = if ca.exists() && ca_key.exists() {
        let cert_pem = std::fs::read_to_string(&ca).map_err(|e| io(&ca, e))?;
        let key_pem = std::fs::read_to_string(&ca_key).map_err(|e| io(&ca_key, e))?;
        Authority::from_pem(CA_NAME, &cert_pem, &key_pem)
            .map_err(|e| fail(format!("{}: {e}", ca.display())))?
    } else {
        let a = Authority::generate(CA_NAME).map_err(fail)?;
        write_file(&ca_key, a.key_pem(), true).map_err(|e| io(&ca_key, e))?;
        write_file(&ca, &a.cert_pem, false).map_err(|e| io(&ca, e))?;
        a
    };
    let issued = authority.issue_server(names).map_err(fail)?;
    // The key first: a crash between the two leaves no certificate that looks complete.
    write_file(&key, &issued.key_pem, true).map_err(|e| io(&key, e))?;
    write_file(&cert, &issued.cert_pem, false).map_err(|e| io(&cert, e))?;
    Ok(SelfSigned {
        ca,
        settings,
        created: true,
    })
}

/// Writes a file durably, readable only by its owner when `private`.
fn write_file(path: &Path, text: &str, private: bool) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(if private { 0o600 } else { 0o644 })
        .open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_names_add_the_public_host_once() {
        let check = |public: &str, extra: Option<&str>| {
            let mut want = vec!["localhost", "127.0.0.1", "::1"];
            want.extend(extra);
            assert_eq!(server_names(public), want, "{public}");
        };
        check("127.0.0.1:5000", None);
        check("localhost", None);
        check("registry.example.com:443", Some("registry.example.com"));
        check("registry.example.com", Some("registry.example.com"));
        check("10.1.2.3:5000", Some("10.1.2.3"));
    }

    /// Whether a client trusting only `ca` accepts `cert` for `name`.
    fn verifies(ca: &Path, cert: &Path, name: &str) -> bool {
        use rustls::client::danger::ServerCertVerifier;
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
        let der = |p: &Path| CertificateDer::from_pem_file(p).unwrap();
        let mut roots = rustls::RootCertStore::empty();
        roots.add(der(ca)).unwrap();
        let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
            std::sync::Arc::new(roots),
            super::super::provider(),
        )
        .build()
        .unwrap();
        let name = ServerName::try_from(name.to_string()).unwrap();
        verifier
            .verify_server_cert(&der(cert), &[], &name, &[], UnixTime::now())
            .is_ok()
    }

    #[test]
    fn ensure_creates_private_keys_and_reuses_them() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let tls = dir.path().join("tls");
        let names = server_names("registry.test:5000");
        let first = ensure(&tls, &names).unwrap();
        assert!(first.created);
        assert_eq!(first.ca, tls.join("ca.pem"));
        for key in ["ca.key", "server.key"] {
            let mode = std::fs::metadata(tls.join(key))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{key}");
        }
        super::super::server_config(&first.settings).unwrap();
        let (ca, server) = (tls.join("ca.pem"), tls.join("server.pem"));
        for (name, ok) in [
            ("registry.test", true),
            ("localhost", true),
            ("127.0.0.1", true),
            ("::1", true),
            ("other.test", false),
        ] {
            assert_eq!(verifies(&ca, &server, name), ok, "{name}");
        }
        let cert = std::fs::read(tls.join("server.pem")).unwrap();
        let again = ensure(&tls, &names).unwrap();
        assert!(!again.created);
        assert_eq!(std::fs::read(tls.join("server.pem")).unwrap(), cert);
        // A lost server certificate is issued again by the same CA.
        let ca_bytes = std::fs::read(tls.join("ca.pem")).unwrap();
        std::fs::remove_file(tls.join("server.pem")).unwrap();
        assert!(ensure(&tls, &names).unwrap().created);
        assert_eq!(std::fs::read(tls.join("ca.pem")).unwrap(), ca_bytes);
        assert_ne!(std::fs::read(tls.join("server.pem")).unwrap(), cert);
        assert!(verifies(&ca, &server, "registry.test"));
    }
}
