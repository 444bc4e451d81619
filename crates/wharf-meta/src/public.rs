//! ECR Public: each account's public registry (its alias and registry catalog data) and the
//! catalog data of public repositories. A public repository itself is an ordinary repository row
//! with `public = 1` (`RepoSettings::public`). Nothing caches these tables, so their writes never
//! move the cache epoch.

use crate::{now, repos, MetaStore, RepoKey, Result};

/// An account's public registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicRegistry {
    pub account: String,
    /// The first path segment of the registry's repositories: `/v2/<alias>/<name>`.
    pub alias: String,
    pub display_name: String,
    pub description: String,
    /// The sha256 hex of the registry's logo image, if one was put.
    pub logo_digest: Option<String>,
    pub created_at: i64,
}

/// A public repository's catalog data: the text fields as a JSON object, and the logo's sha256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogData {
    pub data: String,
    pub logo_digest: Option<String>,
}

type RegistryRow = (String, String, String, String, Option<String>, i64);

const REGISTRY_SELECT: &str = "SELECT account_id, alias, display_name, description, logo_digest,
     created_at FROM public_registries";

fn registry(row: RegistryRow) -> PublicRegistry {
    let (account, alias, display_name, description, logo_digest, created_at) = row;
    PublicRegistry {
        account,
        alias,
        display_name,
        description,
        logo_digest,
        created_at,
    }
}

impl MetaStore {
    /// The account's public registry, created with `default_alias` on first use.
    pub async fn ensure_public_registry(
        &self,
        account: &str,
        default_alias: &str,
    ) -> Result<PublicRegistry> {
        if let Some(r) = self.public_registry(account).await? {
            return Ok(r);
        }
        sqlx::query(
            "INSERT INTO public_registries (account_id, alias, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (account_id) DO NOTHING",
        )
        .bind(account)
        .bind(default_alias)
        .bind(now())
        .execute(&self.writer)
        .await?;
        let row: RegistryRow = sqlx::query_as(&format!("{REGISTRY_SELECT} WHERE account_id = $1"))
            .bind(account)
            .fetch_one(&self.writer)
            .await?;
        Ok(registry(row))
    }

    /// The account's public registry, if it was ever used.
    pub async fn public_registry(&self, account: &str) -> Result<Option<PublicRegistry>> {
        let row: Option<RegistryRow> =
            sqlx::query_as(&format!("{REGISTRY_SELECT} WHERE account_id = $1"))
                .bind(account)
                .fetch_optional(&self.reader)
                .await?;
        Ok(row.map(registry))
    }

    /// Replaces the registry catalog data (the registry row must exist); `logo` is
    /// `(bytes, sha256 hex)` and, when `None`, keeps the current logo.
    pub async fn put_registry_catalog_data(
        &self,
        account: &str,
        display_name: &str,
        description: &str,
        logo: Option<(&[u8], &str)>,
    ) -> Result<()> {
        let (bytes, digest) = logo.unzip();
        sqlx::query(
            "UPDATE public_registries SET display_name = $2, description = $3,
                 logo = CASE WHEN $4 = 1 THEN $5 ELSE logo END,
                 logo_digest = CASE WHEN $4 = 1 THEN $6 ELSE logo_digest END
             WHERE account_id = $1",
        )
        .bind(account)
        .bind(display_name)
        .bind(description)
        .bind(bytes.is_some() as i64)
        .bind(bytes.map(<[u8]>::to_vec))
        .bind(digest)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Every public registry's alias.
    pub async fn public_aliases(&self) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT alias FROM public_registries")
            .fetch_all(&self.reader)
            .await?)
    }

    /// The account owning public repository `name` under `alias`: `None` unless the alias exists
    /// and the repository does and is public.
    pub async fn public_repository_account(
        &self,
        alias: &str,
        name: &str,
    ) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT r.account_id FROM public_registries p
             JOIN repositories r ON r.account_id = p.account_id
             WHERE p.alias = $1 AND r.name = $2 AND r.public = 1",
        )
        .bind(alias)
        .bind(name)
        .fetch_optional(&self.reader)
        .await?)
    }

    /// A repository's catalog data, if any was put.
    pub async fn catalog_data(&self, repo: RepoKey<'_>) -> Result<Option<CatalogData>> {
        let row: Option<(String, Option<String>)> = sqlx::query_as(
            "SELECT c.data, c.logo_digest FROM repository_catalog_data c
             JOIN repositories r ON r.id = c.repository_id
             WHERE r.account_id = $1 AND r.name = $2",
        )
        .bind(repo.account)
        .bind(repo.name)
        .fetch_optional(&self.reader)
        .await?;
        Ok(row.map(|(data, logo_digest)| CatalogData { data, logo_digest }))
    }

    /// Sets a repository's catalog data; `logo` as in [`Self::put_registry_catalog_data`].
    /// `RepositoryNotFound` if the repository does not exist.
    pub async fn put_catalog_data(
        &self,
        repo: RepoKey<'_>,
        data: &str,
        logo: Option<(&[u8], &str)>,
    ) -> Result<CatalogData> {
        let mut tx = self.begin_write_repo(repo).await?;
        let id = repos::existing_id(&mut tx, repo).await?;
        let (bytes, digest) = logo.unzip();
        sqlx::query(
            "INSERT INTO repository_catalog_data (repository_id, data, logo, logo_digest)
             VALUES ($1, $2, $4, $5)
             ON CONFLICT (repository_id) DO UPDATE SET data = excluded.data,
                 logo = CASE WHEN $3 = 1 THEN excluded.logo ELSE repository_catalog_data.logo END,
                 logo_digest = CASE WHEN $3 = 1 THEN excluded.logo_digest
                                    ELSE repository_catalog_data.logo_digest END",
        )
        .bind(id)
        .bind(data)
        .bind(bytes.is_some() as i64)
        .bind(bytes.map(<[u8]>::to_vec))
        .bind(digest)
        .execute(&mut *tx)
        .await?;
        let logo_digest: Option<String> = sqlx::query_scalar(
            "SELECT logo_digest FROM repository_catalog_data WHERE repository_id = $1",
        )
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(CatalogData {
            data: data.to_owned(),
            logo_digest,
        })
    }

    /// The bytes of a logo image (a registry's or a public repository's) by its sha256 hex.
    pub async fn catalog_logo(&self, digest: &str) -> Result<Option<Vec<u8>>> {
        let repo: Option<Option<Vec<u8>>> = sqlx::query_scalar(
            "SELECT c.logo FROM repository_catalog_data c
             JOIN repositories r ON r.id = c.repository_id
             WHERE c.logo_digest = $1 AND r.public = 1 LIMIT 1",
        )
        .bind(digest)
        .fetch_optional(&self.reader)
        .await?;
        if let Some(Some(bytes)) = repo {
            return Ok(Some(bytes));
        }
        let registry: Option<Option<Vec<u8>>> =
            sqlx::query_scalar("SELECT logo FROM public_registries WHERE logo_digest = $1 LIMIT 1")
                .bind(digest)
                .fetch_optional(&self.reader)
                .await?;
        Ok(registry.flatten())
    }
}
