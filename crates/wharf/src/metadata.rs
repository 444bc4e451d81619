//! The `[metadata]` settings: where the metadata database lives. The embedded default is SQLite
//! at `<data-dir>/metadata.db`; `url = "postgres://…"` (or `WHARF_METADATA_URL`) shares one
//! PostgreSQL database between any number of nodes.

use anyhow::{bail, Context};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use wharf_meta::MetaStore;

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

/// Where metadata lives.
#[derive(Clone, PartialEq, Eq)]
pub enum MetadataSettings {
    /// SQLite under the data directory.
    Embedded,
    /// A PostgreSQL URL (it may carry a password, so it never reaches logs).
    Postgres(String),
}

impl std::fmt::Debug for MetadataSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MetadataSettings::Embedded => f.write_str("Embedded"),
            MetadataSettings::Postgres(url) => write!(f, "Postgres({})", redact(url)),
        }
    }
}

/// The URL with any password replaced by `***`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "***".into();
    };
    let (authority, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{host}{tail}")
        }
        None => url.to_string(),
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

/// Opens the metadata store the settings name, applying migrations.
pub async fn open(settings: &MetadataSettings, data_dir: &Path) -> anyhow::Result<MetaStore> {
    match settings {
        MetadataSettings::Embedded => {
            let db: PathBuf = data_dir.join("metadata.db");
            let meta = MetaStore::open_sqlite(&db).await.with_context(|| {
                format!("opening metadata database under {}", data_dir.display())
            })?;
            // The database holds access-key secrets: only the owner may read it.
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o600))
                .with_context(|| format!("restricting {}", db.display()))?;
            Ok(meta)
        }
        MetadataSettings::Postgres(url) => MetaStore::open_postgres(url)
            .await
            .with_context(|| format!("connecting to PostgreSQL at {}", redact(url))),
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
