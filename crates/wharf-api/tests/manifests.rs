//! Manifests over HTTP: pushes by tag and by digest for the four manifest formats and artifacts,
//! byte-exact reads, `Accept` negotiation, validation errors (digest mismatch, missing blobs and
//! children, invalid JSON, size limit), `OCI-Subject`, deletes of manifests and tags, retagging, and
//! that the manifest cache never serves what was deleted or moved; an index's child is not deleted
//! while the index lists it.

mod common;

use common::{
    expect_error, header, image_manifest, index_manifest, json, opt_header, sha256, Server,
    DOCKER_LIST, DOCKER_MANIFEST, OCI_EMPTY, OCI_INDEX, OCI_MANIFEST,
};
use reqwest::{Method, StatusCode};

/// Pushes blobs for an image manifest of `media_type` and returns the manifest bytes.
async fn image(s: &Server, repo: &str, media_type: &str, seed: &str) -> Vec<u8> {
    let config = format!(r#"{{"architecture":"amd64","seed":"{seed}"}}"#);
    let layer = format!("layer of {seed}");
    let c = s.push_blob(repo, config.as_bytes()).await;
    let l = s.push_blob(repo, layer.as_bytes()).await;
    image_manifest(media_type, &c, config.len(), &[(&l, layer.len())]).into_bytes()
}

/// An artifact: `artifactType`, the empty config descriptor and the 2-byte `{}` blob.
async fn artifact(s: &Server, repo: &str, subject: Option<(&str, usize)>) -> Vec<u8> {
    let empty = s.push_blob(repo, b"{}").await;
    assert_eq!(
        empty,
        "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    );
    let payload = s.push_blob(repo, b"signature payload").await;
    let subject = subject
        .map(|(d, n)| {
            format!(r#","subject":{{"mediaType":"{OCI_MANIFEST}","digest":"{d}","size":{n}}}"#)
        })
        .unwrap_or_default();
    format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","artifactType":"application/vnd.example.sig.v1","config":{{"mediaType":"{OCI_EMPTY}","digest":"{empty}","size":2}},"layers":[{{"mediaType":"application/octet-stream","digest":"{payload}","size":17}}]{subject}}}"#
    )
    .into_bytes()
}

/// Checks GET and HEAD of `reference` serve exactly `body` as `media_type`.
async fn check_served(s: &Server, repo: &str, reference: &str, media_type: &str, body: &[u8]) {
    let path = format!("/v2/{repo}/manifests/{reference}");
    let resp = s.get(&path).await;
    assert_eq!(resp.status(), StatusCode::OK, "GET {path}");
    assert_eq!(header(&resp, "content-type"), media_type, "GET {path}");
    assert_eq!(header(&resp, "docker-content-digest"), sha256(body));
    assert_eq!(header(&resp, "content-length"), body.len().to_string());
    assert_eq!(resp.bytes().await.unwrap().as_ref(), body, "GET {path}");

    let resp = s.head(&path).await;
    assert_eq!(resp.status(), StatusCode::OK, "HEAD {path}");
    assert_eq!(header(&resp, "content-type"), media_type, "HEAD {path}");
    assert_eq!(header(&resp, "docker-content-digest"), sha256(body));
    assert_eq!(header(&resp, "content-length"), body.len().to_string());
    assert!(resp.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn every_format_by_tag_and_by_digest() {
    let s = Server::start().await;
    let repo = "lib/multi";
    let oci = image(&s, repo, OCI_MANIFEST, "oci").await;
    let docker = image(&s, repo, DOCKER_MANIFEST, "docker").await;
    let (oci_d, docker_d) = (sha256(&oci), sha256(&docker));
    let oci_index = index_manifest(OCI_INDEX, &[(OCI_MANIFEST, &oci_d, oci.len())]).into_bytes();
    let docker_list =
        index_manifest(DOCKER_LIST, &[(DOCKER_MANIFEST, &docker_d, docker.len())]).into_bytes();
    let art = artifact(&s, repo, None).await;

    let cases: [(&str, &str, &[u8]); 5] = [
        ("oci", OCI_MANIFEST, &oci),
        ("docker", DOCKER_MANIFEST, &docker),
        ("oci-index", OCI_INDEX, &oci_index),
        ("docker-list", DOCKER_LIST, &docker_list),
        ("artifact", OCI_MANIFEST, &art),
    ];
    for (tag, media_type, body) in cases {
        let resp = s.put_manifest(repo, tag, media_type, body).await;
        assert_eq!(resp.status(), StatusCode::CREATED, "{tag}");
        let d = sha256(body);
        assert_eq!(header(&resp, "docker-content-digest"), d);
        assert_eq!(
            header(&resp, "location"),
            format!("/v2/{repo}/manifests/{d}")
        );
        check_served(&s, repo, tag, media_type, body).await;
        check_served(&s, repo, &d, media_type, body).await;
    }

    // The same bodies pushed by digest into a second repository.
    let other = "lib/bydigest";
    let oci2 = image(&s, other, OCI_MANIFEST, "oci").await;
    let docker2 = image(&s, other, DOCKER_MANIFEST, "docker").await;
    let art2 = artifact(&s, other, None).await;
    let ordered: [(&str, &[u8]); 5] = [
        (OCI_MANIFEST, &oci2),
        (DOCKER_MANIFEST, &docker2),
        (OCI_INDEX, &oci_index),
        (DOCKER_LIST, &docker_list),
        (OCI_MANIFEST, &art2),
    ];
    for (media_type, body) in ordered {
        let d = sha256(body);
        let resp = s.put_manifest(other, &d, media_type, body).await;
        assert_eq!(resp.status(), StatusCode::CREATED, "{media_type}");
        assert_eq!(header(&resp, "docker-content-digest"), d);
        check_served(&s, other, &d, media_type, body).await;
    }
    // Pushed by digest only, so no tags.
    let tags = json(s.get(&format!("/v2/{other}/tags/list")).await).await;
    assert_eq!(tags["tags"], serde_json::json!([]));
}

#[tokio::test]
async fn bytes_are_served_exactly_as_pushed() {
    let s = Server::start().await;
    let c = s.push_blob("r", b"{}").await;
    // Odd whitespace, key order, escapes and a trailing newline: any re-serialization shows.
    let body = format!(
        "{{\n\t\"layers\" : [ ],\r\n   \"config\":{{ \"size\" :2,\"digest\":\"{c}\",  \"mediaType\":\"application\\/vnd.oci.image.config.v1+json\"}},\n\"annotations\":{{\"z\":\"\\u00e9\",\"a\":\"1\"}},\"schemaVersion\"  :  2 ,\"mediaType\":\"{OCI_MANIFEST}\"  }}\n\n"
    );
    let d = s
        .push_manifest("r", "weird", OCI_MANIFEST, body.as_bytes())
        .await;
    check_served(&s, "r", "weird", OCI_MANIFEST, body.as_bytes()).await;
    check_served(&s, "r", &d, OCI_MANIFEST, body.as_bytes()).await;
}

#[tokio::test]
async fn media_type_comes_from_the_body_when_content_type_is_generic() {
    let s = Server::start().await;
    let body = image(&s, "r", DOCKER_MANIFEST, "x").await;
    let resp = s.put_manifest("r", "t", "application/json", &body).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    check_served(&s, "r", "t", DOCKER_MANIFEST, &body).await;
}

#[tokio::test]
async fn accept_negotiation() {
    let s = Server::start().await;
    let body = image(&s, "r", DOCKER_MANIFEST, "neg").await;
    s.push_manifest("r", "t", DOCKER_MANIFEST, &body).await;
    let get = |accept: &'static str| {
        s.req(Method::GET, "/v2/r/manifests/t")
            .header("accept", accept)
            .send()
    };
    let resp = get(OCI_MANIFEST).await.unwrap();
    expect_error(resp, StatusCode::NOT_FOUND, "MANIFEST_UNKNOWN").await;
    let resp = get("application/vnd.oci.image.index.v1+json, application/json")
        .await
        .unwrap();
    expect_error(resp, StatusCode::NOT_FOUND, "MANIFEST_UNKNOWN").await;
    let resp = s
        .req(Method::HEAD, "/v2/r/manifests/t")
        .header("accept", OCI_MANIFEST)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);

    for ok in [
        "*/*",
        DOCKER_MANIFEST,
        "application/vnd.oci.image.manifest.v1+json;q=0.9, application/vnd.docker.distribution.manifest.v2+json;q=0.5",
    ] {
        let resp = get(ok).await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{ok}");
        assert_eq!(header(&resp, "content-type"), DOCKER_MANIFEST);
        assert_eq!(resp.bytes().await.unwrap().as_ref(), &body[..]);
    }
    // Several Accept headers are combined.
    let resp = s
        .req(Method::GET, "/v2/r/manifests/t")
        .header("accept", OCI_MANIFEST)
        .header("accept", DOCKER_MANIFEST)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn put_by_mismatching_digest_is_digest_invalid() {
    let s = Server::start().await;
    let body = image(&s, "r", OCI_MANIFEST, "m").await;
    let wrong = sha256(b"other");
    let resp = s.put_manifest("r", &wrong, OCI_MANIFEST, &body).await;
    expect_error(resp, StatusCode::BAD_REQUEST, "DIGEST_INVALID").await;
    for d in [wrong, sha256(&body)] {
        let resp = s.get(&format!("/v2/r/manifests/{d}")).await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn missing_blobs_are_all_reported_in_one_error() {
    let s = Server::start().await;
    let present = s.push_blob("r", b"present layer").await;
    let config = sha256(b"missing config");
    let l1 = sha256(b"missing layer 1");
    let l2 = sha256(b"missing layer 2");
    let body = image_manifest(
        OCI_MANIFEST,
        &config,
        14,
        &[(&l1, 15), (&present, 13), (&l2, 15)],
    );
    let resp = s
        .put_manifest("r", "t", OCI_MANIFEST, body.as_bytes())
        .await;
    let v: serde_json::Value = {
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        json(resp).await
    };
    let errors = v["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{v}");
    let e = &errors[0];
    assert_eq!(e["code"], "MANIFEST_BLOB_UNKNOWN");
    let listed = e["detail"]["blobs"].as_array().expect("detail.blobs");
    let mut listed: Vec<&str> = listed.iter().map(|d| d.as_str().unwrap()).collect();
    listed.sort();
    let mut expected = vec![config.as_str(), l1.as_str(), l2.as_str()];
    expected.sort();
    assert_eq!(listed, expected);
    let message = e["message"].as_str().unwrap();
    for d in &expected {
        assert!(message.contains(d), "{message} lacks {d}");
    }
    assert!(!message.contains(&present));
    // Nothing was stored, and the tag does not exist.
    let resp = s.get("/v2/r/manifests/t").await;
    expect_error(resp, StatusCode::NOT_FOUND, "MANIFEST_UNKNOWN").await;
}

#[tokio::test]
async fn blobs_of_another_repository_do_not_satisfy_a_manifest() {
    let s = Server::start().await;
    let body = image(&s, "owner", OCI_MANIFEST, "scoped").await;
    s.push_blob("thief", b"make the repo exist").await;
    let resp = s.put_manifest("thief", "t", OCI_MANIFEST, &body).await;
    let e = expect_error(resp, StatusCode::BAD_REQUEST, "MANIFEST_BLOB_UNKNOWN").await;
    assert_eq!(e["detail"]["blobs"].as_array().unwrap().len(), 2, "{e}");
}

#[tokio::test]
async fn index_with_missing_child_is_manifest_blob_unknown() {
    let s = Server::start().await;
    let child = image(&s, "r", OCI_MANIFEST, "child").await;
    let present = s.push_manifest("r", "child", OCI_MANIFEST, &child).await;
    let missing = sha256(b"no such child manifest");
    let body = index_manifest(
        OCI_INDEX,
        &[
            (OCI_MANIFEST, &present, child.len()),
            (OCI_MANIFEST, &missing, 99),
        ],
    );
    let resp = s.put_manifest("r", "idx", OCI_INDEX, body.as_bytes()).await;
    let e = expect_error(resp, StatusCode::BAD_REQUEST, "MANIFEST_BLOB_UNKNOWN").await;
    assert_eq!(
        e["detail"]["manifests"],
        serde_json::json!([missing]),
        "{e}"
    );
    // A Docker list likewise.
    let body = index_manifest(DOCKER_LIST, &[(DOCKER_MANIFEST, &missing, 99)]);
    let resp = s
        .put_manifest("r", "list", DOCKER_LIST, body.as_bytes())
        .await;
    expect_error(resp, StatusCode::BAD_REQUEST, "MANIFEST_BLOB_UNKNOWN").await;
}

#[tokio::test]
async fn invalid_manifests_are_manifest_invalid() {
    let s = Server::start().await;
    let good = String::from_utf8(image(&s, "r", OCI_MANIFEST, "v").await).unwrap();
    let cases: Vec<(&str, String)> = vec![
        (OCI_MANIFEST, "{not json".into()),
        (OCI_MANIFEST, String::new()),
        (OCI_MANIFEST, "[]".into()),
        (
            OCI_MANIFEST,
            good.replace(r#""schemaVersion":2"#, r#""schemaVersion":1"#),
        ),
        (
            OCI_MANIFEST,
            good.replace(r#""layers":"#, r#""notlayers":"#),
        ),
        // Content-Type and body disagree.
        (DOCKER_MANIFEST, good.clone()),
        (
            OCI_MANIFEST,
            good.replace(OCI_MANIFEST, "application/vnd.example.unknown+json"),
        ),
        (
            OCI_INDEX,
            format!(r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}"}}"#),
        ),
    ];
    for (ct, body) in cases {
        let resp = s.put_manifest("r", "bad", ct, body.as_bytes()).await;
        let status = resp.status();
        let e = expect_error(resp, StatusCode::BAD_REQUEST, "MANIFEST_INVALID").await;
        assert_eq!(status, 400, "{body}: {e}");
    }
    let resp = s.get("/v2/r/manifests/bad").await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

fn oversized() -> Vec<u8> {
    let pad = "x".repeat(4 * 1024 * 1024);
    format!(r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","annotations":{{"pad":"{pad}"}},"config":{{}},"layers":[]}}"#).into_bytes()
}

#[tokio::test]
async fn manifest_over_4_mib_is_413() {
    let s = Server::start().await;
    s.push_blob("r", b"x").await;
    let body = oversized();
    let resp = s.put_manifest("r", "big", OCI_MANIFEST, &body).await;
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    common::check_envelope(&resp.bytes().await.unwrap());

    // Streamed without Content-Length, the limit still holds.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        body.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
    let resp = s
        .req(Method::PUT, "/v2/r/manifests/big")
        .header("content-type", OCI_MANIFEST)
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    common::check_envelope(&resp.bytes().await.unwrap());
    assert_eq!(s.get("/v2/r/manifests/big").await.status(), 404);
}

#[tokio::test]
async fn subject_is_echoed_in_oci_subject() {
    let s = Server::start().await;
    let subject = image(&s, "r", OCI_MANIFEST, "subject").await;
    let sd = s.push_manifest("r", "v1", OCI_MANIFEST, &subject).await;
    let art = artifact(&s, "r", Some((&sd, subject.len()))).await;
    let resp = s.put_manifest("r", &sha256(&art), OCI_MANIFEST, &art).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(header(&resp, "oci-subject"), sd);
    // No subject, no header.
    let plain = image(&s, "r", OCI_MANIFEST, "plain").await;
    let resp = s.put_manifest("r", "plain", OCI_MANIFEST, &plain).await;
    assert_eq!(opt_header(&resp, "oci-subject"), None);
}

#[tokio::test]
async fn delete_by_digest_removes_the_manifest_and_its_tags() {
    let s = Server::start().await;
    let (d, _) = s.push_image("r", "a", "del").await;
    let body = s
        .get(&format!("/v2/r/manifests/{d}"))
        .await
        .bytes()
        .await
        .unwrap();
    s.push_manifest("r", "b", OCI_MANIFEST, &body).await;
    let (keep, _) = s.push_image("r", "keep", "other").await;
    // Read through tags first, so any cache is warm.
    for t in ["a", "b"] {
        assert_eq!(s.get(&format!("/v2/r/manifests/{t}")).await.status(), 200);
    }
    let resp = s.delete(&format!("/v2/r/manifests/{d}")).await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    for r in ["a", "b", d.as_str()] {
        let resp = s.get(&format!("/v2/r/manifests/{r}")).await;
        expect_error(resp, StatusCode::NOT_FOUND, "MANIFEST_UNKNOWN").await;
        assert_eq!(s.head(&format!("/v2/r/manifests/{r}")).await.status(), 404);
    }
    let tags = json(s.get("/v2/r/tags/list").await).await;
    assert_eq!(tags["tags"], serde_json::json!(["keep"]));
    assert_eq!(
        s.get(&format!("/v2/r/manifests/{keep}")).await.status(),
        200
    );
    let resp = s.delete(&format!("/v2/r/manifests/{d}")).await;
    expect_error(resp, StatusCode::NOT_FOUND, "MANIFEST_UNKNOWN").await;
}

/// An index's child is not deleted while the index lists it: 409 with code DENIED, the detail
/// naming both; once the index is gone, the child may go.
#[tokio::test]
async fn a_child_of_an_index_is_refused_until_the_index_goes() {
    let s = Server::start().await;
    let (child, body) = s.push_image("r", "child", "index child").await;
    let index = index_manifest(OCI_INDEX, &[(OCI_MANIFEST, &child, body.len())]).into_bytes();
    let index_d = s.push_manifest("r", "idx", OCI_INDEX, &index).await;
    let resp = s.delete(&format!("/v2/r/manifests/{child}")).await;
    let e = expect_error(resp, StatusCode::CONFLICT, "DENIED").await;
    assert_eq!(e["detail"]["manifest"], child.as_str());
    assert_eq!(e["detail"]["index"], index_d.as_str());
    check_served(&s, "r", &child, OCI_MANIFEST, &body).await;
    // A tag delete is not a manifest delete: it is never refused.
    assert_eq!(s.delete("/v2/r/manifests/child").await.status(), 202);
    assert_eq!(
        s.delete(&format!("/v2/r/manifests/{index_d}"))
            .await
            .status(),
        202
    );
    assert_eq!(
        s.delete(&format!("/v2/r/manifests/{child}")).await.status(),
        202
    );
    assert_eq!(
        s.head(&format!("/v2/r/manifests/{child}")).await.status(),
        404
    );
}

#[tokio::test]
async fn delete_of_a_tag_keeps_the_manifest() {
    let s = Server::start().await;
    let (d, body) = s.push_image("r", "v1", "tagdel").await;
    assert_eq!(s.get("/v2/r/manifests/v1").await.status(), 200);
    let resp = s.delete("/v2/r/manifests/v1").await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    expect_error(
        s.get("/v2/r/manifests/v1").await,
        StatusCode::NOT_FOUND,
        "MANIFEST_UNKNOWN",
    )
    .await;
    check_served(&s, "r", &d, OCI_MANIFEST, &body).await;
    let resp = s.delete("/v2/r/manifests/v1").await;
    expect_error(resp, StatusCode::NOT_FOUND, "MANIFEST_UNKNOWN").await;
}

#[tokio::test]
async fn deletes_are_scoped_to_the_repository() {
    let s = Server::start().await;
    let (d, body) = s.push_image("one", "t", "shared").await;
    let (d2, _) = s.push_image("two", "t", "shared").await;
    assert_eq!(d, d2);
    for r in ["one", "two"] {
        assert_eq!(s.get(&format!("/v2/{r}/manifests/t")).await.status(), 200);
    }
    assert_eq!(
        s.delete(&format!("/v2/one/manifests/{d}")).await.status(),
        202
    );
    assert_eq!(s.get("/v2/one/manifests/t").await.status(), 404);
    check_served(&s, "two", "t", OCI_MANIFEST, &body).await;
    check_served(&s, "two", &d, OCI_MANIFEST, &body).await;
}

#[tokio::test]
async fn unknown_references_and_repositories() {
    let s = Server::start().await;
    s.push_image("r", "v1", "known").await;
    let resp = s.get("/v2/r/manifests/nope").await;
    expect_error(resp, StatusCode::NOT_FOUND, "MANIFEST_UNKNOWN").await;
    let unknown = sha256(b"never a manifest");
    let resp = s.get(&format!("/v2/r/manifests/{unknown}")).await;
    expect_error(resp, StatusCode::NOT_FOUND, "MANIFEST_UNKNOWN").await;
    assert_eq!(s.head("/v2/r/manifests/nope").await.status(), 404);

    let resp = s.get("/v2/no/such/repo/manifests/v1").await;
    expect_error(resp, StatusCode::NOT_FOUND, "NAME_UNKNOWN").await;
    let resp = s.delete("/v2/no/such/repo/manifests/v1").await;
    expect_error(resp, StatusCode::NOT_FOUND, "NAME_UNKNOWN").await;
    assert_eq!(s.head("/v2/no/such/repo/manifests/v1").await.status(), 404);
}

#[tokio::test]
async fn invalid_references_are_refused() {
    let s = Server::start().await;
    let body = image(&s, "r", OCI_MANIFEST, "refs").await;
    let long = "a".repeat(129);
    for (reference, code) in [
        ("-leadingdash", "TAG_INVALID"),
        (".leadingdot", "TAG_INVALID"),
        (long.as_str(), "TAG_INVALID"),
        ("sha256:abc", "DIGEST_INVALID"),
        (
            "sha256:ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ",
            "DIGEST_INVALID",
        ),
    ] {
        let resp = s.put_manifest("r", reference, OCI_MANIFEST, &body).await;
        expect_error(resp, StatusCode::BAD_REQUEST, code).await;
        let resp = s.get(&format!("/v2/r/manifests/{reference}")).await;
        expect_error(resp, StatusCode::BAD_REQUEST, code).await;
    }
    // A 128-character tag is the longest allowed.
    let max = "b".repeat(128);
    assert_eq!(
        s.put_manifest("r", &max, OCI_MANIFEST, &body)
            .await
            .status(),
        201
    );
    // `?tag=` parameters obey the same grammar.
    let resp = s
        .req(
            Method::PUT,
            &format!("/v2/r/manifests/{}?tag=ok&tag=-bad", sha256(&body)),
        )
        .header("content-type", OCI_MANIFEST)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::BAD_REQUEST, "TAG_INVALID").await;
    assert_eq!(s.get("/v2/r/manifests/ok").await.status(), 404);
}

#[tokio::test]
async fn retagging_moves_the_tag() {
    let s = Server::start().await;
    let (a, a_body) = s.push_image("r", "latest", "first").await;
    check_served(&s, "r", "latest", OCI_MANIFEST, &a_body).await;
    let (b, b_body) = s.push_image("r", "latest", "second").await;
    assert_ne!(a, b);
    check_served(&s, "r", "latest", OCI_MANIFEST, &b_body).await;
    // The old manifest stays by digest; pushing it again moves the tag back.
    check_served(&s, "r", &a, OCI_MANIFEST, &a_body).await;
    s.push_manifest("r", "latest", OCI_MANIFEST, &a_body).await;
    check_served(&s, "r", "latest", OCI_MANIFEST, &a_body).await;
    let tags = json(s.get("/v2/r/tags/list").await).await;
    assert_eq!(tags["tags"], serde_json::json!(["latest"]));
}

#[tokio::test]
async fn push_by_digest_with_tag_parameters() {
    let s = Server::start().await;
    let body = image(&s, "r", OCI_MANIFEST, "tagparams").await;
    let d = sha256(&body);
    let resp = s
        .req(Method::PUT, &format!("/v2/r/manifests/{d}?tag=one&tag=two"))
        .header("content-type", OCI_MANIFEST)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let echoed: Vec<&str> = resp
        .headers()
        .get_all("oci-tag")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(echoed, ["one", "two"]);
    check_served(&s, "r", "one", OCI_MANIFEST, &body).await;
    check_served(&s, "r", "two", OCI_MANIFEST, &body).await;
}
