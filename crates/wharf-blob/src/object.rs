//! `ObjectBlobStore`: the blob store over any `object_store` backend — S3-compatible services
//! (AWS S3, Garage, Ceph, MinIO) for many stateless nodes, and memory for tests.
//!
//! Layout under the configured prefix:
//!
//! ```text
//! blobs/<alg>/<hex>                    committed blobs, at their content address
//! uploads/<id>/created                 an upload's marker (so an empty upload exists)
//! uploads/<id>/<offset, 20 digits>     one object per appended body, starting at that offset
//! trash/<token, 16 hex>/<alg>/<hex>    bytes a garbage-collection pass is about to delete
//! owner                                the id of the metadata database owning the store
//! ```
//!
//! An upload is a sequence of chunk objects, so any node can append to, read or commit an upload
//! another node started. Committing copies a single chunk server-side, or streams the chunks into
//! one PUT or multipart upload; either way the blob is whole at its address before
//! `commit_upload` returns (an S3 PUT is durable when acknowledged), and the chunks are deleted
//! afterwards.
//!
//! A commit that must not replace an existing blob checks the address with a HEAD first; a single
//! PUT is also conditional (`If-None-Match: *`, which AWS S3 honours; Garage 2.5 ignores it).
//! object_store exposes no conditional CopyObject or CompleteMultipartUpload for S3, so a commit
//! racing another commit of the same digest between its HEAD and its write may replace that
//! commit's bytes: a window of one request, between two uploads of the same content.

use crate::{Appended, BlobError, BlobListing, BlobStore, ByteStream, FileInfo, Ingest};
use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::signer::Signer;
use object_store::{
    GetOptions, GetRange, ObjectMeta, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload,
    WriteMultipart,
};
use std::sync::Arc;
use std::time::SystemTime;
use wharf_oci::Digest;

/// Bodies up to this size are stored with one PUT; larger ones stream as multipart uploads.
const SINGLE_PUT_MAX: usize = 8 << 20;
/// Objects up to this size are committed with a server-side copy (S3's CopyObject limit is 5 GiB).
const COPY_MAX: u64 = 5 << 30;
const MARKER: &str = "created";

/// A blob store over an object store.
#[derive(Debug, Clone)]
pub struct ObjectBlobStore {
    store: Arc<dyn ObjectStore>,
    prefix: String,
    /// Signs download URLs when blob GETs are to be redirected to the object store.
    signer: Option<Arc<dyn Signer>>,
}

/// Where an S3-compatible store is and how to reach it.
#[derive(Debug, Clone, Default)]
pub struct S3Config {
    /// `http(s)://host:port`; AWS's regional endpoint when `None`.
    pub endpoint: Option<String>,
    pub region: String,
    pub bucket: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Path-style addressing (`endpoint/bucket/key`), which Garage, Ceph and MinIO need.
    pub path_style: bool,
    /// Key prefix inside the bucket ("" for the bucket's root).
    pub prefix: String,
    /// Redirect blob GETs to presigned URLs instead of streaming them through Wharf (clients
    /// must reach the endpoint).
    pub redirect: bool,
}

fn io(e: object_store::Error) -> BlobError {
    BlobError::Io(std::io::Error::other(e))
}

fn is_not_found(e: &object_store::Error) -> bool {
    matches!(e, object_store::Error::NotFound { .. })
}

fn info(meta: &ObjectMeta) -> FileInfo {
    FileInfo {
        size: meta.size,
        modified: SystemTime::from(meta.last_modified),
    }
}

impl ObjectBlobStore {
    /// A store over `store`, with every key under `prefix` (may be empty).
    pub fn new(store: Arc<dyn ObjectStore>, prefix: &str) -> ObjectBlobStore {
        let prefix = prefix.trim_matches('/');
        ObjectBlobStore {
            store,
            prefix: if prefix.is_empty() {
                String::new()
            } else {
                format!("{prefix}/")
            },
            signer: None,
        }
    }

    /// A store in memory (tests, benchmarks).
    pub fn memory() -> ObjectBlobStore {
        ObjectBlobStore::new(Arc::new(object_store::memory::InMemory::new()), "")
    }

    /// A store in an S3-compatible bucket.
    pub fn s3(config: &S3Config) -> Result<ObjectBlobStore, BlobError> {
        let mut b = object_store::aws::AmazonS3Builder::new()
            .with_region(&config.region)
            .with_bucket_name(&config.bucket)
            .with_access_key_id(&config.access_key_id)
            .with_secret_access_key(&config.secret_access_key)
            .with_virtual_hosted_style_request(!config.path_style);
        if let Some(endpoint) = &config.endpoint {
            b = b
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"));
        }
        let store = Arc::new(b.build().map_err(io)?);
        let mut blobs = ObjectBlobStore::new(store.clone(), &config.prefix);
        if config.redirect {
            blobs.signer = Some(store);
        }
        Ok(blobs)
    }

    fn key(&self, rest: &str) -> Path {
        Path::from(format!("{}{rest}", self.prefix))
    }

    fn blob_key(&self, d: &Digest) -> Path {
        self.key(&format!("blobs/{}/{}", d.algorithm().as_str(), d.hex()))
    }

    fn trash_key(&self, d: &Digest, token: u64) -> Path {
        self.key(&format!(
            "trash/{token:016x}/{}/{}",
            d.algorithm().as_str(),
            d.hex()
        ))
    }

    fn upload_dir(&self, id: &str) -> Path {
        debug_assert!(id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
        self.key(&format!("uploads/{id}"))
    }

    fn chunk_key(&self, id: &str, offset: u64) -> Path {
        self.key(&format!("uploads/{id}/{offset:020}"))
    }

    async fn head(&self, key: &Path) -> Result<Option<ObjectMeta>, BlobError> {
        match self.store.head(key).await {
            Ok(m) => Ok(Some(m)),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(io(e)),
        }
    }

    async fn delete_key(&self, key: &Path) -> Result<(), BlobError> {
        match self.store.delete(key).await {
            Ok(()) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(io(e)),
        }
    }

    async fn list(&self, prefix: &Path) -> Result<Vec<ObjectMeta>, BlobError> {
        self.store
            .list(Some(prefix))
            .try_collect()
            .await
            .map_err(io)
    }

    /// An upload's chunks as (offset, meta), in order; `None` when the upload does not exist.
    async fn chunks(&self, id: &str) -> Result<Option<Vec<(u64, ObjectMeta)>>, BlobError> {
        let mut exists = false;
        let mut chunks = Vec::new();
        for meta in self.list(&self.upload_dir(id)).await? {
            match meta.location.filename() {
                Some(MARKER) => exists = true,
                Some(name) => {
                    if let Ok(offset) = name.parse::<u64>() {
                        chunks.push((offset, meta));
                    }
                }
                None => {}
            }
        }
        chunks.sort_by_key(|(o, _)| *o);
        Ok(exists.then_some(chunks))
    }

    /// Streams objects one after another.
    fn concat(&self, keys: Vec<Path>) -> ByteStream {
        let store = self.store.clone();
        Box::pin(
            futures::stream::iter(keys)
                .then(move |key| {
                    let store = store.clone();
                    async move {
                        store
                            .get(&key)
                            .await
                            .map(|r| r.into_stream().map_err(std::io::Error::other))
                            .map_err(std::io::Error::other)
                    }
                })
                .try_flatten(),
        )
    }

    /// Writes `body` to `key` through `ingest` (hashing, and sealing a sealed upload), then what
    /// `ingest.finish()` returns; one PUT for small results, multipart for large ones. Returns
    /// the stored length, or `None` when `mode` is `Create` and the single PUT found an object
    /// at `key`. Nothing is left at `key` when the body fails.
    async fn write_ingested(
        &self,
        key: &Path,
        mut body: ByteStream,
        mut ingest: Ingest,
        mode: PutMode,
    ) -> Result<Option<(u64, Ingest)>, BlobError> {
        let mut first = BytesMut::new();
        let mut scratch = BytesMut::new();
        let mut ended = true;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(BlobError::Body)?;
            if ingest.process_into(&chunk, &mut scratch) {
                first.extend_from_slice(&scratch);
            } else {
                first.extend_from_slice(&chunk);
            }
            if first.len() > SINGLE_PUT_MAX {
                ended = false;
                break;
            }
        }
        if ended {
            first.extend_from_slice(&ingest.finish());
            let len = first.len() as u64;
            if len > 0 {
                let options = PutOptions {
                    mode,
                    ..PutOptions::default()
                };
                match self
                    .store
                    .put_opts(key, PutPayload::from(first.freeze()), options)
                    .await
                {
                    Ok(_) => {}
                    Err(object_store::Error::AlreadyExists { .. }) => return Ok(None),
                    Err(e) => return Err(io(e)),
                }
            }
            return Ok(Some((len, ingest)));
        }
        let mut len = first.len() as u64;
        let mut upload = WriteMultipart::new(self.store.put_multipart(key).await.map_err(io)?);
        upload.put(first.freeze());
        let written = async {
            while let Some(chunk) = body.next().await {
                let stored = ingest.process(chunk.map_err(BlobError::Body)?);
                len += stored.len() as u64;
                put_part(&mut upload, stored).await?;
            }
            let tail = ingest.finish();
            len += tail.len() as u64;
            put_part(&mut upload, tail).await
        }
        .await;
        if let Err(e) = written {
            let _ = upload.abort().await;
            return Err(e);
        }
        upload.finish().await.map_err(io)?;
        Ok(Some((len, ingest)))
    }

    /// Copies `from` to `to`: server-side when the object allows, streamed otherwise.
    async fn copy(&self, from: &Path, size: u64, to: &Path) -> Result<(), BlobError> {
        if size <= COPY_MAX {
            return self.store.copy(from, to).await.map_err(io);
        }
        let stream = self.concat(vec![from.clone()]);
        let ingest = Ingest::plain(wharf_oci::Algorithm::Sha256.hasher());
        self.write_ingested(to, stream, ingest, PutMode::Overwrite)
            .await
            .map(|_| ())
    }
}

/// Queues one part of a multipart write, waiting while four are in flight.
async fn put_part(upload: &mut WriteMultipart, bytes: Bytes) -> Result<(), BlobError> {
    if !bytes.is_empty() {
        upload.wait_for_capacity(4).await.map_err(io)?;
        upload.put(bytes);
    }
    Ok(())
}

#[async_trait]
impl BlobStore for ObjectBlobStore {
    async fn stat(&self, digest: &Digest) -> Result<Option<u64>, BlobError> {
        Ok(self.head(&self.blob_key(digest)).await?.map(|m| m.size))
    }

    async fn owner(&self) -> Result<Option<String>, BlobError> {
        match self.store.get(&self.key("owner")).await {
            Ok(r) => {
                let bytes = r.bytes().await.map_err(io)?;
                Ok(Some(String::from_utf8_lossy(&bytes).trim().to_string()))
            }
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(io(e)),
        }
    }

    async fn set_owner(&self, id: &str) -> Result<(), BlobError> {
        let body = PutPayload::from(Bytes::copy_from_slice(id.as_bytes()));
        self.store.put(&self.key("owner"), body).await.map_err(io)?;
        Ok(())
    }

    async fn read(&self, digest: &Digest, offset: u64, len: u64) -> Result<ByteStream, BlobError> {
        if len == 0 {
            return match self.stat(digest).await? {
                Some(_) => Ok(Box::pin(futures::stream::empty())),
                None => Err(BlobError::NotFound),
            };
        }
        let options = GetOptions {
            range: Some(GetRange::Bounded(offset..offset + len)),
            ..GetOptions::default()
        };
        match self.store.get_opts(&self.blob_key(digest), options).await {
            Ok(r) => Ok(Box::pin(r.into_stream().map_err(std::io::Error::other))),
            Err(e) if is_not_found(&e) => Err(BlobError::NotFound),
            Err(e) => Err(io(e)),
        }
    }

    async fn create_upload(&self, id: &str) -> Result<(), BlobError> {
        let marker = self.key(&format!("uploads/{id}/{MARKER}"));
        self.store
            .put(&marker, PutPayload::from(Bytes::new()))
            .await
            .map_err(io)?;
        Ok(())
    }

    async fn upload_size(&self, id: &str) -> Result<Option<u64>, BlobError> {
        Ok(self
            .chunks(id)
            .await?
            .map(|c| c.iter().map(|(_, m)| m.size).sum()))
    }

    async fn append_upload(
        &self,
        id: &str,
        offset: u64,
        body: ByteStream,
        ingest: Ingest,
    ) -> Result<Appended, BlobError> {
        let chunks = self.chunks(id).await?.ok_or(BlobError::UploadNotFound)?;
        // Cut the upload back to `offset`: drop chunks at or past it, shorten one across it.
        for (start, meta) in &chunks {
            let end = start + meta.size;
            if *start >= offset {
                self.delete_key(&meta.location).await?;
            } else if end > offset {
                let kept = self
                    .store
                    .get_range(&meta.location, 0..offset - start)
                    .await
                    .map_err(io)?;
                self.store
                    .put(&meta.location, PutPayload::from(kept))
                    .await
                    .map_err(io)?;
            }
        }
        let key = self.chunk_key(id, offset);
        let (len, ingest) = self
            .write_ingested(&key, body, ingest, PutMode::Overwrite)
            .await?
            .expect("an overwriting PUT always writes");
        Ok(Appended {
            size: offset + len,
            ingest,
        })
    }

    async fn read_upload(&self, id: &str) -> Result<ByteStream, BlobError> {
        let chunks = self.chunks(id).await?.ok_or(BlobError::UploadNotFound)?;
        Ok(self.concat(chunks.into_iter().map(|(_, m)| m.location).collect()))
    }

    async fn commit_upload(
        &self,
        id: &str,
        digest: &Digest,
        replace: bool,
    ) -> Result<bool, BlobError> {
        let chunks = self.chunks(id).await?.ok_or(BlobError::UploadNotFound)?;
        let to = self.blob_key(digest);
        if !replace && self.head(&to).await?.is_some() {
            return Ok(false);
        }
        let mode = if replace {
            PutMode::Overwrite
        } else {
            PutMode::Create
        };
        let written = match chunks.as_slice() {
            [] => {
                let options = PutOptions {
                    mode,
                    ..PutOptions::default()
                };
                match self
                    .store
                    .put_opts(&to, PutPayload::default(), options)
                    .await
                {
                    Ok(_) => true,
                    Err(object_store::Error::AlreadyExists { .. }) => false,
                    Err(e) => return Err(io(e)),
                }
            }
            [(_, only)] => {
                self.copy(&only.location, only.size, &to).await?;
                true
            }
            _ => {
                let keys = chunks.iter().map(|(_, m)| m.location.clone()).collect();
                let ingest = Ingest::plain(digest.algorithm().hasher());
                self.write_ingested(&to, self.concat(keys), ingest, mode)
                    .await?
                    .is_some()
            }
        };
        if written {
            self.delete_upload(id).await?;
        }
        Ok(written)
    }

    async fn delete_upload(&self, id: &str) -> Result<(), BlobError> {
        for meta in self.list(&self.upload_dir(id)).await? {
            self.delete_key(&meta.location).await?;
        }
        Ok(())
    }

    async fn delete(&self, digest: &Digest) -> Result<(), BlobError> {
        self.delete_key(&self.blob_key(digest)).await
    }

    async fn trash(&self, digest: &Digest, token: u64) -> Result<Option<FileInfo>, BlobError> {
        let from = self.blob_key(digest);
        let Some(meta) = self.head(&from).await? else {
            return Ok(None);
        };
        self.copy(&from, meta.size, &self.trash_key(digest, token))
            .await?;
        self.delete_key(&from).await?;
        Ok(Some(info(&meta)))
    }

    async fn restore(&self, digest: &Digest, token: u64) -> Result<bool, BlobError> {
        let trash = self.trash_key(digest, token);
        let Some(meta) = self.head(&trash).await? else {
            return Ok(false);
        };
        let back = self.head(&self.blob_key(digest)).await?.is_none();
        if back {
            self.copy(&trash, meta.size, &self.blob_key(digest)).await?;
        }
        self.delete_key(&trash).await?;
        Ok(back)
    }

    async fn purge_trash(&self, digest: &Digest, token: u64) -> Result<(), BlobError> {
        self.delete_key(&self.trash_key(digest, token)).await
    }

    async fn list_trash(&self) -> Result<Vec<(Digest, u64)>, BlobError> {
        let mut out = Vec::new();
        for meta in self.list(&self.key("trash")).await? {
            let parts: Vec<_> = meta.location.parts().collect();
            let [.., token, alg, hex] = parts.as_slice() else {
                continue;
            };
            let (Ok(token), Ok(digest)) = (
                u64::from_str_radix(token.as_ref(), 16),
                format!("{}:{}", alg.as_ref(), hex.as_ref()).parse::<Digest>(),
            ) else {
                continue;
            };
            out.push((digest, token));
        }
        Ok(out)
    }

    fn blob_listing(&self) -> BlobListing<'_> {
        let prefix = self.key("blobs");
        Box::pin(
            self.store
                .list(Some(&prefix))
                .map_err(io)
                .try_filter_map(|meta| async move {
                    let parts: Vec<_> = meta.location.parts().collect();
                    let [.., alg, hex] = parts.as_slice() else {
                        return Ok(None);
                    };
                    Ok(format!("{}:{}", alg.as_ref(), hex.as_ref())
                        .parse::<Digest>()
                        .ok()
                        .map(|d| (d, info(&meta))))
                }),
        )
    }

    async fn list_uploads(&self) -> Result<Vec<(String, FileInfo)>, BlobError> {
        let mut by_id: std::collections::BTreeMap<String, FileInfo> = Default::default();
        for meta in self.list(&self.key("uploads")).await? {
            let parts: Vec<_> = meta.location.parts().collect();
            let [.., id, _] = parts.as_slice() else {
                continue;
            };
            let entry = by_id.entry(id.as_ref().to_owned()).or_insert(FileInfo {
                size: 0,
                modified: SystemTime::UNIX_EPOCH,
            });
            entry.size += meta.size;
            entry.modified = entry.modified.max(SystemTime::from(meta.last_modified));
        }
        Ok(by_id.into_iter().collect())
    }

    async fn download_url(
        &self,
        digest: &Digest,
        expires_in: std::time::Duration,
    ) -> Result<Option<String>, BlobError> {
        let Some(signer) = &self.signer else {
            return Ok(None);
        };
        let url = signer
            .signed_url(
                object_store::signer::Method::GET,
                &self.blob_key(digest),
                expires_in,
            )
            .await
            .map_err(io)?;
        Ok(Some(url.to_string()))
    }
}
