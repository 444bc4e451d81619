//! The ECR Public control plane: the operations behind `SpencerFrontendService.*` (botocore's
//! `ecr-public/2020-10-30` model, signing name `ecr-public`).
//!
//! Public repositories are ordinary repositories with the `public` marker, in the caller's
//! account, under the account's registry alias (`wharf-core/src/public.rs`). This module owns
//! ECR Public's semantics (its shapes, ARNs, catalog data, registries, authorization token);
//! the data-plane operations whose inputs ECR shares (layers, images, repository policies) run
//! ECR's handlers after checking that the repository is public, with `ecr-public:` IAM actions.
//! The protocol (SigV4, body limit, error envelope) is `aws_json`'s.

mod auth;
mod catalog;
mod images;
mod layers;
mod operation;
mod policies;
mod registry;
mod repositories;
mod wire;

pub use catalog::{logo_request, serve_logo};
pub use operation::Operation;

use crate::aws_json::{self, Call, Service};
use crate::ecr::{Ctx, EcrError};
use crate::AppState;
use serde::de::DeserializeOwned;
use serde_json::Value;
use wharf_core::model::RepositoryRecord;
use wharf_core::Repo;

/// Runs one authenticated ECR Public call.
pub async fn serve(state: &AppState, call: Call) -> Result<Value, EcrError> {
    let ctx = Ctx {
        state,
        caller_account: call.caller_account,
        principal: call.principal,
        client: call.client,
        service: Service::EcrPublic,
    };
    let Some(op) = Operation::from_name(&call.operation) else {
        if operation::UNSUPPORTED.contains(&call.operation.as_str()) {
            return Err(EcrError::new(
                "UnsupportedCommandException",
                format!(
                    "The ECR Public operation {} is not implemented by Wharf.",
                    call.operation
                ),
            ));
        }
        return Err(aws_json::unknown_operation(
            Service::EcrPublic,
            &call.operation,
        ));
    };
    let body = call.input;
    if !body.is_object() {
        return Err(EcrError::new(
            "SerializationException",
            "The request body must be a JSON object.",
        ));
    }
    tracing::debug!(operation = op.name(), principal = %ctx.principal.arn(), "ecr-public request");
    dispatch(&ctx, op, body).await
}

async fn dispatch(ctx: &Ctx<'_>, op: Operation, body: Value) -> Result<Value, EcrError> {
    use Operation::*;
    match op {
        CreateRepository => repositories::create(ctx, input(body)?).await,
        DescribeRepositories => repositories::describe(ctx, input(body)?).await,
        DeleteRepository => repositories::delete(ctx, input(body)?).await,
        TagResource => repositories::tag_resource(ctx, input(body)?).await,
        UntagResource => repositories::untag_resource(ctx, input(body)?).await,
        ListTagsForResource => repositories::list_tags_for_resource(ctx, input(body)?).await,
        GetRepositoryCatalogData => catalog::get_repository(ctx, input(body)?).await,
        PutRepositoryCatalogData => catalog::put_repository(ctx, input(body)?).await,
        GetRegistryCatalogData => catalog::get_registry(ctx).await,
        PutRegistryCatalogData => catalog::put_registry(ctx, input(body)?).await,
        DescribeRegistries => registry::describe_registries(ctx, input(body)?).await,
        GetAuthorizationToken => auth::get_authorization_token(ctx).await,
        GetRepositoryPolicy => policies::get(ctx, body).await,
        SetRepositoryPolicy => policies::set(ctx, body).await,
        DeleteRepositoryPolicy => policies::delete(ctx, body).await,
        DescribeImages => images::describe_images(ctx, body).await,
        DescribeImageTags => images::describe_image_tags(ctx, input(body)?).await,
        PutImage => images::put_image(ctx, body).await,
        BatchDeleteImage => images::batch_delete_image(ctx, body).await,
        BatchCheckLayerAvailability => layers::batch_check_layer_availability(ctx, body).await,
        InitiateLayerUpload => layers::initiate_layer_upload(ctx, body).await,
        UploadLayerPart => layers::upload_layer_part(ctx, body).await,
        CompleteLayerUpload => layers::complete_layer_upload(ctx, body).await,
    }
}

/// Deserializes an operation's input; a shape mismatch is the client's error.
fn input<T: DeserializeOwned>(v: Value) -> Result<T, EcrError> {
    serde_json::from_value(v).map_err(|e| {
        EcrError::new(
            "SerializationException",
            format!("The request body does not match the operation's input: {e}"),
        )
    })
}

/// The repository an operation names (`registryId`, `repositoryName`), checked against the
/// model's bounds.
fn named_repo(ctx: &Ctx<'_>, registry_id: Option<&str>, name: &str) -> Result<Repo, EcrError> {
    wire::check_len("repositoryName", name, 2, 205)?;
    ctx.repo(registry_id, name)
}

/// The public repository an operation names; `RepositoryNotFoundException` for a private one,
/// so ECR Public never reaches a repository that is not public.
async fn public_repo(
    ctx: &Ctx<'_>,
    registry_id: Option<&str>,
    name: &str,
) -> Result<(Repo, RepositoryRecord), EcrError> {
    let repo = named_repo(ctx, registry_id, name)?;
    let record = ctx
        .state
        .registry
        .public_repository(&repo)
        .await
        .map_err(|e| ctx.core_error(e, &repo))?;
    Ok((repo, record))
}

/// For operations run by ECR's handlers: checks that the body names a public repository, then
/// hands the body on as the handler's input.
async fn delegate<T: DeserializeOwned>(ctx: &Ctx<'_>, body: Value) -> Result<T, EcrError> {
    let name = body
        .get("repositoryName")
        .and_then(Value::as_str)
        .ok_or_else(|| EcrError::invalid("1 validation error detected: Value null at 'repositoryName' failed to satisfy constraint: Member must not be null"))?;
    let registry_id = body.get("registryId").and_then(Value::as_str);
    public_repo(ctx, registry_id, name).await?;
    input(body)
}

/// The repository an ECR Public ARN names (`arn:aws:ecr-public::<account>:repository/<name>`).
fn repo_from_arn(ctx: &Ctx<'_>, arn: &str) -> Result<Repo, EcrError> {
    let bad = || {
        EcrError::invalid(format!(
            "Invalid parameter at 'resourceArn' failed to satisfy constraint: 'Invalid ARN {arn}'"
        ))
    };
    let (account, name) = wire::parse_repository_arn(arn).ok_or_else(bad)?;
    ctx.repo(Some(account), name).map_err(|_| bad())
}
