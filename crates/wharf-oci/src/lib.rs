//! Pure OCI vocabulary shared by every Wharf crate: digests and hashing, repository names and tags,
//! references, media types, manifest parsing and the `*` wildcard of ECR's filters. This crate does no IO and has no async code.

pub mod digest;
pub mod manifest;
pub mod media;
pub mod name;
pub mod wildcard;

pub use digest::{Algorithm, Digest, DigestError, Hasher};
pub use manifest::{Descriptor, Manifest, ManifestError};
pub use media::MediaType;
pub use name::{NameError, Reference, RepoName, Tag};
pub use wildcard::wildcard_match;
