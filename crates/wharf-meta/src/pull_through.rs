//! Pull-through cache state: each registry's rules (ECR repository prefix → upstream registry
//! URL, upstream prefix, credential ARN) and the upstream credentials rules name, stored sealed.
//! Nodes keep rules in a short cache of their own, so writes never move the cache epoch.

use crate::{now, MetaStore, Result};

/// One pull-through cache rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullThroughRuleRecord {
    pub account: String,
    /// The ECR repository prefix, without a trailing `/`; `ROOT` for all repositories.
    pub ecr_prefix: String,
    pub upstream_url: String,
    pub upstream_registry: Option<String>,
    /// The upstream repository prefix, without a trailing `/`; `ROOT` for none.
    pub upstream_prefix: String,
    pub credential_arn: Option<String>,
    pub custom_role_arn: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Stored upstream credentials (sealed JSON and the wrap of its key).
#[derive(Clone, PartialEq, Eq)]
pub struct UpstreamSecretRecord {
    pub account: String,
    pub name: String,
    pub secret: Vec<u8>,
    pub key_wrap: Option<Vec<u8>>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl std::fmt::Debug for UpstreamSecretRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamSecretRecord")
            .field("account", &self.account)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

type RuleRow = (
    String,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    i64,
    i64,
);

type SecretRow = (String, String, Vec<u8>, Option<Vec<u8>>, i64, i64);

const RULE_COLUMNS: &str =
    "account_id, ecr_prefix, upstream_url, upstream_registry, upstream_prefix, \
     credential_arn, custom_role_arn, created_at, updated_at";

fn rule(r: RuleRow) -> PullThroughRuleRecord {
    PullThroughRuleRecord {
        account: r.0,
        ecr_prefix: r.1,
        upstream_url: r.2,
        upstream_registry: r.3,
        upstream_prefix: r.4,
        credential_arn: r.5,
        custom_role_arn: r.6,
        created_at: r.7,
        updated_at: r.8,
    }
}

impl MetaStore {
    /// Stores a new rule; false when the account already has one for that prefix.
    pub async fn create_pull_through_rule(&self, r: &PullThroughRuleRecord) -> Result<bool> {
        Ok(sqlx::query(
            "INSERT INTO pull_through_rules (account_id, ecr_prefix, upstream_url, upstream_registry,
                 upstream_prefix, credential_arn, custom_role_arn, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
        )
        .bind(&r.account)
        .bind(&r.ecr_prefix)
        .bind(&r.upstream_url)
        .bind(&r.upstream_registry)
        .bind(&r.upstream_prefix)
        .bind(&r.credential_arn)
        .bind(&r.custom_role_arn)
        .bind(r.created_at)
        .bind(r.updated_at)
        .execute(&self.writer)
        .await?
        .rows_affected()
            > 0)
    }

    /// All rules of an account, by prefix.
    pub async fn pull_through_rules(&self, account: &str) -> Result<Vec<PullThroughRuleRecord>> {
        let rows: Vec<RuleRow> = sqlx::query_as(&format!(
            "SELECT {RULE_COLUMNS} FROM pull_through_rules WHERE account_id = $1 ORDER BY ecr_prefix"
        ))
        .bind(account)
        .fetch_all(&self.reader)
        .await?;
        Ok(rows.into_iter().map(rule).collect())
    }

    /// Changes a rule's credentials; the rule as it is now, `None` when there is none.
    pub async fn update_pull_through_rule(
        &self,
        account: &str,
        ecr_prefix: &str,
        credential_arn: Option<&str>,
        custom_role_arn: Option<&str>,
    ) -> Result<Option<PullThroughRuleRecord>> {
        let row: Option<RuleRow> = sqlx::query_as(&format!(
            "UPDATE pull_through_rules SET credential_arn = $3, custom_role_arn = $4, updated_at = $5
             WHERE account_id = $1 AND ecr_prefix = $2 RETURNING {RULE_COLUMNS}"
        ))
        .bind(account)
        .bind(ecr_prefix)
        .bind(credential_arn)
        .bind(custom_role_arn)
        .bind(now())
        .fetch_optional(&self.writer)
        .await?;
        Ok(row.map(rule))
    }

    /// Removes a rule; the one removed, if there was one.
    pub async fn delete_pull_through_rule(
        &self,
        account: &str,
        ecr_prefix: &str,
    ) -> Result<Option<PullThroughRuleRecord>> {
        let row: Option<RuleRow> = sqlx::query_as(&format!(
            "DELETE FROM pull_through_rules WHERE account_id = $1 AND ecr_prefix = $2
             RETURNING {RULE_COLUMNS}"
        ))
        .bind(account)
        .bind(ecr_prefix)
        .fetch_optional(&self.writer)
        .await?;
        Ok(row.map(rule))
    }

    /// Creates or replaces stored upstream credentials.
    pub async fn put_upstream_secret(&self, s: &UpstreamSecretRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO upstream_secrets (account_id, name, secret, key_wrap, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (account_id, name) DO UPDATE SET secret = excluded.secret,
                 key_wrap = excluded.key_wrap, updated_at = excluded.updated_at",
        )
        .bind(&s.account)
        .bind(&s.name)
        .bind(&s.secret)
        .bind(&s.key_wrap)
        .bind(s.created_at)
        .bind(s.updated_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Stored upstream credentials by name.
    pub async fn upstream_secret(
        &self,
        account: &str,
        name: &str,
    ) -> Result<Option<UpstreamSecretRecord>> {
        let row: Option<SecretRow> = sqlx::query_as(
            "SELECT account_id, name, secret, key_wrap, created_at, updated_at
             FROM upstream_secrets WHERE account_id = $1 AND name = $2",
        )
        .bind(account)
        .bind(name)
        .fetch_optional(&self.reader)
        .await?;
        Ok(row.map(
            |(account, name, secret, key_wrap, created_at, updated_at)| UpstreamSecretRecord {
                account,
                name,
                secret,
                key_wrap,
                created_at,
                updated_at,
            },
        ))
    }

    /// Removes stored upstream credentials; whether there were any.
    pub async fn delete_upstream_secret(&self, account: &str, name: &str) -> Result<bool> {
        Ok(
            sqlx::query("DELETE FROM upstream_secrets WHERE account_id = $1 AND name = $2")
                .bind(account)
                .bind(name)
                .execute(&self.writer)
                .await?
                .rows_affected()
                > 0,
        )
    }
}
