//! One conformance suite for every `BlobStore`: the filesystem store, the in-memory object store
//! and a real S3-compatible server (Garage in CI). The S3 run needs `WHARF_TEST_S3_ENDPOINT`,
//! `WHARF_TEST_S3_BUCKET`, `WHARF_TEST_S3_REGION`, `WHARF_TEST_S3_ACCESS_KEY_ID` and
//! `WHARF_TEST_S3_SECRET_ACCESS_KEY`; without them it is skipped, unless
//! `WHARF_TEST_S3_REQUIRED=1` (as scripts/test.sh sets), which turns a missing server into a
//! failure.

use bytes::Bytes;
use futures::StreamExt;
use std::sync::Arc;
use wharf_blob::{
    BlobError, BlobStore, ByteStream, FsBlobStore, Ingest, ObjectBlobStore, S3Config,
};
use wharf_oci::{Algorithm, Digest};

fn body(parts: Vec<Vec<u8>>) -> ByteStream {
    Box::pin(futures::stream::iter(
        parts.into_iter().map(|p| Ok(Bytes::from(p))),
    ))
}

/// A body that yields `good` and then fails.
fn failing(good: Vec<u8>) -> ByteStream {
    Box::pin(futures::stream::iter(vec![
        Ok(Bytes::from(good)),
        Err(std::io::Error::other("client went away")),
    ]))
}

async fn collect(s: ByteStream) -> Vec<u8> {
    let mut out = Vec::new();
    let mut s = s;
    while let Some(c) = s.next().await {
        out.extend_from_slice(&c.unwrap());
    }
    out
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

#[path = "conformance/sealed.rs"]
mod sealed;

fn plain() -> Ingest {
    Ingest::plain(Algorithm::Sha256.hasher())
}

/// Uploads `parts` as consecutive appends; returns the digest of their bytes.
async fn upload(store: &dyn BlobStore, id: &str, parts: &[Vec<u8>]) -> Digest {
    store.create_upload(id).await.unwrap();
    let mut ingest = plain();
    let mut offset = 0;
    for p in parts {
        let a = store
            .append_upload(id, offset, body(vec![p.clone()]), ingest)
            .await
            .unwrap();
        offset = a.size;
        ingest = a.ingest;
    }
    let digest = ingest.into_hasher().finish();
    assert_eq!(digest, Digest::of(Algorithm::Sha256, &parts.concat()));
    digest
}

/// Uploads `parts` as consecutive appends and commits them; returns the digest and bytes.
async fn put(store: &dyn BlobStore, id: &str, parts: &[Vec<u8>]) -> (Digest, Vec<u8>) {
    let digest = upload(store, id, parts).await;
    assert!(store.commit_upload(id, &digest, true).await.unwrap());
    (digest, parts.concat())
}

async fn uploads_append_read_and_commit(store: &dyn BlobStore) {
    assert_eq!(store.upload_size("u-none").await.unwrap(), None);
    let missing = store
        .append_upload("u-none", 0, body(vec![b"x".to_vec()]), plain())
        .await;
    assert!(matches!(missing, Err(BlobError::UploadNotFound)));

    store.create_upload("u-1").await.unwrap();
    assert_eq!(store.upload_size("u-1").await.unwrap(), Some(0));
    // Three appends, the middle one larger than a single PUT (so multipart on object stores).
    let parts = [pattern(1000, 1), pattern(9 << 20, 2), pattern(777, 3)];
    let mut ingest = plain();
    let mut offset = 0u64;
    for p in &parts {
        let a = store
            .append_upload(
                "u-1",
                offset,
                body(vec![p[..p.len() / 2].to_vec(), p[p.len() / 2..].to_vec()]),
                ingest,
            )
            .await
            .unwrap();
        assert_eq!(a.size, offset + p.len() as u64);
        assert_eq!(a.ingest.received(), offset + p.len() as u64);
        offset = a.size;
        ingest = a.ingest;
    }
    let all = parts.concat();
    assert_eq!(
        store.upload_size("u-1").await.unwrap(),
        Some(all.len() as u64)
    );
    assert_eq!(collect(store.read_upload("u-1").await.unwrap()).await, all);
    let digest = ingest.into_hasher().finish();
    assert_eq!(digest, Digest::of(Algorithm::Sha256, &all));
    assert_eq!(
        store.stat(&digest).await.unwrap(),
        None,
        "not visible before commit"
    );
    assert!(store.commit_upload("u-1", &digest, false).await.unwrap());
    assert_eq!(
        store.upload_size("u-1").await.unwrap(),
        None,
        "upload gone after commit"
    );
    assert_eq!(store.stat(&digest).await.unwrap(), Some(all.len() as u64));
    let whole = collect(store.read(&digest, 0, all.len() as u64).await.unwrap()).await;
    assert!(whole == all, "whole blob reads back");
    let range = collect(store.read(&digest, 5000, 100).await.unwrap()).await;
    assert_eq!(range, all[5000..5100]);
    assert!(collect(store.read(&digest, 10, 0).await.unwrap())
        .await
        .is_empty());

    // One-chunk and empty uploads.
    let (d, bytes) = put(store, "u-2", &[b"single chunk".to_vec()]).await;
    assert_eq!(collect(store.read(&d, 0, 12).await.unwrap()).await, bytes);
    let (empty, _) = put(store, "u-3", &[]).await;
    assert_eq!(store.stat(&empty).await.unwrap(), Some(0));

    let unknown = Digest::of(Algorithm::Sha256, b"never stored");
    assert!(matches!(
        store.read(&unknown, 0, 1).await,
        Err(BlobError::NotFound)
    ));
    assert_eq!(store.stat(&unknown).await.unwrap(), None);
}

async fn appends_truncate_and_failed_bodies_leave_nothing(store: &dyn BlobStore) {
    store.create_upload("t-1").await.unwrap();
    let a = store
        .append_upload("t-1", 0, body(vec![b"abcdef".to_vec()]), plain())
        .await
        .unwrap();
    assert_eq!(a.size, 6);
    // A retry from offset 3 replaces what followed it.
    let mut h = Algorithm::Sha256.hasher();
    h.update(b"abc");
    let a = store
        .append_upload("t-1", 3, body(vec![b"XY".to_vec()]), Ingest::plain(h))
        .await
        .unwrap();
    assert_eq!(a.size, 5);
    assert_eq!(
        a.ingest.into_hasher().finish(),
        Digest::of(Algorithm::Sha256, b"abcXY")
    );
    assert_eq!(
        collect(store.read_upload("t-1").await.unwrap()).await,
        b"abcXY"
    );

    // A body that fails midway leaves the upload as it was.
    let r = store
        .append_upload("t-1", 5, failing(b"lost".to_vec()), plain())
        .await;
    assert!(matches!(r, Err(BlobError::Body(_))), "{:?}", r.err());
    assert_eq!(store.upload_size("t-1").await.unwrap(), Some(5));
    assert_eq!(
        collect(store.read_upload("t-1").await.unwrap()).await,
        b"abcXY"
    );
    let big = store
        .append_upload("t-1", 5, failing(pattern(9 << 20, 9)), plain())
        .await;
    assert!(matches!(big, Err(BlobError::Body(_))));
    assert_eq!(store.upload_size("t-1").await.unwrap(), Some(5));

    let listed = store.list_uploads().await.unwrap();
    let t1 = listed
        .iter()
        .find(|(id, _)| id == "t-1")
        .expect("t-1 listed");
    assert_eq!(t1.1.size, 5);
    store.delete_upload("t-1").await.unwrap();
    assert_eq!(store.upload_size("t-1").await.unwrap(), None);
    store.delete_upload("t-1").await.unwrap();
    assert!(!store
        .list_uploads()
        .await
        .unwrap()
        .iter()
        .any(|(id, _)| id == "t-1"));
}

async fn trash_restore_and_purge(store: &dyn BlobStore) {
    let (d, bytes) = put(store, "g-1", &[b"garbage candidate".to_vec()]).await;
    assert!(store
        .list_blobs()
        .await
        .unwrap()
        .iter()
        .any(|(x, i)| x == &d && i.size == bytes.len() as u64));
    let info = store.trash(&d, 7).await.unwrap().expect("trashed");
    assert_eq!(info.size, bytes.len() as u64);
    assert_eq!(store.stat(&d).await.unwrap(), None);
    assert!(store.list_trash().await.unwrap().contains(&(d.clone(), 7)));
    assert!(store.restore(&d, 7).await.unwrap(), "bytes go back");
    assert_eq!(
        collect(store.read(&d, 0, bytes.len() as u64).await.unwrap()).await,
        bytes
    );
    assert!(!store.list_trash().await.unwrap().contains(&(d.clone(), 7)));

    store.trash(&d, 8).await.unwrap().expect("trashed again");
    store.purge_trash(&d, 8).await.unwrap();
    assert!(
        !store.restore(&d, 8).await.unwrap(),
        "nothing to restore after a purge"
    );
    assert_eq!(store.stat(&d).await.unwrap(), None);
    assert!(
        store.trash(&d, 9).await.unwrap().is_none(),
        "nothing at the address"
    );

    // A new upload of the same bytes while they sit in the trash: the restore drops the trash.
    put(store, "g-2", std::slice::from_ref(&bytes)).await;
    store.trash(&d, 10).await.unwrap().unwrap();
    put(store, "g-3", std::slice::from_ref(&bytes)).await;
    assert!(!store.restore(&d, 10).await.unwrap());
    assert_eq!(store.stat(&d).await.unwrap(), Some(bytes.len() as u64));
    assert!(!store.list_trash().await.unwrap().contains(&(d.clone(), 10)));

    store.delete(&d).await.unwrap();
    store.delete(&d).await.unwrap();
    assert_eq!(store.stat(&d).await.unwrap(), None);
}

/// `commit_upload(.., replace = false)` never overwrites: whatever path the store takes (an empty
/// upload, one chunk, several chunks), an occupied address keeps its bytes and the upload stays
/// for the caller to retry or drop. `replace = true` overwrites.
async fn commits_without_replace_keep_the_first_bytes(store: &dyn BlobStore) {
    let first = pattern(3000, 40);
    let d = upload(store, "r-1", std::slice::from_ref(&first)).await;
    assert!(store.commit_upload("r-1", &d, false).await.unwrap());
    let uploads: [(&str, Vec<Vec<u8>>); 3] = [
        ("r-empty", vec![]),
        ("r-one", vec![pattern(100, 41)]),
        ("r-two", vec![pattern(100, 42), pattern(50, 43)]),
    ];
    for (id, parts) in &uploads {
        upload(store, id, parts).await;
        assert!(
            !store.commit_upload(id, &d, false).await.unwrap(),
            "{id} must not replace"
        );
        let size: usize = parts.iter().map(Vec::len).sum();
        assert_eq!(
            store.upload_size(id).await.unwrap(),
            Some(size as u64),
            "{id} kept"
        );
        assert_eq!(
            collect(store.read(&d, 0, first.len() as u64).await.unwrap()).await,
            first,
            "{id}: the address keeps its bytes"
        );
    }
    assert!(store.commit_upload("r-two", &d, true).await.unwrap());
    assert_eq!(store.upload_size("r-two").await.unwrap(), None);
    assert_eq!(
        collect(store.read(&d, 0, 150).await.unwrap()).await,
        [pattern(100, 42), pattern(50, 43)].concat()
    );
    for id in ["r-empty", "r-one"] {
        store.delete_upload(id).await.unwrap();
    }
    assert!(matches!(
        store.commit_upload("r-none", &d, false).await,
        Err(BlobError::UploadNotFound)
    ));
    store.delete(&d).await.unwrap();
}

async fn no_download_urls_unless_configured(store: &dyn BlobStore) {
    let (d, _) = put(store, "url-1", &[b"served by wharf".to_vec()]).await;
    let url = store
        .download_url(&d, std::time::Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(url, None);
}

/// A fresh store has no owner; the mark reads back and can be replaced.
async fn owner_mark(store: &dyn BlobStore) {
    assert_eq!(store.owner().await.unwrap(), None);
    store.set_owner("0123abcd").await.unwrap();
    assert_eq!(store.owner().await.unwrap().as_deref(), Some("0123abcd"));
    store.set_owner("4567ef").await.unwrap();
    assert_eq!(store.owner().await.unwrap().as_deref(), Some("4567ef"));
    // The mark is not a blob: listings and garbage collection never see it.
    assert!(store.list_blobs().await.unwrap().is_empty());
}

/// The listing garbage collection streams: every committed blob once, with its size, whatever
/// directory or key prefix it sits under; uploads in progress are not blobs.
async fn listing_streams_every_blob(store: &dyn BlobStore) {
    let mut want = Vec::new();
    for i in 0..6u8 {
        let (d, bytes) = put(store, &format!("l-{i}"), &[pattern(100 + i as usize, i)]).await;
        want.push((d, bytes.len() as u64));
    }
    store.create_upload("l-open").await.unwrap();
    let mut listing = store.blob_listing();
    let mut got = Vec::new();
    while let Some(item) = listing.next().await {
        let (d, info) = item.unwrap();
        got.push((d, info.size));
    }
    for w in &want {
        assert_eq!(
            got.iter().filter(|g| g.0 == w.0).count(),
            1,
            "{} listed once",
            w.0
        );
        assert!(got.contains(w), "{} listed with its size", w.0);
    }
    store.delete_upload("l-open").await.unwrap();
}

async fn suite(store: Arc<dyn BlobStore>) {
    owner_mark(store.as_ref()).await;
    no_download_urls_unless_configured(store.as_ref()).await;
    uploads_append_read_and_commit(store.as_ref()).await;
    appends_truncate_and_failed_bodies_leave_nothing(store.as_ref()).await;
    trash_restore_and_purge(store.as_ref()).await;
    listing_streams_every_blob(store.as_ref()).await;
    commits_without_replace_keep_the_first_bytes(store.as_ref()).await;
    sealed::suite(store.as_ref()).await;
}

#[tokio::test]
async fn filesystem_store_conforms() {
    let dir = tempfile::tempdir().unwrap();
    suite(Arc::new(FsBlobStore::open(dir.path()).unwrap())).await;
}

#[tokio::test]
async fn memory_store_conforms() {
    suite(Arc::new(ObjectBlobStore::memory())).await;
}

#[tokio::test]
async fn s3_store_conforms() {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
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
        eprintln!("skipping the S3 run: WHARF_TEST_S3_ENDPOINT and friends are not set");
        return;
    };
    let config = S3Config {
        endpoint: Some(endpoint),
        region: var("WHARF_TEST_S3_REGION").unwrap_or_else(|| "garage".into()),
        bucket,
        access_key_id: key,
        secret_access_key: secret,
        path_style: true,
        prefix: format!("conformance-{}", std::process::id()),
        redirect: false,
    };
    suite(Arc::new(ObjectBlobStore::s3(&config).unwrap())).await;

    // With redirects on, a presigned URL serves the bytes (and ranges) without credentials.
    let store = ObjectBlobStore::s3(&S3Config {
        redirect: true,
        ..config
    })
    .unwrap();
    let (d, bytes) = put(&store, "url-2", &[pattern(4096, 7)]).await;
    let url = store
        .download_url(&d, std::time::Duration::from_secs(60))
        .await
        .unwrap()
        .expect("a presigned URL");
    let http = reqwest::Client::new();
    let got = http.get(&url).send().await.unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.unwrap().to_vec(), bytes);
    let part = http
        .get(&url)
        .header("range", "bytes=10-19")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(part.bytes().await.unwrap().to_vec(), bytes[10..20]);
    let forged = url.replace("X-Amz-Signature=", "X-Amz-Signature=0");
    assert_eq!(http.get(&forged).send().await.unwrap().status(), 403);
}
