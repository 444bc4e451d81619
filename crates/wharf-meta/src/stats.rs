//! Cheap figures for the node's metrics: open upload sessions and the connection pools' sizes.

use crate::{MetaStore, Result};

/// Connections of one pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
}

impl MetaStore {
    /// Upload sessions open in the database (every node's).
    pub async fn upload_count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM uploads")
            .fetch_one(&self.reader)
            .await?)
    }

    /// The reader and writer pools' connections (on PostgreSQL both are one pool).
    pub fn pool_stats(&self) -> (PoolStats, PoolStats) {
        let stats = |p: &sqlx::AnyPool| PoolStats {
            size: p.size(),
            idle: u32::try_from(p.num_idle()).unwrap_or(u32::MAX),
        };
        (stats(&self.reader), stats(&self.writer))
    }
}
