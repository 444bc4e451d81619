//! The vulnerability database: OSV documents imported in batches (one transaction each), and
//! continuous scanning after an import that changed something — images in repositories under
//! an ENHANCED CONTINUOUS_SCAN rule whose packages fall under a key an imported advisory touched
//! are queued for re-matching, unless archived or past the scan eligibility window. BASIC
//! scanning never rescans on its own, as in ECR. The keys a batch touched are kept pending in
//! the database with the batch, so an import that fails partway still has its rescans queued:
//! by its `abort`, or else by the next import's `finish`.

use super::config::effective;
use super::results::rescan_job;
use super::{ImportReport, ScanFrequency, ScanType, VulnDbStatus, MAX_INVALID_REASONS};
use crate::{unix_now, AccountId, CoreError, Registry, Repo};
use std::collections::HashMap;
use wharf_meta::NewAdvisory;
use wharf_scan::matching::index_key;
use wharf_scan::Advisory;

/// Documents per write transaction, and the bytes at which a batch is written early.
const BATCH_DOCUMENTS: usize = 500;
const BATCH_BYTES: usize = 32 << 20;

/// An import in progress: documents are added one at a time and written in batches.
pub struct AdvisoryImport {
    registry: Registry,
    batch: Vec<NewAdvisory>,
    batch_bytes: usize,
    report: ImportReport,
    /// The import's start: every advisory row it writes carries it as `changed_at`.
    started_at: i64,
}

impl AdvisoryImport {
    /// Counts a document that could not even be read (the report names it with `reason`).
    pub fn reject(&mut self, source: &str, reason: &str) {
        self.invalid(source, reason.to_string());
    }

    fn invalid(&mut self, source: &str, reason: String) {
        self.report.invalid += 1;
        if self.report.invalid_reasons.len() < MAX_INVALID_REASONS {
            self.report
                .invalid_reasons
                .push((source.to_string(), reason));
        }
    }

    /// Adds one OSV JSON document; `source` names it in the report when it is invalid.
    /// Invalid documents are counted, not fatal; `Err` only when the database fails.
    pub async fn add(&mut self, source: &str, json: &[u8]) -> Result<(), CoreError> {
        let advisory = match Advisory::parse(json) {
            Ok(a) => a,
            Err(e) => {
                self.invalid(source, e.to_string());
                return Ok(());
            }
        };
        let document = match std::str::from_utf8(json) {
            Ok(d) => d.to_string(),
            Err(_) => {
                self.invalid(source, "not UTF-8".into());
                return Ok(());
            }
        };
        let mut keys: Vec<(String, String)> = advisory
            .keys()
            .iter()
            .map(|(e, n)| index_key(e, n))
            .collect();
        keys.sort();
        keys.dedup();
        self.batch_bytes += document.len();
        self.batch.push(NewAdvisory {
            id: advisory.id,
            modified: advisory.modified,
            document,
            keys,
        });
        if self.batch.len() >= BATCH_DOCUMENTS || self.batch_bytes >= BATCH_BYTES {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), CoreError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let counts = self
            .registry
            .meta
            .upsert_advisories(&self.batch, self.started_at)
            .await?;
        self.report.new += counts.new;
        self.report.updated += counts.updated;
        self.report.unchanged += counts.unchanged;
        self.batch.clear();
        self.batch_bytes = 0;
        Ok(())
    }

    /// Writes what is left, records the update time and queues continuous rescans — also those
    /// an earlier import that failed partway still owed.
    pub async fn finish(mut self) -> Result<ImportReport, CoreError> {
        self.flush().await?;
        let changed = self.report.new + self.report.updated > 0;
        self.report.rescans = self.registry.settle_vulndb_changes(changed).await?;
        tracing::info!(
            target: "wharf::audit",
            event = "vulndb_import",
            new = self.report.new,
            updated = self.report.updated,
            unchanged = self.report.unchanged,
            invalid = self.report.invalid,
            rescans = self.report.rescans,
            "vulnerability database imported"
        );
        Ok(self.report)
    }

    /// Ends an import that cannot go on (its input broke, or the database failed): documents
    /// not yet written are dropped, but what the committed batches changed is settled as
    /// `finish` would — the update time recorded and continuous rescans queued. Answers the
    /// rescans queued; if this fails too, the changes stay pending for the next import.
    pub async fn abort(self) -> Result<u64, CoreError> {
        let rescans = self.registry.settle_vulndb_changes(false).await?;
        tracing::warn!(
            target: "wharf::audit",
            event = "vulndb_import_aborted",
            new = self.report.new,
            updated = self.report.updated,
            unchanged = self.report.unchanged,
            invalid = self.report.invalid,
            rescans,
            "vulnerability database import stopped partway"
        );
        Ok(rescans)
    }
}

impl Registry {
    /// Starts a streaming import.
    pub fn advisory_import(&self) -> AdvisoryImport {
        AdvisoryImport {
            registry: self.clone(),
            batch: Vec::new(),
            batch_bytes: 0,
            report: ImportReport::default(),
            started_at: unix_now(),
        }
    }

    /// Imports OSV documents (`(source, bytes)`), batched; see `AdvisoryImport`.
    pub async fn import_advisories<I>(&self, docs: I) -> Result<ImportReport, CoreError>
    where
        I: IntoIterator<Item = (String, Vec<u8>)>,
    {
        let mut import = self.advisory_import();
        for (source, json) in docs {
            import.add(&source, &json).await?;
        }
        import.finish().await
    }

    /// Acts on the lookup keys imports left pending (each batch files them as it commits, so
    /// they outlive an import that failed): records the database's update time when anything
    /// changed (`changed`, or keys pending), queues the continuous rescans of the images under
    /// those keys, then takes the keys off the list. Answers how many rescans were queued.
    async fn settle_vulndb_changes(&self, changed: bool) -> Result<u64, CoreError> {
        let pending = self.meta.vulndb_pending_keys().await?;
        if pending.is_empty() && !changed {
            return Ok(0);
        }
        self.meta.set_vulndb_updated(unix_now()).await?;
        let queued = self.queue_rescans().await?;
        // Only after the jobs are queued: a failure before this leaves the keys for next time.
        self.meta.clear_vulndb_pending_keys(&pending).await?;
        Ok(queued)
    }

    /// Queues a rescan of every image under continuous scanning with a package under a pending
    /// key; answers how many were queued.
    async fn queue_rescans(&self) -> Result<u64, CoreError> {
        let images = self.meta.images_with_pending_keys().await?;
        let mut configs = HashMap::new();
        let mut continuous: HashMap<(String, String), bool> = HashMap::new();
        let mut queued = 0;
        for image in images {
            let key = (image.account.clone(), image.repository.clone());
            let due = match continuous.get(&key) {
                Some(due) => *due,
                None => {
                    let due = self
                        .continuously_scanned(&image.account, &image.repository, &mut configs)
                        .await?;
                    continuous.insert(key, due);
                    due
                }
            };
            if !due {
                continue;
            }
            let (Ok(account), Ok(name)) = (image.account.parse(), image.repository.parse()) else {
                continue;
            };
            let repo = Repo::new(account, name);
            if !self.due_for_rescan(&repo, &image.digest).await? {
                continue;
            }
            if self
                .enqueue_job(&rescan_job(&repo, &image.digest))
                .await?
                .is_some()
            {
                queued += 1;
            }
        }
        Ok(queued)
    }

    /// Whether an image of a continuously scanned repository is rescanned: it still exists, is
    /// not archived and is within the scan eligibility window.
    async fn due_for_rescan(
        &self,
        repo: &Repo,
        digest: &wharf_oci::Digest,
    ) -> Result<bool, CoreError> {
        let Some(image) = self.meta.image(repo.key(), digest).await? else {
            return Ok(false);
        };
        // The summary query leaves the inventory and findings unread.
        let requested_at = self
            .meta
            .scan_summaries(repo.key(), std::slice::from_ref(digest))
            .await?
            .first()
            .map(|s| s.requested_at);
        Ok(self.rescan_eligible(&image, requested_at))
    }

    /// Whether a repository is under an ENHANCED CONTINUOUS_SCAN rule (`configs` caches each
    /// account's configuration).
    pub(super) async fn continuously_scanned(
        &self,
        account: &str,
        repository: &str,
        configs: &mut HashMap<String, super::RegistryScanningConfiguration>,
    ) -> Result<bool, CoreError> {
        let Ok(account_id) = account.parse::<AccountId>() else {
            return Ok(false);
        };
        if !configs.contains_key(account) {
            let config = self.registry_scanning_configuration(&account_id).await?;
            configs.insert(account.to_string(), config);
        }
        let Some(config) = configs.get(account) else {
            return Ok(false);
        };
        if config.scan_type != ScanType::Enhanced {
            return Ok(false);
        }
        let key = wharf_meta::RepoKey {
            account,
            name: repository,
        };
        let Some(record) = self.meta.repository(key).await? else {
            return Ok(false);
        };
        Ok(
            effective(config, repository, record.settings.scan_on_push).scan_frequency
                == ScanFrequency::ContinuousScan,
        )
    }

    /// The database's size and last update.
    pub async fn vulndb_status(&self) -> Result<VulnDbStatus, CoreError> {
        let c = self.meta.vulndb_counts().await?;
        Ok(VulnDbStatus {
            advisories: c.advisories.max(0) as u64,
            keys: c.keys.max(0) as u64,
            ecosystems: c
                .ecosystems
                .into_iter()
                .map(|(e, n)| (e, n.max(0) as u64))
                .collect(),
            updated_at: c.updated_at,
        })
    }
}
