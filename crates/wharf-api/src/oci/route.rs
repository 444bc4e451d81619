//! Routing of `/v2/` requests: a pure function from method and raw path to a closed `Endpoint`.
//!
//! Repository names contain slashes, so the path is read from the right: the last segments name the
//! endpoint and everything between `/v2/` and them is the repository. Paths are matched raw, without
//! percent-decoding, so `%2e%2e` stays literal and fails the name grammar.

use axum::http::Method;
use wharf_oci::RepoName;

/// Every `/v2/` endpoint Wharf serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// `GET /v2/`
    Base,
    /// `GET /v2/_catalog`
    Catalog,
    /// `GET /v2/<name>/tags/list`
    Tags { name: RepoName },
    /// `GET|HEAD|PUT|DELETE /v2/<name>/manifests/<reference>`
    Manifest { name: RepoName, reference: String },
    /// `GET|HEAD|DELETE /v2/<name>/blobs/<digest>`
    Blob { name: RepoName, digest: String },
    /// `POST /v2/<name>/blobs/uploads/`
    StartUpload { name: RepoName },
    /// `GET|PATCH|PUT|DELETE /v2/<name>/blobs/uploads/<id>`
    Upload { name: RepoName, id: String },
    /// `GET /v2/<name>/referrers/<digest>`
    Referrers { name: RepoName, digest: String },
}

/// Why a request did not route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteError {
    /// Not a registry path at all.
    NotFound,
    /// The repository name breaks the grammar.
    NameInvalid(String),
    /// The path exists but not for this method.
    MethodNotAllowed,
}

/// Parses a request line into an endpoint.
pub fn route(method: &Method, path: &str) -> Result<Endpoint, RouteError> {
    let rest = path.strip_prefix("/v2").ok_or(RouteError::NotFound)?;
    if rest.is_empty() || rest == "/" {
        return allow(method, &[Method::GET, Method::HEAD], Endpoint::Base);
    }
    let rest = rest.strip_prefix('/').ok_or(RouteError::NotFound)?;
    if rest == "_catalog" {
        return allow(method, &[Method::GET], Endpoint::Catalog);
    }
    let segs: Vec<&str> = rest.split('/').collect();
    let n = segs.len();
    let name = |k: usize| -> Result<RepoName, RouteError> {
        if k == 0 {
            return Err(RouteError::NotFound);
        }
        let raw = segs[..k].join("/");
        raw.parse()
            .map_err(|e: wharf_oci::NameError| RouteError::NameInvalid(e.to_string()))
    };
    let read_write = [Method::GET, Method::HEAD, Method::PUT, Method::DELETE];
    let read_delete = [Method::GET, Method::HEAD, Method::DELETE];
    let upload = [
        Method::GET,
        Method::HEAD,
        Method::PATCH,
        Method::PUT,
        Method::DELETE,
    ];
    match segs.as_slice() {
        [.., "tags", "list"] if n > 2 => allow(
            method,
            &[Method::GET, Method::HEAD],
            Endpoint::Tags { name: name(n - 2)? },
        ),
        [.., "blobs", "uploads", ""] | [.., "blobs", "uploads"] if n > 2 => {
            let k = if segs[n - 1].is_empty() { n - 3 } else { n - 2 };
            allow(
                method,
                &[Method::POST],
                Endpoint::StartUpload { name: name(k)? },
            )
        }
        [.., "blobs", "uploads", id] if n > 3 => allow(
            method,
            &upload,
            Endpoint::Upload {
                name: name(n - 3)?,
                id: id.to_string(),
            },
        ),
        [.., "manifests", reference] if n > 2 && !reference.is_empty() => allow(
            method,
            &read_write,
            Endpoint::Manifest {
                name: name(n - 2)?,
                reference: reference.to_string(),
            },
        ),
        [.., "blobs", digest] if n > 2 && !digest.is_empty() => allow(
            method,
            &read_delete,
            Endpoint::Blob {
                name: name(n - 2)?,
                digest: digest.to_string(),
            },
        ),
        [.., "referrers", digest] if n > 2 && !digest.is_empty() => allow(
            method,
            &[Method::GET, Method::HEAD],
            Endpoint::Referrers {
                name: name(n - 2)?,
                digest: digest.to_string(),
            },
        ),
        _ => Err(RouteError::NotFound),
    }
}

fn allow(method: &Method, allowed: &[Method], endpoint: Endpoint) -> Result<Endpoint, RouteError> {
    if allowed.contains(method) {
        Ok(endpoint)
    } else {
        Err(RouteError::MethodNotAllowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> RepoName {
        s.parse().unwrap()
    }

    fn check(method: Method, path: &str, expected: Result<Endpoint, RouteError>) {
        assert_eq!(route(&method, path), expected, "{method} {path}");
    }

    #[test]
    fn routes_every_endpoint() {
        check(Method::GET, "/v2/", Ok(Endpoint::Base));
        check(Method::GET, "/v2", Ok(Endpoint::Base));
        check(Method::GET, "/v2/_catalog", Ok(Endpoint::Catalog));
        check(
            Method::GET,
            "/v2/a/b/tags/list",
            Ok(Endpoint::Tags { name: name("a/b") }),
        );
        check(
            Method::PUT,
            "/v2/lib/x/manifests/v1",
            Ok(Endpoint::Manifest {
                name: name("lib/x"),
                reference: "v1".into(),
            }),
        );
        check(
            Method::HEAD,
            "/v2/x/blobs/sha256:ab",
            Ok(Endpoint::Blob {
                name: name("x"),
                digest: "sha256:ab".into(),
            }),
        );
        check(
            Method::POST,
            "/v2/x/y/blobs/uploads/",
            Ok(Endpoint::StartUpload { name: name("x/y") }),
        );
        check(
            Method::POST,
            "/v2/x/blobs/uploads",
            Ok(Endpoint::StartUpload { name: name("x") }),
        );
        check(
            Method::PATCH,
            "/v2/x/blobs/uploads/123",
            Ok(Endpoint::Upload {
                name: name("x"),
                id: "123".into(),
            }),
        );
        check(
            Method::GET,
            "/v2/x/referrers/sha256:ab",
            Ok(Endpoint::Referrers {
                name: name("x"),
                digest: "sha256:ab".into(),
            }),
        );
        // Names may contain the words the endpoints use.
        check(
            Method::GET,
            "/v2/blobs/manifests/manifests/latest",
            Ok(Endpoint::Manifest {
                name: name("blobs/manifests"),
                reference: "latest".into(),
            }),
        );
        check(
            Method::GET,
            "/v2/tags/tags/list",
            Ok(Endpoint::Tags { name: name("tags") }),
        );
    }

    #[test]
    fn rejects_bad_paths() {
        check(Method::GET, "/v3/", Err(RouteError::NotFound));
        check(Method::GET, "/v2x", Err(RouteError::NotFound));
        check(Method::GET, "/v2/x", Err(RouteError::NotFound));
        check(
            Method::GET,
            "/v2/manifests/latest",
            Err(RouteError::NotFound),
        );
        check(Method::GET, "/v2/x/manifests/", Err(RouteError::NotFound));
        check(
            Method::POST,
            "/v2/x/manifests/latest",
            Err(RouteError::MethodNotAllowed),
        );
        check(
            Method::PUT,
            "/v2/x/blobs/sha256:ab",
            Err(RouteError::MethodNotAllowed),
        );
        for bad in [
            "/v2/../x/manifests/t",
            "/v2/%2e%2e/x/manifests/t",
            "/v2/A/manifests/t",
            "/v2/a//b/manifests/t",
            "/v2/a%00b/tags/list",
        ] {
            assert!(
                matches!(route(&Method::GET, bad), Err(RouteError::NameInvalid(_))),
                "{bad}"
            );
        }
    }
}
