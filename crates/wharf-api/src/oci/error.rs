//! The OCI error envelope and the one mapping from domain errors to it.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use wharf_core::CoreError;

/// An error as the `/v2/` API reports it: `{"errors":[{"code","message","detail"}]}`.
#[derive(Debug)]
pub struct OciError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub detail: Option<Value>,
    /// Extra headers (the `Range` of a 416, for instance).
    pub headers: Vec<(header::HeaderName, String)>,
}

impl OciError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> OciError {
        OciError {
            status,
            code,
            message: message.into(),
            detail: None,
            headers: Vec::new(),
        }
    }

    pub fn with_detail(mut self, detail: Value) -> OciError {
        self.detail = Some(detail);
        self
    }

    pub fn name_invalid(msg: impl Into<String>) -> OciError {
        OciError::new(StatusCode::BAD_REQUEST, "NAME_INVALID", msg)
    }

    pub fn digest_invalid(msg: impl Into<String>) -> OciError {
        OciError::new(StatusCode::BAD_REQUEST, "DIGEST_INVALID", msg)
    }

    pub fn unsupported(msg: impl Into<String>) -> OciError {
        OciError::new(StatusCode::METHOD_NOT_ALLOWED, "UNSUPPORTED", msg)
    }
}

impl From<CoreError> for OciError {
    fn from(e: CoreError) -> Self {
        use StatusCode as S;
        let msg = e.to_string();
        match e {
            CoreError::NameUnknown => OciError::new(S::NOT_FOUND, "NAME_UNKNOWN", msg),
            CoreError::BlobUnknown => OciError::new(S::NOT_FOUND, "BLOB_UNKNOWN", msg),
            CoreError::UploadUnknown => OciError::new(S::NOT_FOUND, "BLOB_UPLOAD_UNKNOWN", msg),
            CoreError::UploadInvalid(_) => {
                OciError::new(S::BAD_REQUEST, "BLOB_UPLOAD_INVALID", msg)
            }
            CoreError::RangeInvalid { size } => {
                let mut err = OciError::new(S::RANGE_NOT_SATISFIABLE, "BLOB_UPLOAD_INVALID", msg);
                err.headers.push((header::RANGE, super::upload_range(size)));
                err
            }
            CoreError::DigestInvalid(_) => OciError::new(S::BAD_REQUEST, "DIGEST_INVALID", msg),
            CoreError::ManifestUnknown => OciError::new(S::NOT_FOUND, "MANIFEST_UNKNOWN", msg),
            CoreError::ManifestInvalid(_) => OciError::new(S::BAD_REQUEST, "MANIFEST_INVALID", msg),
            // DELETE of a manifest an index in the repository still lists. The spec's codes are a
            // closed set and none names this case; DENIED ("requested access to the resource is
            // denied") is the one that says "this operation on this resource is refused". The
            // status is 409 Conflict, not DENIED's usual 403: the refusal comes from the state of
            // the repository, not from permissions, and clients treat a 403 as a credentials
            // problem. (GitLab's registry also answers 409 here; 400 and 405 would tell clients,
            // and the conformance suite, that deletes are disabled altogether.) The detail names
            // the manifest and the index so a client knows what to delete first.
            CoreError::ManifestReferenced { child, index } => {
                OciError::new(S::CONFLICT, "DENIED", msg).with_detail(json!({
                    "manifest": child.to_string(),
                    "index": index.to_string(),
                }))
            }
            CoreError::ManifestTooLarge(_) => {
                OciError::new(S::PAYLOAD_TOO_LARGE, "SIZE_INVALID", msg)
            }
            CoreError::ManifestBlobUnknown { blobs, manifests } => {
                let mut missing: Vec<String> = blobs.iter().map(|d| d.to_string()).collect();
                missing.extend(manifests.iter().map(|d| d.to_string()));
                OciError::new(
                    S::BAD_REQUEST,
                    "MANIFEST_BLOB_UNKNOWN",
                    format!(
                        "manifest references unknown content: {}",
                        missing.join(", ")
                    ),
                )
                .with_detail(json!({ "blobs": blobs, "manifests": manifests }))
            }
            CoreError::BodyFailed => OciError::new(
                S::BAD_REQUEST,
                "SIZE_INVALID",
                "request body ended before its declared length",
            ),
            CoreError::ImageTagAlreadyExists { .. } => {
                OciError::new(S::BAD_REQUEST, "TAG_INVALID", msg)
            }
            CoreError::AccessDenied(_) => OciError::new(S::FORBIDDEN, "DENIED", msg),
            CoreError::InvalidParameter(_) => OciError::new(S::BAD_REQUEST, "UNSUPPORTED", msg),
            // Control-plane outcomes that no /v2/ request produces; reported plainly if one ever does.
            CoreError::RepositoryAlreadyExists
            | CoreError::RepositoryNotEmpty
            | CoreError::TooManyTags
            | CoreError::RepositoryPolicyNotFound
            | CoreError::RegistryPolicyNotFound
            | CoreError::TemplateAlreadyExists
            | CoreError::TemplateNotFound
            | CoreError::LifecyclePolicyNotFound
            | CoreError::LifecyclePolicyPreviewNotFound
            | CoreError::StorageClassUpdateNotSupported(_)
            | CoreError::UnsupportedImageType(_)
            | CoreError::ImageArchived(_)
            | CoreError::ScanNotFound(_)
            | CoreError::PullThroughRuleAlreadyExists
            | CoreError::PullThroughRuleNotFound
            | CoreError::SecretNotFound(_) => OciError::new(S::BAD_REQUEST, "UNSUPPORTED", msg),
            CoreError::SecretUndecryptable(_) => {
                OciError::new(S::SERVICE_UNAVAILABLE, "UNAVAILABLE", msg)
            }
            CoreError::Upstream {
                rate_limited: true, ..
            } => OciError::new(S::TOO_MANY_REQUESTS, "TOOMANYREQUESTS", msg),
            CoreError::Upstream { .. } => OciError::new(S::BAD_GATEWAY, "UNAVAILABLE", msg),
            // The repository's KMS key refuses (disabled, deleted, not allowed): its content cannot
            // be decrypted, as ECR's pulls fail with a KmsException.
            CoreError::Kms {
                unavailable: false, ..
            } => OciError::new(S::FORBIDDEN, "DENIED", msg),
            CoreError::Kms { .. } => OciError::new(S::SERVICE_UNAVAILABLE, "UNAVAILABLE", msg),
            CoreError::Integrity(detail) => {
                tracing::error!(%detail, "stored data failed its integrity check");
                OciError::new(
                    S::INTERNAL_SERVER_ERROR,
                    "UNKNOWN",
                    "stored data failed its integrity check",
                )
            }
            CoreError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                OciError::new(S::INTERNAL_SERVER_ERROR, "UNKNOWN", "internal server error")
            }
        }
    }
}

impl IntoResponse for OciError {
    fn into_response(self) -> Response {
        let mut entry = json!({ "code": self.code, "message": self.message });
        if let Some(d) = self.detail {
            entry["detail"] = d;
        }
        let body = json!({ "errors": [entry] }).to_string();
        let mut resp = (self.status, body).into_response();
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        for (k, v) in self.headers {
            if let Ok(v) = HeaderValue::from_str(&v) {
                h.insert(k, v);
            }
        }
        resp
    }
}
