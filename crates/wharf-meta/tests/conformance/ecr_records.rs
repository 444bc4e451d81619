//! Conformance of what only the ECR API needs: pull time update exclusions (per account, paged
//! in ARN order, never moving the cache epoch), the part sizes of layer uploads, and the manifest
//! that tells a blob's media type.

use super::{push, repo};
use wharf_meta::MetaStore;
use wharf_oci::Digest;

const SCANNER: &str = "arn:aws:iam::123456789012:role/scanner";
const CI: &str = "arn:aws:iam::123456789012:user/ci";

pub async fn pull_time_update_exclusions(store: &MetaStore) {
    let account = store.default_account().to_string();
    // Another account (creating it moves the epoch: accounts are cached data), for per-registry
    // lists; then nothing below may move the epoch.
    assert!(store.create_account("555566667777", "other").await.unwrap());
    let before = store.cache_epoch().await.unwrap();
    assert!(!store.pull_excluded(&account, SCANNER).await.unwrap());
    let added = store
        .register_pull_exclusion(&account, SCANNER)
        .await
        .unwrap()
        .expect("a new exclusion");
    assert_eq!(added.principal_arn, SCANNER);
    assert!(added.created_at > 0);
    assert_eq!(
        store
            .register_pull_exclusion(&account, SCANNER)
            .await
            .unwrap(),
        None,
        "registering twice reports the existing exclusion"
    );
    store
        .register_pull_exclusion(&account, CI)
        .await
        .unwrap()
        .unwrap();
    assert!(store.pull_excluded(&account, SCANNER).await.unwrap());
    // Per registry: another account's list is its own.
    assert!(!store.pull_excluded("555566667777", SCANNER).await.unwrap());
    // ARN order, paged after the last ARN.
    let first = store.pull_exclusions(&account, None, 1).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].principal_arn, SCANNER);
    let rest = store
        .pull_exclusions(&account, Some(SCANNER), 10)
        .await
        .unwrap();
    assert_eq!(
        rest.iter()
            .map(|e| e.principal_arn.as_str())
            .collect::<Vec<_>>(),
        vec![CI]
    );
    assert!(store
        .deregister_pull_exclusion(&account, SCANNER)
        .await
        .unwrap());
    assert!(!store
        .deregister_pull_exclusion(&account, SCANNER)
        .await
        .unwrap());
    assert!(!store.pull_excluded(&account, SCANNER).await.unwrap());
    assert!(store.deregister_pull_exclusion(&account, CI).await.unwrap());
    assert_eq!(
        store.cache_epoch().await.unwrap(),
        before,
        "nothing caches exclusions"
    );
}

pub async fn layer_part_sizes(store: &MetaStore) {
    let id = "6f1c1a52-8a5e-4c4b-9d4e-5d2f0b0d7a11";
    store
        .create_upload(id, repo(store, "ecr/parts"), None)
        .await
        .unwrap();
    let smallest = |store: &MetaStore| {
        let store = store.clone();
        async move {
            store
                .upload(id)
                .await
                .unwrap()
                .unwrap()
                .smallest_earlier_part
        }
    };
    // One part: it may be the last, so nothing is judged yet.
    store
        .set_upload_size_after_part(id, 100, 100)
        .await
        .unwrap();
    assert_eq!(smallest(store).await, None);
    // A second part makes the first an earlier one; the smallest earlier part is kept.
    store
        .set_upload_size_after_part(id, 1100, 1000)
        .await
        .unwrap();
    assert_eq!(smallest(store).await, Some(100));
    store
        .set_upload_size_after_part(id, 1150, 50)
        .await
        .unwrap();
    assert_eq!(smallest(store).await, Some(100));
    store
        .set_upload_size_after_part(id, 1160, 10)
        .await
        .unwrap();
    assert_eq!(smallest(store).await, Some(50));
    let upload = store.upload(id).await.unwrap().unwrap();
    assert_eq!(upload.size, 1160);
    // Plain /v2/ appends leave the part sizes alone.
    store.set_upload_size(id, 2000).await.unwrap();
    assert_eq!(smallest(store).await, Some(50));
    assert!(store.delete_upload(id).await.unwrap());
}

pub async fn manifest_referencing_a_blob(store: &MetaStore) {
    let digest = push(store, "ecr/media", b"config bytes", &["v1"], false)
        .await
        .unwrap();
    let config = Digest::sha256(b"config bytes");
    let (media_type, body) = store
        .manifest_referencing(repo(store, "ecr/media"), &config)
        .await
        .unwrap()
        .expect("the image references its config");
    assert_eq!(media_type, "application/vnd.oci.image.manifest.v1+json");
    assert_eq!(Digest::sha256(&body), digest);
    let unreferenced = Digest::sha256(b"nobody");
    store
        .record_blob(repo(store, "ecr/media"), &unreferenced, 6, None, None)
        .await
        .unwrap();
    assert_eq!(
        store
            .manifest_referencing(repo(store, "ecr/media"), &unreferenced)
            .await
            .unwrap(),
        None
    );
}
