//! Schema migrations, embedded in the binary, one list per dialect. SQLite tracks its version in
//! `user_version`; PostgreSQL in the `wharf_schema` table, migrating under a session advisory lock
//! so nodes starting together apply each step once.

use crate::dialect::{Dialect, MIGRATE_LOCK};
use sqlx::{AnyPool, Connection};

/// Migrations in order; entry `i` brings the schema to version `i + 1`.
const SQLITE: &[&str] = &[
    include_str!("../migrations/sqlite/0001_init.sql"),
    include_str!("../migrations/sqlite/0002_gc.sql"),
    include_str!("../migrations/sqlite/0003_lifecycle.sql"),
    include_str!("../migrations/sqlite/0004_jobs.sql"),
    include_str!("../migrations/sqlite/0005_job_queue.sql"),
    include_str!("../migrations/sqlite/0006_scanning.sql"),
    include_str!("../migrations/sqlite/0007_vulndb_pending.sql"),
    // 0008 is another change's; entries, not file names, are versions.
    include_str!("../migrations/sqlite/0009_pull_exclusions.sql"),
];

const POSTGRES: &[&str] = &[
    include_str!("../migrations/postgres/0001_init.sql"),
    include_str!("../migrations/postgres/0002_cache_epoch.sql"),
    include_str!("../migrations/postgres/0003_job_queue.sql"),
    include_str!("../migrations/postgres/0004_scanning.sql"),
    include_str!("../migrations/postgres/0005_vulndb_pending.sql"),
    // 0006 is another change's; entries, not file names, are versions.
    include_str!("../migrations/postgres/0007_pull_exclusions.sql"),
];

/// Brings the schema up to date; returns the versions (before, after).
pub(crate) async fn apply(pool: &AnyPool, dialect: Dialect) -> Result<(i64, i64), sqlx::Error> {
    let mut conn = pool.acquire().await?;
    let steps = match dialect {
        Dialect::Sqlite => SQLITE,
        Dialect::Postgres => {
            sqlx::query("SELECT CAST(pg_advisory_lock($1) AS TEXT)")
                .bind(MIGRATE_LOCK)
                .execute(&mut *conn)
                .await?;
            sqlx::raw_sql("CREATE TABLE IF NOT EXISTS wharf_schema (version BIGINT NOT NULL)")
                .execute(&mut *conn)
                .await?;
            POSTGRES
        }
    };
    let result = async {
        let before: i64 = sqlx::query_scalar(version_query(dialect))
            .fetch_one(&mut *conn)
            .await?;
        for (i, sql) in steps.iter().enumerate().skip(before.max(0) as usize) {
            let version = i as i64 + 1;
            let mut tx = conn.begin().await?;
            sqlx::raw_sql(sql).execute(&mut *tx).await?;
            match dialect {
                Dialect::Sqlite => {
                    sqlx::raw_sql(&format!("PRAGMA user_version = {version}"))
                        .execute(&mut *tx)
                        .await?;
                }
                Dialect::Postgres => {
                    sqlx::query("DELETE FROM wharf_schema")
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("INSERT INTO wharf_schema (version) VALUES ($1)")
                        .bind(version)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            tx.commit().await?;
            tracing::info!(version, ?dialect, "applied metadata migration");
        }
        Ok((before, (steps.len() as i64).max(before)))
    }
    .await;
    if dialect == Dialect::Postgres {
        // Released with the connection anyway; unlocking now lets the next node go at once.
        let _ = sqlx::query("SELECT CAST(pg_advisory_unlock($1) AS TEXT)")
            .bind(MIGRATE_LOCK)
            .execute(&mut *conn)
            .await;
    }
    result
}

/// The schema version the database is at.
pub(crate) async fn version(pool: &AnyPool, dialect: Dialect) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(version_query(dialect))
        .fetch_one(pool)
        .await
}

/// The query reading the schema version.
fn version_query(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => "PRAGMA user_version",
        Dialect::Postgres => "SELECT COALESCE(MAX(version), 0) FROM wharf_schema",
    }
}

/// The newest schema version this build knows for `dialect`.
pub(crate) fn latest(dialect: Dialect) -> i64 {
    match dialect {
        Dialect::Sqlite => SQLITE.len() as i64,
        Dialect::Postgres => POSTGRES.len() as i64,
    }
}
