//! Durability and concurrency over HTTP: an upload resumes after the server restarts on the same
//! data directory, pushed content survives a restart, and concurrent pushes of the same blob
//! (monolithic and chunked) and of the same manifest and tag all succeed and store the bytes once.

mod common;

use common::{expect_error, header, json, sha256, sha512, with_query, Server, OCI_MANIFEST};
use reqwest::{Client, Method, StatusCode};

const CONCURRENCY: usize = 16;

fn data(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 13 % 253) as u8).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn chunked_upload_resumes_after_restart() {
    let mut s = Server::start().await;
    let bytes = data(2_000_000);
    let d = sha256(&bytes);
    let loc = s.start_upload("lib/resume").await;
    let resp = s.patch(&loc, Some(0), &bytes[..1_234_567]).await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    assert_eq!(header(&resp, "range"), "0-1234566");

    s.restart().await;

    let resp = s.get(&loc).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(header(&resp, "range"), "0-1234566");
    assert_eq!(header(&resp, "location"), loc);
    // A chunk at the wrong offset is still refused after the restart.
    let resp = s.patch(&loc, Some(0), &bytes[..10]).await;
    assert_eq!(resp.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(header(&resp, "range"), "0-1234566");

    let resp = s.patch(&loc, Some(1_234_567), &bytes[1_234_567..]).await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    assert_eq!(header(&resp, "range"), "0-1999999");
    let resp = s.finish(&loc, &d, b"").await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(header(&resp, "docker-content-digest"), d);
    let got = s.get(&format!("/v2/lib/resume/blobs/{d}")).await;
    assert_eq!(got.bytes().await.unwrap().as_ref(), &bytes[..]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn upload_finishes_after_restart_with_put_body_and_sha512() {
    let mut s = Server::start().await;
    let bytes = data(300_000);
    let d = sha512(&bytes);
    let loc = s.start_upload("r").await;
    assert_eq!(s.patch(&loc, None, &bytes[..100_000]).await.status(), 202);
    s.restart().await;
    assert_eq!(header(&s.get(&loc).await, "range"), "0-99999");
    let resp = s.finish(&loc, &d, &bytes[100_000..]).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let got = s.get(&format!("/v2/r/blobs/{d}")).await;
    assert_eq!(got.bytes().await.unwrap().as_ref(), &bytes[..]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pushed_content_survives_restart() {
    let mut s = Server::start().await;
    let (d, body) = s.push_image("lib/app", "v1", "persist").await;
    let blob = s.push_blob("lib/app", b"loose blob").await;
    s.restart().await;
    let resp = s.get("/v2/lib/app/manifests/v1").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(header(&resp, "docker-content-digest"), d);
    assert_eq!(resp.bytes().await.unwrap().as_ref(), &body[..]);
    let resp = s.get(&format!("/v2/lib/app/blobs/{blob}")).await;
    assert_eq!(resp.bytes().await.unwrap().as_ref(), b"loose blob");
    let v = json(s.get("/v2/_catalog").await).await;
    assert_eq!(v["repositories"], serde_json::json!(["lib/app"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn purge_after_restart_removes_the_upload() {
    let mut s = Server::start().await;
    let loc = s.start_upload("r").await;
    s.patch(&loc, None, b"left behind").await;
    s.restart().await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(s.registry.purge_stale_uploads(0).await.unwrap(), 1);
    assert_eq!(s.get(&loc).await.status(), StatusCode::NOT_FOUND);
    assert!(s.scratch_files().is_empty(), "{:?}", s.scratch_files());
}

/// Runs `CONCURRENCY` copies of `f` (given a client, the base URL and the copy's index) as separate
/// tasks, so they run in parallel on the runtime's worker threads. Each copy gets its own client,
/// like independent pushers, and so that connections the server closed after an error response
/// (see `errors::error_before_reading_the_body_closes_the_connection_explicitly`) never sit in the
/// pool the test's own requests use.
async fn in_parallel<F, Fut>(s: &Server, f: F) -> Vec<StatusCode>
where
    F: Fn(Client, String, usize) -> Fut,
    Fut: std::future::Future<Output = StatusCode> + Send + 'static,
{
    let tasks: Vec<_> = (0..CONCURRENCY)
        .map(|i| tokio::spawn(f(common::new_client(&s.auth), s.base.clone(), i)))
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("task"));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn concurrent_monolithic_pushes_of_one_blob() {
    let s = Server::start().await;
    let bytes = data(1_500_000);
    let d = sha256(&bytes);
    let statuses = in_parallel(&s, |client, base, _| {
        let (bytes, d) = (bytes.clone(), d.clone());
        async move {
            client
                .post(format!("{base}/v2/r/blobs/uploads/?digest={d}"))
                .body(bytes)
                .send()
                .await
                .expect("POST")
                .status()
        }
    })
    .await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::CREATED),
        "{statuses:?}"
    );
    assert_eq!(s.blob_files(&d).len(), 1, "{:?}", s.blob_files(&d));
    assert!(s.scratch_files().is_empty(), "{:?}", s.scratch_files());
    let got = s.get(&format!("/v2/r/blobs/{d}")).await;
    assert_eq!(got.bytes().await.unwrap().as_ref(), &bytes[..]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn concurrent_chunked_pushes_of_one_blob() {
    let s = Server::start().await;
    let bytes = data(700_000);
    let d = sha256(&bytes);
    let statuses = in_parallel(&s, |client, base, i| {
        let (bytes, d) = (bytes.clone(), d.clone());
        // Half the pushers use different repositories, so the blob is shared across them too.
        let repo = if i % 2 == 0 { "r" } else { "other" };
        async move {
            let resp = client
                .post(format!("{base}/v2/{repo}/blobs/uploads/"))
                .send()
                .await
                .expect("POST");
            assert_eq!(resp.status(), StatusCode::ACCEPTED);
            let mut loc = header(&resp, "location");
            let mut offset = 0usize;
            for chunk in bytes.chunks(250_000) {
                let end = offset + chunk.len() - 1;
                let resp = client
                    .patch(format!("{base}{loc}"))
                    .header("content-range", format!("{offset}-{end}"))
                    .body(chunk.to_vec())
                    .send()
                    .await
                    .expect("PATCH");
                assert_eq!(resp.status(), StatusCode::ACCEPTED);
                loc = header(&resp, "location");
                offset += chunk.len();
            }
            client
                .put(format!(
                    "{base}{}",
                    with_query(&loc, &format!("digest={d}"))
                ))
                .send()
                .await
                .expect("PUT")
                .status()
        }
    })
    .await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::CREATED),
        "{statuses:?}"
    );
    assert_eq!(s.blob_files(&d).len(), 1, "{:?}", s.blob_files(&d));
    assert!(s.scratch_files().is_empty(), "{:?}", s.scratch_files());
    for repo in ["r", "other"] {
        let got = s.get(&format!("/v2/{repo}/blobs/{d}")).await;
        assert_eq!(got.bytes().await.unwrap().as_ref(), &bytes[..], "{repo}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn concurrent_pushes_of_one_manifest_and_tag() {
    let s = Server::start().await;
    let config = s.push_blob("r", b"{\"c\":1}").await;
    let layer = s.push_blob("r", b"the layer").await;
    let body = common::image_manifest(OCI_MANIFEST, &config, 7, &[(&layer, 9)]);
    let d = sha256(body.as_bytes());
    let statuses = in_parallel(&s, |client, base, i| {
        let body = body.clone();
        // Some push by tag, some by digest with `?tag=`: all land on the same tag.
        let path = if i % 2 == 0 {
            "/v2/r/manifests/latest".to_string()
        } else {
            format!("/v2/r/manifests/{}?tag=latest", sha256(body.as_bytes()))
        };
        async move {
            client
                .request(Method::PUT, format!("{base}{path}"))
                .header("content-type", OCI_MANIFEST)
                .body(body)
                .send()
                .await
                .expect("PUT")
                .status()
        }
    })
    .await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::CREATED),
        "{statuses:?}"
    );
    let resp = s.get("/v2/r/manifests/latest").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(header(&resp, "docker-content-digest"), d);
    assert_eq!(resp.bytes().await.unwrap().as_ref(), body.as_bytes());
    let v = json(s.get("/v2/r/tags/list").await).await;
    assert_eq!(v["tags"], serde_json::json!(["latest"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn concurrent_chunks_at_one_offset_admit_exactly_one() {
    let s = Server::start().await;
    let loc = s.start_upload("r").await;
    let chunk = data(100_000);
    let statuses = in_parallel(&s, |client, base, _| {
        let (chunk, loc) = (chunk.clone(), loc.clone());
        async move {
            client
                .patch(format!("{base}{loc}"))
                .header("content-range", format!("0-{}", chunk.len() - 1))
                .body(chunk)
                .send()
                .await
                .expect("PATCH")
                .status()
        }
    })
    .await;
    let ok = statuses
        .iter()
        .filter(|s| **s == StatusCode::ACCEPTED)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::RANGE_NOT_SATISFIABLE)
        .count();
    assert_eq!((ok, refused), (1, CONCURRENCY - 1), "{statuses:?}");
    assert_eq!(header(&s.get(&loc).await, "range"), "0-99999");
    let resp = s.finish(&loc, &sha256(&chunk), b"").await;
    assert_eq!(resp.status(), StatusCode::CREATED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn concurrent_streamed_chunks_never_interleave() {
    let s = Server::start().await;
    let loc = s.start_upload("r").await;
    // Each writer sends one byte value; interleaving would mix values within a chunk.
    let statuses = in_parallel(&s, |client, base, i| {
        let loc = loc.clone();
        async move {
            client
                .patch(format!("{base}{loc}"))
                .body(vec![i as u8; 50_000])
                .send()
                .await
                .expect("PATCH")
                .status()
        }
    })
    .await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::ACCEPTED),
        "{statuses:?}"
    );
    let total = CONCURRENCY * 50_000;
    assert_eq!(
        header(&s.get(&loc).await, "range"),
        format!("0-{}", total - 1)
    );
    // The scratch file is sealed (no plaintext at rest): its size is the sealed size of the
    // chunks. Their order is found from the digest the registry computed (a wrong digest is
    // refused with the actual one), then the blob is read back through the API.
    let scratch = s.scratch_files();
    assert_eq!(scratch.len(), 1);
    assert_eq!(
        std::fs::metadata(&scratch[0]).unwrap().len(),
        wharf_blob::seal::sealed_len(total as u64)
    );
    let resp = s.finish(&loc, &sha256(b"not the content"), b"").await;
    let err = expect_error(resp, StatusCode::BAD_REQUEST, "DIGEST_INVALID").await;
    let message = err["message"].as_str().unwrap().to_string();
    let actual = message
        .split_whitespace()
        .find(|w| w.starts_with("sha256:"))
        .expect("the message names the content's digest")
        .trim_end_matches(',')
        .to_string();
    let resp = s.finish(&loc, &actual, b"").await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let bytes = s
        .get(&format!("/v2/r/blobs/{actual}"))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(bytes.len(), total);
    for run in bytes.chunks(50_000) {
        assert!(run.iter().all(|b| *b == run[0]), "chunks interleaved");
    }
}
