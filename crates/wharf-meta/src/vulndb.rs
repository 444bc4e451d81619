//! The vulnerability database: OSV advisories as imported, the (ecosystem, package name) keys
//! each is filed under, and when the database last changed.
//!
//! Imports write in batches, one transaction per batch: a batch's advisories are compared with
//! what is stored (by their exact text), and only new or changed ones are written, stamped with
//! the import's time so continuous scanning can find the images they concern. The same
//! transaction files every key a written advisory is (or was) filed under as pending, so the
//! rescans an import owes survive an import that fails before it finishes.

use crate::dialect::placeholders;
use crate::locks::{LockKey, WriteScope};
use crate::{MetaStore, Result};
use std::collections::HashMap;

/// An advisory to store: its id, OSV `modified` time, the document text and its lookup keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAdvisory {
    pub id: String,
    pub modified: String,
    pub document: String,
    pub keys: Vec<(String, String)>,
}

/// What a batch upsert did, per document of the batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpsertCounts {
    pub new: u64,
    pub updated: u64,
    pub unchanged: u64,
}

/// An advisory filed under a lookup key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdvisoryHit {
    pub ecosystem: String,
    pub name: String,
    pub id: String,
    pub document: String,
}

/// The database's size and last change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VulnDbCounts {
    pub advisories: i64,
    /// Distinct (ecosystem, package name) keys.
    pub keys: i64,
    /// Advisories per ecosystem, by ecosystem name.
    pub ecosystems: Vec<(String, i64)>,
    pub updated_at: Option<i64>,
}

/// Ids per existence query, keys per lookup query, rows per multi-row insert.
const IDS_PER_QUERY: usize = 500;
const KEYS_PER_LOOKUP: usize = 200;
const ADVISORIES_PER_INSERT: usize = 200;
const KEY_ROWS_PER_INSERT: usize = 300;
const PENDING_ROWS_PER_INSERT: usize = 400;

impl MetaStore {
    /// Stores a batch of advisories in one transaction: new ids are inserted, changed documents
    /// replace the stored ones (with their keys), identical ones are left alone. An id repeated
    /// in the batch counts once per occurrence, the last one winning. Written rows get
    /// `changed_at`.
    pub async fn upsert_advisories(
        &self,
        batch: &[NewAdvisory],
        changed_at: i64,
    ) -> Result<UpsertCounts> {
        let mut tx = self
            .begin_write_scoped(&WriteScope::keys([LockKey::vulndb()]))
            .await?;
        // What the database holds for the batch's ids.
        let mut stored: HashMap<String, String> = HashMap::new();
        let ids: Vec<&str> = batch.iter().map(|a| a.id.as_str()).collect();
        for chunk in ids.chunks(IDS_PER_QUERY) {
            let sql = format!(
                "SELECT id, document FROM advisories WHERE id IN ({})",
                placeholders(1, chunk.len())
            );
            let mut q = sqlx::query_as::<_, (String, String)>(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            stored.extend(q.fetch_all(&mut *tx).await?);
        }
        let mut counts = UpsertCounts::default();
        // The latest document per id in this batch, in first-seen order.
        let mut current: HashMap<&str, &NewAdvisory> = HashMap::new();
        let mut order: Vec<&str> = Vec::new();
        for a in batch {
            let before = current
                .get(a.id.as_str())
                .map(|p| p.document.as_str())
                .or_else(|| stored.get(&a.id).map(String::as_str));
            match before {
                None => counts.new += 1,
                Some(doc) if doc == a.document => counts.unchanged += 1,
                Some(_) => counts.updated += 1,
            }
            if current.insert(&a.id, a).is_none() {
                order.push(&a.id);
            }
        }
        let mut inserts = Vec::new();
        let mut updates = Vec::new();
        for id in order {
            let Some(a) = current.get(id) else { continue };
            match stored.get(id) {
                None => inserts.push(*a),
                Some(doc) if *doc != a.document => updates.push(*a),
                Some(_) => {}
            }
        }
        // Every key a written advisory is filed under, or was filed under before this change
        // (a dropped or renamed package still has images to re-match), becomes pending.
        let mut pending: Vec<(String, String)> = Vec::new();
        for a in &updates {
            let old: Vec<(String, String)> =
                sqlx::query_as("SELECT ecosystem, name FROM advisory_keys WHERE advisory_id = $1")
                    .bind(&a.id)
                    .fetch_all(&mut *tx)
                    .await?;
            pending.extend(old);
            sqlx::query(
                "UPDATE advisories SET modified = $1, document = $2, changed_at = $3 WHERE id = $4",
            )
            .bind(&a.modified)
            .bind(&a.document)
            .bind(changed_at)
            .bind(&a.id)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM advisory_keys WHERE advisory_id = $1")
                .bind(&a.id)
                .execute(&mut *tx)
                .await?;
        }
        for chunk in inserts.chunks(ADVISORIES_PER_INSERT) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| format!("({})", placeholders(i * 4 + 1, 4)))
                .collect();
            let sql = format!(
                "INSERT INTO advisories (id, modified, document, changed_at) VALUES {}",
                values.join(",")
            );
            let mut q = sqlx::query(&sql);
            for a in chunk {
                q = q
                    .bind(&a.id)
                    .bind(&a.modified)
                    .bind(&a.document)
                    .bind(changed_at);
            }
            q.execute(&mut *tx).await?;
        }
        let mut key_rows: Vec<(&str, &str, &str)> = inserts
            .iter()
            .chain(updates.iter())
            .flat_map(|a| {
                a.keys
                    .iter()
                    .map(|(e, n)| (e.as_str(), n.as_str(), a.id.as_str()))
            })
            .collect();
        key_rows.sort_unstable();
        key_rows.dedup();
        for chunk in key_rows.chunks(KEY_ROWS_PER_INSERT) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| format!("({})", placeholders(i * 3 + 1, 3)))
                .collect();
            let sql = format!(
                "INSERT INTO advisory_keys (ecosystem, name, advisory_id) VALUES {}",
                values.join(",")
            );
            let mut q = sqlx::query(&sql);
            for (e, n, id) in chunk {
                q = q.bind(*e).bind(*n).bind(*id);
            }
            q.execute(&mut *tx).await?;
        }
        pending.extend(
            key_rows
                .iter()
                .map(|(e, n, _)| (e.to_string(), n.to_string())),
        );
        pending.sort_unstable();
        pending.dedup();
        for chunk in pending.chunks(PENDING_ROWS_PER_INSERT) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| format!("({})", placeholders(i * 2 + 1, 2)))
                .collect();
            let sql = format!(
                "INSERT INTO vulndb_pending_keys (ecosystem, name) VALUES {}
                 ON CONFLICT (ecosystem, name) DO NOTHING",
                values.join(",")
            );
            let mut q = sqlx::query(&sql);
            for (e, n) in chunk {
                q = q.bind(e).bind(n);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(counts)
    }

    /// The lookup keys imports wrote advisories under (or took them off) whose images have not
    /// yet been queued for rescanning, ordered.
    pub async fn vulndb_pending_keys(&self) -> Result<Vec<(String, String)>> {
        Ok(sqlx::query_as(
            "SELECT ecosystem, name FROM vulndb_pending_keys ORDER BY ecosystem, name",
        )
        .fetch_all(&self.reader)
        .await?)
    }

    /// Takes `keys` off the pending list, once their images have been queued for rescanning.
    pub async fn clear_vulndb_pending_keys(&self, keys: &[(String, String)]) -> Result<()> {
        let mut tx = self
            .begin_write_scoped(&WriteScope::keys([LockKey::vulndb()]))
            .await?;
        for chunk in keys.chunks(KEYS_PER_LOOKUP) {
            let conditions: Vec<String> = (0..chunk.len())
                .map(|i| format!("(ecosystem = ${} AND name = ${})", i * 2 + 1, i * 2 + 2))
                .collect();
            let sql = format!(
                "DELETE FROM vulndb_pending_keys WHERE {}",
                conditions.join(" OR ")
            );
            let mut q = sqlx::query(&sql);
            for (e, n) in chunk {
                q = q.bind(e).bind(n);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The advisories filed under any of `keys`, one hit per (key, advisory), ordered by key
    /// and id.
    pub async fn advisories_for_keys(&self, keys: &[(String, String)]) -> Result<Vec<AdvisoryHit>> {
        let mut out = Vec::new();
        for chunk in keys.chunks(KEYS_PER_LOOKUP) {
            let conditions: Vec<String> = (0..chunk.len())
                .map(|i| format!("(k.ecosystem = ${} AND k.name = ${})", i * 2 + 1, i * 2 + 2))
                .collect();
            let sql = format!(
                "SELECT k.ecosystem, k.name, a.id, a.document FROM advisory_keys k
                 JOIN advisories a ON a.id = k.advisory_id WHERE {}",
                conditions.join(" OR ")
            );
            let mut q = sqlx::query_as::<_, (String, String, String, String)>(&sql);
            for (e, n) in chunk {
                q = q.bind(e).bind(n);
            }
            for (ecosystem, name, id, document) in q.fetch_all(&self.reader).await? {
                out.push(AdvisoryHit {
                    ecosystem,
                    name,
                    id,
                    document,
                });
            }
        }
        out.sort_by(|a, b| (&a.ecosystem, &a.name, &a.id).cmp(&(&b.ecosystem, &b.name, &b.id)));
        out.dedup_by(|a, b| a.ecosystem == b.ecosystem && a.name == b.name && a.id == b.id);
        Ok(out)
    }

    /// One advisory's document.
    pub async fn advisory(&self, id: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT document FROM advisories WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.reader)
                .await?,
        )
    }

    /// Records when the database last changed.
    pub async fn set_vulndb_updated(&self, at: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO vulndb_state (id, updated_at) VALUES (1, $1)
             ON CONFLICT (id) DO UPDATE SET updated_at = excluded.updated_at",
        )
        .bind(at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// When the database last changed, if ever.
    pub async fn vulndb_updated_at(&self) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT updated_at FROM vulndb_state WHERE id = 1")
                .fetch_optional(&self.reader)
                .await?,
        )
    }

    /// The database's size per ecosystem and its last change.
    pub async fn vulndb_counts(&self) -> Result<VulnDbCounts> {
        let advisories: i64 = sqlx::query_scalar("SELECT count(*) FROM advisories")
            .fetch_one(&self.reader)
            .await?;
        let keys: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM (SELECT DISTINCT ecosystem, name FROM advisory_keys) k",
        )
        .fetch_one(&self.reader)
        .await?;
        let ecosystems: Vec<(String, i64)> = sqlx::query_as(
            "SELECT ecosystem, count(DISTINCT advisory_id) FROM advisory_keys GROUP BY ecosystem ORDER BY ecosystem",
        )
        .fetch_all(&self.reader)
        .await?;
        Ok(VulnDbCounts {
            advisories,
            keys,
            ecosystems,
            updated_at: self.vulndb_updated_at().await?,
        })
    }
}
