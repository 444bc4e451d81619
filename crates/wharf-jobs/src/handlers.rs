//! What each job kind does: the `JobHandler` contract the runner calls, and `StandardHandler`,
//! the server's handlers (a garbage-collection pass, every lifecycle policy applied, abandoned
//! uploads purged). Tests give the runner handlers of their own.

use crate::JobError;
use std::time::{Duration, Instant};
use wharf_core::{unix_now, CoreError, GcOptions, JobKind, Registry};

/// Runs one attempt of a job. Called by the runner's workers, several at once.
#[async_trait::async_trait]
pub trait JobHandler: Send + Sync + 'static {
    async fn handle(&self, registry: &Registry, job: &JobKind) -> Result<(), JobError>;

    /// Called once when the job has failed for the last time (it is dead), with the last error.
    async fn gave_up(&self, _registry: &Registry, _job: &JobKind, _error: &str) {}
}

/// The server's handlers, with the settings they need.
#[derive(Debug, Clone)]
pub struct StandardHandler {
    /// What a garbage-collection pass may do.
    pub gc: GcOptions,
    /// Upload sessions untouched this long are purged.
    pub upload_max_age: Duration,
    /// Where GC, lifecycle and scan results are counted.
    pub metrics: wharf_metrics::Metrics,
    /// The other regions replication may copy images to.
    pub regions: wharf_replicate::Regions,
}

#[async_trait::async_trait]
impl JobHandler for StandardHandler {
    async fn handle(&self, registry: &Registry, job: &JobKind) -> Result<(), JobError> {
        // Exhaustive on purpose: a new kind does not build until it has a handler.
        match job {
            JobKind::Gc => self.gc(registry).await,
            JobKind::Lifecycle => lifecycle(registry, &self.metrics).await,
            JobKind::UploadPurge => self.purge_uploads(registry).await,
            JobKind::ImageScan {
                account,
                repository,
                digest,
            } => scan(registry, &self.metrics, account, repository, digest, false).await,
            JobKind::Rescan {
                account,
                repository,
                digest,
            } => scan(registry, &self.metrics, account, repository, digest, true).await,
            JobKind::SealBlobs => seal_blobs(registry).await,
            JobKind::RewrapKeys { kms } => rewrap(registry, *kms).await,
            JobKind::AuditPrune { days } => prune_audit(registry, *days).await,
            JobKind::Replicate {
                account,
                repository,
                digest,
                region,
                registry_id,
            } => {
                let target = crate::replicate::Target::parse(
                    account,
                    repository,
                    digest,
                    region,
                    registry_id,
                )?;
                crate::replicate::run(registry, &self.regions, &target).await
            }
            JobKind::ReplicationBackfill { account, id } => {
                crate::backfill::run(registry, &self.regions, account, id).await
            }
            JobKind::Webhook {
                url,
                event_id,
                body,
            } => crate::webhook::deliver(registry, url, event_id, body).await,
            JobKind::Sign {
                account,
                repository,
                digest,
                profile_arns,
            } => {
                let target = crate::sign::Target::parse(account, repository, digest, profile_arns)?;
                crate::sign::run(registry, &target).await
            }
        }
    }

    /// A first scan that can no longer run leaves FAILED with the reason, not IN_PROGRESS
    /// forever (keeping a previous good result's findings); a dead rescan changes nothing.
    async fn gave_up(&self, registry: &Registry, job: &JobKind, error: &str) {
        crate::replicate::gave_up(registry, job, error).await;
        crate::sign::gave_up(registry, job, error).await;
        // A rescan that never ran leaves the previous result standing: nothing to record.
        if let JobKind::ImageScan {
            account,
            repository,
            digest,
        } = job
        {
            let reason = format!("The scan could not run: {error}");
            if let Err(e) = registry
                .fail_scan_job(account, repository, digest, &reason)
                .await
            {
                tracing::warn!(%account, %repository, %digest, error = %e, "marking a dead scan FAILED failed");
            }
        }
    }
}

impl StandardHandler {
    /// One garbage-collection pass; one already running elsewhere (its lease held) counts as
    /// done, since that pass does the work.
    async fn gc(&self, registry: &Registry) -> Result<(), JobError> {
        let started = Instant::now();
        let r = registry.collect_garbage(self.gc).await?;
        if !r.ran {
            tracing::info!("garbage collection skipped: another pass holds the lease");
            return Ok(());
        }
        let m = &self.metrics;
        m.gc_passes.inc();
        m.gc_blobs_deleted.inc_by(r.blobs + r.orphans);
        m.gc_bytes_deleted
            .inc_by(r.blob_bytes + r.orphan_bytes + r.upload_bytes);
        m.gc_uploads_deleted.inc_by(r.uploads);
        tracing::info!(
            blobs = r.blobs,
            blob_bytes = r.blob_bytes,
            uploads = r.uploads,
            upload_bytes = r.upload_bytes,
            orphans = r.orphans,
            orphan_bytes = r.orphan_bytes,
            revived = r.revived,
            millis = started.elapsed().as_millis() as u64,
            "garbage collection pass finished"
        );
        Ok(())
    }

    /// Removes upload sessions untouched for `upload_max_age`, then the wraps of data keys no
    /// upload or blob uses that are older than that.
    async fn purge_uploads(&self, registry: &Registry) -> Result<(), JobError> {
        match registry
            .purge_stale_uploads(self.upload_max_age.as_secs())
            .await?
        {
            0 => {}
            n => tracing::info!(purged = n, "purged abandoned uploads"),
        }
        let cutoff = unix_now().saturating_sub(self.upload_max_age.as_secs() as i64);
        match registry.prune_data_keys(cutoff).await? {
            0 => {}
            n => tracing::info!(pruned = n, "pruned unused data keys"),
        }
        Ok(())
    }
}

/// Seals the blobs stored before encryption at rest.
async fn seal_blobs(registry: &Registry) -> Result<(), JobError> {
    let started = Instant::now();
    let r = registry.seal_legacy_blobs().await?;
    tracing::info!(
        sealed = r.sealed,
        bytes = r.bytes,
        skipped = r.skipped,
        millis = started.elapsed().as_millis() as u64,
        "sealing stored blobs finished"
    );
    if r.skipped > 0 {
        return Err(JobError::Transient(format!(
            "{} blobs could not be sealed yet (see the log)",
            r.skipped
        )));
    }
    Ok(())
}

/// Rewraps data keys after a key rotation.
async fn rewrap(registry: &Registry, kms: bool) -> Result<(), JobError> {
    let r = registry.rewrap_data_keys(kms).await?;
    tracing::info!(
        master = r.master,
        kms = r.kms,
        skipped = r.skipped,
        "rewrapping data keys finished"
    );
    if r.skipped > 0 {
        return Err(JobError::Transient(format!(
            "{} data keys could not be rewrapped yet (see the log)",
            r.skipped
        )));
    }
    Ok(())
}

/// Scans one image (`rescan`: re-matches its stored inventory). An image deleted meanwhile is
/// nothing to do; a payload naming no valid image cannot succeed on retry.
async fn scan(
    registry: &Registry,
    metrics: &wharf_metrics::Metrics,
    account: &str,
    repository: &str,
    digest: &str,
    rescan: bool,
) -> Result<(), JobError> {
    match registry
        .run_scan_job(account, repository, digest, rescan)
        .await
    {
        Ok(Some(status)) => {
            metrics.scan(status.as_str(), rescan);
            tracing::info!(%account, %repository, %digest, rescan, status = status.as_str(), "scan job finished");
            Ok(())
        }
        Ok(None) => {
            tracing::info!(%account, %repository, %digest, "scan job skipped: the image is gone");
            Ok(())
        }
        Err(CoreError::InvalidParameter(m)) => Err(JobError::Permanent(m)),
        Err(e) => Err(e.into()),
    }
}

/// Applies every repository's lifecycle policy as of now.
async fn lifecycle(registry: &Registry, metrics: &wharf_metrics::Metrics) -> Result<(), JobError> {
    let started = Instant::now();
    let outcomes = registry
        .apply_lifecycle_all(None, unix_now(), false)
        .await?;
    metrics.lifecycle_runs.inc();
    metrics
        .lifecycle_images_expired
        .inc_by(outcomes.iter().map(|o| o.expired).sum::<u64>());
    metrics
        .lifecycle_images_archived
        .inc_by(outcomes.iter().map(|o| o.archived).sum::<u64>());
    tracing::info!(
        repositories = outcomes.len(),
        expired = outcomes.iter().map(|o| o.expired).sum::<u64>(),
        archived = outcomes.iter().map(|o| o.archived).sum::<u64>(),
        millis = started.elapsed().as_millis() as u64,
        "lifecycle policies applied"
    );
    Ok(())
}

/// Deletes audit records older than `days` days (0 keeps them forever).
async fn prune_audit(registry: &Registry, days: u32) -> Result<(), JobError> {
    if days == 0 {
        return Ok(());
    }
    let cutoff_ms = unix_now()
        .saturating_sub(i64::from(days) * 86_400)
        .saturating_mul(1000);
    match registry
        .prune_audit(cutoff_ms)
        .await
        .map_err(|e| JobError::Transient(e.to_string()))?
    {
        0 => {}
        n => tracing::info!(
            pruned = n,
            days,
            "pruned audit records past their retention"
        ),
    }
    Ok(())
}
