//! Public repositories on `/v2/`: a path `<alias>/<name>` whose alias is a public registry's and
//! whose `<name>` is one of its public repositories names that repository, in the alias's
//! account. Anyone may read a public repository (no credentials, as public.ecr.aws serves);
//! writing still takes credentials and authorization.

use super::route::Endpoint;
use super::OciError;
use crate::AppState;
use axum::http::{header, HeaderValue, Method};
use axum::response::Response;
use wharf_core::{AccountId, Repo};
use wharf_oci::RepoName;

/// The repository a request's name addresses, and whether it is public.
pub struct Located {
    pub repo: Repo,
    pub public: bool,
    /// The name as the request spelled it (`<alias>/<name>` for a public repository).
    pub path_name: String,
}

/// Resolves a `/v2/` name: a public repository through its registry alias, else the name in the
/// request's account (where a public repository's own name is not public: only its alias path is).
pub async fn locate(
    state: &AppState,
    account: &AccountId,
    name: &RepoName,
) -> Result<Located, OciError> {
    match state
        .registry
        .public_repository_by_path(name.as_str())
        .await?
    {
        Some(repo) => Ok(Located {
            repo,
            public: true,
            path_name: name.to_string(),
        }),
        None => Ok(Located {
            repo: Repo::new(account.clone(), name.clone()),
            public: false,
            path_name: name.to_string(),
        }),
    }
}

/// Handlers name a repository by its own name in `Location` and `Link` (`/v2/<name>/…`); a
/// public repository addressed as `<alias>/<name>` must be named that way too, or the client's
/// next request (an upload's PATCH, the next tags page) would miss the alias.
pub fn rewrite_paths(resp: &mut Response, repo_name: &str, path_name: &str) {
    let from = format!("/v2/{repo_name}/");
    let to = format!("/v2/{path_name}/");
    for name in [header::LOCATION, header::LINK] {
        let Some(v) = resp.headers().get(&name).and_then(|v| v.to_str().ok()) else {
            continue;
        };
        if !v.contains(&from) {
            continue;
        }
        let rewritten = v.replacen(&from, &to, 1);
        if let Ok(v) = HeaderValue::from_str(&rewritten) {
            resp.headers_mut().insert(name, v);
        }
    }
}

/// Whether an endpoint only reads a repository: what anyone may do to a public one.
pub fn is_public_read(endpoint: &Endpoint, method: &Method) -> bool {
    let read = *method == Method::GET || *method == Method::HEAD;
    read && matches!(
        endpoint,
        Endpoint::Tags { .. }
            | Endpoint::Manifest { .. }
            | Endpoint::Blob { .. }
            | Endpoint::Referrers { .. }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_keep_the_alias() {
        let mut resp = Response::new(axum::body::Body::empty());
        resp.headers_mut().insert(
            header::LOCATION,
            HeaderValue::from_static("/v2/app/blobs/uploads/1"),
        );
        resp.headers_mut().insert(
            header::LINK,
            HeaderValue::from_static("</v2/app/tags/list?n=1&last=a>; rel=\"next\""),
        );
        rewrite_paths(&mut resp, "app", "wharf-1/app");
        assert_eq!(
            resp.headers()[header::LOCATION],
            "/v2/wharf-1/app/blobs/uploads/1"
        );
        assert_eq!(
            resp.headers()[header::LINK],
            "</v2/wharf-1/app/tags/list?n=1&last=a>; rel=\"next\""
        );
    }

    #[test]
    fn only_reads_are_public() {
        let name: RepoName = "wharf-123456789012/app".parse().unwrap();
        let manifest = Endpoint::Manifest {
            name: name.clone(),
            reference: "latest".into(),
        };
        assert!(is_public_read(&manifest, &Method::GET));
        assert!(is_public_read(&manifest, &Method::HEAD));
        assert!(!is_public_read(&manifest, &Method::PUT));
        assert!(!is_public_read(&manifest, &Method::DELETE));
        let blob = Endpoint::Blob {
            name: name.clone(),
            digest: "sha256:00".into(),
        };
        assert!(is_public_read(&blob, &Method::GET));
        assert!(!is_public_read(&blob, &Method::DELETE));
        assert!(!is_public_read(
            &Endpoint::StartUpload { name: name.clone() },
            &Method::POST
        ));
        assert!(!is_public_read(
            &Endpoint::Upload {
                name,
                id: "x".into()
            },
            &Method::GET
        ));
        assert!(!is_public_read(&Endpoint::Catalog, &Method::GET));
    }
}
