//! The blob pass against memory stores: copies verified, present blobs skipped, missing ones
//! counted, corrupt source bytes never committed, and the late pass finding only new rows.

use super::blobs::{one_blob, BlobMode, Outcome, Pass, Stored};
use super::Progress;
use std::sync::Arc;
use wharf_blob::{BlobStore, Ingest, ObjectBlobStore};
use wharf_meta::{MetaStore, RepoKey};
use wharf_oci::Digest;

/// `body` as a blob-store byte stream.
fn stream_of(body: &[u8]) -> wharf_blob::ByteStream {
    let bytes = bytes::Bytes::copy_from_slice(body);
    Box::pin(futures::stream::once(async move { Ok(bytes) }))
}

/// Stores `body` in `store` under `digest` (which need not be its hash) through upload `id`.
async fn store_as(store: &dyn BlobStore, id: &str, body: &[u8], digest: &Digest) {
    store.create_upload(id).await.unwrap();
    store
        .append_upload(
            id,
            0,
            stream_of(body),
            Ingest::plain(digest.algorithm().hasher()),
        )
        .await
        .unwrap();
    store.commit_upload(id, digest, true).await.unwrap();
}

fn quiet(_: Progress<'_>) {}

#[tokio::test]
async fn blobs_copy_verified_and_skipped() {
    let from: Arc<dyn BlobStore> = Arc::new(ObjectBlobStore::memory());
    let to: Arc<dyn BlobStore> = Arc::new(ObjectBlobStore::memory());
    let body = b"hello, migration".to_vec();
    let digest = Digest::sha256(&body);
    let size = body.len() as u64;
    store_as(from.as_ref(), "u", &body, &digest).await;

    let planned = one_blob(
        from.as_ref(),
        Some(to.as_ref()),
        &digest,
        size,
        Stored::Plain,
        BlobMode::Plan,
    )
    .await
    .unwrap();
    assert!(matches!(planned, Outcome::Copied));
    assert_eq!(
        to.stat(&digest).await.unwrap(),
        None,
        "planning writes nothing"
    );
    let copied = one_blob(
        from.as_ref(),
        Some(to.as_ref()),
        &digest,
        size,
        Stored::Plain,
        BlobMode::Copy,
    )
    .await
    .unwrap();
    assert!(matches!(copied, Outcome::Copied));
    assert_eq!(to.stat(&digest).await.unwrap(), Some(size));
    let again = one_blob(
        from.as_ref(),
        Some(to.as_ref()),
        &digest,
        size,
        Stored::Plain,
        BlobMode::Copy,
    )
    .await
    .unwrap();
    assert!(matches!(again, Outcome::Skipped));

    let absent = Digest::sha256(b"absent");
    let missing = one_blob(
        from.as_ref(),
        Some(to.as_ref()),
        &absent,
        6,
        Stored::Plain,
        BlobMode::Copy,
    )
    .await
    .unwrap();
    assert!(matches!(missing, Outcome::Missing));
    let wrong_size = one_blob(
        from.as_ref(),
        None,
        &digest,
        size + 1,
        Stored::Plain,
        BlobMode::Plan,
    )
    .await
    .expect_err("a size mismatch fails");
    assert!(wrong_size.to_string().contains("metadata records"));

    // Bytes that do not hash to their address are never committed in the target.
    let liar = Digest::sha256(b"something else entirely");
    store_as(from.as_ref(), "v", &body, &liar).await;
    let err = one_blob(
        from.as_ref(),
        Some(to.as_ref()),
        &liar,
        size,
        Stored::Plain,
        BlobMode::Copy,
    )
    .await
    .expect_err("a corrupt source blob fails");
    assert!(err.to_string().contains("corrupt"), "{err}");
    assert_eq!(to.stat(&liar).await.unwrap(), None);
}

#[tokio::test]
async fn blob_pass_copies_skips_and_finds_late_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let meta = MetaStore::open_sqlite(&tmp.path().join("meta.db"))
        .await
        .unwrap();
    let account = meta.default_account().to_owned();
    let repo = RepoKey {
        account: &account,
        name: "r",
    };
    let from: Arc<dyn BlobStore> = Arc::new(ObjectBlobStore::memory());
    let to: Arc<dyn BlobStore> = Arc::new(ObjectBlobStore::memory());
    let put = |i: u32| {
        let (from, meta) = (from.clone(), meta.clone());
        async move {
            let body = format!("blob number {i}").into_bytes();
            let digest = Digest::sha256(&body);
            store_as(from.as_ref(), &format!("u{i}"), &body, &digest).await;
            meta.record_blob(repo, &digest, body.len() as u64, None, None)
                .await
                .unwrap();
            digest
        }
    };
    for i in 0..7 {
        put(i).await;
    }
    // One row whose bytes are gone from the source.
    meta.record_blob(repo, &Digest::sha256(b"gone"), 4, None, None)
        .await
        .unwrap();
    let pass = |concurrency| Pass {
        from: from.clone(),
        to: Some(to.clone()),
        concurrency,
        mode: BlobMode::Copy,
        progress: &quiet,
    };

    let first = pass(3).run(&meta, None, 8).await.unwrap();
    assert_eq!((first.seen, first.copied, first.skipped), (8, 7, 0));
    assert_eq!(first.missing_count, 1);
    let err = first.fail_on_missing("x").unwrap_err();
    assert!(err
        .to_string()
        .contains(&Digest::sha256(b"gone").to_string()));

    // Rows recorded after the pass are the only ones a pass skipping its digests sees.
    let late = put(7).await;
    let second = pass(3).run(&meta, Some(&first.handled), 0).await.unwrap();
    assert_eq!((second.seen, second.copied), (1, 1));
    assert!(second.handled.contains(&late.to_string()));
    assert!(to.stat(&late).await.unwrap().is_some());

    // A full pass again: everything present is skipped.
    let third = pass(2).run(&meta, None, 9).await.unwrap();
    assert_eq!(
        (third.copied, third.skipped, third.missing_count),
        (0, 8, 1)
    );
    meta.close().await;
}
