//! `GetAuthorizationToken`: the login token `/v2/` accepts as Basic credentials.

use super::wire::registry_url;
use super::{Ctx, EcrError};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};
use std::time::{SystemTime, UNIX_EPOCH};
use wharf_core::Action;
use wharf_core::Principal;

pub async fn get_authorization_token(ctx: &Ctx<'_>, _input: Value) -> Result<Value, EcrError> {
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
    Ok(json!({ "authorizationData": [{
        "authorizationToken": STANDARD.encode(format!("AWS:{}", token.password)),
        "expiresAt": token.expires_at as f64,
        "proxyEndpoint": registry_url(&ctx.state.ecr, account.as_str()),
    }]}))
}
