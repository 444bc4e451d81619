//! The registry token endpoint, as public.ecr.aws serves it: `GET /token` (or `/token/`) answers
//! `{"token", "access_token", "expires_in", "issued_at"}` with an anonymous pull token, which
//! `/v2/` accepts as `Authorization: Bearer <token>` and treats as no credentials: it reads public
//! repositories and nothing else. Pushes log in with Basic credentials (`get-login-password`), as
//! on ECR, so a login password is never accepted as a Bearer token.

use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::time::{SystemTime, UNIX_EPOCH};
use wharf_core::TOKEN_TTL_SECS;

/// The token handed to anonymous callers; it grants what no credentials grant.
pub const ANONYMOUS_TOKEN: &str = "wharf-anonymous-pull-token";

/// Whether a request is for the token endpoint.
pub fn is_token_request(method: &Method, path: &str) -> bool {
    (*method == Method::GET || *method == Method::HEAD) && (path == "/token" || path == "/token/")
}

pub fn handle() -> Response {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let issued_at = time::OffsetDateTime::from_unix_timestamp(now as i64)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    let token = ANONYMOUS_TOKEN;
    let body = json!({
        "token": token,
        "access_token": token,
        "expires_in": TOKEN_TTL_SECS,
        "issued_at": issued_at,
    });
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_paths() {
        assert!(is_token_request(&Method::GET, "/token"));
        assert!(is_token_request(&Method::GET, "/token/"));
        assert!(!is_token_request(&Method::POST, "/token"));
        assert!(!is_token_request(&Method::GET, "/v2/token"));
    }
}
