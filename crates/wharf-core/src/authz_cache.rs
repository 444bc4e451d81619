//! A short-lived cache of what authorization reads: identity policies per user, the policy and
//! resource tags per repository, the registry policy per account.
//!
//! Writes made through this process invalidate their entries at once; entries also expire after
//! `TTL`, which bounds how long a change made elsewhere (another node, `wharf admin`) takes to apply.

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
    users: Cache<i64, Entry<Arc<Vec<PolicyDocument>>>>,
    repos: Cache<String, Entry<Arc<RepoInputs>>>,
    registries: Cache<String, Entry<Option<Arc<PolicyDocument>>>>,
}

fn fresh<T: Clone>(e: Option<Entry<T>>) -> Option<T> {
    e.filter(|e| e.at.elapsed() < TTL).map(|e| e.value)
}

impl AuthzCache {
    pub(crate) fn new() -> AuthzCache {
        AuthzCache {
            users: Cache::new(10_000),
            repos: Cache::new(100_000),
            registries: Cache::new(10_000),
        }
    }

    pub(crate) fn user(&self, id: i64) -> Option<Arc<Vec<PolicyDocument>>> {
        fresh(self.users.get(&id))
    }

    pub(crate) fn put_user(&self, id: i64, v: Arc<Vec<PolicyDocument>>) {
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
