//! Manifests, tags, the catalog and referrers.

use crate::ServedManifest;
use crate::{AccountId, Repo};
use crate::{CoreError, Registry};
use crate::{RemoveMode, RemoveOutcome};
use std::collections::BTreeMap;
use std::sync::Arc;
use wharf_meta::NewManifest;
use wharf_oci::manifest::MAX_MANIFEST_BYTES;
use wharf_oci::{
    Algorithm, Descriptor, Digest, Manifest, ManifestError, MediaType, Reference, Tag,
};

/// What a successful manifest push reports.
#[derive(Debug, Clone)]
pub struct PushedManifest {
    pub digest: Digest,
    pub subject: Option<Digest>,
    pub media_type: MediaType,
    /// The manifest was new to the repository.
    pub inserted: bool,
    /// A tag was created or moved.
    pub tags_changed: bool,
    /// The manifest was archived and this push restored it.
    pub restored: bool,
}

impl Registry {
    /// Validates and stores a manifest under a tag or digest reference, also pointing `extra_tags`
    /// at it (the `?tag=` parameters of a push by digest).
    pub async fn put_manifest(
        &self,
        repo: &Repo,
        reference: &Reference,
        extra_tags: &[Tag],
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<PushedManifest, CoreError> {
        if body.len() > MAX_MANIFEST_BYTES {
            return Err(CoreError::ManifestTooLarge(format!(
                "{} bytes exceeds {MAX_MANIFEST_BYTES}",
                body.len()
            )));
        }
        let digest = match reference {
            Reference::Digest(expected) => {
                let actual = Digest::of(expected.algorithm(), body);
                if &actual != expected {
                    return Err(CoreError::DigestInvalid(format!(
                        "manifest digest is {actual}, not {expected}"
                    )));
                }
                actual
            }
            Reference::Tag(_) => Digest::of(Algorithm::Sha256, body),
        };
        let manifest = Manifest::parse(body, content_type).map_err(|e| match e {
            ManifestError::TooLarge => CoreError::ManifestTooLarge(e.to_string()),
            other => CoreError::ManifestInvalid(other.to_string()),
        })?;
        let annotations = manifest
            .annotations
            .as_ref()
            .filter(|a| !a.is_empty())
            .map(|a| serde_json::to_string(a).expect("string map serializes"));
        let subject = manifest.subject.as_ref().map(|s| s.digest.clone());
        let mut tags: Vec<&str> = extra_tags.iter().map(Tag::as_str).collect();
        if let Reference::Tag(t) = reference {
            tags.push(t.as_str());
        }
        let record = self.push_target(repo).await?;
        let frozen_tags: Vec<&str> = tags
            .iter()
            .copied()
            .filter(|t| crate::mutability::is_immutable(&record.settings, t))
            .collect();
        let scan = self.scan_on_push(repo, &record, &manifest, &digest).await?;
        let replications = self.replication_jobs(repo, &digest).await?;
        let signing = self.signing_job(repo, &digest, &manifest).await?;
        // ECR's imageSizeInBytes: the layers plus the config blob (the AWS CLI reference's
        // 48318255 = layers 48315478 + config 2777); an index is sized by its largest child.
        let image_size = (!manifest.media_type.is_index()).then(|| {
            manifest
                .layers
                .iter()
                .chain(manifest.config.as_ref())
                .map(|d| d.size as i64)
                .sum::<i64>()
        });
        let mut jobs = scan
            .map(|_| vec![crate::scan::scan_job(repo, &digest)])
            .unwrap_or_default();
        if self.events_on() {
            // The push's event is delivered by jobs committed with the push itself.
            let name = repo.name.to_string();
            let digest_s = digest.to_string();
            let event = crate::events::shape::image_action(
                &self.origin(repo, &name),
                &crate::events::shape::ImageAction {
                    action: "PUSH",
                    digest: Some(&digest_s),
                    tag: tags.last().copied(),
                    manifest_media_type: Some(manifest.media_type.as_str()),
                    artifact_media_type: manifest
                        .config
                        .as_ref()
                        .map(|c| c.media_type.as_str())
                        .or(manifest.effective_artifact_type()),
                },
            );
            jobs.extend(self.event_jobs(&event));
        }
        let outcome = self
            .meta
            .put_manifest(NewManifest {
                repository: repo.key(),
                digest: &digest,
                media_type: manifest.media_type.as_str(),
                artifact_type: manifest.effective_artifact_type(),
                subject: subject.as_ref(),
                annotations,
                body,
                blobs: manifest.blob_refs().map(|d| d.digest.clone()).collect(),
                children: manifest.child_refs().map(|d| d.digest.clone()).collect(),
                tags: tags.clone(),
                frozen_tags,
                image_size,
                scan: scan.map(|t| t.as_str()),
                jobs,
                replications,
                signing,
            })
            .await
            .map_err(|e| match e {
                wharf_meta::MetaError::TagImmutable(tag) => CoreError::ImageTagAlreadyExists {
                    tag,
                    repository: repo.name.to_string(),
                },
                other => other.into(),
            })?;
        self.cache.invalidate_tags(&repo.qualified(), tags);
        if outcome.restored {
            // Pushing an archived image again restores it, and its referrers with it, as
            // UpdateImageStorageClass does (the image itself is active already).
            let restore = RemoveMode::Restore {
                at: crate::unix_now(),
            };
            self.remove_image(repo, &digest, restore).await?;
        }
        Ok(PushedManifest {
            digest,
            subject,
            media_type: manifest.media_type,
            inserted: outcome.inserted,
            tags_changed: outcome.tags_changed,
            restored: outcome.restored,
        })
    }

    /// Fetches a manifest's exact bytes by tag or digest, from memory when possible. The request
    /// brought the caches up to date with the database when it began (`sync_caches`).
    pub async fn get_manifest(
        &self,
        repo: &Repo,
        reference: &Reference,
    ) -> Result<Arc<ServedManifest>, CoreError> {
        let cached = match reference {
            Reference::Tag(t) => self
                .cache
                .tag(&repo.qualified(), t.as_str())
                .and_then(|d| self.cache.manifest(&repo.qualified(), &d)),
            Reference::Digest(d) => self.cache.manifest(&repo.qualified(), d),
        };
        if let Some(m) = cached {
            self.check_kms_gate(&m).await?;
            return Ok(m);
        }
        let token = self.cache.begin_read();
        match self.meta.get_manifest(repo.key(), reference).await? {
            Some(m) => {
                let kms_key = match self.repo_target(repo).await? {
                    crate::crypt::Target::Kms(arn) => Some(arn),
                    crate::crypt::Target::Master => None,
                };
                let served = Arc::new(ServedManifest {
                    digest: m.digest,
                    media_type: m.media_type,
                    body: m.body.into(),
                    kms_key,
                });
                self.check_kms_gate(&served).await?;
                let tag = match reference {
                    Reference::Tag(t) => Some(t.as_str()),
                    Reference::Digest(_) => None,
                };
                self.cache.insert(token, &repo.qualified(), tag, &served);
                Ok(served)
            }
            None => Err(self.unknown_manifest_or_name(repo).await),
        }
    }

    /// A KMS repository's images are readable only while its key is: its blobs are sealed
    /// under data keys only that key unwraps, and its manifests (kept in the metadata
    /// database) are served only after the key answers as enabled (checked at most once per
    /// `kms cache_secs`).
    async fn check_kms_gate(&self, m: &ServedManifest) -> Result<(), CoreError> {
        match &m.kms_key {
            Some(arn) => self.keys.check_usable(arn).await,
            None => Ok(()),
        }
    }

    async fn unknown_manifest_or_name(&self, repo: &Repo) -> CoreError {
        match self.meta.repository_id(repo.key()).await {
            Ok(Some(_)) => CoreError::ManifestUnknown,
            Ok(None) => CoreError::NameUnknown,
            Err(e) => e.into(),
        }
    }

    /// Deletes a manifest by digest (with its tags and its referrers, `remove_image`) or a single
    /// tag. A manifest that an index in the repository lists is not deleted:
    /// `ManifestReferenced`.
    pub async fn delete_manifest(
        &self,
        repo: &Repo,
        reference: &Reference,
    ) -> Result<(), CoreError> {
        let tag = match reference {
            Reference::Tag(t) => Some(t.as_str()),
            Reference::Digest(_) => None,
        };
        self.delete_manifest_as(repo, reference, tag).await
    }

    /// `delete_manifest`, whose DELETE event names `event_tag` (BatchDeleteImage by an image's
    /// last tag removes the image by digest, and ECR's event still names the tag).
    pub(crate) async fn delete_manifest_as(
        &self,
        repo: &Repo,
        reference: &Reference,
        event_tag: Option<&str>,
    ) -> Result<(), CoreError> {
        // A tag's digest, for its delete event, is read before the tag goes.
        let mut event_digest = None;
        let deleted = match reference {
            Reference::Digest(d) => {
                event_digest = Some(d.clone());
                match self.remove_image(repo, d, RemoveMode::Delete).await? {
                    RemoveOutcome::Removed { .. } => true,
                    RemoveOutcome::NotFound => false,
                    RemoveOutcome::ReferencedByIndex { child, index } => {
                        return Err(CoreError::ManifestReferenced { child, index })
                    }
                }
            }
            Reference::Tag(t) => {
                if self.events_on() {
                    event_digest = self.meta.tag_digest(repo.key(), t.as_str()).await?;
                }
                let deleted = self.meta.delete_tag(repo.key(), t.as_str()).await?;
                self.cache.invalidate_tags(&repo.qualified(), [t.as_str()]);
                deleted
            }
        };
        if deleted {
            if self.events_on() {
                let name = repo.name.to_string();
                let digest_s = event_digest.as_ref().map(Digest::to_string);
                let event = crate::events::shape::image_action(
                    &self.origin(repo, &name),
                    &crate::events::shape::ImageAction {
                        action: "DELETE",
                        digest: digest_s.as_deref(),
                        tag: event_tag,
                        manifest_media_type: None,
                        artifact_media_type: None,
                    },
                );
                self.emit_event(&event).await;
            }
            Ok(())
        } else {
            Err(self.unknown_manifest_or_name(repo).await)
        }
    }

    /// A page of at most `limit` tags after `last` in lexical order, already serialized as a JSON
    /// array, and whether more follow.
    pub async fn list_tags(
        &self,
        repo: &Repo,
        last: Option<&str>,
        limit: usize,
    ) -> Result<wharf_meta::TagPage, CoreError> {
        Ok(self
            .meta
            .list_tags_json(repo.key(), last, limit.min(i64::MAX as usize) as i64)
            .await?)
    }

    /// A page of repository names in lexical order.
    pub async fn catalog(
        &self,
        account: &AccountId,
        last: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, CoreError> {
        Ok(self
            .meta
            .list_repositories(account.as_str(), last, limit as i64)
            .await?)
    }

    /// Every manifest whose subject is `digest`, archived ones included, with its status (the
    /// ECR API's view, which filters by `artifactStatus`).
    pub async fn referrer_records(
        &self,
        repo: &Repo,
        digest: &Digest,
    ) -> Result<Vec<wharf_meta::Referrer>, CoreError> {
        Ok(self.meta.referrers(repo.key(), digest).await?)
    }

    /// Descriptors of the active manifests whose subject is `digest`, optionally only of one
    /// artifact type.
    pub async fn referrers(
        &self,
        repo: &Repo,
        digest: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Descriptor>, CoreError> {
        let rows = self.meta.referrers(repo.key(), digest).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            // Archived referrers are not pullable, so the OCI index does not list them.
            if r.status != "ACTIVE" {
                continue;
            }
            if artifact_type.is_some() && r.artifact_type.as_deref() != artifact_type {
                continue;
            }
            let annotations: Option<BTreeMap<String, String>> = match &r.annotations {
                Some(a) => {
                    Some(serde_json::from_str(a).map_err(|e| CoreError::Internal(e.to_string()))?)
                }
                None => None,
            };
            out.push(Descriptor {
                media_type: r.media_type,
                digest: r.digest,
                size: r.size,
                artifact_type: r.artifact_type,
                annotations,
                urls: None,
                platform: None,
            });
        }
        Ok(out)
    }
}
