//! `/v2/` paths of public repositories (`<alias>/<name>`): found only under an existing alias and
//! only for a repository marked public, and found at once after the alias is created on this
//! node, although the alias set is cached.

use std::sync::Arc;
use wharf_blob::FsBlobStore;
use wharf_core::public::default_public_alias;
use wharf_core::{Registry, Repo};
use wharf_meta::RepoSettings;

#[tokio::test]
async fn alias_paths_resolve_once_the_registry_exists_and_only_to_public_repositories() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = FsBlobStore::open(dir.path().join("blobs")).unwrap();
    let reg = Registry::new(
        Arc::new(blobs),
        wharf_meta::testing::store(dir.path()).await,
    );
    let account = reg.default_account();
    let public = Repo::new(account.clone(), "web/app".parse().unwrap());
    let private = Repo::new(account.clone(), "web/secret".parse().unwrap());
    let settings = RepoSettings {
        public: true,
        ..RepoSettings::default()
    };
    reg.create_repository(&public, &settings, &[])
        .await
        .unwrap();
    reg.create_repository(&private, &RepoSettings::default(), &[])
        .await
        .unwrap();
    let alias = default_public_alias(&account);
    let path = format!("{alias}/web/app");

    // No public registry yet: the alias names nothing (and the empty alias set is now cached).
    assert_eq!(reg.public_repository_by_path(&path).await.unwrap(), None);

    let registry = reg.public_registry(&account).await.unwrap();
    assert_eq!(registry.alias, alias);
    assert_eq!(
        reg.public_repository_by_path(&path).await.unwrap(),
        Some(public.clone()),
        "an alias created on this node is seen at once"
    );
    assert_eq!(
        reg.public_repository_by_path(&format!("{alias}/web/secret"))
            .await
            .unwrap(),
        None,
        "a repository not marked public is never found through the alias"
    );
    for other in ["web/app", "wharf-000000000000/web/app", "app"] {
        assert_eq!(
            reg.public_repository_by_path(other).await.unwrap(),
            None,
            "{other}"
        );
    }
}
