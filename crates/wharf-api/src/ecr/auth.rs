//! Authentication of ECR API requests (SigV4) and `GetAuthorizationToken`.

use super::wire::registry_url;
use super::{Ctx, EcrError};
use crate::AppState;
use axum::http::request::Parts;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use wharf_core::{Identity, Principal};

/// Largest clock difference accepted between a client and Wharf.
const MAX_SKEW: Duration = wharf_sigv4::DEFAULT_MAX_SKEW;

/// Verifies the request's SigV4 signature and returns the principal it proves.
pub async fn authenticate(
    state: &AppState,
    parts: &Parts,
    body: &[u8],
) -> Result<Principal, EcrError> {
    let request = wharf_sigv4::SignedRequest {
        method: &parts.method,
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        headers: &parts.headers,
        payload: wharf_sigv4::Payload::from_body(body),
    };
    let auth = wharf_sigv4::parse(&request).map_err(sig_error)?;
    auth.check_service("ecr").map_err(sig_error)?;
    let key = state
        .identity
        .access_key(auth.access_key_id())
        .await
        .map_err(|_| EcrError::server())?
        .filter(|k| k.active)
        .ok_or_else(|| {
            EcrError::new(
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            )
        })?;
    let now = time::OffsetDateTime::now_utc();
    wharf_sigv4::verify(&auth, &request, &key.secret, now, MAX_SKEW).map_err(sig_error)?;
    Identity::principal_of(&key).map_err(|_| EcrError::server())
}

fn sig_error(e: wharf_sigv4::SigV4Error) -> EcrError {
    EcrError::new(e.aws_code(), e.to_string())
}

pub async fn get_authorization_token(ctx: &Ctx<'_>, _input: Value) -> Result<Value, EcrError> {
    let account = ctx.caller_account.clone();
    ctx.authorize_registry("ecr:GetAuthorizationToken", &account)
        .await?;
    let Principal::User(user) = &ctx.principal else {
        return Err(EcrError::new(
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        ));
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let token = ctx.state.identity.issue_token(user, now);
    Ok(json!({ "authorizationData": [{
        "authorizationToken": STANDARD.encode(format!("AWS:{}", token.password)),
        "expiresAt": token.expires_at as f64,
        "proxyEndpoint": registry_url(&ctx.state.ecr, account.as_str()),
    }]}))
}
