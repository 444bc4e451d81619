//! Registry use cases over the blob and metadata stores: uploads, blobs, manifests, tags and
//! referrers. This is the only crate that coordinates the two stores, and it keeps their order:
//! bytes are made durable in the blob store before the metadata store points at them.
//!
//! Errors are domain errors without HTTP status codes; each API surface maps them to its wire.

mod authz;
mod authz_cache;
mod blobs;
mod cache;
mod error;
mod gc;
mod identity;
mod images;
mod jobs;
mod lifecycle;
pub use images::{ImageFailure, ImageId, ImageResult};
pub use lifecycle::{plan as lifecycle_plan, LifecycleOutcome, LifecyclePreview, PlannedAction};
pub use wharf_lifecycle::{Action as LifecycleAction, LifecyclePolicy, StorageClass};
mod manifests;
pub mod mutability;
pub use identity::{
    Identity, LoginToken, NewAccessKey, Principal, TokenError, User, ADMINISTRATOR_POLICY,
    TOKEN_TTL_SECS,
};
mod repo;
mod repositories;
mod storage_class;
pub mod templates;
pub use manifests::PushedManifest;
pub use repo::{AccountId, AccountIdError, Repo};
pub use repositories::MAX_RESOURCE_TAGS;
mod uploads;
pub mod usage;

pub use authz::{Access, Resource};
pub use cache::ServedManifest;
pub use error::CoreError;
pub use gc::{GcOptions, GcReport};
pub use uploads::UploadState;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use wharf_blob::BlobStore;
use wharf_meta::MetaStore;

/// The registry service. Cheap to clone; clones share state.
#[derive(Clone)]
pub struct Registry {
    blobs: Arc<dyn BlobStore>,
    meta: MetaStore,
    /// Hash state of uploads in progress on this node, so chunked uploads hash each byte once.
    /// Lost on restart; rebuilt from the scratch bytes when needed.
    hashers: Arc<Mutex<HashMap<String, uploads::Slot>>>,
    cache: Arc<cache::ManifestCache>,
    region: Arc<str>,
    authz_cache: Arc<authz_cache::AuthzCache>,
    /// When each image's pull time was last recorded by this process.
    pulls: Arc<quick_cache::sync::Cache<(String, wharf_oci::Digest), std::time::Instant>>,
    /// This process's name in job claims.
    node: Arc<str>,
}

/// Bytes of manifests kept in memory.
const MANIFEST_CACHE_BYTES: u64 = 64 << 20;

/// The current time in Unix seconds (0 if the clock is before 1970).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl Registry {
    pub fn new(blobs: Arc<dyn BlobStore>, meta: MetaStore) -> Registry {
        // Other nodes write a shared database: per-process caches of what they change would go
        // stale, so they are off there.
        let single_writer = meta.dialect() == wharf_meta::Dialect::Sqlite;
        let cache = if single_writer {
            cache::ManifestCache::new(MANIFEST_CACHE_BYTES)
        } else {
            cache::ManifestCache::disabled()
        };
        Registry {
            blobs,
            meta,
            hashers: Arc::default(),
            cache: Arc::new(cache),
            region: Arc::from("us-east-1"),
            authz_cache: Arc::new(authz_cache::AuthzCache::new(single_writer)),
            pulls: Arc::new(quick_cache::sync::Cache::new(100_000)),
            node: Arc::from(jobs::node_name()),
        }
    }

    /// Sets the region ARNs name (default `us-east-1`).
    pub fn with_region(mut self, region: &str) -> Registry {
        self.region = Arc::from(region);
        self
    }

    /// The region ARNs name.
    pub fn region(&self) -> &str {
        &self.region
    }

    pub fn meta(&self) -> &MetaStore {
        &self.meta
    }

    /// The account `/v2/` serves when the request does not name one.
    pub fn default_account(&self) -> AccountId {
        self.meta
            .default_account()
            .parse()
            .expect("the stored default account id is valid")
    }
}
