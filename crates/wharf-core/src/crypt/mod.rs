//! Encryption at rest: the master keyring, data keys under master or KMS keys, and sealed blob
//! IO (the segment format itself is `wharf_blob::seal`).
//!
//! Every blob is sealed under its own data key (one per upload); the data key is wrapped under
//! the key of each repository that holds the blob (`data_keys` rows), so a blob is stored once
//! however many keys share it, and a repository reads only through its own key: a disabled KMS
//! key stops that repository's reads and no other's.

mod io;
mod jobs;
mod keys;
pub mod master;
pub(crate) mod secret;

pub use jobs::{EncryptionStatus, RewrapReport, SealReport};
pub use keys::{KeyRef, Keys, Target, Unwrapped};
pub use master::MasterKeyring;
