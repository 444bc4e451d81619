//! Moving an image between the standard and archive storage classes by hand
//! (`UpdateImageStorageClass`). Archived images stay listed and described but are not pullable;
//! a restore is immediate here (ECR's takes about 20 minutes, so it answers `ACTIVATING`), and
//! referrers move with their subject.

use crate::images::{ImageId, ImageResult};
use crate::{CoreError, Registry, Repo};
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
        if archive
            && self
                .meta
                .is_child_of_index(repo.key(), &image.digest)
                .await?
        {
            return Err(CoreError::StorageClassUpdateNotSupported(format!(
                "The image with digest '{}' is referenced by a manifest list or image index in the repository '{}'; archive the index instead.",
                image.digest, repo.name
            )));
        }
        self.set_archived(repo, &image.digest, archive, now).await?;
        for r in self.referrer_closure(repo, &image.digest).await? {
            self.set_archived(repo, &r, archive, now).await?;
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
