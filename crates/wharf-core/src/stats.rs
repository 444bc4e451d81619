//! Figures for the node's metrics: job queue counts, open uploads and connection pools.

use crate::model::{JobCount, PoolStats};
use crate::{CoreError, Records, Registry};

impl Registry {
    /// Jobs in the queue by kind and state.
    pub async fn job_counts(&self) -> Result<Vec<JobCount>, CoreError> {
        Ok(self.meta.job_counts().await?)
    }

    /// Upload sessions open on every node.
    pub async fn upload_count(&self) -> Result<i64, CoreError> {
        Ok(self.meta.upload_count().await?)
    }

    /// The metadata reader and writer pools' connections (one pool on PostgreSQL).
    pub fn pool_stats(&self) -> (PoolStats, PoolStats) {
        self.meta.pool_stats()
    }
}

impl Records {
    /// Jobs in the queue by kind and state.
    pub async fn job_counts(&self) -> Result<Vec<JobCount>, CoreError> {
        Ok(self.meta.job_counts().await?)
    }
}
