//! Signing in with an access key (id + secret, the secret compared in constant time with the
//! stored one, as SigV4 verification would find it) and signing out. The secret is never logged
//! and never echoed back into the form.

use super::error::ConsoleError;
use super::html::{self, Html};
use super::session::{self, SIGNIN_COOKIE, SIGNIN_TTL_SECS};
use super::{html_response, read_form, see_other, View, COOKIE, SESSION_TTL};
use crate::AppState;
use axum::extract::Request;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use subtle::ConstantTimeEq;
use wharf_core::Client;

#[derive(Deserialize)]
struct SignInForm {
    access_key_id: String,
    secret_access_key: String,
}

#[derive(Deserialize)]
struct Empty {}

/// The sign-in form, with a fresh double-submit token in a cookie and a hidden field.
pub fn form(client: Client, _headers: &HeaderMap, error: Option<&str>) -> Response {
    let token = session::random_token();
    let mut body = Html::new();
    if let Some(e) = error {
        body.html(&html::notice("error", e));
    }
    body.raw("<form method=\"post\" action=\"/console/signin\" class=\"signin\" id=\"signin-form\">")
        .html(&html::csrf_field(&token))
        .raw("<label for=\"access_key_id\">Access key ID</label>")
        .raw("<input id=\"access_key_id\" name=\"access_key_id\" autocomplete=\"username\" required>")
        .raw("<label for=\"secret_access_key\">Secret access key</label>")
        .raw("<input id=\"secret_access_key\" name=\"secret_access_key\" type=\"password\" autocomplete=\"current-password\" required>")
        .raw("<button type=\"submit\" id=\"sign-in\">Sign in</button></form>")
        .raw("<p class=\"note\">Use an access key of a Wharf user (<code>wharf admin create-access-key</code>). ")
        .raw("Every page shows only what that user's policies allow.</p>");
    let page = html::page("Sign in", None, &body);
    let status = if error.is_some() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    let mut resp = (status, html_response(page)).into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        session::set_cookie(
            SIGNIN_COOKIE,
            &token,
            "/console/signin",
            SIGNIN_TTL_SECS,
            client.secure_transport,
        ),
    );
    resp
}

/// Checks the key and secret; on success starts a session and goes to the repositories.
pub async fn sign_in(state: &AppState, client: Client, req: Request) -> Response {
    let expected = session::cookie(req.headers(), SIGNIN_COOKIE).map(str::to_string);
    let headers = req.headers().clone();
    let sent: SignInForm = match read_form(req, |fields| {
        let sent = fields
            .iter()
            .find(|(k, _)| k == "csrf")
            .map_or("", |(_, v)| v.as_str());
        expected
            .as_deref()
            .is_some_and(|e| session::tokens_match(sent, e))
    })
    .await
    {
        Ok(f) => f,
        Err(ConsoleError::Forbidden(m)) => return form(client, &headers, Some(m)),
        Err(e) => return e.render(None),
    };
    let key = match state.identity.access_key(sent.access_key_id.trim()).await {
        Ok(k) => k,
        Err(e) => return ConsoleError::Internal(e.to_string()).render(None),
    };
    // Compare against something of the right shape even for an unknown key, so the answer's
    // timing does not tell which keys exist.
    let (stored, active) = match &key {
        Some(k) => (k.secret.as_str(), k.active),
        None => ("0000000000000000000000000000000000000000", false),
    };
    let given = sent.secret_access_key.as_bytes();
    let same = given.len() == stored.len() && bool::from(given.ct_eq(stored.as_bytes()));
    let Some(key) = key.filter(|_| same && active) else {
        tracing::info!(access_key_id = %sent.access_key_id.trim(), "console sign-in refused");
        return form(
            client,
            &headers,
            Some("The access key ID or secret access key is not valid."),
        );
    };
    let (id, _) = state.console.sessions.create(&key.id);
    tracing::info!(access_key_id = %key.id, user = %key.user.name, "console sign-in");
    let mut resp = see_other("/console/");
    let h = resp.headers_mut();
    h.append(
        header::SET_COOKIE,
        session::set_cookie(
            COOKIE,
            &id,
            "/console",
            SESSION_TTL.as_secs(),
            client.secure_transport,
        ),
    );
    h.append(
        header::SET_COOKIE,
        session::set_cookie(
            SIGNIN_COOKIE,
            "",
            "/console/signin",
            0,
            client.secure_transport,
        ),
    );
    resp
}

/// Ends the session (a POST with its token) and clears the cookie.
pub async fn sign_out(view: &View<'_>, req: Request) -> Result<Response, ConsoleError> {
    let id = session::cookie(req.headers(), COOKIE).map(str::to_string);
    let _: Empty = view.form(req).await?;
    if let Some(id) = id {
        view.state.console.sessions.remove(&id);
    }
    let mut resp = see_other("/console/signin");
    resp.headers_mut().append(
        header::SET_COOKIE,
        session::set_cookie(COOKIE, "", "/console", 0, view.client.secure_transport),
    );
    Ok(resp)
}
