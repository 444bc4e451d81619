//! Replication operations: PutReplicationConfiguration (DescribeRegistry shows it, in
//! `registry.rs`) and DescribeImageReplicationStatus. The rules, the jobs and the copying live in
//! `wharf_core::replication`, `wharf-jobs` and `wharf-replicate`; backfills are in `backfill.rs`.

use super::images::ImageIdentifier;
use super::one_image::image_id_json;
use super::{Ctx, EcrError};
use serde::Deserialize;
use serde_json::{json, Value};
use wharf_core::replication::ReplicationConfiguration;
use wharf_core::Action;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutReplicationConfiguration {
    replication_configuration: ReplicationConfiguration,
}

pub async fn put_replication_configuration(
    ctx: &Ctx<'_>,
    input: PutReplicationConfiguration,
) -> Result<Value, EcrError> {
    let account = ctx.caller_account.clone();
    ctx.authorize_registry(Action::PutReplicationConfiguration, &account)
        .await?;
    let config = input.replication_configuration;
    config
        .check(
            &ctx.state.ecr.region,
            account.as_str(),
            &ctx.state.ecr.replication_regions,
        )
        .map_err(EcrError::invalid)?;
    ctx.state
        .registry
        .put_replication_configuration(&account, &config)
        .await
        .map_err(|e| ctx.core_error_account(e, &account))?;
    Ok(json!({ "replicationConfiguration": config }))
}

/// The account's replication configuration as DescribeRegistry shows it.
pub async fn configuration_json(
    ctx: &Ctx<'_>,
    account: &wharf_core::AccountId,
) -> Result<Value, EcrError> {
    let config = ctx
        .state
        .registry
        .replication_configuration(account)
        .await
        .map_err(|e| ctx.core_error_account(e, account))?;
    Ok(json!(config))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeImageReplicationStatus {
    registry_id: Option<String>,
    repository_name: String,
    image_id: ImageIdentifier,
}

pub async fn describe_image_replication_status(
    ctx: &Ctx<'_>,
    input: DescribeImageReplicationStatus,
) -> Result<Value, EcrError> {
    let (repo, image) = ctx
        .authorized_image(
            Action::DescribeImageReplicationStatus,
            input.registry_id.as_deref(),
            &input.repository_name,
            &input.image_id,
        )
        .await?;
    let statuses = ctx
        .state
        .registry
        .replication_statuses(&repo, &image.digest)
        .await
        .map_err(|e| ctx.core_error(e, &repo))?;
    let statuses: Vec<Value> = statuses
        .iter()
        .map(|s| {
            let mut v = json!({
                "region": s.region,
                "registryId": s.registry_id,
                "status": s.status,
            });
            if let Some(code) = &s.failure_code {
                v["failureCode"] = json!(code);
            }
            v
        })
        .collect();
    Ok(json!({
        "repositoryName": repo.name.as_str(),
        "imageId": image_id_json(&image, &input.image_id),
        "replicationStatuses": statuses,
    }))
}
