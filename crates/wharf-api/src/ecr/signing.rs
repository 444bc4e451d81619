//! Managed signing operations: PutSigningConfiguration, GetSigningConfiguration,
//! DeleteSigningConfiguration and DescribeImageSigningStatus. They act on the caller's registry;
//! the rules, profiles, jobs and signatures live in `wharf_core::signing` and `wharf-jobs`.

use super::images::ImageIdentifier;
use super::one_image::image_id_json;
use super::{Ctx, EcrError};
use serde::Deserialize;
use serde_json::{json, Value};
use wharf_core::signing::SigningConfiguration;
use wharf_core::Action;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutSigningConfiguration {
    signing_configuration: SigningConfiguration,
}

fn not_found(account: &wharf_core::AccountId) -> EcrError {
    EcrError::new(
        "SigningConfigurationNotFoundException",
        format!("The signing configuration for the registry with id '{account}' does not exist"),
    )
}

pub async fn put_signing_configuration(
    ctx: &Ctx<'_>,
    input: PutSigningConfiguration,
) -> Result<Value, EcrError> {
    let account = ctx.caller_account.clone();
    ctx.authorize_registry(Action::PutSigningConfiguration, &account)
        .await?;
    let config = input.signing_configuration;
    ctx.state
        .registry
        .put_signing_configuration(&account, &config)
        .await
        .map_err(|e| ctx.core_error_account(e, &account))?
        .map_err(EcrError::invalid)?;
    Ok(json!({ "signingConfiguration": config }))
}

pub async fn get_signing_configuration(ctx: &Ctx<'_>, _input: Value) -> Result<Value, EcrError> {
    let account = ctx.caller_account.clone();
    ctx.authorize_registry(Action::GetSigningConfiguration, &account)
        .await?;
    let config = ctx
        .state
        .registry
        .signing_configuration(&account)
        .await
        .map_err(|e| ctx.core_error_account(e, &account))?
        .ok_or_else(|| not_found(&account))?;
    Ok(json!({ "registryId": account.as_str(), "signingConfiguration": config }))
}

pub async fn delete_signing_configuration(ctx: &Ctx<'_>, _input: Value) -> Result<Value, EcrError> {
    let account = ctx.caller_account.clone();
    ctx.authorize_registry(Action::DeleteSigningConfiguration, &account)
        .await?;
    let config = ctx
        .state
        .registry
        .delete_signing_configuration(&account)
        .await
        .map_err(|e| ctx.core_error_account(e, &account))?
        .ok_or_else(|| not_found(&account))?;
    Ok(json!({ "registryId": account.as_str(), "signingConfiguration": config }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeImageSigningStatus {
    registry_id: Option<String>,
    repository_name: String,
    image_id: ImageIdentifier,
}

pub async fn describe_image_signing_status(
    ctx: &Ctx<'_>,
    input: DescribeImageSigningStatus,
) -> Result<Value, EcrError> {
    let (repo, image) = ctx
        .authorized_image(
            Action::DescribeImageSigningStatus,
            input.registry_id.as_deref(),
            &input.repository_name,
            &input.image_id,
        )
        .await?;
    let statuses = ctx
        .state
        .registry
        .signing_statuses(&repo, &image.digest)
        .await
        .map_err(|e| ctx.core_error(e, &repo))?;
    let statuses: Vec<Value> = statuses
        .iter()
        .map(|s| {
            let mut v = json!({ "signingProfileArn": s.profile_arn, "status": s.status });
            if let Some(code) = &s.failure_code {
                v["failureCode"] = json!(code);
            }
            if let Some(reason) = &s.failure_reason {
                v["failureReason"] = json!(reason);
            }
            v
        })
        .collect();
    Ok(json!({
        "repositoryName": repo.name.as_str(),
        "imageId": image_id_json(&image, &input.image_id),
        "registryId": repo.account.as_str(),
        "signingStatuses": statuses,
    }))
}
