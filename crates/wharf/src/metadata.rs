//! The `[metadata]` settings: where the metadata database lives. The embedded default is SQLite
//! at `<data-dir>/metadata.db`; `url = "postgres://…"` (or `WHARF_METADATA_URL`) shares one
//! PostgreSQL database between any number of nodes. Validated into wharf-core's
//! `MetadataSettings`, which opens it.

use anyhow::bail;
use serde::Deserialize;
use wharf_core::stores::redact_url as redact;
pub use wharf_core::stores::MetadataSettings;

/// The raw `[metadata]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMetadata {
    pub url: Option<String>,
}

impl RawMetadata {
    pub fn from_env(get: &impl Fn(&str) -> Option<String>) -> RawMetadata {
        RawMetadata {
            url: get("WHARF_METADATA_URL").filter(|v| !v.trim().is_empty()),
        }
    }

    pub fn merge(self, over: RawMetadata) -> RawMetadata {
        RawMetadata {
            url: over.url.or(self.url),
        }
    }
}

impl TryFrom<RawMetadata> for MetadataSettings {
    type Error = anyhow::Error;

    fn try_from(raw: RawMetadata) -> anyhow::Result<MetadataSettings> {
        match raw.url.as_deref().map(str::trim) {
            None | Some("") | Some("sqlite") => Ok(MetadataSettings::Embedded),
            Some(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") => {
                Ok(MetadataSettings::Postgres(u.to_string()))
            }
            Some(u) => bail!(
                "metadata.url = {:?} must be a postgres:// URL (leave it out for SQLite under the data directory)",
                redact(u)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        let s = MetadataSettings::try_from(RawMetadata {
            url: Some("postgres://wharf:s3cret@db.internal:5432/wharf?sslmode=require".into()),
        })
        .unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(
            shown.contains("wharf:***@db.internal:5432/wharf"),
            "{shown}"
        );
    }

    #[test]
    fn embedded_unless_postgres() {
        let s = MetadataSettings::try_from(RawMetadata::default()).unwrap();
        assert_eq!(s, MetadataSettings::Embedded);
        let err = MetadataSettings::try_from(RawMetadata {
            url: Some("mysql://root:pw@h/db".into()),
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("postgres://") && !err.contains("pw@"), "{err}");
        let env = |k: &str| (k == "WHARF_METADATA_URL").then(|| "postgres://h/db".to_string());
        let raw = RawMetadata::default().merge(RawMetadata::from_env(&env));
        assert_eq!(
            MetadataSettings::try_from(raw).unwrap(),
            MetadataSettings::Postgres("postgres://h/db".into())
        );
    }
}
