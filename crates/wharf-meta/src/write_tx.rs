//! A write transaction that spans several calls: `MetaStore::write` opens it (on PostgreSQL under
//! the cluster-wide write lock, like every checked write), its methods act inside it, and `commit`
//! makes all of it visible at once. Dropping it uncommitted rolls everything back.
//!
//! While a `WriteTx` is open its task holds SQLite's single writer connection (or PostgreSQL's
//! write lock): it must make no other write through any `MetaStore` before it commits or drops,
//! or that write waits for this transaction and fails at the pool's acquire timeout.

use crate::{MetaStore, Result};
use sqlx::{Any, Transaction};

/// An open write transaction; see the module documentation.
pub struct WriteTx {
    pub(crate) tx: Transaction<'static, Any>,
}

impl std::fmt::Debug for WriteTx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WriteTx")
    }
}

impl MetaStore {
    /// Opens a write transaction that later calls act in (`WriteTx::remove_image`), taking
    /// PostgreSQL's write lock first as `begin_write` does.
    pub async fn write(&self) -> Result<WriteTx> {
        Ok(WriteTx {
            tx: self.begin_write().await?,
        })
    }
}

impl WriteTx {
    /// Commits everything done through this transaction.
    pub async fn commit(self) -> Result<()> {
        Ok(self.tx.commit().await?)
    }

    /// Rolls everything back (what dropping it does, but waiting for the database).
    pub async fn rollback(self) -> Result<()> {
        Ok(self.tx.rollback().await?)
    }
}
