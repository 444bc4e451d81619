//! `Records`: the metadata database alone, for commands that read records and touch no blob
//! (`wharf audit`, `wharf jobs`, `wharf migrate`), so they need neither the blob store nor its
//! owner mark. Opened by `stores::open_records`; its reads live beside the `Registry` use cases
//! of the same concern (audit.rs, jobs.rs, stats.rs).

use crate::CoreError;
use wharf_meta::MetaStore;

/// The metadata database without the blob store. Cheap to clone; clones share the pools.
#[derive(Clone)]
pub struct Records {
    pub(crate) meta: MetaStore,
}

/// Where the database's schema stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaVersion {
    /// The version the database is at.
    pub at: i64,
    /// The newest version this build knows.
    pub latest: i64,
    /// The backend, as people read it (`Sqlite`, `Postgres`).
    pub dialect: String,
}

impl Records {
    pub(crate) fn new(meta: MetaStore) -> Records {
        Records { meta }
    }

    /// The schema version the database is at (opening it applied migrations).
    pub async fn schema_version(&self) -> Result<SchemaVersion, CoreError> {
        let (at, latest) = self.meta.schema_version().await?;
        Ok(SchemaVersion {
            at,
            latest,
            dialect: format!("{:?}", self.meta.dialect()),
        })
    }

    /// Closes the database's pools, waiting for connections to finish.
    pub async fn close(&self) {
        self.meta.close().await;
    }
}
