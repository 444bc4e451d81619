//! The metadata store: the single source of truth for repositories, blobs, manifests, tags,
//! references and uploads. It is the only crate that knows SQL.
//!
//! The embedded backend is SQLite in WAL mode with a writer/reader split: one connection writes
//! (SQLite allows one writer at a time anyway, so queuing here beats lock retries) and a small pool
//! reads concurrently. Every multi-row change is one transaction.

mod accounts;
mod blobs;
mod gc;
mod identity;
mod images;
mod lifecycle;
mod manifests;
mod migrate;
mod registry;
mod repo_settings;
mod repos;
mod uploads;
mod usage;

pub use gc::GcBlob;
pub use identity::{AccessKeyRecord, UserRecord};
pub use images::ImageRecord;
pub use lifecycle::{LifecyclePolicyRecord, LifecycleRepository, PreviewRecord};
pub use manifests::{NewManifest, PutOutcome, Referrer, StoredManifest, TagPage};
pub use registry::TemplateRecord;
pub use repo_settings::{RepoSettings, RepositoryRecord};
pub use uploads::Upload;
pub use usage::{AccountUsage, RepositoryUsage, ServerUsage, UsageFigures};

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use wharf_oci::Digest;

/// Errors of the metadata store.
#[derive(Debug, thiserror::Error)]
pub enum MetaError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("repository not found")]
    RepositoryNotFound,
    /// A manifest references blobs or child manifests the repository does not hold.
    #[error("manifest references unknown content")]
    MissingReferences {
        blobs: Vec<Digest>,
        manifests: Vec<Digest>,
    },
    /// An immutable tag already points at another manifest.
    #[error("tag {0} is immutable")]
    TagImmutable(String),
    #[error("too many tags on the resource")]
    TooManyTags,
    /// The blob is not (or no longer) recorded.
    #[error("blob not found")]
    BlobNotFound,
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

pub type Result<T, E = MetaError> = std::result::Result<T, E>;

/// Names a repository: the owning account's id and the repository name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RepoKey<'a> {
    pub account: &'a str,
    pub name: &'a str,
}

/// Handle to the metadata database. Cheap to clone.
#[derive(Debug, Clone)]
pub struct MetaStore {
    writer: SqlitePool,
    reader: SqlitePool,
    default_account: String,
    /// Group commit of `record_blob`.
    blob_group: std::sync::Arc<blobs::BlobGroup>,
}

impl MetaStore {
    /// Opens (creating if needed) the SQLite database at `path` and applies migrations.
    pub async fn open_sqlite(path: &Path) -> Result<MetaStore> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit that returned is on disk, so an acknowledged push survives power loss.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        migrate::apply(&writer).await?;
        let default_account = accounts::bootstrap_default(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options.read_only(true))
            .await?;
        Ok(MetaStore {
            writer,
            reader,
            default_account,
            blob_group: Default::default(),
        })
    }

    /// The account `/v2/` serves when a request names none (created on first start).
    pub fn default_account(&self) -> &str {
        &self.default_account
    }

    /// Closes both pools, waiting for connections to finish.
    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }
}

/// Current time in Unix seconds.
pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

pub(crate) fn parse_digest(s: &str) -> Result<Digest> {
    s.parse()
        .map_err(|_| MetaError::Corrupt(format!("bad digest {s:?} in database")))
}
