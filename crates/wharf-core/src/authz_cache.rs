//! A short-lived cache of what authorization reads: identity policies per user, the policy and
//! resource tags per repository, the registry policy per account. A repository's entry also
//! holds the key its blobs are sealed under (fixed for the repository's life), which pushes
//! read right after authorizing.
//!
//! Writes made through this process invalidate their entries at once; entries also expire after
//! `TTL`, which bounds how long a change made elsewhere on SQLite (`wharf admin`) takes to apply.
//! Over a shared PostgreSQL database the cache is flushed whenever the database's cache epoch
//! moves (`epoch.rs`): a policy another node changes applies at once. A gate (`cache_gate.rs`), as in
//! the manifest cache, keeps a read that began before a flush from inserting what it read.

use quick_cache::sync::Cache;
use std::sync::Arc;

use crate::cache_gate::{Gate, ReadToken};
use crate::crypt::Target;
use std::time::{Duration, Instant};
use wharf_policy::PolicyDocument;

/// How long a cached authorization input may be used.
pub const TTL: Duration = Duration::from_secs(5);

/// A repository's authorization inputs; `None` when the repository does not exist.
pub type RepoInputs = Option<RepoEntry>;

/// What the cache holds of an existing repository.
pub struct RepoEntry {
    pub policy: Option<Arc<PolicyDocument>>,
    pub tags: Vec<(String, String)>,
    /// Its encryption settings as a key target: they cannot change while it exists (a
    /// repository deleted and created again is forgotten by both writes).
    pub target: Target,
}

#[derive(Clone)]
struct Entry<T> {
    at: Instant,
    value: T,
}

pub(crate) struct AuthzCache {
    gate: Gate,
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
            gate: Gate::default(),
            users: Cache::new(10_000),
            repos: Cache::new(100_000),
            registries: Cache::new(10_000),
        }
    }

    /// A token taken before reading the database; a put with a stale token stores nothing.
    pub(crate) fn begin_read(&self) -> ReadToken {
        self.gate.begin_read()
    }

    /// Stores the entry unless a flush or forget happened since `token`.
    fn put<K, V>(&self, token: ReadToken, map: &Cache<K, Entry<V>>, key: K, value: V)
    where
        K: Eq + std::hash::Hash + Clone,
        V: Clone,
    {
        self.gate.insert(token, || {
            map.insert(
                key,
                Entry {
                    at: Instant::now(),
                    value,
                },
            );
        });
    }

    /// Drops everything; reads begun before cannot store what they read.
    pub(crate) fn flush(&self) {
        self.gate.invalidate(|| {
            self.users.clear();
            self.repos.clear();
            self.registries.clear();
        });
    }

    pub(crate) fn user(&self, id: i64) -> Option<Arc<Vec<PolicyDocument>>> {
        fresh(self.users.get(&id))
    }

    pub(crate) fn put_user(&self, token: ReadToken, id: i64, v: Arc<Vec<PolicyDocument>>) {
        self.put(token, &self.users, id, v);
    }

    pub(crate) fn repo(&self, key: &str) -> Option<Arc<RepoInputs>> {
        fresh(self.repos.get(key))
    }

    pub(crate) fn put_repo(&self, token: ReadToken, key: String, v: Arc<RepoInputs>) {
        self.put(token, &self.repos, key, v);
    }

    pub(crate) fn registry(&self, account: &str) -> Option<Option<Arc<PolicyDocument>>> {
        fresh(self.registries.get(account))
    }

    pub(crate) fn put_registry(
        &self,
        token: ReadToken,
        account: String,
        v: Option<Arc<PolicyDocument>>,
    ) {
        self.put(token, &self.registries, account, v);
    }

    pub(crate) fn forget_repo(&self, key: &str) {
        self.gate.invalidate(|| {
            self.repos.remove(key);
        });
    }

    pub(crate) fn forget_registry(&self, account: &str) {
        self.gate.invalidate(|| {
            self.registries.remove(account);
        });
    }
}
