//! A write transaction that spans several calls: `MetaStore::write_repo` or `write_global` opens
//! it (on PostgreSQL under that scope's write locks, `locks.rs`), its methods act inside it, and
//! `commit` makes all of it visible at once. Dropping it uncommitted rolls everything back.
//!
//! The caller chooses the scope when it opens the transaction, and every method checks that the
//! repository it writes into is covered (`OutsideWriteScope` otherwise): a transaction cannot
//! write where it holds no lock.
//!
//! While a `WriteTx` is open its task holds SQLite's single writer connection (or PostgreSQL's
//! locks): it must make no other write through any `MetaStore` before it commits or drops, or
//! that write may wait for this transaction and fail at the pool's acquire timeout.

use crate::locks::WriteScope;
use crate::{Dialect, MetaError, MetaStore, RepoKey, Result};
use sqlx::{Any, Transaction};

/// An open write transaction; see the module documentation.
pub struct WriteTx {
    pub(crate) tx: Transaction<'static, Any>,
    pub(crate) dialect: Dialect,
    scope: WriteScope,
}

impl std::fmt::Debug for WriteTx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WriteTx({:?})", self.scope)
    }
}

impl MetaStore {
    /// Opens a write transaction that later calls act in (`WriteTx::remove_image`), locking
    /// one repository: on PostgreSQL it waits for that repository's other writers and for
    /// global writers only.
    pub async fn write_repo(&self, repo: RepoKey<'_>) -> Result<WriteTx> {
        self.write_scoped(WriteScope::repo(repo)).await
    }

    /// Opens a write transaction that excludes every other locked write transaction, whatever
    /// repositories it touches.
    pub async fn write_global(&self) -> Result<WriteTx> {
        self.write_scoped(WriteScope::Global).await
    }

    async fn write_scoped(&self, scope: WriteScope) -> Result<WriteTx> {
        Ok(WriteTx {
            tx: self.begin_write_scoped(&scope).await?,
            dialect: self.dialect,
            scope,
        })
    }
}

impl WriteTx {
    /// `OutsideWriteScope` unless this transaction locks `repo`.
    pub(crate) fn check_covers(&self, repo: RepoKey<'_>) -> Result<()> {
        if self.scope.covers(repo) {
            Ok(())
        } else {
            Err(MetaError::OutsideWriteScope(format!(
                "{}/{}",
                repo.account, repo.name
            )))
        }
    }

    /// Commits everything done through this transaction.
    pub async fn commit(self) -> Result<()> {
        Ok(self.tx.commit().await?)
    }

    /// Rolls everything back (what dropping it does, but waiting for the database).
    pub async fn rollback(self) -> Result<()> {
        Ok(self.tx.rollback().await?)
    }
}
