//! The registry token endpoint, as public.ecr.aws serves it: `GET /token` (or `/token/`) answers
//! `{"token", "access_token", "expires_in", "issued_at"}`. Without credentials the token is an
//! anonymous pull token (public repositories are readable by anyone); with Basic `AWS:<login
//! password>` it is that password, so a `Bearer` token proves exactly what the Basic credentials
//! did. `/v2/` accepts both as `Authorization: Bearer <token>` (`auth.rs`).

use super::auth::basic_password;
use super::OciError;
use crate::AppState;
use axum::http::request::Parts;
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::time::{SystemTime, UNIX_EPOCH};
use wharf_core::{TokenError, TOKEN_TTL_SECS};

/// The token handed to anonymous callers; it grants what no credentials grant.
pub const ANONYMOUS_TOKEN: &str = "wharf-anonymous-pull-token";

/// Whether a request is for the token endpoint.
pub fn is_token_request(method: &Method, path: &str) -> bool {
    (*method == Method::GET || *method == Method::HEAD) && (path == "/token" || path == "/token/")
}

pub async fn handle(state: &AppState, parts: &Parts) -> Response {
    // Verifying a login password reads the access-key cache.
    if let Err(e) = crate::sync_caches(state).await {
        return OciError::from(e).into_response();
    }
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
    let denied = || {
        OciError::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "the Basic credentials are invalid",
        )
        .into_response()
    };
    let token = match parts.headers.get(header::AUTHORIZATION) {
        None => ANONYMOUS_TOKEN.to_string(),
        Some(value) => match basic_password(value.to_str().unwrap_or("")) {
            Some(None) => ANONYMOUS_TOKEN.to_string(),
            Some(Some(password)) => match state.identity.verify_token(&password, now).await {
                Ok(Ok(_)) => password,
                Ok(Err(TokenError::Expired)) | Ok(Err(_)) => return denied(),
                Err(e) => return OciError::from(e).into_response(),
            },
            None => return denied(),
        },
    };
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
