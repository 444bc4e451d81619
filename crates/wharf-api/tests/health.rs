//! The health endpoints over HTTP: `/healthz` and `/readyz` answer without credentials, and
//! `/readyz` turns 503 naming the component when the blob store or the metadata database fails.

mod common;

use common::{header, Server};
use reqwest::StatusCode;
use serde_json::Value;

async fn get_json(url: &str) -> (StatusCode, Value, String) {
    let resp = reqwest::get(url).await.expect("request");
    let status = resp.status();
    let cache = header(&resp, "cache-control");
    let body: Value =
        serde_json::from_slice(&resp.bytes().await.expect("body")).expect("json body");
    (status, body, cache)
}

#[tokio::test]
async fn live_and_ready_without_credentials() {
    let s = Server::start().await;
    let (status, body, cache) = get_json(&s.url("/healthz")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
    assert_eq!(cache, "no-store");
    let (status, body, _) = get_json(&s.url("/readyz")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "ready");

    let client = reqwest::Client::new();
    let head = client.head(s.url("/readyz")).send().await.expect("HEAD");
    assert_eq!(head.status(), StatusCode::OK);
    // Only GET and HEAD are health checks; anything else is not served here.
    let post = client.post(s.url("/healthz")).send().await.expect("POST");
    assert!(post.status().is_client_error(), "{}", post.status());
    // The OCI API still wants credentials.
    let v2 = client.get(s.url("/v2/")).send().await.expect("GET /v2/");
    assert_eq!(v2.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn not_ready_names_the_failed_component() {
    let s = Server::start().await;
    // A directory where the blob store's owner mark should be: reading it fails.
    let mark = s.blob_root().join("owner");
    let saved = std::fs::read(&mark).ok();
    let _ = std::fs::remove_file(&mark);
    std::fs::create_dir(&mark).expect("mkdir owner");
    let (status, body, _) = get_json(&s.url("/readyz")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["failed"], serde_json::json!(["blob_store"]));
    // Liveness does not depend on the stores.
    let (status, _, _) = get_json(&s.url("/healthz")).await;
    assert_eq!(status, StatusCode::OK);

    std::fs::remove_dir(&mark).expect("rmdir owner");
    if let Some(bytes) = saved {
        std::fs::write(&mark, bytes).expect("restore owner mark");
    }
    let (status, body, _) = get_json(&s.url("/readyz")).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // A closed metadata pool: every query fails.
    s.registry.meta().close().await;
    let (status, body, _) = get_json(&s.url("/readyz")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["failed"], serde_json::json!(["metadata"]));
}
