//! The metadata store: the single source of truth for repositories, blobs, manifests, tags,
//! references and uploads. It is the only crate that knows SQL.
//!
//! Two backends share every query through sqlx's `Any` driver (see `dialect.rs` for the few
//! spots where their SQL differs):
//! - SQLite, the embedded default, in WAL mode with a writer/reader split: one connection writes
//!   (SQLite allows one writer at a time anyway, so queuing here beats lock retries) and a small
//!   pool reads concurrently.
//! - PostgreSQL, shared by any number of nodes. Write transactions take transaction-scoped
//!   advisory locks first (`locks.rs`): one repository's writes serialize across the cluster
//!   as SQLite's single writer serializes them within one process, writes to different
//!   repositories run concurrently, and global writes (collection, keys) exclude all of them.
//!   Reads never wait for any of these locks.
//!
//! Every multi-row change is one transaction.

mod accounts;
mod audit;
mod blob_info;
mod blobs;
mod copy;
mod copy_tables;
mod crypt;
mod dialect;
mod gc;
mod identity;
mod images;
mod jobs;
mod lifecycle;
mod locks;
mod manifests;
mod migrate;
mod public;
mod pull_exclusions;
mod pull_through;
mod queue;
mod registry;
mod removal;
mod replication;
mod replication_backfill;
mod repo_settings;
mod repos;
mod scans;
mod signing;
mod stats;
pub mod testing;
mod uploads;
mod usage;
mod vulndb;
mod write_tx;

pub use audit::{AuditFilter, AuditRecord};
pub use blob_info::BlobReadInfo;
pub use copy::CopyReport;
pub use crypt::DataKeyRow;
pub use gc::GcBlob;
pub use identity::{AccessKeyRecord, UserRecord};
pub use images::ImageRecord;
pub use lifecycle::{LifecyclePolicyRecord, LifecycleRepository, PreviewRecord};
pub use manifests::{NewManifest, PutOutcome, Referrer, StoredManifest, TagPage};
pub use public::{CatalogData, PublicRegistry};
pub use pull_exclusions::PullExclusion;
pub use pull_through::{PullThroughRuleRecord, UpstreamSecretRecord};
pub use queue::{JobCount, JobFilter, JobRecord, JobState, NewJob, DEFAULT_MAX_ATTEMPTS};
pub use registry::TemplateRecord;
pub use removal::{RemoveMode, RemoveOutcome};
pub use replication::ReplicationStatusRecord;
pub use replication_backfill::{BackfillItem, BackfillRecord};
pub use repo_settings::{RepoSettings, RepositoryRecord};
pub use scans::{ScanRecord, ScanResult, ScannedImage};
pub use signing::{SigningProfileRecord, SigningStatusRecord};
pub use stats::PoolStats;
pub use uploads::Upload;
pub use usage::{AccountUsage, RepositoryUsage, ServerUsage, UsageFigures};
pub use vulndb::{AdvisoryHit, NewAdvisory, UpsertCounts, VulnDbCounts};
pub use write_tx::WriteTx;

pub use dialect::Dialect;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Any, AnyPool, ConnectOptions, Executor, Transaction};
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
    /// A master key version is recorded with another key's fingerprint.
    #[error(
        "master key version {version} is recorded with a different key (fingerprint mismatch)"
    )]
    MasterKeyMismatch { version: u32 },
    #[error("bad metadata url: {0}")]
    BadUrl(String),
    /// A copy's target already holds data (`copy_into`).
    /// A `WriteTx` was asked to write into a repository its scope does not lock.
    #[error("write transaction does not lock repository {0}")]
    OutsideWriteScope(String),
    #[error("the target metadata store is not empty ({rows} rows in table {table}); migrate into a freshly created database")]
    NotEmpty { table: String, rows: i64 },
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
    writer: AnyPool,
    reader: AnyPool,
    dialect: Dialect,
    default_account: String,
    /// Group commit of `record_blob`.
    blob_group: std::sync::Arc<blobs::BlobGroup>,
}

/// Read connections to an embedded database, each with its own thread and page cache. Four keep
/// a 2-core machine's reads flowing (tag PUTs, tag lists and small pushes measured the same as
/// with eight) at 8 MiB less peak RSS.
const SQLITE_READERS: u32 = 4;

impl MetaStore {
    /// Opens (creating if needed) the SQLite database at `path` and applies migrations.
    pub async fn open_sqlite(path: &Path) -> Result<MetaStore> {
        sqlx::any::install_default_drivers();
        let url = |read_only: bool| {
            let options = SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(!read_only)
                .read_only(read_only);
            AnyConnectOptions::from_url(&options.to_url_lossy())
        };
        let writer = AnyPoolOptions::new()
            .max_connections(1)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    // WAL lets readers run beside the writer; FULL: a commit that returned is on
                    // disk, so an acknowledged push survives power loss.
                    conn.execute(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
                         PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;",
                    )
                    .await?;
                    Ok(())
                })
            })
            .connect_with(url(false)?)
            .await?;
        migrate::apply(&writer, Dialect::Sqlite).await?;
        let default_account = accounts::bootstrap_default(&writer, Dialect::Sqlite).await?;
        let reader = AnyPoolOptions::new()
            .max_connections(SQLITE_READERS)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    // A small page cache each: the OS already caches the file, and eight readers
                    // with SQLite's default 2 MiB caches added 15 MiB of RSS in the bench.
                    conn.execute(
                        "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;
                         PRAGMA cache_size = -512;",
                    )
                    .await?;
                    Ok(())
                })
            })
            .connect_with(url(true)?)
            .await?;
        Ok(MetaStore {
            writer,
            reader,
            dialect: Dialect::Sqlite,
            default_account,
            blob_group: Default::default(),
        })
    }

    /// Connects to PostgreSQL and applies migrations (one node at a time: migrations run under
    /// a session advisory lock). Many nodes may share the database.
    pub async fn open_postgres(url: &str) -> Result<MetaStore> {
        sqlx::any::install_default_drivers();
        let options: AnyConnectOptions = url
            .parse()
            .map_err(|e: sqlx::Error| MetaError::BadUrl(e.to_string()))?;
        let pool = AnyPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        migrate::apply(&pool, Dialect::Postgres).await?;
        let default_account = accounts::bootstrap_default(&pool, Dialect::Postgres).await?;
        Ok(MetaStore {
            writer: pool.clone(),
            reader: pool,
            dialect: Dialect::Postgres,
            default_account,
            blob_group: Default::default(),
        })
    }

    /// The schema version the database is at, and the newest this build knows.
    pub async fn schema_version(&self) -> Result<(i64, i64)> {
        let at = migrate::version(&self.writer, self.dialect).await?;
        Ok((at, migrate::latest(self.dialect)))
    }

    /// Answers once the database does: one trivial query on each pool (readiness probes).
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        sqlx::query("SELECT 1").execute(&self.writer).await?;
        Ok(())
    }

    /// The shared cache epoch: a counter every committed change to cached data (tags,
    /// manifests, repositories, policies, users) moves, bumped by triggers as the changing
    /// transaction commits. It is the sum of the `cache_epoch` shards (migrations/postgres/0015:
    /// concurrent commits bump different rows), so it only grows, and it grows with every such
    /// commit. `None` on SQLite, where this process is the only writer and invalidates its
    /// caches itself.
    pub async fn cache_epoch(&self) -> Result<Option<i64>> {
        match self.dialect {
            Dialect::Sqlite => Ok(None),
            Dialect::Postgres => {
                let epoch: i64 =
                    sqlx::query_scalar("SELECT CAST(SUM(epoch) AS BIGINT) FROM cache_epoch")
                        .fetch_one(&self.reader)
                        .await?;
                Ok(Some(epoch))
            }
        }
    }

    /// Which backend this store runs on.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Begins a write transaction that writes into one repository (and blob rows, see
    /// `locks.rs`). On PostgreSQL it first takes the write lock shared and the repository's key
    /// exclusively (released at commit or rollback), so read-check-write sequences on that
    /// repository see every earlier write and no concurrent one, as on SQLite, while other
    /// repositories' writes proceed.
    pub(crate) async fn begin_write_repo(
        &self,
        repo: RepoKey<'_>,
    ) -> Result<Transaction<'static, Any>> {
        self.begin_write_scoped(&locks::WriteScope::repo(repo))
            .await
    }

    /// Begins a write transaction that excludes every other locked write: on PostgreSQL it
    /// first takes the write lock exclusively. For read-check-write sequences that cross
    /// repositories or touch state no repository owns.
    pub(crate) async fn begin_write_global(&self) -> Result<Transaction<'static, Any>> {
        self.begin_write_scoped(&locks::WriteScope::Global).await
    }

    /// Begins a write transaction under `scope` (`locks.rs`).
    pub(crate) async fn begin_write_scoped(
        &self,
        scope: &locks::WriteScope,
    ) -> Result<Transaction<'static, Any>> {
        let mut tx = self.begin_unlocked_write().await?;
        locks::take(&mut tx, self.dialect, scope).await?;
        Ok(tx)
    }

    /// Begins a write transaction without PostgreSQL's write locks (for writes that check
    /// nothing, like audit records). On SQLite it takes the database's write lock first
    /// (`BEGIN IMMEDIATE`): a writer in another process (`wharf admin`, `wharf vulndb import`
    /// beside a running server) then makes it wait `busy_timeout`, where a deferred
    /// transaction that had read first would fail at once with "database is locked".
    pub(crate) async fn begin_unlocked_write(&self) -> Result<Transaction<'static, Any>> {
        Ok(match self.dialect {
            Dialect::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await?,
            Dialect::Postgres => self.writer.begin().await?,
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

#[cfg(test)]
mod write_lock_tests {
    use super::*;

    /// Two stores on one SQLite file, as a server and a `wharf` command beside it: a write
    /// transaction that reads first must not fail because the other committed meanwhile.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_transaction_waits_for_another_process_writer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("meta.db");
        let a = MetaStore::open_sqlite(&path).await.unwrap();
        let b = MetaStore::open_sqlite(&path).await.unwrap();
        let mut tx = a.begin_write_global().await.unwrap();
        let _: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE name = 'x'")
            .fetch_optional(&mut *tx)
            .await
            .unwrap();
        let other = tokio::spawn(async move {
            let mut tx = b.begin_write_global().await?;
            sqlx::query("INSERT INTO settings (name, value) VALUES ('y', 'b')")
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok::<_, MetaError>(())
        });
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        sqlx::query("INSERT INTO settings (name, value) VALUES ('x', 'a')")
            .execute(&mut *tx)
            .await
            .expect("the first writer keeps its lock");
        tx.commit().await.unwrap();
        other
            .await
            .unwrap()
            .expect("the second writer waited, then wrote");
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM settings WHERE name IN ('x', 'y')")
            .fetch_one(&a.reader)
            .await
            .unwrap();
        assert_eq!(n, 2);
    }
}
