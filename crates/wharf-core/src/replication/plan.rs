//! What replicating one image copies, in the order a destination accepts it: each manifest's
//! blobs before the manifest, an index's children before the index, the image before its
//! referrers (and theirs), and the tags last, once every digest they name is in place. Manifest
//! bytes are carried exactly as pushed; blobs are named with their sizes and streamed later.

use crate::{CoreError, Registry, Repo};
use std::collections::HashSet;
use std::sync::Arc;
use wharf_oci::{Digest, Manifest, Reference};

/// One thing to put at the destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A blob, unless the destination has it.
    Blob { digest: Digest, size: u64 },
    /// A manifest by digest.
    Manifest {
        digest: Digest,
        media_type: String,
        body: Arc<[u8]>,
    },
    /// A tag pointed at a manifest already put (the same bytes again, by tag).
    Tag {
        tag: String,
        digest: Digest,
        media_type: String,
        body: Arc<[u8]>,
    },
}

/// The steps of one image's replication.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplicationPlan {
    pub steps: Vec<Step>,
}

impl ReplicationPlan {
    pub fn blobs(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| matches!(s, Step::Blob { .. }))
            .count()
    }

    pub fn manifests(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| matches!(s, Step::Manifest { .. }))
            .count()
    }
}

impl Registry {
    /// The plan replicating `digest` of `repo` with its current tags; `None` when the image is
    /// gone (deleted after the push: nothing to replicate).
    pub async fn replication_plan(
        &self,
        repo: &Repo,
        digest: &Digest,
    ) -> Result<Option<ReplicationPlan>, CoreError> {
        let Some(root) = self
            .meta
            .get_manifest(repo.key(), &Reference::Digest(digest.clone()))
            .await?
        else {
            return Ok(None);
        };
        let mut plan = ReplicationPlan::default();
        let mut seen_blobs = HashSet::new();
        let mut seen_manifests = HashSet::new();
        // Depth-first, children before parents: (digest, expanded?) on an explicit stack.
        let mut pending: Vec<Digest> = vec![root.digest.clone()];
        while let Some(d) = pending.pop() {
            if !seen_manifests.insert(d.clone()) {
                continue;
            }
            self.plan_manifest(repo, &d, &mut plan, &mut seen_blobs, &mut seen_manifests)
                .await?;
            // Referrers after their subject; a referrer's own referrers follow it.
            for r in self.meta.referrers(repo.key(), &d).await? {
                if r.status == "ACTIVE" && !seen_manifests.contains(&r.digest) {
                    pending.push(r.digest);
                }
            }
        }
        let image = self
            .resolve_image(
                repo,
                &crate::ImageId {
                    digest: Some(digest.to_string()),
                    tag: None,
                },
            )
            .await?;
        if let Ok(image) = image {
            for tag in image.tags {
                plan.steps.push(Step::Tag {
                    tag,
                    digest: root.digest.clone(),
                    media_type: root.media_type.clone(),
                    body: root.body.clone().into(),
                });
            }
        }
        Ok(Some(plan))
    }

    /// Adds one manifest (children first, recursively) to the plan.
    async fn plan_manifest(
        &self,
        repo: &Repo,
        digest: &Digest,
        plan: &mut ReplicationPlan,
        seen_blobs: &mut HashSet<Digest>,
        seen_manifests: &mut HashSet<Digest>,
    ) -> Result<(), CoreError> {
        // (digest, children already planned?)
        let mut stack: Vec<(Digest, bool)> = vec![(digest.clone(), false)];
        while let Some((d, expanded)) = stack.pop() {
            let stored = self
                .meta
                .get_manifest(repo.key(), &Reference::Digest(d.clone()))
                .await?
                .ok_or_else(|| {
                    CoreError::Internal(format!("manifest {d} vanished while planning replication"))
                })?;
            let manifest = Manifest::parse(&stored.body, Some(&stored.media_type))
                .map_err(|e| CoreError::Internal(format!("stored manifest {d}: {e}")))?;
            if !expanded {
                stack.push((d.clone(), true));
                for child in manifest.child_refs() {
                    if seen_manifests.insert(child.digest.clone()) {
                        stack.push((child.digest.clone(), false));
                    }
                }
                continue;
            }
            for b in manifest.blob_refs() {
                if seen_blobs.insert(b.digest.clone()) {
                    plan.steps.push(Step::Blob {
                        digest: b.digest.clone(),
                        size: b.size,
                    });
                }
            }
            plan.steps.push(Step::Manifest {
                digest: stored.digest,
                media_type: stored.media_type,
                body: stored.body.into(),
            });
        }
        Ok(())
    }
}
