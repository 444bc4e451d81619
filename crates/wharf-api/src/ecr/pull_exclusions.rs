//! Pull time update exclusions: RegisterPullTimeUpdateExclusion, DeregisterPullTimeUpdateExclusion
//! and ListPullTimeUpdateExclusions. They act on the caller's registry; pulls by an excluded
//! principal leave `lastRecordedPullTime` unchanged (`Registry::record_pull`).

use super::wire::{decode_token, encode_token, epoch};
use super::{Ctx, EcrError};
use serde::Deserialize;
use serde_json::{json, Value};
use wharf_core::Action;

/// Results per page when `maxResults` is absent, as ECR documents.
const DEFAULT_PAGE: usize = 100;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrincipalInput {
    principal_arn: String,
}

pub async fn register(ctx: &Ctx<'_>, input: PrincipalInput) -> Result<Value, EcrError> {
    let account = ctx.caller_account.clone();
    ctx.authorize_registry(Action::RegisterPullTimeUpdateExclusion, &account)
        .await?;
    let added = ctx
        .state
        .registry
        .register_pull_exclusion(&account, &input.principal_arn)
        .await
        .map_err(|e| ctx.core_error_account(e, &account))?;
    let Some(added) = added else {
        return Err(EcrError::new(
            "ExclusionAlreadyExistsException",
            format!(
                "The principal '{}' is already excluded from pull time updates in the registry with id '{account}'",
                input.principal_arn
            ),
        ));
    };
    Ok(json!({ "principalArn": added.principal_arn, "createdAt": epoch(added.created_at) }))
}

pub async fn deregister(ctx: &Ctx<'_>, input: PrincipalInput) -> Result<Value, EcrError> {
    let account = ctx.caller_account.clone();
    ctx.authorize_registry(Action::DeregisterPullTimeUpdateExclusion, &account)
        .await?;
    let removed = ctx
        .state
        .registry
        .deregister_pull_exclusion(&account, &input.principal_arn)
        .await
        .map_err(|e| ctx.core_error_account(e, &account))?;
    if !removed {
        return Err(EcrError::new(
            "ExclusionNotFoundException",
            format!(
                "The principal '{}' is not excluded from pull time updates in the registry with id '{account}'",
                input.principal_arn
            ),
        ));
    }
    Ok(json!({ "principalArn": input.principal_arn }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListInput {
    max_results: Option<usize>,
    next_token: Option<String>,
}

/// A page of excluded principal ARNs in ARN order; the token names the last one returned.
pub async fn list(ctx: &Ctx<'_>, input: ListInput) -> Result<Value, EcrError> {
    let account = ctx.caller_account.clone();
    ctx.authorize_registry(Action::ListPullTimeUpdateExclusions, &account)
        .await?;
    let after = input.next_token.as_deref().map(decode_token).transpose()?;
    let limit = input.max_results.unwrap_or(DEFAULT_PAGE);
    // One more than the page shows whether another page follows.
    let mut found = ctx
        .state
        .registry
        .pull_exclusions(&account, after.as_deref(), limit.saturating_add(1))
        .await
        .map_err(|e| ctx.core_error_account(e, &account))?;
    let more = found.len() > limit;
    found.truncate(limit);
    let arns: Vec<&str> = found.iter().map(|e| e.principal_arn.as_str()).collect();
    let mut v = json!({ "pullTimeUpdateExclusions": arns });
    if let (true, Some(last)) = (more, arns.last()) {
        v["nextToken"] = json!(encode_token(last));
    }
    Ok(v)
}
