//! What the ECR API reads from images and uploads: imageSizeInBytes (layers plus config; an
//! index its largest child's), pulls by principals excluded from pull time updates (never
//! recorded, on either path), a blob's media type from the manifest that references it, and the
//! sizes of ECR layer parts.

use bytes::Bytes;
use futures::StreamExt;
use std::sync::Arc;
use wharf_blob::FsBlobStore;
use wharf_core::{Principal, Registry, Repo, User};
use wharf_meta::RepoSettings;
use wharf_oci::{Algorithm, Digest, Reference};

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

async fn setup(dir: &std::path::Path) -> (Registry, Repo) {
    let blobs = FsBlobStore::open(dir.join("blobs")).unwrap();
    let reg = Registry::new(Arc::new(blobs), wharf_meta::testing::store(dir).await);
    let repo = Repo::new(reg.default_account(), "team/app".parse().unwrap());
    reg.create_repository(&repo, &RepoSettings::default(), &[])
        .await
        .unwrap();
    (reg, repo)
}

fn stream(bytes: Vec<u8>) -> wharf_blob::ByteStream {
    futures::stream::once(async move { Ok(Bytes::from(bytes)) }).boxed()
}

async fn blob(reg: &Registry, repo: &Repo, fill: u8, size: usize) -> Digest {
    let bytes = vec![fill; size];
    let digest = Digest::of(Algorithm::Sha256, &bytes);
    reg.push_blob(repo, &digest, stream(bytes)).await.unwrap();
    digest
}

/// Pushes an image of a config of `config` bytes and layers of `layers` bytes; its digest.
async fn push_image(
    reg: &Registry,
    repo: &Repo,
    tag: &str,
    seed: u8,
    config: usize,
    layers: &[usize],
) -> Digest {
    let c = blob(reg, repo, seed, config).await;
    let mut descriptors = Vec::new();
    for (i, size) in layers.iter().enumerate() {
        let l = blob(reg, repo, seed.wrapping_add(i as u8 + 1), *size).await;
        descriptors.push(format!(
            r#"{{"mediaType":"{OCI_LAYER}","digest":"{l}","size":{size}}}"#
        ));
    }
    let body = format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"{OCI_CONFIG}","digest":"{c}","size":{config}}},"layers":[{}]}}"#,
        descriptors.join(",")
    );
    reg.put_manifest(
        repo,
        &tag.parse::<Reference>().unwrap(),
        &[],
        Some(OCI_MANIFEST),
        body.as_bytes(),
    )
    .await
    .unwrap()
    .digest
}

async fn image_size(reg: &Registry, repo: &Repo, digest: &Digest) -> i64 {
    reg.meta()
        .image(repo.key(), digest)
        .await
        .unwrap()
        .unwrap()
        .image_size
}

fn user(reg: &Registry, name: &str) -> Principal {
    Principal::User(User {
        id: 1,
        account: reg.default_account(),
        name: name.into(),
        access_key: "AKIATEST".into(),
    })
}

#[tokio::test]
async fn image_size_counts_layers_and_config_and_an_index_its_largest_child() {
    let dir = tempfile::tempdir().unwrap();
    let (reg, repo) = setup(dir.path()).await;
    // The AWS CLI reference's example: layers 48315478 bytes + config 2777 = 48318255; smaller
    // here, the same sum.
    let small = push_image(&reg, &repo, "small", 1, 2777, &[1000, 478]).await;
    assert_eq!(image_size(&reg, &repo, &small).await, 2777 + 1000 + 478);
    let big = push_image(&reg, &repo, "big", 10, 100, &[5000]).await;
    assert_eq!(image_size(&reg, &repo, &big).await, 5100);
    let child = |d: &Digest| format!(r#"{{"mediaType":"{OCI_MANIFEST}","digest":"{d}","size":1}}"#);
    let index = format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[{},{}]}}"#,
        child(&small),
        child(&big)
    );
    let index = reg
        .put_manifest(
            &repo,
            &"multi".parse::<Reference>().unwrap(),
            &[],
            Some(OCI_INDEX),
            index.as_bytes(),
        )
        .await
        .unwrap()
        .digest;
    assert_eq!(image_size(&reg, &repo, &index).await, 5100);
}

#[tokio::test]
async fn excluded_principals_pulls_are_not_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let (reg, repo) = setup(dir.path()).await;
    let digest = push_image(&reg, &repo, "v1", 1, 10, &[20]).await;
    let scanner = user(&reg, "scanner");
    let account = reg.default_account();
    reg.meta()
        .register_pull_exclusion(account.as_str(), &scanner.arn())
        .await
        .unwrap()
        .unwrap();
    let pulled = || async {
        reg.meta()
            .image(repo.key(), &digest)
            .await
            .unwrap()
            .unwrap()
            .last_pulled_at
    };
    // BatchGetImage's path (waits for the write) and /v2/'s (records in the background).
    reg.record_pull(&repo, &digest, &scanner).await.unwrap();
    reg.note_pull(&repo, &digest, &scanner);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        pulled().await,
        None,
        "an excluded principal's pulls leave no pull time"
    );
    // Its pulls did not use up the once-an-hour slot: the next pull by anyone else is recorded.
    reg.note_pull(&repo, &digest, &user(&reg, "dev"));
    let mut recorded = None;
    for _ in 0..50 {
        recorded = pulled().await;
        if recorded.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        recorded.is_some(),
        "a pull by a principal not excluded is recorded"
    );
    // Another account's exclusion list does not apply to this registry.
    let other = Repo::new(reg.default_account(), "team/other".parse().unwrap());
    reg.create_repository(&other, &RepoSettings::default(), &[])
        .await
        .unwrap();
    let d2 = push_image(&reg, &other, "v1", 7, 10, &[30]).await;
    reg.meta()
        .create_account("555566667777", "other")
        .await
        .unwrap();
    let elsewhere = user(&reg, "elsewhere");
    reg.meta()
        .register_pull_exclusion("555566667777", &elsewhere.arn())
        .await
        .unwrap()
        .unwrap();
    reg.record_pull(&other, &d2, &elsewhere).await.unwrap();
    assert!(reg
        .meta()
        .image(other.key(), &d2)
        .await
        .unwrap()
        .unwrap()
        .last_pulled_at
        .is_some());
}

#[tokio::test]
async fn blob_media_type_comes_from_the_referencing_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let (reg, repo) = setup(dir.path()).await;
    let lone = blob(&reg, &repo, 9, 40).await;
    assert_eq!(
        reg.blob_media_type(&repo, &lone).await.unwrap(),
        None,
        "no manifest references it yet"
    );
    push_image(&reg, &repo, "v1", 1, 10, &[20]).await;
    let config = Digest::of(Algorithm::Sha256, &[1u8; 10]);
    let layer = Digest::of(Algorithm::Sha256, &[2u8; 20]);
    assert_eq!(
        reg.blob_media_type(&repo, &config)
            .await
            .unwrap()
            .as_deref(),
        Some(OCI_CONFIG)
    );
    assert_eq!(
        reg.blob_media_type(&repo, &layer).await.unwrap().as_deref(),
        Some(OCI_LAYER)
    );
}

#[tokio::test]
async fn layer_parts_remember_the_smallest_earlier_part() {
    let dir = tempfile::tempdir().unwrap();
    let (reg, repo) = setup(dir.path()).await;
    let up = reg.start_upload(&repo).await.unwrap();
    let a = reg
        .append_layer_part(&repo, &up.id, 0, stream(vec![1; 300]))
        .await
        .unwrap();
    assert_eq!((a.size, a.smallest_earlier_part), (300, None));
    let b = reg
        .append_layer_part(&repo, &up.id, 300, stream(vec![2; 500]))
        .await
        .unwrap();
    assert_eq!((b.size, b.smallest_earlier_part), (800, Some(300)));
    let c = reg
        .append_layer_part(&repo, &up.id, 800, stream(vec![3; 10]))
        .await
        .unwrap();
    assert_eq!((c.size, c.smallest_earlier_part), (810, Some(300)));
    assert_eq!(reg.upload_status(&repo, &up.id).await.unwrap(), c);
    // The last part is never judged, however small: completion still works here (ECR's minimum
    // is the API's business).
    let mut all = vec![1u8; 300];
    all.extend([2u8; 500]);
    all.extend([3u8; 10]);
    let digest = Digest::of(Algorithm::Sha256, &all);
    assert_eq!(
        reg.finish_upload(&repo, &up.id, &digest, None, None)
            .await
            .unwrap(),
        810
    );
}
