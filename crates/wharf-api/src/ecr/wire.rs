//! Shared wire shapes of the ECR API: timestamps, ARNs, URIs, repository objects, page tokens.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};
use wharf_core::model::RepositoryRecord;

use super::EcrError;
use crate::EcrSettings;

/// ECR timestamps are JSON numbers of epoch seconds.
pub fn epoch(secs: i64) -> Value {
    json!(secs as f64)
}

pub fn repository_arn(settings: &EcrSettings, account: &str, name: &str) -> String {
    wharf_core::arn::repository(&settings.region, account, name)
}

/// The registry host clients pull from for an account.
pub fn registry_host(settings: &EcrSettings, account: &str) -> String {
    match &settings.registry_domain {
        Some(domain) => format!("{account}.dkr.ecr.{}.{domain}", settings.region),
        None => settings.public_host.clone(),
    }
}

/// The base URL clients reach an account's registry at: `public_scheme://host`.
pub fn registry_url(settings: &EcrSettings, account: &str) -> String {
    format!(
        "{}://{}",
        settings.public_scheme,
        registry_host(settings, account)
    )
}

pub fn repository_json(settings: &EcrSettings, r: &RepositoryRecord) -> Value {
    let mut v = json!({
        "repositoryArn": repository_arn(settings, &r.account, &r.name),
        "registryId": r.account,
        "repositoryName": r.name,
        "repositoryUri": format!("{}/{}", registry_host(settings, &r.account), r.name),
        "createdAt": epoch(r.created_at),
        "imageTagMutability": r.settings.image_tag_mutability,
        "imageScanningConfiguration": { "scanOnPush": r.settings.scan_on_push },
        "encryptionConfiguration": { "encryptionType": r.settings.encryption_type },
    });
    if let Some(k) = &r.settings.kms_key {
        v["encryptionConfiguration"]["kmsKey"] = json!(k);
    }
    if !r.settings.mutability_exclusions.is_empty() {
        v["imageTagMutabilityExclusionFilters"] =
            exclusion_filters(&r.settings.mutability_exclusions);
    }
    v
}

pub fn exclusion_filters(filters: &[String]) -> Value {
    Value::Array(
        filters
            .iter()
            .map(|f| json!({ "filterType": "WILDCARD", "filter": f }))
            .collect(),
    )
}

/// Page tokens are opaque to clients: base64url of the last key returned.
pub fn encode_token(last: &str) -> String {
    URL_SAFE_NO_PAD.encode(last)
}

pub fn decode_token(token: &str) -> Result<String, EcrError> {
    URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(invalid_token)
}

/// ECR's answer to a page token it did not hand out.
pub fn invalid_token() -> EcrError {
    EcrError::invalid(
        "Invalid parameter at 'nextToken' failed to satisfy constraint: 'Invalid NextToken'",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(scheme: &str, domain: Option<&str>) -> EcrSettings {
        EcrSettings {
            region: "eu-west-1".into(),
            public_host: "registry.example.com:8443".into(),
            public_scheme: scheme.into(),
            registry_domain: domain.map(str::to_string),
            replication_regions: Vec::new(),
        }
    }

    #[test]
    fn registry_url_uses_the_public_scheme_and_host() {
        let s = settings("https", None);
        assert_eq!(
            registry_url(&s, "123456789012"),
            "https://registry.example.com:8443"
        );
        let s = settings("http", Some("wharf.internal"));
        assert_eq!(
            registry_url(&s, "123456789012"),
            "http://123456789012.dkr.ecr.eu-west-1.wharf.internal"
        );
    }
}
