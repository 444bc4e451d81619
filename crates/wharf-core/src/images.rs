//! Images as the ECR API sees them: identified by digest and/or tag, described, fetched, deleted.

use crate::{CoreError, Principal, Registry, Repo};
use std::time::{Duration, Instant};

/// How often a pull of the same image updates its recorded pull time.
pub const PULL_RECORD_INTERVAL: Duration = Duration::from_secs(3600);
use wharf_meta::ImageRecord;

/// When this process last recorded each image's pull (see `Registry::pulls`).
pub(crate) type PullTimes = quick_cache::sync::Cache<(String, Digest), Instant>;
use wharf_oci::{Digest, Reference, Tag};

/// An `ImageIdentifier`: a digest, a tag, or both.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageId {
    pub digest: Option<String>,
    pub tag: Option<String>,
}

/// Why one image of a batch could not be acted on (ECR's `ImageFailure.failureCode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFailure {
    InvalidImageDigest,
    InvalidImageTag,
    ImageTagDoesNotMatchDigest,
    ImageNotFound,
    MissingDigestAndTag,
    ImageReferencedByManifestList,
}

impl ImageFailure {
    pub fn code(self) -> &'static str {
        match self {
            ImageFailure::InvalidImageDigest => "InvalidImageDigest",
            ImageFailure::InvalidImageTag => "InvalidImageTag",
            ImageFailure::ImageTagDoesNotMatchDigest => "ImageTagDoesNotMatchDigest",
            ImageFailure::ImageNotFound => "ImageNotFound",
            ImageFailure::MissingDigestAndTag => "MissingDigestAndTag",
            ImageFailure::ImageReferencedByManifestList => "ImageReferencedByManifestList",
        }
    }
}

/// The outcome for one image of a batch: the image, a per-image failure, or an error for the call.
pub type ImageResult<T> = Result<Result<T, ImageFailure>, CoreError>;

impl Registry {
    /// Resolves an image id to the image it names.
    pub async fn resolve_image(&self, repo: &Repo, id: &ImageId) -> ImageResult<ImageRecord> {
        let digest = match &id.digest {
            Some(d) => match d.parse::<Digest>() {
                Ok(d) => Some(d),
                Err(_) => return Ok(Err(ImageFailure::InvalidImageDigest)),
            },
            None => None,
        };
        let tagged = match &id.tag {
            Some(t) => {
                if t.parse::<Tag>().is_err() {
                    return Ok(Err(ImageFailure::InvalidImageTag));
                }
                match self.meta.tag_digest(repo.key(), t).await? {
                    Some(d) => Some(d),
                    None => return Ok(Err(ImageFailure::ImageNotFound)),
                }
            }
            None => None,
        };
        let digest = match (digest, tagged) {
            (None, None) => return Ok(Err(ImageFailure::MissingDigestAndTag)),
            (Some(d), Some(t)) if d != t => {
                return Ok(Err(ImageFailure::ImageTagDoesNotMatchDigest))
            }
            (Some(d), _) | (None, Some(d)) => d,
        };
        match self.meta.image(repo.key(), &digest).await? {
            Some(image) => Ok(Ok(image)),
            None => Ok(Err(ImageFailure::ImageNotFound)),
        }
    }

    /// A page of images ordered by digest.
    pub async fn images(
        &self,
        repo: &Repo,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ImageRecord>, CoreError> {
        Ok(self.meta.images(repo.key(), after, limit as i64).await?)
    }

    /// Deletes what an image id names: a tag alone removes the tag (and the image with its last
    /// tag, as ECR does); a digest removes the image with all its tags and its referrers.
    pub async fn delete_image(&self, repo: &Repo, id: &ImageId) -> ImageResult<ImageRecord> {
        let image = match self.resolve_image(repo, id).await? {
            Ok(i) => i,
            Err(f) => return Ok(Err(f)),
        };
        let whole_image = id.digest.is_some() || image.tags.len() <= 1;
        if whole_image {
            // One transaction checks that no index lists the image (or a referrer of it) and
            // deletes it with its referrers, so an index pushed meanwhile cannot slip between.
            let deleted = self
                .delete_manifest_as(
                    repo,
                    &Reference::Digest(image.digest.clone()),
                    id.tag.as_deref(),
                )
                .await;
            match deleted {
                Ok(()) => {}
                Err(CoreError::ManifestReferenced { .. }) => {
                    return Ok(Err(ImageFailure::ImageReferencedByManifestList))
                }
                // Deleted by someone else since it was resolved.
                Err(CoreError::ManifestUnknown) => return Ok(Err(ImageFailure::ImageNotFound)),
                Err(e) => return Err(e),
            }
        } else if let Some(tag) = &id.tag {
            let tag: Tag = tag
                .parse()
                .map_err(|_| CoreError::Internal("tag was validated".into()))?;
            self.delete_manifest(repo, &Reference::Tag(tag)).await?;
        }
        Ok(Ok(image))
    }

    /// Whether a pull of this image is due to be recorded (ECR's `lastRecordedPullTime`): like ECR,
    /// the time is recorded at most once per `PULL_RECORD_INTERVAL` per image.
    fn pull_due(&self, repo: &Repo, digest: &Digest) -> bool {
        self.pulls
            .get(&(repo.qualified(), digest.clone()))
            .is_none_or(|at| at.elapsed() >= PULL_RECORD_INTERVAL)
    }

    /// Records a pull that was due, unless the registry excludes the puller (ECR's pull time
    /// update exclusions): an excluded principal's pull changes nothing, so neither
    /// `lastRecordedPullTime` nor lifecycle's `sinceImagePulled` sees it, and the next pull by
    /// anyone else is still recorded.
    async fn record_due_pull(
        meta: &wharf_meta::MetaStore,
        pulls: &PullTimes,
        repo: &Repo,
        digest: &Digest,
        principal: &Principal,
    ) -> Result<(), CoreError> {
        if let Principal::User(_) = principal {
            if meta
                .pull_excluded(repo.account.as_str(), &principal.arn())
                .await?
            {
                return Ok(());
            }
        }
        pulls.insert((repo.qualified(), digest.clone()), Instant::now());
        Ok(meta
            .record_pull(repo.key(), digest, crate::unix_now())
            .await?)
    }

    /// Records a pull now, when one is due, and waits for the write.
    pub async fn record_pull(
        &self,
        repo: &Repo,
        digest: &Digest,
        principal: &Principal,
    ) -> Result<(), CoreError> {
        if !self.pull_due(repo, digest) {
            return Ok(());
        }
        Self::record_due_pull(&self.meta, &self.pulls, repo, digest, principal).await
    }

    /// Records a pull when one is due, off the request path: `/v2/` pulls neither write nor wait.
    pub fn note_pull(&self, repo: &Repo, digest: &Digest, principal: &Principal) {
        if !self.pull_due(repo, digest) {
            return;
        }
        let (meta, pulls) = (self.meta.clone(), self.pulls.clone());
        let (repo, digest, principal) = (repo.clone(), digest.clone(), principal.clone());
        tokio::spawn(async move {
            if let Err(e) = Self::record_due_pull(&meta, &pulls, &repo, &digest, &principal).await {
                tracing::warn!(error = %e, "recording a pull failed");
            }
        });
    }
}
