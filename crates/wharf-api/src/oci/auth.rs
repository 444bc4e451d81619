//! Authentication and authorization of `/v2/` requests, as ECR's registry endpoint does them.
//!
//! Clients send `Authorization: Basic base64("AWS:<token>")` with the token from
//! `GetAuthorizationToken`. Requests without it are anonymous and succeed only where a resource
//! policy grants `Principal: "*"`; otherwise they get 401 with a `Basic` challenge, so `docker login`
//! knows what to do. The anonymous pull token from `/token` (`token.rs`) is accepted as `Bearer`
//! and proves nothing more than no credentials. Each endpoint maps to the `ecr:` actions ECR requires for it.

use super::route::Endpoint;
use super::OciError;
use crate::AppState;
use axum::http::request::Parts;
use axum::http::{header, Method, StatusCode};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use std::time::{SystemTime, UNIX_EPOCH};
use wharf_core::Action;
use wharf_core::Client;
use wharf_core::{Access, AccountId, CoreError, Principal, Repo, Resource, TokenError};

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The 401 that tells a client to authenticate, in ECR's words.
pub fn challenge(state: &AppState, account: &AccountId, message: &str) -> OciError {
    let url = crate::ecr::registry_url(&state.ecr, account.as_str());
    let mut e = OciError::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", message);
    e.headers.push((
        header::WWW_AUTHENTICATE,
        format!("Basic realm=\"{url}/\",service=\"ecr.amazonaws.com\""),
    ));
    e
}

/// The principal a request proves, or the error that refuses it.
pub async fn authenticate(
    state: &AppState,
    account: &AccountId,
    parts: &Parts,
) -> Result<Principal, OciError> {
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
        return Ok(Principal::Anonymous);
    };
    let invalid = || {
        challenge(
            state,
            account,
            "authentication required: the Basic credentials are invalid",
        )
    };
    let value = value.to_str().map_err(|_| invalid())?;
    let password = match value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
    {
        // The anonymous pull token from `/token`; no other Bearer token proves anything.
        Some(token) if token.trim() == super::token::ANONYMOUS_TOKEN => {
            return Ok(Principal::Anonymous)
        }
        Some(_) => return Err(invalid()),
        None => match basic_password(value).ok_or_else(invalid)? {
            // Some clients (skopeo --no-creds) answer a challenge with empty credentials.
            None => return Ok(Principal::Anonymous),
            Some(password) => password,
        },
    };
    let password = password.as_str();
    match state.identity.verify_token(password, now()).await {
        Ok(Ok(user)) => Ok(Principal::User(user)),
        Ok(Err(TokenError::Expired)) => Err(OciError::new(
            StatusCode::FORBIDDEN,
            "DENIED",
            "Your authorization token has expired. Reauthenticate and try again.",
        )),
        Ok(Err(_)) => Err(invalid()),
        Err(e) => Err(e.into()),
    }
}

/// The password of `Basic base64("AWS:<password>")`: `None` if the header is not that,
/// `Some(None)` for empty credentials (`:`, anonymous), `Some(Some(password))` otherwise.
pub fn basic_password(value: &str) -> Option<Option<String>> {
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    if user.is_empty() && password.is_empty() {
        return Some(None);
    }
    (user == "AWS").then(|| Some(password.to_string()))
}

/// The `ecr:` actions an endpoint needs; any one of them suffices.
pub fn actions(endpoint: &Endpoint, method: &Method, has_body: bool) -> &'static [Action] {
    match (endpoint, method) {
        (Endpoint::Base, _) => &[],
        (Endpoint::Catalog, _) => &[Action::DescribeRepositories],
        (Endpoint::Tags { .. }, _) => &[Action::ListImages],
        (Endpoint::Manifest { .. }, &Method::PUT) => &[Action::PutImage],
        (Endpoint::Manifest { .. }, &Method::DELETE) => &[Action::BatchDeleteImage],
        (Endpoint::Manifest { .. }, _) => &[Action::BatchGetImage],
        (Endpoint::Blob { .. }, &Method::GET) => &[Action::GetDownloadUrlForLayer],
        (Endpoint::Blob { .. }, &Method::HEAD) => &[
            Action::BatchCheckLayerAvailability,
            Action::GetDownloadUrlForLayer,
        ],
        (Endpoint::Blob { .. }, _) => &[Action::BatchDeleteImage],
        (Endpoint::StartUpload { .. }, _) => &[Action::InitiateLayerUpload],
        (Endpoint::Upload { .. }, &Method::PUT) if has_body => &[Action::UploadLayerPart],
        (Endpoint::Upload { .. }, &Method::PUT) => &[Action::CompleteLayerUpload],
        (Endpoint::Upload { .. }, &Method::DELETE) => &[Action::InitiateLayerUpload],
        (Endpoint::Upload { .. }, _) => &[Action::UploadLayerPart],
        (Endpoint::Referrers { .. }, _) => &[Action::BatchGetImage],
    }
}

/// Checks that `principal` may perform one of `actions` on `repo`.
pub async fn authorize(
    state: &AppState,
    principal: &Principal,
    client: Client,
    actions: &[&str],
    repo: &Repo,
) -> Result<(), OciError> {
    let mut denial = None;
    for action in actions {
        let access = Access {
            principal,
            action,
            resource: Resource::Repository(repo),
            client,
            request_tags: &[],
        };
        match state.registry.authorize(&access).await {
            Ok(()) => return Ok(()),
            Err(CoreError::AccessDenied(m)) => denial = Some(m),
            Err(e) => return Err(e.into()),
        }
    }
    let message = denial.unwrap_or_default();
    Err(match principal {
        Principal::Anonymous => challenge(state, &repo.account, "authentication required"),
        Principal::User(_) => OciError::new(StatusCode::FORBIDDEN, "DENIED", message),
    })
}

/// A presigned download URL from `GetDownloadUrlForLayer` authorizes exactly one blob GET.
pub fn presigned_download(state: &AppState, parts: &Parts, account: &AccountId) -> bool {
    let q = super::query(parts);
    let (Some(acct), Some(expires), Some(sig)) = (
        super::param(&q, "X-Wharf-Account"),
        super::param(&q, "X-Wharf-Expires").and_then(|e| e.parse::<u64>().ok()),
        super::param(&q, "X-Wharf-Signature"),
    ) else {
        return false;
    };
    acct == account.as_str()
        && parts.method == Method::GET
        && state
            .identity
            .verify_download(acct, parts.uri.path(), expires, sig, now())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> String {
        format!("Basic {}", STANDARD.encode(s))
    }

    #[test]
    fn basic_passwords() {
        assert_eq!(basic_password(&b("AWS:pw")), Some(Some("pw".into())));
        assert_eq!(basic_password(&b(":")), Some(None));
        assert_eq!(basic_password(&b("bob:pw")), None);
        assert_eq!(basic_password(&b("nocolon")), None);
        assert_eq!(basic_password("Bearer x"), None);
        assert_eq!(basic_password("Basic %%%"), None);
    }
}
