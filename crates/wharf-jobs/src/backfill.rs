//! The `replication_backfill` job: lists the backfill's images (once), then copies each to its
//! destination through the `replicate` job's own copy, recording every result. A stop request
//! (STOPPING) is honoured between images. A destination that is down makes the whole job retry
//! with the queue's backoff; it resumes with the images still waiting.

use crate::replicate::Target;
use crate::JobError;
use wharf_core::{AccountId, Registry};

pub(crate) async fn run(
    registry: &Registry,
    regions: &wharf_replicate::Regions,
    account: &str,
    id: &str,
) -> Result<(), JobError> {
    let account: AccountId = account
        .parse()
        .map_err(|_| JobError::Permanent("replication_backfill job with a bad account".into()))?;
    let current = |registry: &Registry| {
        let account = account.clone();
        let registry = registry.clone();
        let id = id.to_string();
        async move {
            match registry.replication_backfill(&account, &id).await {
                Ok(b) => Ok(Some(b)),
                Err(wharf_core::replication::BackfillError::NotFound(_)) => Ok(None),
                Err(wharf_core::replication::BackfillError::Core(e)) => Err(JobError::from(e)),
                Err(e) => Err(JobError::Permanent(e.to_string())),
            }
        }
    };
    let Some(b) = current(registry).await? else {
        return Ok(());
    };
    if b.status == "PREPARING" {
        registry.prepare_replication_backfill(&account, &b).await?;
    }
    loop {
        let Some(b) = current(registry).await? else {
            return Ok(());
        };
        match b.status.as_str() {
            "IN_PROGRESS" => {}
            "STOPPING" => {
                registry
                    .set_backfill_status(id, &["STOPPING"], "STOPPED")
                    .await?;
                return Ok(());
            }
            _ => return Ok(()),
        }
        let Some(item) = registry.pending_backfill_items(id, 1).await?.pop() else {
            registry
                .set_backfill_status(id, &["IN_PROGRESS"], "COMPLETE")
                .await?;
            tracing::info!(
                backfill = id,
                total = b.total,
                failed = b.failed,
                "replication backfill complete"
            );
            return Ok(());
        };
        let target = Target::parse(
            account.as_str(),
            &item.repository,
            &item.digest,
            &b.region,
            &b.registry_id,
        )?;
        match crate::replicate::run(registry, regions, &target).await {
            Ok(()) => {
                registry
                    .set_backfill_item(id, &item, "COMPLETE", None)
                    .await?
            }
            Err(JobError::Permanent(message)) => {
                let code = message.split(':').next().unwrap_or("UNKNOWN").trim();
                registry
                    .set_backfill_item(id, &item, "FAILED", Some(code))
                    .await?
            }
            Err(transient) => return Err(transient),
        }
    }
}
