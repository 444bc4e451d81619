//! The blob store the settings name: the filesystem under the data directory or an
//! S3-compatible bucket (opening either does no network IO), and the one read that proves it
//! answers.

use super::{BlobStoreSettings, OpenError};
use std::path::Path;
use std::sync::Arc;
use wharf_blob::{BlobStore, FsBlobStore, ObjectBlobStore};

/// Opens the configured blob store.
pub(crate) fn open(
    settings: &BlobStoreSettings,
    data_dir: &Path,
) -> Result<Arc<dyn BlobStore>, OpenError> {
    Ok(match settings {
        BlobStoreSettings::Filesystem => Arc::new(
            FsBlobStore::open(data_dir.join("blobs-store")).map_err(|source| {
                OpenError::FsBlobs {
                    dir: data_dir.to_path_buf(),
                    source,
                }
            })?,
        ),
        BlobStoreSettings::S3(c) => {
            Arc::new(ObjectBlobStore::s3(c).map_err(|source| OpenError::S3 {
                bucket: c.bucket.clone(),
                source,
            })?)
        }
    })
}

/// Fails when the store is unreachable or refuses the keys; `what` names it in the error.
pub(crate) async fn reach(blobs: &dyn BlobStore, what: &'static str) -> Result<(), OpenError> {
    blobs
        .stat(&wharf_oci::Digest::sha256(b""))
        .await
        .map(drop)
        .map_err(|source| OpenError::Reach { what, source })
}
