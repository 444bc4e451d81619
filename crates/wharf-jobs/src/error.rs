//! `JobError`: why an attempt failed, the one error every handler (`handlers.rs` and the job
//! modules it calls) returns and the worker turns into a retry or a dead job.

use wharf_core::CoreError;

/// Why an attempt failed.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Worth another attempt after the backoff delay (the database or blob store was away).
    #[error("{0}")]
    Transient(String),
    /// Retrying cannot help: the job is dead at once.
    #[error("{0}")]
    Permanent(String),
}

impl From<CoreError> for JobError {
    fn from(e: CoreError) -> JobError {
        JobError::Transient(e.to_string())
    }
}
