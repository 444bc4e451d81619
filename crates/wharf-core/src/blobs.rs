//! Reading and deleting blobs through a repository.

use crate::Repo;
use crate::{CoreError, Registry};
use wharf_blob::ByteStream;
use wharf_oci::{Digest, Manifest};

impl Registry {
    /// The size of a blob the repository may serve.
    pub async fn blob_size(&self, repo: &Repo, digest: &Digest) -> Result<u64, CoreError> {
        self.meta
            .repository_blob(repo.key(), digest)
            .await?
            .ok_or(CoreError::BlobUnknown)
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

    /// Streams `len` bytes of a blob from `offset`.
    pub async fn read_blob(
        &self,
        digest: &Digest,
        offset: u64,
        len: u64,
    ) -> Result<ByteStream, CoreError> {
        Ok(self.blobs.read(digest, offset, len).await?)
    }

    /// A presigned URL to GET the blob from the object store, when the store redirects.
    pub async fn blob_download_url(&self, digest: &Digest) -> Result<Option<String>, CoreError> {
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
