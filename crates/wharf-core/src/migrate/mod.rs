//! Migrating an installation from one pair of stores (blob store, metadata store) to another —
//! typically an embedded one (filesystem + SQLite) to S3 + PostgreSQL. The binary's
//! `wharf migrate-storage` parses the two configurations, plans the master keyring, and prints
//! what this module reports.
//!
//! The order keeps Wharf's invariant that no metadata row points at bytes that are not durable:
//! 1. check the target metadata store is empty (before any byte moves), then run the caller's
//!    step that must precede any data (the binary writes the target's master keyring there);
//! 2. copy every recorded blob's bytes into the target blob store (`blobs.rs`); blobs the
//!    target already has are skipped;
//! 3. copy the metadata in one target transaction (`MetaStore::copy_into`): all or nothing;
//! 4. copy the bytes of any blob row the copy brought that step 2 did not see (the source was
//!    written to meanwhile), then verify: every migrated table has as many rows in the target as
//!    in the source, and the target's default account is the source's.
//!
//! Uploads in progress are not migrated; clients restart them against the new installation.
//! A plan (`--dry-run`) reports what would be copied and writes nothing (the target is not
//! opened, except to look at which blobs its store already holds).

mod blobs;
mod error;
#[cfg(test)]
mod tests;

pub use blobs::BlobStats;
pub use error::{CallerError, Cause, MigrateError};

use crate::stores::{self, StoreSettings};
use blobs::{BlobMode, Pass};
use error::Context;
use std::sync::Arc;
use wharf_blob::BlobStore;
use wharf_meta::MetaStore;

/// What a migration tells its caller as it goes.
#[derive(Debug)]
pub enum Progress<'a> {
    /// The blob pass so far (every 100 blobs, and at its end); `total` is the number of blob
    /// rows; `planning` when nothing is copied.
    Blobs {
        stats: &'a BlobStats,
        total: i64,
        planning: bool,
    },
    /// The metadata copy begins.
    CopyingMetadata,
    /// Blobs recorded in the source after the blob pass: their bytes are copied now.
    LateBlobs(u64),
}

/// What a plan found.
#[derive(Debug)]
pub struct Plan {
    pub blobs: BlobStats,
    /// `(table, rows)` the metadata copy would bring, in foreign-key order.
    pub tables: Vec<(String, i64)>,
}

/// What a migration did.
#[derive(Debug)]
pub struct Migrated {
    pub blobs: BlobStats,
    /// `(table, rows copied)`, in foreign-key order.
    pub tables: Vec<(String, i64)>,
    /// The target's default account once its row counts matched the source's, or why the
    /// verification failed (the copy itself committed).
    pub verified: Result<String, MigrateError>,
}

impl Migrated {
    /// Rows copied in all.
    pub fn total_rows(&self) -> i64 {
        self.tables.iter().map(|(_, n)| n).sum()
    }
}

/// The installation being migrated: its blob store and metadata database, open.
pub struct Source {
    blobs: Arc<dyn BlobStore>,
    meta: MetaStore,
}

impl Source {
    /// Opens the source's stores. The blob store is not probed and its owner mark not checked:
    /// a migration only reads them.
    pub async fn open(settings: &StoreSettings) -> Result<Source, MigrateError> {
        let blobs = stores::open_blobs(&settings.blob_store, &settings.data_dir)?;
        let meta = stores::open_metadata(&settings.metadata, &settings.data_dir).await?;
        Ok(Source { blobs, meta })
    }

    /// The master key versions the source's data is wrapped under, with fingerprints.
    pub async fn recorded_master_keys(&self) -> Result<Vec<(u32, String)>, MigrateError> {
        Ok(self.meta.master_keys().await?)
    }

    /// Closes the source's metadata database.
    pub async fn close(&self) {
        self.meta.close().await;
    }

    /// What a migration to `target` would copy. Opens nothing of the target but its blob store
    /// (and a filesystem one only if its directory exists), to tell which blobs it already holds.
    pub async fn plan(
        &self,
        target: &StoreSettings,
        concurrency: usize,
        progress: &(dyn Fn(Progress<'_>) + Sync),
    ) -> Result<Plan, MigrateError> {
        let to = match target.blob_dir() {
            Some(dir) if !dir.is_dir() => None,
            _ => Some(stores::open_blobs(&target.blob_store, &target.data_dir)?),
        };
        let tables = self.meta.table_counts().await?;
        let pass = Pass {
            from: self.blobs.clone(),
            to,
            concurrency,
            mode: BlobMode::Plan,
            progress,
        };
        let blobs = pass.run(&self.meta, None, blob_rows(&tables)).await?;
        Ok(Plan { blobs, tables })
    }

    /// Migrates into `target`, whose metadata store must be empty. `before_data` runs once the
    /// target is known to be empty and before any byte or row lands there. An error before
    /// the metadata copy committed leaves the target's metadata untouched.
    pub async fn migrate(
        &self,
        target: &StoreSettings,
        concurrency: usize,
        before_data: impl FnOnce() -> Result<(), Cause>,
        progress: &(dyn Fn(Progress<'_>) + Sync),
    ) -> Result<Migrated, MigrateError> {
        if target.is_local() {
            std::fs::create_dir_all(&target.data_dir).with_context(|| {
                format!(
                    "creating target data directory {}",
                    target.data_dir.display()
                )
            })?;
        }
        let to_blobs = stores::open_blobs(&target.blob_store, &target.data_dir)?;
        stores::reach_blobs(to_blobs.as_ref(), "the target blob store").await?;
        let to_meta = stores::open_metadata(&target.metadata, &target.data_dir).await?;
        let pass = Pass {
            from: self.blobs.clone(),
            to: Some(to_blobs),
            concurrency,
            mode: BlobMode::Copy,
            progress,
        };
        let copied = self.copy(&to_meta, target, &pass, before_data).await;
        to_meta.close().await;
        let (blobs, tables) = copied?;
        // Verify through a fresh handle: the copy replaced the default account the old one holds.
        let to_meta = stores::open_metadata(&target.metadata, &target.data_dir).await?;
        let verified = verify(&self.meta, &to_meta).await;
        to_meta.close().await;
        Ok(Migrated {
            blobs,
            tables,
            verified,
        })
    }

    /// Steps 1 to 4 but the verification.
    async fn copy(
        &self,
        to_meta: &MetaStore,
        target: &StoreSettings,
        pass: &Pass<'_>,
        before_data: impl FnOnce() -> Result<(), Cause>,
    ) -> Result<(BlobStats, Vec<(String, i64)>), MigrateError> {
        // Refuse before moving any byte; copy_into checks again inside its transaction.
        to_meta
            .ensure_empty()
            .await
            .with_context(|| format!("target {}", target.describe_metadata()))?;
        before_data().map_err(|e| MigrateError::Prepare(error::CallerError(e)))?;
        let total = blob_rows(&self.meta.table_counts().await?);
        let mut stats = pass.run(&self.meta, None, total).await?;
        stats.fail_on_missing("nothing of the metadata was copied")?;
        (pass.progress)(Progress::CopyingMetadata);
        let report = self
            .meta
            .copy_into(to_meta)
            .await
            .context("copying metadata")?;
        // Rows the snapshot holds that the blob pass did not see: the source changed between the
        // two. Their bytes are copied now; the verification then reports the change.
        let late = pass.run(to_meta, Some(&stats.handled), 0).await?;
        if late.seen > 0 {
            (pass.progress)(Progress::LateBlobs(late.seen));
            stats.add(&late);
            stats.fail_on_missing(
                "but the target's metadata, already committed, records them: drop the target and migrate again with the server stopped",
            )?;
        }
        Ok((stats, report.tables))
    }
}

/// Row counts and the default account of the target against the source's.
async fn verify(from: &MetaStore, to: &MetaStore) -> Result<String, MigrateError> {
    let (ours, theirs) = (from.table_counts().await?, to.table_counts().await?);
    if ours != theirs {
        return Err(MigrateError::CountsDiffer { ours, theirs });
    }
    if from.default_account() != to.default_account() {
        return Err(MigrateError::Refused(format!(
            "the target's default account is {}, the source's {}",
            to.default_account(),
            from.default_account()
        )));
    }
    Ok(to.default_account().to_string())
}

/// The `blobs` row count among `table_counts`: the total progress reports count against.
fn blob_rows(counts: &[(String, i64)]) -> i64 {
    counts
        .iter()
        .find(|(t, _)| t == "blobs")
        .map_or(0, |(_, n)| *n)
}
