//! The set of public-registry aliases, cached so a `/v2/` path whose first segment is no alias
//! (nearly every request) resolves without a query.
//!
//! Only the absence of an alias is trusted from the cache: a path under a cached alias still asks
//! the database whether that repository exists and is public. So a stale set can only miss an
//! alias created on another node, for at most [`FRESH`] (its path then addresses a private
//! repository of the caller's account until the set is reloaded: it fails closed); an alias
//! created on this node drops the set at once.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// How long a loaded set is used before it is read again.
pub(crate) const FRESH: Duration = Duration::from_secs(5);

#[derive(Default)]
pub(crate) struct PublicAliases {
    loaded: RwLock<Option<(Instant, Arc<HashSet<String>>)>>,
    /// Bumped by every `forget`: a set read before it is not stored after it.
    generation: AtomicU64,
}

/// Taken before reading the aliases from the database; stores the result only if no alias
/// was created meanwhile.
pub(crate) struct LoadToken(u64);

impl PublicAliases {
    /// The cached set, if it is fresh.
    pub(crate) fn current(&self) -> Option<Arc<HashSet<String>>> {
        let loaded = self.loaded.read().unwrap_or_else(|e| e.into_inner());
        loaded
            .as_ref()
            .filter(|(at, _)| at.elapsed() < FRESH)
            .map(|(_, set)| set.clone())
    }

    pub(crate) fn begin_load(&self) -> LoadToken {
        LoadToken(self.generation.load(Ordering::Acquire))
    }

    /// Caches a set read from the database after `token` was taken.
    pub(crate) fn store(&self, token: LoadToken, set: Arc<HashSet<String>>) {
        let mut loaded = self.loaded.write().unwrap_or_else(|e| e.into_inner());
        if self.generation.load(Ordering::Acquire) == token.0 {
            *loaded = Some((Instant::now(), set));
        }
    }

    /// Drops the set: an alias was (or may have been) created.
    pub(crate) fn forget(&self) {
        let mut loaded = self.loaded.write().unwrap_or_else(|e| e.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        *loaded = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(names: &[&str]) -> Arc<HashSet<String>> {
        Arc::new(names.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn a_set_read_before_an_alias_was_created_is_not_kept() {
        let a = PublicAliases::default();
        assert!(a.current().is_none());
        let token = a.begin_load();
        a.forget(); // an alias is created while the set is being read
        a.store(token, set(&["old"]));
        assert!(a.current().is_none());
        a.store(a.begin_load(), set(&["old", "new"]));
        assert!(a.current().unwrap().contains("new"));
        a.forget();
        assert!(a.current().is_none());
    }
}
