//! The `--tls-self-signed` quick start: a private certificate authority and a server certificate
//! it signs, for localhost, 127.0.0.1, ::1 and the configured public host, written under
//! `<data-dir>/tls/` (`ca.pem` for clients; `ca.key`, `server.pem`, `server.key`, the keys
//! 0600) and reused on later starts — unless the server certificate no longer covers the wanted
//! names or expires within 30 days, when the same CA issues a new one. `Authority` is also what
//! tests issue certificates with.

use super::{TlsError, TlsSettings};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use time::OffsetDateTime;

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
    /// Why the server certificate of an earlier start was replaced, when it was (then `created`
    /// is true as well).
    pub reissued: Option<String>,
}

/// A server certificate that expires within this many days is issued again at start.
pub const RENEW_WITHIN_DAYS: i64 = 30;

/// A subject alternative name, compared the way clients match it: DNS names without regard to
/// case, IP addresses by value (so `::1` and `0:0::1` are the same).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum SanName {
    Dns(String),
    Ip(IpAddr),
}

impl std::fmt::Display for SanName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SanName::Dns(name) => f.write_str(name),
            SanName::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

/// The names as rcgen puts them in a certificate: what parses as an IP address is one.
fn wanted_names(names: &[String]) -> BTreeSet<SanName> {
    names
        .iter()
        .map(|n| match n.parse::<IpAddr>() {
            Ok(ip) => SanName::Ip(ip),
            Err(_) => SanName::Dns(n.to_ascii_lowercase()),
        })
        .collect()
}

fn list(names: &BTreeSet<SanName>) -> String {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    names.join(", ")
}

/// Why the server certificate `cert_pem` must be issued again at `now` — it does not cover
/// exactly `names`, or it expires within `RENEW_WITHIN_DAYS` — or `None` to keep it. An error
/// says why the certificate cannot be read.
fn stale(cert_pem: &[u8], names: &[String], now: OffsetDateTime) -> Result<Option<String>, String> {
    use rustls::pki_types::pem::PemObject;
    let der = rustls::pki_types::CertificateDer::from_pem_slice(cert_pem)
        .map_err(|e| format!("no certificate: {e}"))?;
    let (_, cert) = x509_parser::parse_x509_certificate(&der)
        .map_err(|e| format!("not a valid certificate: {e}"))?;
    let sans = cert
        .subject_alternative_name()
        .map_err(|e| format!("bad subject alternative names: {e}"))?;
    let mut have = BTreeSet::new();
    for name in sans.iter().flat_map(|ext| ext.value.general_names.iter()) {
        use x509_parser::extensions::GeneralName;
        match name {
            GeneralName::DNSName(dns) => {
                have.insert(SanName::Dns(dns.to_ascii_lowercase()));
            }
            GeneralName::IPAddress(bytes) => {
                let ip = if let Ok(v4) = <[u8; 4]>::try_from(*bytes) {
                    IpAddr::from(v4)
                } else if let Ok(v6) = <[u8; 16]>::try_from(*bytes) {
                    IpAddr::from(v6)
                } else {
                    return Err(format!("an IP address of {} bytes", bytes.len()));
                };
                have.insert(SanName::Ip(ip));
            }
            // Other kinds (e-mail addresses, URIs) play no part when a client checks a host,
            // and Wharf never puts them in.
            _ => {}
        }
    }
    let want = wanted_names(names);
    if have != want {
        return Ok(Some(format!(
            "it covers {} but the wanted names are {}",
            list(&have),
            list(&want)
        )));
    }
    let not_after = cert.validity().not_after;
    let left = not_after.timestamp() - now.unix_timestamp();
    if left <= time::Duration::days(RENEW_WITHIN_DAYS).whole_seconds() {
        let when = if left <= 0 { "expired" } else { "expires" };
        return Ok(Some(format!(
            "it {when} on {not_after} (renewed within {RENEW_WITHIN_DAYS} days of expiry)"
        )));
    }
    Ok(None)
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

/// Makes sure `dir` holds a CA and a server certificate for exactly `names` that is valid for
/// more than `RENEW_WITHIN_DAYS`, creating what is missing and issuing the server certificate
/// again from the existing CA (which clients already trust) when the names changed or it is about
/// to expire; returns where they are.
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
    let mut reissued = None;
    if ca.exists() && cert.exists() && key.exists() {
        let pem = std::fs::read(&cert).map_err(|e| io(&cert, e))?;
        let now = OffsetDateTime::now_utc();
        match stale(&pem, names, now).map_err(|e| fail(format!("{}: {e}", cert.display())))? {
            None => {
                return Ok(SelfSigned {
                    ca,
                    settings,
                    created: false,
                    reissued: None,
                })
            }
            // Without its key the CA cannot sign, and a new CA would silently break every
            // client that trusts the old one: better to stop and say so.
            Some(reason) if !ca_key.exists() => {
                return Err(fail(format!(
                    "{} must be issued again ({reason}), but the CA key {} is missing; remove \
                     the directory to start over with a new CA",
                    cert.display(),
                    ca_key.display()
                )))
            }
            Some(reason) => reissued = Some(reason),
        }
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
    if let Some(reason) = &reissued {
        tracing::info!(
            cert = %cert.display(),
            ca = %ca.display(),
            names = ?names,
            reason = %reason,
            "re-issued the self-signed server certificate from the existing CA"
        );
    }
    Ok(SelfSigned {
        ca,
        settings,
        created: true,
        reissued,
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
        let key = std::fs::read(tls.join("server.key")).unwrap();
        let again = ensure(&tls, &names).unwrap();
        assert!(!again.created);
        assert_eq!(again.reissued, None);
        // Unchanged names and far from expiry: both files are kept byte for byte.
        assert_eq!(std::fs::read(tls.join("server.pem")).unwrap(), cert);
        assert_eq!(std::fs::read(tls.join("server.key")).unwrap(), key);
        // A lost server certificate is issued again by the same CA.
        let ca_bytes = std::fs::read(tls.join("ca.pem")).unwrap();
        std::fs::remove_file(tls.join("server.pem")).unwrap();
        assert!(ensure(&tls, &names).unwrap().created);
        assert_eq!(std::fs::read(tls.join("ca.pem")).unwrap(), ca_bytes);
        assert_ne!(std::fs::read(tls.join("server.pem")).unwrap(), cert);
        assert!(verifies(&ca, &server, "registry.test"));
    }

    /// The CA that `ensure` wrote under `tls`, loaded back.
    fn authority(tls: &Path) -> Authority {
        let read = |f: &str| std::fs::read_to_string(tls.join(f)).unwrap();
        Authority::from_pem(CA_NAME, &read("ca.pem"), &read("ca.key")).unwrap()
    }

    /// Days from now until the certificate at `path` expires, to the nearest day (the certificate
    /// keeps whole seconds).
    fn days_left(path: &Path) -> i64 {
        use rustls::pki_types::pem::PemObject;
        let der = rustls::pki_types::CertificateDer::from_pem_file(path).unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
        let left =
            cert.validity().not_after.timestamp() - OffsetDateTime::now_utc().unix_timestamp();
        (left + 43_200) / 86_400
    }

    #[test]
    fn ensure_reissues_from_the_same_ca_when_the_names_change() {
        let dir = tempfile::tempdir().unwrap();
        let tls = dir.path().join("tls");
        ensure(&tls, &server_names("registry.test:5000")).unwrap();
        let ca_pem = std::fs::read(tls.join("ca.pem")).unwrap();
        let ca_key = std::fs::read(tls.join("ca.key")).unwrap();
        let old = std::fs::read(tls.join("server.pem")).unwrap();

        let made = ensure(&tls, &server_names("other.test:5000")).unwrap();
        assert!(made.created);
        assert_eq!(
            made.reissued.as_deref(),
            Some(
                "it covers localhost, registry.test, 127.0.0.1, ::1 but the wanted names are \
                 localhost, other.test, 127.0.0.1, ::1"
            )
        );
        assert_ne!(std::fs::read(tls.join("server.pem")).unwrap(), old);
        assert_eq!(std::fs::read(tls.join("ca.pem")).unwrap(), ca_pem);
        assert_eq!(std::fs::read(tls.join("ca.key")).unwrap(), ca_key);
        let (ca, server) = (tls.join("ca.pem"), tls.join("server.pem"));
        assert!(verifies(&ca, &server, "other.test"));
        assert!(!verifies(&ca, &server, "registry.test"));
        assert!(verifies(&ca, &server, "127.0.0.1"));
        super::super::server_config(&made.settings).unwrap();
        // The new certificate is then kept.
        let again = ensure(&tls, &server_names("other.test:5000")).unwrap();
        assert_eq!((again.created, again.reissued), (false, None));
    }

    #[test]
    fn ensure_reissues_a_certificate_that_expires_within_30_days() {
        let dir = tempfile::tempdir().unwrap();
        let tls = dir.path().join("tls");
        let names = server_names("registry.test");
        ensure(&tls, &names).unwrap();
        let ca_pem = std::fs::read(tls.join("ca.pem")).unwrap();
        let short = authority(&tls)
            .issue(&names, ExtendedKeyUsagePurpose::ServerAuth, 10)
            .unwrap();
        std::fs::write(tls.join("server.key"), &short.key_pem).unwrap();
        std::fs::write(tls.join("server.pem"), &short.cert_pem).unwrap();
        assert_eq!(days_left(&tls.join("server.pem")), 10);

        let made = ensure(&tls, &names).unwrap();
        assert!(made.created);
        let reason = made.reissued.unwrap();
        assert!(
            reason.starts_with("it expires on ")
                && reason.ends_with(" (renewed within 30 days of expiry)"),
            "{reason}"
        );
        assert_ne!(
            std::fs::read_to_string(tls.join("server.pem")).unwrap(),
            short.cert_pem
        );
        assert_ne!(
            std::fs::read_to_string(tls.join("server.key")).unwrap(),
            short.key_pem
        );
        assert_eq!(days_left(&tls.join("server.pem")), 730);
        assert_eq!(std::fs::read(tls.join("ca.pem")).unwrap(), ca_pem);
        assert!(verifies(
            &tls.join("ca.pem"),
            &tls.join("server.pem"),
            "registry.test"
        ));
        super::super::server_config(&made.settings).unwrap();
    }

    #[test]
    fn stale_compares_names_by_value_and_expiry_at_30_days() {
        let dir = tempfile::tempdir().unwrap();
        let tls = dir.path().join("tls");
        ensure(&tls, &server_names("10.1.2.3:5000")).unwrap();
        let ca = authority(&tls);
        let names = server_names("10.1.2.3:5000");
        let now = OffsetDateTime::now_utc();
        let check = |days: i64, wanted: &[&str], expected: Option<&str>| {
            let cert = ca
                .issue(&names, ExtendedKeyUsagePurpose::ServerAuth, days)
                .unwrap();
            let wanted: Vec<String> = wanted.iter().map(|s| s.to_string()).collect();
            let got = stale(cert.cert_pem.as_bytes(), &wanted, now).unwrap();
            let got = got.map(|r| r.split(" on ").next().unwrap_or_default().to_string());
            assert_eq!(got.as_deref(), expected, "{days} days, {wanted:?}");
        };
        let same = ["localhost", "127.0.0.1", "::1", "10.1.2.3"];
        // Order, case and the spelling of an IP address do not matter.
        check(730, &same, None);
        check(730, &["10.1.2.3", "0:0::1", "LocalHost", "127.0.0.1"], None);
        check(31, &same, None);
        check(29, &same, Some("it expires"));
        check(-1, &same, Some("it expired"));
        check(
            730,
            &["localhost", "127.0.0.1", "::1"],
            Some("it covers localhost, 10.1.2.3, 127.0.0.1, ::1 but the wanted names are localhost, 127.0.0.1, ::1"),
        );
        assert_eq!(
            stale(b"not pem", &names, now),
            Err("no certificate: no items found".to_string())
        );
    }

    #[test]
    fn ensure_refuses_to_reissue_without_the_ca_key() {
        let dir = tempfile::tempdir().unwrap();
        let tls = dir.path().join("tls");
        ensure(&tls, &server_names("registry.test")).unwrap();
        std::fs::remove_file(tls.join("ca.key")).unwrap();
        let ca_pem = std::fs::read(tls.join("ca.pem")).unwrap();
        let cert = std::fs::read(tls.join("server.pem")).unwrap();
        let err = ensure(&tls, &server_names("other.test")).err().unwrap();
        assert!(
            err.to_string().contains("but the CA key")
                && err.to_string().contains("ca.key is missing"),
            "{err}"
        );
        assert_eq!(std::fs::read(tls.join("ca.pem")).unwrap(), ca_pem);
        assert_eq!(std::fs::read(tls.join("server.pem")).unwrap(), cert);
        // Names unchanged and far from expiry: the CA key is not needed.
        assert!(
            !ensure(&tls, &server_names("registry.test"))
                .unwrap()
                .created
        );
    }
}
