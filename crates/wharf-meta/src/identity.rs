//! Users, access keys, identity policies and server-wide settings.

use crate::{now, MetaStore, Result};

/// A user as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: i64,
    pub account: String,
    pub name: String,
    pub created_at: i64,
}

/// An access key with its owner, as SigV4 verification needs it.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessKeyRecord {
    pub id: String,
    pub secret: String,
    pub active: bool,
    pub created_at: i64,
    pub user: UserRecord,
}

impl std::fmt::Debug for AccessKeyRecord {
    // The secret never reaches a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessKeyRecord")
            .field("id", &self.id)
            .field("active", &self.active)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

type KeyRow = (String, String, i64, i64, i64, String, String, i64);

fn key_record(
    (id, secret, active, created_at, user_id, account, name, user_created): KeyRow,
) -> AccessKeyRecord {
    AccessKeyRecord {
        id,
        secret,
        active: active != 0,
        created_at,
        user: UserRecord {
            id: user_id,
            account,
            name,
            created_at: user_created,
        },
    }
}

const KEY_SELECT: &str =
    "SELECT k.id, k.secret, k.active, k.created_at, u.id, u.account_id, u.name, u.created_at
     FROM access_keys k JOIN users u ON u.id = k.user_id";

impl MetaStore {
    /// A server-wide setting.
    pub async fn setting(&self, name: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT value FROM settings WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.writer)
                .await?,
        )
    }

    /// Stores `value` under `name` unless a value is there already; returns the stored value. Safe
    /// when several nodes race to initialize the same setting.
    pub async fn init_setting(&self, name: &str, value: &str) -> Result<String> {
        sqlx::query(
            "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(value)
        .execute(&self.writer)
        .await?;
        Ok(
            sqlx::query_scalar("SELECT value FROM settings WHERE name = $1")
                .bind(name)
                .fetch_one(&self.writer)
                .await?,
        )
    }

    /// Creates an account; false if the id is taken.
    pub async fn create_account(&self, id: &str, name: &str) -> Result<bool> {
        let res = sqlx::query(
            "INSERT INTO accounts (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(name)
        .bind(now())
        .execute(&self.writer)
        .await?;
        Ok(res.rows_affected() > 0)
    }

    /// All accounts as (id, name, created_at).
    pub async fn list_accounts(&self) -> Result<Vec<(String, String, i64)>> {
        Ok(
            sqlx::query_as("SELECT id, name, created_at FROM accounts ORDER BY id")
                .fetch_all(&self.reader)
                .await?,
        )
    }

    /// Whether an account exists.
    pub async fn account_exists(&self, id: &str) -> Result<bool> {
        let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM accounts WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.reader)
            .await?;
        Ok(found.is_some())
    }

    /// Creates a user; `None` if the name is taken in that account.
    pub async fn create_user(&self, account: &str, name: &str) -> Result<Option<UserRecord>> {
        let t = now();
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO users (account_id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(account)
        .bind(name)
        .bind(t)
        .fetch_optional(&self.writer)
        .await?;
        Ok(id.map(|id| UserRecord {
            id,
            account: account.to_string(),
            name: name.to_string(),
            created_at: t,
        }))
    }

    /// A user by account and name.
    pub async fn user(&self, account: &str, name: &str) -> Result<Option<UserRecord>> {
        let row: Option<(i64, String, String, i64)> = sqlx::query_as(
            "SELECT id, account_id, name, created_at FROM users WHERE account_id = $1 AND name = $2",
        )
        .bind(account)
        .bind(name)
        .fetch_optional(&self.writer)
        .await?;
        Ok(row.map(|(id, account, name, created_at)| UserRecord {
            id,
            account,
            name,
            created_at,
        }))
    }

    /// A user by id.
    pub async fn user_by_id(&self, id: i64) -> Result<Option<UserRecord>> {
        let row: Option<(i64, String, String, i64)> =
            sqlx::query_as("SELECT id, account_id, name, created_at FROM users WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.reader)
                .await?;
        Ok(row.map(|(id, account, name, created_at)| UserRecord {
            id,
            account,
            name,
            created_at,
        }))
    }

    /// Users of an account, or of every account when `account` is `None`.
    pub async fn list_users(&self, account: Option<&str>) -> Result<Vec<UserRecord>> {
        let rows: Vec<(i64, String, String, i64)> = sqlx::query_as(
            "SELECT id, account_id, name, created_at FROM users WHERE $1 IS NULL OR account_id = $1 ORDER BY account_id, name",
        )
        .bind(account)
        .fetch_all(&self.reader)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, account, name, created_at)| UserRecord {
                id,
                account,
                name,
                created_at,
            })
            .collect())
    }

    /// Deletes a user with its keys and policies.
    pub async fn delete_user(&self, id: i64) -> Result<bool> {
        let res = sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(res.rows_affected() > 0)
    }

    /// Stores a new access key for a user.
    pub async fn create_access_key(&self, user_id: i64, id: &str, secret: &str) -> Result<()> {
        sqlx::query("INSERT INTO access_keys (id, user_id, secret, active, created_at) VALUES ($1, $2, $3, 1, $4)")
            .bind(id)
            .bind(user_id)
            .bind(secret)
            .bind(now())
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// An access key with its user.
    pub async fn access_key(&self, id: &str) -> Result<Option<AccessKeyRecord>> {
        let row: Option<KeyRow> = sqlx::query_as(&format!("{KEY_SELECT} WHERE k.id = $1"))
            .bind(id)
            .fetch_optional(&self.reader)
            .await?;
        Ok(row.map(key_record))
    }

    /// A user's access keys.
    pub async fn list_access_keys(&self, user_id: i64) -> Result<Vec<AccessKeyRecord>> {
        let rows: Vec<KeyRow> = sqlx::query_as(&format!(
            "{KEY_SELECT} WHERE u.id = $1 ORDER BY k.created_at, k.id"
        ))
        .bind(user_id)
        .fetch_all(&self.reader)
        .await?;
        Ok(rows.into_iter().map(key_record).collect())
    }

    /// Activates or deactivates an access key. Returns whether it exists.
    pub async fn set_access_key_active(&self, id: &str, active: bool) -> Result<bool> {
        let res = sqlx::query("UPDATE access_keys SET active = $1 WHERE id = $2")
            .bind(active as i64)
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(res.rows_affected() > 0)
    }

    /// Deletes an access key. Returns whether it existed.
    pub async fn delete_access_key(&self, id: &str) -> Result<bool> {
        let res = sqlx::query("DELETE FROM access_keys WHERE id = $1")
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(res.rows_affected() > 0)
    }

    /// Attaches (or replaces) a named identity policy.
    pub async fn put_user_policy(&self, user_id: i64, name: &str, document: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO user_policies (user_id, name, document) VALUES ($1, $2, $3)
             ON CONFLICT (user_id, name) DO UPDATE SET document = excluded.document",
        )
        .bind(user_id)
        .bind(name)
        .bind(document)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Detaches a named identity policy. Returns whether it was attached.
    pub async fn delete_user_policy(&self, user_id: i64, name: &str) -> Result<bool> {
        let res = sqlx::query("DELETE FROM user_policies WHERE user_id = $1 AND name = $2")
            .bind(user_id)
            .bind(name)
            .execute(&self.writer)
            .await?;
        Ok(res.rows_affected() > 0)
    }

    /// A user's identity policies as (name, document).
    pub async fn user_policies(&self, user_id: i64) -> Result<Vec<(String, String)>> {
        Ok(sqlx::query_as(
            "SELECT name, document FROM user_policies WHERE user_id = $1 ORDER BY name",
        )
        .bind(user_id)
        .fetch_all(&self.reader)
        .await?)
    }
}
