//! Caches over a shared PostgreSQL database: two `Registry` instances on one database, as two
//! nodes. Each caches manifests and authorization inputs; a tag moved, a manifest deleted or a
//! repository policy changed through one node is what the other answers on its very next read.
//! (On SQLite one process is the only writer and there is no second node to test.)

use bytes::Bytes;
use futures::StreamExt;
use std::sync::Arc;
use wharf_blob::{BlobStore, ByteStream, ObjectBlobStore};
use wharf_core::{Access, CoreError, Identity, Principal, Registry, Repo, Resource};
use wharf_meta::RepoSettings;
use wharf_oci::{Algorithm, Digest, Reference};

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// Pushes a distinct image through `node` and tags it `tag`; returns its digest.
async fn push(node: &Registry, repo: &Repo, seed: &str, tag: &str) -> Digest {
    let config = format!("config {seed}").into_bytes();
    let cd = Digest::of(Algorithm::Sha256, &config);
    let len = config.len();
    let body: ByteStream = futures::stream::once(async move { Ok(Bytes::from(config)) }).boxed();
    node.push_blob(repo, &cd, body).await.unwrap();
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{cd}","size":{len}}},"layers":[]}}"#
    );
    node.put_manifest(
        repo,
        &Reference::Tag(tag.parse().unwrap()),
        &[],
        Some(OCI_MANIFEST),
        manifest.as_bytes(),
    )
    .await
    .unwrap()
    .digest
}

/// A manifest GET as a request makes it: the caches brought up to date first, then read.
async fn get(node: &Registry, repo: &Repo, r: &Reference) -> Result<Digest, CoreError> {
    node.sync_caches().await.unwrap();
    node.get_manifest(repo, r).await.map(|m| m.digest.clone())
}

async fn by_tag(node: &Registry, repo: &Repo, tag: &str) -> Result<Digest, CoreError> {
    get(node, repo, &Reference::Tag(tag.parse().unwrap())).await
}

/// An authorization check as a request makes it: the caches brought up to date first.
async fn pull_allowed(node: &Registry, principal: &Principal, repo: &Repo) -> bool {
    node.sync_caches().await.unwrap();
    let access = Access {
        principal,
        action: "ecr:BatchGetImage",
        resource: Resource::Repository(repo),
        client: Default::default(),
        request_tags: &[],
    };
    node.authorize(&access).await.is_ok()
}

#[tokio::test]
async fn what_one_node_commits_the_other_serves_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let meta = wharf_meta::testing::store(dir.path()).await;
    if meta.dialect() != wharf_meta::Dialect::Postgres {
        eprintln!("skipped: two nodes need a shared PostgreSQL (WHARF_TEST_POSTGRES_URL)");
        return;
    }
    let blobs: Arc<dyn BlobStore> = Arc::new(ObjectBlobStore::memory());
    let (a, b) = (
        Registry::new(blobs.clone(), meta.clone()),
        Registry::new(blobs.clone(), meta.clone()),
    );
    let repo = Repo::new(
        meta.default_account().parse().unwrap(),
        "nodes/cached".parse().unwrap(),
    );
    a.create_repository(&repo, &RepoSettings::default(), &[])
        .await
        .unwrap();

    // Node b reads (and caches) what a pushed; a moves the tag; b sees the move.
    let m1 = push(&a, &repo, "one", "v").await;
    assert_eq!(by_tag(&b, &repo, "v").await.unwrap(), m1);
    assert_eq!(by_tag(&b, &repo, "v").await.unwrap(), m1);
    let m2 = push(&a, &repo, "two", "v").await;
    assert_eq!(by_tag(&b, &repo, "v").await.unwrap(), m2);

    // Cached by digest on b, deleted through a: gone on b.
    let d1 = Reference::Digest(m1.clone());
    assert!(get(&b, &repo, &d1).await.is_ok());
    a.delete_manifest(&repo, &d1).await.unwrap();
    assert!(matches!(
        get(&b, &repo, &d1).await,
        Err(CoreError::ManifestUnknown)
    ));

    // A repository policy set and removed through a applies on b at once, although b cached
    // the repository's authorization inputs just before each change.
    let anonymous = Principal::Anonymous;
    assert!(!pull_allowed(&b, &anonymous, &repo).await);
    let public = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":["ecr:BatchGetImage"]}]}"#;
    a.set_repository_policy(&repo, public).await.unwrap();
    assert!(pull_allowed(&b, &anonymous, &repo).await);
    a.delete_repository_policy(&repo).await.unwrap();
    assert!(!pull_allowed(&b, &anonymous, &repo).await);

    // An identity policy attached and detached straight in the database (as `wharf admin` does
    // from another process) applies on b at once too.
    let account = meta.default_account().to_string();
    let user = meta.create_user(&account, "dev").await.unwrap().unwrap();
    let identity = Identity::open(meta.clone()).await.unwrap();
    identity.create_access_key(user.id).await.unwrap();
    let key = meta.list_access_keys(user.id).await.unwrap().remove(0);
    let dev = Identity::principal_of(&key).unwrap();
    assert!(!pull_allowed(&b, &dev, &repo).await);
    let pull = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*"}]}"#;
    meta.put_user_policy(user.id, "pull", pull).await.unwrap();
    assert!(pull_allowed(&b, &dev, &repo).await);
    meta.delete_user_policy(user.id, "pull").await.unwrap();
    assert!(!pull_allowed(&b, &dev, &repo).await);

    // A login token checked (and its key cached) on b stops working there as soon as the key is
    // deactivated elsewhere, not 5 seconds later.
    let Principal::User(dev_user) = &dev else {
        panic!("a user")
    };
    let now = wharf_core::unix_now() as u64;
    let token = identity.issue_token(dev_user, now);
    let b_identity = Identity::open(meta.clone()).await.unwrap();
    let check = || async {
        b.sync_caches_with(|| b_identity.flush_keys())
            .await
            .unwrap();
        b_identity.verify_token(&token.password, now).await.unwrap()
    };
    assert!(check().await.is_ok());
    assert!(check().await.is_ok());
    meta.set_access_key_active(&key.id, false).await.unwrap();
    assert!(
        check().await.is_err(),
        "a deactivated key's token is refused at once"
    );

    // Recording pulls does not move the epoch (caches survive a pull-only load).
    let before = meta.cache_epoch().await.unwrap();
    meta.record_pull(repo.key(), &m2, wharf_core::unix_now())
        .await
        .unwrap();
    assert_eq!(meta.cache_epoch().await.unwrap(), before);
    // Any tag write does.
    push(&a, &repo, "three", "w").await;
    assert!(meta.cache_epoch().await.unwrap() > before);
}
