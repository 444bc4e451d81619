//! Test support for this and other crates' tests: a fresh store per test on the backend the
//! environment picks, so one suite runs on SQLite and on PostgreSQL. Not for production code.
//!
//! `WHARF_TEST_POSTGRES_URL` (a role allowed to create databases) selects PostgreSQL: each test
//! directory gets a database of its own, created on first use and reopened after a restart.

use crate::{MetaStore, Result};
use std::path::Path;

/// The environment variable naming the PostgreSQL server tests use.
pub const POSTGRES_ENV: &str = "WHARF_TEST_POSTGRES_URL";

/// The PostgreSQL URL tests should use, if any.
pub fn postgres_url() -> Option<String> {
    std::env::var(POSTGRES_ENV)
        .ok()
        .filter(|u| !u.trim().is_empty())
}

/// Opens the store of the test directory `dir`: SQLite in `dir`, or with
/// `WHARF_TEST_POSTGRES_URL` a PostgreSQL database of `dir`'s own (its name kept in `dir`).
pub async fn store(dir: &Path) -> MetaStore {
    match postgres_url() {
        Some(base) => {
            let marker = dir.join("postgres-database");
            let name = match std::fs::read_to_string(&marker) {
                Ok(name) => name,
                Err(_) => {
                    let name = create_database(&base).await.expect("create test database");
                    std::fs::write(&marker, &name).expect("remember test database");
                    name
                }
            };
            MetaStore::open_postgres(&with_database(&base, &name))
                .await
                .expect("open PostgreSQL test store")
        }
        None => MetaStore::open_sqlite(&dir.join("meta.db"))
            .await
            .expect("open SQLite test store"),
    }
}

/// Creates an empty database with a random name on the server `base` points at; returns the name.
pub async fn create_database(base: &str) -> Result<String> {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("randomness");
    let name = format!("wharf_test_{:016x}", u64::from_le_bytes(bytes));
    let mut conn = sqlx::AnyConnection::connect(base).await?;
    sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(name)
}

/// `base` with its database name replaced by `name`.
pub fn with_database(base: &str, name: &str) -> String {
    let (scheme, rest) = base.split_once("://").expect("a URL");
    let (before_query, query) = match rest.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (rest, None),
    };
    let authority = before_query.split('/').next().unwrap_or(before_query);
    let mut url = format!("{scheme}://{authority}/{name}");
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

/// Sets a manifest's push time (lifecycle tests age images).
pub async fn set_pushed_at(store: &MetaStore, digest: &str, at: i64) -> Result<()> {
    sqlx::query("UPDATE manifests SET pushed_at = $1 WHERE digest = $2")
        .bind(at)
        .bind(digest)
        .execute(&store.writer)
        .await?;
    Ok(())
}

/// Moves an image's last use back to `at` (scan eligibility tests): its push time, its pull
/// time when it was pulled, and its scan's request time when it has a scan.
pub async fn age_image(store: &MetaStore, digest: &str, at: i64) -> Result<()> {
    sqlx::query(
        "UPDATE manifests SET pushed_at = $1,
             last_pulled_at = CASE WHEN last_pulled_at IS NULL THEN NULL ELSE $1 END
         WHERE digest = $2",
    )
    .bind(at)
    .bind(digest)
    .execute(&store.writer)
    .await?;
    sqlx::query("UPDATE image_scans SET requested_at = $1 WHERE manifest_digest = $2")
        .bind(at)
        .bind(digest)
        .execute(&store.writer)
        .await?;
    Ok(())
}

/// A manifest's stored bytes, whatever its status.
pub async fn manifest_body(store: &MetaStore, digest: &str) -> Result<Vec<u8>> {
    Ok(
        sqlx::query_scalar("SELECT body FROM manifests WHERE digest = $1")
            .bind(digest)
            .fetch_one(&store.reader)
            .await?,
    )
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_names_are_replaced() {
        assert_eq!(
            with_database("postgres://u:p@h:5/wharf?sslmode=disable", "t1"),
            "postgres://u:p@h:5/t1?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "t2"), "postgres://h/t2");
    }
}
