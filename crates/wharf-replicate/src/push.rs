//! Pushing a replication plan to a remote Wharf over `/v2/`: blobs the destination lacks
//! (HEAD first), in one request up to `MONOLITHIC_MAX` bytes or in `CHUNK`-sized PATCHes beyond,
//! then manifests by digest and tags, in the plan's order.

use crate::client::refusal;
use crate::RemoteRegistry;
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use wharf_core::replication::{ReplicateError, ReplicationPlan, Step};
use wharf_core::{Registry, Repo};
use wharf_oci::Digest;

/// Blobs up to this size go up in one PUT.
pub const MONOLITHIC_MAX: u64 = 8 << 20;
/// The size of each PATCH of a larger blob.
pub const CHUNK: usize = 8 << 20;

/// Copies a planned image of `src` to `dest_account`'s repository of the same name at the
/// remote Wharf.
pub async fn replicate_remote(
    registry: &Registry,
    src: &Repo,
    plan: &ReplicationPlan,
    remote: &RemoteRegistry,
    dest_account: &str,
) -> Result<(), ReplicateError> {
    let name = src.name.as_str();
    remote.ensure_repository(dest_account, name).await?;
    for step in &plan.steps {
        match step {
            Step::Blob { digest, size } => {
                if remote.has_blob(dest_account, name, digest).await? {
                    continue;
                }
                remote
                    .upload_blob(registry, src, dest_account, name, digest, *size)
                    .await?;
            }
            Step::Manifest {
                digest,
                media_type,
                body,
            } => {
                remote
                    .put_manifest(dest_account, name, &digest.to_string(), media_type, body)
                    .await?
            }
            Step::Tag {
                tag,
                media_type,
                body,
                ..
            } => {
                remote
                    .put_manifest(dest_account, name, tag, media_type, body)
                    .await?
            }
        }
    }
    Ok(())
}

impl RemoteRegistry {
    async fn has_blob(
        &self,
        account: &str,
        name: &str,
        digest: &Digest,
    ) -> Result<bool, ReplicateError> {
        let url = self.v2_url(&format!("/v2/{name}/blobs/{digest}"))?;
        let resp = self
            .v2(account, Method::HEAD, url, HeaderMap::new(), None)
            .await?;
        match resp.status() {
            s if s.is_success() => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(refusal("HEAD blob", resp).await),
        }
    }

    /// Uploads one blob, read from the source repository as it is sent.
    async fn upload_blob(
        &self,
        registry: &Registry,
        src: &Repo,
        account: &str,
        name: &str,
        digest: &Digest,
        size: u64,
    ) -> Result<(), ReplicateError> {
        let start = self.v2_url(&format!("/v2/{name}/blobs/uploads/"))?;
        let resp = self
            .v2(
                account,
                Method::POST,
                start,
                HeaderMap::new(),
                Some(Bytes::new()),
            )
            .await?;
        if resp.status() != StatusCode::ACCEPTED {
            return Err(refusal("starting an upload", resp).await);
        }
        let mut location = location(&resp)?;
        let mut stream = registry
            .read_blob(src, digest, 0, u64::MAX)
            .await
            .map_err(ReplicateError::from)?;
        let mut sent: u64 = 0;
        let mut buf = BytesMut::new();
        let chunked = size > MONOLITHIC_MAX;
        loop {
            let next = stream.next().await;
            let last = next.is_none();
            if let Some(bytes) = next {
                let bytes = bytes
                    .map_err(|e| ReplicateError::Transient(format!("reading {digest}: {e}")))?;
                buf.extend_from_slice(&bytes);
            }
            // A small blob goes whole with the closing PUT; a large one as full chunks, then
            // what is left at the end.
            while chunked && (buf.len() >= CHUNK || (last && !buf.is_empty())) {
                let body = buf.split_to(buf.len().min(CHUNK)).freeze();
                let len = body.len() as u64;
                let mut h = HeaderMap::new();
                h.insert(
                    "content-type",
                    HeaderValue::from_static("application/octet-stream"),
                );
                h.insert(
                    "content-range",
                    HeaderValue::from_str(&format!("{sent}-{}", sent + len - 1)).expect("digits"),
                );
                let resp = self
                    .v2(
                        account,
                        Method::PATCH,
                        self.v2_url(&location)?,
                        h,
                        Some(body),
                    )
                    .await?;
                if resp.status() != StatusCode::ACCEPTED {
                    return Err(refusal("uploading a chunk", resp).await);
                }
                location = self::location(&resp)?;
                sent += len;
            }
            if last {
                break;
            }
        }
        let body = buf.freeze();
        let mut url = self.v2_url(&location)?;
        url.query_pairs_mut()
            .append_pair("digest", &digest.to_string());
        let mut h = HeaderMap::new();
        h.insert(
            "content-type",
            HeaderValue::from_static("application/octet-stream"),
        );
        let resp = self.v2(account, Method::PUT, url, h, Some(body)).await?;
        if resp.status() != StatusCode::CREATED {
            return Err(refusal("completing an upload", resp).await);
        }
        tracing::debug!(region = self.region(), %digest, size, "replicated a blob");
        Ok(())
    }

    async fn put_manifest(
        &self,
        account: &str,
        name: &str,
        reference: &str,
        media_type: &str,
        body: &[u8],
    ) -> Result<(), ReplicateError> {
        let url = self.v2_url(&format!("/v2/{name}/manifests/{reference}"))?;
        let mut h = HeaderMap::new();
        h.insert(
            "content-type",
            HeaderValue::from_str(media_type)
                .map_err(|_| ReplicateError::permanent("INVALID_MEDIA_TYPE", media_type))?,
        );
        let resp = self
            .v2(
                account,
                Method::PUT,
                url,
                h,
                Some(Bytes::copy_from_slice(body)),
            )
            .await?;
        if resp.status() != StatusCode::CREATED {
            return Err(refusal("putting a manifest", resp).await);
        }
        Ok(())
    }
}

/// The upload's `Location`.
fn location(resp: &reqwest::Response) -> Result<String, ReplicateError> {
    resp.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .ok_or_else(|| ReplicateError::Transient("an upload answered no Location".into()))
}
