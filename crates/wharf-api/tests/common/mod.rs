//! The shared harness of the `/v2/` HTTP tests: a real Wharf server in-process on port 0 over a
//! temporary data directory, a `reqwest` client, a raw-socket client for requests `reqwest` would
//! normalize (dot segments, truncated bodies), and helpers that push blobs and manifests.

// Each test binary compiles this module and uses only part of it.
#![allow(dead_code)]

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use reqwest::{Method, Response, StatusCode};
use serde_json::Value;
use sha2::Digest as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use wharf_api::{AppState, EcrSettings};
use wharf_blob::FsBlobStore;
use wharf_core::{Identity, Principal, Registry};
use wharf_meta::MetaStore;

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";

/// A running server and everything needed to stop it and start it again on the same data.
pub struct Server {
    /// `http://127.0.0.1:<port>`, without a trailing slash. Changes on restart.
    pub base: String,
    pub client: reqwest::Client,
    /// The administrator's `Authorization` header value (`Basic base64("AWS:<token>")`).
    pub auth: String,
    pub dir: TempDir,
    /// A handle on the running server's registry, for calls the HTTP API does not expose.
    pub registry: Registry,
    meta: MetaStore,
    proxies: wharf_api::client::TrustedProxies,
    tls: Option<Tls>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Server {
    /// Starts a server over a fresh temporary data directory.
    pub async fn start() -> Server {
        Server::start_with(Default::default()).await
    }

    /// Starts a server that takes the client from `X-Forwarded-*` when the peer is in `proxies`.
    pub async fn start_with(proxies: wharf_api::client::TrustedProxies) -> Server {
        Server::start_on(proxies, None).await
    }

    /// Starts a server on Wharf's TLS listener; its client trusts `tls.ca_pem`.
    pub async fn start_tls(tls: Tls) -> Server {
        Server::start_on(Default::default(), Some(tls)).await
    }

    async fn start_on(proxies: wharf_api::client::TrustedProxies, tls: Option<Tls>) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let running = launch(dir.path(), proxies.clone(), tls.clone()).await;
        Server {
            base: running.base,
            client: match &tls {
                Some(t) => tls_client(&running.auth, &t.ca_pem, None),
                None => new_client(&running.auth),
            },
            auth: running.auth,
            dir,
            registry: running.registry,
            meta: running.meta,
            proxies,
            tls,
            stop: Some(running.stop),
            task: Some(running.task),
        }
    }

    /// Stops the server (gracefully, then forcibly) and closes its database.
    pub async fn stop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
        self.meta.close().await;
        // Fresh client: pooled connections point at the old listener.
        self.client = match &self.tls {
            Some(t) => tls_client(&self.auth, &t.ca_pem, None),
            None => new_client(&self.auth),
        };
    }

    /// Stops the server and starts a new one (on a new port) over the same data directory.
    pub async fn restart(&mut self) {
        self.stop().await;
        let running = launch(self.dir.path(), self.proxies.clone(), self.tls.clone()).await;
        self.base = running.base;
        self.registry = running.registry;
        self.meta = running.meta;
        self.stop = Some(running.stop);
        self.task = Some(running.task);
    }

    /// The root the blob store was opened on.
    pub fn blob_root(&self) -> PathBuf {
        blob_root(self.dir.path())
    }

    /// Files stored for `digest` anywhere under the blob store's committed-blob tree.
    pub fn blob_files(&self, digest: &str) -> Vec<PathBuf> {
        let hex = digest.split_once(':').expect("digest").1;
        let mut out = Vec::new();
        walk(&self.blob_root().join("blobs"), &mut |p| {
            if p.file_name().and_then(|n| n.to_str()) == Some(hex) {
                out.push(p.to_path_buf());
            }
        });
        out
    }

    /// Files in the upload scratch directory.
    pub fn scratch_files(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        walk(&self.blob_root().join("uploads"), &mut |p| {
            out.push(p.to_path_buf())
        });
        out
    }

    /// An absolute URL for a path (or a `Location` header, which Wharf sends as a path).
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        }
    }

    pub fn req(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, self.url(path))
    }

    pub async fn get(&self, path: &str) -> Response {
        self.req(Method::GET, path).send().await.expect("GET")
    }

    pub async fn head(&self, path: &str) -> Response {
        self.req(Method::HEAD, path).send().await.expect("HEAD")
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.req(Method::DELETE, path).send().await.expect("DELETE")
    }

    /// Pushes a blob monolithically (`POST ?digest=`) and returns its sha256 digest.
    pub async fn push_blob(&self, repo: &str, bytes: &[u8]) -> String {
        let digest = sha256(bytes);
        let resp = self
            .req(
                Method::POST,
                &format!("/v2/{repo}/blobs/uploads/?digest={digest}"),
            )
            .body(bytes.to_vec())
            .send()
            .await
            .expect("POST blob");
        assert_eq!(resp.status(), StatusCode::CREATED, "push_blob {repo}");
        digest
    }

    /// Opens an upload session and returns its `Location` path.
    pub async fn start_upload(&self, repo: &str) -> String {
        let resp = self
            .req(Method::POST, &format!("/v2/{repo}/blobs/uploads/"))
            .send()
            .await
            .expect("POST upload");
        assert_eq!(resp.status(), StatusCode::ACCEPTED, "start_upload {repo}");
        header(&resp, "location")
    }

    /// PATCHes a chunk to an upload, with `Content-Range` when `start` is given.
    pub async fn patch(&self, location: &str, start: Option<u64>, bytes: &[u8]) -> Response {
        let mut req = self
            .req(Method::PATCH, location)
            .header("content-type", "application/octet-stream")
            .body(bytes.to_vec());
        if let Some(s) = start {
            let end = s + bytes.len() as u64 - 1;
            req = req.header("content-range", format!("{s}-{end}"));
        }
        req.send().await.expect("PATCH")
    }

    /// Completes an upload with `PUT ?digest=` and an optional final chunk.
    pub async fn finish(&self, location: &str, digest: &str, bytes: &[u8]) -> Response {
        self.req(
            Method::PUT,
            &with_query(location, &format!("digest={digest}")),
        )
        .body(bytes.to_vec())
        .send()
        .await
        .expect("PUT upload")
    }

    /// Pushes a manifest and returns the response.
    pub async fn put_manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        body: &[u8],
    ) -> Response {
        self.req(Method::PUT, &format!("/v2/{repo}/manifests/{reference}"))
            .header("content-type", media_type)
            .body(body.to_vec())
            .send()
            .await
            .expect("PUT manifest")
    }

    /// Pushes a manifest that must succeed, returning its digest (checked against the bytes).
    pub async fn push_manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        body: &[u8],
    ) -> String {
        let resp = self.put_manifest(repo, reference, media_type, body).await;
        let status = resp.status();
        let digest = resp
            .headers()
            .get("docker-content-digest")
            .map(|v| v.to_str().unwrap().to_string());
        assert_eq!(
            status,
            StatusCode::CREATED,
            "push_manifest {repo}:{reference}: {}",
            resp.text().await.unwrap_or_default()
        );
        assert_eq!(digest.as_deref(), Some(sha256(body).as_str()));
        sha256(body)
    }

    /// Pushes a config and one layer, then an OCI image manifest over them; returns
    /// `(manifest digest, manifest bytes)`.
    pub async fn push_image(&self, repo: &str, reference: &str, seed: &str) -> (String, Vec<u8>) {
        let config = format!(r#"{{"seed":"{seed}"}}"#);
        let layer = format!("layer bytes of {seed}");
        let c = self.push_blob(repo, config.as_bytes()).await;
        let l = self.push_blob(repo, layer.as_bytes()).await;
        let body = image_manifest(OCI_MANIFEST, &c, config.len(), &[(&l, layer.len())]);
        let d = self
            .push_manifest(repo, reference, OCI_MANIFEST, body.as_bytes())
            .await;
        (d, body.into_bytes())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

struct Running {
    auth: String,
    base: String,
    registry: Registry,
    meta: MetaStore,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

fn blob_root(dir: &Path) -> PathBuf {
    dir.join("blobs")
}

/// A client with its own connection pool, redirects off (Wharf's `Location`s are not redirects),
/// sending the given `Authorization` header on every request.
pub fn new_client(auth: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        auth.parse().expect("header value"),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// What a server on the TLS listener serves with, and the CA its clients trust.
#[derive(Clone)]
pub struct Tls {
    pub reloader: Arc<wharf_api::tls::TlsReloader>,
    pub ca_pem: String,
}

/// A client like `new_client` that trusts only `ca_pem` and presents `identity` (certificate and
/// key, PEM) when given.
pub fn tls_client(auth: &str, ca_pem: &str, identity: Option<&str>) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        auth.parse().expect("header value"),
    );
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes()).expect("CA"))
        .tls_info(true)
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none());
    if let Some(pem) = identity {
        builder = builder.identity(reqwest::Identity::from_pem(pem.as_bytes()).expect("identity"));
    }
    builder.build().expect("client")
}

/// The master keyring of the test server under `dir`, made at its first start (blobs are sealed,
/// as in production, and a restart reads them with the same key).
fn test_keys(dir: &Path) -> wharf_core::crypt::Keys {
    use wharf_core::crypt::{master, Keys, MasterKeyring};
    let file = dir.join("test-master.key");
    if !file.exists() {
        std::fs::write(
            &file,
            master::keyring_line(1, &master::random_key()).as_str(),
        )
        .expect("write the test master key");
    }
    let text = std::fs::read_to_string(&file).expect("read the test master key");
    Keys::with_master(MasterKeyring::parse(&text).expect("test keyring"), true)
}

/// Opens the stores under `dir` and serves them on a fresh port until told to stop.
async fn launch(
    dir: &Path,
    proxies: wharf_api::client::TrustedProxies,
    tls: Option<Tls>,
) -> Running {
    let blobs = FsBlobStore::open(blob_root(dir)).expect("open blob store");
    let meta = wharf_meta::testing::store(dir).await;
    // As in ECR, pushes need an existing repository or a CREATE_ON_PUSH template; these tests push
    // to arbitrary names, so a catch-all template creates them (a no-op after a restart).
    let account = meta.default_account().to_string();
    meta.create_template(&account, "ROOT", r#"{"appliedFor":["CREATE_ON_PUSH"]}"#)
        .await
        .expect("create the ROOT template");
    let registry = Registry::new(Arc::new(blobs), meta.clone()).with_keys(test_keys(dir));
    let identity = Identity::open(meta.clone()).await.expect("identity");
    identity.bootstrap_admin().await.expect("bootstrap admin");
    let admin = meta
        .user(&account, "admin")
        .await
        .expect("read admin")
        .expect("admin exists");
    let key = meta
        .list_access_keys(admin.id)
        .await
        .expect("keys")
        .remove(0);
    let Principal::User(user) = Identity::principal_of(&key).expect("principal") else {
        panic!("admin is a user")
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let token = identity.issue_token(&user, now);
    let auth = format!(
        "Basic {}",
        STANDARD.encode(format!("AWS:{}", token.password))
    );
    let app = wharf_api::app(AppState::new(wharf_api::Services {
        registry: registry.clone(),
        identity,
        ecr: EcrSettings {
            region: "us-east-1".into(),
            public_host: "127.0.0.1".into(),
            public_scheme: "http".into(),
            registry_domain: None,
            replication_regions: vec!["eu-west-1".into()],
        },
        proxies,
        metrics: wharf_metrics::Metrics::default(),
        metrics_access: wharf_api::metrics::MetricsAccess::Authorized,
        audit: wharf_api::audit::AuditSink::start(
            registry.clone(),
            wharf_metrics::Metrics::default(),
        )
        .0,
        console: Default::default(),
    }));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let (stop, rx) = oneshot::channel::<()>();
    let stopped = async move {
        let _ = rx.await;
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let task = tokio::spawn(async move {
        match tls {
            Some(tls) => wharf_api::tls::serve(listener, app, tls.reloader, stopped)
                .await
                .expect("serve TLS"),
            None => axum::serve(
                listener,
                app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .with_graceful_shutdown(stopped)
            .await
            .expect("serve"),
        }
    });
    Running {
        auth,
        base: format!("{scheme}://{addr}"),
        registry,
        meta,
        stop,
        task,
    }
}

fn walk(dir: &Path, f: &mut dyn FnMut(&Path)) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, f);
        } else {
            f(&p);
        }
    }
}

/// Appends a query string to a path that may already have one.
pub fn with_query(path: &str, q: &str) -> String {
    if path.contains('?') {
        format!("{path}&{q}")
    } else {
        format!("{path}?{q}")
    }
}

pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)))
}

pub fn sha512(bytes: &[u8]) -> String {
    format!("sha512:{}", hex::encode(sha2::Sha512::digest(bytes)))
}

/// A header's value as a string; panics when absent.
pub fn header(resp: &Response, name: &str) -> String {
    resp.headers()
        .get(name)
        .unwrap_or_else(|| panic!("missing header {name}: {:?}", resp.headers()))
        .to_str()
        .expect("header is ASCII")
        .to_string()
}

pub fn opt_header(resp: &Response, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .map(|v| v.to_str().expect("header is ASCII").to_string())
}

/// Asserts the status and that the body is the OCI error envelope with `code` first; returns the
/// first error entry.
pub async fn expect_error(resp: Response, status: StatusCode, code: &str) -> Value {
    let got = resp.status();
    let ctype = opt_header(&resp, "content-type");
    let body = resp.bytes().await.expect("error body");
    assert_eq!(got, status, "body: {}", String::from_utf8_lossy(&body));
    let first = check_envelope(&body);
    assert_eq!(
        first["code"],
        code,
        "body: {}",
        String::from_utf8_lossy(&body)
    );
    assert_eq!(ctype.as_deref(), Some("application/json"));
    first
}

/// Checks `{"errors":[{"code","message",...}]}` and returns the first entry.
pub fn check_envelope(body: &[u8]) -> Value {
    let v: Value = serde_json::from_slice(body).unwrap_or_else(|e| {
        panic!(
            "error body is not JSON ({e}): {:?}",
            String::from_utf8_lossy(body)
        )
    });
    let errors = v["errors"].as_array().expect("errors array");
    assert!(!errors.is_empty(), "empty errors array");
    for e in errors {
        assert!(e["code"].is_string(), "code in {e}");
        assert!(e["message"].is_string(), "message in {e}");
    }
    errors[0].clone()
}

pub async fn json(resp: Response) -> Value {
    let body = resp.bytes().await.expect("body");
    serde_json::from_slice(&body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&body)))
}

/// An image manifest (OCI or Docker) over a config and layers, compact JSON.
pub fn image_manifest(
    media_type: &str,
    config: &str,
    config_size: usize,
    layers: &[(&str, usize)],
) -> String {
    let (cmt, lmt) = if media_type == DOCKER_MANIFEST {
        (
            "application/vnd.docker.container.image.v1+json",
            "application/vnd.docker.image.rootfs.diff.tar.gzip",
        )
    } else {
        (OCI_CONFIG, OCI_LAYER)
    };
    let layers: Vec<String> = layers
        .iter()
        .map(|(d, s)| format!(r#"{{"mediaType":"{lmt}","digest":"{d}","size":{s}}}"#))
        .collect();
    format!(
        r#"{{"schemaVersion":2,"mediaType":"{media_type}","config":{{"mediaType":"{cmt}","digest":"{config}","size":{config_size}}},"layers":[{}]}}"#,
        layers.join(",")
    )
}

/// An index (OCI or Docker list) over child manifests given as `(media type, digest, size)`.
pub fn index_manifest(media_type: &str, children: &[(&str, &str, usize)]) -> String {
    let m: Vec<String> = children
        .iter()
        .map(|(mt, d, s)| {
            format!(
                r#"{{"mediaType":"{mt}","digest":"{d}","size":{s},"platform":{{"architecture":"amd64","os":"linux"}}}}"#
            )
        })
        .collect();
    format!(
        r#"{{"schemaVersion":2,"mediaType":"{media_type}","manifests":[{}]}}"#,
        m.join(",")
    )
}

/// What a raw HTTP/1.1 exchange returned.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends bytes as they are over a fresh connection, shuts down the write half, and reads until the
/// server closes. The request is not normalized in any way, so `..` and `%2e%2e` reach the server.
pub async fn raw_exchange(base: &str, request: &[u8]) -> Option<RawResponse> {
    exchange(base, request, true).await
}

/// Sends raw bytes; with `half_close` the write half is shut afterwards (to cut a body short).
/// A complete request is sent without it: hyper drops a connection whose client half-closed
/// before the response was ready.
async fn exchange(base: &str, request: &[u8], half_close: bool) -> Option<RawResponse> {
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(request).await.expect("write request");
    if half_close {
        s.shutdown().await.expect("shutdown write half");
    }
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf))
        .await
        .expect("server closed the connection in time")
        .ok()?;
    parse_response(&buf)
}

/// A complete raw request with `Connection: close`.
pub async fn raw(s: &Server, method: &str, path: &str) -> RawResponse {
    let auth = &s.auth;
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: test\r\nAuthorization: {auth}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    exchange(&s.base, req.as_bytes(), false)
        .await
        .unwrap_or_else(|| panic!("no response to {method} {path}"))
}

fn parse_response(buf: &[u8]) -> Option<RawResponse> {
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&buf[..split]).ok()?;
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let rest = &buf[split + 4..];
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_vec()
    };
    Some(RawResponse {
        status,
        headers,
        body,
    })
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = b.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&b[..eol])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next().unwrap_or("").trim(), 16).ok())
            .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = eol + 2;
        let end = (start + size).min(b.len());
        out.extend_from_slice(&b[start..end]);
        b = &b[(end + 2).min(b.len())..];
    }
    out
}

/// Reads one response (headers and a `Content-Length` body) from a kept-alive connection.
async fn read_one_response(s: &mut TcpStream) -> Option<RawResponse> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(split) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = parse_response(&buf[..split + 4])?;
            let len: usize = head
                .header("content-length")
                .and_then(|l| l.parse().ok())
                .unwrap_or(0);
            if buf.len() >= split + 4 + len {
                return parse_response(&buf[..split + 4 + len]);
            }
        }
        let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut chunk))
            .await
            .ok()?
            .ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Sends `first` on a keep-alive connection, reads its response, then sends `second` on the same
/// connection. Returns the first response and, if the server answered it, the second.
pub async fn raw_keep_alive(
    base: &str,
    first: &[u8],
    second: &[u8],
) -> (RawResponse, Option<RawResponse>) {
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).await.expect("connect");
    // The server may answer before reading the whole body, so a failed write is not fatal.
    let _ = s.write_all(first).await;
    let resp = read_one_response(&mut s)
        .await
        .expect("a response to the first request");
    let second_resp = match s.write_all(second).await {
        Ok(()) => read_one_response(&mut s).await,
        Err(_) => None,
    };
    (resp, second_resp)
}
