//! Registry scanning configuration: storing and validating it, and the effective configuration
//! of a repository (which rule applies, or the repository's own scan-on-push flag).

use super::{RegistryScanningConfiguration, RepositoryScanningConfiguration};
use crate::{AccountId, CoreError, Registry, Repo};

impl Registry {
    /// The stored configuration, or the default (BASIC, no rules).
    pub async fn registry_scanning_configuration(
        &self,
        _account: &AccountId,
    ) -> Result<RegistryScanningConfiguration, CoreError> {
        Err(CoreError::Internal("scanning is not built yet".into()))
    }

    /// Validates and replaces the configuration; answers what was stored.
    pub async fn put_registry_scanning_configuration(
        &self,
        _account: &AccountId,
        _config: RegistryScanningConfiguration,
    ) -> Result<RegistryScanningConfiguration, CoreError> {
        Err(CoreError::Internal("scanning is not built yet".into()))
    }

    /// The configuration in effect for one repository; `NameUnknown` when it does not exist.
    pub async fn repository_scanning_configuration(
        &self,
        _repo: &Repo,
    ) -> Result<RepositoryScanningConfiguration, CoreError> {
        Err(CoreError::Internal("scanning is not built yet".into()))
    }
}
