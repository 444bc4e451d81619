//! Wharf's HTTP skeleton: one listener and one middleware stack (tracing, request ids, request
//! metrics, common headers) for every surface: the OCI `/v2/` API, the ECR JSON API, the web
//! console under `/console`, the health endpoints and `/metrics`; and the audit trail both API
//! surfaces feed.

pub mod audit;
pub mod aws_entry;
pub mod aws_json;
pub mod client;
pub mod console;
pub mod ecr;
pub mod ecr_public;
pub mod health;
pub mod metrics;
pub mod oci;
pub mod operation_label;
pub mod tls;

use axum::http::{HeaderName, HeaderValue, Request};
use axum::Router;
use std::sync::Arc;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use wharf_core::{Identity, Registry};

/// What handlers share: the narrow services they call. Every request clones it (axum's `State`),
/// so it is one reference count, not a copy of each service's handles and settings (which had
/// cost a manifest GET about a sixth of its CPU).
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl AppState {
    pub fn new(services: Services) -> AppState {
        AppState(Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

/// The services of an [`AppState`].
pub struct Services {
    pub registry: Registry,
    pub identity: Identity,
    pub ecr: EcrSettings,
    /// Proxies whose `X-Forwarded-For`/`-Proto` name the client.
    pub proxies: client::TrustedProxies,
    /// Where requests, jobs and results are counted.
    pub metrics: wharf_metrics::Metrics,
    /// Who may read `/metrics` on this listener.
    pub metrics_access: metrics::MetricsAccess,
    /// Where audit records go.
    pub audit: audit::AuditSink,
    /// The web console's sessions (this node's) and the price its usage view shows.
    pub console: console::Console,
}

/// How the ECR surface names things.
#[derive(Debug, Clone)]
pub struct EcrSettings {
    /// The region in ARNs and repository URIs.
    pub region: String,
    /// `host[:port]` clients reach `/v2/` at.
    pub public_host: String,
    /// `http` or `https`: the scheme of `proxyEndpoint`, download URLs and the auth realm.
    pub public_scheme: String,
    /// With a domain, accounts are routed by `Host: <account>.dkr.ecr.<region>.<domain>`.
    pub registry_domain: Option<String>,
    /// The other regions (`[regions.<name>]`) replication rules may name.
    pub replication_regions: Vec<String>,
}

/// Builds the application with every surface and the shared middleware.
pub fn app(state: AppState) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    // Behind one Arc: the middleware's state is cloned for every request.
    let metrics = Arc::new(state.metrics.clone());
    Router::new()
        .fallback(route)
        .with_state(state)
        .layer(axum::middleware::from_fn_with_state(metrics, metrics::track))
        .layer(axum::middleware::from_fn(close_after_unread_error))
        .layer(axum::middleware::map_response(api_version_header))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            let id = req
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), id = %id)
        }))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}

/// Brings this node's caches (manifests, authorization inputs, access keys) up to date with the
/// database: once per request, before anything reads a cache (`Registry::sync_caches`).
pub(crate) async fn sync_caches(state: &AppState) -> Result<(), wharf_core::CoreError> {
    state
        .registry
        .sync_caches_with(|| state.identity.flush_keys())
        .await
}

/// Sends each request to its surface: the health endpoints, the AWS JSON APIs (`POST /` with an
/// `X-Amz-Target` of ECR or ECR Public), ECR Public's catalog logos, the console (`/console`),
/// or `/v2/`.
async fn route(
    state: axum::extract::State<AppState>,
    req: axum::extract::Request,
) -> axum::response::Response {
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    if let Some(endpoint) = health::endpoint(req.method(), req.uri().path()) {
        return health::handle(&state, endpoint).await;
    }
    if metrics::is_metrics_request(&req) {
        return metrics::handle(&state, req).await;
    }
    let tls = req.extensions().get::<client::TlsConnection>().is_some();
    let client = state.proxies.resolve_connection(peer, tls, req.headers());
    if let Some(service) = aws_json::service_of(&req) {
        aws_entry::handle(state.0, client, req, service).await
    } else if let Some(digest) = ecr_public::logo_request(&req) {
        ecr_public::serve_logo(&state, &digest).await
    } else if let Some(page) = console::route(req.method(), req.uri().path()) {
        console::handle(&state, client, req, page).await
    } else {
        oci::handle(state, client, req).await
    }
}

/// An error answered before a request body was read leaves unread bytes on the connection; hyper
/// then closes it. Saying `Connection: close` tells the client not to reuse it. (HTTP/2 has no
/// such header: the stream is reset and the connection lives on.)
async fn close_after_unread_error(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let has_body = req.version() < axum::http::Version::HTTP_2
        && (req
            .headers()
            .contains_key(axum::http::header::TRANSFER_ENCODING)
            || req
                .headers()
                .get(axum::http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.trim() != "0"));
    let mut resp = next.run(req).await;
    if has_body && (resp.status().is_client_error() || resp.status().is_server_error()) {
        resp.headers_mut().insert(
            axum::http::header::CONNECTION,
            HeaderValue::from_static("close"),
        );
    }
    resp
}

async fn api_version_header(mut resp: axum::response::Response) -> axum::response::Response {
    resp.headers_mut().insert(
        HeaderName::from_static("docker-distribution-api-version"),
        HeaderValue::from_static("registry/2.0"),
    );
    resp
}
