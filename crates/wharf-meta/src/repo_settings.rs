//! Repository records with their ECR settings, resource tags and repository policies.

use crate::{now, repos, MetaError, MetaStore, RepoKey, Result};

/// A repository's ECR-level settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoSettings {
    /// `MUTABLE`, `IMMUTABLE`, `MUTABLE_WITH_EXCLUSION` or `IMMUTABLE_WITH_EXCLUSION`.
    pub image_tag_mutability: String,
    /// The exclusion filters (wildcard patterns).
    pub mutability_exclusions: Vec<String>,
    pub scan_on_push: bool,
    pub encryption_type: String,
    pub kms_key: Option<String>,
    /// An ECR Public repository: listed by the ECR Public API, pulled without credentials.
    pub public: bool,
}

impl Default for RepoSettings {
    fn default() -> Self {
        RepoSettings {
            image_tag_mutability: "MUTABLE".into(),
            mutability_exclusions: Vec::new(),
            scan_on_push: false,
            encryption_type: "AES256".into(),
            kms_key: None,
            public: false,
        }
    }
}

/// A repository as `DescribeRepositories` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositoryRecord {
    pub id: i64,
    pub account: String,
    pub name: String,
    pub created_at: i64,
    pub settings: RepoSettings,
}

type RepoRow = (
    i64,
    String,
    String,
    i64,
    String,
    Option<String>,
    i64,
    String,
    Option<String>,
    i64,
);

const REPO_SELECT: &str =
    "SELECT id, account_id, name, created_at, image_tag_mutability, mutability_exclusions,
     scan_on_push, encryption_type, kms_key, public FROM repositories";

fn record(row: RepoRow) -> Result<RepositoryRecord> {
    let (
        id,
        account,
        name,
        created_at,
        image_tag_mutability,
        exclusions,
        scan_on_push,
        encryption_type,
        kms_key,
        public,
    ) = row;
    let mutability_exclusions = match exclusions {
        Some(text) => text
            .split('\n')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        None => Vec::new(),
    };
    Ok(RepositoryRecord {
        id,
        account,
        name,
        created_at,
        settings: RepoSettings {
            image_tag_mutability,
            mutability_exclusions,
            scan_on_push: scan_on_push != 0,
            encryption_type,
            kms_key,
            public: public != 0,
        },
    })
}

fn join_filters(filters: &[String]) -> Option<String> {
    // Filters match [0-9a-zA-Z._*-], so a newline never occurs inside one.
    (!filters.is_empty()).then(|| filters.join("\n"))
}

impl MetaStore {
    /// Creates a repository with settings and tags; `None` if it exists already.
    pub async fn create_repository(
        &self,
        repo: RepoKey<'_>,
        settings: &RepoSettings,
        tags: &[(String, String)],
    ) -> Result<Option<RepositoryRecord>> {
        let mut tx = self.begin_write_repo(repo).await?;
        let t = now();
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO repositories (account_id, name, created_at, image_tag_mutability, mutability_exclusions,
                 scan_on_push, encryption_type, kms_key, public)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (account_id, name) DO NOTHING RETURNING id",
        )
        .bind(repo.account)
        .bind(repo.name)
        .bind(t)
        .bind(&settings.image_tag_mutability)
        .bind(join_filters(&settings.mutability_exclusions))
        .bind(settings.scan_on_push as i64)
        .bind(&settings.encryption_type)
        .bind(&settings.kms_key)
        .bind(settings.public as i64)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = id else {
            return Ok(None);
        };
        for (k, v) in tags {
            sqlx::query(
                "INSERT INTO repository_tags (repository_id, key, value) VALUES ($1, $2, $3)
                         ON CONFLICT (repository_id, key) DO UPDATE SET value = excluded.value",
            )
            .bind(id)
            .bind(k)
            .bind(v)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Some(RepositoryRecord {
            id,
            account: repo.account.to_string(),
            name: repo.name.to_string(),
            created_at: t,
            settings: settings.clone(),
        }))
    }

    /// A repository with its settings.
    pub async fn repository(&self, repo: RepoKey<'_>) -> Result<Option<RepositoryRecord>> {
        let row: Option<RepoRow> = sqlx::query_as(&format!(
            "{REPO_SELECT} WHERE account_id = $1 AND name = $2"
        ))
        .bind(repo.account)
        .bind(repo.name)
        .fetch_optional(&self.reader)
        .await?;
        row.map(record).transpose()
    }

    /// An account's repositories after `last` by name, at most `limit`.
    pub async fn repositories(
        &self,
        account: &str,
        last: Option<&str>,
        limit: i64,
    ) -> Result<Vec<RepositoryRecord>> {
        let rows: Vec<RepoRow> = sqlx::query_as(&format!(
            "{REPO_SELECT} WHERE account_id = $1 AND name > $2 ORDER BY name LIMIT $3"
        ))
        .bind(account)
        .bind(last.unwrap_or(""))
        .bind(limit)
        .fetch_all(&self.reader)
        .await?;
        rows.into_iter().map(record).collect()
    }

    /// Deletes a repository. Unless `force`, refuses (`Ok(false)`) when it still holds images.
    /// Blobs stay for garbage collection; uploads, manifests and tags go with it.
    pub async fn delete_repository(&self, repo: RepoKey<'_>, force: bool) -> Result<bool> {
        let mut tx = self.begin_write_repo(repo).await?;
        let id = repos::existing_id(&mut tx, repo).await?;
        if !force {
            let images: i64 =
                sqlx::query_scalar("SELECT count(*) FROM manifests WHERE repository_id = $1")
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
            if images > 0 {
                return Ok(false);
            }
        }
        if self.dialect == crate::Dialect::Postgres {
            // Deleting the references touches their blob rows (a trigger), which other
            // repositories' writers share: lock them first, in ascending order (`locks.rs`).
            let blobs: Vec<String> = sqlx::query_scalar(
                "SELECT DISTINCT blob_digest FROM manifest_blobs WHERE repository_id = $1
                 ORDER BY blob_digest",
            )
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
            crate::blobs::lock_blob_rows(&mut tx, &blobs).await?;
        }
        // Children first: tags and references point at manifests.
        for sql in [
            "DELETE FROM tags WHERE repository_id = $1",
            "DELETE FROM manifest_children WHERE repository_id = $1",
            "DELETE FROM manifest_blobs WHERE repository_id = $1",
            "DELETE FROM manifests WHERE repository_id = $1",
            "DELETE FROM repository_blobs WHERE repository_id = $1",
            "DELETE FROM uploads WHERE repository_id = $1",
            "DELETE FROM repositories WHERE id = $1",
        ] {
            sqlx::query(sql).bind(id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Replaces the tag-mutability setting.
    pub async fn set_tag_mutability(
        &self,
        repo: RepoKey<'_>,
        mutability: &str,
        exclusions: &[String],
    ) -> Result<()> {
        self.update_repo(
            repo,
            "UPDATE repositories SET image_tag_mutability = $1, mutability_exclusions = $2 WHERE account_id = $3 AND name = $4",
            |q| q.bind(mutability.to_string()).bind(join_filters(exclusions)),
        )
        .await
    }

    /// Replaces the scan-on-push setting.
    pub async fn set_scan_on_push(&self, repo: RepoKey<'_>, scan_on_push: bool) -> Result<()> {
        self.update_repo(
            repo,
            "UPDATE repositories SET scan_on_push = $1 WHERE account_id = $2 AND name = $3",
            |q| q.bind(scan_on_push as i64),
        )
        .await
    }

    /// Sets (`Some`) or removes (`None`) the repository policy.
    pub async fn set_repository_policy(
        &self,
        repo: RepoKey<'_>,
        policy: Option<&str>,
    ) -> Result<()> {
        self.update_repo(
            repo,
            "UPDATE repositories SET policy = $1 WHERE account_id = $2 AND name = $3",
            |q| q.bind(policy.map(str::to_owned)),
        )
        .await
    }

    /// The repository policy, `Ok(None)` when none is set.
    pub async fn repository_policy(&self, repo: RepoKey<'_>) -> Result<Option<String>> {
        let row: Option<Option<String>> = sqlx::query_scalar(
            "SELECT policy FROM repositories WHERE account_id = $1 AND name = $2",
        )
        .bind(repo.account)
        .bind(repo.name)
        .fetch_optional(&self.reader)
        .await?;
        row.ok_or(MetaError::RepositoryNotFound)
    }

    async fn update_repo<'q>(
        &self,
        repo: RepoKey<'q>,
        sql: &'q str,
        bind: impl FnOnce(
            sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
        ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> Result<()> {
        let res = bind(sqlx::query(sql))
            .bind(repo.account)
            .bind(repo.name)
            .execute(&self.writer)
            .await?;
        if res.rows_affected() == 0 {
            return Err(MetaError::RepositoryNotFound);
        }
        Ok(())
    }

    /// A repository's resource tags, sorted by key.
    pub async fn repository_tags(&self, repo: RepoKey<'_>) -> Result<Vec<(String, String)>> {
        let id = self
            .repository_id(repo)
            .await?
            .ok_or(MetaError::RepositoryNotFound)?;
        Ok(sqlx::query_as(
            "SELECT key, value FROM repository_tags WHERE repository_id = $1 ORDER BY key",
        )
        .bind(id)
        .fetch_all(&self.reader)
        .await?)
    }

    /// Adds or overwrites resource tags; fails with `TooManyTags` past `max` tags in all.
    pub async fn tag_repository(
        &self,
        repo: RepoKey<'_>,
        tags: &[(String, String)],
        max: i64,
    ) -> Result<()> {
        let mut tx = self.begin_write_repo(repo).await?;
        let id = repos::existing_id(&mut tx, repo).await?;
        for (k, v) in tags {
            sqlx::query(
                "INSERT INTO repository_tags (repository_id, key, value) VALUES ($1, $2, $3)
                         ON CONFLICT (repository_id, key) DO UPDATE SET value = excluded.value",
            )
            .bind(id)
            .bind(k)
            .bind(v)
            .execute(&mut *tx)
            .await?;
        }
        let count: i64 =
            sqlx::query_scalar("SELECT count(*) FROM repository_tags WHERE repository_id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
        if count > max {
            return Err(MetaError::TooManyTags);
        }
        tx.commit().await?;
        Ok(())
    }

    /// Removes resource tags by key; absent keys are ignored.
    pub async fn untag_repository(&self, repo: RepoKey<'_>, keys: &[String]) -> Result<()> {
        let mut tx = self.begin_write_repo(repo).await?;
        let id = repos::existing_id(&mut tx, repo).await?;
        for k in keys {
            sqlx::query("DELETE FROM repository_tags WHERE repository_id = $1 AND key = $2")
                .bind(id)
                .bind(k)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
