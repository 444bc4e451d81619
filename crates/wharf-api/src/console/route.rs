//! The console's routes: a pure function from method and path to a closed `Page` enum. Query
//! strings carry the repository and digest (repository names contain `/`), so paths are fixed
//! words. Everything under `/console` is the console's. `/` is not: the OCI surface answers it
//! with its 404 envelope (tests/errors.rs holds it to that), so the console is reached by its
//! own path.

use axum::http::Method;

/// Every console endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// `GET /console`: a redirect to `/console/`.
    Home,
    /// `GET /console/assets/console.css`.
    Stylesheet,
    SignInForm,
    SignIn,
    SignOut,
    /// `GET /console/`: the repositories.
    Repositories,
    /// `GET /console/repository?name=`: images grouped, push commands.
    Repository,
    /// `GET /console/image?repository=&digest=[&severity=]`.
    Image,
    /// `GET /console/sbom?repository=&digest=&format=`.
    Sbom,
    Lifecycle,
    SaveLifecycle,
    RepositoryPolicy,
    SaveRepositoryPolicy,
    Usage,
    /// A path under `/console` that names nothing.
    NotFound,
    /// A known path with the wrong method.
    MethodNotAllowed,
}

impl Page {
    /// The `operation` label of the request metrics (a closed set).
    pub fn metric_name(self) -> &'static str {
        match self {
            Page::Home => "console_home",
            Page::Stylesheet => "console_asset",
            Page::SignInForm => "console_signin_form",
            Page::SignIn => "console_signin",
            Page::SignOut => "console_signout",
            Page::Repositories => "console_repositories",
            Page::Repository => "console_repository",
            Page::Image => "console_image",
            Page::Sbom => "console_sbom",
            Page::Lifecycle => "console_lifecycle",
            Page::SaveLifecycle => "console_lifecycle_save",
            Page::RepositoryPolicy => "console_policy",
            Page::SaveRepositoryPolicy => "console_policy_save",
            Page::Usage => "console_usage",
            Page::NotFound => "console_not_found",
            Page::MethodNotAllowed => "console_method_not_allowed",
        }
    }

    /// Whether the page is served without a session.
    pub fn is_public(self) -> bool {
        matches!(
            self,
            Page::Home
                | Page::Stylesheet
                | Page::SignInForm
                | Page::SignIn
                | Page::NotFound
                | Page::MethodNotAllowed
        )
    }
}

/// Whether a path belongs to the console: `/console` and everything under `/console/`.
pub fn is_console_path(path: &str) -> bool {
    path == "/console" || path.starts_with("/console/")
}

/// The page a request is for; `None` when it is not the console's.
pub fn route(method: &Method, path: &str) -> Option<Page> {
    if !is_console_path(path) {
        return None;
    }
    let get = method == Method::GET || method == Method::HEAD;
    let post = method == Method::POST;
    let page = match path {
        "/console" if get => Page::Home,
        "/console/" if get => Page::Repositories,
        "/console/assets/console.css" if get => Page::Stylesheet,
        "/console/signin" if get => Page::SignInForm,
        "/console/signin" if post => Page::SignIn,
        "/console/signout" if post => Page::SignOut,
        "/console/repository" if get => Page::Repository,
        "/console/image" if get => Page::Image,
        "/console/sbom" if get => Page::Sbom,
        "/console/lifecycle" if get => Page::Lifecycle,
        "/console/lifecycle" if post => Page::SaveLifecycle,
        "/console/policy" if get => Page::RepositoryPolicy,
        "/console/policy" if post => Page::SaveRepositoryPolicy,
        "/console/usage" if get => Page::Usage,
        "/console"
        | "/console/"
        | "/console/assets/console.css"
        | "/console/signin"
        | "/console/signout"
        | "/console/repository"
        | "/console/image"
        | "/console/sbom"
        | "/console/lifecycle"
        | "/console/policy"
        | "/console/usage" => Page::MethodNotAllowed,
        _ => Page::NotFound,
    };
    Some(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(method: Method, path: &str, expected: Option<Page>) {
        assert_eq!(route(&method, path), expected, "{method} {path}");
    }

    #[test]
    fn routes() {
        check(Method::GET, "/", None);
        check(Method::GET, "/console", Some(Page::Home));
        check(Method::GET, "/console/", Some(Page::Repositories));
        check(Method::HEAD, "/console/", Some(Page::Repositories));
        check(Method::GET, "/console/signin", Some(Page::SignInForm));
        check(Method::POST, "/console/signin", Some(Page::SignIn));
        check(Method::POST, "/console/signout", Some(Page::SignOut));
        check(
            Method::GET,
            "/console/signout",
            Some(Page::MethodNotAllowed),
        );
        check(Method::GET, "/console/repository", Some(Page::Repository));
        check(Method::GET, "/console/image", Some(Page::Image));
        check(Method::GET, "/console/sbom", Some(Page::Sbom));
        check(Method::GET, "/console/lifecycle", Some(Page::Lifecycle));
        check(
            Method::POST,
            "/console/lifecycle",
            Some(Page::SaveLifecycle),
        );
        check(Method::GET, "/console/policy", Some(Page::RepositoryPolicy));
        check(
            Method::POST,
            "/console/policy",
            Some(Page::SaveRepositoryPolicy),
        );
        check(
            Method::DELETE,
            "/console/policy",
            Some(Page::MethodNotAllowed),
        );
        check(Method::GET, "/console/usage", Some(Page::Usage));
        check(Method::GET, "/console/nope", Some(Page::NotFound));
        check(Method::POST, "/", None);
        check(Method::PUT, "/", None);
        // Not the console's.
        check(Method::GET, "/v2/", None);
        check(Method::GET, "/consoles", None);
        check(Method::GET, "/healthz", None);
    }

    #[test]
    fn public_pages() {
        assert!(Page::SignInForm.is_public());
        assert!(Page::Stylesheet.is_public());
        assert!(!Page::Repositories.is_public());
        assert!(!Page::SignOut.is_public());
        assert!(!Page::Sbom.is_public());
    }
}
