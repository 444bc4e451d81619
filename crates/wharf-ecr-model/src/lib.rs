//! Botocore's Amazon ECR service model, embedded, and everything the ECR JSON API derives from it:
//! the closed [`Operation`] enum (routing by `X-Amz-Target`), request validation against each
//! operation's input shape ([`validate_input`]), the modeled error codes ([`error_shapes`]) and the
//! paginators ([`paginated`]).
//!
//! The contract is botocore's `data/ecr/2015-09-21/service-2.json`; `scripts/strip_model.py`
//! strips it to `model/ecr-2015-09-21.json` (embedded with `include_str!`) and generates
//! `src/operations.rs`. The botocore version is recorded in [`metadata`]`().botocore_version`.
//!
//! The crate is pure: no IO beyond the embedded snapshot, no async, no HTTP. Mapping a
//! [`ValidationError`] to the wire is the server's job: `{"__type": err.code(), "message":
//! err.message()}` with status 400.
//!
//! ```
//! use wharf_ecr_model::{validate_input, Operation};
//!
//! let op = Operation::from_target("AmazonEC2ContainerRegistry_V20150921.CreateRepository").unwrap();
//! let err = validate_input(op, &serde_json::json!({"repositoryName": "a"})).unwrap_err();
//! assert_eq!(err.code(), "InvalidParameterException");
//! assert_eq!(err.field(), "repositoryName");
//! assert_eq!(
//!     err.message(),
//!     "1 validation error detected: Value 'a' at 'repositoryName' failed to satisfy constraint: \
//!      Member must have length greater than or equal to 2"
//! );
//! ```

mod error;
pub mod model;
mod operations;
pub mod patterns;
mod validate;

pub use error::{ErrorKind, ValidationError, Violation};
pub use model::{error_shapes, metadata, paginated, Pagination};
pub use operations::Operation;
pub use validate::{validate_input, MAX_ECHO};
