//! Why the stores could not be opened. The messages name what was being done (the directory,
//! the bucket, the database with its password redacted) and keep the cause as the source.

use std::path::PathBuf;
use wharf_blob::BlobError;
use wharf_meta::MetaError;

/// What went wrong opening an installation's stores.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("creating data directory {}", .0.display())]
    DataDir(PathBuf, #[source] std::io::Error),
    #[error("opening blob store under {}", dir.display())]
    FsBlobs {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("configuring S3 bucket {bucket}")]
    S3 {
        bucket: String,
        #[source]
        source: BlobError,
    },
    /// The read that proves the store answers failed; `what` names the store.
    #[error("reaching {what}")]
    Reach {
        what: &'static str,
        #[source]
        source: BlobError,
    },
    #[error("opening metadata database under {}", dir.display())]
    Sqlite {
        dir: PathBuf,
        #[source]
        source: MetaError,
    },
    #[error("restricting {}", path.display())]
    Restrict {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// `url` is redacted.
    #[error("connecting to PostgreSQL at {url}")]
    Postgres {
        url: String,
        #[source]
        source: MetaError,
    },
    #[error("reading the blob store's owner mark")]
    OwnerRead(#[source] BlobError),
    #[error("marking the blob store with the metadata database's id")]
    OwnerWrite(#[source] BlobError),
    #[error(
        "the blob store belongs to another metadata database (the store is marked {owner}, \
         this database is {id}); refusing to start, since garbage collection here would \
         delete that installation's blobs. Point metadata.url (WHARF_METADATA_URL) at the \
         database the store was used with, or use an empty bucket or prefix"
    )]
    ForeignStore { owner: String, id: String },
    #[error(transparent)]
    Meta(#[from] MetaError),
}
