//! Replication state: each registry's replication configuration (ECR's
//! PutReplicationConfiguration body, stored as validated JSON) and the per-destination status of
//! every replicated image (`IN_PROGRESS` from the push transaction, then `COMPLETE` or `FAILED`
//! from the replicate job). Nothing caches either, so their writes never move the cache epoch.

use crate::{now, MetaStore, RepoKey, Result};
use sqlx::{Any, Executor};
use wharf_oci::Digest;

/// One image's replication to one destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicationStatusRecord {
    pub region: String,
    pub registry_id: String,
    pub status: String,
    pub failure_code: Option<String>,
    pub updated_at: i64,
}

impl MetaStore {
    /// The account's replication configuration JSON, if one was put.
    pub async fn replication_config(&self, account: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT body FROM replication_configs WHERE account_id = $1")
                .bind(account)
                .fetch_optional(&self.reader)
                .await?,
        )
    }

    /// Replaces the account's replication configuration.
    pub async fn put_replication_config(&self, account: &str, body: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO replication_configs (account_id, body, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (account_id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
        )
        .bind(account)
        .bind(body)
        .bind(now())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Records where an image's replication to one destination stands (the image must exist;
    /// false when it does not any more).
    pub async fn set_replication_status(
        &self,
        repo: RepoKey<'_>,
        digest: &Digest,
        destination: (&str, &str),
        status: &str,
        failure_code: Option<&str>,
    ) -> Result<bool> {
        upsert_status(
            &self.writer,
            repo,
            digest,
            destination,
            status,
            failure_code,
            now(),
        )
        .await
    }

    /// An image's replication statuses, ordered by destination.
    pub async fn replication_statuses(
        &self,
        repo: RepoKey<'_>,
        digest: &Digest,
    ) -> Result<Vec<ReplicationStatusRecord>> {
        let rows: Vec<(String, String, String, Option<String>, i64)> = sqlx::query_as(
            "SELECT s.region, s.registry_id, s.status, s.failure_code, s.updated_at
             FROM replication_statuses s JOIN repositories r ON r.id = s.repository_id
             WHERE r.account_id = $1 AND r.name = $2 AND s.manifest_digest = $3
             ORDER BY s.region, s.registry_id",
        )
        .bind(repo.account)
        .bind(repo.name)
        .bind(digest.to_string())
        .fetch_all(&self.reader)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(region, registry_id, status, failure_code, updated_at)| {
                ReplicationStatusRecord {
                    region,
                    registry_id,
                    status,
                    failure_code,
                    updated_at,
                }
            })
            .collect())
    }
}

/// Inserts or replaces one status row for an existing manifest, on any executor (the push
/// transaction writes `IN_PROGRESS` rows with it).
pub(crate) async fn upsert_status<'e, E>(
    executor: E,
    repo: RepoKey<'_>,
    digest: &Digest,
    (region, registry_id): (&str, &str),
    status: &str,
    failure_code: Option<&str>,
    at: i64,
) -> Result<bool>
where
    E: Executor<'e, Database = Any>,
{
    let res = sqlx::query(
        "INSERT INTO replication_statuses (repository_id, manifest_digest, region, registry_id, status, failure_code, updated_at)
         SELECT m.repository_id, m.digest, $1, $2, $3, $4, $5 FROM manifests m
         JOIN repositories r ON r.id = m.repository_id
         WHERE r.account_id = $6 AND r.name = $7 AND m.digest = $8
         ON CONFLICT (repository_id, manifest_digest, region, registry_id) DO UPDATE SET
             status = excluded.status, failure_code = excluded.failure_code, updated_at = excluded.updated_at",
    )
    .bind(region)
    .bind(registry_id)
    .bind(status)
    .bind(failure_code)
    .bind(at)
    .bind(repo.account)
    .bind(repo.name)
    .bind(digest.to_string())
    .execute(executor)
    .await?;
    Ok(res.rows_affected() > 0)
}
