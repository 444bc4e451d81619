//! The records use cases return and take, named here so the API surfaces and the binary speak
//! wharf-core's vocabulary and never depend on the stores' crates themselves.

pub use wharf_blob::ByteStream;
pub use wharf_meta::{
    AccessKeyRecord, AccountUsage, AuditFilter, AuditRecord, BackfillItem, BackfillRecord,
    CatalogData, ImageRecord, JobCount, JobFilter, JobRecord, JobState, LifecyclePolicyRecord,
    PoolStats, PublicRegistry, PullExclusion, Referrer, RepoSettings, RepositoryRecord,
    RepositoryUsage, ServerUsage, TagPage, TemplateRecord, UsageFigures, UserRecord,
};
