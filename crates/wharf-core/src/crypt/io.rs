//! Sealed blob IO: reading a blob through its repository's key (plaintext only where SQL says the
//! blob was never sealed), the data key of an upload, resuming a sealed upload mid-segment, and
//! adopting the bytes already at a blob's address when an upload completes.

use super::keys::{KeyRef, Target, Unwrapped};
use crate::{CoreError, Registry, Repo};
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use std::sync::Arc;
use wharf_blob::seal::{self, DekId, Header, Sealer, HEADER_LEN, OVERHEAD, SEGMENT};
use wharf_blob::{ByteStream, Ingest};
use wharf_oci::{Algorithm, Digest, Hasher};

fn empty() -> ByteStream {
    Box::pin(futures::stream::empty())
}

/// Reads a whole (small) stream.
async fn collect(mut s: ByteStream, limit: usize) -> Result<Bytes, CoreError> {
    let mut buf = BytesMut::new();
    while let Some(chunk) = s.next().await {
        let chunk = chunk.map_err(|e| CoreError::Internal(format!("blob store read: {e}")))?;
        buf.extend_from_slice(&chunk);
        if buf.len() >= limit {
            break;
        }
    }
    buf.truncate(limit);
    Ok(buf.freeze())
}

/// The first `HEADER_LEN` bytes of a stream (fewer if it ends first) and the rest of it.
async fn split_head(mut s: ByteStream) -> Result<(Bytes, ByteStream), CoreError> {
    let n = HEADER_LEN as usize;
    let mut head = BytesMut::with_capacity(n);
    while head.len() < n {
        match s.next().await {
            None => break,
            Some(Err(e)) => return Err(CoreError::Internal(format!("blob store read: {e}"))),
            Some(Ok(mut chunk)) => {
                let need = n - head.len();
                if chunk.len() > need {
                    let rest = chunk.split_off(need);
                    head.extend_from_slice(&chunk);
                    let rest: ByteStream =
                        Box::pin(futures::stream::once(async { Ok(rest) }).chain(s));
                    return Ok((head.freeze(), rest));
                }
                head.extend_from_slice(&chunk);
            }
        }
    }
    Ok((head.freeze(), s))
}

/// Plaintext chunks decrypted ahead of the consumer: with 1 MiB read chunks, two keep the
/// socket fed (four measured no faster and held 4 MiB more at peak).
const PREFETCH: usize = 2;

/// Drives `s` in its own task, up to `PREFETCH` chunks ahead of whoever reads the result: the
/// decryption of the next segments runs on another worker while this one writes to the socket
/// (serially, decryption adds its whole cost to a pull's time). The task ends when `s` does or
/// the reader goes away.
fn prefetch(mut s: ByteStream) -> ByteStream {
    let (tx, rx) = tokio::sync::mpsc::channel(PREFETCH);
    tokio::spawn(async move {
        while let Some(chunk) = s.next().await {
            let failed = chunk.is_err();
            if tx.send(chunk).await.is_err() || failed {
                break;
            }
        }
    });
    Box::pin(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    }))
}

/// Waits for the first chunk, so a failure there (a tampered first segment, a refused key) is
/// an error status rather than a broken body.
async fn prime(mut s: ByteStream) -> Result<ByteStream, CoreError> {
    match s.next().await {
        None => Ok(empty()),
        Some(Err(e)) if e.kind() == std::io::ErrorKind::InvalidData => {
            Err(CoreError::Integrity(e.to_string()))
        }
        Some(Err(e)) => Err(CoreError::Internal(format!("blob store read: {e}"))),
        Some(Ok(first)) => Ok(Box::pin(
            futures::stream::once(async { Ok(first) }).chain(prefetch(s)),
        )),
    }
}

/// A sealed upload's partial last segment, opened to resume the upload: kept so a failed
/// append can put it back.
pub(crate) struct Resume {
    key: Arc<wharf_blob::seal::DataKey>,
    index: u64,
    at: u64,
    carry: Vec<u8>,
}

impl Registry {
    /// Streams `len` bytes (clamped to the blob) from `offset` of a blob the repository may serve,
    /// decrypted through the repository's key.
    pub async fn read_blob(
        &self,
        repo: &Repo,
        digest: &Digest,
        offset: u64,
        len: u64,
    ) -> Result<ByteStream, CoreError> {
        let info = self
            .meta
            .repository_blob_info(repo.key(), digest)
            .await?
            .ok_or(CoreError::BlobUnknown)?;
        let target = Target::of(&info.encryption_type, info.kms_key.as_deref());
        self.read_stored(digest, info.size, info.sealed, &target, offset, len)
            .await
    }

    /// Reads a stored blob of `size` plaintext bytes through `target`.
    pub(crate) async fn read_stored(
        &self,
        digest: &Digest,
        size: u64,
        sealed: bool,
        target: &Target,
        offset: u64,
        len: u64,
    ) -> Result<ByteStream, CoreError> {
        let offset = offset.min(size);
        let len = len.min(size - offset);
        if size == 0 {
            // Nothing to open (installs before the empty-upload fix hold an empty object
            // for a sealed empty blob; every copy of these bytes is the same).
            return Ok(empty());
        }
        if sealed && len > 0 {
            let (_, start, end) = seal::sealed_range(size, offset, len);
            if start == HEADER_LEN {
                // The range begins in the first segment: one read from the blob's start brings
                // the header and the segments (one request to an object store, not two).
                let (head, stored) = split_head(self.blobs.read(digest, 0, end).await?).await?;
                let h = Header::parse(&head)
                    .map_err(|e| CoreError::Integrity(format!("blob {digest}: {e}")))?
                    .ok_or_else(|| {
                        CoreError::Integrity(format!(
                            "blob {digest} was stored sealed but its address holds unsealed bytes"
                        ))
                    })?;
                let u = self.read_key(digest, h.dek_id, target).await?;
                return prime(seal::open_range(stored, u.key.clone(), size, offset, len)).await;
            }
        }
        match self.stored_header(digest).await? {
            None if sealed => Err(CoreError::Integrity(format!(
                "blob {digest} was stored sealed but its address holds unsealed bytes"
            ))),
            None if len == 0 => Ok(empty()),
            None => Ok(self.blobs.read(digest, offset, len).await?),
            Some(h) => {
                let u = self.read_key(digest, h.dek_id, target).await?;
                if len == 0 {
                    return Ok(empty());
                }
                let (_, start, end) = seal::sealed_range(size, offset, len);
                let stored = self.blobs.read(digest, start, end - start).await?;
                prime(seal::open_range(stored, u.key.clone(), size, offset, len)).await
            }
        }
    }

    /// The seal header of the bytes at a blob's address; `None` for plaintext.
    pub(crate) async fn stored_header(&self, digest: &Digest) -> Result<Option<Header>, CoreError> {
        let head = collect(
            self.blobs.read(digest, 0, HEADER_LEN).await?,
            HEADER_LEN as usize,
        )
        .await?;
        Header::parse(&head).map_err(|e| CoreError::Integrity(format!("blob {digest}: {e}")))
    }

    /// The data key sealing blob `digest` (its header names `dek`), opened through `target`.
    /// The data key must belong to `digest` (else the file was swapped in: an integrity error).
    /// When the blob came to this repository from one with another key (a mount, or the same
    /// layer pushed under two keys), the data key is opened through a key that has it and
    /// wrapped under `target`, which must itself be usable.
    pub(crate) async fn read_key(
        &self,
        digest: &Digest,
        dek: DekId,
        target: &Target,
    ) -> Result<Arc<Unwrapped>, CoreError> {
        if self.bindings.get(&dek).as_ref() == Some(digest) {
            if let Some(u) = self.keys.cached(dek, target) {
                return Ok(u);
            }
        }
        let rows = self.meta.data_keys(&dek.to_hex()).await?;
        let name = digest.to_string();
        if let Some(other) = rows
            .iter()
            .find_map(|r| r.digest.as_deref().filter(|d| *d != name))
        {
            return Err(CoreError::Integrity(format!(
                "the bytes at blob {digest}'s address are sealed under data key {dek} of blob {other}"
            )));
        }
        if !rows
            .iter()
            .any(|r| r.digest.as_deref() == Some(name.as_str()))
        {
            return Err(CoreError::Integrity(format!(
                "the bytes at blob {digest}'s address are sealed under data key {dek}, which no recorded blob owns"
            )));
        }
        self.bindings.insert(dek, digest.clone());
        let mut wraps: Vec<(KeyRef, &[u8])> = rows
            .iter()
            .filter_map(|r| KeyRef::parse(&r.key_ref).map(|k| (k, r.wrapped.as_slice())))
            .collect();
        if let Some((kr, w)) = wraps.iter().find(|(k, _)| target.matches(k)) {
            return self.keys.unwrap(kr, dek, w).await;
        }
        // Master wraps first: they need no remote call.
        wraps.sort_by_key(|(k, _)| !matches!(k, KeyRef::Master(_)));
        let mut last = None;
        for (kr, w) in &wraps {
            match self.keys.unwrap(kr, dek, w).await {
                Ok(u) => {
                    let (new_ref, wrapped) = self.keys.wrap(target, &u).await?;
                    // The new wrap takes the digest the data key is bound to.
                    self.meta
                        .insert_data_key(&dek.to_hex(), &new_ref.to_string(), &wrapped)
                        .await?;
                    return Ok(u);
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| {
            CoreError::Integrity(format!(
                "data key {dek} of blob {digest} has no usable wrap"
            ))
        }))
    }

    /// The data key of a sealed upload. `target`, the key its repository seals under, lets an
    /// unwrap cached when the key was made (or last opened) answer without reading the wrap.
    async fn upload_key(
        &self,
        dek: DekId,
        target: Option<&Target>,
    ) -> Result<Arc<Unwrapped>, CoreError> {
        if let Some(u) = target.and_then(|t| self.keys.cached(dek, t)) {
            return Ok(u);
        }
        let rows = self.meta.data_keys(&dek.to_hex()).await?;
        let (kr, wrapped) = rows
            .iter()
            .find_map(|r| KeyRef::parse(&r.key_ref).map(|k| (k, r.wrapped.as_slice())))
            .ok_or_else(|| CoreError::Internal(format!("upload data key {dek} has no wrap")))?;
        self.keys.unwrap(&kr, dek, wrapped).await
    }

    /// Makes a data key for a new upload into a repository encrypted under `target` and stores
    /// its wrap (before any byte is written under it). `None` when new blobs are not sealed.
    pub(crate) async fn new_upload_key(&self, target: &Target) -> Result<Option<DekId>, CoreError> {
        let Some(key) = self.fresh_upload_key(target).await? else {
            return Ok(None);
        };
        self.meta
            .insert_data_key(&key.dek.to_hex(), &key.key_ref, &key.wrapped)
            .await?;
        Ok(Some(key.dek))
    }

    /// Makes a data key for a new upload, as `new_upload_key` does, leaving its wrap for the
    /// caller to record (with the upload's session, in one commit). `None` when new blobs are
    /// not sealed.
    pub(crate) async fn fresh_upload_key(
        &self,
        target: &Target,
    ) -> Result<Option<FreshKey>, CoreError> {
        if !self.keys.seals() {
            return Ok(None);
        }
        let (u, key_ref, wrapped) = self.keys.new_data_key(target).await?;
        Ok(Some(FreshKey {
            dek: u.id(),
            key_ref: key_ref.to_string(),
            wrapped,
        }))
    }

    /// Where to append to an upload holding `size` plaintext bytes, and the ingest that hashes
    /// and (for a sealed upload) seals what comes. A sealed upload that ends inside a segment
    /// resumes at that segment's start: its stored tail is opened and sealed again with the new
    /// bytes (fresh nonce), so no segment is ever partial in the middle of a blob.
    pub(crate) async fn ingest_at(
        &self,
        id: &str,
        dek: Option<DekId>,
        target: Option<&Target>,
        size: u64,
        hasher: Hasher,
    ) -> Result<(u64, Ingest, Option<Resume>), CoreError> {
        let Some(dek) = dek else {
            return Ok((size, Ingest::plain(hasher), None));
        };
        let u = self.upload_key(dek, target).await?;
        if size == 0 {
            return Ok((
                0,
                Ingest::sealed(hasher, Sealer::at_start(u.key.clone())),
                None,
            ));
        }
        let index = size / SEGMENT;
        let rem = size % SEGMENT;
        let at = seal::segment_offset(index);
        let carry = if rem == 0 {
            Vec::new()
        } else {
            let stored = self.blobs.read_upload_range(id, at, rem + OVERHEAD).await?;
            let bytes = collect(stored, (rem + OVERHEAD) as usize).await?;
            seal::open_segment(&u.key, index, &bytes)
                .map_err(|e| CoreError::Integrity(format!("upload {id}: {e}")))?
        };
        let resume = (!carry.is_empty()).then(|| Resume {
            key: u.key.clone(),
            index,
            at,
            carry: carry.clone(),
        });
        Ok((
            at,
            Ingest::sealed(hasher, Sealer::resume(u.key.clone(), index, carry)),
            resume,
        ))
    }

    /// Puts back the partial last segment a failed append cut away (the store cuts a failed
    /// append back to where it began, the start of that segment): the upload keeps its size.
    pub(crate) async fn restore_tail(&self, id: &str, r: Resume) -> Result<(), CoreError> {
        let ingest = Ingest::sealed(
            Algorithm::Sha256.hasher(),
            Sealer::resume(r.key, r.index, r.carry),
        );
        let nothing: ByteStream = Box::pin(futures::stream::empty());
        self.blobs.append_upload(id, r.at, nothing, ingest).await?;
        Ok(())
    }

    /// The first `size` plaintext bytes of an upload (to rebuild its hash state).
    pub(crate) async fn read_upload_plain(
        &self,
        id: &str,
        dek: Option<DekId>,
        size: u64,
    ) -> Result<ByteStream, CoreError> {
        let Some(dek) = dek else {
            return Ok(self.blobs.read_upload(id).await?);
        };
        let u = self.upload_key(dek, None).await?;
        let segments = seal::sealed_len(size) - HEADER_LEN;
        let stored = self
            .blobs
            .read_upload_range(id, HEADER_LEN, segments)
            .await?;
        Ok(seal::open_range(stored, u.key.clone(), size, 0, size))
    }

    /// Puts a verified upload at its blob's address. Bytes already at the address are kept
    /// when they are sealed under a data key of this blob that `target` can open (dedup), or
    /// when this upload is plaintext (it never replaces anything); anything else there
    /// (plaintext, a leftover of an unrecorded upload, a blob only disabled keys can open) is
    /// replaced. A kept placement leaves the upload's scratch for `settle_upload`.
    pub(crate) async fn place_upload(
        &self,
        id: &str,
        digest: &Digest,
        dek: Option<DekId>,
        target: &Target,
    ) -> Result<Placement, CoreError> {
        // Bound before the bytes can be at the address: a reader that meets them finds their
        // data key owned by this blob.
        if let Some(dek) = dek {
            self.meta.bind_data_key(&dek.to_hex(), digest).await?;
        }
        if self.blobs.commit_upload(id, digest, false).await? {
            return Ok(Placement::Placed(dek));
        }
        let Some(ours) = dek else {
            return Ok(Placement::Kept {
                existing: None,
                ours: None,
            });
        };
        let existing = match self.stored_header(digest).await {
            Ok(Some(h)) => match self.read_key(digest, h.dek_id, target).await {
                Ok(_) => Some(h.dek_id),
                Err(e) => {
                    tracing::info!(%digest, error = %e, "replacing stored bytes this upload's key cannot share");
                    None
                }
            },
            _ => None,
        };
        match existing {
            Some(kept) => Ok(Placement::Kept {
                existing: Some(kept),
                ours: Some(ours),
            }),
            None => {
                self.blobs.commit_upload(id, digest, true).await?;
                Ok(Placement::Placed(Some(ours)))
            }
        }
    }

    /// Records a placed upload's blob (closing the session `upload`, if any). For kept bytes
    /// the record comes first, which stops a garbage-collection pass that may be removing them
    /// (it clears the pass's mark); if they are gone all the same (the pass removed them before
    /// the record), this upload's own bytes take their place, fresh.
    pub(crate) async fn settle_upload(
        &self,
        repo: &Repo,
        id: &str,
        digest: &Digest,
        size: u64,
        upload: Option<&str>,
        placement: Placement,
    ) -> Result<(), CoreError> {
        let hex = |d: Option<DekId>| d.map(|d| d.to_hex());
        match placement {
            Placement::Placed(dek) => {
                self.meta
                    .record_blob(repo.key(), digest, size, upload, hex(dek).as_deref())
                    .await?;
            }
            Placement::Kept { existing, ours } => {
                self.meta
                    .record_blob(repo.key(), digest, size, upload, hex(existing).as_deref())
                    .await?;
                if self.blobs.stat(digest).await?.is_some() {
                    self.blobs.delete_upload(id).await?;
                } else {
                    tracing::info!(%digest, "the stored bytes went away before the record; placing the upload's own");
                    self.blobs.commit_upload(id, digest, true).await?;
                    self.meta
                        .record_blob(repo.key(), digest, size, None, hex(ours).as_deref())
                        .await?;
                }
            }
        }
        Ok(())
    }
}

/// A new data key whose wrap is not recorded yet.
pub(crate) struct FreshKey {
    pub(crate) dek: DekId,
    pub(crate) key_ref: String,
    pub(crate) wrapped: Vec<u8>,
}

/// Where a verified upload's bytes went.
pub(crate) enum Placement {
    /// The upload's bytes are at the address, sealed under this data key (`None`: plaintext).
    Placed(Option<DekId>),
    /// Bytes already at the address were kept (sealed under `existing`); the upload's scratch
    /// is still there, for `settle_upload`.
    Kept {
        existing: Option<DekId>,
        ours: Option<DekId>,
    },
}

impl Registry {
    /// Whether the repository's data can be read now: for a KMS repository, that its key is
    /// enabled (checked at most once per KMS cache period); always for AES256.
    pub async fn check_repository_key(&self, repo: &Repo) -> Result<(), CoreError> {
        match self.repo_target(repo).await? {
            Target::Kms(arn) => self.keys.check_usable(&arn).await,
            Target::Master => Ok(()),
        }
    }

    /// The key a repository's blobs are sealed under (from the authorization cache, which the
    /// request's authorization has just filled).
    pub(crate) async fn repo_target(&self, repo: &Repo) -> Result<Target, CoreError> {
        match self.repo_inputs(repo).await?.as_ref() {
            Some(entry) => Ok(entry.target.clone()),
            None => Err(CoreError::NameUnknown),
        }
    }
}
