//! A small AWS KMS client: the handful of `TrentService` operations Wharf needs to wrap and unwrap
//! per-blob data keys under a customer's KMS key, plus the admin calls the tests use.
//!
//! Every call is one awsJson1.1 request (`POST /`, `X-Amz-Target: TrentService.<Op>`, content type
//! `application/x-amz-json-1.1`) signed with SigV4 for service `kms` by `wharf-sigv4`, sent with
//! reqwest (rustls, native roots) and bounded by a 10 s timeout ([`TIMEOUT`]).
//!
//! Secrets stay out of sight: [`KmsConfig`]'s `Debug` redacts the secret key and session token,
//! data-key plaintext comes back as `Zeroizing` bytes and is never printed, and no [`KmsError`]
//! carries request bodies or credentials.
//!
//! ```text
//! let kms = KmsClient::new(KmsConfig { endpoint, region, access_key_id, secret_access_key, session_token: None })?;
//! let pair = kms.generate_data_key(&key_arn, &context).await?;   // store pair.ciphertext
//! let (dek, arn) = kms.decrypt(&pair.ciphertext, &key_arn, &context).await?; // later
//! ```

mod admin;
mod client;
mod config;
mod crypto;
mod error;
mod wire;

pub use client::{KmsClient, TIMEOUT};
pub use config::KmsConfig;
pub use crypto::DataKeyPair;
pub use error::KmsError;
pub use wire::KeyMetadata;
