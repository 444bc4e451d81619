//! Conformance of ECR Public's records: the `public` marker on repositories, each account's
//! public registry (alias unique, registry catalog data, logo kept unless replaced), alias
//! resolution that finds only public repositories, and repository catalog data going with its
//! repository.

use super::repo;
use wharf_meta::{MetaStore, RepoSettings};

pub async fn public_registries_and_catalog_data(store: &MetaStore) {
    let account = store.default_account().to_string();
    let alias = format!("wharf-{account}");
    let registry = store
        .ensure_public_registry(&account, &alias)
        .await
        .unwrap();
    assert_eq!(registry.alias, alias);
    assert_eq!(registry.display_name, "");
    // A second call returns the stored registry, whatever alias it is offered.
    let again = store
        .ensure_public_registry(&account, "other")
        .await
        .unwrap();
    assert_eq!(again.alias, alias);
    store
        .put_registry_catalog_data(&account, "Display", "About", Some((b"png", "d1")))
        .await
        .unwrap();
    store
        .put_registry_catalog_data(&account, "Display 2", "About", None)
        .await
        .unwrap();
    let r = store.public_registry(&account).await.unwrap().unwrap();
    assert_eq!(
        (r.display_name.as_str(), r.logo_digest.as_deref()),
        ("Display 2", Some("d1"))
    );
    assert_eq!(
        store.catalog_logo("d1").await.unwrap().as_deref(),
        Some(&b"png"[..])
    );

    let public = RepoSettings {
        public: true,
        ..RepoSettings::default()
    };
    let created = store
        .create_repository(repo(store, "pub/app"), &public, &[])
        .await
        .unwrap()
        .unwrap();
    assert!(created.settings.public);
    store
        .create_repository(repo(store, "priv/app"), &RepoSettings::default(), &[])
        .await
        .unwrap()
        .unwrap();
    let read = store
        .repository(repo(store, "pub/app"))
        .await
        .unwrap()
        .unwrap();
    assert!(read.settings.public, "the marker is stored");
    assert_eq!(
        store
            .public_repository_account(&alias, "pub/app")
            .await
            .unwrap()
            .as_deref(),
        Some(account.as_str())
    );
    assert_eq!(
        store
            .public_repository_account(&alias, "priv/app")
            .await
            .unwrap(),
        None,
        "a private repository is never found through an alias"
    );
    assert_eq!(
        store
            .public_repository_account("no-such-alias", "pub/app")
            .await
            .unwrap(),
        None
    );

    assert_eq!(
        store.catalog_data(repo(store, "pub/app")).await.unwrap(),
        None
    );
    let first = store
        .put_catalog_data(
            repo(store, "pub/app"),
            r#"{"description":"a"}"#,
            Some((b"logo", "d2")),
        )
        .await
        .unwrap();
    assert_eq!(first.logo_digest.as_deref(), Some("d2"));
    let second = store
        .put_catalog_data(repo(store, "pub/app"), r#"{"description":"b"}"#, None)
        .await
        .unwrap();
    assert_eq!(
        second.logo_digest.as_deref(),
        Some("d2"),
        "the logo is kept"
    );
    let stored = store
        .catalog_data(repo(store, "pub/app"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.data, r#"{"description":"b"}"#);
    assert_eq!(
        store.catalog_logo("d2").await.unwrap().as_deref(),
        Some(&b"logo"[..])
    );
    assert!(store
        .put_catalog_data(repo(store, "no/such"), "{}", None)
        .await
        .is_err());
    // Catalog data goes with its repository.
    assert!(store
        .delete_repository(repo(store, "pub/app"), true)
        .await
        .unwrap());
    assert_eq!(store.catalog_logo("d2").await.unwrap(), None);
    assert!(store
        .delete_repository(repo(store, "priv/app"), true)
        .await
        .unwrap());
}
