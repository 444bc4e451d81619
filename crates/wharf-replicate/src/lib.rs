//! The OCI client side of replication: copying an image (a `wharf_core` replication plan) to
//! another region's Wharf. One `RemoteRegistry` per configured region (`[regions.<name>]`:
//! endpoint, access key); it signs ECR calls with SigV4 (`wharf-sigv4`), logs in to `/v2/`
//! with the Basic credentials `GetAuthorizationToken` gives (refreshed before they expire), and
//! pushes: blobs the destination lacks (HEAD first; one PUT for small ones, PATCH chunks for
//! large ones), manifests children first, referrers, then tags. A destination repository that
//! does not exist is created through the ECR API with the destination's `REPLICATION` creation
//! template applied.
//!
//! Errors say whether retrying can help (`ReplicateError::Transient` for unreachable or failing
//! destinations, which the job queue retries with backoff).

mod client;
mod ecr;
mod push;

pub use client::RemoteRegistry;
pub use push::replicate_remote;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// One other region's Wharf, as configured.
#[derive(Clone)]
pub struct RegionEndpoint {
    /// The region's name (`eu-west-1`): destinations name it, and SigV4 signs with it.
    pub name: String,
    /// Base URL of that Wharf (`https://wharf.eu.example.com`).
    pub endpoint: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// That Wharf's `registry_domain`, if it serves accounts by host name: `/v2/` requests
    /// then carry `Host: <registryId>.dkr.ecr.<region>.<domain>`; without it they go to the
    /// endpoint's default account.
    pub registry_domain: Option<String>,
}

impl fmt::Debug for RegionEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegionEndpoint")
            .field("name", &self.name)
            .field("endpoint", &self.endpoint)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("registry_domain", &self.registry_domain)
            .finish()
    }
}

/// The configured regions' clients, by name. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct Regions {
    clients: Arc<BTreeMap<String, RemoteRegistry>>,
}

impl Regions {
    /// Clients for the given regions; fails on an endpoint that is not an http(s) URL.
    pub fn new(regions: Vec<RegionEndpoint>) -> Result<Regions, String> {
        let mut clients = BTreeMap::new();
        for r in regions {
            clients.insert(r.name.clone(), RemoteRegistry::new(r)?);
        }
        Ok(Regions {
            clients: Arc::new(clients),
        })
    }

    pub fn get(&self, region: &str) -> Option<&RemoteRegistry> {
        self.clients.get(region)
    }

    /// The configured regions' names.
    pub fn names(&self) -> Vec<String> {
        self.clients.keys().cloned().collect()
    }
}
