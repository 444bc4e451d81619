//! Lifecycle policies at work on repositories: storing them, planning what a policy does to a
//! repository now (the preview and the job share one planner), and applying the plan with one audit
//! line per image expired or archived.
//!
//! The planner adds to `wharf_lifecycle::evaluate` what needs the repository's structure:
//! * referrers (signatures, SBOMs, attestations) whose subject is in the repository are not judged
//!   on their own; they follow their subject (removed with it, archived with it);
//! * an image listed by an index is neither expired nor archived while an index that stays lists
//!   it (platform images of a multi-arch image live as long as the index does).

use crate::{CoreError, Registry, RemoveMode, RemoveOutcome, Repo};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use wharf_lifecycle::{evaluate, Action, ImageFacts, LifecyclePolicy, StorageClass};
use wharf_meta::{ImageRecord, LifecyclePolicyRecord, PreviewRecord};
use wharf_oci::Digest;

/// One image a policy acts on, with what the preview reports about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedAction {
    pub digest: String,
    pub tags: Vec<String>,
    pub pushed_at: i64,
    /// The storage class the image is in now.
    pub storage_class: StorageClass,
    /// ECR's `appliedRulePriority`.
    pub rule_priority: i64,
    pub action: Action,
}

/// What applying (or dry-running) a repository's policy did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LifecycleOutcome {
    /// `account/name`.
    pub repository: String,
    pub planned: Vec<PlannedAction>,
    pub expired: u64,
    pub archived: u64,
    /// Referrers removed or archived with their subject.
    pub referrers: u64,
}

/// A stored preview with its results decoded.
#[derive(Debug, Clone)]
pub struct LifecyclePreview {
    pub policy_text: String,
    pub status: String,
    pub results: Vec<PlannedAction>,
}

/// The storage class an image record is in.
fn class_of(image: &ImageRecord) -> StorageClass {
    if image.status == "ARCHIVED" {
        StorageClass::Archive
    } else {
        StorageClass::Standard
    }
}

/// What the evaluator is told about an image. A restored image counts from its restore: ECR
/// orders by `lastActivatedAt` and uses it in place of a pull older than the restore.
fn facts(image: &ImageRecord) -> ImageFacts {
    let pushed_at = image
        .activated_at
        .map_or(image.pushed_at, |a| a.max(image.pushed_at));
    let last_pulled_at = match (image.last_pulled_at, image.activated_at) {
        (Some(p), Some(a)) => Some(p.max(a)),
        (p, a) => p.or(a),
    };
    ImageFacts {
        digest: image.digest.to_string(),
        tags: image.tags.clone(),
        pushed_at,
        last_pulled_at,
        transitioned_at: image.archived_at,
        storage_class: class_of(image),
    }
}

/// The plan for `images` under `policy` at `now` (Unix seconds). `children` are the repository's
/// (index, child) pairs.
pub fn plan(
    policy: &LifecyclePolicy,
    images: &[ImageRecord],
    children: &[(String, String)],
    now: i64,
) -> Vec<PlannedAction> {
    let present: HashSet<String> = images.iter().map(|i| i.digest.to_string()).collect();
    let judged: Vec<&ImageRecord> = images
        .iter()
        .filter(|i| i.subject.as_deref().is_none_or(|s| !present.contains(s)))
        .collect();
    let facts: Vec<ImageFacts> = judged.iter().map(|i| facts(i)).collect();
    let mut decisions = evaluate(policy, &facts, now);

    let mut parents: HashMap<&str, Vec<&str>> = HashMap::new();
    for (parent, child) in children {
        parents
            .entry(child.as_str())
            .or_default()
            .push(parent.as_str());
    }
    // Drop actions on images an index that stays still lists; dropping one may keep an index
    // that protects more, so repeat until nothing changes.
    loop {
        let expiring: HashSet<String> = decisions
            .iter()
            .filter(|d| d.action == Action::Expire)
            .map(|d| d.digest.clone())
            .collect();
        let before = decisions.len();
        decisions.retain(|d| {
            parents
                .get(d.digest.as_str())
                .is_none_or(|ps| ps.iter().all(|p| expiring.contains(*p)))
        });
        if decisions.len() == before {
            break;
        }
    }

    let by_digest: HashMap<String, &ImageRecord> =
        judged.iter().map(|i| (i.digest.to_string(), *i)).collect();
    decisions
        .into_iter()
        .filter_map(|d| {
            let image = by_digest.get(&d.digest)?;
            Some(PlannedAction {
                digest: d.digest,
                tags: image.tags.clone(),
                pushed_at: image.pushed_at,
                storage_class: class_of(image),
                rule_priority: d.rule_priority,
                action: d.action,
            })
        })
        .collect()
}

fn parse_policy(text: &str) -> Result<LifecyclePolicy, CoreError> {
    LifecyclePolicy::parse(text).map_err(|e| CoreError::InvalidParameter(e.message()))
}

impl Registry {
    /// Validates and sets the repository's lifecycle policy.
    pub async fn put_lifecycle_policy(&self, repo: &Repo, text: &str) -> Result<(), CoreError> {
        parse_policy(text)?;
        self.meta
            .set_lifecycle_policy(repo.key(), Some(text))
            .await?;
        Ok(())
    }

    /// The repository's lifecycle policy; `LifecyclePolicyNotFound` when none is set.
    pub async fn lifecycle_policy(&self, repo: &Repo) -> Result<LifecyclePolicyRecord, CoreError> {
        self.meta
            .lifecycle_policy(repo.key())
            .await?
            .ok_or(CoreError::LifecyclePolicyNotFound)
    }

    /// Removes the repository's lifecycle policy and answers it.
    pub async fn delete_lifecycle_policy(
        &self,
        repo: &Repo,
    ) -> Result<LifecyclePolicyRecord, CoreError> {
        self.meta
            .set_lifecycle_policy(repo.key(), None)
            .await?
            .ok_or(CoreError::LifecyclePolicyNotFound)
    }

    /// What `text` would do to the repository at `now`.
    pub async fn lifecycle_plan(
        &self,
        repo: &Repo,
        text: &str,
        now: i64,
    ) -> Result<Vec<PlannedAction>, CoreError> {
        let policy = parse_policy(text)?;
        let images = self.meta.all_images(repo.key()).await?;
        let children = self.meta.index_children(repo.key()).await?;
        Ok(plan(&policy, &images, &children, now))
    }

    /// Runs a preview of `text` (or of the repository's policy) and stores its results.
    pub async fn start_lifecycle_preview(
        &self,
        repo: &Repo,
        text: Option<&str>,
        now: i64,
    ) -> Result<LifecyclePreview, CoreError> {
        let text = match text {
            Some(t) => t.to_owned(),
            None => self.lifecycle_policy(repo).await?.text,
        };
        let results = self.lifecycle_plan(repo, &text, now).await?;
        let json = serde_json::to_string(&results)
            .map_err(|e| CoreError::Internal(format!("preview results: {e}")))?;
        self.meta
            .save_preview(repo.key(), &text, "COMPLETE", &json)
            .await?;
        Ok(LifecyclePreview {
            policy_text: text,
            status: "COMPLETE".into(),
            results,
        })
    }

    /// The repository's last preview; `LifecyclePolicyPreviewNotFound` when none was started.
    pub async fn lifecycle_preview(&self, repo: &Repo) -> Result<LifecyclePreview, CoreError> {
        self.meta
            .repository_id(repo.key())
            .await?
            .ok_or(CoreError::NameUnknown)?;
        let PreviewRecord {
            policy_text,
            status,
            results,
            ..
        } = self
            .meta
            .preview(repo.key())
            .await?
            .ok_or(CoreError::LifecyclePolicyPreviewNotFound)?;
        let results = serde_json::from_str(&results)
            .map_err(|e| CoreError::Internal(format!("stored preview results: {e}")))?;
        Ok(LifecyclePreview {
            policy_text,
            status,
            results,
        })
    }

    /// Applies the repository's policy at `now`; with `dry_run`, only plans. A repository without
    /// a policy is left alone.
    pub async fn apply_lifecycle(
        &self,
        repo: &Repo,
        now: i64,
        dry_run: bool,
    ) -> Result<LifecycleOutcome, CoreError> {
        let mut outcome = LifecycleOutcome {
            repository: repo.qualified(),
            ..Default::default()
        };
        let Some(policy) = self.meta.lifecycle_policy(repo.key()).await? else {
            return Ok(outcome);
        };
        outcome.planned = self.lifecycle_plan(repo, &policy.text, now).await?;
        if dry_run {
            return Ok(outcome);
        }
        let planned = std::mem::take(&mut outcome.planned);
        // Children of an index expiring in this run wait until the index is gone (the plan is
        // oldest first, and platform images are older than their index).
        let mut waiting: Vec<&PlannedAction> = Vec::new();
        for action in &planned {
            if !self.apply_one(repo, action, now, &mut outcome).await? {
                waiting.push(action);
            }
        }
        while !waiting.is_empty() {
            let before = waiting.len();
            let mut still = Vec::new();
            for action in waiting {
                if !self.apply_one(repo, action, now, &mut outcome).await? {
                    still.push(action);
                }
            }
            waiting = still;
            if waiting.len() == before {
                break; // Listed by an index that stays (one pushed since the plan).
            }
        }
        outcome.planned = planned;
        self.meta.mark_lifecycle_evaluated(repo.key(), now).await?;
        Ok(outcome)
    }

    /// Applies one planned action: the image and its referrers expire or move to the archive
    /// together (`remove_image`). `false` when it must wait: an index still lists the image (or
    /// one of its referrers).
    async fn apply_one(
        &self,
        repo: &Repo,
        action: &PlannedAction,
        now: i64,
        outcome: &mut LifecycleOutcome,
    ) -> Result<bool, CoreError> {
        let digest: Digest = action
            .digest
            .parse()
            .map_err(|_| CoreError::Internal("planned digest is valid".into()))?;
        let (mode, kind) = match action.action {
            Action::Expire => (RemoveMode::Delete, "expire"),
            Action::Transition { .. } => (RemoveMode::Archive { at: now }, "transition"),
        };
        // One transaction: the index check, the referrer closure and the change itself.
        let (image, referrers) = match self.remove_image(repo, &digest, mode).await? {
            RemoveOutcome::ReferencedByIndex { .. } => return Ok(false),
            RemoveOutcome::NotFound => return Ok(true), // Gone already.
            RemoveOutcome::Removed { image, referrers } => (image, referrers),
        };
        if image.is_some() {
            audit(repo, action, kind);
            match action.action {
                Action::Expire => outcome.expired += 1,
                Action::Transition { .. } => outcome.archived += 1,
            }
        }
        for r in referrers {
            audit_referrer(repo, &r, &digest, action, kind);
            outcome.referrers += 1;
        }
        Ok(true)
    }

    /// Applies the policy of every repository that has one (of one account, when given).
    pub async fn apply_lifecycle_all(
        &self,
        account: Option<&crate::AccountId>,
        now: i64,
        dry_run: bool,
    ) -> Result<Vec<LifecycleOutcome>, CoreError> {
        let repos = self
            .meta
            .lifecycle_repositories(account.map(|a| a.as_str()))
            .await?;
        let mut out = Vec::with_capacity(repos.len());
        for r in repos {
            let (Ok(account), Ok(name)) = (r.account.parse(), r.name.parse()) else {
                tracing::warn!(account = %r.account, name = %r.name, "skipping a repository with an invalid stored name");
                continue;
            };
            let repo = Repo { account, name };
            match self.apply_lifecycle(&repo, now, dry_run).await {
                Ok(o) => out.push(o),
                // The repository was deleted meanwhile.
                Err(CoreError::NameUnknown) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }
}

/// The audit line of one lifecycle action.
fn audit(repo: &Repo, action: &PlannedAction, kind: &str) {
    tracing::info!(
        target: "wharf::audit",
        event = "lifecycle",
        action = kind,
        repository = %repo.qualified(),
        digest = %action.digest,
        tags = %action.tags.join(","),
        rule_priority = action.rule_priority,
        "lifecycle policy {kind} of {} in {} by rule {}",
        action.digest,
        repo.qualified(),
        action.rule_priority
    );
}

/// The audit line of a referrer that followed its subject.
fn audit_referrer(repo: &Repo, referrer: &Digest, subject: &Digest, a: &PlannedAction, kind: &str) {
    tracing::info!(
        target: "wharf::audit",
        event = "lifecycle",
        action = kind,
        repository = %repo.qualified(),
        digest = %referrer,
        subject = %subject,
        rule_priority = a.rule_priority,
        "lifecycle policy {kind} of referrer {referrer} with its subject {subject} in {}",
        repo.qualified()
    );
}
