//! Layer pushes into public repositories: BatchCheckLayerAvailability and the
//! Initiate/UploadLayerPart/CompleteLayerUpload sequence, run by ECR's handlers (same shapes)
//! once the repository is known to be public.

use super::delegate;
use crate::ecr::layers;
use crate::ecr::{Ctx, EcrError};
use serde_json::Value;

pub async fn batch_check_layer_availability(ctx: &Ctx<'_>, body: Value) -> Result<Value, EcrError> {
    layers::batch_check_layer_availability(ctx, delegate(ctx, body).await?).await
}

pub async fn initiate_layer_upload(ctx: &Ctx<'_>, body: Value) -> Result<Value, EcrError> {
    layers::initiate_layer_upload(ctx, delegate(ctx, body).await?).await
}

pub async fn upload_layer_part(ctx: &Ctx<'_>, body: Value) -> Result<Value, EcrError> {
    layers::upload_layer_part(ctx, delegate(ctx, body).await?).await
}

pub async fn complete_layer_upload(ctx: &Ctx<'_>, body: Value) -> Result<Value, EcrError> {
    layers::complete_layer_upload(ctx, delegate(ctx, body).await?).await
}
