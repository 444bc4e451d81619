//! Health endpoints for load balancers and orchestrators: `/healthz` (the process serves HTTP)
//! and `/readyz` (this node can reach its metadata database and blob store). Both are public and
//! say nothing beyond which component failed; the details go to the log.

use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use std::time::Duration;

use crate::AppState;

/// How long each readiness check may take before the node counts as not ready.
const READY_TIMEOUT: Duration = Duration::from_secs(3);

/// The health endpoint a path names, if any.
pub fn endpoint(method: &Method, path: &str) -> Option<Endpoint> {
    if method != Method::GET && method != Method::HEAD {
        return None;
    }
    match path {
        "/healthz" => Some(Endpoint::Live),
        "/readyz" => Some(Endpoint::Ready),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Live,
    Ready,
}

/// Answers a health endpoint.
pub async fn handle(state: &AppState, endpoint: Endpoint) -> Response {
    let (status, body) = match endpoint {
        Endpoint::Live => (StatusCode::OK, serde_json::json!({ "status": "ok" })),
        Endpoint::Ready => match state.registry.check_ready(READY_TIMEOUT).await {
            Ok(()) => (StatusCode::OK, serde_json::json!({ "status": "ready" })),
            Err(failed) => {
                for (component, detail) in &failed {
                    tracing::warn!(component, detail = %detail, "readiness check failed");
                }
                let names: Vec<&str> = failed.iter().map(|(c, _)| *c).collect();
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    serde_json::json!({ "status": "unavailable", "failed": names }),
                )
            }
        },
    };
    (
        status,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body.to_string(),
    )
        .into_response()
}
