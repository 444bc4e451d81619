//! The base endpoint and the error surface over HTTP: `GET /v2/`, the repository-name and tag
//! grammar on every endpoint (sent over a raw socket so `..` and `%2e%2e` reach the server
//! unresolved), unknown paths, unsupported methods (405 `UNSUPPORTED`), and that every error body is
//! the OCI envelope `{"errors":[{"code","message"}]}` served as JSON.

mod common;

use common::{check_envelope, expect_error, header, raw, sha256, RawResponse, Server};
use reqwest::{Method, StatusCode};

#[tokio::test]
async fn base_endpoint_announces_the_api_version() {
    let s = Server::start().await;
    for path in ["/v2/", "/v2"] {
        let resp = s.get(path).await;
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        assert_eq!(
            header(&resp, "docker-distribution-api-version"),
            "registry/2.0"
        );
        assert!(resp.headers().get("x-request-id").is_some());
        let body = resp.bytes().await.unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v, serde_json::json!({}));
    }
    let resp = s.head("/v2/").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        header(&resp, "docker-distribution-api-version"),
        "registry/2.0"
    );
    // Errors carry the header too.
    let resp = s.get("/v2/nobody/tags/list").await;
    assert_eq!(
        header(&resp, "docker-distribution-api-version"),
        "registry/2.0"
    );
}

/// Asserts a raw response is a client error with the OCI envelope, returning its first code.
fn client_error(what: &str, resp: &RawResponse) -> String {
    assert!(
        (400..500).contains(&resp.status),
        "{what}: status {} (body {:?})",
        resp.status,
        String::from_utf8_lossy(&resp.body)
    );
    assert_eq!(
        resp.header("content-type"),
        Some("application/json"),
        "{what}"
    );
    check_envelope(&resp.body)["code"]
        .as_str()
        .unwrap()
        .to_string()
}

const BAD_NAMES: &[&str] = &[
    "..", "../x", "x/..", "a/../b", "%2e%2e", "%2E%2E/x", "x/%2e%2e", ".", "x/./y", "A", "Lib/app",
    "lib/App", "a//b", "/a", "a/", "a%00b", "%00", "a%2fb", "a%20b", "-a", "a-", "a..b", "a___b",
    "_a", "a.", "a:b",
];

#[tokio::test]
async fn invalid_names_are_name_invalid_on_every_endpoint() {
    let s = Server::start().await;
    s.push_image("a/b", "t", "exists").await;
    let d = sha256(b"x");
    let long = vec!["a"; 129].join("/");
    let mut names: Vec<&str> = BAD_NAMES.to_vec();
    names.push(&long);
    for name in names {
        let requests = [
            ("GET", format!("/v2/{name}/tags/list")),
            ("GET", format!("/v2/{name}/manifests/t")),
            ("HEAD", format!("/v2/{name}/manifests/t")),
            ("PUT", format!("/v2/{name}/manifests/t")),
            ("DELETE", format!("/v2/{name}/manifests/t")),
            ("GET", format!("/v2/{name}/blobs/{d}")),
            ("DELETE", format!("/v2/{name}/blobs/{d}")),
            ("POST", format!("/v2/{name}/blobs/uploads/")),
            ("POST", format!("/v2/{name}/blobs/uploads/?digest={d}")),
            (
                "PATCH",
                format!("/v2/{name}/blobs/uploads/3fa85f64-5717-4562-b3fc-2c963f66afa6"),
            ),
            ("GET", format!("/v2/{name}/referrers/{d}")),
        ];
        for (method, path) in requests {
            let what = format!("{method} {path}");
            let resp = raw(&s, method, &path).await;
            if method == "HEAD" {
                assert!((400..500).contains(&resp.status), "{what}: {}", resp.status);
                continue;
            }
            let code = client_error(&what, &resp);
            assert_eq!(code, "NAME_INVALID", "{what}");
        }
    }
    // Nothing above created a repository.
    let v = common::json(s.get("/v2/_catalog").await).await;
    assert_eq!(v["repositories"], serde_json::json!(["a/b"]));
}

#[tokio::test]
async fn valid_names_route() {
    let s = Server::start().await;
    // Names that use every separator, and the words endpoints use.
    for name in [
        "a",
        "a.b",
        "a_b",
        "a__b",
        "a--b",
        "0/1/2",
        "blobs/manifests",
        "tags",
        "v2",
    ] {
        s.push_image(name, "t", name).await;
        let resp = s.get(&format!("/v2/{name}/manifests/t")).await;
        assert_eq!(resp.status(), StatusCode::OK, "{name}");
    }
    let max = vec!["a"; 128].join("/") + "a";
    assert!(max.len() <= 256);
    let resp = s.get(&format!("/v2/{max}/tags/list")).await;
    expect_error(resp, StatusCode::NOT_FOUND, "NAME_UNKNOWN").await;
}

#[tokio::test]
async fn invalid_tags_are_refused() {
    let s = Server::start().await;
    s.push_image("r", "t", "x").await;
    for reference in [
        "..", "%2e%2e", ".hidden", "-x", "a%21", "a%00", "t%2fx", "%20",
    ] {
        for method in ["GET", "PUT", "DELETE"] {
            let path = format!("/v2/r/manifests/{reference}");
            let what = format!("{method} {path}");
            let resp = raw(&s, method, &path).await;
            let code = client_error(&what, &resp);
            assert_eq!(code, "TAG_INVALID", "{what}");
        }
    }
}

#[tokio::test]
async fn unknown_paths_are_404_with_the_envelope() {
    let s = Server::start().await;
    s.push_image("r", "t", "x").await;
    for path in [
        "/",
        "/v3/",
        "/v2x",
        "/v2/r",
        "/v2/r/",
        "/v2/r/tags",
        "/v2/r/tags/list/",
        "/v2/r/manifests/",
        "/v2/r/manifests/t/",
        "/v2/r/blobs/",
        "/v2/r/unknown/x",
        "/v2/manifests/t",
        "/favicon.ico",
    ] {
        let resp = raw(&s, "GET", path).await;
        let code = client_error(path, &resp);
        assert!(
            code == "NOT_FOUND" || code == "NAME_INVALID",
            "{path}: {code}"
        );
    }
}

#[tokio::test]
async fn unsupported_methods_are_405() {
    let s = Server::start().await;
    let (d, _) = s.push_image("r", "t", "x").await;
    let loc = s.start_upload("r").await;
    let cases = [
        (Method::POST, "/v2/".to_string()),
        (Method::DELETE, "/v2/".to_string()),
        (Method::POST, "/v2/_catalog".to_string()),
        (Method::DELETE, "/v2/_catalog".to_string()),
        (Method::PUT, "/v2/r/tags/list".to_string()),
        (Method::DELETE, "/v2/r/tags/list".to_string()),
        (Method::POST, "/v2/r/manifests/t".to_string()),
        (Method::PATCH, "/v2/r/manifests/t".to_string()),
        (Method::PUT, format!("/v2/r/blobs/{d}")),
        (Method::POST, format!("/v2/r/blobs/{d}")),
        (Method::PATCH, format!("/v2/r/blobs/{d}")),
        (Method::GET, "/v2/r/blobs/uploads/".to_string()),
        (Method::PUT, "/v2/r/blobs/uploads/".to_string()),
        (Method::DELETE, "/v2/r/blobs/uploads/".to_string()),
        (Method::POST, loc.clone()),
        (Method::DELETE, format!("/v2/r/referrers/{d}")),
        (Method::PUT, format!("/v2/r/referrers/{d}")),
        (Method::OPTIONS, "/v2/r/manifests/t".to_string()),
    ];
    for (method, path) in cases {
        let resp = s.req(method.clone(), &path).send().await.unwrap();
        expect_error(resp, StatusCode::METHOD_NOT_ALLOWED, "UNSUPPORTED").await;
    }
    // The resources are untouched.
    assert_eq!(s.get("/v2/r/manifests/t").await.status(), 200);
    assert_eq!(s.get(&loc).await.status(), 204);
}

#[tokio::test]
async fn every_error_is_the_oci_envelope() {
    let s = Server::start().await;
    let (d, _) = s.push_image("r", "t", "x").await;
    let unknown = sha256(b"unknown");
    let cases: Vec<(Method, String, u16)> = vec![
        (Method::GET, "/v2/nobody/tags/list".into(), 404),
        (Method::GET, "/v2/nobody/manifests/t".into(), 404),
        (Method::GET, "/v2/r/manifests/nope".into(), 404),
        (Method::GET, format!("/v2/r/blobs/{unknown}"), 404),
        (Method::GET, "/v2/r/blobs/sha256:short".into(), 400),
        (Method::GET, "/v2/r/blobs/uploads/nope".into(), 404),
        (Method::PUT, format!("/v2/r/manifests/{unknown}"), 400),
        (Method::DELETE, format!("/v2/r/manifests/{unknown}"), 404),
        (Method::GET, "/v2/r/tags/list?n=bad".into(), 400),
        (Method::POST, format!("/v2/r/manifests/{d}"), 405),
        (Method::GET, "/v2/Bad/tags/list".into(), 400),
    ];
    for (method, path, status) in cases {
        let resp = s.req(method.clone(), &path).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), status, "{method} {path}");
        assert_eq!(header(&resp, "content-type"), "application/json");
        check_envelope(&resp.bytes().await.unwrap());
    }
}

/// When the server answers without reading the request body, it closes the connection afterwards;
/// it must then say so with `Connection: close`, or clients reuse the dead connection and their
/// next request fails (`IncompleteMessage` / broken pipe in reqwest, the same in Docker's client).
#[tokio::test]
async fn error_before_reading_the_body_closes_the_connection_explicitly() {
    let s = Server::start().await;
    let auth = s.auth.clone();
    let loc = s.start_upload("r").await;
    assert_eq!(s.patch(&loc, Some(0), b"0123456789").await.status(), 202);
    let body = vec![b'x'; 256 * 1024];
    let big = 4 * 1024 * 1024 + 1;
    let cases = [
        // A chunk at the wrong offset: 416 before the body is read.
        (
            format!("PATCH {loc} HTTP/1.1\r\nHost: t\r\nAuthorization: {auth}\r\nContent-Range: 0-{}\r\nContent-Length: {}\r\n\r\n", body.len() - 1, body.len()),
            body.len(),
        ),
        // A malformed digest on a monolithic push: 400 before the body is read.
        (
            format!("POST /v2/r/blobs/uploads/?digest=sha256:bad HTTP/1.1\r\nHost: t\r\nAuthorization: {auth}\r\nContent-Length: {}\r\n\r\n", body.len()),
            body.len(),
        ),
        // A manifest declared larger than the limit: 413 before the body is read.
        (
            format!("PUT /v2/r/manifests/t HTTP/1.1\r\nHost: t\r\nAuthorization: {auth}\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\nContent-Length: {big}\r\n\r\n"),
            body.len(),
        ),
    ];
    let mut dropped = Vec::new();
    for (head, len) in cases {
        let mut first = head.clone().into_bytes();
        first.extend_from_slice(&body[..len]);
        let second = format!("GET {loc} HTTP/1.1\r\nHost: t\r\nAuthorization: {auth}\r\n\r\n");
        let (resp, next) = common::raw_keep_alive(&s.base, &first, second.as_bytes()).await;
        let what = head.lines().next().unwrap().to_string();
        assert!((400..500).contains(&resp.status), "{what}: {}", resp.status);
        let announced = resp
            .header("connection")
            .is_some_and(|c| c.eq_ignore_ascii_case("close"));
        if !announced && next.is_none() {
            dropped.push(format!("{what} -> {}", resp.status));
        }
    }
    assert!(
        dropped.is_empty(),
        "answered without Connection: close, then dropped the connection: {dropped:#?}"
    );
}
