//! What reading a blob through a repository needs in one query (its size, whether it was stored
//! sealed, the repository's encryption settings), and binding a data key to its blob.

use crate::{MetaStore, RepoKey, Result};
use wharf_oci::Digest;

/// A blob as a repository serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobReadInfo {
    pub size: u64,
    /// The blob's bytes were stored sealed (`false`: stored before encryption, not yet sealed).
    pub sealed: bool,
    /// The repository's `encryption_type` and `kms_key`.
    pub encryption_type: String,
    pub kms_key: Option<String>,
}

impl MetaStore {
    /// The blob as repository `repo` may serve it; `None` when the repository does not hold it.
    pub async fn repository_blob_info(
        &self,
        repo: RepoKey<'_>,
        digest: &Digest,
    ) -> Result<Option<BlobReadInfo>> {
        let row: Option<(i64, i64, String, Option<String>)> = sqlx::query_as(
            "SELECT b.size, b.sealed, r.encryption_type, r.kms_key FROM repository_blobs rb
             JOIN repositories r ON r.id = rb.repository_id
             JOIN blobs b ON b.digest = rb.digest
             WHERE r.account_id = $1 AND r.name = $2 AND rb.digest = $3",
        )
        .bind(repo.account)
        .bind(repo.name)
        .bind(digest.to_string())
        .fetch_optional(&self.reader)
        .await?;
        Ok(
            row.map(|(size, sealed, encryption_type, kms_key)| BlobReadInfo {
                size: size as u64,
                sealed: sealed != 0,
                encryption_type,
                kms_key,
            }),
        )
    }

    /// Binds every wrap of data key `dek_id` to blob `digest` (before sealed bytes under it may
    /// be at the blob's address, so readers find the key owned by the blob).
    /// Group-committed with blob records (see blobs.rs).
    pub async fn bind_data_key(&self, dek_id: &str, digest: &Digest) -> Result<()> {
        self.queue_group(crate::blobs::GroupOp::BindKey {
            dek_id: dek_id.to_owned(),
            digest: digest.to_string(),
        })
        .await
    }
}
