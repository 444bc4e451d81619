//! Public repositories: Create/Describe/DeleteRepository and the resource-tag operations
//! (Tag/UntagResource, ListTagsForResource) on `arn:aws:ecr-public::…` ARNs.

use super::catalog::{store_catalog, CatalogInput};
use super::wire::{check_max_results, repository_json};
use super::{named_repo, public_repo, repo_from_arn};
use crate::ecr::wire::{decode_token, encode_token};
use crate::ecr::{Ctx, EcrError};
use serde::Deserialize;
use serde_json::{json, Value};
use wharf_core::model::{PublicRegistry, RepoSettings};
use wharf_core::AccountId;
use wharf_core::Action;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    key: String,
    value: String,
}

fn tag_pairs(tags: Vec<Tag>) -> Result<Vec<(String, String)>, EcrError> {
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

async fn registry_of(ctx: &Ctx<'_>, account: &AccountId) -> Result<PublicRegistry, EcrError> {
    ctx.state
        .registry
        .public_registry(account)
        .await
        .map_err(|e| ctx.core_error_account(e, account))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateRepository {
    repository_name: String,
    catalog_data: Option<CatalogInput>,
    tags: Option<Vec<Tag>>,
}

pub async fn create(ctx: &Ctx<'_>, input: CreateRepository) -> Result<Value, EcrError> {
    let repo = named_repo(ctx, None, &input.repository_name)?;
    let tags = tag_pairs(input.tags.unwrap_or_default())?;
    let catalog = input.catalog_data.unwrap_or_default();
    let checked = catalog.check()?;
    ctx.authorize_create(&repo, &tags).await?;
    let registry = registry_of(ctx, &repo.account).await?;
    let settings = RepoSettings {
        public: true,
        ..RepoSettings::default()
    };
    let record = ctx
        .state
        .registry
        .create_repository(&repo, &settings, &tags)
        .await
        .map_err(|e| ctx.core_error(e, &repo))?;
    let catalog = store_catalog(ctx, &repo, checked).await?;
    Ok(json!({
        "repository": repository_json(&ctx.state.ecr, &registry, &record),
        "catalogData": catalog,
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeRepositories {
    registry_id: Option<String>,
    repository_names: Option<Vec<String>>,
    next_token: Option<String>,
    max_results: Option<usize>,
}

pub async fn describe(ctx: &Ctx<'_>, input: DescribeRepositories) -> Result<Value, EcrError> {
    let account = ctx.account(input.registry_id.as_deref())?;
    let registry = registry_of(ctx, &account).await?;
    if let Some(names) = input.repository_names {
        if input.next_token.is_some() || input.max_results.is_some() {
            return Err(EcrError::invalid(
                "Invalid parameter: nextToken and maxResults cannot be used with repositoryNames",
            ));
        }
        if names.is_empty() || names.len() > 100 {
            return Err(EcrError::invalid(
                "1 validation error detected: Value at 'repositoryNames' failed to satisfy constraint: Member must have length between 1 and 100",
            ));
        }
        let mut out = Vec::with_capacity(names.len());
        for name in &names {
            let (repo, record) = public_repo(ctx, Some(account.as_str()), name).await?;
            ctx.authorize(Action::DescribeRepositories, &repo).await?;
            out.push(repository_json(&ctx.state.ecr, &registry, &record));
        }
        return Ok(json!({ "repositories": out }));
    }
    let limit = check_max_results(input.max_results)?;
    let mut last = match &input.next_token {
        Some(t) => Some(decode_token(t)?),
        None => None,
    };
    // Only public repositories, and only those the caller may describe.
    let mut out = Vec::new();
    let mut more = false;
    'pages: loop {
        let page = ctx
            .state
            .registry
            .repositories(&account, last.as_deref(), 1000)
            .await
            .map_err(|e| ctx.core_error_account(e, &account))?;
        let exhausted = page.len() < 1000;
        for record in page {
            if out.len() == limit && record.settings.public {
                more = true;
                break 'pages;
            }
            last = Some(record.name.clone());
            if !record.settings.public {
                continue;
            }
            let repo = ctx.repo(Some(account.as_str()), &record.name)?;
            if ctx.allowed(Action::DescribeRepositories, &repo).await? {
                out.push(repository_json(&ctx.state.ecr, &registry, &record));
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

pub async fn delete(ctx: &Ctx<'_>, input: DeleteRepository) -> Result<Value, EcrError> {
    let (repo, _) = public_repo(ctx, input.registry_id.as_deref(), &input.repository_name).await?;
    ctx.authorize(Action::DeleteRepository, &repo).await?;
    let registry = registry_of(ctx, &repo.account).await?;
    let record = ctx
        .state
        .registry
        .delete_repository(&repo, input.force)
        .await
        .map_err(|e| ctx.core_error(e, &repo))?;
    Ok(json!({ "repository": repository_json(&ctx.state.ecr, &registry, &record) }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagResource {
    resource_arn: String,
    tags: Vec<Tag>,
}

pub async fn tag_resource(ctx: &Ctx<'_>, input: TagResource) -> Result<Value, EcrError> {
    let repo = repo_from_arn(ctx, &input.resource_arn)?;
    ctx.authorize(Action::TagResource, &repo).await?;
    public_repo(ctx, Some(repo.account.as_str()), repo.name.as_str()).await?;
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
    let repo = repo_from_arn(ctx, &input.resource_arn)?;
    ctx.authorize(Action::UntagResource, &repo).await?;
    public_repo(ctx, Some(repo.account.as_str()), repo.name.as_str()).await?;
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
    let repo = repo_from_arn(ctx, &input.resource_arn)?;
    ctx.authorize(Action::ListTagsForResource, &repo).await?;
    public_repo(ctx, Some(repo.account.as_str()), repo.name.as_str()).await?;
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
