//! Reading and deleting blobs through a repository.

use crate::Repo;
use crate::{CoreError, Registry};
use wharf_blob::ByteStream;
use wharf_oci::Digest;

impl Registry {
    /// The size of a blob the repository may serve.
    pub async fn blob_size(&self, repo: &Repo, digest: &Digest) -> Result<u64, CoreError> {
        self.meta
            .repository_blob(repo.key(), digest)
            .await?
            .ok_or(CoreError::BlobUnknown)
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
