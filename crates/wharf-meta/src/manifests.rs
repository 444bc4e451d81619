//! Manifests, tags and referrers.
//!
//! A manifest is stored with its exact bytes and the references extracted from it. `put_manifest`
//! checks, inside its write transaction, that every referenced blob and child manifest is present in
//! the repository, so a concurrent delete can never leave a manifest pointing at nothing.
//! Manifests are deleted (and archived) only with their referrers, by `removal.rs`.

use crate::{now, parse_digest, queue, repos, MetaError, MetaStore, NewJob, RepoKey, Result};
use wharf_oci::{Digest, Reference};

/// A page of tag names, serialized by the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagPage {
    /// The names as a JSON array of strings, in lexical order (`[]` when empty).
    pub json: String,
    /// The page's last name, when more tags follow (the `last` of the next page).
    pub last: Option<String>,
    /// Whether more tags follow the page.
    pub more: bool,
}

/// A manifest to store.
#[derive(Debug, Clone)]
pub struct NewManifest<'a> {
    pub repository: RepoKey<'a>,
    pub digest: &'a Digest,
    pub media_type: &'a str,
    pub artifact_type: Option<&'a str>,
    pub subject: Option<&'a Digest>,
    /// Annotations as a JSON object, for the referrers API.
    pub annotations: Option<String>,
    pub body: &'a [u8],
    pub blobs: Vec<Digest>,
    pub children: Vec<Digest>,
    /// Tags to point at the manifest.
    pub tags: Vec<&'a str>,
    /// Tags among `tags` that are immutable: they may be created but never moved.
    pub frozen_tags: Vec<&'a str>,
    /// The image size ECR reports: the layers' and the config's total for an image; `None` for an
    /// index, whose size is its largest child's.
    pub image_size: Option<i64>,
    /// When the push starts a scan (scan on push): its scan type (`BASIC`, `ENHANCED`). A new
    /// manifest then gets an `IN_PROGRESS` scan row in the push transaction, so a client asking
    /// for findings right after the push never sees "no scan".
    pub scan: Option<&'a str>,
    /// Jobs to enqueue in the same transaction (a scan of the pushed image): they exist exactly
    /// when the push committed. Whatever is given here is enqueued, but wharf-core gives a scan
    /// job only for a manifest that was not stored yet (a re-push starts no scan); the job's
    /// dedupe key covers the rest, such as two pushes of the same new image racing.
    pub jobs: Vec<NewJob>,
    /// Replication: per destination `(region, registry id)` its replicate job. Enqueued, with an
    /// `IN_PROGRESS` status row, in the same transaction, but only when the push changed
    /// something (a new manifest, a tag created or moved, an image restored): a re-push of what
    /// is there replicates nothing, so two registries replicating to each other settle.
    pub replications: Vec<(String, String, NewJob)>,
    /// The sign job and the signing profile ARNs it signs with: enqueued (and each profile
    /// recorded `IN_PROGRESS`) only when the manifest is new to the repository. One job signs
    /// with every profile, so the signatures of one image are written by one writer.
    pub signing: Option<(NewJob, Vec<String>)>,
}

/// What storing a manifest changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PutOutcome {
    /// The manifest was new to the repository.
    pub inserted: bool,
    /// At least one tag was created or moved.
    pub tags_changed: bool,
    /// The manifest was archived and pushing it again restored it (as ECR does).
    pub restored: bool,
}

/// A manifest as served.
#[derive(Debug, Clone)]
pub struct StoredManifest {
    pub digest: Digest,
    pub media_type: String,
    pub body: Vec<u8>,
}

/// A referrers query row: digest, media type, size, artifact type, annotations, status.
type ReferrerRow = (String, String, i64, Option<String>, Option<String>, String);

/// One entry of the referrers index.
#[derive(Debug, Clone)]
pub struct Referrer {
    pub digest: Digest,
    pub media_type: String,
    pub size: u64,
    pub artifact_type: Option<String>,
    pub annotations: Option<String>,
    /// `ACTIVE` or `ARCHIVED`.
    pub status: String,
}

impl MetaStore {
    /// Stores a manifest (and moves the tag, if any) in one transaction, after checking that every
    /// referenced blob and child manifest is present in the repository.
    pub async fn put_manifest(&self, m: NewManifest<'_>) -> Result<PutOutcome> {
        let mut tx = self.begin_write_repo(m.repository).await?;
        let repo_id = repos::ensure(&mut tx, m.repository).await?;
        let mut missing_blobs = Vec::new();
        for b in &m.blobs {
            let present: Option<i64> = sqlx::query_scalar(
                "SELECT 1 FROM repository_blobs WHERE repository_id = $1 AND digest = $2",
            )
            .bind(repo_id)
            .bind(b.to_string())
            .fetch_optional(&mut *tx)
            .await?;
            if present.is_none() && !missing_blobs.contains(b) {
                missing_blobs.push(b.clone());
            }
        }
        let mut missing_children = Vec::new();
        for c in &m.children {
            let present: Option<i64> = sqlx::query_scalar(
                "SELECT 1 FROM manifests WHERE repository_id = $1 AND digest = $2",
            )
            .bind(repo_id)
            .bind(c.to_string())
            .fetch_optional(&mut *tx)
            .await?;
            if present.is_none() && !missing_children.contains(c) {
                missing_children.push(c.clone());
            }
        }
        if !missing_blobs.is_empty() || !missing_children.is_empty() {
            return Err(MetaError::MissingReferences {
                blobs: missing_blobs,
                manifests: missing_children,
            });
        }
        let digest = m.digest.to_string();
        let t = now();
        for tag in &m.frozen_tags {
            let current: Option<String> = sqlx::query_scalar(
                "SELECT digest FROM tags WHERE repository_id = $1 AND name = $2",
            )
            .bind(repo_id)
            .bind(*tag)
            .fetch_optional(&mut *tx)
            .await?;
            if current.is_some_and(|c| c != digest) {
                return Err(MetaError::TagImmutable(tag.to_string()));
            }
        }
        let image_size = match m.image_size {
            Some(size) => size,
            None => {
                let mut largest = 0i64;
                for c in &m.children {
                    let size: Option<i64> = sqlx::query_scalar(
                        "SELECT image_size FROM manifests WHERE repository_id = $1 AND digest = $2",
                    )
                    .bind(repo_id)
                    .bind(c.to_string())
                    .fetch_optional(&mut *tx)
                    .await?;
                    largest = largest.max(size.unwrap_or(0));
                }
                largest
            }
        };
        let inserted = sqlx::query(
            "INSERT INTO manifests (repository_id, digest, media_type, artifact_type, subject, annotations, size, image_size, body, pushed_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
        )
        .bind(repo_id)
        .bind(&digest)
        .bind(m.media_type)
        .bind(m.artifact_type)
        .bind(m.subject.map(|s| s.to_string()))
        .bind(&m.annotations)
        .bind(m.body.len() as i64)
        .bind(image_size)
        .bind(m.body)
        .bind(t)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        let restored = !inserted
            && sqlx::query(
                "UPDATE manifests SET image_status = 'ACTIVE', activated_at = $1
                 WHERE repository_id = $2 AND digest = $3 AND image_status <> 'ACTIVE'",
            )
            .bind(t)
            .bind(repo_id)
            .bind(&digest)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                > 0;
        if inserted {
            for b in &m.blobs {
                sqlx::query(
                    "INSERT INTO manifest_blobs (repository_id, manifest_digest, blob_digest) VALUES ($1, $2, $3)
                     ON CONFLICT DO NOTHING",
                )
                .bind(repo_id)
                .bind(&digest)
                .bind(b.to_string())
                .execute(&mut *tx)
                .await?;
            }
            for c in &m.children {
                sqlx::query(
                    "INSERT INTO manifest_children (repository_id, parent_digest, child_digest) VALUES ($1, $2, $3)
                     ON CONFLICT DO NOTHING",
                )
                .bind(repo_id)
                .bind(&digest)
                .bind(c.to_string())
                .execute(&mut *tx)
                .await?;
            }
        }
        if let (true, Some(scan_type)) = (inserted, m.scan) {
            sqlx::query(
                "INSERT INTO image_scans (repository_id, manifest_digest, status, scan_type, requested_at)
                 VALUES ($1, $2, 'IN_PROGRESS', $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(repo_id)
            .bind(&digest)
            .bind(scan_type)
            .bind(t)
            .execute(&mut *tx)
            .await?;
        }
        let mut tags_changed = false;
        for tag in &m.tags {
            let changed = sqlx::query(
                "INSERT INTO tags (repository_id, name, digest, updated_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (repository_id, name) DO UPDATE SET digest = excluded.digest, updated_at = excluded.updated_at
                 WHERE tags.digest <> excluded.digest",
            )
            .bind(repo_id)
            .bind(*tag)
            .bind(&digest)
            .bind(t)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tags_changed |= changed > 0;
        }
        for job in &m.jobs {
            queue::insert(&mut *tx, job, t).await?;
        }
        let changed = inserted || tags_changed || restored;
        for (region, registry_id, job) in m.replications.iter().filter(|_| changed) {
            queue::insert(&mut *tx, job, t).await?;
            crate::replication::upsert_status(
                &mut *tx,
                m.repository,
                m.digest,
                (region, registry_id),
                "IN_PROGRESS",
                None,
                t,
            )
            .await?;
        }
        if let (true, Some((job, _))) = (inserted, &m.signing) {
            queue::insert(&mut *tx, job, t).await?;
        }
        let profiles = m.signing.iter().flat_map(|(_, arns)| arns);
        for profile_arn in profiles.filter(|_| inserted) {
            crate::signing::upsert_status(
                &mut *tx,
                m.repository,
                m.digest,
                profile_arn,
                "IN_PROGRESS",
                None,
                t,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(PutOutcome {
            inserted,
            tags_changed,
            restored,
        })
    }

    /// Fetches an active manifest's bytes by tag or digest; archived manifests are not served.
    pub async fn get_manifest(
        &self,
        repo: RepoKey<'_>,
        reference: &Reference,
    ) -> Result<Option<StoredManifest>> {
        let row: Option<(String, String, Vec<u8>)> = match reference {
            Reference::Tag(tag) => {
                sqlx::query_as(
                    "SELECT m.digest, m.media_type, m.body FROM tags t
                     JOIN repositories r ON r.id = t.repository_id
                     JOIN manifests m ON m.repository_id = t.repository_id AND m.digest = t.digest
                     WHERE r.account_id = $1 AND r.name = $2 AND t.name = $3
                     AND m.image_status = 'ACTIVE'",
                )
                .bind(repo.account)
                .bind(repo.name)
                .bind(tag.as_str())
                .fetch_optional(&self.reader)
                .await?
            }
            Reference::Digest(d) => {
                sqlx::query_as(
                    "SELECT m.digest, m.media_type, m.body FROM manifests m
                     JOIN repositories r ON r.id = m.repository_id
                     WHERE r.account_id = $1 AND r.name = $2 AND m.digest = $3
                     AND m.image_status = 'ACTIVE'",
                )
                .bind(repo.account)
                .bind(repo.name)
                .bind(d.to_string())
                .fetch_optional(&self.reader)
                .await?
            }
        };
        row.map(|(d, media_type, body)| {
            Ok(StoredManifest {
                digest: parse_digest(&d)?,
                media_type,
                body,
            })
        })
        .transpose()
    }

    /// Deletes one tag, leaving its manifest. Returns whether the tag existed.
    pub async fn delete_tag(&self, repo: RepoKey<'_>, tag: &str) -> Result<bool> {
        let res = sqlx::query(
            "DELETE FROM tags WHERE name = $1
             AND repository_id = (SELECT id FROM repositories WHERE account_id = $2 AND name = $3)",
        )
        .bind(tag)
        .bind(repo.account)
        .bind(repo.name)
        .execute(&self.writer)
        .await?;
        Ok(res.rows_affected() > 0)
    }

    /// Tags after `last` in lexical order, at most `limit`; `RepositoryNotFound` for an unknown
    /// repository.
    pub async fn list_tags(
        &self,
        repo: RepoKey<'_>,
        last: Option<&str>,
        limit: i64,
    ) -> Result<Vec<String>> {
        let id = self
            .repository_id(repo)
            .await?
            .ok_or(MetaError::RepositoryNotFound)?;
        Ok(sqlx::query_scalar(
            "SELECT name FROM tags WHERE repository_id = $1 AND name > $2 ORDER BY name LIMIT $3",
        )
        .bind(id)
        .bind(last.unwrap_or(""))
        .bind(limit)
        .fetch_all(&self.reader)
        .await?)
    }

    /// A page of tags after `last` in lexical order, at most `limit`, with the names serialized
    /// as a JSON array the caller splices into its response. `RepositoryNotFound` for an unknown
    /// repository.
    ///
    /// Two index range reads: the first steps `limit - 1` entries into the primary key to find
    /// the page's last name and whether another follows; the second reads exactly the range
    /// `(last, page end]`.
    pub async fn list_tags_json(
        &self,
        repo: RepoKey<'_>,
        last: Option<&str>,
        limit: i64,
    ) -> Result<TagPage> {
        let id = self
            .repository_id(repo)
            .await?
            .ok_or(MetaError::RepositoryNotFound)?;
        let after = last.unwrap_or("");
        if limit <= 0 {
            return Ok(TagPage {
                json: "[]".to_owned(),
                last: None,
                more: false,
            });
        }
        // The page's last name when the page is full, and the name after it when one exists.
        let bounds: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM tags WHERE repository_id = $1 AND name > $2 ORDER BY name LIMIT 2 OFFSET $3",
        )
        .bind(id)
        .bind(after)
        .bind(limit - 1)
        .fetch_all(&self.reader)
        .await?;
        // The database serializes the page: one row crosses the driver instead of one per tag
        // (through the Any driver a row costs far more than the bytes of a name).
        let agg = crate::dialect::json_array_agg(self.dialect, "name");
        let range = if bounds.is_empty() {
            "name > $2"
        } else {
            "name > $2 AND name <= $3"
        };
        let sql = format!("SELECT {agg} FROM tags WHERE repository_id = $1 AND {range}");
        let mut query = sqlx::query_scalar::<_, Option<String>>(&sql)
            .bind(id)
            .bind(after);
        if let Some(end) = bounds.first() {
            query = query.bind(end);
        }
        let json = query
            .fetch_one(&self.reader)
            .await?
            .unwrap_or_else(|| "[]".to_string());
        let more = bounds.len() > 1;
        Ok(TagPage {
            json,
            last: bounds.into_iter().next().filter(|_| more),
            more,
        })
    }

    /// Manifests in the repository whose `subject` is `digest`, ordered by digest.
    pub async fn referrers(&self, repo: RepoKey<'_>, digest: &Digest) -> Result<Vec<Referrer>> {
        let rows: Vec<ReferrerRow> = sqlx::query_as(
            "SELECT m.digest, m.media_type, m.size, m.artifact_type, m.annotations, m.image_status
             FROM manifests m
             JOIN repositories r ON r.id = m.repository_id
             WHERE r.account_id = $1 AND r.name = $2 AND m.subject = $3 ORDER BY m.digest",
        )
        .bind(repo.account)
        .bind(repo.name)
        .bind(digest.to_string())
        .fetch_all(&self.reader)
        .await?;
        rows.into_iter()
            .map(
                |(d, media_type, size, artifact_type, annotations, status)| {
                    Ok(Referrer {
                        digest: parse_digest(&d)?,
                        media_type,
                        size: size as u64,
                        artifact_type,
                        annotations,
                        status,
                    })
                },
            )
            .collect()
    }
}
