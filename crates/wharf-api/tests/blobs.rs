//! Blob reads and deletes over HTTP: `GET|HEAD|DELETE /v2/<name>/blobs/<digest>`, single byte
//! ranges (including suffix and unsatisfiable ranges), and repository scoping of blobs.

mod common;

use common::{expect_error, header, opt_header, sha256, Server};
use reqwest::{Method, StatusCode};

fn content() -> Vec<u8> {
    (0..100u8).collect()
}

#[tokio::test]
async fn get_and_head_serve_the_blob_with_its_digest_and_length() {
    let s = Server::start().await;
    let bytes = content();
    let d = s.push_blob("lib/app", &bytes).await;

    let resp = s.get(&format!("/v2/lib/app/blobs/{d}")).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(header(&resp, "content-length"), "100");
    assert_eq!(header(&resp, "docker-content-digest"), d);
    assert_eq!(resp.bytes().await.unwrap().as_ref(), &bytes[..]);

    let resp = s.head(&format!("/v2/lib/app/blobs/{d}")).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(header(&resp, "content-length"), "100");
    assert_eq!(header(&resp, "docker-content-digest"), d);
    assert!(resp.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn range_returns_partial_content() {
    let s = Server::start().await;
    let bytes = content();
    let d = s.push_blob("r", &bytes).await;
    let path = format!("/v2/r/blobs/{d}");

    let resp = s
        .req(Method::GET, &path)
        .header("range", "bytes=10-19")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(header(&resp, "content-range"), "bytes 10-19/100");
    assert_eq!(header(&resp, "content-length"), "10");
    assert_eq!(resp.bytes().await.unwrap().as_ref(), &bytes[10..20]);

    // An open-ended range and one running past the end are both clamped to the blob.
    for (range, from) in [("bytes=95-", 95), ("bytes=90-1000", 90)] {
        let resp = s
            .req(Method::GET, &path)
            .header("range", range)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(
            header(&resp, "content-range"),
            format!("bytes {from}-99/100")
        );
        assert_eq!(resp.bytes().await.unwrap().as_ref(), &bytes[from..]);
    }
}

#[tokio::test]
async fn suffix_range_returns_the_last_bytes() {
    let s = Server::start().await;
    let bytes = content();
    let d = s.push_blob("r", &bytes).await;
    let path = format!("/v2/r/blobs/{d}");

    let resp = s
        .req(Method::GET, &path)
        .header("range", "bytes=-7")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(header(&resp, "content-range"), "bytes 93-99/100");
    assert_eq!(resp.bytes().await.unwrap().as_ref(), &bytes[93..]);

    // A suffix longer than the blob is the whole blob.
    let resp = s
        .req(Method::GET, &path)
        .header("range", "bytes=-500")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(header(&resp, "content-range"), "bytes 0-99/100");
    assert_eq!(resp.bytes().await.unwrap().as_ref(), &bytes[..]);
}

#[tokio::test]
async fn unsatisfiable_range_is_416_with_the_size() {
    let s = Server::start().await;
    let d = s.push_blob("r", &content()).await;
    let path = format!("/v2/r/blobs/{d}");
    // An inverted range can never be satisfied either (the conformance suite expects 416).
    for range in ["bytes=100-", "bytes=500-600", "bytes=-0", "bytes=9-3"] {
        let resp = s
            .req(Method::GET, &path)
            .header("range", range)
            .send()
            .await
            .unwrap();
        assert_eq!(header(&resp, "content-range"), "bytes */100", "{range}");
        expect_error(resp, StatusCode::RANGE_NOT_SATISFIABLE, "RANGE_INVALID").await;
    }
}

#[tokio::test]
async fn unparseable_range_serves_the_whole_blob() {
    let s = Server::start().await;
    let bytes = content();
    let d = s.push_blob("r", &bytes).await;
    for range in ["items=0-1", "bytes=0-1,5-6", "bytes=x-3"] {
        let resp = s
            .req(Method::GET, &format!("/v2/r/blobs/{d}"))
            .header("range", range)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{range}");
        assert_eq!(resp.bytes().await.unwrap().len(), bytes.len());
    }
}

#[tokio::test]
async fn delete_unlinks_the_blob() {
    let s = Server::start().await;
    let d = s.push_blob("r", b"to be deleted").await;
    let path = format!("/v2/r/blobs/{d}");

    let resp = s.delete(&path).await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    assert_eq!(header(&resp, "docker-content-digest"), d);

    expect_error(s.get(&path).await, StatusCode::NOT_FOUND, "BLOB_UNKNOWN").await;
    let resp = s.head(&path).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    expect_error(s.delete(&path).await, StatusCode::NOT_FOUND, "BLOB_UNKNOWN").await;
}

#[tokio::test]
async fn blobs_are_scoped_to_their_repository() {
    let s = Server::start().await;
    let d = s.push_blob("owner", b"private bytes").await;
    s.push_blob("other", b"unrelated").await;

    expect_error(
        s.get(&format!("/v2/other/blobs/{d}")).await,
        StatusCode::NOT_FOUND,
        "BLOB_UNKNOWN",
    )
    .await;
    let resp = s.head(&format!("/v2/other/blobs/{d}")).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    // Nor does a never-seen repository see it.
    let resp = s.get(&format!("/v2/nobody/blobs/{d}")).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    // Deleting through another repository leaves the owner's copy.
    let resp = s.delete(&format!("/v2/other/blobs/{d}")).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let resp = s.get(&format!("/v2/owner/blobs/{d}")).await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn unknown_and_malformed_digests() {
    let s = Server::start().await;
    s.push_blob("r", b"x").await;
    let unknown = sha256(b"never pushed");
    expect_error(
        s.get(&format!("/v2/r/blobs/{unknown}")).await,
        StatusCode::NOT_FOUND,
        "BLOB_UNKNOWN",
    )
    .await;
    for bad in ["sha256:abc", "md5:0123", "notadigest", "sha256:ZZZZ"] {
        let resp = s.get(&format!("/v2/r/blobs/{bad}")).await;
        expect_error(resp, StatusCode::BAD_REQUEST, "DIGEST_INVALID").await;
    }
}

#[tokio::test]
async fn empty_blob_round_trips() {
    let s = Server::start().await;
    let d = s.push_blob("r", b"").await;
    let resp = s.get(&format!("/v2/r/blobs/{d}")).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(opt_header(&resp, "content-length").as_deref(), Some("0"));
    assert!(resp.bytes().await.unwrap().is_empty());
}
