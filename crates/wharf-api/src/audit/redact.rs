//! What of a request and a response an audit record may keep: request parameters with every
//! secret replaced (and bulk data such as layer parts left out), and minimal response elements
//! taken from an allow-list, so a token an operation returns never reaches the trail.

use serde_json::{Map, Value};

/// What a redacted value reads as (CloudTrail's own words).
pub const HIDDEN: &str = "HIDDEN_DUE_TO_SECURITY_REASONS";

/// Longest string kept as is; longer ones are cut (manifests, policies).
const MAX_STRING: usize = 8 * 1024;

/// Keys whose values are secrets, matched case-insensitively as substrings.
const SECRET_KEYS: &[&str] = &[
    "password",
    "secret",
    "token",
    "authorization",
    "credential",
    "signature",
    "privatekey",
    "apikey",
];

/// Keys whose values are bulk data: recorded by size only.
const BULK_KEYS: &[&str] = &["layerPartBlob"];

fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    SECRET_KEYS.iter().any(|s| k.contains(s))
}

/// Request parameters as they may be recorded.
pub fn request_parameters(input: &Value) -> Value {
    redact(input, 0)
}

fn redact(v: &Value, depth: usize) -> Value {
    if depth > 16 {
        return Value::String("…".into());
    }
    match v {
        Value::Object(m) => {
            let mut out = Map::with_capacity(m.len());
            for (k, v) in m {
                let kept = if is_secret_key(k) {
                    Value::String(HIDDEN.into())
                } else if BULK_KEYS.contains(&k.as_str()) {
                    Value::String(format!(
                        "<{} characters omitted>",
                        v.as_str().map_or(0, str::len)
                    ))
                } else {
                    redact(v, depth + 1)
                };
                out.insert(k.clone(), kept);
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(|v| redact(v, depth + 1)).collect()),
        Value::String(s) => Value::String(cut(s)),
        other => other.clone(),
    }
}

/// A string cut to `MAX_STRING` bytes at a character boundary.
pub fn cut(s: &str) -> String {
    if s.len() <= MAX_STRING {
        return s.to_string();
    }
    let mut end = MAX_STRING;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…(truncated)", &s[..end])
}

/// Response members kept in `responseElements`, at the top level or one object down
/// (`repository.repositoryArn`, `image.imageId`, ...). Everything else (tokens, manifests,
/// policies, listings) is left out.
const RESPONSE_KEYS: &[&str] = &[
    "registryId",
    "repositoryName",
    "repositoryArn",
    "imageId",
    "imageIds",
    "uploadId",
    "layerDigest",
    "imageDigest",
    "lastByteReceived",
    "imageTagMutability",
];

/// The minimal response elements of an ECR output.
pub fn response_elements(output: &Value) -> Option<Value> {
    let Value::Object(top) = output else {
        return None;
    };
    let mut out = Map::new();
    for (k, v) in top {
        if is_secret_key(k) {
            continue;
        }
        if RESPONSE_KEYS.contains(&k.as_str()) {
            out.insert(k.clone(), redact(v, 1));
        } else if k == "failures" {
            out.insert(
                "failureCount".into(),
                Value::from(v.as_array().map_or(0, Vec::len)),
            );
        } else if let Value::Object(inner) = v {
            let kept: Map<String, Value> = inner
                .iter()
                .filter(|(k, _)| RESPONSE_KEYS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), redact(v, 2)))
                .collect();
            if !kept.is_empty() {
                out.insert(k.clone(), Value::Object(kept));
            }
        }
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_hidden_at_any_depth() {
        let check =
            |input: Value, expected: Value| assert_eq!(request_parameters(&input), expected);
        check(
            json!({"repositoryName": "app", "password": "hunter2"}),
            json!({"repositoryName": "app", "password": HIDDEN}),
        );
        check(
            json!({"upstream": {"credentialArn": "arn:x", "SecretAccessKey": "s3cr3t"},
                   "list": [{"authorizationToken": "QVdTOnh4"}], "nextToken": "t"}),
            json!({"upstream": {"credentialArn": HIDDEN, "SecretAccessKey": HIDDEN},
                   "list": [{"authorizationToken": HIDDEN}], "nextToken": HIDDEN}),
        );
        check(
            json!({"registryPassword": "p", "x-amz-security-token": "t", "Authorization": "AWS4"}),
            json!({"registryPassword": HIDDEN, "x-amz-security-token": HIDDEN, "Authorization": HIDDEN}),
        );
        check(
            json!({"count": 3, "force": true, "tags": null}),
            json!({"count": 3, "force": true, "tags": null}),
        );
    }

    #[test]
    fn bulk_and_long_values_are_not_kept() {
        let blob = "A".repeat(100_000);
        let out = request_parameters(
            &json!({"layerPartBlob": blob, "imageManifest": "m".repeat(20_000)}),
        );
        assert_eq!(out["layerPartBlob"], json!("<100000 characters omitted>"));
        let manifest = out["imageManifest"].as_str().unwrap();
        assert!(manifest.len() < 9_000 && manifest.ends_with("…(truncated)"));
        assert_eq!(cut("é".repeat(5000).as_str()).chars().next(), Some('é'));
    }

    #[test]
    fn responses_keep_only_identifiers() {
        let token = json!({"authorizationData": [{"authorizationToken": "QVdTOnNlY3JldA==", "proxyEndpoint": "https://x"}]});
        assert_eq!(response_elements(&token), None);
        assert_eq!(
            response_elements(
                &json!({"repository": {"repositoryArn": "arn:aws:ecr:r:1:repository/a",
                "repositoryName": "a", "createdAt": 1.0}})
            ),
            Some(
                json!({"repository": {"repositoryArn": "arn:aws:ecr:r:1:repository/a", "repositoryName": "a"}})
            )
        );
        assert_eq!(
            response_elements(&json!({"imageIds": [{"imageTag": "v1"}], "failures": [{}, {}]})),
            Some(json!({"imageIds": [{"imageTag": "v1"}], "failureCount": 2}))
        );
        assert_eq!(
            response_elements(
                &json!({"image": {"imageId": {"imageTag": "v1"}, "imageManifest": "{...}"}})
            ),
            Some(json!({"image": {"imageId": {"imageTag": "v1"}}}))
        );
    }
}
