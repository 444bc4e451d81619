//! The one error type of this crate, `SigV4Error`, and its mapping to the AWS error codes the server
//! puts in `__type`.
//!
//! Messages copy the wording AWS uses, because clients print them verbatim. No message ever contains
//! a secret access key, a session token, a signing key or a computed signature: the only request data
//! echoed back are timestamps, scope fields and parameter names.

/// Why a SigV4 request was rejected. Each variant maps to one AWS error code (see
/// [`SigV4Error::aws_code`]); the `Display` text is the client-facing message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigV4Error {
    /// The request carries neither an `Authorization` header nor presigned query parameters.
    #[error("Missing Authentication Token")]
    MissingAuthenticationToken,
    /// The authorization is present but malformed: a missing part, an unknown algorithm, a bad
    /// credential scope, an unparseable date, an unsigned `host` header.
    #[error("{0}")]
    IncompleteSignature(String),
    /// The signature is well formed but does not match the one computed from the request.
    #[error(
        "The request signature we calculated does not match the signature you provided. \
         Check your AWS Secret Access Key and signing method. \
         Consult the service documentation for details."
    )]
    InvalidSignature,
    /// The request time is outside the allowed clock skew, or a presigned URL has expired.
    #[error("{0}")]
    SignatureExpired(String),
    /// `x-amz-content-sha256` names a hash other than the body's (or a payload mode this crate does
    /// not support, such as chunked streaming signatures).
    #[error("The provided 'x-amz-content-sha256' header does not match what was computed.")]
    ContentSha256Mismatch,
}

impl SigV4Error {
    /// The AWS error code (`__type`) for this error. Every code is sent with HTTP status 400.
    pub fn aws_code(&self) -> &'static str {
        match self {
            SigV4Error::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            SigV4Error::IncompleteSignature(_) => "IncompleteSignatureException",
            SigV4Error::InvalidSignature
            | SigV4Error::SignatureExpired(_)
            | SigV4Error::ContentSha256Mismatch => "InvalidSignatureException",
        }
    }

    pub(crate) fn incomplete(message: impl Into<String>) -> Self {
        SigV4Error::IncompleteSignature(message.into())
    }
}
