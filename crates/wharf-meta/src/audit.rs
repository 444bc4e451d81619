//! The audit trail (`audit_events`): CloudTrail-shaped records appended in batches, read back
//! newest first with filters (`wharf audit`), and pruned past their retention. Records arrive
//! already redacted (wharf-api's audit module strips secrets); this file only stores them.
//! Nothing caches them, so writes take neither the PostgreSQL write lock nor move the epoch.

use crate::{MetaStore, Result};
use sqlx::Row;

/// One audit record. `id` is assigned by the database (0 in a record to insert).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditRecord {
    pub id: i64,
    /// A unique id (a UUID), CloudTrail's `eventID`.
    pub event_id: String,
    /// Unix milliseconds.
    pub event_time: i64,
    pub event_name: String,
    pub event_source: String,
    pub account_id: Option<String>,
    pub user_arn: Option<String>,
    pub access_key_id: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    /// JSON, redacted.
    pub request_parameters: Option<String>,
    /// JSON, minimal.
    pub response_elements: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

/// Which records `audit_events` returns.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Unix milliseconds, inclusive.
    pub since: Option<i64>,
    /// Unix milliseconds, exclusive.
    pub until: Option<i64>,
    pub event_name: Option<String>,
    /// The principal's ARN, or a user name (matched as the ARN's `user/<name>` suffix).
    pub user: Option<String>,
    pub limit: i64,
}

const COLUMNS: &str = "id, event_id, event_time, event_name, event_source, account_id, user_arn, \
    access_key_id, source_ip, user_agent, request_id, request_parameters, response_elements, \
    error_code, error_message";

/// Rows per INSERT: 14 parameters each, under SQLite's historical limit of 999.
const ROWS_PER_INSERT: usize = 60;

impl MetaStore {
    /// Appends records in one transaction (a batch commits or none of it does).
    pub async fn insert_audit_events(&self, records: &[AuditRecord]) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_unlocked_write().await?;
        for chunk in records.chunks(ROWS_PER_INSERT) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let p: Vec<String> = (1..=14).map(|j| format!("${}", i * 14 + j)).collect();
                    format!("({})", p.join(", "))
                })
                .collect();
            let sql = format!(
                "INSERT INTO audit_events (event_id, event_time, event_name, event_source, \
                 account_id, user_arn, access_key_id, source_ip, user_agent, request_id, \
                 request_parameters, response_elements, error_code, error_message) VALUES {}",
                values.join(", ")
            );
            let mut q = sqlx::query(&sql);
            for r in chunk {
                q = q
                    .bind(r.event_id.clone())
                    .bind(r.event_time)
                    .bind(r.event_name.clone())
                    .bind(r.event_source.clone())
                    .bind(r.account_id.clone())
                    .bind(r.user_arn.clone())
                    .bind(r.access_key_id.clone())
                    .bind(r.source_ip.clone())
                    .bind(r.user_agent.clone())
                    .bind(r.request_id.clone())
                    .bind(r.request_parameters.clone())
                    .bind(r.response_elements.clone())
                    .bind(r.error_code.clone())
                    .bind(r.error_message.clone());
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Records matching `filter`, newest first, at most `filter.limit`.
    pub async fn audit_events(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>> {
        let mut conditions = Vec::new();
        let mut n = 0;
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        if filter.since.is_some() {
            conditions.push(format!("event_time >= {}", next()));
        }
        if filter.until.is_some() {
            conditions.push(format!("event_time < {}", next()));
        }
        if filter.event_name.is_some() {
            conditions.push(format!("event_name = {}", next()));
        }
        let user_pattern = filter.user.as_ref().map(|u| {
            if u.starts_with("arn:") || u == "anonymous" {
                (u.clone(), None)
            } else {
                (u.clone(), Some(format!("%:user/{u}")))
            }
        });
        if let Some((_, pattern)) = &user_pattern {
            let exact = next();
            match pattern {
                Some(_) => {
                    conditions.push(format!("(user_arn = {exact} OR user_arn LIKE {})", next()))
                }
                None => conditions.push(format!("user_arn = {exact}")),
            }
        }
        let limit = next();
        let sql = format!(
            "SELECT {COLUMNS} FROM audit_events {} ORDER BY event_time DESC, id DESC LIMIT {limit}",
            if conditions.is_empty() {
                String::new()
            } else {
                format!("WHERE {}", conditions.join(" AND "))
            }
        );
        let mut q = sqlx::query(&sql);
        if let Some(since) = filter.since {
            q = q.bind(since);
        }
        if let Some(until) = filter.until {
            q = q.bind(until);
        }
        if let Some(name) = &filter.event_name {
            q = q.bind(name.clone());
        }
        if let Some((exact, pattern)) = user_pattern {
            q = q.bind(exact);
            if let Some(p) = pattern {
                q = q.bind(p);
            }
        }
        let rows = q.bind(filter.limit.max(0)).fetch_all(&self.reader).await?;
        rows.iter()
            .map(|row| {
                Ok(AuditRecord {
                    id: row.try_get(0)?,
                    event_id: row.try_get(1)?,
                    event_time: row.try_get(2)?,
                    event_name: row.try_get(3)?,
                    event_source: row.try_get(4)?,
                    account_id: row.try_get(5)?,
                    user_arn: row.try_get(6)?,
                    access_key_id: row.try_get(7)?,
                    source_ip: row.try_get(8)?,
                    user_agent: row.try_get(9)?,
                    request_id: row.try_get(10)?,
                    request_parameters: row.try_get(11)?,
                    response_elements: row.try_get(12)?,
                    error_code: row.try_get(13)?,
                    error_message: row.try_get(14)?,
                })
            })
            .collect()
    }

    /// Deletes records older than `before` (Unix milliseconds); returns how many went.
    pub async fn prune_audit_events(&self, before: i64) -> Result<u64> {
        Ok(
            sqlx::query("DELETE FROM audit_events WHERE event_time < $1")
                .bind(before)
                .execute(&self.writer)
                .await?
                .rows_affected(),
        )
    }
}
