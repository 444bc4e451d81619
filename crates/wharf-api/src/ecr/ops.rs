//! Dispatch of ECR operations to their handlers.

use super::{
    auth, backfill, images, layers, lifecycle, policies, pull_exclusions, pull_through, registry,
    replication, repositories, scanning, signing, Ctx, EcrError,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

fn input<T: DeserializeOwned>(v: Value) -> Result<T, EcrError> {
    serde_json::from_value(v).map_err(|e| {
        EcrError::new(
            "SerializationException",
            format!("The request body does not match the operation's input: {e}"),
        )
    })
}

/// Runs one operation. Operations of the model that Wharf does not implement yet answer a clear
/// error naming them, never a fake success.
pub async fn dispatch(ctx: &Ctx<'_>, op: &str, body: Value) -> Result<Value, EcrError> {
    match op {
        "GetAuthorizationToken" => auth::get_authorization_token(ctx, body).await,
        "CreateRepository" => repositories::create_repository(ctx, input(body)?).await,
        "DescribeRepositories" => repositories::describe_repositories(ctx, input(body)?).await,
        "DeleteRepository" => repositories::delete_repository(ctx, input(body)?).await,
        "PutImageTagMutability" => repositories::put_image_tag_mutability(ctx, input(body)?).await,
        "PutImageScanningConfiguration" => {
            repositories::put_image_scanning_configuration(ctx, input(body)?).await
        }
        "StartImageScan" => scanning::start_image_scan(ctx, input(body)?).await,
        "DescribeImageScanFindings" => {
            scanning::describe_image_scan_findings(ctx, input(body)?).await
        }
        "PutRegistryScanningConfiguration" => {
            scanning::put_registry_scanning_configuration(ctx, input(body)?).await
        }
        "GetRegistryScanningConfiguration" => {
            scanning::get_registry_scanning_configuration(ctx, body).await
        }
        "BatchGetRepositoryScanningConfiguration" => {
            scanning::batch_get_repository_scanning_configuration(ctx, input(body)?).await
        }
        "TagResource" => repositories::tag_resource(ctx, input(body)?).await,
        "UntagResource" => repositories::untag_resource(ctx, input(body)?).await,
        "ListTagsForResource" => repositories::list_tags_for_resource(ctx, input(body)?).await,
        "ListImages" => images::list_images(ctx, input(body)?).await,
        "DescribeImages" => images::describe_images(ctx, input(body)?).await,
        "BatchGetImage" => images::batch_get_image(ctx, input(body)?).await,
        "BatchDeleteImage" => images::batch_delete_image(ctx, input(body)?).await,
        "PutImage" => images::put_image(ctx, input(body)?).await,
        "ListImageReferrers" => images::list_image_referrers(ctx, input(body)?).await,
        "InitiateLayerUpload" => layers::initiate_layer_upload(ctx, input(body)?).await,
        "UploadLayerPart" => layers::upload_layer_part(ctx, input(body)?).await,
        "CompleteLayerUpload" => layers::complete_layer_upload(ctx, input(body)?).await,
        "BatchCheckLayerAvailability" => {
            layers::batch_check_layer_availability(ctx, input(body)?).await
        }
        "GetDownloadUrlForLayer" => layers::get_download_url_for_layer(ctx, input(body)?).await,
        "SetRepositoryPolicy" => policies::set_repository_policy(ctx, input(body)?).await,
        "GetRepositoryPolicy" => policies::get_repository_policy(ctx, input(body)?).await,
        "DeleteRepositoryPolicy" => policies::delete_repository_policy(ctx, input(body)?).await,
        "PutRegistryPolicy" => policies::put_registry_policy(ctx, input(body)?).await,
        "GetRegistryPolicy" => policies::get_registry_policy(ctx, body).await,
        "DeleteRegistryPolicy" => policies::delete_registry_policy(ctx, body).await,
        "DescribeRegistry" => registry::describe_registry(ctx, body).await,
        "GetAccountSetting" => registry::get_account_setting(ctx, input(body)?).await,
        "PutAccountSetting" => registry::put_account_setting(ctx, input(body)?).await,
        "CreateRepositoryCreationTemplate" => registry::create_template(ctx, input(body)?).await,
        "UpdateRepositoryCreationTemplate" => registry::update_template(ctx, input(body)?).await,
        "DeleteRepositoryCreationTemplate" => registry::delete_template(ctx, input(body)?).await,
        "DescribeRepositoryCreationTemplates" => {
            registry::describe_templates(ctx, input(body)?).await
        }
        "PutLifecyclePolicy" => lifecycle::put_lifecycle_policy(ctx, input(body)?).await,
        "GetLifecyclePolicy" => lifecycle::get_lifecycle_policy(ctx, input(body)?).await,
        "DeleteLifecyclePolicy" => lifecycle::delete_lifecycle_policy(ctx, input(body)?).await,
        "StartLifecyclePolicyPreview" => {
            lifecycle::start_lifecycle_policy_preview(ctx, input(body)?).await
        }
        "GetLifecyclePolicyPreview" => {
            lifecycle::get_lifecycle_policy_preview(ctx, input(body)?).await
        }
        "UpdateImageStorageClass" => lifecycle::update_image_storage_class(ctx, input(body)?).await,
        "RegisterPullTimeUpdateExclusion" => pull_exclusions::register(ctx, input(body)?).await,
        "DeregisterPullTimeUpdateExclusion" => pull_exclusions::deregister(ctx, input(body)?).await,
        "ListPullTimeUpdateExclusions" => pull_exclusions::list(ctx, input(body)?).await,
        "PutReplicationConfiguration" => {
            replication::put_replication_configuration(ctx, input(body)?).await
        }
        "DescribeImageReplicationStatus" => {
            replication::describe_image_replication_status(ctx, input(body)?).await
        }
        "StartReplicationBackfill" => backfill::start(ctx, input(body)?).await,
        "StopReplicationBackfill" => backfill::stop(ctx, input(body)?).await,
        "ListReplicationBackfills" => backfill::list(ctx, input(body)?).await,
        "DescribeReplicationBackfillResults" => backfill::results(ctx, input(body)?).await,
        "PutSigningConfiguration" => signing::put_signing_configuration(ctx, input(body)?).await,
        "GetSigningConfiguration" => signing::get_signing_configuration(ctx, body).await,
        "DeleteSigningConfiguration" => signing::delete_signing_configuration(ctx, body).await,
        "DescribeImageSigningStatus" => {
            signing::describe_image_signing_status(ctx, input(body)?).await
        }
        "CreatePullThroughCacheRule" => pull_through::create(ctx, input(body)?).await,
        "DescribePullThroughCacheRules" => pull_through::describe(ctx, input(body)?).await,
        "UpdatePullThroughCacheRule" => pull_through::update(ctx, input(body)?).await,
        "DeletePullThroughCacheRule" => pull_through::delete(ctx, input(body)?).await,
        "ValidatePullThroughCacheRule" => pull_through::validate(ctx, input(body)?).await,
        other => Err(EcrError::new(
            "UnsupportedOperationException",
            format!("The ECR operation {other} is not implemented by Wharf yet."),
        )),
    }
}

#[cfg(test)]
mod tests {
    use wharf_core::Action;

    /// The action table has every ECR operation's IAM action (its namesake, except
    /// ListImageReferrers, which `ecr:BatchGetImage` authorizes), and every ECR Public
    /// operation's `ecr-public:` namesake.
    #[test]
    fn every_operation_has_its_action() {
        for op in wharf_ecr_model::Operation::ALL {
            let action = Action::from_name(op.iam_action())
                .unwrap_or_else(|| panic!("no action for ECR operation {}", op.name()));
            assert_eq!(action.ecr(), op.iam_action());
        }
        for op in crate::ecr_public::Operation::ALL {
            let action = Action::from_name(op.name())
                .unwrap_or_else(|| panic!("no action for ECR Public operation {}", op.name()));
            assert_eq!(action.ecr_public(), format!("ecr-public:{}", op.name()));
        }
    }
}
