//! Pull-through cache rule operations: Create/Describe/Update/Delete/ValidatePullThroughCacheRule.
//! The rules, credentials and the misses they serve live in `wharf_core::pull_through`.

use super::wire::{decode_token, encode_token, epoch};
use super::{Ctx, EcrError};
use serde::Deserialize;
use serde_json::{json, Value};
use wharf_core::pull_through::NewRule;
use wharf_core::pull_through::PullThroughRuleRecord;
use wharf_core::Action;

fn opt(v: &Option<String>) -> Value {
    v.as_deref().map_or(Value::Null, |s| json!(s))
}

/// The prefix as ECR shows it.
fn rule_json(r: &PullThroughRuleRecord) -> Value {
    let mut v = json!({
        "ecrRepositoryPrefix": r.ecr_prefix,
        "upstreamRegistryUrl": r.upstream_url,
        "createdAt": epoch(r.created_at),
        "registryId": r.account,
        "upstreamRepositoryPrefix": r.upstream_prefix,
        "updatedAt": epoch(r.updated_at),
    });
    if r.credential_arn.is_some() {
        v["credentialArn"] = opt(&r.credential_arn);
    }
    if r.upstream_registry.is_some() {
        v["upstreamRegistry"] = opt(&r.upstream_registry);
    }
    v
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateRule {
    ecr_repository_prefix: String,
    upstream_registry_url: String,
    registry_id: Option<String>,
    upstream_registry: Option<String>,
    credential_arn: Option<String>,
    custom_role_arn: Option<String>,
    upstream_repository_prefix: Option<String>,
}

pub async fn create(ctx: &Ctx<'_>, input: CreateRule) -> Result<Value, EcrError> {
    let account = ctx.account(input.registry_id.as_deref())?;
    ctx.authorize_registry(Action::CreatePullThroughCacheRule, &account)
        .await?;
    let r = ctx
        .state
        .registry
        .create_pull_through_rule(
            &account,
            NewRule {
                ecr_prefix: &input.ecr_repository_prefix,
                upstream_url: &input.upstream_registry_url,
                upstream_registry: input.upstream_registry.as_deref(),
                upstream_prefix: input.upstream_repository_prefix.as_deref(),
                credential_arn: input.credential_arn.as_deref(),
                custom_role_arn: input.custom_role_arn.as_deref(),
            },
        )
        .await
        .map_err(|e| ctx.core_error_account(e, &account))?;
    let mut v = rule_json(&r);
    if let Some(o) = v.as_object_mut() {
        o.remove("updatedAt");
    }
    Ok(v)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeRules {
    registry_id: Option<String>,
    ecr_repository_prefixes: Option<Vec<String>>,
    next_token: Option<String>,
    max_results: Option<usize>,
}

pub async fn describe(ctx: &Ctx<'_>, input: DescribeRules) -> Result<Value, EcrError> {
    let account = ctx.account(input.registry_id.as_deref())?;
    ctx.authorize_registry(Action::DescribePullThroughCacheRules, &account)
        .await?;
    let rules = ctx
        .state
        .registry
        .pull_through_rules(&account, input.ecr_repository_prefixes.as_deref())
        .await
        .map_err(|e| ctx.core_error_account(e, &account))?;
    let after = match &input.next_token {
        Some(t) => Some(decode_token(t)?),
        None => None,
    };
    let limit = input.max_results.unwrap_or(100);
    let mut out = Vec::new();
    let mut next = None;
    for r in rules
        .iter()
        .filter(|r| after.as_deref().is_none_or(|a| r.ecr_prefix.as_str() > a))
    {
        if out.len() == limit {
            next = out
                .last()
                .and_then(|v: &Value| v["ecrRepositoryPrefix"].as_str().map(encode_token));
            break;
        }
        out.push(rule_json(r));
    }
    let mut v = json!({ "pullThroughCacheRules": out });
    if let Some(n) = next {
        v["nextToken"] = json!(n);
    }
    Ok(v)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateRule {
    registry_id: Option<String>,
    ecr_repository_prefix: String,
    credential_arn: Option<String>,
    custom_role_arn: Option<String>,
}

pub async fn update(ctx: &Ctx<'_>, input: UpdateRule) -> Result<Value, EcrError> {
    let account = ctx.account(input.registry_id.as_deref())?;
    ctx.authorize_registry(Action::UpdatePullThroughCacheRule, &account)
        .await?;
    let r = ctx
        .state
        .registry
        .update_pull_through_rule(
            &account,
            &input.ecr_repository_prefix,
            input.credential_arn.as_deref(),
            input.custom_role_arn.as_deref(),
        )
        .await
        .map_err(|e| ctx.core_error_account(e, &account))?;
    let mut v = json!({
        "ecrRepositoryPrefix": r.ecr_prefix,
        "registryId": r.account,
        "updatedAt": epoch(r.updated_at),
        "upstreamRepositoryPrefix": r.upstream_prefix,
    });
    if r.credential_arn.is_some() {
        v["credentialArn"] = opt(&r.credential_arn);
    }
    Ok(v)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleRef {
    registry_id: Option<String>,
    ecr_repository_prefix: String,
}

pub async fn delete(ctx: &Ctx<'_>, input: RuleRef) -> Result<Value, EcrError> {
    let account = ctx.account(input.registry_id.as_deref())?;
    ctx.authorize_registry(Action::DeletePullThroughCacheRule, &account)
        .await?;
    let r = ctx
        .state
        .registry
        .delete_pull_through_rule(&account, &input.ecr_repository_prefix)
        .await
        .map_err(|e| ctx.core_error_account(e, &account))?;
    let mut v = rule_json(&r);
    if let Some(o) = v.as_object_mut() {
        o.remove("updatedAt");
        o.remove("upstreamRegistry");
    }
    Ok(v)
}

pub async fn validate(ctx: &Ctx<'_>, input: RuleRef) -> Result<Value, EcrError> {
    let account = ctx.account(input.registry_id.as_deref())?;
    ctx.authorize_registry(Action::ValidatePullThroughCacheRule, &account)
        .await?;
    let checked = ctx
        .state
        .registry
        .validate_pull_through_rule(&account, &input.ecr_repository_prefix)
        .await
        .map_err(|e| ctx.core_error_account(e, &account))?;
    let r = &checked.rule;
    let mut v = json!({
        "ecrRepositoryPrefix": r.ecr_prefix,
        "registryId": r.account,
        "upstreamRegistryUrl": r.upstream_url,
        "upstreamRepositoryPrefix": r.upstream_prefix,
        "isValid": checked.failure.is_none(),
    });
    if r.credential_arn.is_some() {
        v["credentialArn"] = opt(&r.credential_arn);
    }
    if let Some(f) = checked.failure {
        v["failure"] = json!(f);
    }
    Ok(v)
}
