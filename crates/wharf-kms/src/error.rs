//! `KmsError`, the one error type of the crate, and how an awsJson1.1 error response becomes one.
//!
//! Messages never include request bodies, plaintext or credentials: a service error carries only
//! KMS's own `__type` and `message`, transport errors reqwest's description (endpoint URL, no
//! query or body), protocol errors a short description of what was malformed.

use http::StatusCode;

/// Why a KMS call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KmsError {
    /// KMS answered with an error: `code` is its `__type` without namespace or URL suffix
    /// (`DisabledException`, `NotFoundException`, `KMSInvalidStateException`,
    /// `AccessDeniedException`, `InvalidCiphertextException`, `IncorrectKeyException`, ...).
    #[error("KMS {code}: {message}")]
    Service { code: String, message: String },
    /// The request did not complete: connection refused, TLS failure, the 10 s timeout.
    #[error("KMS transport error: {0}")]
    Transport(String),
    /// KMS answered something this client cannot use: a non-JSON error page, a response without
    /// a required field, a data key of the wrong length; or the call was refused before sending.
    #[error("KMS protocol error: {0}")]
    Protocol(String),
}

impl KmsError {
    /// The service error code, or `Transport` / `Protocol` for the other kinds.
    pub fn code(&self) -> &str {
        match self {
            KmsError::Service { code, .. } => code,
            KmsError::Transport(_) => "Transport",
            KmsError::Protocol(_) => "Protocol",
        }
    }

    pub(crate) fn protocol(what: impl Into<String>) -> Self {
        KmsError::Protocol(what.into())
    }
}

/// Longest error message kept from a response, in characters.
const MAX_MESSAGE: usize = 512;

/// `com.amazonaws.kms#NotFoundException` and `NotFoundException:http://...` both become
/// `NotFoundException` (the two decorations the awsJson protocols allow).
fn short_code(raw: &str) -> &str {
    let code = raw.rsplit('#').next().unwrap_or(raw);
    code.split(':').next().unwrap_or(code).trim()
}

fn truncate(text: &str) -> String {
    if text.chars().count() <= MAX_MESSAGE {
        text.to_owned()
    } else {
        let mut out: String = text.chars().take(MAX_MESSAGE).collect();
        out.push('…');
        out
    }
}

/// The error for a non-2xx response: its JSON `__type`/`message` (either case of `message`), or
/// the `x-amzn-errortype` header, else a protocol error naming the status.
pub(crate) fn from_response(status: StatusCode, error_type: Option<&str>, body: &[u8]) -> KmsError {
    let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let field = |name: &str| {
        json.as_ref()
            .and_then(|v| v.get(name))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    let code = field("__type")
        .or_else(|| field("code"))
        .or_else(|| error_type.map(str::to_owned));
    match code {
        Some(code) if !short_code(&code).is_empty() => KmsError::Service {
            code: short_code(&code).to_owned(),
            message: truncate(
                &field("message")
                    .or_else(|| field("Message"))
                    .unwrap_or_default(),
            ),
        },
        _ => KmsError::Protocol(format!(
            "HTTP {status} without an AWS error code: {}",
            truncate(&String::from_utf8_lossy(body))
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_lose_namespace_and_url() {
        let err = from_response(
            StatusCode::BAD_REQUEST,
            None,
            br#"{"__type":"com.amazonaws.kms#DisabledException","message":"key is disabled"}"#,
        );
        assert_eq!(
            err,
            KmsError::Service {
                code: "DisabledException".into(),
                message: "key is disabled".into()
            }
        );
        let err = from_response(
            StatusCode::BAD_REQUEST,
            None,
            br#"{"__type":"NotFoundException:http://internal.amazon.com/","Message":"gone"}"#,
        );
        assert_eq!(err.code(), "NotFoundException");
        assert_eq!(err.to_string(), "KMS NotFoundException: gone");
    }

    #[test]
    fn header_code_when_body_has_none() {
        let err = from_response(
            StatusCode::BAD_REQUEST,
            Some("AccessDeniedException:http://x/"),
            b"",
        );
        assert_eq!(err.code(), "AccessDeniedException");
    }

    #[test]
    fn plain_text_errors_are_protocol_errors() {
        let err = from_response(StatusCode::NOT_IMPLEMENTED, None, b"not implemented");
        assert_eq!(err.code(), "Protocol");
        assert!(err.to_string().contains("501"), "{err}");
        assert!(err.to_string().contains("not implemented"), "{err}");
        let long = "x".repeat(5000);
        let err = from_response(StatusCode::BAD_GATEWAY, None, long.as_bytes());
        assert!(err.to_string().len() < 700, "{}", err.to_string().len());
    }
}
