//! The blob store's owner mark: it pairs a blob store with one metadata database. The first
//! start marks the store with the database's id; later starts refuse a store another database
//! marked. A node pointed at a shared bucket but (by a missing `metadata.url`) at an empty
//! embedded database would otherwise see every blob as unreferenced, and its garbage collection
//! would delete them all.

use super::OpenError;
use wharf_blob::BlobStore;
use wharf_meta::MetaStore;

/// Marks an unmarked store with the database's id, or checks the mark is that id.
pub(crate) async fn check(blobs: &dyn BlobStore, meta: &MetaStore) -> Result<(), OpenError> {
    let fresh = hex::encode(crate::identity::random_bytes(16));
    let id = meta.init_setting("store_id", &fresh).await?;
    match blobs.owner().await.map_err(OpenError::OwnerRead)? {
        None => blobs.set_owner(&id).await.map_err(OpenError::OwnerWrite),
        Some(owner) if owner == id => Ok(()),
        Some(owner) => Err(OpenError::ForeignStore { owner, id }),
    }
}
