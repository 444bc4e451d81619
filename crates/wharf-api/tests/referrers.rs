//! The referrers API over HTTP: `GET /v2/<name>/referrers/<digest>` returns an image index (never a
//! 404) listing the manifests whose `subject` is the digest, with their artifact types and
//! annotations, and filters by `?artifactType=` announcing it in `OCI-Filters-Applied`. Referrers
//! go when their subject is deleted.

mod common;

use common::{
    expect_error, header, json, opt_header, sha256, Server, OCI_EMPTY, OCI_INDEX, OCI_MANIFEST,
};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Pushes an artifact referring to `subject` and returns its digest and size.
async fn referrer(
    s: &Server,
    repo: &str,
    subject: &(String, usize),
    artifact_type: Option<&str>,
    annotations: Option<Value>,
    seed: &str,
) -> (String, usize) {
    let empty = s.push_blob(repo, b"{}").await;
    let layer = s.push_blob(repo, seed.as_bytes()).await;
    let mut m = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_EMPTY, "digest": empty, "size": 2},
        "layers": [{"mediaType": "application/octet-stream", "digest": layer, "size": seed.len()}],
        "subject": {"mediaType": OCI_MANIFEST, "digest": subject.0, "size": subject.1},
    });
    if let Some(t) = artifact_type {
        m["artifactType"] = json!(t);
    }
    if let Some(a) = annotations {
        m["annotations"] = a;
    }
    let body = serde_json::to_vec(&m).unwrap();
    let d = s
        .push_manifest(repo, &sha256(&body), OCI_MANIFEST, &body)
        .await;
    (d, body.len())
}

async fn subject(s: &Server, repo: &str) -> (String, usize) {
    let (d, body) = s.push_image(repo, "v1", "subject").await;
    (d, body.len())
}

async fn list(s: &Server, path: &str) -> (Option<String>, Value) {
    let resp = s.get(path).await;
    assert_eq!(resp.status(), StatusCode::OK, "{path}");
    assert_eq!(header(&resp, "content-type"), OCI_INDEX);
    let filters = opt_header(&resp, "oci-filters-applied");
    let v = json(resp).await;
    assert_eq!(v["schemaVersion"], 2);
    assert_eq!(v["mediaType"], OCI_INDEX);
    (filters, v)
}

#[tokio::test]
async fn unknown_subject_is_an_empty_index() {
    let s = Server::start().await;
    let (sd, _) = subject(&s, "r").await;
    let (_, v) = list(&s, &format!("/v2/r/referrers/{sd}")).await;
    assert_eq!(v["manifests"], json!([]));
    let unknown = sha256(b"never pushed");
    let (_, v) = list(&s, &format!("/v2/r/referrers/{unknown}")).await;
    assert_eq!(v["manifests"], json!([]));
    // Even a repository that does not exist answers with an empty index.
    let (_, v) = list(&s, &format!("/v2/nobody/referrers/{unknown}")).await;
    assert_eq!(v["manifests"], json!([]));
}

#[tokio::test]
async fn referrers_are_listed_with_artifact_type_and_annotations() {
    let s = Server::start().await;
    let subj = subject(&s, "r").await;
    let sig = referrer(
        &s,
        "r",
        &subj,
        Some("application/vnd.example.sig.v1"),
        Some(json!({"org.example.signer": "alice", "created": "2024-01-01"})),
        "sig",
    )
    .await;
    let sbom = referrer(&s, "r", &subj, Some("application/spdx+json"), None, "sbom").await;
    // Without artifactType, the config media type stands in.
    let plain = referrer(&s, "r", &subj, None, None, "plain").await;

    let (filters, v) = list(&s, &format!("/v2/r/referrers/{}", subj.0)).await;
    assert_eq!(filters, None);
    let manifests = v["manifests"].as_array().unwrap();
    assert_eq!(manifests.len(), 3, "{v}");
    let find = |d: &str| {
        manifests
            .iter()
            .find(|m| m["digest"] == d)
            .unwrap_or_else(|| panic!("{d} missing from {v}"))
            .clone()
    };
    let m = find(&sig.0);
    assert_eq!(m["mediaType"], OCI_MANIFEST);
    assert_eq!(m["size"], sig.1);
    assert_eq!(m["artifactType"], "application/vnd.example.sig.v1");
    assert_eq!(
        m["annotations"],
        json!({"org.example.signer": "alice", "created": "2024-01-01"})
    );
    let m = find(&sbom.0);
    assert_eq!(m["artifactType"], "application/spdx+json");
    assert!(
        m.get("annotations").is_none() || m["annotations"] == json!({}),
        "{m}"
    );
    let m = find(&plain.0);
    assert_eq!(m["artifactType"], OCI_EMPTY);
}

#[tokio::test]
async fn artifact_type_filter() {
    let s = Server::start().await;
    let subj = subject(&s, "r").await;
    let sig = referrer(
        &s,
        "r",
        &subj,
        Some("application/vnd.example.sig.v1"),
        None,
        "a",
    )
    .await;
    referrer(&s, "r", &subj, Some("application/spdx+json"), None, "b").await;

    let path = format!(
        "/v2/r/referrers/{}?artifactType=application%2Fvnd.example.sig.v1",
        subj.0
    );
    let (filters, v) = list(&s, &path).await;
    assert_eq!(filters.as_deref(), Some("artifactType"));
    let digests: Vec<&Value> = v["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["digest"])
        .collect();
    assert_eq!(digests, [&json!(sig.0)]);

    let path = format!("/v2/r/referrers/{}?artifactType=application/none", subj.0);
    let (filters, v) = list(&s, &path).await;
    assert_eq!(filters.as_deref(), Some("artifactType"));
    assert_eq!(v["manifests"], json!([]));
}

#[tokio::test]
async fn referrers_are_per_repository_and_follow_deletes() {
    let s = Server::start().await;
    let subj = subject(&s, "one").await;
    let (d, _) = referrer(&s, "one", &subj, Some("application/x"), None, "r").await;
    let (_, v) = list(&s, &format!("/v2/two/referrers/{}", subj.0)).await;
    assert_eq!(v["manifests"], json!([]));

    assert_eq!(
        s.delete(&format!("/v2/one/manifests/{d}")).await.status(),
        202
    );
    let (_, v) = list(&s, &format!("/v2/one/referrers/{}", subj.0)).await;
    assert_eq!(v["manifests"], json!([]));
}

/// Deleting a subject deletes its referrers, and theirs, with it: none is served afterwards (not
/// even from the manifest cache, warmed first).
#[tokio::test]
async fn deleting_a_subject_takes_its_referrers() {
    let s = Server::start().await;
    let subj = subject(&s, "r").await;
    let sig = referrer(&s, "r", &subj, Some("application/x"), None, "sig").await;
    let sig_of_sig = referrer(&s, "r", &sig, Some("application/x"), None, "sig2").await;
    for d in [&subj.0, &sig.0, &sig_of_sig.0] {
        assert_eq!(s.get(&format!("/v2/r/manifests/{d}")).await.status(), 200);
    }
    assert_eq!(
        s.delete(&format!("/v2/r/manifests/{}", subj.0))
            .await
            .status(),
        202
    );
    for d in [&subj.0, &sig.0, &sig_of_sig.0] {
        let resp = s.get(&format!("/v2/r/manifests/{d}")).await;
        expect_error(resp, StatusCode::NOT_FOUND, "MANIFEST_UNKNOWN").await;
    }
    let (_, v) = list(&s, &format!("/v2/r/referrers/{}", subj.0)).await;
    assert_eq!(v["manifests"], json!([]));
}

#[tokio::test]
async fn referrer_may_precede_its_subject() {
    let s = Server::start().await;
    let absent = (sha256(b"subject pushed later"), 123);
    let (d, _) = referrer(&s, "r", &absent, Some("application/x"), None, "early").await;
    let (_, v) = list(&s, &format!("/v2/r/referrers/{}", absent.0)).await;
    assert_eq!(v["manifests"][0]["digest"], json!(d));
}

#[tokio::test]
async fn malformed_digest_is_digest_invalid() {
    let s = Server::start().await;
    subject(&s, "r").await;
    for bad in ["latest", "sha256:abc"] {
        let resp = s.get(&format!("/v2/r/referrers/{bad}")).await;
        expect_error(resp, StatusCode::BAD_REQUEST, "DIGEST_INVALID").await;
    }
}
