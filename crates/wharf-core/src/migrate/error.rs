//! Why a migration stopped: a refusal (its message says what to do), a step that failed (what
//! was being done, with the cause as the source), or the stores failing to open.

use crate::stores::OpenError;

/// The cause of a failed step.
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

/// What stopped a migration.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(transparent)]
    Open(#[from] OpenError),
    /// The migration refuses to go on; the message says why and what to do.
    #[error("{0}")]
    Refused(String),
    /// A step failed: `context` says which.
    #[error("{context}")]
    Step {
        context: String,
        #[source]
        source: Cause,
    },
    /// The target's row counts (`theirs`) differ from the source's (`ours`) after the copy.
    #[error("the target's row counts differ from the source's (was the source written to during the migration?)")]
    CountsDiffer {
        ours: Vec<(String, i64)>,
        theirs: Vec<(String, i64)>,
    },
    /// The caller's step before any data lands failed, with its own message.
    #[error(transparent)]
    Prepare(CallerError),
    #[error(transparent)]
    Meta(#[from] wharf_meta::MetaError),
    #[error(transparent)]
    Blob(#[from] wharf_blob::BlobError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Task(#[from] tokio::task::JoinError),
}

/// An error of the caller's, shown as it is: its message, then its causes.
#[derive(Debug)]
pub struct CallerError(pub Cause);

impl std::fmt::Display for CallerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for CallerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// Names the step an error stopped, as `anyhow`'s `context` does.
pub(crate) trait Context<T> {
    fn context(self, context: impl Into<String>) -> Result<T, MigrateError>;
    fn with_context(self, context: impl FnOnce() -> String) -> Result<T, MigrateError>;
}

impl<T, E: Into<Cause>> Context<T> for Result<T, E> {
    fn context(self, context: impl Into<String>) -> Result<T, MigrateError> {
        self.map_err(|e| MigrateError::Step {
            context: context.into(),
            source: e.into(),
        })
    }

    fn with_context(self, context: impl FnOnce() -> String) -> Result<T, MigrateError> {
        self.map_err(|e| MigrateError::Step {
            context: context(),
            source: e.into(),
        })
    }
}
