//! Upload sessions: which repository an upload belongs to and how many bytes it holds, kept in SQL
//! so an upload survives a restart and may continue on another node.

use crate::{now, repos, MetaStore, RepoKey, Result};

/// An upload in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub id: String,
    pub account: String,
    pub repository: String,
    pub size: u64,
    pub created_at: i64,
    /// The data key (hex id) the upload's bytes are sealed under; `None` for plaintext.
    pub dek_id: Option<String>,
    /// The smallest part sent with ECR's `UploadLayerPart` before its last one, if there were two.
    pub smallest_earlier_part: Option<u64>,
}

impl MetaStore {
    /// Registers a new upload in a repository (created if needed). `dek_id` names the data key
    /// its bytes are sealed under (its wraps are recorded with `insert_data_key`); while the
    /// upload exists, `prune_data_keys` keeps that key.
    pub async fn create_upload(
        &self,
        id: &str,
        repo: RepoKey<'_>,
        dek_id: Option<&str>,
    ) -> Result<()> {
        let mut tx = self.begin_write_repo(repo).await?;
        let repo_id = repos::ensure(&mut tx, repo).await?;
        let t = now();
        sqlx::query("INSERT INTO uploads (id, repository_id, size, created_at, updated_at, dek_id) VALUES ($1, $2, 0, $3, $4, $5)")
            .bind(id)
            .bind(repo_id)
            .bind(t)
            .bind(t)
            .bind(dek_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Looks an upload up by id.
    pub async fn upload(&self, id: &str) -> Result<Option<Upload>> {
        type Row = (
            String,
            String,
            String,
            i64,
            i64,
            Option<String>,
            Option<i64>,
        );
        let row: Option<Row> = sqlx::query_as(
            "SELECT u.id, r.account_id, r.name, u.size, u.created_at, u.dek_id,
             u.smallest_earlier_part
             FROM uploads u JOIN repositories r ON r.id = u.repository_id WHERE u.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.reader)
        .await?;
        Ok(row.map(
            |(id, account, repository, size, created_at, dek_id, smallest)| Upload {
                id,
                account,
                repository,
                size: size as u64,
                created_at,
                dek_id,
                smallest_earlier_part: smallest.map(|s| s as u64),
            },
        ))
    }

    /// Records the upload's new size after an append.
    pub async fn set_upload_size(&self, id: &str, size: u64) -> Result<()> {
        sqlx::query("UPDATE uploads SET size = $1, updated_at = $2 WHERE id = $3")
            .bind(size as i64)
            .bind(now())
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Records the upload's new size after an append that was one ECR layer part of `part` bytes:
    /// the part before it (if any) is no longer the last, so it counts towards the smallest
    /// earlier part. One statement, so the size and the part sizes never disagree.
    pub async fn set_upload_size_after_part(&self, id: &str, size: u64, part: u64) -> Result<()> {
        // Every right-hand side reads the row as it was before the update (SQLite and PostgreSQL).
        sqlx::query(
            "UPDATE uploads SET size = $1, updated_at = $2,
                 smallest_earlier_part = CASE
                     WHEN last_part_size IS NULL THEN smallest_earlier_part
                     WHEN smallest_earlier_part IS NULL OR last_part_size < smallest_earlier_part
                         THEN last_part_size
                     ELSE smallest_earlier_part END,
                 last_part_size = $3
             WHERE id = $4",
        )
        .bind(size as i64)
        .bind(now())
        .bind(part as i64)
        .bind(id)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Forgets an upload. Returns whether it existed.
    pub async fn delete_upload(&self, id: &str) -> Result<bool> {
        let res = sqlx::query("DELETE FROM uploads WHERE id = $1")
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(res.rows_affected() > 0)
    }

    /// Ids of uploads not touched since `before` (Unix seconds).
    pub async fn stale_uploads(&self, before: i64) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT id FROM uploads WHERE updated_at < $1")
                .bind(before)
                .fetch_all(&self.reader)
                .await?,
        )
    }
}
