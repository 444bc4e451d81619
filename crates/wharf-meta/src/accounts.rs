//! Accounts and server-wide settings. The first start creates a default account with a random
//! 12-digit id and remembers it in `settings`.

use crate::{locks, now, Dialect, MetaError, Result};
use sqlx::AnyPool;

/// Returns the default account's id, creating the account on first start (once, even when many
/// nodes start together: the check and the insert share one write transaction).
pub(crate) async fn bootstrap_default(pool: &AnyPool, dialect: Dialect) -> Result<String> {
    let mut tx = pool.begin().await?;
    locks::take(&mut tx, dialect, &locks::WriteScope::Global).await?;
    let existing: Option<String> =
        sqlx::query_scalar("SELECT value FROM settings WHERE name = 'default_account'")
            .fetch_optional(&mut *tx)
            .await?;
    if let Some(id) = existing {
        return Ok(id);
    }
    // 12 digits with no leading zero, like AWS account ids.
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| MetaError::Corrupt(format!("no randomness: {e}")))?;
    let id = (100_000_000_000 + u64::from_le_bytes(bytes) % 900_000_000_000).to_string();
    sqlx::query("INSERT INTO accounts (id, name, created_at) VALUES ($1, 'default', $2)")
        .bind(&id)
        .bind(now())
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO settings (name, value) VALUES ('default_account', $1)")
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    tracing::info!(account = %id, "created the default account");
    Ok(id)
}
