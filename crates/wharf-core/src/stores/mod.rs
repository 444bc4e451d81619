//! Opening the stores an installation names: where its metadata database and its blob store
//! live (plain settings the binary builds from its configuration), opened into a `Registry`, or
//! into `Records` for commands that read only the metadata database.
//!
//! This is the only place that chooses a backend: SQLite under the data directory or a shared
//! PostgreSQL database (`metadata.rs`), the filesystem under the data directory or an
//! S3-compatible bucket (`blobs.rs`), and that pairs the two through the blob store's owner
//! mark (`owner.rs`).

mod blobs;
mod error;
mod metadata;
mod owner;

pub use error::OpenError;
pub use metadata::redact_url;
pub use wharf_blob::S3Config;

use crate::{Records, Registry};
use std::path::{Path, PathBuf};

/// Where metadata lives.
#[derive(Clone, PartialEq, Eq)]
pub enum MetadataSettings {
    /// SQLite at `<data-dir>/metadata.db`.
    Embedded,
    /// A PostgreSQL URL (it may carry a password, so it never reaches logs: `Debug` redacts it).
    Postgres(String),
}

impl std::fmt::Debug for MetadataSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MetadataSettings::Embedded => f.write_str("Embedded"),
            MetadataSettings::Postgres(url) => write!(f, "Postgres({})", redact_url(url)),
        }
    }
}

/// Where blobs live.
#[derive(Clone)]
pub enum BlobStoreSettings {
    /// `<data-dir>/blobs-store`.
    Filesystem,
    S3(S3Config),
}

impl std::fmt::Debug for BlobStoreSettings {
    // Never prints the secret key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BlobStoreSettings::Filesystem => f.write_str("Filesystem"),
            BlobStoreSettings::S3(c) => f
                .debug_struct("S3")
                .field("endpoint", &c.endpoint)
                .field("region", &c.region)
                .field("bucket", &c.bucket)
                .field("access_key_id", &c.access_key_id)
                .field("path_style", &c.path_style)
                .field("prefix", &c.prefix)
                .field("redirect", &c.redirect)
                .finish_non_exhaustive(),
        }
    }
}

/// The stores of one installation.
#[derive(Debug, Clone)]
pub struct StoreSettings {
    /// Holds the embedded stores (and is created when missing).
    pub data_dir: PathBuf,
    pub metadata: MetadataSettings,
    pub blob_store: BlobStoreSettings,
}

impl StoreSettings {
    /// The SQLite database file of an embedded metadata store (`None` over PostgreSQL).
    pub fn metadata_file(&self) -> Option<PathBuf> {
        match self.metadata {
            MetadataSettings::Embedded => Some(self.data_dir.join("metadata.db")),
            MetadataSettings::Postgres(_) => None,
        }
    }

    /// The blob store's directory when it is the filesystem one.
    pub fn blob_dir(&self) -> Option<PathBuf> {
        match self.blob_store {
            BlobStoreSettings::Filesystem => Some(self.data_dir.join("blobs-store")),
            BlobStoreSettings::S3(_) => None,
        }
    }

    /// Whether either store lives under the data directory.
    pub fn is_local(&self) -> bool {
        self.metadata_file().is_some() || self.blob_dir().is_some()
    }

    /// Where the stores are, for people (secrets redacted).
    pub fn describe(&self) -> String {
        let blobs = match &self.blob_store {
            BlobStoreSettings::Filesystem => {
                format!("blobs in {}", self.data_dir.join("blobs-store").display())
            }
            BlobStoreSettings::S3(c) => format!(
                "blobs in S3 bucket {} at {} under prefix {:?}",
                c.bucket,
                c.endpoint.as_deref().unwrap_or("AWS"),
                c.prefix
            ),
        };
        format!("{blobs}, metadata in {}", self.describe_metadata())
    }

    /// Where the metadata database is, for people (the password redacted).
    pub fn describe_metadata(&self) -> String {
        match &self.metadata {
            MetadataSettings::Embedded => {
                format!("SQLite {}", self.data_dir.join("metadata.db").display())
            }
            // Debug redacts the password.
            pg => format!("{pg:?}"),
        }
    }

    /// Whether both settings name one metadata database.
    pub fn same_metadata(&self, other: &StoreSettings) -> bool {
        match (&self.metadata, &other.metadata) {
            (MetadataSettings::Embedded, MetadataSettings::Embedded) => {
                same_dir(&self.data_dir, &other.data_dir)
            }
            (MetadataSettings::Postgres(x), MetadataSettings::Postgres(y)) => x == y,
            _ => false,
        }
    }

    fn create_data_dir(&self) -> Result<(), OpenError> {
        std::fs::create_dir_all(&self.data_dir)
            .map_err(|source| OpenError::DataDir(self.data_dir.clone(), source))
    }
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Opens the blob and metadata stores the settings name (creating the data directory), checks
/// that the blob store answers, and pairs it with the database through its owner mark: the
/// first start marks the store, later starts refuse a store another database marked. Blobs are
/// plaintext until the caller sets the data-key service (`Registry::with_keys`).
pub async fn open_registry(settings: &StoreSettings) -> Result<Registry, OpenError> {
    settings.create_data_dir()?;
    let blobs = blobs::open(&settings.blob_store, &settings.data_dir)?;
    // Fail at start, not at the first push, when the store is unreachable or refuses the keys.
    blobs::reach(blobs.as_ref(), "the blob store").await?;
    let meta = metadata::open(&settings.metadata, &settings.data_dir).await?;
    owner::check(blobs.as_ref(), &meta).await?;
    Ok(Registry::new(blobs, meta))
}

/// Opens the metadata database alone (creating the data directory), applying migrations: for
/// commands that read records and touch no blob (`wharf audit`, `wharf jobs`, `wharf migrate`).
pub async fn open_records(settings: &StoreSettings) -> Result<Records, OpenError> {
    settings.create_data_dir()?;
    let meta = metadata::open(&settings.metadata, &settings.data_dir).await?;
    Ok(Records::new(meta))
}

pub(crate) use blobs::{open as open_blobs, reach as reach_blobs};
pub(crate) use metadata::open as open_metadata;

#[cfg(test)]
mod tests {
    use super::*;

    fn at(dir: &str, metadata: MetadataSettings) -> StoreSettings {
        StoreSettings {
            data_dir: dir.into(),
            metadata,
            blob_store: BlobStoreSettings::Filesystem,
        }
    }

    #[test]
    fn same_metadata_is_one_directory_or_one_url() {
        let a = at("/srv/a", MetadataSettings::Embedded);
        let b = at("/srv/b", MetadataSettings::Embedded);
        assert!(a.same_metadata(&a));
        assert!(!a.same_metadata(&b));
        let pg = at(
            "/srv/a",
            MetadataSettings::Postgres("postgres://h/db".into()),
        );
        assert!(!a.same_metadata(&pg), "same directory, other database");
        assert!(pg.same_metadata(&pg));
    }

    #[test]
    fn debug_hides_secrets() {
        let pg = MetadataSettings::Postgres("postgres://wharf:s3cret@db:5432/wharf".into());
        let shown = format!("{pg:?}");
        assert!(!shown.contains("s3cret") && shown.contains("wharf:***@db:5432/wharf"));
        let s3 = BlobStoreSettings::S3(S3Config {
            endpoint: None,
            region: "us-east-1".into(),
            bucket: "b".into(),
            access_key_id: "GK1".into(),
            secret_access_key: "very-secret".into(),
            path_style: true,
            prefix: String::new(),
            redirect: false,
        });
        assert!(!format!("{s3:?}").contains("very-secret"));
    }

    #[tokio::test]
    async fn a_store_marked_by_another_database_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let a = at(dir.path().to_str().unwrap(), MetadataSettings::Embedded);
        let registry = open_registry(&a).await.unwrap();
        registry.close().await;
        // Reopening the same pair is fine; a fresh database over the same blobs is not.
        open_registry(&a).await.unwrap().close().await;
        for f in ["metadata.db", "metadata.db-wal", "metadata.db-shm"] {
            let _ = std::fs::remove_file(dir.path().join(f));
        }
        let err = open_registry(&a).await.err().expect("refused");
        assert!(
            err.to_string()
                .contains("belongs to another metadata database"),
            "{err}"
        );
        let records = open_records(&a).await.unwrap();
        assert!(records.schema_version().await.unwrap().at > 0);
        records.close().await;
    }
}
