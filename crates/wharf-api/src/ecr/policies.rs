//! Repository and registry policies: Set/Get/DeleteRepositoryPolicy and
//! Put/Get/DeleteRegistryPolicy, validated as IAM resource policies.

use super::{Ctx, EcrError};
use serde::Deserialize;
use serde_json::{json, Value};
use wharf_core::Action;
use wharf_policy::{PolicyDocument, PolicyKind};

fn validate(text: &str, what: &str) -> Result<(), EcrError> {
    PolicyDocument::parse(text, PolicyKind::Resource).map(|_| ()).map_err(|e| {
        EcrError::invalid(format!(
            "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid {what} policy provided: {e}'"
        ))
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetRepositoryPolicy {
    registry_id: Option<String>,
    repository_name: String,
    policy_text: String,
    #[serde(default)]
    force: bool,
}

pub async fn set_repository_policy(
    ctx: &Ctx<'_>,
    input: SetRepositoryPolicy,
) -> Result<Value, EcrError> {
    let repo = ctx.repo(input.registry_id.as_deref(), &input.repository_name)?;
    ctx.authorize(Action::SetRepositoryPolicy, &repo).await?;
    validate(&input.policy_text, "repository")?;
    // `force` skips ECR's lock-out check; Wharf has none to skip (the account's identity policies
    // always keep their own access), so it is accepted and has no further effect.
    let _ = input.force;
    ctx.state
        .registry
        .set_repository_policy(&repo, &input.policy_text)
        .await
        .map_err(|e| ctx.core_error(e, &repo))?;
    Ok(
        json!({ "registryId": repo.account.as_str(), "repositoryName": repo.name.as_str(), "policyText": input.policy_text }),
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryPolicyRequest {
    registry_id: Option<String>,
    repository_name: String,
}

pub async fn get_repository_policy(
    ctx: &Ctx<'_>,
    input: RepositoryPolicyRequest,
) -> Result<Value, EcrError> {
    let repo = ctx.repo(input.registry_id.as_deref(), &input.repository_name)?;
    ctx.authorize(Action::GetRepositoryPolicy, &repo).await?;
    let text = ctx
        .state
        .registry
        .repository_policy(&repo)
        .await
        .map_err(|e| ctx.core_error(e, &repo))?;
    Ok(
        json!({ "registryId": repo.account.as_str(), "repositoryName": repo.name.as_str(), "policyText": text }),
    )
}

pub async fn delete_repository_policy(
    ctx: &Ctx<'_>,
    input: RepositoryPolicyRequest,
) -> Result<Value, EcrError> {
    let repo = ctx.repo(input.registry_id.as_deref(), &input.repository_name)?;
    ctx.authorize(Action::DeleteRepositoryPolicy, &repo).await?;
    let text = ctx
        .state
        .registry
        .delete_repository_policy(&repo)
        .await
        .map_err(|e| ctx.core_error(e, &repo))?;
    Ok(
        json!({ "registryId": repo.account.as_str(), "repositoryName": repo.name.as_str(), "policyText": text }),
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutRegistryPolicy {
    policy_text: String,
}

pub async fn put_registry_policy(
    ctx: &Ctx<'_>,
    input: PutRegistryPolicy,
) -> Result<Value, EcrError> {
    let account = ctx.caller_account.clone();
    ctx.authorize_registry(Action::PutRegistryPolicy, &account)
        .await?;
    validate(&input.policy_text, "registry")?;
    ctx.state
        .registry
        .put_registry_policy(&account, &input.policy_text)
        .await
        .map_err(|e| ctx.core_error_account(e, &account))?;
    Ok(json!({ "registryId": account.as_str(), "policyText": input.policy_text }))
}

pub async fn get_registry_policy(ctx: &Ctx<'_>, _input: Value) -> Result<Value, EcrError> {
    let account = ctx.caller_account.clone();
    ctx.authorize_registry(Action::GetRegistryPolicy, &account)
        .await?;
    let text = ctx
        .state
        .registry
        .registry_policy(&account)
        .await
        .map_err(|e| ctx.core_error_account(e, &account))?;
    Ok(json!({ "registryId": account.as_str(), "policyText": text }))
}

pub async fn delete_registry_policy(ctx: &Ctx<'_>, _input: Value) -> Result<Value, EcrError> {
    let account = ctx.caller_account.clone();
    ctx.authorize_registry(Action::DeleteRegistryPolicy, &account)
        .await?;
    let text = ctx
        .state
        .registry
        .delete_registry_policy(&account)
        .await
        .map_err(|e| ctx.core_error_account(e, &account))?;
    Ok(json!({ "registryId": account.as_str(), "policyText": text }))
}
