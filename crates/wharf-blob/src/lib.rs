//! Blob storage: immutable, content-addressed bytes plus the scratch space uploads stream into.
//!
//! The `BlobStore` trait is what the rest of Wharf sees; `FsBlobStore` is the embedded backend and
//! `ObjectBlobStore` the S3-compatible one (and in-memory, for tests).
//! Stores know nothing of repositories or metadata: whether a blob is *visible* is decided by the
//! metadata store, which records a blob only after `commit_upload` has made its bytes durable.
//! Stores know nothing of keys either: `seal` defines the encrypted format, and an `Ingest`
//! handed to `append_upload` decides whether the bytes written are sealed.

mod file_chunks;
mod fs;
mod ingest;
mod object;
pub mod seal;
mod write_pipe;

pub use fs::FsBlobStore;
pub use ingest::Ingest;
pub use object::{ObjectBlobStore, S3Config};

use async_trait::async_trait;
use bytes::Bytes;
use futures::Stream;
use std::pin::Pin;
use wharf_oci::Digest;

/// A stream of byte chunks, as request bodies and blob reads are passed around.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, std::io::Error>> + Send>>;

/// Every stored blob, produced as the store lists them (a bucket of millions is never held in
/// memory at once).
pub type BlobListing<'a> =
    Pin<Box<dyn Stream<Item = Result<(Digest, FileInfo), BlobError>> + Send + 'a>>;

/// Errors of a blob store.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob not found")]
    NotFound,
    #[error("upload not found")]
    UploadNotFound,
    /// The client's body ended early or failed; nothing of it was kept.
    #[error("request body failed: {0}")]
    Body(std::io::Error),
    #[error("storage IO failed: {0}")]
    Io(#[from] std::io::Error),
}

/// The result of appending to an upload.
#[derive(Debug)]
pub struct Appended {
    /// The upload's stored size after the append (sealed bytes, when the upload is sealed).
    pub size: u64,
    /// The ingest, advanced over the appended plaintext.
    pub ingest: Ingest,
}

/// A file a garbage-collection listing found: its size and when its bytes were last placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileInfo {
    pub size: u64,
    /// The modification time. `commit_upload` sets it, so it tells how long ago an upload put the
    /// bytes at their address (an upload that has not been recorded yet may be behind it).
    pub modified: std::time::SystemTime,
}

/// Content-addressed blob storage with upload scratch space.
#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// The size of a stored blob, or `None` when it is absent.
    async fn stat(&self, digest: &Digest) -> Result<Option<u64>, BlobError>;

    /// Streams `len` bytes of a blob starting at `offset`.
    async fn read(&self, digest: &Digest, offset: u64, len: u64) -> Result<ByteStream, BlobError>;

    /// Creates empty scratch space for an upload.
    async fn create_upload(&self, id: &str) -> Result<(), BlobError>;

    /// The current size of an upload's scratch space, or `None` when it does not exist.
    async fn upload_size(&self, id: &str) -> Result<Option<u64>, BlobError>;

    /// Appends a body at the stored byte `offset` (the upload is truncated there first), passing
    /// every chunk through `ingest` (which hashes the plaintext and, for a sealed upload, seals
    /// it) as it is written; what `ingest.finish()` returns is written last. If the body fails
    /// midway the upload is cut back to `offset`, so a short body leaves nothing behind. (A
    /// sealed append resumed at a partial last segment starts at that segment, so a failure
    /// removes it too: the caller appends the carried plaintext back with an empty body.)
    async fn append_upload(
        &self,
        id: &str,
        offset: u64,
        body: ByteStream,
        ingest: Ingest,
    ) -> Result<Appended, BlobError>;

    /// Streams an upload's bytes so far (to rebuild a hash state lost in a restart).
    async fn read_upload(&self, id: &str) -> Result<ByteStream, BlobError>;

    /// Streams `len` stored bytes of an upload from `offset` (a sealed upload's last partial
    /// segment, read back to resume it). The default skips through `read_upload`.
    async fn read_upload_range(
        &self,
        id: &str,
        offset: u64,
        len: u64,
    ) -> Result<ByteStream, BlobError> {
        use futures::StreamExt;
        let mut at = 0u64;
        let end = offset.saturating_add(len);
        let s = self.read_upload(id).await?;
        Ok(Box::pin(s.filter_map(move |chunk| {
            let out = chunk.map(|c| {
                let (start, stop) = (at, at + c.len() as u64);
                at = stop;
                let from = offset.clamp(start, stop) - start;
                let to = end.clamp(start, stop) - start;
                c.slice(from as usize..to as usize)
            });
            futures::future::ready(match out {
                Ok(c) if c.is_empty() => None,
                other => Some(other),
            })
        })))
    }

    /// Makes the upload durable and moves it to its content address; `true` means the upload's
    /// bytes are now at the address and the upload is gone. With `replace == false` an address
    /// that already holds bytes is left alone, and so is the upload: the result is `false`
    /// (a sealed blob is bound to the data key in its header, so another upload's bytes must not
    /// silently take its place). With `replace == true` the address is overwritten.
    async fn commit_upload(
        &self,
        id: &str,
        digest: &Digest,
        replace: bool,
    ) -> Result<bool, BlobError>;

    /// Removes an upload's scratch space; absent uploads are not an error.
    async fn delete_upload(&self, id: &str) -> Result<(), BlobError>;

    /// Removes a blob's bytes; absent blobs are not an error. Only garbage collection calls this.
    async fn delete(&self, digest: &Digest) -> Result<(), BlobError>;

    /// Garbage collection: moves a blob's bytes out of its address into trash named by `token`;
    /// `None` when nothing is at the address. The address is free for a new upload at once.
    async fn trash(&self, digest: &Digest, token: u64) -> Result<Option<FileInfo>, BlobError>;

    /// Garbage collection: puts trashed bytes back at their address, unless the address holds a
    /// file again (same digest, same bytes), in which case the trash is dropped. Returns whether
    /// the trashed bytes went back; absent trash is not an error.
    async fn restore(&self, digest: &Digest, token: u64) -> Result<bool, BlobError>;

    /// Garbage collection: deletes trashed bytes; absent trash is not an error.
    async fn purge_trash(&self, digest: &Digest, token: u64) -> Result<(), BlobError>;

    /// Garbage collection: what is in the trash (left there by a pass that stopped midway).
    async fn list_trash(&self) -> Result<Vec<(Digest, u64)>, BlobError>;

    /// Garbage collection: every stored blob, as a stream. Nothing else lists the blob store.
    fn blob_listing(&self) -> BlobListing<'_>;

    /// Every stored blob, collected (tests and small stores; garbage collection streams).
    async fn list_blobs(&self) -> Result<Vec<(Digest, FileInfo)>, BlobError> {
        use futures::TryStreamExt;
        self.blob_listing().try_collect().await
    }

    /// Garbage collection: every upload's scratch space, by upload id.
    async fn list_uploads(&self) -> Result<Vec<(String, FileInfo)>, BlobError>;

    /// The id of the metadata database this store belongs to, as `set_owner` wrote it (`None`
    /// for a store that has none yet). A node refuses to run over a store another database owns:
    /// its garbage collection would see every blob as unreferenced.
    async fn owner(&self) -> Result<Option<String>, BlobError>;

    /// Marks the store as belonging to the metadata database `id`.
    async fn set_owner(&self, id: &str) -> Result<(), BlobError>;

    /// A URL clients may GET the blob from directly for `expires_in` (a presigned object-store
    /// URL), when the store offers one and is configured to; `None` means serve the bytes.
    async fn download_url(
        &self,
        _digest: &Digest,
        _expires_in: std::time::Duration,
    ) -> Result<Option<String>, BlobError> {
        Ok(None)
    }
}
