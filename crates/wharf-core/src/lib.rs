//! Registry use cases over the blob and metadata stores: uploads, blobs, manifests, tags and
//! referrers. This is the only crate that coordinates the two stores, and it keeps their order:
//! bytes are made durable in the blob store before the metadata store points at them.
//!
//! Errors are domain errors without HTTP status codes; each API surface maps them to its wire.

mod account_settings;
mod action;
pub use action::Action;
pub mod arn;
pub use account_settings::{AccountSetting, ACCOUNT_SETTINGS};
mod audit;
mod authz;
mod authz_cache;
mod blobs;
mod cache;
mod cache_gate;
pub mod crypt;
mod epoch;
mod error;
pub mod events;
mod gc;
mod identity;
mod identity_admin;
mod images;
mod job_kind;
mod jobs;
mod lifecycle;
pub use images::{ImageFailure, ImageId, ImageResult};
pub use lifecycle::{plan as lifecycle_plan, LifecycleOutcome, LifecyclePreview, PlannedAction};
pub use wharf_lifecycle::{Action as LifecycleAction, LifecyclePolicy, StorageClass};
mod manifests;
pub mod model;
pub mod mutability;
pub use identity::{
    Identity, LoginToken, NewAccessKey, Principal, TokenError, User, ADMINISTRATOR_POLICY,
    TOKEN_TTL_SECS,
};
pub mod migrate;
pub mod public;
mod public_aliases;
pub mod pull_through;
mod records;
mod removal;
pub mod replication;
mod repo;
mod repositories;
pub mod scan;
pub mod signing;
mod stats;
mod storage_class;
pub mod stores;
pub mod templates;
pub use manifests::PushedManifest;
pub use records::{Records, SchemaVersion};
pub use removal::{RemoveMode, RemoveOutcome};
pub use repo::{AccountId, AccountIdError, Repo};
pub use repositories::MAX_RESOURCE_TAGS;
mod uploads;
pub mod usage;

pub use authz::{Access, Client, Resource};
pub use cache::ServedManifest;
pub use error::CoreError;
pub use gc::{GcOptions, GcReport};
pub use job_kind::{JobDecodeError, JobKind};
pub use jobs::{Backoff, ClaimedJob};
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
    /// The shared cache epoch the caches were last synced to (PostgreSQL).
    epoch: Arc<epoch::SeenEpoch>,
    region: Arc<str>,
    authz_cache: Arc<authz_cache::AuthzCache>,
    /// When each image's pull time was last recorded by this process.
    pulls: Arc<images::PullTimes>,
    /// This process's name in job claims.
    node: Arc<str>,
    /// The host clients reach the registry at, for the package URLs of SBOMs.
    registry_host: Arc<str>,
    /// Days an image of a continuously scanned repository stays eligible for rescans after its
    /// last push, pull or requested scan; 0 is its lifetime (`scan/eligibility.rs`).
    scan_eligibility_days: u32,
    /// Data keys: the master keyring and KMS (`crypt/`).
    keys: crypt::Keys,
    /// Which blob each data key was found to belong to (a checked binding skips SQL).
    bindings: Arc<quick_cache::sync::Cache<wharf_blob::seal::DekId, wharf_oci::Digest>>,
    /// Where events are delivered (`events/`).
    webhooks: Arc<[events::Webhook]>,
    /// Pull-through caches: rules, upstream clients, fetches in flight (`pull_through/`).
    pull_through: Arc<pull_through::PullThrough>,
    /// Public-registry aliases, so most `/v2/` paths resolve without a query.
    public_aliases: Arc<public_aliases::PublicAliases>,
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
        // Over a shared database the caches follow the database's cache epoch (epoch.rs).
        Registry {
            blobs,
            meta,
            hashers: Arc::default(),
            cache: Arc::new(cache::ManifestCache::new(MANIFEST_CACHE_BYTES)),
            epoch: Arc::new(epoch::SeenEpoch::default()),
            region: Arc::from("us-east-1"),
            authz_cache: Arc::new(authz_cache::AuthzCache::new()),
            public_aliases: Arc::default(),
            pulls: Arc::new(quick_cache::sync::Cache::new(100_000)),
            node: Arc::from(jobs::node_name()),
            registry_host: Arc::from("localhost"),
            scan_eligibility_days: 0,
            keys: crypt::Keys::plaintext(),
            bindings: Arc::new(quick_cache::sync::Cache::new(100_000)),
            webhooks: Arc::from(Vec::new()),
            pull_through: Arc::default(),
        }
    }

    /// Sets the data-key service: blobs are sealed when it has a master keyring. Without one
    /// (`Registry::new`'s default) blobs are written in plaintext.
    pub fn with_keys(mut self, keys: crypt::Keys) -> Registry {
        self.keys = keys;
        self
    }

    /// The data-key service.
    pub fn keys(&self) -> &crypt::Keys {
        &self.keys
    }

    /// Sets the region ARNs name (default `us-east-1`).
    pub fn with_region(mut self, region: &str) -> Registry {
        self.region = Arc::from(region);
        self
    }

    /// Sets the host clients reach the registry at (`registry.example.com:5000`), which SBOMs
    /// name in their package URLs (default `localhost`).
    pub fn with_registry_host(mut self, host: &str) -> Registry {
        self.registry_host = Arc::from(host);
        self
    }

    /// The region ARNs name.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// Whether this node can serve: the metadata database answers a query and the blob store
    /// answers a read of its owner mark, each within `timeout`. On failure, each component that
    /// failed (`"metadata"`, `"blob_store"`) with what went wrong.
    pub async fn check_ready(
        &self,
        timeout: std::time::Duration,
    ) -> Result<(), Vec<(&'static str, String)>> {
        let meta = tokio::time::timeout(timeout, self.meta.ping());
        let blobs = tokio::time::timeout(timeout, self.blobs.owner());
        let (meta, blobs) = tokio::join!(meta, blobs);
        let late = || format!("no answer within {timeout:?}");
        let mut failed = Vec::new();
        match meta {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failed.push(("metadata", e.to_string())),
            Err(_) => failed.push(("metadata", late())),
        }
        match blobs {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => failed.push(("blob_store", e.to_string())),
            Err(_) => failed.push(("blob_store", late())),
        }
        if failed.is_empty() {
            Ok(())
        } else {
            Err(failed)
        }
    }

    /// Closes the metadata database's pools, waiting for connections to finish (at the end of
    /// a command or a server's shutdown; clones of this registry stop working).
    pub async fn close(&self) {
        self.meta.close().await;
    }

    /// The metadata store, for tests that arrange or inspect rows no use case exposes. Only
    /// with the `testing` feature: the product reaches storage through use cases alone.
    #[cfg(feature = "testing")]
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
