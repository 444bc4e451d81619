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
    include_str!("../migrations/sqlite/0008_encryption.sql"),
    include_str!("../migrations/sqlite/0009_pull_exclusions.sql"),
    include_str!("../migrations/sqlite/0010_audit.sql"),
    include_str!("../migrations/sqlite/0012_replication.sql"),
    // After 0012: an entry's position is its version, and 0012 reached main first.
    include_str!("../migrations/sqlite/0011_ecr_public.sql"),
    include_str!("../migrations/sqlite/0015_replication_backfill.sql"),
    include_str!("../migrations/sqlite/0014_signing.sql"),
    include_str!("../migrations/sqlite/0016_pull_through.sql"),
];

const POSTGRES: &[&str] = &[
    include_str!("../migrations/postgres/0001_init.sql"),
    include_str!("../migrations/postgres/0002_cache_epoch.sql"),
    include_str!("../migrations/postgres/0003_job_queue.sql"),
    include_str!("../migrations/postgres/0004_scanning.sql"),
    include_str!("../migrations/postgres/0005_vulndb_pending.sql"),
    include_str!("../migrations/postgres/0006_encryption.sql"),
    include_str!("../migrations/postgres/0007_pull_exclusions.sql"),
    include_str!("../migrations/postgres/0008_audit.sql"),
    include_str!("../migrations/postgres/0010_replication.sql"),
    // After 0010, for the same reason.
    include_str!("../migrations/postgres/0009_ecr_public.sql"),
    include_str!("../migrations/postgres/0013_replication_backfill.sql"),
    include_str!("../migrations/postgres/0012_signing.sql"),
    include_str!("../migrations/postgres/0014_pull_through.sql"),
    include_str!("../migrations/postgres/0015_repo_locks.sql"),
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

#[cfg(test)]
mod tests {
    //! The step that counts the config in `image_size` fixes rows written before it: an image's
    //! size gains its config's, an index's becomes its largest child's again.

    use super::*;
    use crate::testing;
    use sqlx::any::AnyPoolOptions;

    /// The step that brought the config into `image_size` (entry index, per dialect).
    fn image_size_step(dialect: Dialect) -> usize {
        let steps = match dialect {
            Dialect::Sqlite => SQLITE,
            Dialect::Postgres => POSTGRES,
        };
        steps
            .iter()
            .position(|s| s.contains("pull_time_update_exclusions"))
            .expect("the pull exclusions migration is listed")
    }

    /// Applies the steps before `image_size_step` the way `apply` does, leaving the version there.
    async fn migrate_to_before(pool: &AnyPool, dialect: Dialect) {
        let n = image_size_step(dialect);
        let steps = match dialect {
            Dialect::Sqlite => SQLITE,
            Dialect::Postgres => POSTGRES,
        };
        for sql in &steps[..n] {
            sqlx::raw_sql(sql).execute(pool).await.unwrap();
        }
        match dialect {
            Dialect::Sqlite => {
                sqlx::raw_sql(&format!("PRAGMA user_version = {n}"))
                    .execute(pool)
                    .await
                    .unwrap();
            }
            Dialect::Postgres => {
                sqlx::raw_sql(&format!(
                    "CREATE TABLE wharf_schema (version BIGINT NOT NULL);
                     INSERT INTO wharf_schema (version) VALUES ({n})"
                ))
                .execute(pool)
                .await
                .unwrap();
            }
        }
    }

    fn image(config: usize) -> String {
        format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:{}","size":{config}}},"layers":[]}}"#,
            "a".repeat(64)
        )
    }

    async fn check(pool: &AnyPool, dialect: Dialect) {
        migrate_to_before(pool, dialect).await;
        sqlx::raw_sql(
            "INSERT INTO accounts (id, name, created_at) VALUES ('123456789012', 'a', 0);
             INSERT INTO repositories (id, account_id, name, created_at)
                 VALUES (1, '123456789012', 'app', 0);",
        )
        .execute(pool)
        .await
        .unwrap();
        // Sizes as the old rule wrote them: layers only; the index as its largest child then.
        let index = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#;
        let rows: [(&str, String, i64); 4] = [
            ("sha256:1", image(50), 1000),
            ("sha256:2", image(700), 900),
            ("sha256:3", index.to_owned(), 1000),
            ("sha256:4", index.to_owned(), 0),
        ];
        for (digest, body, size) in &rows {
            sqlx::query(
                "INSERT INTO manifests (repository_id, digest, media_type, size, image_size, body, pushed_at)
                 VALUES (1, $1, 'm', $2, $3, $4, 0)",
            )
            .bind(*digest)
            .bind(body.len() as i64)
            .bind(*size)
            .bind(body.as_bytes().to_vec())
            .execute(pool)
            .await
            .unwrap();
        }
        sqlx::raw_sql(
            "INSERT INTO manifest_children (repository_id, parent_digest, child_digest)
             VALUES (1, 'sha256:3', 'sha256:1'), (1, 'sha256:3', 'sha256:2')",
        )
        .execute(pool)
        .await
        .unwrap();
        apply(pool, dialect).await.unwrap();
        let sizes: Vec<(String, i64)> =
            sqlx::query_as("SELECT digest, image_size FROM manifests ORDER BY digest")
                .fetch_all(pool)
                .await
                .unwrap();
        let want = [
            ("sha256:1", 1050),
            ("sha256:2", 1600),
            // The largest child under the new rule is the other one.
            ("sha256:3", 1600),
            // An index without children keeps its size.
            ("sha256:4", 0),
        ];
        let got: Vec<(&str, i64)> = sizes.iter().map(|(d, s)| (d.as_str(), *s)).collect();
        assert_eq!(got, want, "{dialect:?}");
    }

    #[tokio::test]
    async fn existing_image_sizes_gain_their_config() {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("m.db").display());
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
            .unwrap();
        check(&pool, Dialect::Sqlite).await;
        if let Some(base) = testing::postgres_url() {
            let name = testing::create_database(&base).await.unwrap();
            let pool = AnyPoolOptions::new()
                .max_connections(2)
                .connect(&testing::with_database(&base, &name))
                .await
                .unwrap();
            check(&pool, Dialect::Postgres).await;
        }
    }
}
