//! Encryption over a real S3 server (Garage in CI, `WHARF_TEST_S3_*`; skipped without it unless
//! `WHARF_TEST_S3_REQUIRED=1`): no plaintext in the bucket, reads across segments, and presigned
//! redirects refused for sealed blobs while a blob stored before encryption still redirects.

use super::*;
use object_store::ObjectStoreExt;
use wharf_blob::{ObjectBlobStore, S3Config};

fn config() -> Option<S3Config> {
    let var = |k: &str| std::env::var(k).ok();
    let (Some(endpoint), Some(bucket), Some(key), Some(secret)) = (
        var("WHARF_TEST_S3_ENDPOINT"),
        var("WHARF_TEST_S3_BUCKET"),
        var("WHARF_TEST_S3_ACCESS_KEY_ID"),
        var("WHARF_TEST_S3_SECRET_ACCESS_KEY"),
    ) else {
        assert!(
            var("WHARF_TEST_S3_REQUIRED").is_none(),
            "WHARF_TEST_S3_REQUIRED is set but the S3 test server's settings are missing"
        );
        eprintln!("skipping: WHARF_TEST_S3_ENDPOINT and friends are not set");
        return None;
    };
    Some(S3Config {
        endpoint: Some(endpoint),
        region: var("WHARF_TEST_S3_REGION").unwrap_or_else(|| "garage".into()),
        bucket,
        access_key_id: key,
        secret_access_key: secret,
        path_style: true,
        prefix: format!("encryption-{}-{}", std::process::id(), next_run()),
        redirect: true,
    })
}

/// A distinct suffix per call within the process.
fn next_run() -> u64 {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

#[tokio::test]
async fn sealed_blobs_in_s3_are_ciphertext_and_never_redirected() {
    let Some(config) = config() else { return };
    let dir = tempfile::tempdir().unwrap();
    let meta = wharf_meta::testing::store(dir.path()).await;
    let store = Arc::new(ObjectBlobStore::s3(&config).unwrap());
    let ring = master::random_key();
    let sealed = Registry::new(store.clone(), meta.clone())
        .with_keys(Keys::with_master(MasterKeyring::single(1, &ring), true));
    let plain = Registry::new(store.clone(), meta.clone())
        .with_keys(Keys::with_master(MasterKeyring::single(1, &ring), false));
    let repo = Repo::new(
        meta.default_account().parse().unwrap(),
        "enc/s3".parse().unwrap(),
    );
    sealed
        .create_repository(&repo, &RepoSettings::default(), &[])
        .await
        .unwrap();

    let bytes = pattern(200_000, 50);
    let d = push(&sealed, &repo, &bytes).await;
    assert_eq!(read(&sealed, &repo, &d, 0, u64::MAX).await.unwrap(), bytes);
    assert_eq!(
        read(&sealed, &repo, &d, 65_000, 70_000).await.unwrap(),
        bytes[65_000..135_000]
    );
    // The object in the bucket, read with S3 directly, is ciphertext.
    let raw = raw_object(&config, &d).await;
    assert_eq!(
        raw.len() as u64,
        wharf_blob::seal::sealed_len(bytes.len() as u64)
    );
    assert!(!raw.windows(32).any(|w| w == &bytes[1000..1032]));
    assert!(
        sealed.blob_download_url(&d).await.unwrap().is_none(),
        "sealed: no redirect"
    );

    // A blob stored in plaintext (as before encryption) still redirects, until sealed.
    let old = pattern(5_000, 51);
    let od = push(&plain, &repo, &old).await;
    let url = sealed.blob_download_url(&od).await.unwrap();
    assert!(url.is_some(), "an unsealed blob redirects");
    assert_eq!(sealed.seal_legacy_blobs().await.unwrap().sealed, 1);
    assert!(sealed.blob_download_url(&od).await.unwrap().is_none());
    assert_eq!(read(&sealed, &repo, &od, 0, u64::MAX).await.unwrap(), old);
}

async fn raw_object(config: &S3Config, d: &Digest) -> Vec<u8> {
    let s3 = object_store::aws::AmazonS3Builder::new()
        .with_endpoint(config.endpoint.clone().unwrap())
        .with_region(&config.region)
        .with_bucket_name(&config.bucket)
        .with_access_key_id(&config.access_key_id)
        .with_secret_access_key(&config.secret_access_key)
        .with_allow_http(true)
        .with_virtual_hosted_style_request(false)
        .build()
        .unwrap();
    let key = object_store::path::Path::from(format!("{}/blobs/sha256/{}", config.prefix, d.hex()));
    s3.get(&key).await.unwrap().bytes().await.unwrap().to_vec()
}
