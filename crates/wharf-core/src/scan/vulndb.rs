//! The vulnerability database: importing OSV documents in batches, and queuing continuous
//! rescans of the images an import concerns.

use super::{ImportReport, VulnDbStatus};
use crate::{CoreError, Registry};

/// An import in progress: documents are added one at a time and written in batches.
pub struct AdvisoryImport {
    registry: Registry,
    report: ImportReport,
}

impl AdvisoryImport {
    /// Adds one OSV JSON document; `source` names it in error reports.
    pub async fn add(&mut self, _source: &str, _json: &[u8]) -> Result<(), CoreError> {
        let _ = &self.registry;
        Err(CoreError::Internal("scanning is not built yet".into()))
    }

    /// Writes what is left, records the update time and queues continuous rescans.
    pub async fn finish(self) -> Result<ImportReport, CoreError> {
        Ok(self.report)
    }
}

impl Registry {
    /// Starts a streaming import.
    pub fn advisory_import(&self) -> AdvisoryImport {
        AdvisoryImport {
            registry: self.clone(),
            report: ImportReport::default(),
        }
    }

    /// Imports OSV documents (`(source, bytes)`).
    pub async fn import_advisories<I>(&self, docs: I) -> Result<ImportReport, CoreError>
    where
        I: IntoIterator<Item = (String, Vec<u8>)>,
    {
        let mut import = self.advisory_import();
        for (source, json) in docs {
            import.add(&source, &json).await?;
        }
        import.finish().await
    }

    /// The database's size and last update.
    pub async fn vulndb_status(&self) -> Result<VulnDbStatus, CoreError> {
        Err(CoreError::Internal("scanning is not built yet".into()))
    }
}
