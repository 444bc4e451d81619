//! Blob uploads: sessions, chunks, completion, cancellation, monolithic pushes and mounts.
//!
//! Every byte is hashed once, as it streams to scratch space. The hash state of an upload lives in
//! memory between chunks; after a restart (or when a chunk failed) it is rebuilt from the scratch
//! bytes, the only case that reads them back. Completion verifies the digest, asks the blob store to
//! make the bytes durable at their content address, and only then records the blob in SQL.
//!
//! Bytes are sealed as they are written (`crypt/`): each upload has its own data key, wrapped
//! under the repository's key and stored before the first byte; the plaintext is hashed, only
//! ciphertext reaches the blob store.

use crate::Repo;
use crate::{CoreError, Registry};
use futures::StreamExt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::Mutex as AsyncMutex;
use wharf_blob::seal::DekId;
use wharf_blob::ByteStream;
use wharf_oci::{Algorithm, Digest, Hasher};

/// Per-upload state guarded by an async lock, so two requests on one upload never interleave.
pub(crate) type Slot = Arc<AsyncMutex<Option<HashState>>>;

/// A hasher that has seen exactly the first `size` bytes of the upload.
pub(crate) struct HashState {
    size: u64,
    hasher: Hasher,
    /// When this node last appended: states of uploads finished elsewhere are dropped by age.
    at: std::time::Instant,
}

/// Where an upload stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadState {
    pub id: String,
    pub size: u64,
    /// The smallest ECR layer part (`append_layer_part`) sent before the last one, if any.
    pub smallest_earlier_part: Option<u64>,
}

/// An upload session as the write path needs it.
struct Session {
    size: u64,
    dek: Option<DekId>,
    smallest_earlier_part: Option<u64>,
}

fn new_upload_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Upload ids are our own UUIDs; anything else cannot name an upload (and never reaches a path).
fn valid_upload_id(id: &str) -> bool {
    uuid::Uuid::try_parse(id).is_ok() && id.len() == 36
}

impl Registry {
    fn slot(&self, id: &str) -> Slot {
        let mut map = self.hashers.lock().expect("hasher map poisoned");
        map.entry(id.to_string()).or_default().clone()
    }

    fn drop_slot(&self, id: &str) {
        self.hashers.lock().expect("hasher map poisoned").remove(id);
    }

    /// Forgets this node's hash states that no request holds and that are unknown or older than
    /// `max_age`: uploads another node finished (or a client abandoned) leave them behind. Returns
    /// how many went. A forgotten state is rebuilt from the scratch bytes if the upload goes on.
    pub fn forget_idle_hash_states(&self, max_age: std::time::Duration) -> usize {
        let mut map = self.hashers.lock().expect("hasher map poisoned");
        let before = map.len();
        map.retain(|_, slot| {
            // Only the map holds it (a request clones the Arc before locking), and it is free.
            if Arc::strong_count(slot) > 1 {
                return true;
            }
            match slot.try_lock() {
                Ok(state) => state.as_ref().is_some_and(|s| s.at.elapsed() < max_age),
                Err(_) => true,
            }
        });
        before - map.len()
    }

    /// Opens a new upload session in the repository.
    pub async fn start_upload(&self, repo: &Repo) -> Result<UploadState, CoreError> {
        let target = self.blob_push_target(repo).await?;
        let key = self.fresh_upload_key(&target).await?;
        let id = new_upload_id();
        self.blobs.create_upload(&id).await?;
        match &key {
            None => self.meta.create_upload(&id, repo.key(), None).await?,
            Some(k) => {
                self.meta
                    .create_sealed_upload(&id, repo.key(), &k.dek.to_hex(), &k.key_ref, &k.wrapped)
                    .await?
            }
        }
        Ok(UploadState {
            id,
            size: 0,
            smallest_earlier_part: None,
        })
    }

    /// The upload's current state, checking it belongs to `repo`.
    pub async fn upload_status(&self, repo: &Repo, id: &str) -> Result<UploadState, CoreError> {
        let s = self.session(repo, id).await?;
        Ok(UploadState {
            id: id.to_string(),
            size: s.size,
            smallest_earlier_part: s.smallest_earlier_part,
        })
    }

    async fn session(&self, repo: &Repo, id: &str) -> Result<Session, CoreError> {
        if !valid_upload_id(id) {
            return Err(CoreError::UploadUnknown);
        }
        match self.meta.upload(id).await? {
            Some(u) if u.account == repo.account.as_str() && u.repository == repo.name.as_str() => {
                let dek = match u.dek_id.as_deref() {
                    None => None,
                    Some(hex) => Some(DekId::from_hex(hex).ok_or_else(|| {
                        CoreError::Internal(format!("upload {id} names a malformed data key"))
                    })?),
                };
                Ok(Session {
                    size: u.size,
                    dek,
                    smallest_earlier_part: u.smallest_earlier_part,
                })
            }
            _ => Err(CoreError::UploadUnknown),
        }
    }

    /// A hasher positioned at the end of the upload, from memory or rebuilt from scratch bytes
    /// (at completion, once, when chunks went to other nodes or the process restarted).
    async fn hasher_at(
        &self,
        id: &str,
        dek: Option<DekId>,
        state: &mut Option<HashState>,
        size: u64,
        alg: Algorithm,
    ) -> Result<Hasher, CoreError> {
        if let Some(s) = state.take() {
            if s.size == size && s.hasher.algorithm() == alg {
                return Ok(s.hasher);
            }
        }
        if size == 0 {
            return Ok(alg.hasher());
        }
        let mut hasher = alg.hasher();
        let mut seen = 0u64;
        let mut stream = self.read_upload_plain(id, dek, size).await?;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| CoreError::Internal(e.to_string()))?;
            let take = (size - seen).min(chunk.len() as u64) as usize;
            hasher.update(&chunk[..take]);
            seen += take as u64;
            if seen == size {
                break;
            }
        }
        if seen != size {
            return Err(CoreError::Internal(format!(
                "upload {id} scratch holds {seen} of {size} bytes"
            )));
        }
        Ok(hasher)
    }

    /// Appends a chunk. `start` is the first offset of a `Content-Range`, if the client sent one;
    /// it must equal the upload's size, else `RangeInvalid` tells the client where to resume.
    pub async fn append_upload(
        &self,
        repo: &Repo,
        id: &str,
        start: Option<u64>,
        body: ByteStream,
    ) -> Result<UploadState, CoreError> {
        self.append(repo, id, start, body, false).await
    }

    /// Appends one part of ECR's `UploadLayerPart`, as `append_upload` does, and records the
    /// part's size with the new upload size, so completion can check the earlier parts' sizes.
    pub async fn append_layer_part(
        &self,
        repo: &Repo,
        id: &str,
        start: u64,
        body: ByteStream,
    ) -> Result<UploadState, CoreError> {
        self.append(repo, id, Some(start), body, true).await
    }

    async fn append(
        &self,
        repo: &Repo,
        id: &str,
        start: Option<u64>,
        body: ByteStream,
        layer_part: bool,
    ) -> Result<UploadState, CoreError> {
        let slot = self.slot(id);
        let mut state = slot.lock().await;
        let current = self.session(repo, id).await?;
        if let Some(start) = start {
            if start != current.size {
                return Err(CoreError::RangeInvalid { size: current.size });
            }
        }
        // The hash state continues only when this node saw every byte so far (or there are none).
        // Otherwise the bytes are appended with a throwaway hasher and the state stays unknown
        // until completion rebuilds it with one read: rebuilding at every chunk would re-read the
        // whole upload each time a load balancer sends a chunk to another node.
        let known = match state.take() {
            Some(s) if s.size == current.size && s.hasher.algorithm() == Algorithm::Sha256 => {
                Some(s.hasher)
            }
            _ if current.size == 0 => Some(Algorithm::Sha256.hasher()),
            _ => None,
        };
        let continues = known.is_some();
        let hasher = known.unwrap_or_else(|| Algorithm::Sha256.hasher());
        let appended = self.store_chunk(repo, id, &current, body, hasher).await?;
        let size = current.size + appended.ingest.received();
        let mut smallest_earlier_part = current.smallest_earlier_part;
        if layer_part {
            self.meta
                .set_upload_size_after_part(id, size, size - current.size)
                .await?;
            smallest_earlier_part = self
                .meta
                .upload(id)
                .await?
                .and_then(|u| u.smallest_earlier_part);
        } else {
            self.meta.set_upload_size(id, size).await?;
        }
        *state = continues.then_some(HashState {
            size,
            hasher: appended.ingest.into_hasher(),
            at: std::time::Instant::now(),
        });
        Ok(UploadState {
            id: id.to_string(),
            size,
            smallest_earlier_part,
        })
    }

    /// Finishes an upload: appends the last chunk (if any), verifies the digest, makes the blob
    /// durable and records it.
    pub async fn finish_upload(
        &self,
        repo: &Repo,
        id: &str,
        digest: &Digest,
        start: Option<u64>,
        body: Option<ByteStream>,
    ) -> Result<u64, CoreError> {
        let slot = self.slot(id);
        let mut state = slot.lock().await;
        let current = self.session(repo, id).await?;
        if let Some(start) = start {
            if start != current.size {
                return Err(CoreError::RangeInvalid { size: current.size });
            }
        }
        let mut hasher = self
            .hasher_at(
                id,
                current.dek,
                &mut state,
                current.size,
                digest.algorithm(),
            )
            .await?;
        let mut size = current.size;
        // A sealed upload that never received a byte still needs its stored form (the seal
        // header): an empty append writes it.
        let body = match body {
            None if current.dek.is_some() && current.size == 0 => {
                Some(Box::pin(futures::stream::empty()) as ByteStream)
            }
            body => body,
        };
        if let Some(body) = body {
            let appended = self.store_chunk(repo, id, &current, body, hasher).await?;
            size = current.size + appended.ingest.received();
            hasher = appended.ingest.into_hasher();
        }
        // The new size is written only if the upload stays open: on success the blob's record
        // closes the session in its own commit, so a final chunk costs no write of its own.
        let keep_size = |e: CoreError| async move {
            if size != current.size {
                if let Err(lost) = self.meta.set_upload_size(id, size).await {
                    tracing::warn!(upload = id, error = %lost, "recording the size of an upload whose completion failed");
                }
            }
            e
        };
        let actual = hasher.clone().finish();
        if &actual != digest {
            *state = Some(HashState {
                size,
                hasher,
                at: std::time::Instant::now(),
            });
            let e = CoreError::DigestInvalid(format!("content digest is {actual}, not {digest}"));
            return Err(keep_size(e).await);
        }
        let placed = async {
            let target = self.repo_target(repo).await?;
            let placement = self.place_upload(id, digest, current.dek, &target).await?;
            self.settle_upload(repo, id, digest, size, Some(id), placement)
                .await
        };
        if let Err(e) = placed.await {
            return Err(keep_size(e).await);
        }
        drop(state);
        self.drop_slot(id);
        Ok(size)
    }

    /// Writes a chunk at the end of the upload. A body that fails leaves the upload as it was:
    /// the store cuts it back to where the write began, and for a sealed upload that resumed
    /// inside a segment (the write began at the segment's start) the segment's earlier bytes
    /// are sealed back. Only if that fails too does the recorded size drop to the segment start
    /// (the upload status then answers it, and the client resumes there).
    async fn store_chunk(
        &self,
        repo: &Repo,
        id: &str,
        current: &Session,
        body: ByteStream,
        hasher: Hasher,
    ) -> Result<wharf_blob::Appended, CoreError> {
        // A hint only: without it the data key is found through its stored wrap.
        let target = match current.dek {
            Some(_) => self.repo_target(repo).await.ok(),
            None => None,
        };
        let (at, ingest, resume) = self
            .ingest_at(id, current.dek, target.as_ref(), current.size, hasher)
            .await?;
        match self.blobs.append_upload(id, at, body, ingest).await {
            Ok(a) => Ok(a),
            Err(e) => {
                if let Some(r) = resume {
                    if let Err(lost) = self.restore_tail(id, r).await {
                        tracing::warn!(upload = id, error = %lost, "putting back the partial segment of a failed chunk failed; the upload resumes at the segment start");
                        let kept = current.size - current.size % wharf_blob::seal::SEGMENT;
                        self.meta.set_upload_size(id, kept).await?;
                    }
                }
                Err(e.into())
            }
        }
    }

    /// Cancels an upload and frees its scratch space.
    pub async fn cancel_upload(&self, repo: &Repo, id: &str) -> Result<(), CoreError> {
        let slot = self.slot(id);
        let _state = slot.lock().await;
        self.upload_status(repo, id).await?;
        self.meta.delete_upload(id).await?;
        self.blobs.delete_upload(id).await?;
        drop(_state);
        self.drop_slot(id);
        Ok(())
    }

    /// A whole blob in one request (`POST ?digest=`): no session is recorded, so nothing is left
    /// behind when it fails.
    pub async fn push_blob(
        &self,
        repo: &Repo,
        digest: &Digest,
        body: ByteStream,
    ) -> Result<u64, CoreError> {
        let target = self.blob_push_target(repo).await?;
        let dek = self.new_upload_key(&target).await?;
        let id = new_upload_id();
        self.blobs.create_upload(&id).await?;
        let result = async {
            let (at, ingest, _) = self
                .ingest_at(&id, dek, Some(&target), 0, digest.algorithm().hasher())
                .await?;
            let appended = self.blobs.append_upload(&id, at, body, ingest).await?;
            let size = appended.ingest.received();
            let actual = appended.ingest.into_hasher().finish();
            if &actual != digest {
                return Err(CoreError::DigestInvalid(format!(
                    "content digest is {actual}, not {digest}"
                )));
            }
            let placement = self.place_upload(&id, digest, dek, &target).await?;
            Ok((size, placement))
        }
        .await;
        match result {
            Ok((size, placement)) => {
                self.settle_upload(repo, &id, digest, size, None, placement)
                    .await?;
                Ok(size)
            }
            Err(e) => {
                self.blobs.delete_upload(&id).await?;
                Err(e)
            }
        }
    }

    /// The repositories a mount into `target` may copy the blob from, for the caller to filter
    /// by what it may pull: `from` when named (a name that is not valid names nothing), else up
    /// to 10 repositories of the account holding the blob (OCI 1.1's anonymous mount). None when
    /// the account's `BLOB_MOUNTING` setting is `DISABLED`.
    pub async fn mount_candidates(
        &self,
        target: &Repo,
        digest: &Digest,
        from: Option<&str>,
    ) -> Result<Vec<Repo>, CoreError> {
        let setting = crate::AccountSetting::named("BLOB_MOUNTING")
            .ok_or_else(|| CoreError::Internal("BLOB_MOUNTING is a known setting".into()))?;
        if self.account_setting(&target.account, setting).await? == "DISABLED" {
            return Ok(Vec::new());
        }
        Ok(match from {
            Some(f) => match f.parse() {
                Ok(name) => vec![Repo::new(target.account.clone(), name)],
                Err(_) => Vec::new(),
            },
            None => self
                .meta
                .repositories_holding(target.account.as_str(), digest, 10)
                .await?
                .into_iter()
                .filter_map(|n| n.parse().ok().map(|n| Repo::new(target.account.clone(), n)))
                .collect(),
        })
    }

    /// Mounts a blob from another repository, or from anywhere in the registry when `from` is
    /// `None`. Returns `false` when it is not mountable.
    ///
    /// Access control (the ECR issue) must only let a principal mount from repositories it may pull.
    pub async fn mount_blob(
        &self,
        repo: &Repo,
        digest: &Digest,
        from: Option<&Repo>,
    ) -> Result<bool, CoreError> {
        self.blob_push_target(repo).await?;
        let size = match from {
            // Mounts stay within one registry (account), as ECR's do.
            Some(from) if from.account != repo.account => None,
            Some(from) => self.meta.repository_blob(from.key(), digest).await?,
            None => {
                self.meta
                    .linked_blob_size(repo.account.as_str(), digest)
                    .await?
            }
        };
        match size {
            // Linking fails when a collection pass removed the blob since the lookup: then the
            // mount is refused and the client uploads the bytes instead.
            Some(size) => match self.meta.link_existing_blob(repo.key(), digest, size).await {
                Ok(()) => Ok(true),
                Err(wharf_meta::MetaError::BlobNotFound) => Ok(false),
                Err(e) => Err(e.into()),
            },
            None => Ok(false),
        }
    }

    /// Removes uploads untouched for `max_age_secs`; returns how many were purged.
    pub async fn purge_stale_uploads(&self, max_age_secs: u64) -> Result<usize, CoreError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let cutoff = now.saturating_sub(max_age_secs) as i64;
        let stale = self.meta.stale_uploads(cutoff).await?;
        for id in &stale {
            let slot = self.slot(id);
            let _state = slot.lock().await;
            self.meta.delete_upload(id).await?;
            self.blobs.delete_upload(id).await?;
            drop(_state);
            self.drop_slot(id);
        }
        Ok(stale.len())
    }
}
