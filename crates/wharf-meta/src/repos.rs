//! Repositories: creation on first push, lookup and the catalog. A repository belongs to one
//! account; its name is unique within that account.

use crate::{now, MetaStore, RepoKey, Result};
use sqlx::{Any, Transaction};

impl MetaStore {
    /// The id of a repository, if it exists.
    pub async fn repository_id(&self, repo: RepoKey<'_>) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT id FROM repositories WHERE account_id = $1 AND name = $2")
                .bind(repo.account)
                .bind(repo.name)
                .fetch_optional(&self.reader)
                .await?,
        )
    }

    /// An account's repository names after `last` in lexical order, at most `limit` of them.
    pub async fn list_repositories(
        &self,
        account: &str,
        last: Option<&str>,
        limit: i64,
    ) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT name FROM repositories WHERE account_id = $1 AND name > $2 ORDER BY name LIMIT $3",
        )
        .bind(account)
        .bind(last.unwrap_or(""))
        .bind(limit)
        .fetch_all(&self.reader)
        .await?)
    }
}

/// The repository's id inside a write transaction, if it exists.
async fn lookup_id(tx: &mut Transaction<'_, Any>, repo: RepoKey<'_>) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM repositories WHERE account_id = $1 AND name = $2")
            .bind(repo.account)
            .bind(repo.name)
            .fetch_optional(&mut **tx)
            .await?,
    )
}

/// The id of an existing repository inside a write transaction; `RepositoryNotFound` otherwise.
pub(crate) async fn existing_id(tx: &mut Transaction<'_, Any>, repo: RepoKey<'_>) -> Result<i64> {
    lookup_id(tx, repo)
        .await?
        .ok_or(crate::MetaError::RepositoryNotFound)
}

/// Returns the repository's id, creating the repository with default settings if needed, inside
/// a write transaction.
pub(crate) async fn ensure(tx: &mut Transaction<'_, Any>, repo: RepoKey<'_>) -> Result<i64> {
    // Looked up first: the repository nearly always exists, and one read is cheaper than an
    // insert that conflicts (on PostgreSQL that insert would also fire the statement-level
    // cache-epoch lock trigger of `repositories`).
    if let Some(id) = lookup_id(tx, repo).await? {
        return Ok(id);
    }
    sqlx::query(
        "INSERT INTO repositories (account_id, name, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (account_id, name) DO NOTHING",
    )
    .bind(repo.account)
    .bind(repo.name)
    .bind(now())
    .execute(&mut **tx)
    .await?;
    existing_id(tx, repo).await
}
