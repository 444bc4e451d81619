//! Public repositories on `/v2/`: a path `<alias>/<name>` whose alias is a public registry's and
//! whose `<name>` is one of its public repositories names that repository, in the alias's
//! account. Anyone may read a public repository (no credentials, as public.ecr.aws serves);
//! writing still takes credentials and authorization.

use super::route::Endpoint;
use super::OciError;
use crate::AppState;
use axum::http::Method;
use wharf_core::{AccountId, Repo};
use wharf_oci::RepoName;

/// The repository a request's name addresses, and whether it is public.
pub struct Located {
    pub repo: Repo,
    pub public: bool,
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
        Some(repo) => Ok(Located { repo, public: true }),
        None => Ok(Located {
            repo: Repo::new(account.clone(), name.clone()),
            public: false,
        }),
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
