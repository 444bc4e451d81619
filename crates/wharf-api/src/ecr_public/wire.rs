//! ECR Public's wire shapes: ARNs (`arn:aws:ecr-public::<account>:repository/<name>`, no
//! region), URIs under the registry alias (`<host>/<alias>/<name>`), repository, registry and
//! catalog data objects, and the input checks botocore's model states for them.

use crate::ecr::wire::{epoch, registry_host};
use crate::ecr::EcrError;
use crate::EcrSettings;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use wharf_core::model::{PublicRegistry, RepositoryRecord};

pub use wharf_core::arn::{public_registry as registry_arn, public_repository as repository_arn};

/// The `(account, repository name)` of `arn:aws:ecr-public::<account>:repository/<name>`.
pub fn parse_repository_arn(arn: &str) -> Option<(&str, &str)> {
    wharf_core::arn::Arn::public_repository(arn)
}

/// `<host>/<alias>`: where a public registry's repositories are pulled from.
pub fn registry_uri(settings: &EcrSettings, registry: &PublicRegistry) -> String {
    format!(
        "{}/{}",
        registry_host(settings, &registry.account),
        registry.alias
    )
}

pub fn repository_json(
    settings: &EcrSettings,
    registry: &PublicRegistry,
    r: &RepositoryRecord,
) -> Value {
    json!({
        "repositoryArn": repository_arn(&r.account, &r.name),
        "registryId": r.account,
        "repositoryName": r.name,
        "repositoryUri": format!("{}/{}", registry_uri(settings, registry), r.name),
        "createdAt": epoch(r.created_at),
    })
}

pub fn registry_json(settings: &EcrSettings, registry: &PublicRegistry) -> Value {
    json!({
        "registryId": registry.account,
        "registryArn": registry_arn(&registry.account),
        "registryUri": registry_uri(settings, registry),
        "verified": false,
        "aliases": [{
            "name": registry.alias,
            "status": "ACTIVE",
            "primaryRegistryAlias": true,
            "defaultRegistryAlias": true,
        }],
    })
}

/// Where logo images are served; the sha256 hex follows.
pub const LOGO_PATH: &str = "/ecr-public/logos/";

/// The URL a logo image is served at (`GET /ecr-public/logos/<sha256 hex>`, no credentials).
pub fn logo_url(settings: &EcrSettings, digest: &str) -> String {
    format!(
        "{}://{}{}{digest}",
        settings.public_scheme, settings.public_host, LOGO_PATH
    )
}

/// The stored text fields of a repository's catalog data (the logo is stored beside them).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogText {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub architectures: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operating_systems: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub about_text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage_text: Option<String>,
}

/// `RepositoryCatalogData` as the API answers it.
pub fn catalog_json(settings: &EcrSettings, text: &CatalogText, logo: Option<&str>) -> Value {
    let mut v = serde_json::to_value(text).unwrap_or_else(|_| json!({}));
    v["marketplaceCertified"] = json!(false);
    if let Some(d) = logo {
        v["logoUrl"] = json!(logo_url(settings, d));
    }
    v
}

/// Checks a string member's length as the model bounds it.
pub fn check_len(field: &str, value: &str, min: usize, max: usize) -> Result<(), EcrError> {
    let n = value.chars().count();
    if n < min || n > max {
        return Err(EcrError::invalid(format!(
            "1 validation error detected: Value at '{field}' failed to satisfy constraint: Member must have length between {min} and {max}"
        )));
    }
    Ok(())
}

/// `maxResults`: 1 to 1000 in every ECR Public operation that pages.
pub fn check_max_results(max: Option<usize>) -> Result<usize, EcrError> {
    match max {
        None => Ok(100),
        Some(n) if (1..=1000).contains(&n) => Ok(n),
        Some(n) => Err(EcrError::invalid(format!(
            "1 validation error detected: Value '{n}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 1000"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> EcrSettings {
        EcrSettings {
            region: "us-east-1".into(),
            public_host: "registry.example.com:5000".into(),
            public_scheme: "https".into(),
            registry_domain: None,
            replication_regions: Vec::new(),
        }
    }

    fn registry() -> PublicRegistry {
        PublicRegistry {
            account: "123456789012".into(),
            alias: "wharf-123456789012".into(),
            display_name: String::new(),
            description: String::new(),
            logo_digest: None,
            created_at: 0,
        }
    }

    #[test]
    fn uris_live_under_the_alias() {
        let r = RepositoryRecord {
            id: 1,
            account: "123456789012".into(),
            name: "team/app".into(),
            created_at: 7,
            settings: Default::default(),
        };
        let v = repository_json(&settings(), &registry(), &r);
        assert_eq!(
            v["repositoryUri"],
            "registry.example.com:5000/wharf-123456789012/team/app"
        );
        assert_eq!(
            v["repositoryArn"],
            "arn:aws:ecr-public::123456789012:repository/team/app"
        );
        let reg = registry_json(&settings(), &registry());
        assert_eq!(reg["aliases"][0]["name"], "wharf-123456789012");
        assert_eq!(
            reg["registryUri"],
            "registry.example.com:5000/wharf-123456789012"
        );
    }

    #[test]
    fn catalog_json_names_the_logo_url() {
        let text = CatalogText {
            description: Some("d".into()),
            ..Default::default()
        };
        let v = catalog_json(&settings(), &text, Some("ab"));
        assert_eq!(v["description"], "d");
        assert_eq!(
            v["logoUrl"],
            "https://registry.example.com:5000/ecr-public/logos/ab"
        );
        assert!(v.get("aboutText").is_none());
    }

    #[test]
    fn repository_arns_parse_back() {
        let arn = repository_arn("123456789012", "team/app");
        assert_eq!(
            parse_repository_arn(&arn),
            Some(("123456789012", "team/app"))
        );
        assert_eq!(
            parse_repository_arn("arn:aws:ecr:us-east-1:123456789012:repository/app"),
            None
        );
        assert_eq!(
            parse_repository_arn("arn:aws:ecr-public::123456789012:registry/x"),
            None
        );
        assert_eq!(parse_repository_arn("not-an-arn"), None);
    }

    #[test]
    fn bounds_are_checked() {
        assert!(check_len("repositoryName", "a", 2, 205).is_err());
        assert!(check_len("repositoryName", "ab", 2, 205).is_ok());
        assert_eq!(check_max_results(None).unwrap(), 100);
        assert!(check_max_results(Some(0)).is_err());
        assert!(check_max_results(Some(1001)).is_err());
    }
}
