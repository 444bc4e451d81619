//! The OCI Distribution `/v2/` surface: one dispatch function over the routed `Endpoint`, with one
//! file per resource.

mod auth;
mod blobs;
mod error;
mod labels;
mod manifests;
mod public;
pub mod route;
mod tags;
mod token;
mod uploads;

pub use error::OciError;

use crate::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::TryStreamExt;
use route::{Endpoint, RouteError};
use wharf_core::model::ByteStream;
use wharf_core::Client;
use wharf_core::{AccountId, Principal};

/// The account a request addresses: by `Host` when a registry domain is configured
/// (`<account>.dkr.ecr.<region>.<domain>`), else the default account.
fn account_of(state: &AppState, parts: &Parts) -> AccountId {
    if let Some(domain) = &state.ecr.registry_domain {
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(|h| h.split(':').next().unwrap_or(h))
            .unwrap_or("");
        let suffix = format!(".dkr.ecr.{}.{domain}", state.ecr.region);
        if let Some(id) = host
            .strip_suffix(&suffix)
            .and_then(|a| a.parse::<AccountId>().ok())
        {
            return id;
        }
    }
    state.registry.default_account()
}

/// Entry point for every `/v2/` request: serves it, names its operation for the metrics, and
/// makes its one call into the audit trail.
pub async fn handle(State(state): State<AppState>, client: Client, req: Request) -> Response {
    let routed = route::route(req.method(), req.uri().path());
    let names = routed
        .as_ref()
        .ok()
        .map(|e| labels::names(e, req.method(), req.uri().query()));
    let mut call = crate::audit::Call::new(client, req.headers());
    call.event_name = names.map(|n| n.event);
    call.mutating = names.is_some_and(|n| n.mutating);
    if let Ok(e) = &routed {
        call.parameters = Some(labels::audit_parameters(e, req.uri().query()));
    }
    let mut resp = serve(&state, client, req, routed, &mut call).await;
    resp.extensions_mut()
        .insert(crate::operation_label::Operation(
            names.map_or("unknown", |n| n.operation),
        ));
    crate::audit::oci(&state, &call, &resp);
    resp
}

async fn serve(
    state: &AppState,
    client: Client,
    req: Request,
    routed: Result<Endpoint, RouteError>,
    call: &mut crate::audit::Call,
) -> Response {
    let (parts, body) = req.into_parts();
    let req = &parts;
    if token::is_token_request(&req.method, req.uri.path()) {
        return token::handle();
    }
    let endpoint = match routed {
        Ok(e) => e,
        Err(RouteError::NotFound) => {
            return OciError::new(StatusCode::NOT_FOUND, "NOT_FOUND", "no such endpoint")
                .into_response()
        }
        Err(RouteError::NameInvalid(msg)) => return OciError::name_invalid(msg).into_response(),
        Err(RouteError::MethodNotAllowed) => {
            return OciError::unsupported(format!("{} is not supported here", req.method))
                .into_response()
        }
    };
    let account = account_of(state, req);
    let located = match &endpoint {
        Endpoint::Base | Endpoint::Catalog => None,
        Endpoint::Tags { name }
        | Endpoint::Manifest { name, .. }
        | Endpoint::Blob { name, .. }
        | Endpoint::StartUpload { name }
        | Endpoint::Upload { name, .. }
        | Endpoint::Referrers { name, .. } => match public::locate(state, &account, name).await {
            Ok(l) => Some(l),
            Err(e) => return e.into_response(),
        },
    };
    // Every named endpoint was located above, from the same name.
    let repo = |name| match &located {
        Some(l) => l.repo.clone(),
        None => wharf_core::Repo::new(account.clone(), name),
    };
    // The audit trail names the account the repository lives in (an alias's, for a public one).
    call.account = Some(match &located {
        Some(l) => l.repo.account.to_string(),
        None => account.to_string(),
    });
    let public_read = located.as_ref().is_some_and(|l| l.public)
        && public::is_public_read(&endpoint, &req.method);
    let has_body = req.headers.contains_key(header::TRANSFER_ENCODING)
        || header_str(&req.headers, header::CONTENT_LENGTH).is_some_and(|l| l.trim() != "0");
    // Once per request, before anything reads a cache (authorization does).
    if let Err(e) = crate::sync_caches(state).await {
        return OciError::from(e).into_response();
    }
    let principal = match auth::authenticate(state, &account, req).await {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    call.principal = Some(principal.clone());
    let actions = auth::actions(&endpoint, &req.method, has_body);
    // A public repository's writes are ECR Public's actions (`ecr-public:PutImage`, …).
    let public = located.as_ref().is_some_and(|l| l.public);
    let actions: Vec<&'static str> = actions
        .iter()
        .map(|a| if public { a.ecr_public() } else { a.ecr() })
        .collect();
    let checked = match (&endpoint, &principal) {
        (Endpoint::Base, Principal::Anonymous) => {
            Err(auth::challenge(state, &account, "authentication required"))
        }
        (Endpoint::Base, _) => Ok(()),
        (Endpoint::Catalog, Principal::Anonymous) => {
            Err(auth::challenge(state, &account, "authentication required"))
        }
        // The catalog lists only the repositories the caller may describe.
        (Endpoint::Catalog, _) => Ok(()),
        (Endpoint::Blob { .. }, _) if auth::presigned_download(state, req, &account) => Ok(()),
        // Anyone may read a public repository (ECR Public), with or without credentials.
        _ if public_read => Ok(()),
        (Endpoint::Tags { name }, _)
        | (Endpoint::Manifest { name, .. }, _)
        | (Endpoint::Blob { name, .. }, _)
        | (Endpoint::StartUpload { name }, _)
        | (Endpoint::Upload { name, .. }, _)
        | (Endpoint::Referrers { name, .. }, _) => {
            auth::authorize(state, &principal, client, &actions, &repo(name.clone())).await
        }
    };
    if let Err(e) = checked {
        return e.into_response();
    }
    let ctx = Caller {
        principal: &principal,
        client,
    };
    let result = match endpoint {
        Endpoint::Base => Ok((
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            "{}",
        )
            .into_response()),
        Endpoint::Catalog => tags::catalog(state, &ctx, &account, req).await,
        Endpoint::Tags { name } => tags::list(state, &repo(name), req).await,
        Endpoint::Manifest { name, reference } => {
            manifests::handle(state, &ctx, &repo(name), &reference, req, body).await
        }
        Endpoint::Blob { name, digest } => {
            blobs::handle(state, &ctx, &repo(name), &digest, req).await
        }
        Endpoint::StartUpload { name } => uploads::start(state, &ctx, &repo(name), req, body).await,
        Endpoint::Upload { name, id } => uploads::handle(state, &repo(name), &id, req, body).await,
        Endpoint::Referrers { name, digest } => {
            tags::referrers(state, &repo(name), &digest, req).await
        }
    };
    let mut resp = result.unwrap_or_else(IntoResponse::into_response);
    if let Some(l) = located.as_ref().filter(|l| l.public) {
        public::rewrite_paths(&mut resp, l.repo.name.as_str(), &l.path_name);
    }
    resp
}

/// Who is calling, for handlers that authorize more than their endpoint's actions.
pub(crate) struct Caller<'a> {
    pub principal: &'a Principal,
    pub client: Client,
}

/// The `Range` header value of an upload holding `size` bytes (`0-0` when empty, as Distribution).
pub(crate) fn upload_range(size: u64) -> String {
    format!("0-{}", size.saturating_sub(1))
}

/// Turns a request body into a byte stream for the stores.
pub(crate) fn body_stream(body: Body) -> ByteStream {
    Box::pin(body.into_data_stream().map_err(std::io::Error::other))
}

/// Query parameters as decoded pairs.
pub(crate) fn query(req: &Parts) -> Vec<(String, String)> {
    req.uri
        .query()
        .map(form_urlencoded_pairs)
        .unwrap_or_default()
}

fn form_urlencoded_pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16)
                {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(crate) fn param<'a>(q: &'a [(String, String)], key: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

pub(crate) fn header_str(h: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// Builds an empty response with the given status and headers.
pub(crate) fn empty(status: StatusCode, headers: &[(&str, String)]) -> Response {
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    for (k, v) in headers {
        if let (Ok(k), Ok(v)) = (header::HeaderName::try_from(*k), HeaderValue::from_str(v)) {
            h.insert(k, v);
        }
    }
    h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
    resp
}

pub(crate) fn is_head(req: &Parts) -> bool {
    req.method == Method::HEAD
}

#[cfg(test)]
mod tests {
    #[test]
    fn decodes_query() {
        let q = super::form_urlencoded_pairs("digest=sha256%3Aab&n=2&x&last=a%2Fb");
        assert_eq!(super::param(&q, "digest"), Some("sha256:ab"));
        assert_eq!(super::param(&q, "n"), Some("2"));
        assert_eq!(super::param(&q, "x"), Some(""));
        assert_eq!(super::param(&q, "last"), Some("a/b"));
        assert_eq!(super::percent_decode("100%"), "100%");
        assert_eq!(super::percent_decode("%4"), "%4");
    }
}
