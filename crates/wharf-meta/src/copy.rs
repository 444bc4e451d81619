//! Copying a whole metadata store into another one, across backends (`wharf migrate-storage`:
//! SQLite to PostgreSQL, or any other pair), with the row counts that verify it.
//!
//! The copy is generic: [`TABLES`] lists every migrated table in foreign-key order with its
//! columns and their kinds, and rows travel as decoded values, page by page in primary-key order
//! (keyset paging), so adding a column means adding it to the list. Ids (`users.id`,
//! `repositories.id`) are kept as they are; on PostgreSQL the identity sequences are moved past
//! them afterwards.
//!
//! What is not copied, on purpose:
//! - `uploads`: uploads in progress are not migrated (their scratch bytes stay in the old blob
//!   store); clients restart them. Their data keys' wraps are copied (with every `data_keys`
//!   row) and pruned later in the target as unused.
//! - `gc_lease` and `jobs`: per-installation coordination state that the new installation
//!   builds up by itself.
//! - `job_queue`: background work of the old installation; periodic jobs are enqueued again by
//!   the new one's scheduler. The one exception is made up for, not copied: every scan still
//!   `IN_PROGRESS` gets a fresh `image_scan` job in the target, since without its job it would
//!   never finish.
//!
//! The whole target side is one write transaction: it either holds the complete copy or nothing.
//! The source is read inside one read transaction (a snapshot on both backends), so the copy is
//! consistent even if something writes to the source meanwhile — though such writes are then not
//! copied, which is why the source server should be stopped first.

use crate::dialect::{placeholders, Dialect};
use crate::{MetaError, MetaStore, Result};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::copy_tables::{Kind, Table, TABLES};
use Kind::{Bytes, Int, Text};

/// Tables a fresh store fills by itself (the default account and its settings row): the copy
/// replaces them, so they may hold rows in the target.
const BOOTSTRAP_TABLES: &[&str] = &["settings", "accounts"];

/// Tables whose identity sequence must move past the copied ids on PostgreSQL.
const IDENTITY_TABLES: &[&str] = &["users", "repositories", "audit_events"];

/// Most bound parameters one INSERT carries (SQLite's historical limit is 999).
const MAX_PARAMS: usize = 900;

/// Rows read per page: fewer for tables carrying manifest bodies (up to 4 MiB each; the wrapped
/// data keys are a few hundred bytes).
fn page_size(table: &Table) -> i64 {
    if table
        .columns
        .iter()
        .any(|(c, k)| *k == Bytes && *c == "body")
    {
        64
    } else {
        1000
    }
}

/// What [`MetaStore::copy_into`] copied: rows per table, in copy order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyReport {
    /// `(table, rows copied)` for every migrated table, in foreign-key order.
    pub tables: Vec<(String, i64)>,
    /// `IN_PROGRESS` scans given a new `image_scan` job in the target.
    pub requeued_scans: i64,
}

impl CopyReport {
    /// The rows copied into `table` (0 for a table not migrated).
    pub fn rows(&self, table: &str) -> i64 {
        self.tables
            .iter()
            .find(|(t, _)| t == table)
            .map_or(0, |(_, n)| *n)
    }

    /// The rows copied in all.
    pub fn total(&self) -> i64 {
        self.tables.iter().map(|(_, n)| n).sum()
    }
}

/// One decoded column value.
#[derive(Debug, Clone)]
enum Value {
    Int(Option<i64>),
    Text(Option<String>),
    Bytes(Option<Vec<u8>>),
}

fn decode(row: &AnyRow, index: usize, kind: Kind) -> sqlx::Result<Value> {
    Ok(match kind {
        Int => Value::Int(row.try_get(index)?),
        Text => Value::Text(row.try_get(index)?),
        Bytes => Value::Bytes(row.try_get(index)?),
    })
}

fn bind<'q>(
    query: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
    value: &Value,
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>> {
    match value {
        Value::Int(v) => query.bind(*v),
        Value::Text(v) => query.bind(v.clone()),
        Value::Bytes(v) => query.bind(v.clone()),
    }
}

fn not_empty(table: &str, rows: i64) -> MetaError {
    MetaError::NotEmpty {
        table: table.to_string(),
        rows,
    }
}

impl MetaStore {
    /// Copies every row of this store into `target`, which must hold nothing but what opening it
    /// created (its default account and settings rows: those are replaced by this store's, so
    /// afterwards the target's default account, token key and every id equal the source's).
    /// Refuses, writing nothing, when the target holds any user, repository, blob, policy or
    /// other record.
    ///
    /// In-progress uploads are not migrated, nor the garbage-collection lease or the job
    /// timestamps (see the module comment). The target side is one transaction; the source is
    /// read from one snapshot.
    ///
    /// Blob bytes are not this crate's business: copy them to the target's blob store *before*
    /// calling this, so no row points at bytes that are not there.
    ///
    /// The `target` handle's in-memory default account is stale afterwards (it still names the
    /// account the copy replaced): close it and open the store again before using it.
    pub async fn copy_into(&self, target: &MetaStore) -> Result<CopyReport> {
        let mut source = self.reader.begin().await?;
        if self.dialect == Dialect::Postgres {
            // One snapshot for every page of every table (SQLite's read transaction is one).
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *source)
                .await?;
        }
        let mut tx = target.begin_write_global().await?;
        if target.dialect == Dialect::Postgres {
            // The cache-epoch bump is a deferred trigger (migration 0015): deferred, every copied
            // tag, manifest and repository row would queue an event in memory until commit.
            // Fired per statement instead, the first bumps and the rest return at once.
            sqlx::query("SET CONSTRAINTS ALL IMMEDIATE")
                .execute(&mut *tx)
                .await?;
        }
        ensure_empty(&mut tx).await?;
        // The target's own bootstrap rows give way to the source's (nothing else refers to them:
        // every other table is empty).
        for table in BOOTSTRAP_TABLES.iter().rev() {
            sqlx::query(&format!("DELETE FROM {table}"))
                .execute(&mut *tx)
                .await?;
        }
        let mut report = CopyReport::default();
        for table in TABLES {
            let rows = copy_table(table, &mut source, &mut tx).await?;
            tracing::debug!(table = table.name, rows, "copied metadata table");
            report.tables.push((table.name.to_string(), rows));
        }
        report.requeued_scans = requeue_interrupted_scans(&mut tx).await?;
        if target.dialect == Dialect::Postgres {
            for table in IDENTITY_TABLES {
                // The next generated id follows the largest copied one. CAST: the Any driver
                // cannot decode every PostgreSQL type.
                sqlx::query(&format!(
                    "SELECT CAST(setval(pg_get_serial_sequence('{table}', 'id'),
                        COALESCE(MAX(id), 0) + 1, false) AS BIGINT) FROM {table}"
                ))
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        source.rollback().await?;
        Ok(report)
    }

    /// `NotEmpty` unless this store holds nothing but what opening it created: what `copy_into`
    /// requires of its target (and checks again inside its transaction).
    pub async fn ensure_empty(&self) -> Result<()> {
        let mut tx = self.reader.begin().await?;
        ensure_empty(&mut tx).await
    }

    /// Every migrated table with its row count, in copy order: what a copy must reproduce.
    pub async fn table_counts(&self) -> Result<Vec<(String, i64)>> {
        let mut out = Vec::with_capacity(TABLES.len());
        for table in TABLES {
            let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {}", table.name))
                .fetch_one(&self.reader)
                .await?;
            out.push((table.name.to_string(), n));
        }
        Ok(out)
    }

    /// Recorded blobs as `(digest, size)` after `after` in digest order, at most `limit`: how a
    /// migration walks the blobs whose bytes it must copy.
    pub async fn blob_digests(
        &self,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<(String, i64)>> {
        Ok(sqlx::query_as(
            "SELECT digest, size FROM blobs WHERE digest > $1 ORDER BY digest LIMIT $2",
        )
        .bind(after.unwrap_or(""))
        .bind(limit)
        .fetch_all(&self.reader)
        .await?)
    }
}

/// Fails unless every migrated table but the bootstrap ones is empty and `accounts` holds at
/// most the default account.
/// Queues an `image_scan` job for every copied scan still `IN_PROGRESS` (its job stayed in the
/// source's queue); answers how many were queued. The job is written as wharf-core's
/// `JobKind::ImageScan` writes it (this crate cannot name that type): kind `image_scan`, payload
/// `{"kind":"image_scan","account":…,"repository":…,"digest":…}` and dedupe key
/// `image_scan:<account>/<repository>@<digest>`.
async fn requeue_interrupted_scans(tx: &mut Transaction<'static, Any>) -> Result<i64> {
    let scans: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT r.account_id, r.name, s.manifest_digest
         FROM image_scans s JOIN repositories r ON r.id = s.repository_id
         WHERE s.status = 'IN_PROGRESS'
         ORDER BY r.account_id, r.name, s.manifest_digest",
    )
    .fetch_all(&mut **tx)
    .await?;
    let at = crate::now();
    let mut queued = 0;
    for (account, repository, digest) in scans {
        // Field for field in the order serde gives JobKind's, so the row reads as core's own.
        let text = |s: &str| serde_json::Value::from(s).to_string();
        let payload = format!(
            r#"{{"kind":"image_scan","account":{},"repository":{},"digest":{}}}"#,
            text(&account),
            text(&repository),
            text(&digest)
        );
        let job = crate::NewJob::new("image_scan", payload)
            .dedupe(format!("image_scan:{account}/{repository}@{digest}"));
        if crate::queue::insert(&mut **tx, &job, at).await?.is_some() {
            queued += 1;
        }
    }
    Ok(queued)
}

async fn ensure_empty(tx: &mut Transaction<'static, Any>) -> Result<()> {
    for table in TABLES {
        if BOOTSTRAP_TABLES.contains(&table.name) {
            continue;
        }
        let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {}", table.name))
            .fetch_one(&mut **tx)
            .await?;
        if n > 0 {
            return Err(not_empty(table.name, n));
        }
    }
    let others: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM accounts WHERE id NOT IN
            (SELECT value FROM settings WHERE name = 'default_account')",
    )
    .fetch_one(&mut **tx)
    .await?;
    if others > 0 {
        return Err(not_empty("accounts", others));
    }
    Ok(())
}

/// Copies one table page by page in primary-key order; returns the rows copied.
async fn copy_table(
    table: &Table,
    source: &mut Transaction<'static, Any>,
    target: &mut Transaction<'static, Any>,
) -> Result<i64> {
    let columns = table
        .columns
        .iter()
        .map(|(c, _)| *c)
        .collect::<Vec<_>>()
        .join(", ");
    let key = table.key.join(", ");
    let key_at: Vec<usize> = table
        .key
        .iter()
        .map(|k| {
            table
                .columns
                .iter()
                .position(|(c, _)| c == k)
                .expect("key columns are listed among the columns")
        })
        .collect();
    let limit = page_size(table);
    let first = format!(
        "SELECT {columns} FROM {} ORDER BY {key} LIMIT $1",
        table.name
    );
    // Keyset paging: row-value comparison on the primary key (SQLite and PostgreSQL both have it).
    let next = format!(
        "SELECT {columns} FROM {} WHERE ({key}) > ({}) ORDER BY {key} LIMIT ${}",
        table.name,
        placeholders(1, key_at.len()),
        key_at.len() + 1
    );
    let mut last: Option<Vec<Value>> = None;
    let mut copied = 0i64;
    loop {
        let rows: Vec<AnyRow> = match &last {
            None => {
                sqlx::query(&first)
                    .bind(limit)
                    .fetch_all(&mut **source)
                    .await?
            }
            Some(key_values) => {
                let mut q = sqlx::query(&next);
                for v in key_values {
                    q = bind(q, v);
                }
                q.bind(limit).fetch_all(&mut **source).await?
            }
        };
        let mut page = Vec::with_capacity(rows.len());
        for row in &rows {
            let values = table
                .columns
                .iter()
                .enumerate()
                .map(|(i, (_, kind))| decode(row, i, *kind))
                .collect::<sqlx::Result<Vec<Value>>>()?;
            page.push(values);
        }
        insert(table, &columns, &page, target).await?;
        copied += page.len() as i64;
        if (page.len() as i64) < limit {
            return Ok(copied);
        }
        let end = page.last().expect("a full page has a last row");
        last = Some(key_at.iter().map(|&i| end[i].clone()).collect());
    }
}

/// Inserts `rows` with multi-row INSERTs of at most [`MAX_PARAMS`] parameters each.
async fn insert(
    table: &Table,
    columns: &str,
    rows: &[Vec<Value>],
    target: &mut Transaction<'static, Any>,
) -> Result<()> {
    let width = table.columns.len();
    let per_insert = (MAX_PARAMS / width).max(1);
    for chunk in rows.chunks(per_insert) {
        let values = (0..chunk.len())
            .map(|r| format!("({})", placeholders(r * width + 1, width)))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("INSERT INTO {} ({columns}) VALUES {values}", table.name);
        let mut q = sqlx::query(&sql);
        for row in chunk {
            for v in row {
                q = bind(q, v);
            }
        }
        q.execute(&mut **target).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_a_column_and_pages_fit() {
        for t in TABLES {
            for k in t.key {
                assert!(
                    t.columns.iter().any(|(c, _)| c == k),
                    "{}: key {k} not listed",
                    t.name
                );
            }
            assert!(t.columns.len() <= MAX_PARAMS);
            assert!(page_size(t) > 0);
        }
        for b in BOOTSTRAP_TABLES.iter().chain(IDENTITY_TABLES) {
            assert!(TABLES.iter().any(|t| t.name == *b), "{b} is migrated");
        }
    }
}
