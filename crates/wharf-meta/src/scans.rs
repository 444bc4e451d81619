//! Image scan results and the registry scanning configuration.
//!
//! One row per scanned image (`image_scans`) holds the last scan's status, times, inventory and
//! findings as JSON the caller (wharf-core) owns; `image_scan_keys` lists the advisory lookup
//! keys of its packages, so an import finds the images it concerns with one join. Both go with
//! the manifest (foreign keys cascade). None of these writes moves the cache epoch: no node
//! caches scan data.

use crate::dialect::placeholders;
use crate::queue::{self, NewJob};
use crate::{now, parse_digest, MetaStore, RepoKey, Result};
use sqlx::{Any, Executor};
use wharf_oci::Digest;

/// A stored scan. `inventory` and `findings` are filled only by [`MetaStore::image_scan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanRecord {
    pub digest: Digest,
    /// ECR's ScanStatus (`IN_PROGRESS`, `COMPLETE`, …).
    pub status: String,
    pub description: Option<String>,
    /// `BASIC` or `ENHANCED`.
    pub scan_type: String,
    pub requested_at: i64,
    pub started_at: Option<i64>,
    pub completed_at: Option<i64>,
    /// The vulnerability database's update time the findings were matched against.
    pub source_updated_at: Option<i64>,
    /// Severity → count as a JSON object.
    pub severity_counts: Option<String>,
    pub finding_count: i64,
    /// The package inventory as JSON.
    pub inventory: Option<String>,
    /// The findings as a JSON array, in report order.
    pub findings: Option<String>,
}

/// The outcome of a scan to store, replacing the image's previous one.
#[derive(Debug, Clone, Default)]
pub struct ScanResult<'a> {
    pub status: &'a str,
    pub description: Option<&'a str>,
    pub scan_type: &'a str,
    pub started_at: Option<i64>,
    pub completed_at: Option<i64>,
    pub source_updated_at: Option<i64>,
    pub inventory: Option<&'a str>,
    pub findings: Option<&'a str>,
    pub severity_counts: Option<&'a str>,
    pub finding_count: i64,
    /// The advisory lookup keys (ecosystem, package name) of the inventory's packages.
    pub keys: &'a [(String, String)],
}

/// An image a vulnerability-database change concerns: account, repository name, digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedImage {
    pub account: String,
    pub repository: String,
    pub digest: Digest,
}

type ScanRow = (
    String,
    String,
    Option<String>,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<String>,
    i64,
    Option<String>,
    Option<String>,
);

fn record(row: ScanRow) -> Result<ScanRecord> {
    let (
        digest,
        status,
        description,
        scan_type,
        requested_at,
        started_at,
        completed_at,
        source_updated_at,
        severity_counts,
        finding_count,
        inventory,
        findings,
    ) = row;
    Ok(ScanRecord {
        digest: parse_digest(&digest)?,
        status,
        description,
        scan_type,
        requested_at,
        started_at,
        completed_at,
        source_updated_at,
        severity_counts,
        finding_count,
        inventory,
        findings,
    })
}

/// Keys per statement when writing an image's lookup keys (4 parameters each).
const KEYS_PER_INSERT: usize = 200;

/// The `mark_scan` write through `executor` (the pool, or a transaction it commits with).
async fn mark<'e, E>(
    executor: E,
    repo: RepoKey<'_>,
    digest: &Digest,
    status: &str,
    scan_type: &str,
    at: i64,
    started: bool,
) -> Result<bool>
where
    E: Executor<'e, Database = Any>,
{
    let res = sqlx::query(
        "INSERT INTO image_scans (repository_id, manifest_digest, status, description, scan_type, requested_at, started_at)
         SELECT m.repository_id, m.digest, $1, NULL, $2, $3, $4 FROM manifests m
         JOIN repositories r ON r.id = m.repository_id
         WHERE r.account_id = $5 AND r.name = $6 AND m.digest = $7
         ON CONFLICT (repository_id, manifest_digest) DO UPDATE SET status = excluded.status,
             description = NULL, scan_type = excluded.scan_type,
             requested_at = CASE WHEN excluded.started_at IS NULL THEN excluded.requested_at ELSE image_scans.requested_at END,
             started_at = excluded.started_at",
    )
    .bind(status)
    .bind(scan_type)
    .bind(at)
    .bind(started.then_some(at))
    .bind(repo.account)
    .bind(repo.name)
    .bind(digest.to_string())
    .execute(executor)
    .await?;
    Ok(res.rows_affected() > 0)
}

impl MetaStore {
    /// Records that a scan of the image was requested (`started` false: queued) or began
    /// (`started` true), with `status`, keeping the previous result's inventory and findings
    /// until the new ones are stored. False when the image does not exist.
    pub async fn mark_scan(
        &self,
        repo: RepoKey<'_>,
        digest: &Digest,
        status: &str,
        scan_type: &str,
        at: i64,
        started: bool,
    ) -> Result<bool> {
        mark(&self.writer, repo, digest, status, scan_type, at, started).await
    }

    /// Records a requested scan (as [`MetaStore::mark_scan`] with `started` false) and enqueues
    /// `job` in one transaction, so the image never shows `status` without a job to end it.
    /// When an unfinished job already holds `job`'s dedupe key and is `failed` (waiting out its
    /// retry backoff), its retry is moved to now: a request by hand does not wait for it. False
    /// (and nothing written) when the image does not exist.
    pub async fn request_scan(
        &self,
        repo: RepoKey<'_>,
        digest: &Digest,
        status: &str,
        scan_type: &str,
        job: &NewJob,
    ) -> Result<bool> {
        let at = now();
        let mut tx = self.begin_write_repo(repo).await?;
        if !mark(&mut *tx, repo, digest, status, scan_type, at, false).await? {
            return Ok(false);
        }
        if queue::insert(&mut *tx, job, at).await?.is_none() {
            if let Some(key) = &job.dedupe_key {
                sqlx::query(
                    "UPDATE job_queue SET run_at = $1, updated_at = $1
                     WHERE dedupe_key = $2 AND state = 'failed' AND run_at > $1",
                )
                .bind(at)
                .bind(key)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Stores a final status that carries no findings (FAILED, UNSUPPORTED_IMAGE,
    /// IMAGE_ARCHIVED). When the image has a previous result with an inventory, only its status,
    /// description, scan type and times change: the inventory, findings and lookup keys stay, so
    /// a failed repeat scan does not erase the last good one (reads show findings only for
    /// COMPLETE, and continuous scanning re-matches the kept inventory). Otherwise the outcome
    /// is stored whole, as by [`MetaStore::store_scan`]. False when the image does not exist.
    pub async fn store_scan_status(
        &self,
        repo: RepoKey<'_>,
        digest: &Digest,
        result: &ScanResult<'_>,
    ) -> Result<bool> {
        let kept = sqlx::query(
            "UPDATE image_scans SET status = $1, description = $2, scan_type = $3,
                 started_at = $4, completed_at = $5
             WHERE inventory IS NOT NULL AND manifest_digest = $6 AND repository_id =
                 (SELECT id FROM repositories WHERE account_id = $7 AND name = $8)",
        )
        .bind(result.status)
        .bind(result.description)
        .bind(result.scan_type)
        .bind(result.started_at)
        .bind(result.completed_at)
        .bind(digest.to_string())
        .bind(repo.account)
        .bind(repo.name)
        .execute(&self.writer)
        .await?;
        if kept.rows_affected() > 0 {
            return Ok(true);
        }
        self.store_scan(repo, digest, result).await
    }

    /// Stores a scan's outcome with its lookup keys in one transaction, replacing the previous
    /// one. False when the image no longer exists (deleted while it was scanned).
    pub async fn store_scan(
        &self,
        repo: RepoKey<'_>,
        digest: &Digest,
        result: &ScanResult<'_>,
    ) -> Result<bool> {
        let mut tx = self.begin_write_repo(repo).await?;
        let repo_id: Option<i64> = sqlx::query_scalar(
            "SELECT m.repository_id FROM manifests m JOIN repositories r ON r.id = m.repository_id
             WHERE r.account_id = $1 AND r.name = $2 AND m.digest = $3",
        )
        .bind(repo.account)
        .bind(repo.name)
        .bind(digest.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(repo_id) = repo_id else {
            return Ok(false);
        };
        let digest = digest.to_string();
        sqlx::query(
            "INSERT INTO image_scans (repository_id, manifest_digest, status, description, scan_type,
                 requested_at, started_at, completed_at, source_updated_at, inventory, findings,
                 severity_counts, finding_count)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
             ON CONFLICT (repository_id, manifest_digest) DO UPDATE SET status = excluded.status,
                 description = excluded.description, scan_type = excluded.scan_type,
                 started_at = excluded.started_at, completed_at = excluded.completed_at,
                 source_updated_at = excluded.source_updated_at, inventory = excluded.inventory,
                 findings = excluded.findings, severity_counts = excluded.severity_counts,
                 finding_count = excluded.finding_count",
        )
        .bind(repo_id)
        .bind(&digest)
        .bind(result.status)
        .bind(result.description)
        .bind(result.scan_type)
        .bind(result.started_at.unwrap_or_else(now))
        .bind(result.started_at)
        .bind(result.completed_at)
        .bind(result.source_updated_at)
        .bind(result.inventory)
        .bind(result.findings)
        .bind(result.severity_counts)
        .bind(result.finding_count)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM image_scan_keys WHERE repository_id = $1 AND manifest_digest = $2",
        )
        .bind(repo_id)
        .bind(&digest)
        .execute(&mut *tx)
        .await?;
        let mut keys: Vec<&(String, String)> = result.keys.iter().collect();
        keys.sort();
        keys.dedup();
        for chunk in keys.chunks(KEYS_PER_INSERT) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| format!("({})", placeholders(i * 4 + 1, 4)))
                .collect();
            let sql = format!(
                "INSERT INTO image_scan_keys (repository_id, manifest_digest, ecosystem, name) VALUES {}",
                values.join(",")
            );
            let mut q = sqlx::query(&sql);
            for (ecosystem, name) in chunk {
                q = q.bind(repo_id).bind(&digest).bind(ecosystem).bind(name);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// The image's stored scan with its inventory and findings.
    pub async fn image_scan(
        &self,
        repo: RepoKey<'_>,
        digest: &Digest,
    ) -> Result<Option<ScanRecord>> {
        let row: Option<ScanRow> = sqlx::query_as(
            "SELECT s.manifest_digest, s.status, s.description, s.scan_type, s.requested_at,
                 s.started_at, s.completed_at, s.source_updated_at, s.severity_counts,
                 s.finding_count, s.inventory, s.findings
             FROM image_scans s JOIN repositories r ON r.id = s.repository_id
             WHERE r.account_id = $1 AND r.name = $2 AND s.manifest_digest = $3",
        )
        .bind(repo.account)
        .bind(repo.name)
        .bind(digest.to_string())
        .fetch_optional(&self.reader)
        .await?;
        row.map(record).transpose()
    }

    /// The stored scans of many images of one repository, without inventories and findings;
    /// images never scanned are absent.
    pub async fn scan_summaries(
        &self,
        repo: RepoKey<'_>,
        digests: &[Digest],
    ) -> Result<Vec<ScanRecord>> {
        let mut out = Vec::new();
        for chunk in digests.chunks(500) {
            let sql = format!(
                "SELECT s.manifest_digest, s.status, s.description, s.scan_type, s.requested_at,
                     s.started_at, s.completed_at, s.source_updated_at, s.severity_counts,
                     s.finding_count, NULL, NULL
                 FROM image_scans s JOIN repositories r ON r.id = s.repository_id
                 WHERE r.account_id = $1 AND r.name = $2 AND s.manifest_digest IN ({})",
                placeholders(3, chunk.len())
            );
            let mut q = sqlx::query_as::<_, ScanRow>(&sql)
                .bind(repo.account)
                .bind(repo.name);
            for d in chunk {
                q = q.bind(d.to_string());
            }
            for row in q.fetch_all(&self.reader).await? {
                out.push(record(row)?);
            }
        }
        Ok(out)
    }

    /// Scanned images with a package under a lookup key of an advisory created or changed at or
    /// after `since` (an import's start): the images continuous scanning re-matches.
    pub async fn images_with_changed_advisories(&self, since: i64) -> Result<Vec<ScannedImage>> {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT DISTINCT r.account_id, r.name, k.manifest_digest FROM image_scan_keys k
             JOIN advisory_keys ak ON ak.ecosystem = k.ecosystem AND ak.name = k.name
             JOIN advisories a ON a.id = ak.advisory_id
             JOIN repositories r ON r.id = k.repository_id
             WHERE a.changed_at >= $1
             ORDER BY r.account_id, r.name, k.manifest_digest",
        )
        .bind(since)
        .fetch_all(&self.reader)
        .await?;
        rows.into_iter()
            .map(|(account, repository, digest)| {
                Ok(ScannedImage {
                    account,
                    repository,
                    digest: parse_digest(&digest)?,
                })
            })
            .collect()
    }

    /// Scanned images with a package under a pending vulnerability database key (see
    /// [`MetaStore::vulndb_pending_keys`]): the images continuous scanning re-matches once an
    /// import is done, or after one that failed.
    pub async fn images_with_pending_keys(&self) -> Result<Vec<ScannedImage>> {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT DISTINCT r.account_id, r.name, k.manifest_digest FROM image_scan_keys k
             JOIN vulndb_pending_keys p ON p.ecosystem = k.ecosystem AND p.name = k.name
             JOIN repositories r ON r.id = k.repository_id
             ORDER BY r.account_id, r.name, k.manifest_digest",
        )
        .fetch_all(&self.reader)
        .await?;
        rows.into_iter()
            .map(|(account, repository, digest)| {
                Ok(ScannedImage {
                    account,
                    repository,
                    digest: parse_digest(&digest)?,
                })
            })
            .collect()
    }

    /// The account's registry scanning configuration: scan type and rules JSON, if ever set.
    pub async fn registry_scanning(&self, account: &str) -> Result<Option<(String, String)>> {
        Ok(
            sqlx::query_as("SELECT scan_type, rules FROM registry_scanning WHERE account_id = $1")
                .bind(account)
                .fetch_optional(&self.reader)
                .await?,
        )
    }

    /// Replaces the account's registry scanning configuration.
    pub async fn put_registry_scanning(
        &self,
        account: &str,
        scan_type: &str,
        rules: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO registry_scanning (account_id, scan_type, rules, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (account_id) DO UPDATE SET scan_type = excluded.scan_type,
                 rules = excluded.rules, updated_at = excluded.updated_at",
        )
        .bind(account)
        .bind(scan_type)
        .bind(rules)
        .bind(now())
        .execute(&self.writer)
        .await?;
        Ok(())
    }
}
