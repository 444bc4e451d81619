//! The web console, served by the same binary under `/console` (assets embedded, no JavaScript):
//! server-rendered HTML pages over the same `Registry` use cases the ECR handlers call, each view
//! authorized by `Registry::authorize` with the ECR action its API call would need.
//!
//! Files: route.rs (the closed `Page` enum, a pure function of method and path), session.rs
//! (sessions, cookies, CSRF and origin checks), signin.rs (sign-in with an access key,
//! sign-out), html.rs (the escaping builder and layout), error.rs (the one error→page mapping),
//! and one file per view: repositories.rs, images.rs (a repository's images grouped),
//! image.rs (one image), policies.rs (lifecycle and repository policy editors), usage.rs.
//!
//! The console works on the signed-in user's own account (its registry id); cross-account
//! browsing is not offered.

use wharf_core::Action;
mod error;
mod html;
mod image;
mod images;
mod policies;
mod repositories;
mod route;
mod session;
mod signin;
mod usage;

pub use route::{is_console_path, route, Page};
pub use session::{Sessions, COOKIE, SESSION_TTL};

use crate::AppState;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use error::ConsoleError;
use html::{Chrome, Html};
use serde::de::DeserializeOwned;
use session::Session;
use wharf_core::usage::Pricing;
use wharf_core::{Access, Client, CoreError, Identity, Principal, Repo, Resource, User};

/// The stylesheet, embedded.
const CSS: &str = include_str!("assets/console.css");
/// Largest form body accepted (a lifecycle policy is at most 30 KiB of text, URL-encoded).
const FORM_LIMIT: usize = 256 * 1024;

/// What the console keeps: this node's sessions and the storage price its usage view shows.
#[derive(Clone, Default)]
pub struct Console {
    pub sessions: Sessions,
    pub pricing: Pricing,
}

impl Console {
    pub fn new(pricing: Pricing) -> Console {
        Console {
            sessions: Sessions::default(),
            pricing,
        }
    }
}

/// Serves one console request (`page` from `route`).
pub async fn handle(state: &AppState, client: Client, req: Request, page: Page) -> Response {
    let mut resp = serve(state, client, req, page).await;
    let h = resp.headers_mut();
    h.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    if page != Page::Stylesheet {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp.extensions_mut()
        .insert(crate::operation_label::Operation(page.metric_name()));
    resp
}

async fn serve(state: &AppState, client: Client, req: Request, page: Page) -> Response {
    // Once per request, before anything reads a cache (authorization does).
    if let Err(e) = crate::sync_caches(state).await {
        return ConsoleError::Internal(e.to_string()).render(None);
    }
    match page {
        Page::Home => return Redirect::to("/console/").into_response(),
        Page::Stylesheet => {
            return (
                [
                    (header::CONTENT_TYPE, "text/css; charset=utf-8"),
                    (header::CACHE_CONTROL, "max-age=300"),
                ],
                CSS,
            )
                .into_response()
        }
        Page::SignInForm => return signin::form(client, req.headers(), None),
        Page::SignIn => return signin::sign_in(state, client, req).await,
        Page::NotFound => {
            return ConsoleError::NotFound("There is no such console page.".into()).render(None)
        }
        Page::MethodNotAllowed => return ConsoleError::MethodNotAllowed.render(None),
        _ => {}
    }
    let uri = req.uri().clone();
    let view = match View::of_request(state, client, req.headers()).await {
        Ok(v) => v,
        Err(e) => return e.render(None),
    };
    let result = match page {
        Page::SignOut => signin::sign_out(&view, req).await,
        Page::Repositories => repositories::list(&view).await,
        Page::Repository => images::repository(&view, &uri).await,
        Page::Image => image::detail(&view, &uri).await,
        Page::Sbom => image::sbom(&view, &uri).await,
        Page::Lifecycle => policies::lifecycle(&view, &uri).await,
        Page::SaveLifecycle => policies::save_lifecycle(&view, req).await,
        Page::RepositoryPolicy => policies::repository_policy(&view, &uri).await,
        Page::SaveRepositoryPolicy => policies::save_repository_policy(&view, req).await,
        Page::Usage => usage::usage(&view).await,
        Page::Home
        | Page::Stylesheet
        | Page::SignInForm
        | Page::SignIn
        | Page::NotFound
        | Page::MethodNotAllowed => unreachable!("served above"),
    };
    result.unwrap_or_else(|e| e.render(Some(&view.chrome())))
}

/// An HTML page as a response body.
pub(crate) fn html_response(page: Html) -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        page.into_string(),
    )
        .into_response()
}

/// A signed-in request: the session, the principal its access key proves now, and the client.
pub(crate) struct View<'a> {
    pub state: &'a AppState,
    pub principal: Principal,
    pub user: User,
    /// The user's ARN, shown in the navigation.
    pub user_arn: String,
    pub session: Session,
    pub client: Client,
}

impl<'a> View<'a> {
    /// The session a request's cookie names, with its access key read again: a key deactivated
    /// or deleted since sign-in ends the session.
    async fn of_request(
        state: &'a AppState,
        client: Client,
        headers: &HeaderMap,
    ) -> Result<View<'a>, ConsoleError> {
        let sessions = &state.console.sessions;
        let id = session::cookie(headers, COOKIE).ok_or(ConsoleError::SignInRequired)?;
        let session = sessions.get(id).ok_or(ConsoleError::SignInRequired)?;
        let key = state
            .identity
            .access_key(&session.access_key_id)
            .await
            .map_err(|e| ConsoleError::Internal(e.to_string()))?;
        let Some(key) = key.filter(|k| k.active) else {
            sessions.remove(id);
            return Err(ConsoleError::SignInRequired);
        };
        let principal =
            Identity::principal_of(&key).map_err(|e| ConsoleError::Internal(e.to_string()))?;
        let Principal::User(user) = principal.clone() else {
            return Err(ConsoleError::SignInRequired);
        };
        Ok(View {
            state,
            principal,
            user_arn: user.arn(),
            user,
            session,
            client,
        })
    }

    pub fn chrome(&self) -> Chrome<'_> {
        Chrome {
            user_arn: &self.user_arn,
            csrf: &self.session.csrf,
        }
    }

    /// A repository of the signed-in user's account.
    pub fn repo(&self, name: &str) -> Result<Repo, ConsoleError> {
        let name = name
            .parse()
            .map_err(|e| ConsoleError::BadRequest(format!("Invalid repository name: {e}")))?;
        Ok(Repo::new(self.user.account.clone(), name))
    }

    fn access<'b>(&'b self, action: &'b str, repo: &'b Repo) -> Access<'b> {
        Access {
            principal: &self.principal,
            action,
            resource: Resource::Repository(repo),
            client: self.client,
            request_tags: &[],
        }
    }

    /// Allows `action` on `repo` or fails with the 403 page.
    pub async fn authorize(&self, action: Action, repo: &Repo) -> Result<(), ConsoleError> {
        self.state
            .registry
            .authorize(&self.access(action.ecr(), repo))
            .await
            .map_err(|e| ConsoleError::from_core(e, action))
    }

    /// Whether `action` on `repo` is allowed, for parts of a view that show a notice instead.
    pub async fn allowed(&self, action: Action, repo: &Repo) -> Result<bool, ConsoleError> {
        match self
            .state
            .registry
            .authorize(&self.access(action.ecr(), repo))
            .await
        {
            Ok(()) => Ok(true),
            Err(CoreError::AccessDenied(_)) => Ok(false),
            Err(e) => Err(ConsoleError::from_core(e, action)),
        }
    }

    /// A whole page for this user.
    pub fn page(&self, title: &str, body: &Html) -> Response {
        html_response(html::page(title, Some(&self.chrome()), body))
    }

    /// A POSTed form: same origin, the session's CSRF token, then the fields.
    pub async fn form<T: DeserializeOwned>(&self, req: Request) -> Result<T, ConsoleError> {
        read_form(req, |fields| {
            let token = field(fields, "csrf").unwrap_or("");
            session::tokens_match(token, &self.session.csrf)
        })
        .await
    }
}

/// The value of a form field.
fn field<'f>(fields: &'f [(String, String)], name: &str) -> Option<&'f str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Reads a form POST: origin checks, the body (bounded), the token check `token_ok` gets the
/// fields for, then the fields as `T`.
async fn read_form<T: DeserializeOwned>(
    req: Request,
    token_ok: impl FnOnce(&[(String, String)]) -> bool,
) -> Result<T, ConsoleError> {
    session::check_origin(req.headers())
        .map_err(|_| ConsoleError::Forbidden("The form was not sent from this console."))?;
    let body: Body = req.into_body();
    let bytes = axum::body::to_bytes(body, FORM_LIMIT)
        .await
        .map_err(|_| ConsoleError::BadRequest("The form is too large.".into()))?;
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
        .map_err(|_| ConsoleError::BadRequest("The form could not be read.".into()))?;
    if !token_ok(&fields) {
        return Err(ConsoleError::Forbidden(
            "The form's security token is missing or stale; reload the page and try again.",
        ));
    }
    serde_urlencoded::from_bytes(&bytes)
        .map_err(|e| ConsoleError::BadRequest(format!("The form is incomplete: {e}")))
}

/// A GET request's query parameters as `T`.
fn query<T: DeserializeOwned>(uri: &Uri) -> Result<T, ConsoleError> {
    serde_urlencoded::from_str(uri.query().unwrap_or(""))
        .map_err(|e| ConsoleError::BadRequest(format!("Invalid query parameters: {e}")))
}

/// A 303 to a console page after a POST.
fn see_other(location: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}
