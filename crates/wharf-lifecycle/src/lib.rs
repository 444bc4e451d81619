//! Amazon ECR lifecycle policies for Wharf: parsing and validation with ECR's exact messages, and
//! evaluation of a policy against a repository's images.
//!
//! This crate is pure: no IO, no async, no clock. The caller gathers [`ImageFacts`] and passes
//! `now` as Unix seconds; [`evaluate`] answers with one [`Decision`] per image to expire or
//! archive, which the caller applies (or, for a preview, only reports).
//!
//! ```
//! use wharf_lifecycle::{evaluate, Action, ImageFacts, LifecyclePolicy, StorageClass};
//!
//! let policy = LifecyclePolicy::parse(
//!     r#"{"rules":[{"rulePriority":1,"description":"keep the two newest release images",
//!         "selection":{"tagStatus":"tagged","tagPrefixList":["v"],
//!         "countType":"imageCountMoreThan","countNumber":2},"action":{"type":"expire"}}]}"#,
//! )
//! .unwrap();
//! let image = |digest: &str, tag: &str, pushed_at| ImageFacts {
//!     digest: digest.into(),
//!     tags: vec![tag.into()],
//!     pushed_at,
//!     last_pulled_at: None,
//!     transitioned_at: None,
//!     storage_class: StorageClass::Standard,
//! };
//! let images = [image("sha256:a", "v1", 1), image("sha256:b", "v2", 2), image("sha256:c", "v3", 3)];
//! let decisions = evaluate(&policy, &images, 10);
//! assert_eq!(decisions.len(), 1);
//! assert_eq!(decisions[0].digest, "sha256:a");
//! assert_eq!(decisions[0].action, Action::Expire);
//! ```

mod error;
mod eval;
mod pattern;
mod policy;
mod schema;
mod storage_class;

pub use error::LifecycleError;
pub use eval::{evaluate, Decision, ImageFacts};
pub use policy::{
    Action, Count, LifecyclePolicy, Rule, Selection, TagFilter, TagSelection, MAX_POLICY_LEN,
    MAX_WILDCARDS, MIN_ARCHIVE_DAYS, MIN_POLICY_LEN,
};
pub use storage_class::StorageClass;
