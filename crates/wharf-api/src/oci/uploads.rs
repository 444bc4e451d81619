//! Blob uploads: `POST /v2/<name>/blobs/uploads/` (session, monolithic, mount) and
//! `GET|PATCH|PUT|DELETE /v2/<name>/blobs/uploads/<id>`.

use super::{body_stream, empty, header_str, param, query, upload_range, OciError};
use crate::AppState;
use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{header, Method, StatusCode};
use axum::response::Response;
use wharf_core::Action;
use wharf_core::Repo;
use wharf_oci::Digest;

fn upload_location(name: &Repo, id: &str) -> String {
    format!("/v2/{name}/blobs/uploads/{id}")
}

fn created(name: &Repo, digest: &Digest) -> Response {
    empty(
        StatusCode::CREATED,
        &[
            ("location", format!("/v2/{name}/blobs/{digest}")),
            ("docker-content-digest", digest.to_string()),
        ],
    )
}

fn in_progress(status: StatusCode, name: &Repo, id: &str, size: u64) -> Response {
    empty(
        status,
        &[
            ("location", upload_location(name, id)),
            ("range", upload_range(size)),
            ("docker-upload-uuid", id.to_string()),
        ],
    )
}

fn parse_digest(s: &str) -> Result<Digest, OciError> {
    s.parse()
        .map_err(|e| OciError::digest_invalid(format!("invalid digest {s:?}: {e}")))
}

/// The first offset of a `Content-Range: <start>-<end>` header (a `bytes ` prefix is tolerated).
fn content_range_start(req: &Parts) -> Result<Option<u64>, OciError> {
    let Some(v) = header_str(&req.headers, header::CONTENT_RANGE) else {
        return Ok(None);
    };
    let v = v
        .trim()
        .trim_start_matches("bytes")
        .trim_start_matches([' ', '=']);
    let bad = || {
        OciError::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            "BLOB_UPLOAD_INVALID",
            format!("invalid Content-Range {v:?}"),
        )
    };
    let (a, b) = v.split_once('-').ok_or_else(bad)?;
    let start: u64 = a.trim().parse().map_err(|_| bad())?;
    let end: u64 = b
        .trim()
        .split('/')
        .next()
        .unwrap_or("")
        .parse()
        .map_err(|_| bad())?;
    if end < start {
        return Err(bad());
    }
    Ok(Some(start))
}

/// The repository a mount may copy the blob from: `from` (or, without it, any repository of the
/// account holding the blob — OCI 1.1's anonymous mount) that the caller may pull from, as ECR
/// requires. `None` when nothing is mountable, or the account's `BLOB_MOUNTING` is `DISABLED`.
async fn mount_source(
    state: &AppState,
    caller: &super::Caller<'_>,
    target: &Repo,
    digest: &Digest,
    from: Option<&str>,
) -> Result<Option<Repo>, OciError> {
    let candidates = state
        .registry
        .mount_candidates(target, digest, from)
        .await?;
    for source in candidates {
        let pull = [Action::GetDownloadUrlForLayer.ecr()];
        if super::auth::authorize(state, caller.principal, caller.client, &pull, &source)
            .await
            .is_ok()
        {
            return Ok(Some(source));
        }
    }
    Ok(None)
}

pub(super) async fn start(
    state: &AppState,
    caller: &super::Caller<'_>,
    name: &Repo,
    req: &Parts,
    body: Body,
) -> Result<Response, OciError> {
    let q = query(req);
    if let Some(mount) = param(&q, "mount") {
        let digest = parse_digest(mount)?;
        if let Some(source) = mount_source(state, caller, name, &digest, param(&q, "from")).await? {
            if state
                .registry
                .mount_blob(name, &digest, Some(&source))
                .await?
            {
                return Ok(created(name, &digest));
            }
        }
        // Not mountable: fall back to a regular upload session, as the spec allows.
    } else if let Some(d) = param(&q, "digest") {
        let digest = parse_digest(d)?;
        state
            .registry
            .push_blob(name, &digest, body_stream(body))
            .await?;
        return Ok(created(name, &digest));
    }
    let upload = state.registry.start_upload(name).await?;
    Ok(in_progress(
        StatusCode::ACCEPTED,
        name,
        &upload.id,
        upload.size,
    ))
}

pub(super) async fn handle(
    state: &AppState,
    name: &Repo,
    id: &str,
    req: &Parts,
    body: Body,
) -> Result<Response, OciError> {
    match req.method {
        Method::GET | Method::HEAD => {
            let u = state.registry.upload_status(name, id).await?;
            Ok(in_progress(StatusCode::NO_CONTENT, name, &u.id, u.size))
        }
        Method::PATCH => {
            let start = content_range_start(req)?;
            let u = state
                .registry
                .append_upload(name, id, start, body_stream(body))
                .await?;
            Ok(in_progress(StatusCode::ACCEPTED, name, &u.id, u.size))
        }
        Method::PUT => {
            let q = query(req);
            let digest = match param(&q, "digest") {
                Some(d) => parse_digest(d)?,
                None => {
                    return Err(OciError::digest_invalid(
                        "the digest query parameter is required",
                    ))
                }
            };
            let start = content_range_start(req)?;
            let has_body =
                header_str(&req.headers, header::CONTENT_LENGTH).is_none_or(|l| l.trim() != "0");
            let body = has_body.then(|| body_stream(body));
            state
                .registry
                .finish_upload(name, id, &digest, start, body)
                .await?;
            Ok(created(name, &digest))
        }
        Method::DELETE => {
            state.registry.cancel_upload(name, id).await?;
            Ok(empty(StatusCode::NO_CONTENT, &[]))
        }
        _ => Err(OciError::unsupported("method not supported on an upload")),
    }
}
