//! `GET|HEAD|PUT|DELETE /v2/<name>/manifests/<reference>` with `Accept` negotiation.

use super::{empty, header_str, is_head, query, Caller, OciError};
use crate::AppState;
use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use http_body_util::{BodyExt, Limited};
use wharf_core::{Principal, Repo};
use wharf_oci::manifest::MAX_MANIFEST_BYTES;
use wharf_oci::{Reference, Tag};

fn parse_reference(s: &str) -> Result<Reference, OciError> {
    s.parse::<Reference>().map_err(|e| match e {
        wharf_oci::name::ReferenceError::Digest(e) => OciError::digest_invalid(e.to_string()),
        wharf_oci::name::ReferenceError::Tag(e) => {
            OciError::new(StatusCode::BAD_REQUEST, "TAG_INVALID", e.to_string())
        }
    })
}

pub(super) async fn handle(
    state: &AppState,
    caller: &Caller<'_>,
    name: &Repo,
    reference: &str,
    req: &Parts,
    body: Body,
) -> Result<Response, OciError> {
    let reference = parse_reference(reference)?;
    match req.method {
        Method::PUT => put(state, name, &reference, req, body).await,
        Method::DELETE => {
            state.registry.delete_manifest(name, &reference).await?;
            Ok(empty(StatusCode::ACCEPTED, &[]))
        }
        _ => get(state, caller, name, &reference, req).await,
    }
}

async fn put(
    state: &AppState,
    name: &Repo,
    reference: &Reference,
    req: &Parts,
    body: Body,
) -> Result<Response, OciError> {
    let content_type = header_str(&req.headers, header::CONTENT_TYPE).map(str::to_owned);
    let too_large = || {
        OciError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "SIZE_INVALID",
            format!("manifest exceeds {MAX_MANIFEST_BYTES} bytes"),
        )
    };
    if let Some(len) =
        header_str(&req.headers, header::CONTENT_LENGTH).and_then(|l| l.parse::<usize>().ok())
    {
        if len > MAX_MANIFEST_BYTES {
            return Err(too_large());
        }
    }
    let body = match Limited::new(body, MAX_MANIFEST_BYTES).collect().await {
        Ok(c) => c.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => return Err(too_large()),
        Err(_) => return Err(wharf_core::CoreError::BodyFailed.into()),
    };
    let tags = tag_params(req)?;
    let pushed = state
        .registry
        .put_manifest(name, reference, &tags, content_type.as_deref(), &body)
        .await?;
    let mut headers = vec![
        (
            "location",
            format!("/v2/{name}/manifests/{}", pushed.digest),
        ),
        ("docker-content-digest", pushed.digest.to_string()),
    ];
    if let Some(subject) = pushed.subject {
        headers.push(("oci-subject", subject.to_string()));
    }
    let mut resp = empty(StatusCode::CREATED, &headers);
    for t in &tags {
        if let Ok(v) = HeaderValue::from_str(t.as_str()) {
            resp.headers_mut().append("oci-tag", v);
        }
    }
    Ok(resp)
}

/// The `?tag=` parameters of a manifest push, each checked against the tag grammar.
fn tag_params(req: &Parts) -> Result<Vec<Tag>, OciError> {
    query(req)
        .into_iter()
        .filter(|(k, _)| k == "tag")
        .map(|(_, v)| {
            v.parse::<Tag>()
                .map_err(|e| OciError::new(StatusCode::BAD_REQUEST, "TAG_INVALID", e.to_string()))
        })
        .collect()
}

/// Whether the client's `Accept` headers admit `media_type`. No `Accept` admits everything.
fn accepts(headers: &HeaderMap, media_type: &str) -> bool {
    let mut any = false;
    for v in headers.get_all(header::ACCEPT) {
        let Ok(v) = v.to_str() else { continue };
        for item in v.split(',') {
            let t = item.split(';').next().unwrap_or("").trim();
            if t.is_empty() {
                continue;
            }
            any = true;
            if t == "*/*" || t.eq_ignore_ascii_case(media_type) {
                return true;
            }
        }
    }
    !any
}

async fn get(
    state: &AppState,
    caller: &Caller<'_>,
    name: &Repo,
    reference: &Reference,
    req: &Parts,
) -> Result<Response, OciError> {
    let principal: &Principal = caller.principal;
    // Through the pull-through cache when a rule covers the repository.
    let m = state
        .registry
        .get_manifest_through(name, reference, principal, caller.client)
        .await?;
    if !accepts(&req.headers, &m.media_type) {
        return Err(OciError::new(
            StatusCode::NOT_FOUND,
            "MANIFEST_UNKNOWN",
            format!(
                "manifest is {} which the Accept header does not admit",
                m.media_type
            ),
        ));
    }
    if req.method == Method::GET {
        // An excluded principal's pull is not recorded (pull time update exclusions).
        state.registry.note_pull(name, &m.digest, principal);
    }
    let len = m.body.len();
    let body = if is_head(req) {
        Body::empty()
    } else {
        Body::from(m.body.clone())
    };
    let mut resp = Response::new(body);
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&m.media_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    if let Ok(v) = HeaderValue::from_str(&m.digest.to_string()) {
        h.insert("docker-content-digest", v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", m.digest)) {
        h.insert(header::ETAG, v);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_negotiation() {
        let mut h = HeaderMap::new();
        assert!(accepts(&h, "application/vnd.oci.image.manifest.v1+json"));
        h.append(
            header::ACCEPT,
            HeaderValue::from_static("application/vnd.docker.distribution.manifest.v2+json"),
        );
        h.append(header::ACCEPT, HeaderValue::from_static("application/vnd.oci.image.index.v1+json;q=0.5, application/vnd.oci.image.manifest.v1+json"));
        assert!(accepts(&h, "application/vnd.oci.image.manifest.v1+json"));
        assert!(accepts(&h, "application/vnd.oci.image.index.v1+json"));
        assert!(!accepts(
            &h,
            "application/vnd.docker.distribution.manifest.list.v2+json"
        ));
        h.append(header::ACCEPT, HeaderValue::from_static("*/*"));
        assert!(accepts(
            &h,
            "application/vnd.docker.distribution.manifest.list.v2+json"
        ));
    }
}
