//! Lifecycle policies and their previews, the archive storage class of images, and the facts the
//! lifecycle evaluator reads (every image of a repository with its tags, and index membership).

use crate::images::{image, ImageRow, IMAGE_SELECT};
use crate::{now, ImageRecord, MetaError, MetaStore, RepoKey, Result};
use wharf_oci::Digest;

/// A repository's lifecycle policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecyclePolicyRecord {
    /// The policy text exactly as it was put.
    pub text: String,
    /// When the policy was last applied.
    pub evaluated_at: Option<i64>,
}

/// A repository's last lifecycle policy preview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewRecord {
    pub policy_text: String,
    /// `IN_PROGRESS`, `COMPLETE`, `EXPIRED` or `FAILED`.
    pub status: String,
    pub started_at: i64,
    /// The results as a JSON array.
    pub results: String,
}

/// A repository that has a lifecycle policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecycleRepository {
    pub account: String,
    pub name: String,
    pub policy: String,
}

impl MetaStore {
    /// The repository's lifecycle policy; `RepositoryNotFound` for an unknown repository.
    pub async fn lifecycle_policy(
        &self,
        repo: RepoKey<'_>,
    ) -> Result<Option<LifecyclePolicyRecord>> {
        let row: Option<(Option<String>, Option<i64>)> = sqlx::query_as(
            "SELECT lifecycle_policy, lifecycle_evaluated_at FROM repositories
             WHERE account_id = $1 AND name = $2",
        )
        .bind(repo.account)
        .bind(repo.name)
        .fetch_optional(&self.reader)
        .await?;
        let (text, evaluated_at) = row.ok_or(MetaError::RepositoryNotFound)?;
        Ok(text.map(|text| LifecyclePolicyRecord { text, evaluated_at }))
    }

    /// Sets (`Some`) or removes (`None`) the lifecycle policy and answers the one it replaced.
    /// `RepositoryNotFound` for an unknown repository.
    pub async fn set_lifecycle_policy(
        &self,
        repo: RepoKey<'_>,
        text: Option<&str>,
    ) -> Result<Option<LifecyclePolicyRecord>> {
        let mut tx = self.begin_write_repo(repo).await?;
        let row: Option<(Option<String>, Option<i64>)> = sqlx::query_as(
            "SELECT lifecycle_policy, lifecycle_evaluated_at FROM repositories
             WHERE account_id = $1 AND name = $2",
        )
        .bind(repo.account)
        .bind(repo.name)
        .fetch_optional(&mut *tx)
        .await?;
        let (old, evaluated_at) = row.ok_or(MetaError::RepositoryNotFound)?;
        sqlx::query(
            "UPDATE repositories SET lifecycle_policy = $1,
                lifecycle_evaluated_at = CASE WHEN $2 IS NULL THEN NULL ELSE lifecycle_evaluated_at END
             WHERE account_id = $3 AND name = $4",
        )
        .bind(text)
        .bind(text)
        .bind(repo.account)
        .bind(repo.name)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(old.map(|text| LifecyclePolicyRecord { text, evaluated_at }))
    }

    /// Records that the repository's policy was applied at `at`.
    pub async fn mark_lifecycle_evaluated(&self, repo: RepoKey<'_>, at: i64) -> Result<()> {
        sqlx::query(
            "UPDATE repositories SET lifecycle_evaluated_at = $1 WHERE account_id = $2 AND name = $3",
        )
        .bind(at)
        .bind(repo.account)
        .bind(repo.name)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Repositories with a lifecycle policy, of one account or of all, by account then name.
    pub async fn lifecycle_repositories(
        &self,
        account: Option<&str>,
    ) -> Result<Vec<LifecycleRepository>> {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT account_id, name, lifecycle_policy FROM repositories
             WHERE lifecycle_policy IS NOT NULL AND ($1 IS NULL OR account_id = $2)
             ORDER BY account_id, name",
        )
        .bind(account)
        .bind(account)
        .fetch_all(&self.reader)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(account, name, policy)| LifecycleRepository {
                account,
                name,
                policy,
            })
            .collect())
    }

    /// Every image of the repository, by digest.
    pub async fn all_images(&self, repo: RepoKey<'_>) -> Result<Vec<ImageRecord>> {
        let id = self
            .repository_id(repo)
            .await?
            .ok_or(MetaError::RepositoryNotFound)?;
        let rows: Vec<ImageRow> = sqlx::query_as(&format!(
            "{IMAGE_SELECT} WHERE m.repository_id = $1 ORDER BY m.digest"
        ))
        .bind(id)
        .fetch_all(&self.reader)
        .await?;
        rows.into_iter().map(image).collect()
    }

    /// Every (index, child) pair of the repository.
    pub async fn index_children(&self, repo: RepoKey<'_>) -> Result<Vec<(String, String)>> {
        Ok(sqlx::query_as(
            "SELECT c.parent_digest, c.child_digest FROM manifest_children c
             JOIN repositories r ON r.id = c.repository_id WHERE r.account_id = $1 AND r.name = $2",
        )
        .bind(repo.account)
        .bind(repo.name)
        .fetch_all(&self.reader)
        .await?)
    }

    /// Moves an image to the archive (`archived`) or back to the active class, at `at`. Returns
    /// whether the image existed in the other class (false: unknown, or already there).
    pub async fn set_image_archived(
        &self,
        repo: RepoKey<'_>,
        digest: &Digest,
        archived: bool,
        at: i64,
    ) -> Result<bool> {
        let sql = if archived {
            "UPDATE manifests SET image_status = 'ARCHIVED', archived_at = $1
             WHERE image_status <> 'ARCHIVED' AND digest = $2
             AND repository_id = (SELECT id FROM repositories WHERE account_id = $3 AND name = $4)"
        } else {
            "UPDATE manifests SET image_status = 'ACTIVE', activated_at = $1
             WHERE image_status <> 'ACTIVE' AND digest = $2
             AND repository_id = (SELECT id FROM repositories WHERE account_id = $3 AND name = $4)"
        };
        let res = sqlx::query(sql)
            .bind(at)
            .bind(digest.to_string())
            .bind(repo.account)
            .bind(repo.name)
            .execute(&self.writer)
            .await?;
        Ok(res.rows_affected() > 0)
    }

    /// Replaces the repository's preview.
    pub async fn save_preview(
        &self,
        repo: RepoKey<'_>,
        policy_text: &str,
        status: &str,
        results: &str,
    ) -> Result<()> {
        let res = sqlx::query(
            "INSERT INTO lifecycle_previews (repository_id, policy_text, status, started_at, results)
             SELECT id, $1, $2, $3, $4 FROM repositories WHERE account_id = $5 AND name = $6
             ON CONFLICT (repository_id) DO UPDATE SET policy_text = excluded.policy_text,
                status = excluded.status, started_at = excluded.started_at, results = excluded.results",
        )
        .bind(policy_text)
        .bind(status)
        .bind(now())
        .bind(results)
        .bind(repo.account)
        .bind(repo.name)
        .execute(&self.writer)
        .await?;
        if res.rows_affected() == 0 {
            return Err(MetaError::RepositoryNotFound);
        }
        Ok(())
    }

    /// The repository's last preview, if one was started.
    pub async fn preview(&self, repo: RepoKey<'_>) -> Result<Option<PreviewRecord>> {
        let row: Option<(String, String, i64, String)> = sqlx::query_as(
            "SELECT p.policy_text, p.status, p.started_at, p.results FROM lifecycle_previews p
             JOIN repositories r ON r.id = p.repository_id WHERE r.account_id = $1 AND r.name = $2",
        )
        .bind(repo.account)
        .bind(repo.name)
        .fetch_optional(&self.reader)
        .await?;
        Ok(
            row.map(|(policy_text, status, started_at, results)| PreviewRecord {
                policy_text,
                status,
                started_at,
                results,
            }),
        )
    }
}
