//! Blob sizes, download redirects and deletes through a repository (reads: `crypt/io.rs`).

use crate::Repo;
use crate::{CoreError, Registry};
use wharf_oci::{Digest, Manifest};

impl Registry {
    /// The size of a blob the repository may serve.
    pub async fn blob_size(&self, repo: &Repo, digest: &Digest) -> Result<u64, CoreError> {
        self.meta
            .repository_blob(repo.key(), digest)
            .await?
            .ok_or(CoreError::BlobUnknown)
    }

    /// Whether an image of the repository references the blob (as config or layer).
    pub async fn blob_referenced(&self, repo: &Repo, digest: &Digest) -> Result<bool, CoreError> {
        Ok(self.meta.blob_referenced(repo.key(), digest).await?)
    }

    /// A blob's media type, as a manifest of the repository that references it describes it
    /// (config or layer); `None` while no manifest references it.
    pub async fn blob_media_type(
        &self,
        repo: &Repo,
        digest: &Digest,
    ) -> Result<Option<String>, CoreError> {
        let Some((media_type, body)) = self.meta.manifest_referencing(repo.key(), digest).await?
        else {
            return Ok(None);
        };
        // Stored manifests parsed when they were pushed; one that no longer does says nothing.
        let Ok(manifest) = Manifest::parse(&body, Some(&media_type)) else {
            return Ok(None);
        };
        Ok(manifest
            .config
            .iter()
            .chain(&manifest.layers)
            .find(|d| &d.digest == digest)
            .map(|d| d.media_type.clone()))
    }

    /// A presigned URL to GET the blob from the object store, when the store redirects. Never
    /// for a sealed blob: the object store holds only ciphertext, which Wharf must decrypt (only
    /// blobs stored before encryption, not yet sealed by the background job, can redirect).
    pub async fn blob_download_url(&self, digest: &Digest) -> Result<Option<String>, CoreError> {
        if self.meta.blob_sealed(digest).await? != Some(false) {
            return Ok(None);
        }
        Ok(self
            .blobs
            .download_url(digest, std::time::Duration::from_secs(15 * 60))
            .await?)
    }

    /// Removes a blob from a repository; its bytes stay until garbage collection.
    pub async fn delete_blob(&self, repo: &Repo, digest: &Digest) -> Result<(), CoreError> {
        if self.meta.unlink_blob(repo.key(), digest).await? {
            Ok(())
        } else {
            Err(CoreError::BlobUnknown)
        }
    }
}
