//! The console's one error type and its one mapping to a response: an HTML page with the status
//! the failure deserves. Internal errors are logged and shown without details.

use super::html::{self, Chrome, Html};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use wharf_core::CoreError;

#[derive(Debug)]
pub enum ConsoleError {
    /// No (live) session: back to the sign-in form.
    SignInRequired,
    /// The principal may not perform the action the view needs.
    Denied {
        action: &'static str,
        message: String,
    },
    /// A repository, image or page that does not exist.
    NotFound(String),
    /// A request the console's own forms would not send.
    BadRequest(String),
    /// A POST without the right CSRF token or from another origin.
    Forbidden(&'static str),
    MethodNotAllowed,
    Internal(String),
}

impl ConsoleError {
    /// Maps a domain error met while serving a view that needed `action`.
    pub fn from_core(e: CoreError, action: wharf_core::Action) -> ConsoleError {
        Self::from_core_named(e, action.ecr())
    }

    /// `from_core` for a view whose action is named in words.
    fn from_core_named(e: CoreError, action: &'static str) -> ConsoleError {
        match e {
            CoreError::AccessDenied(message) => ConsoleError::Denied { action, message },
            CoreError::NameUnknown => {
                ConsoleError::NotFound("The repository does not exist.".into())
            }
            CoreError::ManifestUnknown => {
                ConsoleError::NotFound("The image does not exist.".into())
            }
            CoreError::InvalidParameter(m) => ConsoleError::BadRequest(m),
            other => ConsoleError::Internal(other.to_string()),
        }
    }

    /// The page for this error, with the navigation when someone is signed in.
    pub fn render(self, chrome: Option<&Chrome<'_>>) -> Response {
        let (status, title, message) = match self {
            ConsoleError::SignInRequired => {
                return Redirect::to("/console/signin").into_response();
            }
            ConsoleError::Denied { action, message } => (
                StatusCode::FORBIDDEN,
                "Access denied",
                format!("This view needs {action}. {message}"),
            ),
            ConsoleError::NotFound(m) => (StatusCode::NOT_FOUND, "Not found", m),
            ConsoleError::BadRequest(m) => (StatusCode::BAD_REQUEST, "Bad request", m),
            ConsoleError::Forbidden(m) => (StatusCode::FORBIDDEN, "Request refused", m.to_string()),
            ConsoleError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "Method not allowed",
                "This page does not accept that method.".to_string(),
            ),
            ConsoleError::Internal(detail) => {
                tracing::error!(%detail, "console: internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal error",
                    "The server failed to serve this page; the error is in its log.".to_string(),
                )
            }
        };
        let mut body = Html::new();
        body.html(&html::notice(
            if status == StatusCode::FORBIDDEN {
                "denied"
            } else {
                "error"
            },
            &message,
        ));
        body.raw("<p><a href=\"/console/\">Back to the repositories</a></p>");
        let page = html::page(title, chrome, &body);
        (status, super::html_response(page)).into_response()
    }
}

impl From<CoreError> for ConsoleError {
    fn from(e: CoreError) -> ConsoleError {
        ConsoleError::from_core_named(e, "an ECR action")
    }
}
