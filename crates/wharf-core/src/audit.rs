//! The audit trail's storage: appending records in batches, reading them back filtered, and
//! pruning those past their retention.

use crate::model::{AuditFilter, AuditRecord};
use crate::{CoreError, Records, Registry};

impl Registry {
    /// Appends audit records in one transaction.
    pub async fn append_audit(&self, records: &[AuditRecord]) -> Result<(), CoreError> {
        Ok(self.meta.insert_audit_events(records).await?)
    }

    /// The records `filter` selects, newest first.
    pub async fn audit_events(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>, CoreError> {
        Ok(self.meta.audit_events(filter).await?)
    }

    /// Deletes the records older than `before_ms` (Unix milliseconds); how many went.
    pub async fn prune_audit(&self, before_ms: i64) -> Result<u64, CoreError> {
        Ok(self.meta.prune_audit_events(before_ms).await?)
    }
}

impl Records {
    /// The records `filter` selects, newest first.
    pub async fn audit_events(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>, CoreError> {
        Ok(self.meta.audit_events(filter).await?)
    }
}
