//! Replication backfills (ECR's StartReplicationBackfill): one row per backfill of a registry's
//! existing images to one destination, and its items — the images it copies — each with its
//! result once copied. Progress is counted from the items. Nothing caches these rows.

use crate::{now, MetaStore, Result};

/// A backfill as ListReplicationBackfills shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackfillRecord {
    pub id: String,
    pub account_id: String,
    pub region: String,
    pub registry_id: String,
    pub status: String,
    pub failure_code: Option<String>,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    pub total: i64,
    pub completed: i64,
    pub failed: i64,
    /// The distinct failure codes of its failed items.
    pub failure_codes: Vec<String>,
}

/// One image of a backfill and its result (`status` is `None` while it waits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackfillItem {
    pub repository: String,
    pub digest: String,
    pub tag: Option<String>,
    pub status: Option<String>,
    pub failure_code: Option<String>,
}

type Row = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    i64,
    Option<i64>,
);

type ItemRow = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

const COLUMNS: &str =
    "id, account_id, region, registry_id, status, failure_code, started_at, ended_at";

impl MetaStore {
    /// Records a new backfill (status PREPARING) unless one to the same destination is still
    /// running (PREPARING, IN_PROGRESS or STOPPING); returns whether it was recorded.
    pub async fn insert_backfill(
        &self,
        id: &str,
        account: &str,
        (region, registry_id): (&str, &str),
    ) -> Result<bool> {
        let mut tx = self.begin_write_global().await?;
        let running: Option<String> = sqlx::query_scalar(
            "SELECT id FROM replication_backfills WHERE account_id = $1 AND region = $2
             AND registry_id = $3 AND status IN ('PREPARING', 'IN_PROGRESS', 'STOPPING') LIMIT 1",
        )
        .bind(account)
        .bind(region)
        .bind(registry_id)
        .fetch_optional(&mut *tx)
        .await?;
        if running.is_some() {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO replication_backfills (id, account_id, region, registry_id, status, started_at)
             VALUES ($1, $2, $3, $4, 'PREPARING', $5)",
        )
        .bind(id)
        .bind(account)
        .bind(region)
        .bind(registry_id)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// One backfill of the account, with its progress.
    pub async fn backfill(&self, account: &str, id: &str) -> Result<Option<BackfillRecord>> {
        let row: Option<Row> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM replication_backfills WHERE account_id = $1 AND id = $2"
        ))
        .bind(account)
        .bind(id)
        .fetch_optional(&self.reader)
        .await?;
        match row {
            None => Ok(None),
            Some(r) => Ok(Some(self.with_progress(r).await?)),
        }
    }

    /// Up to `limit` backfills of the account, newest first, after the one named `after`.
    pub async fn backfills(
        &self,
        account: &str,
        after: Option<(i64, &str)>,
        limit: i64,
    ) -> Result<Vec<BackfillRecord>> {
        let (at, id) = after.unwrap_or((i64::MAX, ""));
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM replication_backfills WHERE account_id = $1
             AND (started_at < $2 OR (started_at = $3 AND id < $4))
             ORDER BY started_at DESC, id DESC LIMIT $5"
        ))
        .bind(account)
        .bind(at)
        .bind(at)
        .bind(id)
        .bind(limit)
        .fetch_all(&self.reader)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(self.with_progress(r).await?);
        }
        Ok(out)
    }

    async fn with_progress(&self, r: Row) -> Result<BackfillRecord> {
        let (id, account_id, region, registry_id, status, failure_code, started_at, ended_at) = r;
        let (total, completed, failed): (i64, Option<i64>, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*),
                    SUM(CASE WHEN status = 'COMPLETE' THEN 1 ELSE 0 END),
                    SUM(CASE WHEN status = 'FAILED' THEN 1 ELSE 0 END)
             FROM replication_backfill_items WHERE backfill_id = $1",
        )
        .bind(&id)
        .fetch_one(&self.reader)
        .await?;
        let failure_codes: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT failure_code FROM replication_backfill_items
             WHERE backfill_id = $1 AND status = 'FAILED' AND failure_code IS NOT NULL
             ORDER BY failure_code",
        )
        .bind(&id)
        .fetch_all(&self.reader)
        .await?;
        Ok(BackfillRecord {
            id,
            account_id,
            region,
            registry_id,
            status,
            failure_code,
            started_at,
            ended_at,
            total,
            completed: completed.unwrap_or(0),
            failed: failed.unwrap_or(0),
            failure_codes,
        })
    }

    /// Moves a backfill to `status` if it is in one of `from`; a terminal status sets its end
    /// time. Returns whether it moved.
    pub async fn set_backfill_status(
        &self,
        id: &str,
        from: &[&str],
        status: &str,
        failure_code: Option<&str>,
    ) -> Result<bool> {
        let terminal = matches!(status, "COMPLETE" | "FAILED" | "STOPPED");
        let marks = crate::dialect::placeholders(5, from.len());
        let sql = format!(
            "UPDATE replication_backfills SET status = $1, failure_code = $2,
             ended_at = CASE WHEN $3 = 1 THEN $4 ELSE ended_at END
             WHERE id = ${} AND status IN ({marks})",
            5 + from.len()
        );
        let mut q = sqlx::query(&sql)
            .bind(status)
            .bind(failure_code)
            .bind(i64::from(terminal))
            .bind(now());
        for f in from {
            q = q.bind(*f);
        }
        let res = q.bind(id).execute(&self.writer).await?;
        Ok(res.rows_affected() > 0)
    }

    /// Adds images to a backfill (ones already there are kept as they are).
    pub async fn add_backfill_items(
        &self,
        id: &str,
        items: &[(String, String, Option<String>)],
    ) -> Result<()> {
        let mut tx = self.begin_unlocked_write().await?;
        for (repository, digest, tag) in items {
            sqlx::query(
                "INSERT INTO replication_backfill_items (backfill_id, repository_name, manifest_digest, image_tag)
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(repository)
            .bind(digest)
            .bind(tag.as_deref())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Up to `limit` items of a backfill still waiting for their copy.
    pub async fn pending_backfill_items(&self, id: &str, limit: i64) -> Result<Vec<BackfillItem>> {
        self.backfill_items(id, "status IS NULL AND $5 = ''", "", None, limit)
            .await
    }

    /// Records an item's result.
    pub async fn set_backfill_item(
        &self,
        id: &str,
        repository: &str,
        digest: &str,
        status: &str,
        failure_code: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE replication_backfill_items SET status = $1, failure_code = $2
             WHERE backfill_id = $3 AND repository_name = $4 AND manifest_digest = $5",
        )
        .bind(status)
        .bind(failure_code)
        .bind(id)
        .bind(repository)
        .bind(digest)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Up to `limit` finished items (of `status` when given), in (repository, digest) order
    /// after `after`.
    pub async fn backfill_results(
        &self,
        id: &str,
        status: Option<&str>,
        after: Option<(&str, &str)>,
        limit: i64,
    ) -> Result<Vec<BackfillItem>> {
        match status {
            Some(s) => {
                self.backfill_items(id, "status = $5", s, after, limit)
                    .await
            }
            None => {
                self.backfill_items(id, "status IS NOT NULL AND $5 = ''", "", after, limit)
                    .await
            }
        }
    }

    /// Items matching `filter` (SQL over the item's columns, using `$5` bound to `p5`).
    async fn backfill_items(
        &self,
        id: &str,
        filter: &str,
        p5: &str,
        after: Option<(&str, &str)>,
        limit: i64,
    ) -> Result<Vec<BackfillItem>> {
        let (repo, digest) = after.unwrap_or(("", ""));
        let sql = format!(
            "SELECT repository_name, manifest_digest, image_tag, status, failure_code
             FROM replication_backfill_items WHERE backfill_id = $1
             AND (repository_name > $2 OR (repository_name = $3 AND manifest_digest > $4))
             AND {filter}
             ORDER BY repository_name, manifest_digest LIMIT $6"
        );
        let rows: Vec<ItemRow> = sqlx::query_as(&sql)
            .bind(id)
            .bind(repo)
            .bind(repo)
            .bind(digest)
            .bind(p5)
            .bind(limit)
            .fetch_all(&self.reader)
            .await?;
        Ok(rows
            .into_iter()
            .map(
                |(repository, digest, tag, status, failure_code)| BackfillItem {
                    repository,
                    digest,
                    tag,
                    status,
                    failure_code,
                },
            )
            .collect())
    }
}
