//! Lifecycle policy operations (Put/Get/DeleteLifecyclePolicy, Start/GetLifecyclePolicyPreview)
//! and UpdateImageStorageClass.

use super::images::ImageIdentifier;
use super::wire::{decode_token, encode_token, epoch};
use super::{Ctx, EcrError};
use serde::Deserialize;
use serde_json::{json, Value};
use wharf_core::model::LifecyclePolicyRecord;
use wharf_core::Action;
use wharf_core::{unix_now, LifecycleAction, PlannedAction, Repo, StorageClass};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyInput {
    registry_id: Option<String>,
    repository_name: String,
    lifecycle_policy_text: Option<String>,
}

fn base(repo: &Repo) -> Value {
    json!({ "registryId": repo.account.as_str(), "repositoryName": repo.name.as_str() })
}

/// The answer of Get/DeleteLifecyclePolicy.
fn policy_json(repo: &Repo, policy: &LifecyclePolicyRecord) -> Value {
    let mut v = base(repo);
    v["lifecyclePolicyText"] = json!(policy.text);
    if let Some(t) = policy.evaluated_at {
        v["lastEvaluatedAt"] = epoch(t);
    }
    v
}

pub async fn put_lifecycle_policy(ctx: &Ctx<'_>, input: PolicyInput) -> Result<Value, EcrError> {
    let repo = ctx.repo(input.registry_id.as_deref(), &input.repository_name)?;
    ctx.authorize(Action::PutLifecyclePolicy, &repo).await?;
    // The model requires the text; the validator has already rejected a request without it.
    let text = input.lifecycle_policy_text.unwrap_or_default();
    ctx.state
        .registry
        .put_lifecycle_policy(&repo, &text)
        .await
        .map_err(|e| ctx.core_error(e, &repo))?;
    let mut v = base(&repo);
    v["lifecyclePolicyText"] = json!(text);
    Ok(v)
}

pub async fn get_lifecycle_policy(ctx: &Ctx<'_>, input: PolicyInput) -> Result<Value, EcrError> {
    let repo = ctx.repo(input.registry_id.as_deref(), &input.repository_name)?;
    ctx.authorize(Action::GetLifecyclePolicy, &repo).await?;
    let policy = ctx
        .state
        .registry
        .lifecycle_policy(&repo)
        .await
        .map_err(|e| ctx.core_error(e, &repo))?;
    Ok(policy_json(&repo, &policy))
}

pub async fn delete_lifecycle_policy(ctx: &Ctx<'_>, input: PolicyInput) -> Result<Value, EcrError> {
    let repo = ctx.repo(input.registry_id.as_deref(), &input.repository_name)?;
    ctx.authorize(Action::DeleteLifecyclePolicy, &repo).await?;
    let policy = ctx
        .state
        .registry
        .delete_lifecycle_policy(&repo)
        .await
        .map_err(|e| ctx.core_error(e, &repo))?;
    Ok(policy_json(&repo, &policy))
}

pub async fn start_lifecycle_policy_preview(
    ctx: &Ctx<'_>,
    input: PolicyInput,
) -> Result<Value, EcrError> {
    let repo = ctx.repo(input.registry_id.as_deref(), &input.repository_name)?;
    ctx.authorize(Action::StartLifecyclePolicyPreview, &repo)
        .await?;
    ctx.require_repo(&repo).await?;
    let preview = ctx
        .state
        .registry
        .start_lifecycle_preview(&repo, input.lifecycle_policy_text.as_deref(), unix_now())
        .await
        .map_err(|e| ctx.core_error(e, &repo))?;
    let mut v = base(&repo);
    v["lifecyclePolicyText"] = json!(preview.policy_text);
    v["status"] = json!(preview.status);
    Ok(v)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreviewFilter {
    tag_status: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetPreviewInput {
    registry_id: Option<String>,
    repository_name: String,
    image_ids: Option<Vec<ImageIdentifier>>,
    next_token: Option<String>,
    max_results: Option<usize>,
    filter: Option<PreviewFilter>,
}

fn class_name(class: StorageClass) -> &'static str {
    match class {
        StorageClass::Standard => "STANDARD",
        StorageClass::Archive => "ARCHIVE",
    }
}

fn result_json(r: &PlannedAction) -> Value {
    let action = match r.action {
        LifecycleAction::Expire => json!({ "type": "EXPIRE" }),
        LifecycleAction::Transition { target } => {
            json!({ "type": "TRANSITION", "targetStorageClass": class_name(target) })
        }
    };
    let mut v = json!({
        "imageDigest": r.digest,
        "imagePushedAt": epoch(r.pushed_at),
        "action": action,
        "appliedRulePriority": r.rule_priority,
        "storageClass": class_name(r.storage_class),
    });
    if !r.tags.is_empty() {
        v["imageTags"] = json!(r.tags);
    }
    v
}

pub async fn get_lifecycle_policy_preview(
    ctx: &Ctx<'_>,
    input: GetPreviewInput,
) -> Result<Value, EcrError> {
    let repo = ctx.repo(input.registry_id.as_deref(), &input.repository_name)?;
    ctx.authorize(Action::GetLifecyclePolicyPreview, &repo)
        .await?;
    if input.image_ids.is_some() && (input.next_token.is_some() || input.max_results.is_some()) {
        return Err(EcrError::invalid(
            "Invalid parameter: nextToken and maxResults cannot be used with imageIds",
        ));
    }
    let preview = ctx
        .state
        .registry
        .lifecycle_preview(&repo)
        .await
        .map_err(|e| ctx.core_error(e, &repo))?;
    let expiring = preview
        .results
        .iter()
        .filter(|r| r.action == LifecycleAction::Expire)
        .count();
    let archiving = preview.results.len() - expiring;
    let tag_status = input.filter.as_ref().and_then(|f| f.tag_status.as_deref());
    let selected: Vec<&PlannedAction> = preview
        .results
        .iter()
        .filter(|r| match tag_status {
            Some("TAGGED") => !r.tags.is_empty(),
            Some("UNTAGGED") => r.tags.is_empty(),
            _ => true,
        })
        .filter(|r| match &input.image_ids {
            Some(ids) => ids.iter().any(|id| id.names(&r.digest, &r.tags)),
            None => true,
        })
        .collect();
    let start = match &input.next_token {
        Some(t) => decode_token(t)?
            .parse::<usize>()
            .map_err(|_| EcrError::invalid("Invalid parameter at 'nextToken' failed to satisfy constraint: 'Invalid NextToken'"))?,
        None => 0,
    };
    let limit = input.max_results.unwrap_or(100);
    let page: Vec<Value> = selected
        .iter()
        .skip(start)
        .take(limit)
        .map(|r| result_json(r))
        .collect();
    let mut v = base(&repo);
    v["lifecyclePolicyText"] = json!(preview.policy_text);
    v["status"] = json!(preview.status);
    v["previewResults"] = Value::Array(page);
    v["summary"] = json!({
        "expiringImageTotalCount": expiring,
        "transitioningImageTotalCounts": [{ "targetStorageClass": "ARCHIVE", "imageTotalCount": archiving }],
    });
    if start + limit < selected.len() {
        v["nextToken"] = json!(encode_token(&(start + limit).to_string()));
    }
    Ok(v)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateStorageClassInput {
    registry_id: Option<String>,
    repository_name: String,
    image_id: ImageIdentifier,
    target_storage_class: String,
}

pub async fn update_image_storage_class(
    ctx: &Ctx<'_>,
    input: UpdateStorageClassInput,
) -> Result<Value, EcrError> {
    let repo = ctx.repo(input.registry_id.as_deref(), &input.repository_name)?;
    ctx.authorize(Action::UpdateImageStorageClass, &repo)
        .await?;
    ctx.require_repo(&repo).await?;
    let target = match input.target_storage_class.as_str() {
        "ARCHIVE" => StorageClass::Archive,
        _ => StorageClass::Standard,
    };
    let outcome = ctx
        .state
        .registry
        .update_storage_class(&repo, &input.image_id.id(), target, unix_now())
        .await
        .map_err(|e| ctx.core_error(e, &repo))?;
    let (image, status) = match outcome {
        Ok(done) => done,
        Err(wharf_core::ImageFailure::ImageNotFound) => {
            return Err(input.image_id.not_found(&repo));
        }
        Err(f) => {
            return Err(EcrError::invalid(format!(
                "Invalid parameter at 'imageId' failed to satisfy constraint: '{}'",
                f.code()
            )))
        }
    };
    let mut image_id = json!({ "imageDigest": image.digest.to_string() });
    if let Some(t) = &input.image_id.tag() {
        image_id["imageTag"] = json!(t);
    }
    let mut v = base(&repo);
    v["imageId"] = image_id;
    v["imageStatus"] = json!(status);
    Ok(v)
}
