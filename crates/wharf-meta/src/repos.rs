//! Repositories: creation on first push, lookup and the catalog.

use crate::{now, MetaStore, Result};
use sqlx::{Sqlite, Transaction};

impl MetaStore {
    /// The id of a repository, if it exists.
    pub async fn repository_id(&self, name: &str) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT id FROM repositories WHERE name = ?")
                .bind(name)
                .fetch_optional(&self.reader)
                .await?,
        )
    }

    /// Repository names after `last` in lexical order, at most `limit` of them.
    pub async fn list_repositories(&self, last: Option<&str>, limit: i64) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar(
                "SELECT name FROM repositories WHERE name > ? ORDER BY name LIMIT ?",
            )
            .bind(last.unwrap_or(""))
            .bind(limit)
            .fetch_all(&self.reader)
            .await?,
        )
    }
}

/// Returns the repository's id, creating the repository if needed, inside a write transaction.
pub(crate) async fn ensure(tx: &mut Transaction<'_, Sqlite>, name: &str) -> Result<i64> {
    sqlx::query(
        "INSERT INTO repositories (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(now())
    .execute(&mut **tx)
    .await?;
    Ok(
        sqlx::query_scalar("SELECT id FROM repositories WHERE name = ?")
            .bind(name)
            .fetch_one(&mut **tx)
            .await?,
    )
}
