//! Request metrics and `GET /metrics`.
//!
//! `track` is the middleware every request passes: it counts request and response body bytes by
//! surface (wrapping both bodies, size hints kept), and when the response head is ready records
//! the request under the operation its surface named in the response's extensions (`Operation`:
//! an ECR operation name or an OCI route kind), with its status and latency. Labels are closed
//! sets; nothing a client chooses (repository, tag, digest, an unknown target) becomes one.
//!
//! `/metrics` refreshes the gauges read from the database (queue depth per kind and state, open
//! uploads, pool connections) and renders every family. On the main listener it answers anyone
//! only with `metrics_public`; otherwise the caller must present Basic credentials (the registry
//! login token as `AWS:<token>`, or `<access key id>:<secret access key>`) of a principal allowed
//! `wharf:GetMetrics` (the administrator's `*` policy allows it). A separate `metrics_listen`
//! address serves `metrics_router`, unauthenticated (bind it where only scrapers reach).

use crate::operation_label::Operation;
use crate::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;
use wharf_core::{Access, Principal, Resource};
use wharf_metrics::{Counter, Metrics, SurfaceLabels};

/// Who may read `/metrics` on the main listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsAccess {
    /// Anyone.
    Public,
    /// Principals allowed `wharf:GetMetrics`.
    Authorized,
}

/// The IAM action `/metrics` needs on the main listener.
pub const GET_METRICS_ACTION: &str = "wharf:GetMetrics";

/// The surface a request is for, known before it is served.
fn surface(req: &Request) -> &'static str {
    if let Some(service) = crate::aws_json::service_of(req) {
        service.surface()
    } else if req.uri().path().starts_with("/v2") {
        "oci"
    } else if crate::console::route(req.method(), req.uri().path()).is_some() {
        "console"
    } else {
        "other"
    }
}

/// The middleware recording every request.
pub async fn track(
    State(metrics): State<std::sync::Arc<Metrics>>,
    req: Request,
    next: axum::middleware::Next,
) -> Response {
    let started = Instant::now();
    let surface = surface(&req);
    let received = metrics
        .bytes_received
        .get_or_create(&SurfaceLabels { surface })
        .clone();
    let req = req.map(|b| Body::new(Counting::new(b, received)));
    let resp = next.run(req).await;
    let operation = resp
        .extensions()
        .get::<Operation>()
        .map_or_else(|| other_operation(surface), |o| o.0);
    metrics.request(
        surface,
        operation,
        resp.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    let sent = metrics
        .bytes_sent
        .get_or_create(&SurfaceLabels { surface })
        .clone();
    resp.map(|b| Body::new(Counting::new(b, sent)))
}

fn other_operation(surface: &'static str) -> &'static str {
    match surface {
        "other" => "other",
        _ => "unknown",
    }
}

/// A body that counts its data bytes into a counter, passing size hints through (so a response
/// keeps its `Content-Length`).
struct Counting {
    inner: Body,
    counter: Counter,
}

impl Counting {
    fn new(inner: Body, counter: Counter) -> Counting {
        Counting { inner, counter }
    }
}

impl http_body::Body for Counting {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled {
            if let Some(data) = frame.data_ref() {
                self.counter.inc_by(data.len() as u64);
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Whether a request is for `/metrics` on the main listener.
pub fn is_metrics_request(req: &Request) -> bool {
    req.uri().path() == "/metrics" && req.method() == axum::http::Method::GET
}

/// `GET /metrics` on the main listener: public or authorized, as configured.
pub async fn handle(state: &AppState, req: Request) -> Response {
    let mut resp = match state.metrics_access {
        MetricsAccess::Public => render(state).await,
        MetricsAccess::Authorized => match authorize(state, req.headers()).await {
            Ok(()) => render(state).await,
            Err(resp) => resp,
        },
    };
    resp.extensions_mut().insert(Operation("metrics"));
    resp
}

/// The router of a separate `metrics_listen` address: `/metrics` for anyone who can reach it.
pub fn metrics_router(state: AppState) -> axum::Router {
    axum::Router::new()
        .route(
            "/metrics",
            axum::routing::get(|State(state): State<AppState>| async move { render(&state).await }),
        )
        .with_state(state)
}

fn refuse(status: StatusCode, message: &str) -> Response {
    let mut resp = (status, format!("{message}\n")).into_response();
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"wharf metrics\""),
        );
    }
    resp
}

/// Checks Basic credentials for `/metrics`: a login token or an access key pair, of a
/// principal allowed `wharf:GetMetrics` in its own registry.
async fn authorize(state: &AppState, headers: &axum::http::HeaderMap) -> Result<(), Response> {
    let unauthorized = || refuse(StatusCode::UNAUTHORIZED, "authentication required");
    let (user, password) = crate::audit::basic_credentials(headers).ok_or_else(unauthorized)?;
    let principal = if user == "AWS" {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        match state.identity.verify_token(&password, now).await {
            Ok(Ok(u)) => Principal::User(u),
            _ => return Err(unauthorized()),
        }
    } else {
        let key = state
            .identity
            .access_key(&user)
            .await
            .ok()
            .flatten()
            .filter(|k| k.active)
            .ok_or_else(unauthorized)?;
        let matches: bool =
            subtle::ConstantTimeEq::ct_eq(key.secret.as_bytes(), password.as_bytes()).into();
        if !matches {
            return Err(unauthorized());
        }
        wharf_core::Identity::principal_of(&key).map_err(|_| unauthorized())?
    };
    let Principal::User(u) = &principal else {
        return Err(unauthorized());
    };
    let account = u.account.clone();
    let access = Access {
        principal: &principal,
        action: GET_METRICS_ACTION,
        resource: Resource::Registry(&account),
        client: wharf_core::Client::default(),
        request_tags: &[],
    };
    if let Err(e) = crate::sync_caches(state).await {
        tracing::warn!(error = %e, "syncing caches for /metrics failed");
    }
    state
        .registry
        .authorize(&access)
        .await
        .map_err(|_| refuse(StatusCode::FORBIDDEN, "not allowed wharf:GetMetrics"))
}

/// Refreshes the database-backed gauges and renders every family.
pub async fn render(state: &AppState) -> Response {
    refresh(&state.registry, &state.metrics).await;
    let mut resp = state.metrics.encode().into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(wharf_metrics::CONTENT_TYPE),
    );
    resp
}

/// Reads the queue counts, open uploads and pool sizes into their gauges. A database that does
/// not answer leaves the previous values (and is logged): the scrape still succeeds.
async fn refresh(registry: &wharf_core::Registry, metrics: &Metrics) {
    match registry.job_counts().await {
        Ok(counts) => metrics.set_job_queue(
            counts
                .into_iter()
                .map(|c| (c.kind, c.state.as_str().to_string(), c.count)),
        ),
        Err(e) => tracing::warn!(error = %e, "reading job counts for /metrics failed"),
    }
    match registry.upload_count().await {
        Ok(n) => {
            metrics.uploads_in_progress.set(n);
        }
        Err(e) => tracing::warn!(error = %e, "counting uploads for /metrics failed"),
    }
    let (reader, writer) = registry.pool_stats();
    metrics.set_pool("reader", reader.size, reader.idle);
    metrics.set_pool("writer", writer.size, writer.idle);
}
