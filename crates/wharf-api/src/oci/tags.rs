//! Listings: `GET /v2/<name>/tags/list`, `GET /v2/_catalog` (both with `n`/`last` pagination and a
//! `Link` header) and `GET /v2/<name>/referrers/<digest>`.

use super::{param, query, OciError};
use crate::AppState;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use wharf_core::Action;
use wharf_core::Repo;
use wharf_oci::media::OCI_INDEX;
use wharf_oci::Digest;

/// Without `n`, listings return everything up to this many entries.
const MAX_PAGE: usize = 100_000;

struct Page {
    limit: usize,
    last: Option<String>,
    explicit: bool,
}

fn page(q: &[(String, String)]) -> Result<Page, OciError> {
    let last = param(q, "last")
        .filter(|l| !l.is_empty())
        .map(str::to_owned);
    match param(q, "n") {
        None | Some("") => Ok(Page {
            limit: MAX_PAGE,
            last,
            explicit: false,
        }),
        Some(n) => {
            let n: usize = n.parse().map_err(|_| {
                OciError::new(
                    StatusCode::BAD_REQUEST,
                    "PAGINATION_NUMBER_INVALID",
                    format!("invalid n {n:?}"),
                )
            })?;
            Ok(Page {
                limit: n.min(MAX_PAGE),
                last,
                explicit: true,
            })
        }
    }
}

/// Serializes a listing, adding `Link: <…>; rel="next"` when more entries follow.
fn listing(
    path: &str,
    key: &str,
    name: Option<&Repo>,
    mut items: Vec<String>,
    p: &Page,
) -> Response {
    let more = items.len() > p.limit;
    items.truncate(p.limit);
    let body = match name {
        Some(n) => json!({ "name": n.name.as_str(), key: items }),
        None => json!({ key: items }),
    };
    let mut resp = (StatusCode::OK, body.to_string()).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if more && p.explicit {
        if let Some(last) = items.last() {
            insert_next_link(h, path, p.limit, last);
        }
    }
    resp
}

/// Adds `Link: <path?n=…&last=…>; rel="next"`.
fn insert_next_link(h: &mut axum::http::HeaderMap, path: &str, limit: usize, last: &str) {
    let link = format!(
        "<{path}?n={limit}&last={}>; rel=\"next\"",
        last.replace('/', "%2F")
    );
    if let Ok(v) = HeaderValue::from_str(&link) {
        h.insert(header::LINK, v);
    }
}

pub(super) async fn list(state: &AppState, name: &Repo, req: &Parts) -> Result<Response, OciError> {
    let p = page(&query(req))?;
    let tags = state
        .registry
        .list_tags(name, p.last.as_deref(), p.limit)
        .await?;
    // The database serialized the names; splice its array into the body as is.
    let repo = json!(name.name.as_str()).to_string();
    let mut body = String::with_capacity(repo.len() + tags.json.len() + 20);
    body.push_str("{\"name\":");
    body.push_str(&repo);
    body.push_str(",\"tags\":");
    body.push_str(&tags.json);
    body.push('}');
    let mut resp = (StatusCode::OK, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if tags.more && p.explicit {
        if let Some(last) = &tags.last {
            let path = format!("/v2/{name}/tags/list");
            insert_next_link(h, &path, p.limit, last);
        }
    }
    Ok(resp)
}

pub(super) async fn catalog(
    state: &AppState,
    caller: &super::Caller<'_>,
    account: &wharf_core::AccountId,
    req: &Parts,
) -> Result<Response, OciError> {
    let p = page(&query(req))?;
    // Walk the account's repositories in order, keeping those the caller may describe.
    let mut names = Vec::new();
    let mut last = p.last.clone();
    loop {
        let batch = state
            .registry
            .catalog(account, last.as_deref(), 1000)
            .await?;
        let done = batch.len() < 1000;
        for name in batch {
            last = Some(name.clone());
            let Ok(repo_name) = name.parse() else {
                continue;
            };
            let repo = Repo::new(account.clone(), repo_name);
            let access = wharf_core::Access {
                principal: caller.principal,
                action: Action::DescribeRepositories.ecr(),
                resource: wharf_core::Resource::Repository(&repo),
                client: caller.client,
                request_tags: &[],
            };
            match state.registry.authorize(&access).await {
                Ok(()) => names.push(name),
                Err(wharf_core::CoreError::AccessDenied(_)) => {}
                Err(e) => return Err(e.into()),
            }
            if names.len() > p.limit {
                break;
            }
        }
        if done || names.len() > p.limit {
            break;
        }
    }
    Ok(listing("/v2/_catalog", "repositories", None, names, &p))
}

pub(super) async fn referrers(
    state: &AppState,
    name: &Repo,
    digest: &str,
    req: &Parts,
) -> Result<Response, OciError> {
    let digest: Digest = digest
        .parse()
        .map_err(|e| OciError::digest_invalid(format!("{e}")))?;
    let q = query(req);
    let filter = param(&q, "artifactType").filter(|t| !t.is_empty());
    let manifests = state.registry.referrers(name, &digest, filter).await?;
    let body = json!({ "schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests });
    let mut resp = (StatusCode::OK, body.to_string()).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(OCI_INDEX));
    if filter.is_some() {
        h.insert(
            "oci-filters-applied",
            HeaderValue::from_static("artifactType"),
        );
    }
    Ok(resp)
}
