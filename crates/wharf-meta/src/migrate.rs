//! Schema migrations, embedded in the binary and tracked with SQLite's `user_version`.

use sqlx::SqlitePool;

/// Migrations in order; entry `i` brings the schema to version `i + 1`.
const SQLITE: &[&str] = &[
    include_str!("../migrations/sqlite/0001_init.sql"),
    include_str!("../migrations/sqlite/0002_gc.sql"),
    include_str!("../migrations/sqlite/0003_lifecycle.sql"),
];

pub(crate) async fn apply(pool: &SqlitePool) -> Result<(), sqlx::Error> {
    let mut conn = pool.acquire().await?;
    let version: i64 = sqlx::query_scalar("PRAGMA user_version")
        .fetch_one(&mut *conn)
        .await?;
    for (i, sql) in SQLITE.iter().enumerate().skip(version.max(0) as usize) {
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        sqlx::raw_sql(sql).execute(&mut *tx).await?;
        sqlx::raw_sql(&format!("PRAGMA user_version = {}", i + 1))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(version = i + 1, "applied metadata migration");
    }
    Ok(())
}
