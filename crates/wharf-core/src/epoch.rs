//! Keeping this node's caches (manifests, authorization inputs, and through `sync_caches_with`
//! the access keys `Identity` caches) true to a database other nodes write. PostgreSQL keeps a cache epoch that triggers move in every transaction changing cached
//! data; every request fetches it once, first thing (`sync_caches`, called by both API surfaces
//! before authentication), and when it moved past the one the caches were filled at, both caches
//! are flushed. A flush bumps each cache's generation, so a
//! read that began before it cannot insert what it read: anything cached afterwards was read
//! after this node saw the change committed. On SQLite this process is the only writer, it
//! invalidates entries as it writes, and there is no epoch to fetch.

use std::sync::atomic::{AtomicI64, Ordering};

use crate::{CoreError, Registry};

/// The newest cache epoch this node has synced its caches to.
#[derive(Debug)]
pub(crate) struct SeenEpoch(AtomicI64);

impl Default for SeenEpoch {
    fn default() -> SeenEpoch {
        // Below any epoch the database holds: the first sync flushes (empty) caches and records.
        SeenEpoch(AtomicI64::new(i64::MIN))
    }
}

impl SeenEpoch {
    /// Whether `epoch` is newer than every epoch recorded so far.
    fn is_new(&self, epoch: i64) -> bool {
        self.0.load(Ordering::Acquire) < epoch
    }

    /// Records `epoch` (an older one changes nothing).
    fn record(&self, epoch: i64) {
        self.0.fetch_max(epoch, Ordering::AcqRel);
    }
}

impl Registry {
    /// Makes the caches safe to read: what any node committed before this call is what they
    /// answer. One small query on PostgreSQL; nothing on SQLite. Every request calls it once,
    /// before anything reads a cache (authorization included).
    pub async fn sync_caches(&self) -> Result<(), CoreError> {
        self.sync_caches_with(|| {}).await
    }

    /// `sync_caches`, also running `flush_also` (another cache that follows the same epoch, such
    /// as `Identity::flush_keys`) whenever the caches are flushed, before the epoch is recorded.
    pub async fn sync_caches_with(&self, flush_also: impl FnOnce()) -> Result<(), CoreError> {
        if self.meta.dialect() == wharf_meta::Dialect::Sqlite {
            return Ok(());
        }
        if let Some(epoch) = self.meta.cache_epoch().await? {
            // Flush, then record: a reader that finds this epoch already recorded knows the
            // flush for it is done; one that does not flushes again itself (harmless).
            if self.epoch.is_new(epoch) {
                self.cache.flush();
                self.authz_cache.flush();
                self.public_aliases.forget();
                flush_also();
                self.epoch.record(epoch);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_newer_epochs_are_new() {
        let seen = SeenEpoch::default();
        assert!(seen.is_new(0));
        seen.record(0);
        assert!(!seen.is_new(0));
        seen.record(3);
        seen.record(2);
        assert!(!seen.is_new(3));
        assert!(seen.is_new(4));
    }
}
