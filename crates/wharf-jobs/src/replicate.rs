//! The `replicate` job: one pushed image copied to one destination, then its status recorded.
//! The same region means another account of this Wharf (`Registry::replicate_local`); another
//! region goes through that region's client (`wharf_replicate`). A destination that is down
//! keeps the status `IN_PROGRESS` while the queue retries with backoff (across restarts: the
//! job is durable); the status turns `FAILED`, with a failure code, when retrying cannot help or
//! the attempts run out, and `COMPLETE` when the copy succeeded.

use crate::JobError;
use wharf_core::replication::{Destination, ReplicateError};
use wharf_core::{AccountId, JobKind, Registry, Repo};
use wharf_oci::{Digest, RepoName};

/// A replicate job's payload, parsed.
pub(crate) struct Target {
    src: Repo,
    digest: Digest,
    dest: Destination,
    dest_account: AccountId,
}

impl Target {
    pub(crate) fn parse(
        account: &str,
        repository: &str,
        digest: &str,
        region: &str,
        registry_id: &str,
    ) -> Result<Target, JobError> {
        let bad = |what: &str| JobError::Permanent(format!("replicate job with a bad {what}"));
        let account: AccountId = account.parse().map_err(|_| bad("account"))?;
        let name: RepoName = repository.parse().map_err(|_| bad("repository"))?;
        Ok(Target {
            src: Repo::new(account, name),
            digest: digest.parse().map_err(|_| bad("digest"))?,
            dest: Destination {
                region: region.to_string(),
                registry_id: registry_id.to_string(),
            },
            dest_account: registry_id.parse().map_err(|_| bad("registry id"))?,
        })
    }
}

pub(crate) async fn run(
    registry: &Registry,
    regions: &wharf_replicate::Regions,
    t: &Target,
) -> Result<(), JobError> {
    let Some(plan) = registry.replication_plan(&t.src, &t.digest).await? else {
        tracing::info!(repository = %t.src.qualified(), digest = %t.digest, "replicate job skipped: the image is gone");
        return Ok(());
    };
    let outcome = if t.dest.region == registry.region() {
        registry
            .replicate_local(&t.src, &plan, &t.dest_account)
            .await
    } else {
        match regions.get(&t.dest.region) {
            Some(remote) => {
                wharf_replicate::replicate_remote(
                    registry,
                    &t.src,
                    &plan,
                    remote,
                    t.dest_account.as_str(),
                )
                .await
            }
            None => Err(ReplicateError::permanent(
                "REGION_NOT_CONFIGURED",
                format!("no [regions.{}] is configured on this node", t.dest.region),
            )),
        }
    };
    match outcome {
        Ok(()) => {
            registry
                .set_replication_status(&t.src, &t.digest, &t.dest, "COMPLETE", None)
                .await?;
            registry
                .emit_replication_event(&t.src, &t.digest, &t.dest, None)
                .await;
            tracing::info!(
                repository = %t.src.qualified(),
                digest = %t.digest,
                region = %t.dest.region,
                registry_id = %t.dest.registry_id,
                blobs = plan.blobs(),
                manifests = plan.manifests(),
                "replicated an image"
            );
            Ok(())
        }
        Err(ReplicateError::Permanent { code, message }) => {
            registry
                .set_replication_status(&t.src, &t.digest, &t.dest, "FAILED", Some(&code))
                .await?;
            registry
                .emit_replication_event(&t.src, &t.digest, &t.dest, Some(&code))
                .await;
            Err(JobError::Permanent(format!("{code}: {message}")))
        }
        Err(ReplicateError::Transient(m)) => Err(JobError::Transient(m)),
    }
}

/// A replicate job out of attempts leaves its status FAILED.
pub(crate) async fn gave_up(registry: &Registry, job: &JobKind, error: &str) {
    let JobKind::Replicate {
        account,
        repository,
        digest,
        region,
        registry_id,
    } = job
    else {
        return;
    };
    let Ok(t) = Target::parse(account, repository, digest, region, registry_id) else {
        return;
    };
    // A permanent failure already recorded its own code.
    let current = registry.replication_statuses(&t.src, &t.digest).await;
    if let Ok(rows) = &current {
        if rows.iter().any(|r| {
            r.region == t.dest.region && r.registry_id == t.dest.registry_id && r.status == "FAILED"
        }) {
            return;
        }
    }
    tracing::warn!(repository = %t.src.qualified(), %digest, %region, %registry_id, %error, "replication gave up");
    if let Err(e) = registry
        .set_replication_status(
            &t.src,
            &t.digest,
            &t.dest,
            "FAILED",
            Some("DESTINATION_UNAVAILABLE"),
        )
        .await
    {
        tracing::warn!(error = %e, "recording a failed replication failed");
        return;
    }
    registry
        .emit_replication_event(&t.src, &t.digest, &t.dest, Some("DESTINATION_UNAVAILABLE"))
        .await;
}
