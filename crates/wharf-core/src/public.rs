//! ECR Public: an account's public registry (alias and registry catalog data), public
//! repositories (ordinary repositories with the `public` marker) and their catalog data.
//!
//! Public repositories are served at `/v2/<alias>/<name>`: [`Registry::public_repository_by_path`]
//! resolves such a path, and only a repository marked public is ever found through an alias.

use crate::{AccountId, CoreError, Registry, Repo};
use sha2::{Digest as _, Sha256};
use std::sync::Arc;
use wharf_meta::{CatalogData, PublicRegistry, RepositoryRecord};

/// The alias an account's public registry gets on first use: `wharf-<account id>`. It satisfies
/// ECR Public's alias grammar (`[a-z][a-z0-9]+(?:[._-][a-z0-9]+)*`, 2 to 50 characters) and is
/// unique because account ids are.
pub fn default_public_alias(account: &AccountId) -> String {
    format!("wharf-{}", account.as_str())
}

/// The sha256 hex of a logo image: the key its `logoUrl` names.
pub fn logo_digest(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl Registry {
    /// The account's public registry, created with its default alias on first use.
    pub async fn public_registry(&self, account: &AccountId) -> Result<PublicRegistry, CoreError> {
        if let Some(r) = self.meta.public_registry(account.as_str()).await? {
            return Ok(r);
        }
        let created = self
            .meta
            .ensure_public_registry(account.as_str(), &default_public_alias(account))
            .await;
        self.public_aliases.forget();
        Ok(created?)
    }

    /// Replaces the registry catalog data; a `logo` of `None` keeps the current one.
    pub async fn put_registry_catalog_data(
        &self,
        account: &AccountId,
        display_name: &str,
        description: &str,
        logo: Option<&[u8]>,
    ) -> Result<PublicRegistry, CoreError> {
        self.public_registry(account).await?;
        let digest = logo.map(logo_digest);
        self.meta
            .put_registry_catalog_data(
                account.as_str(),
                display_name,
                description,
                logo.zip(digest.as_deref()),
            )
            .await?;
        self.public_registry(account).await
    }

    /// A public repository's record; `NameUnknown` if it does not exist or is not public.
    pub async fn public_repository(&self, repo: &Repo) -> Result<RepositoryRecord, CoreError> {
        let record = self.repository(repo).await?;
        if !record.settings.public {
            return Err(CoreError::NameUnknown);
        }
        Ok(record)
    }

    /// Resolves a `/v2/` repository path `<alias>/<name>` to the public repository it names, if
    /// the alias is a registry's and `<name>` one of its public repositories.
    pub async fn public_repository_by_path(&self, path: &str) -> Result<Option<Repo>, CoreError> {
        let Some((alias, name)) = path.split_once('/') else {
            return Ok(None);
        };
        let aliases = match self.public_aliases.current() {
            Some(set) => set,
            None => {
                let token = self.public_aliases.begin_load();
                let set = Arc::new(self.meta.public_aliases().await?.into_iter().collect());
                self.public_aliases.store(token, Arc::clone(&set));
                set
            }
        };
        if !aliases.contains(alias) {
            return Ok(None);
        }
        let Some(account) = self.meta.public_repository_account(alias, name).await? else {
            return Ok(None);
        };
        let (Ok(account), Ok(name)) = (account.parse::<AccountId>(), name.parse()) else {
            return Ok(None);
        };
        Ok(Some(Repo::new(account, name)))
    }

    /// A public repository's catalog data, if any was put.
    pub async fn catalog_data(&self, repo: &Repo) -> Result<Option<CatalogData>, CoreError> {
        Ok(self.meta.catalog_data(repo.key()).await?)
    }

    /// Sets a repository's catalog data (its text fields as JSON); a `logo` of `None` keeps
    /// the current one.
    pub async fn put_catalog_data(
        &self,
        repo: &Repo,
        data: &str,
        logo: Option<&[u8]>,
    ) -> Result<CatalogData, CoreError> {
        let digest = logo.map(logo_digest);
        Ok(self
            .meta
            .put_catalog_data(repo.key(), data, logo.zip(digest.as_deref()))
            .await?)
    }

    /// A logo image by its sha256 hex (a public repository's or a registry's).
    pub async fn catalog_logo(&self, digest: &str) -> Result<Option<Vec<u8>>, CoreError> {
        Ok(self.meta.catalog_logo(digest).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_alias_fits_the_alias_grammar() {
        let account: AccountId = "123456789012".parse().unwrap();
        let alias = default_public_alias(&account);
        assert_eq!(alias, "wharf-123456789012");
        let re = regex_lite(&alias);
        assert!(re, "{alias}");
    }

    /// `[a-z][a-z0-9]+(?:[._-][a-z0-9]+)*`, checked by hand (no regex dependency here).
    fn regex_lite(s: &str) -> bool {
        let mut parts = s.split(['.', '_', '-']);
        let first = parts.next().unwrap_or("");
        let alnum = |p: &str| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        };
        first.len() >= 2
            && first.as_bytes()[0].is_ascii_lowercase()
            && alnum(first)
            && parts.all(alnum)
            && (2..=50).contains(&s.len())
    }

    #[test]
    fn logo_digest_is_sha256_hex() {
        assert_eq!(
            logo_digest(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
