//! AWS Signature Version 4 for Wharf's ECR-compatible API: parse the authorization a request
//! carries, verify it against a secret access key, and sign requests or presigned URLs the same way.
//!
//! The crate is pure: no IO, no async, no clock reads (callers pass `now`). Looking up the access
//! key id, checking the session token and mapping errors to the wire are the caller's job:
//!
//! ```text
//! let auth = wharf_sigv4::parse(&req)?;                 // Missing/IncompleteSignature
//! auth.check_service("ecr")?;
//! let secret = keys.lookup(auth.access_key_id())?;      // UnrecognizedClientException
//! wharf_sigv4::verify(&auth, &req, secret, now, DEFAULT_MAX_SKEW)?;
//! ```
//!
//! Canonicalization follows botocore's `SigV4Auth`/`SigV4QueryAuth` for non-S3 services (see
//! `canonical.rs`); the tests check it against requests botocore signed.

mod canonical;
mod date;
mod error;
mod parse;
mod sign;
mod verify;

use std::fmt;
use std::time::Duration;

use http::{HeaderMap, Method};
use sha2::{Digest, Sha256};

pub use canonical::{canonical_query, canonical_uri, uri_encode, ALGORITHM};
pub use error::SigV4Error;
pub use parse::{parse, Authorization};
pub use sign::{presign_query, sign_headers, SigningParams};
pub use verify::{canonical_request, string_to_sign, verify};

/// The clock skew `verify` callers should allow by default: five minutes either side, the window
/// the AWS SigV4 documentation gives for a request to reach AWS.
pub const DEFAULT_MAX_SKEW: Duration = Duration::from_secs(5 * 60);

/// The longest a presigned URL may live (`X-Amz-Expires`): seven days.
pub const MAX_PRESIGNED_EXPIRY: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// The literal payload hash of requests that opt out of payload signing.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// What the caller knows about the request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payload {
    /// SHA-256 of the exact body bytes (of the empty string for a request without a body).
    Sha256([u8; 32]),
    /// The caller did not hash the body. Such a request verifies only if it declares
    /// `x-amz-content-sha256: UNSIGNED-PAYLOAD`; `sign_headers` adds that header itself.
    Unhashed,
}

impl Payload {
    /// Hashes a buffered body.
    pub fn from_body(body: &[u8]) -> Self {
        Payload::Sha256(Sha256::digest(body).into())
    }
}

/// The parts of an HTTP request that SigV4 covers, borrowed from the server's request.
///
/// `path` and `query` are exactly as they appeared in the request target, still percent-encoded
/// (`uri.path()` and `uri.query().unwrap_or("")` of an `http::Uri`). `headers` must contain `host`;
/// HTTP/2 requests carry it as `:authority`, which the caller copies into a `host` header.
#[derive(Clone, Copy)]
pub struct SignedRequest<'a> {
    pub method: &'a Method,
    pub path: &'a str,
    pub query: &'a str,
    pub headers: &'a HeaderMap,
    pub payload: Payload,
}

/// Header values are left out: they include `Authorization` and `X-Amz-Security-Token`.
impl fmt::Debug for SignedRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedRequest")
            .field("method", self.method)
            .field("path", &self.path)
            .field("query_len", &self.query.len())
            .field("header_names", &self.headers.keys().collect::<Vec<_>>())
            .field("payload", &self.payload)
            .finish()
    }
}
