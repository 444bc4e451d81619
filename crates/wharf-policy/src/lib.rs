//! IAM policy documents for Wharf: parsing and validation, evaluation with IAM semantics, the
//! `ecr:` action vocabulary, and AWS's `AccessDenied` wording.
//!
//! This crate is pure: no IO, no async, no clock. Everything a decision depends on — the caller,
//! the action, the resource, the time, the source address — arrives in a [`RequestContext`].
//!
//! ```
//! use wharf_policy::{evaluate, Decision, PolicyDocument, PolicyKind, Principal, RequestContext};
//!
//! let repo_policy = PolicyDocument::parse(
//!     r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*",
//!         "Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}]}"#,
//!     PolicyKind::Resource,
//! )
//! .unwrap();
//! let ctx = RequestContext {
//!     principal: Principal::Anonymous,
//!     action: "ecr:BatchGetImage".into(),
//!     resource: "arn:aws:ecr:us-east-1:123456789012:repository/app".into(),
//!     resource_account: "123456789012".into(),
//!     keys: Default::default(),
//! };
//! assert_eq!(evaluate(&ctx, &[], &[&repo_policy]), Decision::Allow);
//! ```

mod actions;
mod condition;
mod document;
mod error;
mod eval;
mod pattern;
mod principal;

pub use actions::{is_ecr_action, oci_actions, OciOp, ECR_ACTIONS};
pub use document::{Effect, PolicyDocument, PolicyKind, Statement, MAX_POLICY_LEN};
pub use error::PolicyError;
pub use eval::{
    access_denied_message, denied_message, evaluate, Decision, PolicySource, RequestContext,
};
pub use principal::Principal;
