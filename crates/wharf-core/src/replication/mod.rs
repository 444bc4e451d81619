//! Replication (ECR's PutReplicationConfiguration): every push enqueues, in its own
//! transaction, one `replicate` job per destination its registry's rules select, and records
//! `IN_PROGRESS` for each. A job copies the image as a plan (`plan.rs`: blobs, child manifests
//! before their index, the manifest, its referrers, then its tags) either into another account of
//! this Wharf (`local.rs`, allowed by the destination's registry policy) or, for another region,
//! over the OCI API of that region's Wharf (the `wharf-replicate` crate). Deletes are not
//! replicated, as in ECR.

mod backfill;
mod config;
mod local;
mod plan;

pub use backfill::BackfillError;
pub use config::{
    DeleteReplication, Destination, ReplicationConfiguration, ReplicationRule, RepositoryFilter,
};
pub use plan::{ReplicationPlan, Step};

use crate::{AccountId, CoreError, JobKind, Registry, Repo};
use wharf_meta::{NewJob, ReplicationStatusRecord};
use wharf_oci::Digest;

/// Attempts a replicate job gets: with the queue's backoff (doubling up to an hour) this keeps
/// retrying a destination that is down for most of a day.
pub const REPLICATE_ATTEMPTS: u32 = 30;

/// Why a replication attempt failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplicateError {
    /// Worth retrying (the destination is unreachable, busy or failing).
    #[error("{0}")]
    Transient(String),
    /// Retrying cannot help; `code` becomes the status's `failureCode`.
    #[error("{code}: {message}")]
    Permanent { code: String, message: String },
}

impl ReplicateError {
    pub fn permanent(code: &str, message: impl Into<String>) -> ReplicateError {
        ReplicateError::Permanent {
            code: code.to_string(),
            message: message.into(),
        }
    }
}

impl From<CoreError> for ReplicateError {
    fn from(e: CoreError) -> ReplicateError {
        ReplicateError::Transient(e.to_string())
    }
}

impl Registry {
    /// The account's replication configuration (no rules when none was put).
    pub async fn replication_configuration(
        &self,
        account: &AccountId,
    ) -> Result<ReplicationConfiguration, CoreError> {
        match self.meta.replication_config(account.as_str()).await? {
            None => Ok(ReplicationConfiguration::default()),
            Some(text) => serde_json::from_str(&text)
                .map_err(|e| CoreError::Internal(format!("stored replication configuration: {e}"))),
        }
    }

    /// Replaces the account's replication configuration (already checked).
    pub async fn put_replication_configuration(
        &self,
        account: &AccountId,
        config: &ReplicationConfiguration,
    ) -> Result<(), CoreError> {
        let text = serde_json::to_string(config)
            .map_err(|e| CoreError::Internal(format!("replication configuration: {e}")))?;
        Ok(self
            .meta
            .put_replication_config(account.as_str(), &text)
            .await?)
    }

    /// The replicate jobs a push of `digest` to `repo` enqueues, with their destinations.
    pub(crate) async fn replication_jobs(
        &self,
        repo: &Repo,
        digest: &Digest,
    ) -> Result<Vec<(String, String, NewJob)>, CoreError> {
        let config = self.replication_configuration(&repo.account).await?;
        Ok(config
            .destinations_for(repo.name.as_str())
            .into_iter()
            .map(|d| {
                let job = JobKind::Replicate {
                    account: repo.account.to_string(),
                    repository: repo.name.to_string(),
                    digest: digest.to_string(),
                    region: d.region.clone(),
                    registry_id: d.registry_id.clone(),
                }
                .new_job()
                .max_attempts(REPLICATE_ATTEMPTS);
                (d.region, d.registry_id, job)
            })
            .collect())
    }

    /// An image's replication status per destination.
    pub async fn replication_statuses(
        &self,
        repo: &Repo,
        digest: &Digest,
    ) -> Result<Vec<ReplicationStatusRecord>, CoreError> {
        Ok(self.meta.replication_statuses(repo.key(), digest).await?)
    }

    /// Records where an image's replication to a destination stands (nothing when the image is
    /// gone).
    pub async fn set_replication_status(
        &self,
        repo: &Repo,
        digest: &Digest,
        destination: &Destination,
        status: &str,
        failure_code: Option<&str>,
    ) -> Result<(), CoreError> {
        self.meta
            .set_replication_status(
                repo.key(),
                digest,
                (&destination.region, &destination.registry_id),
                status,
                failure_code,
            )
            .await?;
        Ok(())
    }
}

impl From<wharf_meta::MetaError> for ReplicateError {
    fn from(e: wharf_meta::MetaError) -> ReplicateError {
        ReplicateError::Transient(e.to_string())
    }
}
