//! Repository operations: Create/Describe/DeleteRepository, PutImageTagMutability,
//! PutImageScanningConfiguration and the resource-tag operations.

use super::wire::{decode_token, encode_token, exclusion_filters, repository_json};
use super::{Ctx, EcrError};
use serde::Deserialize;
use serde_json::{json, Value};
use wharf_core::model::RepoSettings;
use wharf_core::Action;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResourceTag {
    pub key: String,
    pub value: String,
}

#[derive(Deserialize)]
pub struct ExclusionFilter {
    #[serde(rename = "filterType")]
    pub _filter_type: String,
    pub filter: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScanningConfiguration {
    #[serde(default)]
    pub scan_on_push: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EncryptionConfiguration {
    pub encryption_type: String,
    pub kms_key: Option<String>,
}

/// Checks the mutability value against its exclusion filters, as ECR does.
pub fn mutability(
    value: Option<String>,
    filters: Option<Vec<ExclusionFilter>>,
) -> Result<(String, Vec<String>), EcrError> {
    let value = value.unwrap_or_else(|| "MUTABLE".into());
    let filters: Vec<String> = filters
        .unwrap_or_default()
        .into_iter()
        .map(|f| f.filter)
        .collect();
    let with_exclusion = value.ends_with("_WITH_EXCLUSION");
    if with_exclusion && filters.is_empty() {
        return Err(EcrError::invalid(format!(
            "Invalid parameter at 'imageTagMutabilityExclusionFilters' failed to satisfy constraint: 'at least one filter is required when imageTagMutability is {value}'"
        )));
    }
    if !with_exclusion && !filters.is_empty() {
        return Err(EcrError::invalid(format!(
            "Invalid parameter at 'imageTagMutabilityExclusionFilters' failed to satisfy constraint: 'exclusion filters are only allowed with MUTABLE_WITH_EXCLUSION or IMMUTABLE_WITH_EXCLUSION, not {value}'"
        )));
    }
    Ok((value, filters))
}

fn tag_pairs(tags: Vec<ResourceTag>) -> Result<Vec<(String, String)>, EcrError> {
    tags.into_iter()
        .map(|t| {
            if t.key.is_empty() || t.key.len() > 128 || t.value.len() > 256 || t.key.starts_with("aws:") {
                Err(EcrError::new(
                    "InvalidTagParameterException",
                    "Tag keys must be 1 to 128 characters and not start with 'aws:'; values at most 256 characters.",
                ))
            } else {
                Ok((t.key, t.value))
            }
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateRepository {
    registry_id: Option<String>,
    repository_name: String,
    tags: Option<Vec<ResourceTag>>,
    image_tag_mutability: Option<String>,
    image_tag_mutability_exclusion_filters: Option<Vec<ExclusionFilter>>,
    image_scanning_configuration: Option<ScanningConfiguration>,
    encryption_configuration: Option<EncryptionConfiguration>,
}

pub async fn create_repository(ctx: &Ctx<'_>, input: CreateRepository) -> Result<Value, EcrError> {
    let repo = ctx.repo(input.registry_id.as_deref(), &input.repository_name)?;
    let tags = tag_pairs(input.tags.unwrap_or_default())?;
    ctx.authorize_create(&repo, &tags).await?;
    let (image_tag_mutability, mutability_exclusions) = mutability(
        input.image_tag_mutability,
        input.image_tag_mutability_exclusion_filters,
    )?;
    let (encryption_type, kms_key) = match input.encryption_configuration {
        Some(e) => {
            if e.encryption_type == "AES256" && e.kms_key.is_some() {
                return Err(EcrError::invalid(
                    "A KMS key may only be given with the KMS or KMS_DSSE encryption type.",
                ));
            }
            (e.encryption_type, e.kms_key)
        }
        None => ("AES256".into(), None),
    };
    let settings = RepoSettings {
        image_tag_mutability,
        mutability_exclusions,
        scan_on_push: input
            .image_scanning_configuration
            .is_some_and(|s| s.scan_on_push),
        encryption_type,
        kms_key,
        public: false,
    };
    let record = ctx
        .state
        .registry
        .create_repository(&repo, &settings, &tags)
        .await
        .map_err(|e| ctx.core_error(e, &repo))?;
    Ok(json!({ "repository": repository_json(&ctx.state.ecr, &record) }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeRepositories {
    registry_id: Option<String>,
    repository_names: Option<Vec<String>>,
    next_token: Option<String>,
    max_results: Option<usize>,
}

pub async fn describe_repositories(
    ctx: &Ctx<'_>,
    input: DescribeRepositories,
) -> Result<Value, EcrError> {
    let account = ctx.account(input.registry_id.as_deref())?;
    if let Some(names) = input.repository_names {
        if input.next_token.is_some() || input.max_results.is_some() {
            return Err(EcrError::invalid(
                "Invalid parameter: nextToken and maxResults cannot be used with repositoryNames",
            ));
        }
        let mut out = Vec::with_capacity(names.len());
        for name in &names {
            let repo = ctx.repo(Some(account.as_str()), name)?;
            ctx.authorize(Action::DescribeRepositories, &repo).await?;
            let record = ctx
                .state
                .registry
                .repository(&repo)
                .await
                .map_err(|e| ctx.core_error(e, &repo))?;
            out.push(repository_json(&ctx.state.ecr, &record));
        }
        return Ok(json!({ "repositories": out }));
    }
    let limit = input.max_results.unwrap_or(100);
    let mut last = match &input.next_token {
        Some(t) => Some(decode_token(t)?),
        None => None,
    };
    // Repositories the caller may not describe are skipped, as ECR lists only what IAM allows.
    let mut out = Vec::new();
    let mut more = false;
    'pages: loop {
        let page = ctx
            .state
            .registry
            .repositories(&account, last.as_deref(), limit + 1)
            .await
            .map_err(|e| ctx.core_error_account(e, &account))?;
        let exhausted = page.len() <= limit;
        for record in page {
            if out.len() == limit {
                more = true;
                break 'pages;
            }
            last = Some(record.name.clone());
            let repo = ctx.repo(Some(account.as_str()), &record.name)?;
            if ctx.allowed(Action::DescribeRepositories, &repo).await? {
                out.push(repository_json(&ctx.state.ecr, &record));
            }
        }
        if exhausted {
            break;
        }
    }
    let mut v = json!({ "repositories": out });
    if more {
        if let Some(last) = last {
            v["nextToken"] = json!(encode_token(&last));
        }
    }
    Ok(v)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteRepository {
    registry_id: Option<String>,
    repository_name: String,
    #[serde(default)]
    force: bool,
}

pub async fn delete_repository(ctx: &Ctx<'_>, input: DeleteRepository) -> Result<Value, EcrError> {
    let repo = ctx.repo(input.registry_id.as_deref(), &input.repository_name)?;
    ctx.authorize(Action::DeleteRepository, &repo).await?;
    let record = ctx
        .state
        .registry
        .delete_repository(&repo, input.force)
        .await
        .map_err(|e| ctx.core_error(e, &repo))?;
    Ok(json!({ "repository": repository_json(&ctx.state.ecr, &record) }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutImageTagMutability {
    registry_id: Option<String>,
    repository_name: String,
    image_tag_mutability: String,
    image_tag_mutability_exclusion_filters: Option<Vec<ExclusionFilter>>,
}

pub async fn put_image_tag_mutability(
    ctx: &Ctx<'_>,
    input: PutImageTagMutability,
) -> Result<Value, EcrError> {
    let repo = ctx.repo(input.registry_id.as_deref(), &input.repository_name)?;
    ctx.authorize(Action::PutImageTagMutability, &repo).await?;
    let (value, filters) = mutability(
        Some(input.image_tag_mutability),
        input.image_tag_mutability_exclusion_filters,
    )?;
    ctx.state
        .registry
        .set_tag_mutability(&repo, &value, &filters)
        .await
        .map_err(|e| ctx.core_error(e, &repo))?;
    let mut v = json!({
        "registryId": repo.account.as_str(),
        "repositoryName": repo.name.as_str(),
        "imageTagMutability": value,
    });
    if !filters.is_empty() {
        v["imageTagMutabilityExclusionFilters"] = exclusion_filters(&filters);
    }
    Ok(v)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutImageScanningConfiguration {
    registry_id: Option<String>,
    repository_name: String,
    image_scanning_configuration: ScanningConfiguration,
}

pub async fn put_image_scanning_configuration(
    ctx: &Ctx<'_>,
    input: PutImageScanningConfiguration,
) -> Result<Value, EcrError> {
    let repo = ctx.repo(input.registry_id.as_deref(), &input.repository_name)?;
    ctx.authorize(Action::PutImageScanningConfiguration, &repo)
        .await?;
    let scan = input.image_scanning_configuration.scan_on_push;
    ctx.state
        .registry
        .set_scan_on_push(&repo, scan)
        .await
        .map_err(|e| ctx.core_error(e, &repo))?;
    Ok(json!({
        "registryId": repo.account.as_str(),
        "repositoryName": repo.name.as_str(),
        "imageScanningConfiguration": { "scanOnPush": scan },
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagResource {
    resource_arn: String,
    tags: Vec<ResourceTag>,
}

pub async fn tag_resource(ctx: &Ctx<'_>, input: TagResource) -> Result<Value, EcrError> {
    let repo = ctx.repo_from_arn(&input.resource_arn)?;
    ctx.authorize(Action::TagResource, &repo).await?;
    let tags = tag_pairs(input.tags)?;
    ctx.state
        .registry
        .tag_repository(&repo, &tags)
        .await
        .map_err(|e| ctx.core_error(e, &repo))?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UntagResource {
    resource_arn: String,
    tag_keys: Vec<String>,
}

pub async fn untag_resource(ctx: &Ctx<'_>, input: UntagResource) -> Result<Value, EcrError> {
    let repo = ctx.repo_from_arn(&input.resource_arn)?;
    ctx.authorize(Action::UntagResource, &repo).await?;
    ctx.state
        .registry
        .untag_repository(&repo, &input.tag_keys)
        .await
        .map_err(|e| ctx.core_error(e, &repo))?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListTagsForResource {
    resource_arn: String,
}

pub async fn list_tags_for_resource(
    ctx: &Ctx<'_>,
    input: ListTagsForResource,
) -> Result<Value, EcrError> {
    let repo = ctx.repo_from_arn(&input.resource_arn)?;
    ctx.authorize(Action::ListTagsForResource, &repo).await?;
    let tags = ctx
        .state
        .registry
        .repository_tags(&repo)
        .await
        .map_err(|e| ctx.core_error(e, &repo))?;
    let tags: Vec<Value> = tags
        .into_iter()
        .map(|(k, v)| json!({ "Key": k, "Value": v }))
        .collect();
    Ok(json!({ "tags": tags }))
}
