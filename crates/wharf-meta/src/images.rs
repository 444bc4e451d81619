//! Image listings and details for the ECR API: manifests with their tags, sizes and times.

use crate::{parse_digest, MetaError, MetaStore, RepoKey, Result};
use wharf_oci::Digest;

/// An image (manifest) with what `DescribeImages` reports about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRecord {
    pub digest: Digest,
    pub media_type: String,
    pub artifact_type: Option<String>,
    pub image_size: i64,
    pub pushed_at: i64,
    pub last_pulled_at: Option<i64>,
    pub subject: Option<String>,
    /// Tags pointing at the image, sorted.
    pub tags: Vec<String>,
    /// `ACTIVE` or `ARCHIVED` (ECR's `imageStatus`).
    pub status: String,
    /// When the image was last archived (`lastArchivedAt`).
    pub archived_at: Option<i64>,
    /// When the image was last restored from the archive (`lastActivatedAt`).
    pub activated_at: Option<i64>,
}

pub(crate) type ImageRow = (
    String,
    String,
    Option<String>,
    i64,
    i64,
    Option<i64>,
    Option<String>,
    Option<String>,
    String,
    Option<i64>,
    Option<i64>,
);

pub(crate) const IMAGE_SELECT: &str =
    "SELECT m.digest, m.media_type, m.artifact_type, m.image_size, m.pushed_at, m.last_pulled_at,
        m.subject, (SELECT string_agg(t.name, '\n' ORDER BY t.name) FROM tags t
                    WHERE t.repository_id = m.repository_id AND t.digest = m.digest),
        m.image_status, m.archived_at, m.activated_at
     FROM manifests m";

pub(crate) fn image(
    (
        digest,
        media_type,
        artifact_type,
        image_size,
        pushed_at,
        last_pulled_at,
        subject,
        tags,
        status,
        archived_at,
        activated_at,
    ): ImageRow,
) -> Result<ImageRecord> {
    Ok(ImageRecord {
        digest: parse_digest(&digest)?,
        media_type,
        artifact_type,
        image_size,
        pushed_at,
        last_pulled_at,
        subject,
        tags: tags
            .map(|t| t.split('\n').map(str::to_owned).collect())
            .unwrap_or_default(),
        status,
        archived_at,
        activated_at,
    })
}

impl MetaStore {
    /// A page of a repository's images ordered by digest, after `after`.
    pub async fn images(
        &self,
        repo: RepoKey<'_>,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<ImageRecord>> {
        let id = self
            .repository_id(repo)
            .await?
            .ok_or(MetaError::RepositoryNotFound)?;
        let rows: Vec<ImageRow> = sqlx::query_as(&format!(
            "{IMAGE_SELECT} WHERE m.repository_id = $1 AND m.digest > $2 ORDER BY m.digest LIMIT $3"
        ))
        .bind(id)
        .bind(after.unwrap_or(""))
        .bind(limit)
        .fetch_all(&self.reader)
        .await?;
        rows.into_iter().map(image).collect()
    }

    /// One image by digest.
    pub async fn image(&self, repo: RepoKey<'_>, digest: &Digest) -> Result<Option<ImageRecord>> {
        let id = self
            .repository_id(repo)
            .await?
            .ok_or(MetaError::RepositoryNotFound)?;
        let row: Option<ImageRow> = sqlx::query_as(&format!(
            "{IMAGE_SELECT} WHERE m.repository_id = $1 AND m.digest = $2"
        ))
        .bind(id)
        .bind(digest.to_string())
        .fetch_optional(&self.reader)
        .await?;
        row.map(image).transpose()
    }

    /// The digest a tag points at.
    pub async fn tag_digest(&self, repo: RepoKey<'_>, tag: &str) -> Result<Option<Digest>> {
        let d: Option<String> = sqlx::query_scalar(
            "SELECT t.digest FROM tags t JOIN repositories r ON r.id = t.repository_id
             WHERE r.account_id = $1 AND r.name = $2 AND t.name = $3",
        )
        .bind(repo.account)
        .bind(repo.name)
        .bind(tag)
        .fetch_optional(&self.reader)
        .await?;
        d.map(|d| parse_digest(&d)).transpose()
    }

    /// Records a pull time (ECR's `lastRecordedPullTime`).
    pub async fn record_pull(&self, repo: RepoKey<'_>, digest: &Digest, at: i64) -> Result<()> {
        sqlx::query(
            "UPDATE manifests SET last_pulled_at = $1 WHERE digest = $2
             AND repository_id = (SELECT id FROM repositories WHERE account_id = $3 AND name = $4)",
        )
        .bind(at)
        .bind(digest.to_string())
        .bind(repo.account)
        .bind(repo.name)
        .execute(&self.writer)
        .await?;
        Ok(())
    }
}
