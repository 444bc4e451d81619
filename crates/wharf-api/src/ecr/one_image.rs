//! Operations on one image named by an `imageId` (DescribeImageScanFindings, StartImageScan,
//! DescribeImageReplicationStatus, DescribeImageSigningStatus): authorizing the action, requiring
//! the repository, resolving the id, and the errors and echoed id these answers share.

use super::images::ImageIdentifier;
use super::{Ctx, EcrError};
use serde_json::{json, Value};
use wharf_core::model::ImageRecord;
use wharf_core::{Action, ImageFailure, Repo};

impl Ctx<'_> {
    /// Authorizes `action` on the repository, requires it to exist (RepositoryNotFound, not an
    /// unknown image in it), and resolves `id` to its image.
    pub async fn authorized_image(
        &self,
        action: Action,
        registry_id: Option<&str>,
        repository_name: &str,
        id: &ImageIdentifier,
    ) -> Result<(Repo, ImageRecord), EcrError> {
        let repo = self.repo(registry_id, repository_name)?;
        self.authorize(action, &repo).await?;
        self.require_repo(&repo).await?;
        let image = self
            .state
            .registry
            .resolve_image(&repo, &id.id())
            .await
            .map_err(|e| self.core_error(e, &repo))?
            .map_err(|f| image_failure(id, f, &repo))?;
        Ok((repo, image))
    }
}

/// The ECR error for an image id that names no usable image.
pub(super) fn image_failure(id: &ImageIdentifier, f: ImageFailure, repo: &Repo) -> EcrError {
    match f {
        ImageFailure::ImageNotFound => id.not_found(repo),
        ImageFailure::MissingDigestAndTag => EcrError::invalid(
            "Invalid parameter at 'imageId' failed to satisfy constraint: 'imageDigest or imageTag must be specified'",
        ),
        other => EcrError::invalid(format!(
            "Invalid parameter at 'imageId' failed to satisfy constraint: '{}'",
            other.code()
        )),
    }
}

/// The `imageId` an answer echoes: the digest always, the tag when the request named one.
pub(super) fn image_id_json(image: &ImageRecord, id: &ImageIdentifier) -> Value {
    let mut v = json!({ "imageDigest": image.digest.to_string() });
    if let Some(t) = id.tag() {
        v["imageTag"] = json!(t);
    }
    v
}
