//! ECR Public's GetAuthorizationToken: one `authorizationData` object (not ECR's list, and no
//! `proxyEndpoint`), whose token `/v2/` accepts as Basic credentials for pushes
//! (`aws ecr-public get-login-password`).

use crate::ecr::{Ctx, EcrError};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};
use std::time::{SystemTime, UNIX_EPOCH};
use wharf_core::Action;
use wharf_core::Principal;

pub async fn get_authorization_token(ctx: &Ctx<'_>) -> Result<Value, EcrError> {
    let account = ctx.caller_account.clone();
    ctx.authorize_registry(Action::GetAuthorizationToken, &account)
        .await?;
    let Principal::User(user) = &ctx.principal else {
        return Err(EcrError::new(
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        ));
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let token = ctx.state.identity.issue_token(user, now);
    Ok(json!({ "authorizationData": {
        "authorizationToken": STANDARD.encode(format!("AWS:{}", token.password)),
        "expiresAt": token.expires_at as f64,
    }}))
}
