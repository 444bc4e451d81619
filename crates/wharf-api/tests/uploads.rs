//! Blob uploads over HTTP: sessions, monolithic pushes, streamed and chunked PATCHes, out-of-order
//! chunks, status, cancellation, digest checks, upload-id scoping, cross-repository mounts, sha512,
//! truncated bodies (sent over a raw socket) and purging of stale uploads.

mod common;

use common::{expect_error, header, opt_header, raw_exchange, sha256, sha512, with_query, Server};
use reqwest::{Method, StatusCode};

fn data(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 251) as u8).collect()
}

#[tokio::test]
async fn post_opens_a_session() {
    let s = Server::start().await;
    let resp = s
        .req(Method::POST, "/v2/lib/app/blobs/uploads/")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let location = header(&resp, "location");
    let id = header(&resp, "docker-upload-uuid");
    assert_eq!(location, format!("/v2/lib/app/blobs/uploads/{id}"));
    assert_eq!(header(&resp, "range"), "0-0");
    // The same works without the trailing slash.
    let resp = s
        .req(Method::POST, "/v2/lib/app/blobs/uploads")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
}

#[tokio::test]
async fn monolithic_post_with_digest() {
    let s = Server::start().await;
    let bytes = data(1000);
    let d = sha256(&bytes);
    let resp = s
        .req(Method::POST, &format!("/v2/r/blobs/uploads/?digest={d}"))
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(header(&resp, "location"), format!("/v2/r/blobs/{d}"));
    assert_eq!(header(&resp, "docker-content-digest"), d);
    let got = s.get(&format!("/v2/r/blobs/{d}")).await;
    assert_eq!(got.bytes().await.unwrap().as_ref(), &bytes[..]);
}

#[tokio::test]
async fn monolithic_post_with_wrong_digest_stores_nothing() {
    let s = Server::start().await;
    let claimed = sha256(b"something else");
    let resp = s
        .req(
            Method::POST,
            &format!("/v2/r/blobs/uploads/?digest={claimed}"),
        )
        .body(b"actual bytes".to_vec())
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::BAD_REQUEST, "DIGEST_INVALID").await;
    for d in [claimed, sha256(b"actual bytes")] {
        assert_eq!(s.head(&format!("/v2/r/blobs/{d}")).await.status(), 404);
    }
    assert!(s.scratch_files().is_empty(), "{:?}", s.scratch_files());
}

#[tokio::test]
async fn post_then_put_with_body() {
    let s = Server::start().await;
    let bytes = data(4096);
    let d = sha256(&bytes);
    let loc = s.start_upload("r").await;
    let resp = s.finish(&loc, &d, &bytes).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(header(&resp, "location"), format!("/v2/r/blobs/{d}"));
    assert_eq!(header(&resp, "docker-content-digest"), d);
    let got = s.get(&format!("/v2/r/blobs/{d}")).await;
    assert_eq!(got.bytes().await.unwrap().as_ref(), &bytes[..]);
    // A finished upload is gone.
    expect_error(
        s.get(&loc).await,
        StatusCode::NOT_FOUND,
        "BLOB_UPLOAD_UNKNOWN",
    )
    .await;
}

#[tokio::test]
async fn streamed_patch_then_put() {
    let s = Server::start().await;
    let bytes = data(300_000);
    let d = sha256(&bytes);
    let loc = s.start_upload("r").await;
    // Streamed: no Content-Range, the body is sent chunked.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        bytes.chunks(7000).map(|c| Ok(c.to_vec())).collect();
    let resp = s
        .req(Method::PATCH, &loc)
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    assert_eq!(header(&resp, "range"), "0-299999");
    let loc = header(&resp, "location");
    let resp = s.finish(&loc, &d, b"").await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let got = s.get(&format!("/v2/r/blobs/{d}")).await;
    assert_eq!(got.bytes().await.unwrap().as_ref(), &bytes[..]);
}

#[tokio::test]
async fn chunked_patches_then_put() {
    let s = Server::start().await;
    let bytes = data(10_000);
    let d = sha256(&bytes);
    let mut loc = s.start_upload("r").await;
    let mut offset = 0u64;
    for chunk in bytes.chunks(3000) {
        let resp = s.patch(&loc, Some(offset), chunk).await;
        assert_eq!(resp.status(), StatusCode::ACCEPTED);
        offset += chunk.len() as u64;
        assert_eq!(header(&resp, "range"), format!("0-{}", offset - 1));
        assert!(opt_header(&resp, "docker-upload-uuid").is_some());
        loc = header(&resp, "location");
    }
    let resp = s.finish(&loc, &d, b"").await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(header(&resp, "docker-content-digest"), d);
    let got = s.get(&format!("/v2/r/blobs/{d}")).await;
    assert_eq!(got.bytes().await.unwrap().as_ref(), &bytes[..]);
}

#[tokio::test]
async fn put_may_carry_the_last_chunk_with_content_range() {
    let s = Server::start().await;
    let bytes = data(100);
    let d = sha256(&bytes);
    let loc = s.start_upload("r").await;
    s.patch(&loc, Some(0), &bytes[..60]).await;
    let resp = s
        .req(Method::PUT, &with_query(&loc, &format!("digest={d}")))
        .header("content-range", "60-99")
        .body(bytes[60..].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let got = s.get(&format!("/v2/r/blobs/{d}")).await;
    assert_eq!(got.bytes().await.unwrap().as_ref(), &bytes[..]);
}

#[tokio::test]
async fn out_of_order_patch_is_416_and_resuming_succeeds() {
    let s = Server::start().await;
    let bytes = data(30);
    let d = sha256(&bytes);
    let loc = s.start_upload("r").await;
    assert_eq!(s.patch(&loc, Some(0), &bytes[..10]).await.status(), 202);

    // Skipping ahead and going back are both refused, reporting where the upload is.
    for start in [20u64, 5, 0] {
        let resp = s.patch(&loc, Some(start), &bytes[start as usize..]).await;
        assert_eq!(header(&resp, "range"), "0-9", "start {start}");
        expect_error(
            resp,
            StatusCode::RANGE_NOT_SATISFIABLE,
            "BLOB_UPLOAD_INVALID",
        )
        .await;
    }
    let status = s.get(&loc).await;
    assert_eq!(header(&status, "range"), "0-9");

    // Resuming from the reported offset works and the blob is intact.
    let resp = s.patch(&loc, Some(10), &bytes[10..]).await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    assert_eq!(header(&resp, "range"), "0-29");
    let resp = s.finish(&loc, &d, b"").await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let got = s.get(&format!("/v2/r/blobs/{d}")).await;
    assert_eq!(got.bytes().await.unwrap().as_ref(), &bytes[..]);
}

#[tokio::test]
async fn malformed_content_range_is_refused() {
    let s = Server::start().await;
    let loc = s.start_upload("r").await;
    for bad in ["abc", "5", "9-3", "x-y"] {
        let resp = s
            .req(Method::PATCH, &loc)
            .header("content-range", bad)
            .body(b"12345".to_vec())
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_client_error(), "{bad}: {}", resp.status());
        common::check_envelope(&resp.bytes().await.unwrap());
    }
    assert_eq!(header(&s.get(&loc).await, "range"), "0-0");
}

#[tokio::test]
async fn status_reports_offset_and_location() {
    let s = Server::start().await;
    let loc = s.start_upload("r").await;
    let resp = s.get(&loc).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(header(&resp, "location"), loc);
    assert_eq!(header(&resp, "range"), "0-0");
    s.patch(&loc, None, &data(42)).await;
    let resp = s.get(&loc).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(header(&resp, "range"), "0-41");
    assert_eq!(header(&resp, "location"), loc);
    let id = loc.rsplit('/').next().unwrap();
    assert_eq!(header(&resp, "docker-upload-uuid"), id);
}

#[tokio::test]
async fn delete_cancels_the_upload() {
    let s = Server::start().await;
    let loc = s.start_upload("r").await;
    s.patch(&loc, None, b"abandoned").await;
    let resp = s.delete(&loc).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    expect_error(
        s.get(&loc).await,
        StatusCode::NOT_FOUND,
        "BLOB_UPLOAD_UNKNOWN",
    )
    .await;
    expect_error(
        s.patch(&loc, None, b"more").await,
        StatusCode::NOT_FOUND,
        "BLOB_UPLOAD_UNKNOWN",
    )
    .await;
    expect_error(
        s.delete(&loc).await,
        StatusCode::NOT_FOUND,
        "BLOB_UPLOAD_UNKNOWN",
    )
    .await;
    assert!(s.scratch_files().is_empty(), "{:?}", s.scratch_files());
}

#[tokio::test]
async fn put_with_wrong_digest_is_digest_invalid() {
    let s = Server::start().await;
    let bytes = data(50);
    let loc = s.start_upload("r").await;
    s.patch(&loc, Some(0), &bytes).await;
    let wrong = sha256(b"not these bytes");
    expect_error(
        s.finish(&loc, &wrong, b"").await,
        StatusCode::BAD_REQUEST,
        "DIGEST_INVALID",
    )
    .await;
    assert_eq!(s.head(&format!("/v2/r/blobs/{wrong}")).await.status(), 404);
    // The session survives a wrong digest, so the right one still completes it.
    let resp = s.finish(&loc, &sha256(&bytes), b"").await;
    assert_eq!(resp.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn put_without_or_with_malformed_digest_is_400() {
    let s = Server::start().await;
    let loc = s.start_upload("r").await;
    let resp = s
        .req(Method::PUT, &loc)
        .body(b"x".to_vec())
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::BAD_REQUEST, "DIGEST_INVALID").await;
    let resp = s
        .req(Method::PUT, &with_query(&loc, "digest=sha256:nothex"))
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::BAD_REQUEST, "DIGEST_INVALID").await;
}

#[tokio::test]
async fn unknown_or_garbage_upload_ids_are_upload_unknown() {
    let s = Server::start().await;
    s.start_upload("r").await;
    let d = sha256(b"x");
    for id in [
        "3fa85f64-5717-4562-b3fc-2c963f66afa6",
        "garbage",
        "not-a-uuid-at-all",
        "3FA85F64-5717-4562-B3FC-2C963F66AFA6x",
    ] {
        let path = format!("/v2/r/blobs/uploads/{id}");
        expect_error(
            s.get(&path).await,
            StatusCode::NOT_FOUND,
            "BLOB_UPLOAD_UNKNOWN",
        )
        .await;
        expect_error(
            s.patch(&path, None, b"x").await,
            StatusCode::NOT_FOUND,
            "BLOB_UPLOAD_UNKNOWN",
        )
        .await;
        expect_error(
            s.finish(&path, &d, b"x").await,
            StatusCode::NOT_FOUND,
            "BLOB_UPLOAD_UNKNOWN",
        )
        .await;
        expect_error(
            s.delete(&path).await,
            StatusCode::NOT_FOUND,
            "BLOB_UPLOAD_UNKNOWN",
        )
        .await;
    }
    // Dot segments, sent raw since an HTTP client would resolve them, never name an upload.
    for id in ["%2e%2e", "%2E%2e", "..%2f..%2fmeta.db"] {
        let resp = common::raw(&s, "GET", &format!("/v2/r/blobs/uploads/{id}")).await;
        assert_eq!(resp.status, 404, "{id}: {resp:?}");
        let first = common::check_envelope(&resp.body);
        assert_eq!(first["code"], "BLOB_UPLOAD_UNKNOWN", "{id}");
    }
}

#[tokio::test]
async fn upload_ids_are_scoped_to_their_repository() {
    let s = Server::start().await;
    let loc = s.start_upload("mine").await;
    let id = loc.rsplit('/').next().unwrap();
    let theirs = format!("/v2/theirs/blobs/uploads/{id}");
    let d = sha256(b"hijack");
    expect_error(
        s.get(&theirs).await,
        StatusCode::NOT_FOUND,
        "BLOB_UPLOAD_UNKNOWN",
    )
    .await;
    expect_error(
        s.patch(&theirs, None, b"hijack").await,
        StatusCode::NOT_FOUND,
        "BLOB_UPLOAD_UNKNOWN",
    )
    .await;
    expect_error(
        s.finish(&theirs, &d, b"hijack").await,
        StatusCode::NOT_FOUND,
        "BLOB_UPLOAD_UNKNOWN",
    )
    .await;
    expect_error(
        s.delete(&theirs).await,
        StatusCode::NOT_FOUND,
        "BLOB_UPLOAD_UNKNOWN",
    )
    .await;
    assert_eq!(s.head(&format!("/v2/theirs/blobs/{d}")).await.status(), 404);
    // The owner's session is untouched.
    let resp = s.get(&loc).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(header(&resp, "range"), "0-0");
}

#[tokio::test]
async fn mount_from_another_repository() {
    let s = Server::start().await;
    let bytes = data(500);
    let d = s.push_blob("source/repo", &bytes).await;
    let resp = s
        .req(
            Method::POST,
            &format!("/v2/target/blobs/uploads/?mount={d}&from=source/repo"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(header(&resp, "location"), format!("/v2/target/blobs/{d}"));
    assert_eq!(header(&resp, "docker-content-digest"), d);
    let got = s.get(&format!("/v2/target/blobs/{d}")).await;
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(got.bytes().await.unwrap().as_ref(), &bytes[..]);
    // The bytes exist once, shared by both repositories.
    assert_eq!(s.blob_files(&d).len(), 1);
}

#[tokio::test]
async fn mount_of_a_missing_blob_falls_back_to_a_session() {
    let s = Server::start().await;
    s.push_blob("source", b"present").await;
    let missing = sha256(b"absent");
    for from in ["source", "nowhere", "NOT%20VALID"] {
        let resp = s
            .req(
                Method::POST,
                &format!("/v2/target/blobs/uploads/?mount={missing}&from={from}"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::ACCEPTED, "from {from}");
        let loc = header(&resp, "location");
        assert!(loc.starts_with("/v2/target/blobs/uploads/"), "{loc}");
        assert_eq!(s.get(&loc).await.status(), StatusCode::NO_CONTENT);
    }
    // Without `from`, a blob the registry holds anywhere is mounted (OCI 1.1 anonymous mount), and
    // a blob it holds nowhere falls back to a session.
    let d = s.push_blob("source", b"elsewhere").await;
    let resp = s
        .req(
            Method::POST,
            &format!("/v2/target/blobs/uploads/?mount={d}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(s.head(&format!("/v2/target/blobs/{d}")).await.status(), 200);
    let resp = s
        .req(
            Method::POST,
            &format!("/v2/target/blobs/uploads/?mount={missing}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    assert_eq!(
        s.head(&format!("/v2/target/blobs/{missing}"))
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn mount_of_a_deleted_blob_falls_back_to_a_session() {
    let s = Server::start().await;
    let d = s.push_blob("source", b"soon unlinked").await;
    assert_eq!(
        s.delete(&format!("/v2/source/blobs/{d}")).await.status(),
        202
    );
    for q in [format!("mount={d}&from=source"), format!("mount={d}")] {
        let resp = s
            .req(Method::POST, &format!("/v2/target/blobs/uploads/?{q}"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::ACCEPTED, "{q}");
    }
    assert_eq!(s.head(&format!("/v2/target/blobs/{d}")).await.status(), 404);
}

#[tokio::test]
async fn sha512_monolithic_and_chunked() {
    let s = Server::start().await;
    let bytes = data(5000);
    let d = sha512(&bytes);
    let resp = s
        .req(Method::POST, &format!("/v2/r/blobs/uploads/?digest={d}"))
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let got = s.get(&format!("/v2/r/blobs/{d}")).await;
    assert_eq!(header(&got, "docker-content-digest"), d);
    assert_eq!(got.bytes().await.unwrap().as_ref(), &bytes[..]);

    let other = data(7001);
    let d2 = sha512(&other);
    let loc = s.start_upload("r").await;
    let r = s.patch(&loc, Some(0), &other[..4000]).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let r = s.patch(&loc, Some(4000), &other[4000..7000]).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let resp = s.finish(&loc, &d2, &other[7000..]).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let got = s.get(&format!("/v2/r/blobs/{d2}")).await;
    assert_eq!(got.bytes().await.unwrap().as_ref(), &other[..]);
    // A wrong sha512 is still refused.
    let loc = s.start_upload("r").await;
    let resp = s.finish(&loc, &sha512(b"nope"), b"yes").await;
    expect_error(resp, StatusCode::BAD_REQUEST, "DIGEST_INVALID").await;
}

/// Sends a request whose `Content-Length` promises more than is sent, then closes the write half.
async fn truncated(s: &Server, method: &str, path: &str, declared: usize, sent: &[u8]) {
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: test\r\nAuthorization: {}\r\nContent-Type: application/octet-stream\r\nContent-Length: {declared}\r\n\r\n",
        s.auth
    )
    .into_bytes();
    req.extend_from_slice(sent);
    // The server may answer with an error or just close; either way it must store nothing.
    if let Some(resp) = raw_exchange(&s.base, &req).await {
        assert!(
            !(200..300).contains(&resp.status),
            "truncated {method} succeeded: {resp:?}"
        );
    }
}

#[tokio::test]
async fn truncated_monolithic_post_creates_nothing() {
    let s = Server::start().await;
    s.push_blob("r", b"repository exists").await;
    let full = data(100);
    // Both the digest of what was promised and of what actually arrived must fail.
    for d in [sha256(&full), sha256(&full[..10])] {
        truncated(
            &s,
            "POST",
            &format!("/v2/r/blobs/uploads/?digest={d}"),
            100,
            &full[..10],
        )
        .await;
        assert_eq!(
            s.head(&format!("/v2/r/blobs/{d}")).await.status(),
            404,
            "{d}"
        );
        assert!(s.blob_files(&d).is_empty());
    }
    assert!(s.scratch_files().is_empty(), "{:?}", s.scratch_files());
}

#[tokio::test]
async fn truncated_patch_leaves_the_offset_unchanged() {
    let s = Server::start().await;
    let full = data(120);
    let loc = s.start_upload("r").await;
    assert_eq!(s.patch(&loc, Some(0), &full[..20]).await.status(), 202);
    truncated(&s, "PATCH", &loc, 100, &full[20..30]).await;
    let resp = s.get(&loc).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(header(&resp, "range"), "0-19");
    // The truncated bytes left no trace: resuming at 20 yields exactly the right content.
    assert_eq!(s.patch(&loc, Some(20), &full[20..]).await.status(), 202);
    let d = sha256(&full);
    let resp = s.finish(&loc, &d, b"").await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let got = s.get(&format!("/v2/r/blobs/{d}")).await;
    assert_eq!(got.bytes().await.unwrap().as_ref(), &full[..]);
}

#[tokio::test]
async fn truncated_put_creates_nothing_and_keeps_the_session() {
    let s = Server::start().await;
    let full = data(100);
    let d = sha256(&full[..30]);
    let loc = s.start_upload("r").await;
    assert_eq!(s.patch(&loc, Some(0), &full[..20]).await.status(), 202);
    truncated(
        &s,
        "PUT",
        &with_query(&loc, &format!("digest={d}")),
        80,
        &full[20..30],
    )
    .await;
    assert_eq!(s.head(&format!("/v2/r/blobs/{d}")).await.status(), 404);
    assert_eq!(header(&s.get(&loc).await, "range"), "0-19");
}

#[tokio::test]
async fn purge_removes_stale_uploads() {
    let s = Server::start().await;
    let loc = s.start_upload("r").await;
    s.patch(&loc, None, b"stale bytes").await;
    // Purge needs the upload to be strictly older than the cutoff second.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let purged = s.registry.purge_stale_uploads(0).await.unwrap();
    assert_eq!(purged, 1);
    expect_error(
        s.get(&loc).await,
        StatusCode::NOT_FOUND,
        "BLOB_UPLOAD_UNKNOWN",
    )
    .await;
    assert!(s.scratch_files().is_empty(), "{:?}", s.scratch_files());
}
