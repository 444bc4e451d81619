//! A short-lived cache of what authorization reads: identity policies per user, the policy and
//! resource tags per repository, the registry policy per account.
//!
//! Writes made through this process invalidate their entries at once; entries also expire after
//! `TTL`, which bounds how long a change made elsewhere (`wharf admin`) takes to apply. Over a
//! shared PostgreSQL database the cache is off: a policy another node changes applies at once.

use quick_cache::sync::Cache;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wharf_policy::PolicyDocument;

/// How long a cached authorization input may be used.
pub const TTL: Duration = Duration::from_secs(5);

/// A repository's authorization inputs; `None` when the repository does not exist.
pub type RepoInputs = Option<(Option<Arc<PolicyDocument>>, Vec<(String, String)>)>;

#[derive(Clone)]
struct Entry<T> {
    at: Instant,
    value: T,
}

pub(crate) struct AuthzCache {
    enabled: bool,
    users: Cache<i64, Entry<Arc<Vec<PolicyDocument>>>>,
    repos: Cache<String, Entry<Arc<RepoInputs>>>,
    registries: Cache<String, Entry<Option<Arc<PolicyDocument>>>>,
}

fn fresh<T: Clone>(e: Option<Entry<T>>) -> Option<T> {
    e.filter(|e| e.at.elapsed() < TTL).map(|e| e.value)
}

impl AuthzCache {
    /// A cache, or (`enabled = false`) one that never answers.
    pub(crate) fn new(enabled: bool) -> AuthzCache {
        // Disabled, nothing is stored: the maps stay minimal.
        let size = |n: usize| if enabled { n } else { 1 };
        AuthzCache {
            enabled,
            users: Cache::new(size(10_000)),
            repos: Cache::new(size(100_000)),
            registries: Cache::new(size(10_000)),
        }
    }

    pub(crate) fn user(&self, id: i64) -> Option<Arc<Vec<PolicyDocument>>> {
        fresh(self.users.get(&id))
    }

    pub(crate) fn put_user(&self, id: i64, v: Arc<Vec<PolicyDocument>>) {
        if !self.enabled {
            return;
        }
        self.users.insert(
            id,
            Entry {
                at: Instant::now(),
                value: v,
            },
        );
    }

    pub(crate) fn repo(&self, key: &str) -> Option<Arc<RepoInputs>> {
        fresh(self.repos.get(key))
    }

    pub(crate) fn put_repo(&self, key: String, v: Arc<RepoInputs>) {
        if !self.enabled {
            return;
        }
        self.repos.insert(
            key,
            Entry {
                at: Instant::now(),
                value: v,
            },
        );
    }

    pub(crate) fn registry(&self, account: &str) -> Option<Option<Arc<PolicyDocument>>> {
        fresh(self.registries.get(account))
    }

    pub(crate) fn put_registry(&self, account: String, v: Option<Arc<PolicyDocument>>) {
        if !self.enabled {
            return;
        }
        self.registries.insert(
            account,
            Entry {
                at: Instant::now(),
                value: v,
            },
        );
    }

    pub(crate) fn forget_repo(&self, key: &str) {
        self.repos.remove(key);
    }

    pub(crate) fn forget_registry(&self, account: &str) {
        self.registries.remove(account);
    }
}
