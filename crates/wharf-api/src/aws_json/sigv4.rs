//! SigV4 verification of AWS JSON requests: the signature must be for the service's signing
//! name (`ecr`, `ecr-public`) and made with an active access key's secret.

use super::AwsError;
use crate::AppState;
use axum::http::request::Parts;
use std::time::Duration;
use wharf_core::{Identity, Principal};

/// Largest clock difference accepted between a client and Wharf.
const MAX_SKEW: Duration = wharf_sigv4::DEFAULT_MAX_SKEW;

/// Verifies the request's SigV4 signature and returns the principal it proves.
pub async fn authenticate(
    state: &AppState,
    parts: &Parts,
    body: &[u8],
    signing_name: &str,
) -> Result<Principal, AwsError> {
    let request = wharf_sigv4::SignedRequest {
        method: &parts.method,
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        headers: &parts.headers,
        payload: wharf_sigv4::Payload::from_body(body),
    };
    let auth = wharf_sigv4::parse(&request).map_err(sig_error)?;
    auth.check_service(signing_name).map_err(sig_error)?;
    let key = state
        .identity
        .access_key(auth.access_key_id())
        .await
        .map_err(|_| AwsError::server())?
        .filter(|k| k.active)
        .ok_or_else(|| {
            AwsError::new(
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            )
        })?;
    let now = time::OffsetDateTime::now_utc();
    wharf_sigv4::verify(&auth, &request, &key.secret, now, MAX_SKEW).map_err(sig_error)?;
    Identity::principal_of(&key).map_err(|_| AwsError::server())
}

fn sig_error(e: wharf_sigv4::SigV4Error) -> AwsError {
    AwsError::new(e.aws_code(), e.to_string())
}
