//! No policy is stored unless it parses: repository and registry policies and a template's
//! repository and lifecycle policies are refused by the use cases themselves (whatever surface
//! calls them), and what was stored before stays.

use std::sync::Arc;
use wharf_blob::FsBlobStore;
use wharf_core::{CoreError, Registry, Repo};
use wharf_meta::RepoSettings;

const ALLOW_PULL: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}]}"#;

async fn setup(dir: &std::path::Path) -> (Registry, Repo) {
    let blobs = FsBlobStore::open(dir.join("blobs")).unwrap();
    let reg = Registry::new(Arc::new(blobs), wharf_meta::testing::store(dir).await);
    let repo = Repo::new(reg.default_account(), "team/app".parse().unwrap());
    reg.create_repository(&repo, &RepoSettings::default(), &[])
        .await
        .unwrap();
    (reg, repo)
}

fn invalid(r: Result<(), CoreError>) -> String {
    match r {
        Err(CoreError::InvalidParameter(m)) => m,
        other => panic!("expected InvalidParameter, got {other:?}"),
    }
}

#[tokio::test]
async fn repository_and_registry_policies_are_checked_before_storing() {
    let dir = tempfile::tempdir().unwrap();
    let (reg, repo) = setup(dir.path()).await;
    reg.set_repository_policy(&repo, ALLOW_PULL).await.unwrap();
    for bad in [
        "not json",
        "[]",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Principal":"*","Action":"ecr:BatchGetImage"}]}"#,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:BatchGetImage"}]}"#,
    ] {
        let m = invalid(reg.set_repository_policy(&repo, bad).await);
        assert!(m.starts_with("Invalid policy"), "{m}");
        invalid(reg.put_registry_policy(&repo.account, bad).await);
    }
    // The policy stored before the refused ones is still there, and still evaluates.
    assert_eq!(reg.repository_policy(&repo).await.unwrap(), ALLOW_PULL);
    assert!(matches!(
        reg.registry_policy(&repo.account).await,
        Err(CoreError::RegistryPolicyNotFound)
    ));
}

#[tokio::test]
async fn template_policies_are_checked_before_storing() {
    let dir = tempfile::tempdir().unwrap();
    let (reg, repo) = setup(dir.path()).await;
    let account = repo.account.clone();
    let good =
        serde_json::json!({ "repositoryPolicy": ALLOW_PULL, "appliedFor": ["CREATE_ON_PUSH"] });
    reg.create_template(&account, "team", &good).await.unwrap();
    let bad_policy = serde_json::json!({ "repositoryPolicy": "{\"Statement\":1}" });
    invalid(reg.create_template(&account, "other", &bad_policy).await);
    invalid(reg.update_template(&account, "team", &bad_policy).await);
    let bad_lifecycle = serde_json::json!({ "lifecyclePolicy": "{\"rules\":[{}]}" });
    invalid(reg.create_template(&account, "other", &bad_lifecycle).await);
    let templates = reg.templates(&account).await.unwrap();
    assert_eq!(templates.len(), 1, "only the valid template was stored");
}

#[tokio::test]
async fn identity_policies_are_checked_before_storing() {
    let dir = tempfile::tempdir().unwrap();
    let (reg, repo) = setup(dir.path()).await;
    let identity = reg.open_identity().await.unwrap();
    let ci = identity
        .create_user(&repo.account, "ci")
        .await
        .unwrap()
        .expect("a new user");
    let allow = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*"}]}"#;
    identity.put_user_policy(ci.id, "ecr", allow).await.unwrap();
    for bad in [
        "{}",
        r#"{"Statement":[{"Effect":"Allow","Action":"ecr:*"}]}"#,
        r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*","Resource":"*"}]}"#,
        "{\"Statement\": [",
    ] {
        let m = invalid(identity.put_user_policy(ci.id, "bad", bad).await);
        assert!(m.starts_with("Invalid policy"), "{m}");
    }
    let stored = identity.user_policies(ci.id).await.unwrap();
    assert_eq!(stored, vec![("ecr".to_string(), allow.to_string())]);
}
