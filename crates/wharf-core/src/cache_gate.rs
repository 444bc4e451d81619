//! The gate between a cache's readers and its invalidations: a reader that fetched a row before an
//! invalidation must not insert it afterwards. Readers take a token (the generation) before
//! reading the database; an insert happens only if no invalidation came since, and inserts and
//! invalidations exclude each other, so an entry is either in before an invalidation (which then
//! removes it) or refused. Lookups never wait.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;

/// A cache's generation when a read began.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReadToken(u64);

#[derive(Debug, Default)]
pub(crate) struct Gate {
    generation: AtomicU64,
    /// Shared by inserts, exclusive for invalidations. Guards no data: the caches are concurrent
    /// maps; it only orders inserts against invalidations.
    lock: RwLock<()>,
}

impl Gate {
    pub(crate) fn begin_read(&self) -> ReadToken {
        ReadToken(self.generation.load(Ordering::Acquire))
    }

    /// Runs `insert` unless an invalidation happened since `token` was taken.
    pub(crate) fn insert(&self, token: ReadToken, insert: impl FnOnce()) {
        let _shared = self.lock.read().unwrap_or_else(|e| e.into_inner());
        if self.generation.load(Ordering::Acquire) == token.0 {
            insert();
        }
    }

    /// Runs `remove` (taking entries out) once no insert is in progress; reads that began before
    /// can no longer insert.
    pub(crate) fn invalidate(&self, remove: impl FnOnce()) {
        let _exclusive = self.lock.write().unwrap_or_else(|e| e.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        remove();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    #[test]
    fn inserts_after_an_invalidation_are_refused() {
        let gate = Gate::default();
        let token = gate.begin_read();
        let inserted = AtomicBool::new(false);
        gate.invalidate(|| {});
        gate.insert(token, || inserted.store(true, Ordering::SeqCst));
        assert!(!inserted.load(Ordering::SeqCst));
        gate.insert(gate.begin_read(), || inserted.store(true, Ordering::SeqCst));
        assert!(inserted.load(Ordering::SeqCst));
    }
}
