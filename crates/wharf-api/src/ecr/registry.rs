//! Registry-level operations: DescribeRegistry (with the replication configuration), Get/PutAccountSetting and repository creation
//! templates.

use super::repositories::{mutability, EncryptionConfiguration, ExclusionFilter, ResourceTag};
use super::wire::{epoch, exclusion_filters};
use super::{Ctx, EcrError};
use serde::Deserialize;
use serde_json::{json, Value};
use wharf_core::model::TemplateRecord;
use wharf_core::Action;
use wharf_core::{AccountSetting, ACCOUNT_SETTINGS};

pub async fn describe_registry(ctx: &Ctx<'_>, _input: Value) -> Result<Value, EcrError> {
    let account = ctx.caller_account.clone();
    ctx.authorize_registry(Action::DescribeRegistry, &account)
        .await?;
    let replication = super::replication::configuration_json(ctx, &account).await?;
    Ok(json!({ "registryId": account.as_str(), "replicationConfiguration": replication }))
}

fn setting(name: &str) -> Result<&'static AccountSetting, EcrError> {
    AccountSetting::named(name).ok_or_else(|| {
        EcrError::invalid(format!(
            "Invalid parameter at 'name' failed to satisfy constraint: 'Member must satisfy enum value set: [{}]'",
            ACCOUNT_SETTINGS.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
        ))
    })
}

#[derive(Deserialize)]
pub struct GetAccountSetting {
    name: String,
}

pub async fn get_account_setting(
    ctx: &Ctx<'_>,
    input: GetAccountSetting,
) -> Result<Value, EcrError> {
    let account = ctx.caller_account.clone();
    ctx.authorize_registry(Action::GetAccountSetting, &account)
        .await?;
    let setting = setting(&input.name)?;
    let value = ctx
        .state
        .registry
        .account_setting(&account, setting)
        .await
        .map_err(|e| ctx.core_error_account(e, &account))?;
    Ok(json!({ "name": setting.name, "value": value }))
}

#[derive(Deserialize)]
pub struct PutAccountSetting {
    name: String,
    value: String,
}

pub async fn put_account_setting(
    ctx: &Ctx<'_>,
    input: PutAccountSetting,
) -> Result<Value, EcrError> {
    let account = ctx.caller_account.clone();
    ctx.authorize_registry(Action::PutAccountSetting, &account)
        .await?;
    let setting = setting(&input.name)?;
    if !setting.values.contains(&input.value.as_str()) {
        return Err(EcrError::invalid(format!(
            "Invalid parameter at 'value' failed to satisfy constraint: 'Member must satisfy enum value set: [{}]'",
            setting.values.join(", ")
        )));
    }
    ctx.state
        .registry
        .put_account_setting(&account, setting, &input.value)
        .await
        .map_err(|e| ctx.core_error_account(e, &account))?;
    Ok(json!({ "name": setting.name, "value": input.value }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateInput {
    prefix: String,
    description: Option<String>,
    encryption_configuration: Option<EncryptionConfiguration>,
    resource_tags: Option<Vec<ResourceTag>>,
    image_tag_mutability: Option<String>,
    image_tag_mutability_exclusion_filters: Option<Vec<ExclusionFilter>>,
    repository_policy: Option<String>,
    lifecycle_policy: Option<String>,
    applied_for: Option<Vec<String>>,
    custom_role_arn: Option<String>,
}

fn check_prefix(prefix: &str) -> Result<(), EcrError> {
    let ok = prefix == "ROOT"
        || prefix
            .trim_end_matches('/')
            .parse::<wharf_oci::RepoName>()
            .is_ok();
    if ok {
        Ok(())
    } else {
        Err(EcrError::invalid(format!(
            "Invalid parameter at 'prefix' failed to satisfy constraint: 'must be ROOT or a repository name prefix', value: '{prefix}'"
        )))
    }
}

/// The stored template body: the ECR shape without prefix and times.
fn body(input: TemplateInput, previous: Option<&Value>) -> Result<Value, EcrError> {
    let mut b = previous.cloned().unwrap_or_else(|| json!({}));
    if let Some(d) = input.description {
        b["description"] = json!(d);
    }
    if let Some(e) = input.encryption_configuration {
        b["encryptionConfiguration"] =
            json!({ "encryptionType": e.encryption_type, "kmsKey": e.kms_key });
    }
    if let Some(tags) = input.resource_tags {
        b["resourceTags"] = Value::Array(
            tags.into_iter()
                .map(|t| json!({ "Key": t.key, "Value": t.value }))
                .collect(),
        );
    }
    if input.image_tag_mutability.is_some()
        || input.image_tag_mutability_exclusion_filters.is_some()
    {
        let (m, filters) = mutability(
            input.image_tag_mutability,
            input.image_tag_mutability_exclusion_filters,
        )?;
        b["imageTagMutability"] = json!(m);
        b["imageTagMutabilityExclusionFilters"] = exclusion_filters(&filters);
    }
    if let Some(p) = input.repository_policy {
        if !p.is_empty() {
            wharf_policy::PolicyDocument::parse(&p, wharf_policy::PolicyKind::Resource).map_err(|e| {
                EcrError::invalid(format!("Invalid parameter at 'repositoryPolicy' failed to satisfy constraint: '{e}'"))
            })?;
        }
        b["repositoryPolicy"] = json!(p);
    }
    if let Some(p) = input.lifecycle_policy {
        if !p.is_empty() {
            wharf_core::LifecyclePolicy::parse(&p).map_err(|e| EcrError::invalid(e.message()))?;
        }
        b["lifecyclePolicy"] = json!(p);
    }
    if let Some(a) = input.applied_for {
        b["appliedFor"] = json!(a);
    }
    if let Some(r) = input.custom_role_arn {
        b["customRoleArn"] = json!(r);
    }
    Ok(b)
}

fn template_json(t: &TemplateRecord) -> Value {
    let mut v: Value = serde_json::from_str(&t.body).unwrap_or_else(|_| json!({}));
    v["prefix"] = json!(t.prefix);
    v["createdAt"] = epoch(t.created_at);
    v["updatedAt"] = epoch(t.updated_at);
    if v.get("imageTagMutability").is_none() {
        v["imageTagMutability"] = json!("MUTABLE");
    }
    if v.get("encryptionConfiguration").is_none() {
        v["encryptionConfiguration"] = json!({ "encryptionType": "AES256" });
    }
    v
}

/// The stored template with `prefix`, as the create and update operations answer it.
async fn stored_template(
    ctx: &Ctx<'_>,
    account: &wharf_core::AccountId,
    prefix: &str,
) -> Result<Value, EcrError> {
    let templates = ctx
        .state
        .registry
        .templates(account)
        .await
        .map_err(|e| ctx.core_error_account(e, account))?;
    let t = templates
        .iter()
        .find(|t| t.prefix == prefix)
        .ok_or_else(EcrError::server)?;
    Ok(json!({ "registryId": account.as_str(), "repositoryCreationTemplate": template_json(t) }))
}

pub async fn create_template(ctx: &Ctx<'_>, input: TemplateInput) -> Result<Value, EcrError> {
    let account = ctx.caller_account.clone();
    ctx.authorize_registry(Action::CreateRepositoryCreationTemplate, &account)
        .await?;
    check_prefix(&input.prefix)?;
    if input.applied_for.as_ref().is_none_or(|a| a.is_empty()) {
        return Err(EcrError::invalid("Invalid parameter at 'appliedFor' failed to satisfy constraint: 'Member must not be null'"));
    }
    let prefix = input.prefix.clone();
    let b = body(input, None)?;
    ctx.state
        .registry
        .create_template(&account, &prefix, &b)
        .await
        .map_err(|e| ctx.core_error_account(e, &account))?;
    stored_template(ctx, &account, &prefix).await
}

pub async fn update_template(ctx: &Ctx<'_>, input: TemplateInput) -> Result<Value, EcrError> {
    let account = ctx.caller_account.clone();
    ctx.authorize_registry(Action::UpdateRepositoryCreationTemplate, &account)
        .await?;
    check_prefix(&input.prefix)?;
    let prefix = input.prefix.clone();
    let templates = ctx
        .state
        .registry
        .templates(&account)
        .await
        .map_err(|e| ctx.core_error_account(e, &account))?;
    let Some(existing) = templates.iter().find(|t| t.prefix == prefix) else {
        return Err(ctx.core_error_account(wharf_core::CoreError::TemplateNotFound, &account));
    };
    let previous: Value = serde_json::from_str(&existing.body).unwrap_or_else(|_| json!({}));
    let b = body(input, Some(&previous))?;
    ctx.state
        .registry
        .update_template(&account, &prefix, &b)
        .await
        .map_err(|e| ctx.core_error_account(e, &account))?;
    stored_template(ctx, &account, &prefix).await
}

#[derive(Deserialize)]
pub struct DeleteTemplate {
    prefix: String,
}

pub async fn delete_template(ctx: &Ctx<'_>, input: DeleteTemplate) -> Result<Value, EcrError> {
    let account = ctx.caller_account.clone();
    ctx.authorize_registry(Action::DeleteRepositoryCreationTemplate, &account)
        .await?;
    let t = ctx
        .state
        .registry
        .delete_template(&account, &input.prefix)
        .await
        .map_err(|e| ctx.core_error_account(e, &account))?;
    Ok(json!({ "registryId": account.as_str(), "repositoryCreationTemplate": template_json(&t) }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeTemplates {
    prefixes: Option<Vec<String>>,
    next_token: Option<String>,
    max_results: Option<usize>,
}

pub async fn describe_templates(
    ctx: &Ctx<'_>,
    input: DescribeTemplates,
) -> Result<Value, EcrError> {
    let account = ctx.caller_account.clone();
    ctx.authorize_registry(Action::DescribeRepositoryCreationTemplates, &account)
        .await?;
    let all = ctx
        .state
        .registry
        .templates(&account)
        .await
        .map_err(|e| ctx.core_error_account(e, &account))?;
    let after = match &input.next_token {
        Some(t) => Some(super::wire::decode_token(t)?),
        None => None,
    };
    let limit = input.max_results.unwrap_or(100);
    let mut out = Vec::new();
    let mut next = None;
    for t in all.iter().filter(|t| {
        input
            .prefixes
            .as_ref()
            .is_none_or(|p| p.contains(&t.prefix))
    }) {
        if after.as_deref().is_some_and(|a| t.prefix.as_str() <= a) {
            continue;
        }
        if out.len() == limit {
            next = out
                .last()
                .and_then(|v: &Value| v["prefix"].as_str().map(super::wire::encode_token));
            break;
        }
        out.push(template_json(t));
    }
    let mut v = json!({ "registryId": account.as_str(), "repositoryCreationTemplates": out });
    if let Some(n) = next {
        v["nextToken"] = json!(n);
    }
    Ok(v)
}
