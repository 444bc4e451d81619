//! `GET|HEAD|DELETE /v2/<name>/blobs/<digest>`, with single `Range` requests.

use super::{empty, header_str, is_head, Caller, OciError};
use crate::AppState;
use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::Response;
use wharf_core::{CoreError, Repo};
use wharf_oci::Digest;

pub(super) async fn handle(
    state: &AppState,
    caller: &Caller<'_>,
    name: &Repo,
    digest: &str,
    req: &Parts,
) -> Result<Response, OciError> {
    let digest: Digest = digest
        .parse()
        .map_err(|e| OciError::digest_invalid(format!("{e}")))?;
    if req.method == Method::DELETE {
        state.registry.delete_blob(name, &digest).await?;
        return Ok(empty(
            StatusCode::ACCEPTED,
            &[("docker-content-digest", digest.to_string())],
        ));
    }
    let size = match state.registry.blob_size(name, &digest).await {
        Ok(size) => size,
        Err(e @ (CoreError::BlobUnknown | CoreError::NameUnknown)) => {
            // A pull-through cache fetches the blob: streamed to this client as it is stored,
            // or stored by another request's fetch meanwhile.
            match state
                .registry
                .pull_through_blob(
                    name,
                    &digest,
                    caller.principal,
                    caller.client,
                    !is_head(req),
                )
                .await?
            {
                Some(streamed) => return Ok(streamed_blob(&digest, streamed)),
                None => match state.registry.blob_size(name, &digest).await {
                    Ok(size) => size,
                    Err(_) => return Err(e.into()),
                },
            }
        }
        Err(e) => return Err(e.into()),
    };
    if !is_head(req) {
        if let Some(url) = state.registry.blob_download_url(&digest).await? {
            // The object store serves the bytes (and the Range) itself.
            let mut resp = empty(
                StatusCode::TEMPORARY_REDIRECT,
                &[("docker-content-digest", digest.to_string())],
            );
            if let Ok(v) = HeaderValue::from_str(&url) {
                resp.headers_mut().insert(header::LOCATION, v);
                return Ok(resp);
            }
        }
    }
    let (status, start, len) = match header_str(&req.headers, header::RANGE) {
        Some(r) => match parse_range(r, size) {
            Some(RangeSpec::Satisfiable(s, e)) => (StatusCode::PARTIAL_CONTENT, s, e - s + 1),
            Some(RangeSpec::Unsatisfiable) => {
                let mut err = OciError::new(
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    "RANGE_INVALID",
                    "requested range not satisfiable",
                );
                err.headers
                    .push((header::CONTENT_RANGE, format!("bytes */{size}")));
                return Err(err);
            }
            None => (StatusCode::OK, 0, size),
        },
        None => (StatusCode::OK, 0, size),
    };
    let body = if is_head(req) {
        Body::empty()
    } else {
        Body::from_stream(state.registry.read_blob(name, &digest, start, len).await?)
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Ok(v) = HeaderValue::from_str(&digest.to_string()) {
        h.insert("docker-content-digest", v.clone());
        h.insert(
            header::ETAG,
            HeaderValue::from_str(&format!("\"{digest}\"")).unwrap_or(v),
        );
    }
    if status == StatusCode::PARTIAL_CONTENT {
        if let Ok(v) =
            HeaderValue::from_str(&format!("bytes {}-{}/{}", start, start + len - 1, size))
        {
            h.insert(header::CONTENT_RANGE, v);
        }
    }
    Ok(resp)
}

/// A blob coming from a pull-through cache's upstream: the whole blob (a `Range` is served once
/// it is stored), with the length the upstream announced.
fn streamed_blob(
    digest: &Digest,
    streamed: wharf_core::pull_through::fetch::StreamedBlob,
) -> Response {
    let mut resp = Response::new(Body::from_stream(streamed.stream));
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    if let Some(len) = streamed.len {
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    }
    if let Ok(v) = HeaderValue::from_str(&digest.to_string()) {
        h.insert("docker-content-digest", v);
    }
    resp
}

#[derive(Debug, PartialEq, Eq)]
enum RangeSpec {
    /// Inclusive first and last byte.
    Satisfiable(u64, u64),
    Unsatisfiable,
}

/// Parses a single `bytes=` range against a blob of `size` bytes. `None` means the header is not a
/// single byte range we understand, and RFC 9110 says to ignore it and serve the whole blob.
fn parse_range(h: &str, size: u64) -> Option<RangeSpec> {
    let spec = h.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() {
        let suffix: u64 = b.parse().ok()?;
        if suffix == 0 || size == 0 {
            return Some(RangeSpec::Unsatisfiable);
        }
        return Some(RangeSpec::Satisfiable(
            size.saturating_sub(suffix),
            size - 1,
        ));
    }
    let start: u64 = a.parse().ok()?;
    let end: u64 = if b.is_empty() {
        u64::MAX
    } else {
        b.parse().ok()?
    };
    // An inverted range can never be satisfied; the conformance suite expects 416 for it.
    if end < start || start >= size {
        return Some(RangeSpec::Unsatisfiable);
    }
    Some(RangeSpec::Satisfiable(start, end.min(size - 1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        use RangeSpec::*;
        assert_eq!(parse_range("bytes=0-9", 100), Some(Satisfiable(0, 9)));
        assert_eq!(parse_range("bytes=90-", 100), Some(Satisfiable(90, 99)));
        assert_eq!(parse_range("bytes=90-500", 100), Some(Satisfiable(90, 99)));
        assert_eq!(parse_range("bytes=-10", 100), Some(Satisfiable(90, 99)));
        assert_eq!(parse_range("bytes=-500", 100), Some(Satisfiable(0, 99)));
        assert_eq!(parse_range("bytes=100-", 100), Some(Unsatisfiable));
        assert_eq!(parse_range("bytes=-0", 100), Some(Unsatisfiable));
        assert_eq!(parse_range("bytes=5-1", 100), Some(Unsatisfiable));
        assert_eq!(parse_range("bytes=0-1,3-4", 100), None);
        assert_eq!(parse_range("items=0-1", 100), None);
    }
}
