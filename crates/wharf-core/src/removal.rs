//! Removing an image with its referrers: the one path behind `/v2/` DELETE by digest,
//! BatchDeleteImage of a whole image, lifecycle expiry and transition, UpdateImageStorageClass
//! and the restore of a re-pushed archived image.
//!
//! The metadata store does the work in one write transaction (wharf-meta `removal.rs`): it
//! refuses while an index that stays lists the image or one of its referrers, and otherwise
//! deletes, archives or restores the image with its whole referrer closure. Here the manifest
//! cache then forgets every digest that changed. Events and audit lines are the callers' (a
//! `/v2/` or BatchDeleteImage delete emits one DELETE event for the image it named; lifecycle
//! writes one audit line per image and per referrer).

use crate::{CoreError, Registry, Repo};
use wharf_oci::Digest;

pub use wharf_meta::{RemoveMode, RemoveOutcome};

impl Registry {
    /// Deletes, archives or restores the image `digest` of `repo` with its referrers, in one
    /// transaction; `NameUnknown` for an unknown repository.
    pub async fn remove_image(
        &self,
        repo: &Repo,
        digest: &Digest,
        mode: RemoveMode,
    ) -> Result<RemoveOutcome, CoreError> {
        let outcome = self.meta.remove_image(repo.key(), digest, mode).await?;
        let qualified = repo.qualified();
        for d in outcome.affected() {
            self.cache.invalidate_manifest(&qualified, d);
        }
        Ok(outcome)
    }
}
