//! Wharf's own TLS listener: HTTP/2 and HTTP/1.1 chosen by ALPN, `aws:SecureTransport` true on
//! TLS connections, certificate reload for new connections (a bad new file keeps the old
//! certificate), client-certificate authentication, and the start-up checks' messages.

mod common;

use common::{tls_client, Server, Tls, OCI_MANIFEST};
use reqwest::{StatusCode, Version};
use std::path::{Path, PathBuf};
use std::time::Duration;
use wharf_api::tls::self_signed::{Authority, Issued};
use wharf_api::tls::{ClientAuth, TlsError, TlsReloader, TlsSettings};
use wharf_core::Repo;

const ONLY_OVER_TLS: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"ecr:BatchGetImage","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#;

/// A CA and a server certificate for 127.0.0.1 written to `dir` as `server.pem`/`server.key`.
struct Pki {
    ca: Authority,
    settings: TlsSettings,
}

fn server_names() -> Vec<String> {
    vec!["127.0.0.1".to_string(), "localhost".to_string()]
}

fn write_issued(dir: &Path, name: &str, issued: &Issued) -> (PathBuf, PathBuf) {
    let cert = dir.join(format!("{name}.pem"));
    let key = dir.join(format!("{name}.key"));
    std::fs::write(&cert, &issued.cert_pem).unwrap();
    std::fs::write(&key, &issued.key_pem).unwrap();
    (cert, key)
}

fn pki(dir: &Path) -> Pki {
    let ca = Authority::generate("Test CA").unwrap();
    let issued = ca.issue_server(&server_names()).unwrap();
    let (cert, key) = write_issued(dir, "server", &issued);
    Pki {
        ca,
        settings: TlsSettings {
            cert,
            key,
            client_ca: None,
            client_auth: ClientAuth::Required,
        },
    }
}

async fn start(settings: TlsSettings, ca: &Authority) -> Server {
    Server::start_tls(Tls {
        reloader: TlsReloader::new(settings).expect("TLS files load"),
        ca_pem: ca.cert_pem.clone(),
    })
    .await
}

/// The DER of the certificate the server presented on `resp`'s connection.
fn peer_certificate(resp: &reqwest::Response) -> Vec<u8> {
    resp.extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|i| i.peer_certificate())
        .expect("TLS info with the peer certificate")
        .to_vec()
}

fn der_of(pem: &str) -> Vec<u8> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::from_pem_slice(pem.as_bytes())
        .unwrap()
        .to_vec()
}

#[tokio::test]
async fn http2_and_http1_are_negotiated_by_alpn() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki(dir.path());
    let s = start(pki.settings.clone(), &pki.ca).await;
    // Bodies both ways over HTTP/2: blob uploads, a manifest, then the pull.
    let (digest, body) = s.push_image("h2/image", "v1", "over h2").await;
    let resp = s
        .req(reqwest::Method::GET, "/v2/h2/image/manifests/v1")
        .header("accept", OCI_MANIFEST)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.version(), Version::HTTP_2);
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers()["docker-content-digest"].to_str().unwrap(),
        digest
    );
    assert_eq!(resp.bytes().await.unwrap().to_vec(), body);

    // A client that offers only HTTP/1.1 gets it.
    let http1 = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(pki.ca.cert_pem.as_bytes()).unwrap())
        .http1_only()
        .build()
        .unwrap();
    let resp = http1
        .get(s.url("/v2/h2/image/manifests/v1"))
        .header("authorization", &s.auth)
        .header("accept", OCI_MANIFEST)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.version(), Version::HTTP_11);
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.bytes().await.unwrap().to_vec(), body);
    // Plain HTTP on the TLS port is not served.
    let plain = s.base.replace("https://", "http://");
    assert!(reqwest::get(format!("{plain}/v2/")).await.is_err());
}

#[tokio::test]
async fn a_tls_connection_is_secure_transport() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki(dir.path());
    let s = start(pki.settings.clone(), &pki.ca).await;
    s.push_image("secure/only", "v1", "secure").await;
    let repo = Repo::new(s.registry.default_account(), "secure/only".parse().unwrap());
    s.registry
        .set_repository_policy(&repo, ONLY_OVER_TLS)
        .await
        .unwrap();
    // An untrusted client's claim of plain HTTP changes nothing: the connection is TLS.
    for claim in [None, Some("http")] {
        let mut req = s
            .req(reqwest::Method::GET, "/v2/secure/only/manifests/v1")
            .header("accept", OCI_MANIFEST);
        if let Some(proto) = claim {
            req = req.header("x-forwarded-proto", proto);
        }
        assert_eq!(
            req.send().await.unwrap().status(),
            StatusCode::OK,
            "{claim:?}"
        );
    }

    // The same policy on the plain listener refuses the pull.
    let plain = Server::start().await;
    plain.push_image("secure/only", "v1", "secure").await;
    let repo = Repo::new(
        plain.registry.default_account(),
        "secure/only".parse().unwrap(),
    );
    plain
        .registry
        .set_repository_policy(&repo, ONLY_OVER_TLS)
        .await
        .unwrap();
    let resp = plain
        .req(reqwest::Method::GET, "/v2/secure/only/manifests/v1")
        .header("accept", OCI_MANIFEST)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn new_connections_see_a_replaced_certificate_and_bad_files_keep_the_old_one() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki(dir.path());
    let first = std::fs::read_to_string(&pki.settings.cert).unwrap();
    let reloader = TlsReloader::new(pki.settings.clone()).unwrap();
    let s = Server::start_tls(Tls {
        reloader: reloader.clone(),
        ca_pem: pki.ca.cert_pem.clone(),
    })
    .await;
    let watching = reloader.clone().watch(Duration::from_millis(50));
    let presented = || async {
        let client = tls_client(&s.auth, &pki.ca.cert_pem, None);
        let resp = client.get(s.url("/v2/")).send().await.expect("GET /v2/");
        assert_eq!(resp.status(), StatusCode::OK);
        peer_certificate(&resp)
    };
    assert_eq!(presented().await, der_of(&first));

    // Replace both files (as cert-manager or certbot would); the poll picks them up.
    let second = pki.ca.issue_server(&server_names()).unwrap();
    write_issued(dir.path(), "server", &second);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while presented().await != der_of(&second.cert_pem) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the new certificate was not served within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    watching.abort();

    // A key that does not match: the reload fails, naming both files, and the second
    // certificate stays in service.
    let stranger = pki.ca.issue_server(&server_names()).unwrap();
    std::fs::write(&pki.settings.key, &stranger.key_pem).unwrap();
    let e = reloader.reload().unwrap_err();
    assert!(matches!(e, TlsError::KeyMismatch { .. }), "{e}");
    assert_eq!(presented().await, der_of(&second.cert_pem));
    // Nothing changed since that attempt: no new try, no new error.
    assert!(!reloader.reload_if_changed().unwrap());
    // Fixing the key brings in the certificate it belongs to.
    std::fs::write(&pki.settings.cert, &stranger.cert_pem).unwrap();
    assert!(reloader.reload_if_changed().unwrap());
    assert_eq!(presented().await, der_of(&stranger.cert_pem));
}

#[tokio::test]
async fn client_certificates_from_the_configured_ca_only() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki(dir.path());
    let clients = Authority::generate("Client CA").unwrap();
    let other = Authority::generate("Other CA").unwrap();
    let client_ca = dir.path().join("clients.pem");
    std::fs::write(&client_ca, &clients.cert_pem).unwrap();
    let identity = |issued: Issued| format!("{}{}", issued.cert_pem, issued.key_pem);
    let good = identity(clients.issue_client("ci-runner").unwrap());
    let foreign = identity(other.issue_client("intruder").unwrap());

    for auth in [ClientAuth::Required, ClientAuth::Optional] {
        let settings = TlsSettings {
            client_ca: Some(client_ca.clone()),
            client_auth: auth,
            ..pki.settings.clone()
        };
        let s = start(settings, &pki.ca).await;
        let get = |identity: Option<&str>| {
            let client = tls_client(&s.auth, &pki.ca.cert_pem, identity);
            let url = s.url("/v2/");
            async move { client.get(url).send().await.map(|r| r.status()) }
        };
        assert_eq!(get(Some(&good)).await.unwrap(), StatusCode::OK, "{auth:?}");
        assert!(get(Some(&foreign)).await.is_err(), "{auth:?}: foreign CA");
        match auth {
            ClientAuth::Required => assert!(get(None).await.is_err(), "no certificate"),
            ClientAuth::Optional => assert_eq!(get(None).await.unwrap(), StatusCode::OK),
        }
    }
}

#[test]
fn unusable_files_are_named_with_their_problem() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pki = pki(d);
    let other = pki.ca.issue_server(&server_names()).unwrap();
    let (_, other_key) = write_issued(d, "other", &other);
    std::fs::write(d.join("garbage.pem"), "not a certificate\n").unwrap();
    std::fs::write(
        d.join("cert-as-key.pem"),
        std::fs::read(&pki.settings.cert).unwrap(),
    )
    .unwrap();
    let at = |name: &str| d.join(name);
    let show = |p: &Path| p.display().to_string();
    let check = |settings: TlsSettings, want: String| {
        let e = TlsReloader::new(settings).unwrap_err();
        assert_eq!(e.to_string(), want);
    };
    let base = pki.settings.clone();
    check(
        TlsSettings {
            cert: at("missing.pem"),
            ..base.clone()
        },
        format!("tls_cert file {} does not exist", show(&at("missing.pem"))),
    );
    check(
        TlsSettings {
            key: d.to_path_buf(),
            ..base.clone()
        },
        format!(
            "tls_key file {} cannot be read: Is a directory (os error 21)",
            show(d)
        ),
    );
    check(
        TlsSettings {
            cert: at("garbage.pem"),
            ..base.clone()
        },
        format!(
            "tls_cert file {} is not PEM or holds no CERTIFICATE block (no -----BEGIN CERTIFICATE----- block found)",
            show(&at("garbage.pem"))
        ),
    );
    check(
        TlsSettings {
            key: at("cert-as-key.pem"),
            ..base.clone()
        },
        format!(
            "tls_key file {} is not PEM or holds no PRIVATE KEY block (no -----BEGIN ... PRIVATE KEY----- block found)",
            show(&at("cert-as-key.pem"))
        ),
    );
    check(
        TlsSettings {
            key: other_key.clone(),
            ..base.clone()
        },
        format!(
            "tls_key file {} does not match the certificate in tls_cert file {}",
            show(&other_key),
            show(&base.cert)
        ),
    );
    check(
        TlsSettings {
            client_ca: Some(at("garbage.pem")),
            ..base.clone()
        },
        format!(
            "tls_client_ca file {} is not PEM or holds no CERTIFICATE block (no -----BEGIN CERTIFICATE----- block found)",
            show(&at("garbage.pem"))
        ),
    );
    // The good files load.
    TlsReloader::new(base).unwrap();
}
