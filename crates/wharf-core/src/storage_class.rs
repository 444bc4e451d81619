//! Moving an image between the standard and archive storage classes by hand
//! (`UpdateImageStorageClass`). Archived images stay listed and described but are not pullable;
//! a restore is immediate here (ECR's takes about 20 minutes, so it answers `ACTIVATING`), and
//! referrers move with their subject, in the same transaction (`remove_image`).

use crate::images::{ImageFailure, ImageId, ImageResult};
use crate::{CoreError, Registry, RemoveMode, RemoveOutcome, Repo};
use wharf_lifecycle::StorageClass;
use wharf_meta::ImageRecord;

impl Registry {
    /// Moves the image `id` names to `target` at `now`; answers the image and its new status.
    pub async fn update_storage_class(
        &self,
        repo: &Repo,
        id: &ImageId,
        target: StorageClass,
        now: i64,
    ) -> ImageResult<(ImageRecord, &'static str)> {
        let image = match self.resolve_image(repo, id).await? {
            Ok(i) => i,
            Err(f) => return Ok(Err(f)),
        };
        let archive = target == StorageClass::Archive;
        let archived = image.status == "ARCHIVED";
        if archive == archived {
            return Err(CoreError::StorageClassUpdateNotSupported(format!(
                "The image with digest '{}' is already in the {} storage class.",
                image.digest,
                if archive { "ARCHIVE" } else { "STANDARD" }
            )));
        }
        let mode = if archive {
            RemoveMode::Archive { at: now }
        } else {
            RemoveMode::Restore { at: now }
        };
        match self.remove_image(repo, &image.digest, mode).await? {
            RemoveOutcome::Removed { .. } => {}
            RemoveOutcome::NotFound => return Ok(Err(ImageFailure::ImageNotFound)),
            RemoveOutcome::ReferencedByIndex { child, .. } => {
                let what = if child == image.digest {
                    String::new()
                } else {
                    format!(" (its referrer '{child}')")
                };
                return Err(CoreError::StorageClassUpdateNotSupported(format!(
                    "The image with digest '{}'{what} is referenced by a manifest list or image index in the repository '{}'; archive the index instead.",
                    image.digest, repo.name
                )));
            }
        }
        tracing::info!(
            target: "wharf::audit",
            event = "storage_class",
            repository = %repo.qualified(),
            digest = %image.digest,
            target = if archive { "ARCHIVE" } else { "STANDARD" },
            "image storage class updated"
        );
        Ok(Ok((image, if archive { "ARCHIVED" } else { "ACTIVE" })))
    }
}
