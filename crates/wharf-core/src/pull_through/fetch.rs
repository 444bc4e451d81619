//! Pull-through misses. A manifest miss (or a tag whose TTL passed and moved upstream) fetches
//! the manifest, answers with it at once, and commits it in a background task once its child
//! manifests and blobs are stored (a manifest is never stored before what it references). A blob
//! miss fetches the blob and streams it to the client as it is stored; the stream ends only after
//! the blob is stored with its digest verified, and fails otherwise. Fetches are coalesced per
//! node: one in-flight fetch per manifest reference and per blob, which every concurrent miss
//! awaits.

use super::Route;
use crate::{Access, Client, CoreError, Principal, Registry, Repo, Resource, ServedManifest};
use bytes::Bytes;
use futures::future::{BoxFuture, FutureExt, Shared};
use futures::StreamExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};
use wharf_blob::ByteStream;
use wharf_oci::manifest::Manifest;
use wharf_oci::{Digest, Reference, Tag};
use wharf_upstream::UpstreamError;

type SharedResult<T> = Shared<BoxFuture<'static, Result<T, CoreError>>>;

/// Fetches in flight on this node.
#[derive(Default)]
pub(crate) struct Inflight {
    /// By `account/repo@reference`; kept until the manifest is committed (or failed), so misses
    /// meanwhile are answered from the fetched bytes.
    manifests: Mutex<HashMap<String, SharedResult<Arc<Fetched>>>>,
    /// By `account/digest`, until stored.
    blobs: Mutex<HashMap<String, SharedResult<()>>>,
}

/// A manifest fetched from the upstream, and its commit.
pub(crate) struct Fetched {
    manifest: Arc<ServedManifest>,
    committed: SharedResult<()>,
}

/// A blob on its way from the upstream to the client, stored as it passes.
pub struct StreamedBlob {
    /// The length the upstream announced.
    pub len: Option<u64>,
    pub stream: ByteStream,
}

/// What the leader of a blob fetch hands back: its announced length, or why it failed.
type Announce = oneshot::Sender<Result<Option<u64>, CoreError>>;

fn upstream_error(e: UpstreamError, missing: CoreError) -> CoreError {
    match e {
        UpstreamError::NotFound => missing,
        UpstreamError::RateLimited(_) => CoreError::Upstream {
            message: e.to_string(),
            rate_limited: true,
        },
        other => CoreError::Upstream {
            message: other.to_string(),
            rate_limited: false,
        },
    }
}

fn invalid_upstream(message: String) -> CoreError {
    CoreError::Upstream {
        message,
        rate_limited: false,
    }
}

impl Registry {
    /// A manifest by tag or digest for `/v2/`, through the pull-through cache when a rule
    /// covers the repository: fetched on a miss, and a tag re-checked once its TTL passed (the
    /// cached image is served when the upstream then fails). Importing needs
    /// `ecr:BatchImportUpstreamImage`, and `ecr:CreateRepository` for a repository's first pull.
    pub async fn get_manifest_through(
        &self,
        repo: &Repo,
        reference: &Reference,
        principal: &Principal,
        client: Client,
    ) -> Result<Arc<ServedManifest>, CoreError> {
        let stored = self.get_manifest(repo, reference).await;
        match (&stored, reference) {
            (Ok(_), Reference::Digest(_)) => return stored,
            (Ok(_), _) | (Err(CoreError::ManifestUnknown | CoreError::NameUnknown), _) => {}
            (Err(_), _) => return stored,
        }
        // Most accounts have no rules: that answer comes from this node's rules cache.
        let route = match self.pull_through_route(repo).await {
            Ok(Some(route)) => route,
            Ok(None) => return stored,
            // The rule's upstream cannot be set up (its secret, say): what is cached is served.
            Err(e) if stored.is_ok() => {
                tracing::warn!(repository = %repo.qualified(), error = %e, "pull-through upstream unusable; serving the cached image");
                return stored;
            }
            Err(e) => return Err(e),
        };
        if let (Ok(_), Reference::Tag(t)) = (&stored, reference) {
            if self.tag_confirmed(repo, t.as_str()) {
                return stored;
            }
        }
        if let (Ok(m), Reference::Tag(t)) = (&stored, reference) {
            match route
                .upstream
                .tag_digest(&route.upstream_repo, t.as_str())
                .await
            {
                Ok(d) if d == m.digest.to_string() => {
                    self.confirm_tag(repo, t.as_str());
                    return stored;
                }
                Ok(d) => {
                    tracing::info!(repository = %repo.qualified(), tag = %t, upstream = %d, "cached tag moved upstream; fetching it");
                }
                Err(e) => {
                    tracing::warn!(repository = %repo.qualified(), tag = %t, error = %e, "upstream check failed; serving the cached tag");
                    self.back_off_tag(repo, t.as_str());
                    return stored;
                }
            }
        }
        let create = matches!(stored, Err(CoreError::NameUnknown));
        self.authorize_import(repo, principal, client, create)
            .await?;
        let fetched = self
            .import_manifest(route, repo.clone(), reference.clone())
            .await?;
        Ok(fetched.manifest.clone())
    }

    /// A blob GET or HEAD of `repo` that missed. `Ok(None)`: no rule covers it (the miss stands)
    /// or the blob is stored now (serve it as usual). `Ok(Some)`: this call fetches it, and the
    /// caller streams the bytes as they arrive (only with `want_bytes`).
    pub async fn pull_through_blob(
        &self,
        repo: &Repo,
        digest: &Digest,
        principal: &Principal,
        client: Client,
        want_bytes: bool,
    ) -> Result<Option<StreamedBlob>, CoreError> {
        let Some(route) = self.pull_through_route(repo).await? else {
            return Ok(None);
        };
        if self.meta.repository(repo.key()).await?.is_none() {
            return Ok(None);
        }
        self.authorize_import(repo, principal, client, false)
            .await?;
        if self.mount_blob(repo, digest, None).await? {
            return Ok(None);
        }
        if want_bytes {
            let (tx, rx) = mpsc::channel(8);
            let (announce, announced) = oneshot::channel();
            let (fetch, leader) = self.blob_fetch(&route, repo, digest, Some((tx, announce)));
            if leader {
                if let Ok(len) = announced.await {
                    let stream = futures::stream::unfold(rx, |mut rx| async move {
                        rx.recv().await.map(|item| (item, rx))
                    });
                    return Ok(Some(StreamedBlob {
                        len: len?,
                        stream: Box::pin(stream),
                    }));
                }
            }
            fetch.await?;
        } else {
            let (fetch, _) = self.blob_fetch(&route, repo, digest, None);
            fetch.await?;
        }
        self.link_fetched(repo, digest).await?;
        Ok(None)
    }

    async fn authorize_import(
        &self,
        repo: &Repo,
        principal: &Principal,
        client: Client,
        create: bool,
    ) -> Result<(), CoreError> {
        let actions: &[&str] = if create {
            &[
                crate::Action::BatchImportUpstreamImage.ecr(),
                crate::Action::CreateRepository.ecr(),
            ]
        } else {
            &[crate::Action::BatchImportUpstreamImage.ecr()]
        };
        for action in actions {
            self.authorize(&Access {
                principal,
                action,
                resource: Resource::Repository(repo),
                client,
                request_tags: &[],
            })
            .await?;
        }
        Ok(())
    }

    /// The fetch of `reference` into `repo`: joined when one is in flight, else started.
    fn import_manifest(
        &self,
        route: Route,
        repo: Repo,
        reference: Reference,
    ) -> SharedResult<Arc<Fetched>> {
        let key = format!("{}@{reference}", repo.qualified());
        let mut map = self
            .pull_through
            .inflight
            .manifests
            .lock()
            .expect("inflight lock");
        if let Some(f) = map.get(&key) {
            return f.clone();
        }
        let me = self.clone();
        let k = key.clone();
        let fut = async move {
            let result = me.fetch_manifest(route, repo, reference, k.clone()).await;
            if result.is_err() {
                me.forget_manifest_fetch(&k);
            }
            result
        }
        .boxed()
        .shared();
        map.insert(key, fut.clone());
        fut
    }

    fn forget_manifest_fetch(&self, key: &str) {
        self.pull_through
            .inflight
            .manifests
            .lock()
            .expect("inflight lock")
            .remove(key);
    }

    /// Fetches a manifest, creates the repository if needed, and starts the commit.
    async fn fetch_manifest(
        &self,
        route: Route,
        repo: Repo,
        reference: Reference,
        key: String,
    ) -> Result<Arc<Fetched>, CoreError> {
        let fetched = route
            .upstream
            .manifest(&route.upstream_repo, &reference.to_string())
            .await
            .map_err(|e| upstream_error(e, CoreError::ManifestUnknown))?;
        let digest = match &reference {
            Reference::Digest(d) => {
                let actual = Digest::of(d.algorithm(), &fetched.body);
                if &actual != d {
                    return Err(invalid_upstream(format!(
                        "the upstream registry served {actual} for {d}"
                    )));
                }
                actual
            }
            Reference::Tag(_) => Digest::sha256(&fetched.body),
        };
        let content_type = Some(fetched.media_type.as_str()).filter(|t| !t.is_empty());
        let manifest = Manifest::parse(&fetched.body, content_type)
            .map_err(|e| invalid_upstream(format!("the upstream manifest is not valid: {e}")))?;
        let media_type = content_type
            .map(str::to_owned)
            .unwrap_or_else(|| manifest.media_type.as_str().to_owned());
        self.pull_through_target(&repo).await?;
        let served = Arc::new(ServedManifest {
            digest: digest.clone(),
            media_type,
            body: fetched.body,
            kms_key: None,
        });
        let (done, committed) = oneshot::channel();
        let fetched = Arc::new(Fetched {
            manifest: served.clone(),
            committed: async move {
                committed
                    .await
                    .unwrap_or_else(|_| Err(CoreError::Internal("commit task ended".into())))
            }
            .boxed()
            .shared(),
        });
        let mut keys = vec![key];
        let digest_key = format!("{}@{digest}", repo.qualified());
        if !keys.contains(&digest_key) {
            let ready: SharedResult<Arc<Fetched>> =
                futures::future::ready(Ok(fetched.clone())).boxed().shared();
            self.pull_through
                .inflight
                .manifests
                .lock()
                .expect("inflight lock")
                .entry(digest_key.clone())
                .or_insert(ready);
            keys.push(digest_key);
        }
        let tag = match &reference {
            Reference::Tag(t) => Some(t.clone()),
            Reference::Digest(_) => None,
        };
        let me = self.clone();
        tokio::spawn(async move {
            let result = me
                .commit(&route, &repo, &served, &manifest, tag.as_ref())
                .await;
            if let Err(e) = &result {
                tracing::warn!(repository = %repo.qualified(), digest = %served.digest, error = %e, "pull-through image not cached");
            }
            let digest = served.digest.to_string();
            let failure_code = match &result {
                Ok(()) => None,
                Err(CoreError::Upstream { .. } | CoreError::BlobUnknown) => {
                    Some("UPSTREAM_FAILURE")
                }
                Err(_) => Some("INTERNAL_FAILURE"),
            };
            me.emit_pull_through_event(
                &repo,
                &crate::events::PullThroughEvent {
                    success: result.is_ok(),
                    ecr_prefix: &route.ecr_prefix,
                    upstream_url: &route.upstream_url,
                    digest: &digest,
                    tag: tag.as_ref().map(Tag::as_str),
                    failure_code,
                },
            )
            .await;
            for k in &keys {
                me.forget_manifest_fetch(k);
            }
            let _ = done.send(result);
        });
        Ok(fetched)
    }

    /// Stores a fetched manifest once every child manifest and blob it references is stored.
    async fn commit(
        &self,
        route: &Route,
        repo: &Repo,
        served: &ServedManifest,
        manifest: &Manifest,
        tag: Option<&Tag>,
    ) -> Result<(), CoreError> {
        for child in manifest.child_refs() {
            let reference = Reference::Digest(child.digest.clone());
            if self
                .meta
                .get_manifest(repo.key(), &reference)
                .await?
                .is_some()
            {
                continue;
            }
            let fetched = self
                .import_manifest(route.clone(), repo.clone(), reference)
                .await?;
            fetched.committed.clone().await?;
        }
        for blob in manifest.blob_refs().filter(|d| !d.is_foreign()) {
            if self.holds_blob(repo, &blob.digest).await? {
                continue;
            }
            let (fetch, _) = self.blob_fetch(route, repo, &blob.digest, None);
            fetch.await?;
            self.link_fetched(repo, &blob.digest).await?;
        }
        let tags: Vec<Tag> = tag.into_iter().cloned().collect();
        self.put_manifest(
            repo,
            &Reference::Digest(served.digest.clone()),
            &tags,
            Some(&served.media_type),
            &served.body,
        )
        .await?;
        if let Some(t) = tag {
            self.confirm_tag(repo, t.as_str());
        }
        tracing::info!(repository = %repo.qualified(), digest = %served.digest, "pull-through image cached");
        Ok(())
    }

    /// Whether `repo` holds the blob, linking it from elsewhere in the account when it can.
    async fn holds_blob(&self, repo: &Repo, digest: &Digest) -> Result<bool, CoreError> {
        Ok(self
            .meta
            .repository_blob(repo.key(), digest)
            .await?
            .is_some()
            || self.mount_blob(repo, digest, None).await?)
    }

    /// After a fetch stored a blob (this request's or another's): link it here too.
    async fn link_fetched(&self, repo: &Repo, digest: &Digest) -> Result<(), CoreError> {
        if self.holds_blob(repo, digest).await? {
            Ok(())
        } else {
            Err(CoreError::BlobUnknown)
        }
    }

    /// The fetch of blob `digest` for `repo`'s account: joined when one is in flight (false),
    /// else started (true), the bytes also sent to `tee` as they arrive.
    fn blob_fetch(
        &self,
        route: &Route,
        repo: &Repo,
        digest: &Digest,
        tee: Option<(mpsc::Sender<std::io::Result<Bytes>>, Announce)>,
    ) -> (SharedResult<()>, bool) {
        let key = format!("{}/{digest}", repo.account);
        let mut map = self
            .pull_through
            .inflight
            .blobs
            .lock()
            .expect("inflight lock");
        if let Some(f) = map.get(&key) {
            return (f.clone(), false);
        }
        let (done, stored) = oneshot::channel();
        let fut: SharedResult<()> = async move {
            stored
                .await
                .unwrap_or_else(|_| Err(CoreError::Internal("blob fetch task ended".into())))
        }
        .boxed()
        .shared();
        map.insert(key.clone(), fut.clone());
        drop(map);
        let me = self.clone();
        let route = route.clone();
        let repo = repo.clone();
        let digest = digest.clone();
        tokio::spawn(async move {
            let (tx, announce) = match tee {
                Some((tx, a)) => (Some(tx), Some(a)),
                None => (None, None),
            };
            let result = me
                .store_upstream_blob(&route, &repo, &digest, tx.clone(), announce)
                .await;
            if let (Err(e), Some(tx)) = (&result, &tx) {
                let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
            }
            drop(tx);
            me.pull_through
                .inflight
                .blobs
                .lock()
                .expect("inflight lock")
                .remove(&key);
            let _ = done.send(result);
        });
        (fut, true)
    }

    async fn store_upstream_blob(
        &self,
        route: &Route,
        repo: &Repo,
        digest: &Digest,
        tee: Option<mpsc::Sender<std::io::Result<Bytes>>>,
        announce: Option<Announce>,
    ) -> Result<(), CoreError> {
        let fetched = match route
            .upstream
            .blob(&route.upstream_repo, &digest.to_string())
            .await
        {
            Ok(f) => f,
            Err(e) => {
                let e = upstream_error(e, CoreError::BlobUnknown);
                if let Some(a) = announce {
                    let _ = a.send(Err(e.clone()));
                }
                return Err(e);
            }
        };
        if let Some(a) = announce {
            let _ = a.send(Ok(fetched.len));
        }
        let stream: ByteStream = match tee {
            Some(tx) => Box::pin(fetched.stream.then(move |item| {
                let tx = tx.clone();
                async move {
                    if let Ok(b) = &item {
                        // A client that went away does not stop the caching.
                        let _ = tx.send(Ok(b.clone())).await;
                    }
                    item
                }
            })),
            None => fetched.stream,
        };
        self.push_blob(repo, digest, stream).await?;
        tracing::debug!(repository = %repo.qualified(), %digest, "pull-through blob stored");
        Ok(())
    }
}
