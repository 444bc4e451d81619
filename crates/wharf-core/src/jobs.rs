//! The server's interval jobs across nodes: each node asks the metadata store to claim a job
//! before running it, so garbage collection, lifecycle and upload purges run once per interval
//! across the cluster however many nodes share the database.

use crate::{CoreError, Registry};

impl Registry {
    /// Whether this node should run the interval job `name` now (see `MetaStore::claim_job`).
    pub async fn claim_job(&self, name: &str, interval_secs: u64) -> Result<bool, CoreError> {
        let interval = i64::try_from(interval_secs).unwrap_or(i64::MAX);
        Ok(self.meta.claim_job(name, &self.node, interval).await?)
    }
}

/// A name for this process that differs between nodes and between restarts of one node.
pub(crate) fn node_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".into());
    let mut bytes = [0u8; 4];
    let _ = getrandom::fill(&mut bytes);
    format!(
        "{host}/{}/{:08x}",
        std::process::id(),
        u32::from_le_bytes(bytes)
    )
}
