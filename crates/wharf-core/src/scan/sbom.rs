//! SBOMs of scanned images: CycloneDX and SPDX documents built from the stored inventory, and
//! their attachment to the image as OCI referrer artifacts after a complete scan.
//!
//! Each SBOM is an artifact manifest pushed through the normal push path (so the referrers API
//! lists it and lifecycle keeps it with its subject):
//!
//! ```text
//! { mediaType: application/vnd.oci.image.manifest.v1+json,
//!   artifactType: application/vnd.cyclonedx+json | application/spdx+json,
//!   config: application/vnd.oci.empty.v1+json ({}),
//!   layers: [ the document ],
//!   subject: the image,
//!   annotations: { org.opencontainers.image.created, dev.wharf.sbom: "generated" } }
//! ```
//!
//! Documents are deterministic: their creation time is the image's push time, so scanning an
//! image again with the same inventory pushes byte-identical manifests (a no-op). When the
//! inventory differs, the new SBOM replaces the one Wharf attached before (found by the
//! `dev.wharf.sbom` annotation); SBOMs others pushed are never touched. Artifacts are not
//! images, so pushing them never queues a scan.

use super::{Inventory, SbomFormat};
use crate::{CoreError, Registry, Repo};
use bytes::Bytes;
use serde_json::json;
use std::collections::BTreeMap;
use wharf_oci::media::{OCI_EMPTY, OCI_MANIFEST};
use wharf_oci::{Digest, Reference};
use wharf_scan::sbom::{self, Subject, CYCLONEDX_MEDIA_TYPE, SPDX_MEDIA_TYPE};

/// The annotation marking SBOMs Wharf generated (and may replace).
pub const SBOM_ANNOTATION: &str = "dev.wharf.sbom";

/// The empty JSON object OCI uses as an artifact's config.
const EMPTY_CONFIG: &[u8] = b"{}";

/// RFC 3339 for a Unix time.
fn rfc3339(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".into())
}

impl SbomFormat {
    /// The document's media type (also the artifact type of its referrer).
    pub fn media_type(self) -> &'static str {
        match self {
            SbomFormat::CycloneDx => CYCLONEDX_MEDIA_TYPE,
            SbomFormat::Spdx => SPDX_MEDIA_TYPE,
        }
    }
}

impl Registry {
    /// Builds the document of `format` for an inventory of `digest` pushed at `pushed_at`.
    fn sbom_document(
        &self,
        repo: &Repo,
        digest: &Digest,
        pushed_at: i64,
        inventory: &Inventory,
        format: SbomFormat,
    ) -> serde_json::Value {
        let digest = digest.to_string();
        let created = rfc3339(pushed_at);
        let subject = Subject {
            repository: repo.name.as_str(),
            digest: &digest,
            registry: &self.registry_host,
            created: &created,
        };
        match format {
            SbomFormat::CycloneDx => sbom::cyclonedx(inventory, &subject),
            SbomFormat::Spdx => sbom::spdx(inventory, &subject),
        }
    }

    /// The SBOM of a scanned image, from its stored inventory (the same document the scan
    /// attached). `ScanNotFound` when the image has no inventory (never scanned, or its scan
    /// did not complete).
    pub async fn sbom(
        &self,
        repo: &Repo,
        digest: &Digest,
        format: SbomFormat,
    ) -> Result<serde_json::Value, CoreError> {
        let image = self
            .meta
            .image(repo.key(), digest)
            .await?
            .ok_or(CoreError::ManifestUnknown)?;
        let record = self.meta.image_scan(repo.key(), digest).await?;
        let Some(inventory) = record.and_then(|r| r.inventory) else {
            return Err(CoreError::ScanNotFound(format!(
                "The image with digest '{digest}' in the repository with name '{}' has no completed scan, so it has no SBOM",
                repo.name
            )));
        };
        let inventory: Inventory = serde_json::from_str(&inventory)
            .map_err(|e| CoreError::Internal(format!("stored inventory: {e}")))?;
        Ok(self.sbom_document(repo, digest, image.pushed_at, &inventory, format))
    }

    /// Stores `bytes` as a blob of the repository unless it holds it already.
    async fn put_small_blob(&self, repo: &Repo, bytes: Vec<u8>) -> Result<Digest, CoreError> {
        let digest = Digest::sha256(&bytes);
        if self
            .meta
            .repository_blob(repo.key(), &digest)
            .await?
            .is_none()
        {
            let body: wharf_blob::ByteStream =
                Box::pin(futures::stream::once(async move { Ok(Bytes::from(bytes)) }));
            self.push_blob(repo, &digest, body).await?;
        }
        Ok(digest)
    }

    /// Attaches the CycloneDX and SPDX documents of `inventory` to the image as referrers,
    /// replacing SBOMs Wharf attached earlier.
    pub(crate) async fn attach_sboms(
        &self,
        repo: &Repo,
        digest: &Digest,
        media_type: &str,
        manifest_size: u64,
        pushed_at: i64,
        inventory: &Inventory,
    ) -> Result<(), CoreError> {
        let config = self.put_small_blob(repo, EMPTY_CONFIG.to_vec()).await?;
        let existing = self.meta.referrers(repo.key(), digest).await?;
        for format in [SbomFormat::CycloneDx, SbomFormat::Spdx] {
            let document = self.sbom_document(repo, digest, pushed_at, inventory, format);
            let bytes = serde_json::to_vec(&document)
                .map_err(|e| CoreError::Internal(format!("SBOM: {e}")))?;
            let size = bytes.len();
            let layer = self.put_small_blob(repo, bytes).await?;
            let mut annotations = BTreeMap::new();
            annotations.insert("org.opencontainers.image.created", rfc3339(pushed_at));
            annotations.insert(SBOM_ANNOTATION, "generated".to_string());
            let manifest = json!({
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "artifactType": format.media_type(),
                "config": { "mediaType": OCI_EMPTY, "digest": config.to_string(), "size": EMPTY_CONFIG.len(), "data": "e30=" },
                "layers": [ { "mediaType": format.media_type(), "digest": layer.to_string(), "size": size } ],
                "subject": { "mediaType": media_type, "digest": digest.to_string(), "size": manifest_size },
                "annotations": annotations,
            });
            let body = serde_json::to_vec(&manifest)
                .map_err(|e| CoreError::Internal(format!("SBOM manifest: {e}")))?;
            let pushed = Digest::sha256(&body);
            self.put_manifest(
                repo,
                &Reference::Digest(pushed.clone()),
                &[],
                Some(OCI_MANIFEST),
                &body,
            )
            .await?;
            // The SBOM this one replaces: Wharf's, of the same format, with other contents.
            for old in &existing {
                let ours = old
                    .annotations
                    .as_deref()
                    .and_then(|a| serde_json::from_str::<BTreeMap<String, String>>(a).ok())
                    .is_some_and(|a| a.contains_key(SBOM_ANNOTATION));
                if ours
                    && old.artifact_type.as_deref() == Some(format.media_type())
                    && old.digest != pushed
                {
                    self.delete_manifest(repo, &Reference::Digest(old.digest.clone()))
                        .await?;
                }
            }
        }
        Ok(())
    }
}
