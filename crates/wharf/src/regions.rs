//! `[regions.<name>]`: the other regions' Wharf deployments replication may copy images to —
//! endpoint, access key and, optionally, that Wharf's `registry_domain`. From the environment:
//! `WHARF_REGIONS=eu-west-1,ap-south-1` names them, and `WHARF_REGIONS_<NAME>_ENDPOINT`,
//! `_ACCESS_KEY_ID`, `_SECRET_ACCESS_KEY`, `_REGISTRY_DOMAIN` set each (NAME upper-cased, `-`
//! as `_`); environment values win over the file's, field by field.

use anyhow::bail;
use serde::Deserialize;
use std::collections::BTreeMap;

/// One `[regions.<name>]` table as written.
#[derive(Default, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawRegion {
    pub endpoint: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub registry_domain: Option<String>,
}

impl std::fmt::Debug for RawRegion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawRegion")
            .field("endpoint", &self.endpoint)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "<redacted>"),
            )
            .field("registry_domain", &self.registry_domain)
            .finish()
    }
}

impl RawRegion {
    fn merge(self, over: RawRegion) -> RawRegion {
        RawRegion {
            endpoint: over.endpoint.or(self.endpoint),
            access_key_id: over.access_key_id.or(self.access_key_id),
            secret_access_key: over.secret_access_key.or(self.secret_access_key),
            registry_domain: over.registry_domain.or(self.registry_domain),
        }
    }
}

/// The regions named by `WHARF_REGIONS`, read through `get`.
pub fn from_env(get: &impl Fn(&str) -> Option<String>) -> BTreeMap<String, RawRegion> {
    let mut out = BTreeMap::new();
    let names = get("WHARF_REGIONS").unwrap_or_default();
    for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let key = name.to_ascii_uppercase().replace('-', "_");
        let var = |field: &str| get(&format!("WHARF_REGIONS_{key}_{field}"));
        out.insert(
            name.to_string(),
            RawRegion {
                endpoint: var("ENDPOINT"),
                access_key_id: var("ACCESS_KEY_ID"),
                secret_access_key: var("SECRET_ACCESS_KEY"),
                registry_domain: var("REGISTRY_DOMAIN"),
            },
        );
    }
    out
}

/// `over`'s regions layered on `base`'s, field by field.
pub fn merge(
    mut base: BTreeMap<String, RawRegion>,
    over: BTreeMap<String, RawRegion>,
) -> BTreeMap<String, RawRegion> {
    for (name, r) in over {
        let merged = base.remove(&name).unwrap_or_default().merge(r);
        base.insert(name, merged);
    }
    base
}

/// Checks every region into a `RegionEndpoint`; not the node's own region.
pub fn settle(
    raw: BTreeMap<String, RawRegion>,
    own_region: &str,
) -> anyhow::Result<Vec<wharf_replicate::RegionEndpoint>> {
    let mut out = Vec::new();
    for (name, r) in raw {
        let name_ok = (2..=25).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !name_ok {
            bail!("[regions.{name}]: a region name is 2 to 25 of a-z, 0-9 and -");
        }
        if name == own_region {
            bail!("[regions.{name}] is this node's own region; replication to other accounts here needs no endpoint");
        }
        let need = |v: Option<String>, field: &str| match v.filter(|v| !v.is_empty()) {
            Some(v) => Ok(v),
            None => bail!("[regions.{name}] needs {field}"),
        };
        let endpoint = need(r.endpoint, "endpoint")?;
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            bail!("[regions.{name}] endpoint = {endpoint:?} must be an http:// or https:// URL");
        }
        out.push(wharf_replicate::RegionEndpoint {
            endpoint,
            access_key_id: need(r.access_key_id, "access_key_id")?,
            secret_access_key: need(r.secret_access_key, "secret_access_key")?,
            registry_domain: r.registry_domain.filter(|d| !d.is_empty()),
            name,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_names_regions_and_overrides_the_file_field_by_field() {
        let file: BTreeMap<String, RawRegion> = toml::from_str::<BTreeMap<String, RawRegion>>(
            "[eu-west-1]\nendpoint = \"http://eu:5000\"\naccess_key_id = \"AKIDFILE\"\nsecret_access_key = \"s1\"\n",
        )
        .unwrap();
        let env = |k: &str| match k {
            "WHARF_REGIONS" => Some("eu-west-1, ap-south-1".to_string()),
            "WHARF_REGIONS_EU_WEST_1_ACCESS_KEY_ID" => Some("AKIDENV".to_string()),
            "WHARF_REGIONS_AP_SOUTH_1_ENDPOINT" => Some("https://ap:443".to_string()),
            "WHARF_REGIONS_AP_SOUTH_1_ACCESS_KEY_ID" => Some("AK2".to_string()),
            "WHARF_REGIONS_AP_SOUTH_1_SECRET_ACCESS_KEY" => Some("s2".to_string()),
            _ => None,
        };
        let regions = settle(merge(file, from_env(&env)), "us-east-1").unwrap();
        assert_eq!(regions.len(), 2);
        assert_eq!(regions[0].name, "ap-south-1");
        assert_eq!(regions[1].name, "eu-west-1");
        assert_eq!(regions[1].endpoint, "http://eu:5000");
        assert_eq!(regions[1].access_key_id, "AKIDENV");
        assert_eq!(regions[1].secret_access_key, "s1");
        assert!(!format!("{:?}", regions[1]).contains("s1"));
    }

    #[test]
    fn bad_regions_are_refused_with_their_name() {
        let one = |r: RawRegion, name: &str| {
            settle(BTreeMap::from([(name.to_string(), r)]), "us-east-1")
                .unwrap_err()
                .to_string()
        };
        let full = RawRegion {
            endpoint: Some("http://x:1".into()),
            access_key_id: Some("a".into()),
            secret_access_key: Some("s".into()),
            registry_domain: None,
        };
        assert!(one(full.clone(), "us-east-1").contains("own region"));
        assert!(one(full.clone(), "EU").contains("region name"));
        let e = one(
            RawRegion {
                secret_access_key: None,
                ..full.clone()
            },
            "eu-west-1",
        );
        assert!(e.contains("secret_access_key"), "{e}");
        let e = one(
            RawRegion {
                endpoint: Some("ftp://x".into()),
                ..full
            },
            "eu-west-1",
        );
        assert!(e.contains("http://"), "{e}");
    }
}
