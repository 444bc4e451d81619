//! Registry-level records per account: the registry policy, account settings and repository
//! creation templates.

use crate::{now, MetaStore, Result};

/// A repository creation template; `body` is its settings as JSON, owned by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateRecord {
    pub prefix: String,
    pub body: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl MetaStore {
    pub async fn registry_policy(&self, account: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT document FROM registry_policies WHERE account_id = $1")
                .bind(account)
                .fetch_optional(&self.reader)
                .await?,
        )
    }

    pub async fn put_registry_policy(&self, account: &str, document: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO registry_policies (account_id, document) VALUES ($1, $2)
             ON CONFLICT (account_id) DO UPDATE SET document = excluded.document",
        )
        .bind(account)
        .bind(document)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Removes the registry policy, returning it.
    pub async fn delete_registry_policy(&self, account: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "DELETE FROM registry_policies WHERE account_id = $1 RETURNING document",
        )
        .bind(account)
        .fetch_optional(&self.writer)
        .await?)
    }

    pub async fn account_setting(&self, account: &str, name: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT value FROM account_settings WHERE account_id = $1 AND name = $2",
        )
        .bind(account)
        .bind(name)
        .fetch_optional(&self.reader)
        .await?)
    }

    pub async fn put_account_setting(&self, account: &str, name: &str, value: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO account_settings (account_id, name, value) VALUES ($1, $2, $3)
             ON CONFLICT (account_id, name) DO UPDATE SET value = excluded.value",
        )
        .bind(account)
        .bind(name)
        .bind(value)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Creates a template; false if one with that prefix exists.
    pub async fn create_template(&self, account: &str, prefix: &str, body: &str) -> Result<bool> {
        let t = now();
        let res = sqlx::query(
            "INSERT INTO creation_templates (account_id, prefix, body, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT DO NOTHING",
        )
        .bind(account)
        .bind(prefix)
        .bind(body)
        .bind(t)
        .bind(t)
        .execute(&self.writer)
        .await?;
        Ok(res.rows_affected() > 0)
    }

    /// Replaces a template's body; false if it does not exist.
    pub async fn update_template(&self, account: &str, prefix: &str, body: &str) -> Result<bool> {
        let res = sqlx::query("UPDATE creation_templates SET body = $1, updated_at = $2 WHERE account_id = $3 AND prefix = $4")
            .bind(body)
            .bind(now())
            .bind(account)
            .bind(prefix)
            .execute(&self.writer)
            .await?;
        Ok(res.rows_affected() > 0)
    }

    /// Deletes a template, returning it.
    pub async fn delete_template(
        &self,
        account: &str,
        prefix: &str,
    ) -> Result<Option<TemplateRecord>> {
        let row: Option<(String, String, i64, i64)> = sqlx::query_as(
            "DELETE FROM creation_templates WHERE account_id = $1 AND prefix = $2 RETURNING prefix, body, created_at, updated_at",
        )
        .bind(account)
        .bind(prefix)
        .fetch_optional(&self.writer)
        .await?;
        Ok(
            row.map(|(prefix, body, created_at, updated_at)| TemplateRecord {
                prefix,
                body,
                created_at,
                updated_at,
            }),
        )
    }

    /// An account's templates, sorted by prefix.
    pub async fn templates(&self, account: &str) -> Result<Vec<TemplateRecord>> {
        let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
            "SELECT prefix, body, created_at, updated_at FROM creation_templates WHERE account_id = $1 ORDER BY prefix",
        )
        .bind(account)
        .fetch_all(&self.reader)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(prefix, body, created_at, updated_at)| TemplateRecord {
                prefix,
                body,
                created_at,
                updated_at,
            })
            .collect())
    }
}
