//! Blob records and their links to repositories.

use crate::{now, repos, MetaStore, RepoKey, Result};
use wharf_oci::Digest;

impl MetaStore {
    /// Records a blob whose bytes are durable and links it to the repository (created if needed).
    /// When the blob came from an upload session, the session is closed in the same transaction.
    pub async fn record_blob(
        &self,
        repo: RepoKey<'_>,
        digest: &Digest,
        size: u64,
        upload: Option<&str>,
    ) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        let repo_id = repos::ensure(&mut tx, repo).await?;
        let d = digest.to_string();
        sqlx::query(
            "INSERT INTO blobs (digest, size, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(&d)
        .bind(size as i64)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO repository_blobs (repository_id, digest, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(repo_id)
        .bind(&d)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        if let Some(id) = upload {
            sqlx::query("DELETE FROM uploads WHERE id = ?")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The size of a blob the repository may serve.
    pub async fn repository_blob(&self, repo: RepoKey<'_>, digest: &Digest) -> Result<Option<u64>> {
        let size: Option<i64> = sqlx::query_scalar(
            "SELECT b.size FROM repository_blobs rb
             JOIN repositories r ON r.id = rb.repository_id
             JOIN blobs b ON b.digest = rb.digest
             WHERE r.account_id = ? AND r.name = ? AND rb.digest = ?",
        )
        .bind(repo.account)
        .bind(repo.name)
        .bind(digest.to_string())
        .fetch_optional(&self.reader)
        .await?;
        Ok(size.map(|s| s as u64))
    }

    /// The size of a blob that at least one repository of the account holds.
    pub async fn linked_blob_size(&self, account: &str, digest: &Digest) -> Result<Option<u64>> {
        let size: Option<i64> = sqlx::query_scalar(
            "SELECT size FROM blobs b WHERE digest = ?
             AND EXISTS (SELECT 1 FROM repository_blobs rb JOIN repositories r ON r.id = rb.repository_id
                         WHERE rb.digest = b.digest AND r.account_id = ?)",
        )
        .bind(digest.to_string())
        .bind(account)
        .fetch_optional(&self.reader)
        .await?;
        Ok(size.map(|s| s as u64))
    }

    /// Removes a blob from a repository. The bytes stay until garbage collection finds them
    /// unreferenced. Returns whether the repository had the blob.
    pub async fn unlink_blob(&self, repo: RepoKey<'_>, digest: &Digest) -> Result<bool> {
        let res = sqlx::query(
            "DELETE FROM repository_blobs WHERE digest = ?
             AND repository_id = (SELECT id FROM repositories WHERE account_id = ? AND name = ?)",
        )
        .bind(digest.to_string())
        .bind(repo.account)
        .bind(repo.name)
        .execute(&self.writer)
        .await?;
        Ok(res.rows_affected() > 0)
    }
}
