//! Repository policies of public repositories: Get/Set/DeleteRepositoryPolicy, run by ECR's
//! handlers (same shapes) once the repository is known to be public.

use super::delegate;
use crate::ecr::policies;
use crate::ecr::{Ctx, EcrError};
use serde_json::Value;

pub async fn get(ctx: &Ctx<'_>, body: Value) -> Result<Value, EcrError> {
    policies::get_repository_policy(ctx, delegate(ctx, body).await?).await
}

pub async fn set(ctx: &Ctx<'_>, body: Value) -> Result<Value, EcrError> {
    policies::set_repository_policy(ctx, delegate(ctx, body).await?).await
}

pub async fn delete(ctx: &Ctx<'_>, body: Value) -> Result<Value, EcrError> {
    policies::delete_repository_policy(ctx, delegate(ctx, body).await?).await
}
