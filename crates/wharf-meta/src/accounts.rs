//! Accounts and server-wide settings. The first start creates a default account with a random
//! 12-digit id and remembers it in `settings`.

use crate::{now, Result};
use sqlx::SqlitePool;

/// Returns the default account's id, creating the account on first start.
pub(crate) async fn bootstrap_default(pool: &SqlitePool) -> Result<String> {
    let mut tx = pool.begin().await?;
    let existing: Option<String> =
        sqlx::query_scalar("SELECT value FROM settings WHERE name = 'default_account'")
            .fetch_optional(&mut *tx)
            .await?;
    if let Some(id) = existing {
        return Ok(id);
    }
    // SQLite's random() is a 64-bit PRNG; 12 digits with no leading zero, like AWS account ids.
    let id: String =
        sqlx::query_scalar("SELECT CAST(100000000000 + (abs(random()) % 900000000000) AS TEXT)")
            .fetch_one(&mut *tx)
            .await?;
    sqlx::query("INSERT INTO accounts (id, name, created_at) VALUES (?, 'default', ?)")
        .bind(&id)
        .bind(now())
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO settings (name, value) VALUES ('default_account', ?)")
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    tracing::info!(account = %id, "created the default account");
    Ok(id)
}
