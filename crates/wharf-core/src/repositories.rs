//! Repository management: create, describe, delete, settings, resource tags and policies.

use crate::{AccountId, CoreError, Registry, Repo};
use wharf_meta::{RepoSettings, RepositoryRecord};

/// ECR's limit of resource tags per repository.
pub const MAX_RESOURCE_TAGS: i64 = 50;

impl Registry {
    /// Creates a repository; `RepositoryAlreadyExists` if the name is taken.
    pub async fn create_repository(
        &self,
        repo: &Repo,
        settings: &RepoSettings,
        tags: &[(String, String)],
    ) -> Result<RepositoryRecord, CoreError> {
        if tags.len() as i64 > MAX_RESOURCE_TAGS {
            return Err(CoreError::TooManyTags);
        }
        let settings = &self.resolve_encryption(settings.clone()).await?;
        let created = self
            .meta
            .create_repository(repo.key(), settings, tags)
            .await?;
        self.forget_repo_authz(repo);
        created.ok_or(CoreError::RepositoryAlreadyExists)
    }

    /// Checks a KMS-encrypted repository's key with KMS before the repository exists, as ECR
    /// does, and stores the key's ARN. Without a `kmsKey` ECR uses the AWS-managed key
    /// `aws/ecr`; here that is the KMS key under the alias `alias/aws/ecr` at the configured
    /// endpoint.
    pub(crate) async fn resolve_encryption(
        &self,
        mut settings: RepoSettings,
    ) -> Result<RepoSettings, CoreError> {
        if matches!(settings.encryption_type.as_str(), "KMS" | "KMS_DSSE") {
            let key = settings
                .kms_key
                .clone()
                .unwrap_or_else(|| "alias/aws/ecr".to_string());
            settings.kms_key = Some(self.keys.check_kms_key(&key).await?);
        }
        Ok(settings)
    }

    /// A repository's record; `NameUnknown` if it does not exist.
    pub async fn repository(&self, repo: &Repo) -> Result<RepositoryRecord, CoreError> {
        self.meta
            .repository(repo.key())
            .await?
            .ok_or(CoreError::NameUnknown)
    }

    /// A page of an account's repositories after `last`.
    pub async fn repositories(
        &self,
        account: &AccountId,
        last: Option<&str>,
        limit: usize,
    ) -> Result<Vec<RepositoryRecord>, CoreError> {
        Ok(self
            .meta
            .repositories(account.as_str(), last, limit as i64)
            .await?)
    }

    /// Deletes a repository (and, with `force`, its images), returning what it was.
    pub async fn delete_repository(
        &self,
        repo: &Repo,
        force: bool,
    ) -> Result<RepositoryRecord, CoreError> {
        let record = self.repository(repo).await?;
        if !self.meta.delete_repository(repo.key(), force).await? {
            return Err(CoreError::RepositoryNotEmpty);
        }
        self.cache.flush();
        self.forget_repo_authz(repo);
        Ok(record)
    }

    pub async fn set_tag_mutability(
        &self,
        repo: &Repo,
        mutability: &str,
        exclusions: &[String],
    ) -> Result<(), CoreError> {
        Ok(self
            .meta
            .set_tag_mutability(repo.key(), mutability, exclusions)
            .await?)
    }

    pub async fn set_scan_on_push(&self, repo: &Repo, scan_on_push: bool) -> Result<(), CoreError> {
        Ok(self.meta.set_scan_on_push(repo.key(), scan_on_push).await?)
    }

    pub async fn repository_tags(&self, repo: &Repo) -> Result<Vec<(String, String)>, CoreError> {
        Ok(self.meta.repository_tags(repo.key()).await?)
    }

    pub async fn tag_repository(
        &self,
        repo: &Repo,
        tags: &[(String, String)],
    ) -> Result<(), CoreError> {
        let r = self
            .meta
            .tag_repository(repo.key(), tags, MAX_RESOURCE_TAGS)
            .await;
        self.forget_repo_authz(repo);
        Ok(r?)
    }

    pub async fn untag_repository(&self, repo: &Repo, keys: &[String]) -> Result<(), CoreError> {
        let r = self.meta.untag_repository(repo.key(), keys).await;
        self.forget_repo_authz(repo);
        Ok(r?)
    }

    /// The repository policy text; `RepositoryPolicyNotFound` when none is set.
    pub async fn repository_policy(&self, repo: &Repo) -> Result<String, CoreError> {
        self.meta
            .repository_policy(repo.key())
            .await?
            .ok_or(CoreError::RepositoryPolicyNotFound)
    }

    /// Sets the repository policy (already validated by the caller).
    pub async fn set_repository_policy(&self, repo: &Repo, policy: &str) -> Result<(), CoreError> {
        crate::authz::check_policy(policy, wharf_policy::PolicyKind::Resource)?;
        let r = self
            .meta
            .set_repository_policy(repo.key(), Some(policy))
            .await;
        self.forget_repo_authz(repo);
        Ok(r?)
    }

    /// Removes the repository policy, returning it.
    pub async fn delete_repository_policy(&self, repo: &Repo) -> Result<String, CoreError> {
        let text = self.repository_policy(repo).await?;
        self.meta.set_repository_policy(repo.key(), None).await?;
        self.forget_repo_authz(repo);
        Ok(text)
    }

    pub async fn registry_policy(&self, account: &AccountId) -> Result<String, CoreError> {
        self.meta
            .registry_policy(account.as_str())
            .await?
            .ok_or(CoreError::RegistryPolicyNotFound)
    }

    pub async fn put_registry_policy(
        &self,
        account: &AccountId,
        policy: &str,
    ) -> Result<(), CoreError> {
        crate::authz::check_policy(policy, wharf_policy::PolicyKind::Resource)?;
        let r = self
            .meta
            .put_registry_policy(account.as_str(), policy)
            .await;
        self.forget_registry_authz(account);
        Ok(r?)
    }

    pub async fn delete_registry_policy(&self, account: &AccountId) -> Result<String, CoreError> {
        let r = self.meta.delete_registry_policy(account.as_str()).await;
        self.forget_registry_authz(account);
        r?.ok_or(CoreError::RegistryPolicyNotFound)
    }
}
