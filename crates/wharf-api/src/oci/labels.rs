//! What a `/v2/` call is called outside the surface: its route kind for metrics
//! (`manifest_get`, `blob_upload_patch`, ...), its event name for the audit trail (ECR's names
//! where ECR has the same call, so `wharf audit --event-name PutImage` finds pushes from both
//! surfaces), and whether it changes state. A pure function of the endpoint, method and query.

use super::route::Endpoint;
use axum::http::Method;

/// The names of one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Names {
    /// The metric label.
    pub operation: &'static str,
    /// The audit event name.
    pub event: &'static str,
    /// Recorded in the audit trail whatever its outcome: pushes, deletes, completed uploads
    /// and mounts.
    pub mutating: bool,
}

const fn n(operation: &'static str, event: &'static str, mutating: bool) -> Names {
    Names {
        operation,
        event,
        mutating,
    }
}

fn has_param(query: Option<&str>, name: &str) -> bool {
    query.is_some_and(|q| {
        q.split('&')
            .any(|p| p.split_once('=').map_or(p, |(k, _)| k) == name)
    })
}

/// Names a routed call.
pub(crate) fn names(endpoint: &Endpoint, method: &Method, query: Option<&str>) -> Names {
    let head = method == Method::HEAD;
    match endpoint {
        Endpoint::Base => n("base", "Ping", false),
        Endpoint::Catalog => n("catalog", "DescribeRepositories", false),
        Endpoint::Tags { .. } => n("tags_list", "ListImages", false),
        Endpoint::Referrers { .. } => n("referrers", "ListImageReferrers", false),
        Endpoint::Manifest { .. } => match *method {
            Method::PUT => n("manifest_put", "PutImage", true),
            Method::DELETE => n("manifest_delete", "BatchDeleteImage", true),
            _ if head => n("manifest_head", "BatchGetImage", false),
            _ => n("manifest_get", "BatchGetImage", false),
        },
        Endpoint::Blob { .. } => match *method {
            Method::DELETE => n("blob_delete", "DeleteBlob", true),
            _ if head => n("blob_head", "BatchCheckLayerAvailability", false),
            _ => n("blob_get", "GetDownloadUrlForLayer", false),
        },
        Endpoint::StartUpload { .. } => {
            if has_param(query, "mount") {
                n("blob_mount", "MountBlob", true)
            } else if has_param(query, "digest") {
                n("blob_upload_monolithic", "CompleteLayerUpload", true)
            } else {
                n("blob_upload_start", "InitiateLayerUpload", false)
            }
        }
        Endpoint::Upload { .. } => match *method {
            Method::PATCH => n("blob_upload_patch", "UploadLayerPart", false),
            Method::PUT => n("blob_upload_put", "CompleteLayerUpload", true),
            Method::DELETE => n("blob_upload_delete", "AbortLayerUpload", true),
            _ => n("blob_upload_status", "GetLayerUploadStatus", false),
        },
    }
}

/// The request parameters of a call for its audit record: the repository and what the path
/// names, plus the digest and mount source of an upload. Nothing else of the query is kept
/// (presigned download URLs carry signatures there).
pub(crate) fn audit_parameters(endpoint: &Endpoint, query: Option<&str>) -> serde_json::Value {
    use serde_json::json;
    let param = |name: &str| -> Option<String> {
        let q = super::form_urlencoded_pairs(query?);
        super::param(&q, name).map(str::to_string)
    };
    match endpoint {
        Endpoint::Base | Endpoint::Catalog => json!({}),
        Endpoint::Tags { name } => json!({ "repositoryName": name.as_str() }),
        Endpoint::Manifest { name, reference } => {
            let key = if reference.contains(':') {
                "imageDigest"
            } else {
                "imageTag"
            };
            json!({ "repositoryName": name.as_str(), key: reference })
        }
        Endpoint::Blob { name, digest } | Endpoint::Referrers { name, digest } => {
            json!({ "repositoryName": name.as_str(), "layerDigest": digest })
        }
        Endpoint::StartUpload { name } => {
            let mut v = json!({ "repositoryName": name.as_str() });
            if let Some(d) = param("mount").or_else(|| param("digest")) {
                v["layerDigest"] = d.into();
            }
            if let Some(from) = param("from") {
                v["mountFrom"] = from.into();
            }
            v
        }
        Endpoint::Upload { name, id } => {
            let mut v = json!({ "repositoryName": name.as_str(), "uploadId": id });
            if let Some(d) = param("digest") {
                v["layerDigest"] = d.into();
            }
            v
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oci::route::route;

    #[test]
    fn calls_are_named() {
        let check = |method: Method, path: &str, query: Option<&str>, expected: Names| {
            let e = route(&method, path).unwrap();
            assert_eq!(
                names(&e, &method, query),
                expected,
                "{method} {path} {query:?}"
            );
        };
        check(Method::GET, "/v2/", None, n("base", "Ping", false));
        check(
            Method::PUT,
            "/v2/a/b/manifests/v1",
            None,
            n("manifest_put", "PutImage", true),
        );
        check(
            Method::HEAD,
            "/v2/a/manifests/v1",
            None,
            n("manifest_head", "BatchGetImage", false),
        );
        check(
            Method::POST,
            "/v2/a/blobs/uploads/",
            Some("mount=sha256:ab&from=b"),
            n("blob_mount", "MountBlob", true),
        );
        check(
            Method::POST,
            "/v2/a/blobs/uploads/",
            Some("digest=sha256:ab"),
            n("blob_upload_monolithic", "CompleteLayerUpload", true),
        );
        check(
            Method::POST,
            "/v2/a/blobs/uploads/",
            None,
            n("blob_upload_start", "InitiateLayerUpload", false),
        );
        check(
            Method::PATCH,
            "/v2/a/blobs/uploads/x",
            None,
            n("blob_upload_patch", "UploadLayerPart", false),
        );
        check(
            Method::PUT,
            "/v2/a/blobs/uploads/x",
            Some("digest=sha256:ab"),
            n("blob_upload_put", "CompleteLayerUpload", true),
        );
        check(
            Method::DELETE,
            "/v2/a/blobs/sha256:ab",
            None,
            n("blob_delete", "DeleteBlob", true),
        );
    }

    #[test]
    fn parameters_keep_names_and_digests_only() {
        let e = route(&Method::GET, "/v2/a/blobs/sha256:ab").unwrap();
        assert_eq!(
            audit_parameters(&e, Some("X-Wharf-Signature=s3cr3t&expires=1")),
            serde_json::json!({"repositoryName": "a", "layerDigest": "sha256:ab"})
        );
        let e = route(&Method::POST, "/v2/a/blobs/uploads/").unwrap();
        assert_eq!(
            audit_parameters(&e, Some("mount=sha256%3Aab&from=b%2Fc")),
            serde_json::json!({"repositoryName": "a", "layerDigest": "sha256:ab", "mountFrom": "b/c"})
        );
        let e = route(&Method::PUT, "/v2/a/manifests/v1").unwrap();
        assert_eq!(
            audit_parameters(&e, None),
            serde_json::json!({"repositoryName": "a", "imageTag": "v1"})
        );
    }
}
