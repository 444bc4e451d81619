//! DescribeRegistries: the caller's public registry with its alias (created with the default
//! alias on first use).

use super::wire::{check_max_results, registry_json};
use crate::ecr::{Ctx, EcrError};
use serde::Deserialize;
use serde_json::{json, Value};
use wharf_core::Action;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeRegistries {
    next_token: Option<String>,
    max_results: Option<usize>,
}

pub async fn describe_registries(
    ctx: &Ctx<'_>,
    input: DescribeRegistries,
) -> Result<Value, EcrError> {
    check_max_results(input.max_results)?;
    // One registry per account: there is never a second page.
    if input.next_token.is_some() {
        return Err(crate::ecr::wire::invalid_token());
    }
    let account = ctx.caller_account.clone();
    ctx.authorize_registry(Action::DescribeRegistries, &account)
        .await?;
    let registry = ctx
        .state
        .registry
        .public_registry(&account)
        .await
        .map_err(|e| ctx.core_error_account(e, &account))?;
    Ok(json!({ "registries": [registry_json(&ctx.state.ecr, &registry)] }))
}
