//! The in-memory manifest cache that keeps manifest GETs off the database.
//!
//! Two maps: `(repository, tag) → digest` and `(repository, digest) → manifest bytes`. A digest's
//! bytes never change, so the second map only needs invalidating when a manifest is deleted; tags move,
//! so every tag write invalidates its entry. A gate (`cache_gate.rs`) closes the race where a reader
//! fetched a row just before a writer changed it and would otherwise cache the stale row after the
//! writer's invalidation: readers only insert when no write happened since they started reading.
//!
//! The cache is per process. Over a shared PostgreSQL database another node may move a tag, delete
//! or archive a manifest at any moment: there every read first compares the database's cache
//! epoch with the one the cache was filled at and flushes it when they differ (`epoch.rs`), so
//! what one node commits, every node serves at once.

use bytes::Bytes;
use quick_cache::sync::Cache;
use quick_cache::Weighter;
use std::sync::Arc;
use wharf_oci::Digest;

use crate::cache_gate::{Gate, ReadToken};

/// A manifest as served: exact bytes, media type and digest.
#[derive(Debug, Clone)]
pub struct ServedManifest {
    pub digest: Digest,
    pub media_type: String,
    pub body: Bytes,
    /// The KMS key of the repository it was read from: served only while that key is usable.
    pub kms_key: Option<String>,
}

#[derive(Clone)]
struct ByteWeight;

impl Weighter<(String, Digest), Arc<ServedManifest>> for ByteWeight {
    fn weight(&self, key: &(String, Digest), val: &Arc<ServedManifest>) -> u64 {
        (key.0.len() + val.body.len() + val.media_type.len() + 128) as u64
    }
}

pub(crate) struct ManifestCache {
    gate: Gate,
    tags: Cache<(String, String), Digest>,
    manifests: Cache<(String, Digest), Arc<ServedManifest>, ByteWeight>,
}

impl ManifestCache {
    /// A cache holding up to `bytes` of manifests.
    pub(crate) fn new(bytes: u64) -> ManifestCache {
        ManifestCache {
            gate: Gate::default(),
            tags: Cache::new(100_000),
            manifests: Cache::with_weighter(10_000, bytes, ByteWeight),
        }
    }

    pub(crate) fn begin_read(&self) -> ReadToken {
        self.gate.begin_read()
    }

    pub(crate) fn tag(&self, repo: &str, tag: &str) -> Option<Digest> {
        self.tags.get(&(repo.to_string(), tag.to_string()))
    }

    pub(crate) fn manifest(&self, repo: &str, digest: &Digest) -> Option<Arc<ServedManifest>> {
        self.manifests.get(&(repo.to_string(), digest.clone()))
    }

    /// Caches what a read found, unless a write happened since `token` was taken.
    pub(crate) fn insert(
        &self,
        token: ReadToken,
        repo: &str,
        tag: Option<&str>,
        m: &Arc<ServedManifest>,
    ) {
        self.gate.insert(token, || {
            self.manifests
                .insert((repo.to_string(), m.digest.clone()), m.clone());
            if let Some(t) = tag {
                self.tags
                    .insert((repo.to_string(), t.to_string()), m.digest.clone());
            }
        });
    }

    /// Called after a write moved or removed these tags.
    pub(crate) fn invalidate_tags<'a>(&self, repo: &str, tags: impl IntoIterator<Item = &'a str>) {
        self.gate.invalidate(|| {
            for t in tags {
                self.tags.remove(&(repo.to_string(), t.to_string()));
            }
        });
    }

    /// Everything goes, and reads begun before cannot insert what they read.
    pub(crate) fn flush(&self) {
        self.gate.invalidate(|| {
            self.manifests.clear();
            self.tags.clear();
        });
    }

    /// Called after a manifest was deleted: its bytes and every cached tag go.
    pub(crate) fn invalidate_manifest(&self, repo: &str, digest: &Digest) {
        self.gate.invalidate(|| {
            self.manifests.remove(&(repo.to_string(), digest.clone()));
            self.tags.clear();
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(n: u8) -> Arc<ServedManifest> {
        Arc::new(ServedManifest {
            digest: Digest::sha256(&[n]),
            media_type: "application/vnd.oci.image.manifest.v1+json".into(),
            body: Bytes::from(vec![n]),
            kms_key: None,
        })
    }

    #[test]
    fn stale_reads_are_not_cached() {
        let c = ManifestCache::new(1 << 20);
        let token = c.begin_read();
        // A writer moves the tag while the reader is still reading the old row.
        c.invalidate_tags("r", ["latest"]);
        c.insert(token, "r", Some("latest"), &m(1));
        assert!(c.tag("r", "latest").is_none());
        let token = c.begin_read();
        c.insert(token, "r", Some("latest"), &m(2));
        assert_eq!(c.tag("r", "latest"), Some(m(2).digest.clone()));
        assert!(c.manifest("r", &m(2).digest).is_some());
        assert!(c.manifest("other", &m(2).digest).is_none());
        c.invalidate_manifest("r", &m(2).digest);
        assert!(c.manifest("r", &m(2).digest).is_none());
        assert!(c.tag("r", "latest").is_none());
    }

    #[test]
    fn a_flush_empties_the_cache_and_refuses_older_reads() {
        let c = ManifestCache::new(1 << 20);
        c.insert(c.begin_read(), "r", Some("latest"), &m(1));
        let before = c.begin_read();
        c.flush();
        assert!(c.tag("r", "latest").is_none());
        assert!(c.manifest("r", &m(1).digest).is_none());
        c.insert(before, "r", Some("latest"), &m(2));
        assert!(c.tag("r", "latest").is_none());
        c.insert(c.begin_read(), "r", Some("latest"), &m(2));
        assert_eq!(c.tag("r", "latest"), Some(m(2).digest.clone()));
    }
}
