//! Replication backfills (StartReplicationBackfill): a registry's existing images copied to one
//! destination of its replication configuration. Starting one records it (PREPARING) and queues
//! its job; the job lists the images the destination's rules select (referrers go with their
//! subject, archived images stay), then copies them one by one, each result kept; stopping
//! asks the job to end after the copy in flight. At most one backfill per destination runs.

use super::{Destination, REPLICATE_ATTEMPTS};
use crate::{AccountId, CoreError, JobKind, Registry, Repo};
use wharf_meta::{BackfillItem, BackfillRecord};

/// Images listed per page while preparing.
const PAGE: usize = 500;

/// Why a backfill request was refused.
#[derive(Debug, thiserror::Error)]
pub enum BackfillError {
    #[error("no rule of the registry's replication configuration replicates to region {region}, registry {registry_id}")]
    NoRule { region: String, registry_id: String },
    #[error("a replication backfill to this destination is already in progress ({0})")]
    InProgress(String),
    #[error("replication backfill {0} was not found")]
    NotFound(String),
    #[error("replication backfill {id} is {status} and cannot be stopped")]
    InvalidStatus { id: String, status: String },
    #[error(transparent)]
    Core(#[from] CoreError),
}

impl From<wharf_meta::MetaError> for BackfillError {
    fn from(e: wharf_meta::MetaError) -> BackfillError {
        BackfillError::Core(e.into())
    }
}

impl Registry {
    /// Starts a backfill of the account's images to `dest`, which a rule must name.
    pub async fn start_replication_backfill(
        &self,
        account: &AccountId,
        dest: &Destination,
    ) -> Result<BackfillRecord, BackfillError> {
        let config = self.replication_configuration(account).await?;
        let named = config
            .rules
            .iter()
            .any(|r| r.destinations.iter().any(|d| d == dest));
        if !named {
            return Err(BackfillError::NoRule {
                region: dest.region.clone(),
                registry_id: dest.registry_id.clone(),
            });
        }
        let id = uuid::Uuid::new_v4().to_string();
        let where_to = (dest.region.as_str(), dest.registry_id.as_str());
        if !self
            .meta
            .insert_backfill(&id, account.as_str(), where_to)
            .await?
        {
            let running = self
                .meta
                .backfills(account.as_str(), None, 100)
                .await?
                .into_iter()
                .find(|b| {
                    (b.region.as_str(), b.registry_id.as_str()) == where_to
                        && matches!(b.status.as_str(), "PREPARING" | "IN_PROGRESS" | "STOPPING")
                })
                .map(|b| b.id)
                .unwrap_or_default();
            return Err(BackfillError::InProgress(running));
        }
        let job = JobKind::ReplicationBackfill {
            account: account.to_string(),
            id: id.clone(),
        }
        .new_job()
        .max_attempts(REPLICATE_ATTEMPTS);
        if let Err(e) = self.meta.enqueue(&job).await {
            self.meta
                .set_backfill_status(&id, &["PREPARING"], "FAILED", Some("INTERNAL_ERROR"))
                .await?;
            return Err(BackfillError::Core(e.into()));
        }
        self.replication_backfill(account, &id).await
    }

    /// One backfill of the account.
    pub async fn replication_backfill(
        &self,
        account: &AccountId,
        id: &str,
    ) -> Result<BackfillRecord, BackfillError> {
        self.meta
            .backfill(account.as_str(), id)
            .await?
            .ok_or_else(|| BackfillError::NotFound(id.to_string()))
    }

    /// Asks a backfill to stop: one not started yet stops at once, a running one after the copy
    /// in flight (STOPPING).
    pub async fn stop_replication_backfill(
        &self,
        account: &AccountId,
        id: &str,
    ) -> Result<BackfillRecord, BackfillError> {
        let b = self.replication_backfill(account, id).await?;
        let moved = match b.status.as_str() {
            "PREPARING" => {
                self.meta
                    .set_backfill_status(id, &["PREPARING"], "STOPPED", None)
                    .await?
            }
            "IN_PROGRESS" => {
                self.meta
                    .set_backfill_status(id, &["IN_PROGRESS"], "STOPPING", None)
                    .await?
            }
            _ => false,
        };
        if !moved {
            let now = self.replication_backfill(account, id).await?;
            if now.status != "STOPPING" && now.status != "STOPPED" {
                return Err(BackfillError::InvalidStatus {
                    id: id.to_string(),
                    status: now.status,
                });
            }
        }
        self.replication_backfill(account, id).await
    }

    /// The account's backfills, newest first, after `(started_at, id)`.
    pub async fn replication_backfills(
        &self,
        account: &AccountId,
        after: Option<(i64, &str)>,
        limit: usize,
    ) -> Result<Vec<BackfillRecord>, CoreError> {
        Ok(self
            .meta
            .backfills(account.as_str(), after, limit as i64)
            .await?)
    }

    /// A backfill's finished items (of `status` when given), after `(repository, digest)`.
    pub async fn replication_backfill_results(
        &self,
        id: &str,
        status: Option<&str>,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<BackfillItem>, CoreError> {
        Ok(self
            .meta
            .backfill_results(id, status, after, limit as i64)
            .await?)
    }

    /// The backfill job's first step: lists the images its destination's rules select as its
    /// items, then marks it IN_PROGRESS. Listing again (a retried job) adds nothing twice.
    pub async fn prepare_replication_backfill(
        &self,
        account: &AccountId,
        b: &BackfillRecord,
    ) -> Result<(), CoreError> {
        let config = self.replication_configuration(account).await?;
        let dest = Destination {
            region: b.region.clone(),
            registry_id: b.registry_id.clone(),
        };
        let mut last: Option<String> = None;
        loop {
            let repos = self.repositories(account, last.as_deref(), PAGE).await?;
            for r in &repos {
                if !config.destinations_for(&r.name).contains(&dest) {
                    continue;
                }
                let Ok(name) = r.name.parse() else { continue };
                let repo = Repo::new(account.clone(), name);
                let mut after: Option<String> = None;
                loop {
                    let images = self.images(&repo, after.as_deref(), PAGE).await?;
                    let items: Vec<(String, String, Option<String>)> = images
                        .iter()
                        .filter(|i| i.subject.is_none() && i.status == "ACTIVE")
                        .map(|i| {
                            (
                                r.name.clone(),
                                i.digest.to_string(),
                                i.tags.first().cloned(),
                            )
                        })
                        .collect();
                    self.meta.add_backfill_items(&b.id, &items).await?;
                    match images.last() {
                        Some(i) if images.len() == PAGE => after = Some(i.digest.to_string()),
                        _ => break,
                    }
                }
            }
            match repos.last() {
                Some(r) if repos.len() == PAGE => last = Some(r.name.clone()),
                _ => break,
            }
        }
        self.meta
            .set_backfill_status(&b.id, &["PREPARING"], "IN_PROGRESS", None)
            .await?;
        Ok(())
    }

    /// Up to `limit` items of a backfill waiting for their copy.
    pub async fn pending_backfill_items(
        &self,
        id: &str,
        limit: usize,
    ) -> Result<Vec<BackfillItem>, CoreError> {
        Ok(self.meta.pending_backfill_items(id, limit as i64).await?)
    }

    /// Records one item's result.
    pub async fn set_backfill_item(
        &self,
        id: &str,
        item: &BackfillItem,
        status: &str,
        failure_code: Option<&str>,
    ) -> Result<(), CoreError> {
        Ok(self
            .meta
            .set_backfill_item(id, &item.repository, &item.digest, status, failure_code)
            .await?)
    }

    /// Moves a backfill between statuses (see `MetaStore::set_backfill_status`).
    pub async fn set_backfill_status(
        &self,
        id: &str,
        from: &[&str],
        status: &str,
    ) -> Result<bool, CoreError> {
        Ok(self
            .meta
            .set_backfill_status(id, from, status, None)
            .await?)
    }
}
