//! The metadata database the settings name: SQLite at `<data-dir>/metadata.db` (readable only by
//! its owner: it holds access-key secrets) or a shared PostgreSQL database. Opening applies
//! migrations.

use super::{MetadataSettings, OpenError};
use std::path::Path;
use wharf_meta::MetaStore;

/// Opens the metadata store the settings name, applying migrations.
pub(crate) async fn open(
    settings: &MetadataSettings,
    data_dir: &Path,
) -> Result<MetaStore, OpenError> {
    match settings {
        MetadataSettings::Embedded => {
            let db = data_dir.join("metadata.db");
            let meta = MetaStore::open_sqlite(&db)
                .await
                .map_err(|source| OpenError::Sqlite {
                    dir: data_dir.to_path_buf(),
                    source,
                })?;
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o600))
                .map_err(|source| OpenError::Restrict { path: db, source })?;
            Ok(meta)
        }
        MetadataSettings::Postgres(url) => {
            MetaStore::open_postgres(url)
                .await
                .map_err(|source| OpenError::Postgres {
                    url: redact_url(url),
                    source,
                })
        }
    }
}

/// The URL with any password replaced by `***` (all of it when it has no scheme).
pub fn redact_url(url: &str) -> String {
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
