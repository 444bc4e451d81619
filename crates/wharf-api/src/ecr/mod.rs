//! The ECR control plane: the operations behind `AmazonEC2ContainerRegistry_V20150921.*`.
//!
//! The protocol (body limit, SigV4, the error envelope) is `aws_json`'s; this module validates the
//! body against botocore's ECR model and dispatches the closed `Operation` enum to one function
//! per operation, grouped by resource in the files beside this one. `Ctx` and some handlers are
//! shared with ECR Public (`ecr_public/`), whose data-plane operations have the same shapes.

use wharf_core::Action;
mod auth;
mod backfill;
mod error;
mod findings;
mod id_page;
pub(crate) mod images;
pub(crate) mod layers;
mod lifecycle;
mod one_image;
mod ops;
pub(crate) mod policies;
mod pull_exclusions;
mod pull_through;
mod registry;
mod replication;
pub(crate) mod repositories;
mod scanning;
mod signing;
pub(crate) mod wire;

pub use error::EcrError;
pub use wire::{registry_host, registry_url};

use crate::aws_json::{self, Call, Service};
use crate::AppState;
use wharf_core::Client;
use wharf_core::{Access, AccountId, CoreError, Principal, Repo, Resource};
use wharf_ecr_model::Operation;
use wharf_oci::RepoName;

/// What an operation needs: the shared state and who is calling.
pub struct Ctx<'a> {
    pub state: &'a AppState,
    pub principal: Principal,
    /// The caller's own account: the registry an operation acts on unless `registryId` says otherwise.
    pub caller_account: AccountId,
    pub client: Client,
    /// The service called: its IAM actions are `ecr:*` or `ecr-public:*`.
    pub service: Service,
}

impl Ctx<'_> {
    /// The registry an operation targets.
    pub fn account(&self, registry_id: Option<&str>) -> Result<AccountId, EcrError> {
        match registry_id {
            None => Ok(self.caller_account.clone()),
            Some(id) => id.parse().map_err(|_| {
                EcrError::invalid(format!(
                    "Invalid parameter at 'registryId' failed to satisfy constraint: 'must satisfy regular expression '[0-9]{{12}}'', value: '{id}'"
                ))
            }),
        }
    }

    /// The repository an operation targets.
    pub fn repo(&self, registry_id: Option<&str>, name: &str) -> Result<Repo, EcrError> {
        let account = self.account(registry_id)?;
        let name: RepoName = name.parse().map_err(|e| {
            EcrError::invalid(format!(
                "Invalid parameter at 'repositoryName' failed to satisfy constraint: '{e}'"
            ))
        })?;
        Ok(Repo::new(account, name))
    }

    /// The repository an ARN names (`arn:aws:ecr:<region>:<account>:repository/<name>`).
    pub fn repo_from_arn(&self, arn: &str) -> Result<Repo, EcrError> {
        let bad = || {
            EcrError::invalid(format!("Invalid parameter at 'resourceArn' failed to satisfy constraint: 'Invalid ARN {arn}'"))
        };
        let (account, name) = wharf_core::arn::Arn::ecr_repository(arn).ok_or_else(bad)?;
        self.repo(Some(account), name).map_err(|_| bad())
    }

    /// Fails with `RepositoryNotFoundException` unless the repository exists.
    pub async fn require_repo(
        &self,
        repo: &Repo,
    ) -> Result<wharf_core::model::RepositoryRecord, EcrError> {
        self.state
            .registry
            .repository(repo)
            .await
            .map_err(|e| self.core_error(e, repo))
    }

    /// The IAM action an operation's handler names (`ecr:X`) as the called service spells it:
    /// ECR Public's are `ecr-public:X`.
    fn iam_action(&self, action: Action) -> &'static str {
        match self.service {
            Service::EcrPublic => action.ecr_public(),
            _ => action.ecr(),
        }
    }

    fn access<'b>(&'b self, action: &'b str, resource: Resource<'b>) -> Access<'b> {
        Access {
            principal: &self.principal,
            action,
            resource,
            client: self.client,
            request_tags: &[],
        }
    }

    /// Authorizes an action on a repository, or answers `AccessDeniedException`.
    pub async fn authorize(&self, action: Action, repo: &Repo) -> Result<(), EcrError> {
        self.state
            .registry
            .authorize(&self.access(self.iam_action(action), Resource::Repository(repo)))
            .await
            .map_err(|e| self.core_error(e, repo))
    }

    /// Authorizes a registry-level action (`Resource: "*"` in ECR's terms).
    pub async fn authorize_registry(
        &self,
        action: Action,
        account: &AccountId,
    ) -> Result<(), EcrError> {
        self.state
            .registry
            .authorize(&self.access(self.iam_action(action), Resource::Registry(account)))
            .await
            .map_err(|e| self.core_error_account(e, account))
    }

    /// Authorizes `ecr:CreateRepository`, with the requested tags as `aws:RequestTag/…`.
    pub async fn authorize_create(
        &self,
        repo: &Repo,
        tags: &[(String, String)],
    ) -> Result<(), EcrError> {
        let action = self.iam_action(Action::CreateRepository);
        let mut access = self.access(action, Resource::Repository(repo));
        access.request_tags = tags;
        self.state
            .registry
            .authorize(&access)
            .await
            .map_err(|e| self.core_error(e, repo))
    }

    /// Whether an action is allowed, without failing (for filtering listings).
    pub async fn allowed(&self, action: Action, repo: &Repo) -> Result<bool, EcrError> {
        match self
            .state
            .registry
            .authorize(&self.access(self.iam_action(action), Resource::Repository(repo)))
            .await
        {
            Ok(()) => Ok(true),
            Err(CoreError::AccessDenied(_)) => Ok(false),
            Err(e) => Err(self.core_error(e, repo)),
        }
    }

    pub fn core_error(&self, e: CoreError, repo: &Repo) -> EcrError {
        EcrError::from_core(e, repo.account.as_str(), repo.name.as_str())
    }

    pub fn core_error_account(&self, e: CoreError, account: &AccountId) -> EcrError {
        EcrError::from_core(e, account.as_str(), "")
    }
}

/// The name of an ECR operation, if the model has it (for metrics and the audit trail).
pub fn operation_name(operation: &str) -> Option<&'static str> {
    let target = format!("{}{operation}", Service::Ecr.target_prefix());
    Operation::from_target(&target).map(|op| op.name())
}

/// Runs one authenticated ECR call: the operation must be in botocore's ECR model and its input
/// must satisfy the model's constraints (lengths, patterns, enums, list sizes), as in ECR.
pub async fn serve(state: &AppState, call: Call) -> Result<serde_json::Value, EcrError> {
    let ctx = Ctx {
        state,
        caller_account: call.caller_account,
        principal: call.principal,
        client: call.client,
        service: Service::Ecr,
    };
    let target = format!("{}{}", Service::Ecr.target_prefix(), call.operation);
    let Some(op) = Operation::from_target(&target) else {
        return Err(aws_json::unknown_operation(Service::Ecr, &call.operation));
    };
    let input = call.input;
    wharf_ecr_model::validate_input(op, &input)
        .map_err(|e| EcrError::new(e.code(), e.message().to_string()))?;
    tracing::debug!(operation = op.name(), principal = %ctx.principal.arn(), "ecr request");
    ops::dispatch(&ctx, op.name(), input).await
}
