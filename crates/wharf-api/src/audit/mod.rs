//! The audit trail's hook into both surfaces: CloudTrail-shaped records of every mutating call
//! and every denied request, built from what the surface learned about the call (`Call`) and its
//! outcome, then handed to the batched writer (`sink.rs`) after the response is made.
//!
//! Each surface calls exactly one function here, once per request: `ecr` from the ECR entry
//! point and `oci` from the `/v2/` entry point. Nothing from a request reaches a record but the
//! fields named below: no header other than `User-Agent` (never `Authorization`), no query
//! string (presigned download URLs carry signatures), and request parameters only as
//! `redact.rs` leaves them.

mod redact;
mod sink;

pub use redact::HIDDEN;
pub use sink::{AuditSink, AuditWriter};

use crate::AppState;
use axum::http::{header, HeaderMap, StatusCode};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};
use wharf_core::model::AuditRecord;
use wharf_core::{Client, Principal};

/// The `eventSource` of ECR API calls.
pub const ECR_SOURCE: &str = "ecr.amazonaws.com";
/// The `eventSource` of ECR Public API calls.
pub const ECR_PUBLIC_SOURCE: &str = "ecr-public.amazonaws.com";
/// The `eventSource` of `/v2/` calls.
pub const OCI_SOURCE: &str = "registry.wharf";

/// What a surface learned about one call, filled in as it goes.
#[derive(Debug, Default)]
pub struct Call {
    /// The operation (ECR) or event name (`/v2/`); `None` when the request named none.
    pub event_name: Option<&'static str>,
    /// Whether the operation changes state (only those, and denials, are recorded).
    pub mutating: bool,
    pub principal: Option<Principal>,
    /// The access key the request claimed, even when it was refused (never its secret).
    pub access_key_id: Option<String>,
    /// The registry the call addressed.
    pub account: Option<String>,
    /// Request parameters, already redacted.
    pub parameters: Option<Value>,
    /// The request carried credentials (a `/v2/` request without any that is challenged is
    /// the protocol's handshake, not a denial).
    pub had_credentials: bool,
    /// The request's id (`x-request-id`, or ECR's `x-amzn-RequestId`).
    pub request_id: Option<String>,
    source_ip: Option<String>,
    user_agent: Option<String>,
}

impl Call {
    /// Starts the record of a request from its client and headers.
    pub fn new(client: Client, headers: &HeaderMap) -> Call {
        Call {
            source_ip: client.ip.map(|ip| ip.to_string()),
            user_agent: headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(redact::cut),
            had_credentials: headers.contains_key(header::AUTHORIZATION),
            request_id: headers
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .map(redact::cut),
            ..Call::default()
        }
    }

    /// Sets the redacted request parameters from an ECR input.
    pub fn set_parameters(&mut self, input: &Value) {
        self.parameters = Some(redact::request_parameters(input));
    }

    fn record(&self, source: &str, name: &str) -> AuditRecord {
        let (user_arn, account, key) = match &self.principal {
            Some(Principal::User(u)) => (
                Some(u.arn()),
                Some(u.account.to_string()),
                Some(u.access_key.clone()),
            ),
            Some(Principal::Anonymous) => (Some("anonymous".to_string()), None, None),
            None => (None, None, None),
        };
        AuditRecord {
            id: 0,
            event_id: uuid::Uuid::new_v4().to_string(),
            event_time: now_millis(),
            event_name: name.to_string(),
            event_source: source.to_string(),
            account_id: self.account.clone().or(account),
            user_arn,
            access_key_id: key.or_else(|| self.access_key_id.clone()),
            source_ip: self.source_ip.clone(),
            user_agent: self.user_agent.clone(),
            request_id: self.request_id.clone(),
            request_parameters: self.parameters.as_ref().map(Value::to_string),
            response_elements: None,
            error_code: None,
            error_message: None,
        }
    }
}

fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// ECR error codes that mean the caller was refused.
const DENIED_CODES: &[&str] = &[
    "AccessDeniedException",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "IncompleteSignatureException",
    "MissingAuthenticationTokenException",
    "ExpiredTokenException",
    "SignatureDoesNotMatch",
    "InvalidClientTokenId",
];

/// Whether an ECR operation changes state (and so is always recorded).
pub fn ecr_mutating(op: &str) -> bool {
    const READS: &[&str] = &["Describe", "List", "BatchGet", "BatchCheck", "Get"];
    // GetAuthorizationToken issues a credential: recorded like a change.
    op == "GetAuthorizationToken" || !READS.iter().any(|p| op.starts_with(p))
}

/// The AWS JSON surfaces' hook (ECR, or ECR Public with its own `source`): records a mutating
/// call or a denial, once the response is known.
pub fn ecr(
    state: &AppState,
    source: &str,
    call: &Call,
    request_id: &str,
    result: &Result<Value, crate::aws_json::AwsError>,
) {
    let denied = matches!(result, Err(e) if DENIED_CODES.contains(&e.code));
    if !(call.mutating || denied) {
        return;
    }
    let mut r = call.record(source, call.event_name.unwrap_or("UnknownOperation"));
    r.request_id = Some(request_id.to_string());
    match result {
        Ok(output) => {
            r.response_elements = redact::response_elements(output).map(|v| v.to_string());
        }
        Err(e) => {
            r.error_code = Some(e.code.to_string());
            r.error_message = Some(redact::cut(&e.message));
        }
    }
    state.audit.send(r);
}

/// The `/v2/` surface's hook: records a mutating call or a 401/403, once the response is known.
pub fn oci(state: &AppState, call: &Call, resp: &axum::response::Response) {
    let status = resp.status();
    let denied = (status == StatusCode::UNAUTHORIZED && call.had_credentials)
        || status == StatusCode::FORBIDDEN
        // An anonymous request refused on anything but the base endpoint's handshake.
        || (status == StatusCode::UNAUTHORIZED && call.event_name.is_some_and(|n| n != "Ping"));
    if !(call.mutating || denied) {
        return;
    }
    let mut r = call.record(OCI_SOURCE, call.event_name.unwrap_or("UnknownOperation"));
    if status.is_success() {
        let digest = resp
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok());
        let mut elements = json!({ "status": status.as_u16() });
        if let Some(d) = digest {
            elements["digest"] = Value::from(d);
        }
        r.response_elements = Some(elements.to_string());
    } else {
        r.error_code = Some(oci_error_code(status).to_string());
        r.error_message = Some(format!("HTTP {}", status.as_u16()));
    }
    state.audit.send(r);
}

/// The AWS-style error code of a refused or failed `/v2/` call.
fn oci_error_code(status: StatusCode) -> &'static str {
    match status {
        StatusCode::UNAUTHORIZED => "Unauthorized",
        StatusCode::FORBIDDEN => "AccessDenied",
        StatusCode::NOT_FOUND => "NotFound",
        s if s.is_server_error() => "ServerError",
        _ => "InvalidRequest",
    }
}

/// The ECR request's claimed access key id (`Credential=<id>/...`), never the signature.
pub fn sigv4_access_key(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let rest = &v[v.find("Credential=")? + "Credential=".len()..];
    let id = rest.split('/').next()?;
    (!id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then(|| id.to_string())
}

/// The user and password of `Authorization: Basic`.
pub fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = v
        .strip_prefix("Basic ")
        .or_else(|| v.strip_prefix("basic "))?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutating_operations() {
        for op in [
            "CreateRepository",
            "PutImage",
            "BatchDeleteImage",
            "SetRepositoryPolicy",
            "CompleteLayerUpload",
            "TagResource",
            "GetAuthorizationToken",
            "StartImageScan",
        ] {
            assert!(ecr_mutating(op), "{op}");
        }
        for op in [
            "DescribeRepositories",
            "ListImages",
            "BatchGetImage",
            "GetRepositoryPolicy",
            "BatchCheckLayerAvailability",
            "GetDownloadUrlForLayer",
        ] {
            assert!(!ecr_mutating(op), "{op}");
        }
    }

    #[test]
    fn only_the_access_key_id_is_taken_from_sigv4() {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20260101/us-east-1/ecr/aws4_request, SignedHeaders=host, Signature=abcdef".parse().unwrap());
        assert_eq!(sigv4_access_key(&h).as_deref(), Some("AKIAEXAMPLE"));
        h.insert(
            header::AUTHORIZATION,
            "Basic QVdTOnNlY3JldA==".parse().unwrap(),
        );
        assert_eq!(sigv4_access_key(&h), None);
        assert_eq!(basic_credentials(&h), Some(("AWS".into(), "secret".into())));
    }

    #[test]
    fn records_never_hold_headers_but_the_user_agent() {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            "Basic QVdTOnNlY3JldA==".parse().unwrap(),
        );
        h.insert(header::USER_AGENT, "crane/0.20".parse().unwrap());
        let mut call = Call::new(
            Client {
                ip: Some([10, 0, 0, 1].into()),
                secure_transport: false,
            },
            &h,
        );
        call.set_parameters(&json!({"repositoryName": "app", "registryPassword": "secret"}));
        let r = call.record(OCI_SOURCE, "PutImage");
        let text = format!("{r:?}");
        assert!(
            !text.contains("QVdTOnNlY3JldA") && !text.contains("\"secret\""),
            "{text}"
        );
        assert_eq!(r.user_agent.as_deref(), Some("crane/0.20"));
        assert_eq!(r.source_ip.as_deref(), Some("10.0.0.1"));
        assert!(call.had_credentials);
    }
}
