//! `/metrics` and the audit trail through the real server: who may read the metrics, what a push
//! adds to them, and the records a push and a refused push leave (without any credential).

mod common;

use common::*;
use reqwest::StatusCode;
use std::time::Duration;
use wharf_meta::{AuditFilter, AuditRecord};

async fn records(s: &Server, event: &str, want: usize) -> Vec<AuditRecord> {
    // The writer appends beside the request path: poll briefly.
    for _ in 0..100 {
        let got = s
            .registry
            .meta()
            .audit_events(&AuditFilter {
                event_name: Some(event.to_string()),
                limit: 100,
                ..AuditFilter::default()
            })
            .await
            .expect("audit events");
        if got.len() >= want {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("fewer than {want} {event} records");
}

#[tokio::test]
async fn metrics_need_an_authorized_principal_and_count_by_operation() {
    let s = Server::start().await;
    let anonymous = reqwest::Client::new();
    let resp = anonymous.get(s.url("/metrics")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(opt_header(&resp, "www-authenticate").is_some());

    s.push_image("observed/app", "v1", "metrics").await;
    let resp = s.get("/metrics").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(header(&resp, "content-type").starts_with("application/openmetrics-text"));
    let text = resp.text().await.unwrap();
    assert!(
        text.contains(
            r#"wharf_http_requests_total{surface="oci",operation="manifest_put",status="201"} 1"#
        ),
        "{text}"
    );
    assert!(
        !text.contains("observed/app"),
        "no repository names in labels"
    );
    assert!(!text.contains("sha256:"), "no digests in labels");
    assert!(text.contains("wharf_http_request_body_bytes_total{surface=\"oci\"}"));
    assert!(text.contains("wharf_uploads_in_progress 0"));
}

#[tokio::test]
async fn pushes_and_refusals_are_recorded_without_credentials() {
    let s = Server::start().await;
    let (digest, _) = s.push_image("audited/app", "v1", "audit").await;
    let pushes = records(&s, "PutImage", 1).await;
    let push = &pushes[0];
    assert_eq!(push.event_source, "registry.wharf");
    assert!(push.user_arn.as_deref().unwrap().ends_with(":user/admin"));
    assert_eq!(push.source_ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(push.error_code, None);
    let params: serde_json::Value =
        serde_json::from_str(push.request_parameters.as_deref().unwrap()).unwrap();
    assert_eq!(params["repositoryName"], "audited/app");
    assert_eq!(params["imageTag"], "v1");
    let elements: serde_json::Value =
        serde_json::from_str(push.response_elements.as_deref().unwrap()).unwrap();
    assert_eq!(elements["digest"], digest.as_str());
    records(&s, "CompleteLayerUpload", 2).await;

    // An anonymous push is refused (401) and recorded; reads that succeed are not.
    let anonymous = reqwest::Client::new();
    let resp = anonymous
        .put(s.url("/v2/audited/app/manifests/v2"))
        .header("content-type", OCI_MANIFEST)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let pushes = records(&s, "PutImage", 2).await;
    let refused = &pushes[0];
    assert_eq!(refused.error_code.as_deref(), Some("Unauthorized"));
    assert_eq!(refused.user_arn.as_deref(), Some("anonymous"));
    assert_eq!(
        s.get("/v2/audited/app/manifests/v1").await.status(),
        StatusCode::OK
    );
    let all = s
        .registry
        .meta()
        .audit_events(&AuditFilter {
            limit: 1000,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert!(all.iter().all(|r| r.event_name != "BatchGetImage"));
    // The Authorization value and its token are nowhere in the trail.
    let encoded = s.auth.trim_start_matches("Basic ");
    let decoded = String::from_utf8(
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, encoded).unwrap(),
    )
    .unwrap();
    let token = decoded.strip_prefix("AWS:").unwrap();
    for r in &all {
        let text = format!("{r:?}");
        assert!(!text.contains(encoded) && !text.contains(token), "{text}");
    }
}
