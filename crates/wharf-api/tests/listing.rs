//! Listings over HTTP: tags and the catalog in lexical order, `n`/`last` pagination with the
//! `Link: <…>; rel="next"` header followed to the end, and listing errors.

mod common;

use common::{expect_error, header, json, opt_header, Server, OCI_MANIFEST};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Pushes one image and points every tag in `tags` at it.
async fn tagged(s: &Server, repo: &str, tags: &[&str]) {
    let (_, body) = s.push_image(repo, tags[0], repo).await;
    for t in &tags[1..] {
        s.push_manifest(repo, t, OCI_MANIFEST, &body).await;
    }
}

/// Follows `Link` headers from `first`, returning each page's entries under `key` and its Link.
async fn pages(s: &Server, first: &str, key: &str) -> Vec<(Vec<String>, Option<String>)> {
    let mut out = Vec::new();
    let mut next = Some(first.to_string());
    while let Some(path) = next.take() {
        let resp = s.get(&path).await;
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        assert_eq!(header(&resp, "content-type"), "application/json");
        let link = opt_header(&resp, "link");
        let v: Value = json(resp).await;
        let items: Vec<String> = v[key]
            .as_array()
            .unwrap_or_else(|| panic!("{key} in {v}"))
            .iter()
            .map(|t| t.as_str().unwrap().to_string())
            .collect();
        if let Some(l) = &link {
            let target = l
                .strip_prefix('<')
                .and_then(|l| l.strip_suffix(">; rel=\"next\""))
                .unwrap_or_else(|| panic!("malformed Link {l:?}"));
            next = Some(target.to_string());
        }
        out.push((items, link));
        assert!(out.len() < 50, "pagination does not end");
    }
    out
}

#[tokio::test]
async fn tags_are_listed_in_lexical_order() {
    let s = Server::start().await;
    tagged(&s, "r", &["b", "a1", "_x", "a", "9", "10", "B", "latest"]).await;
    let v = json(s.get("/v2/r/tags/list").await).await;
    assert_eq!(v["name"], "r");
    assert_eq!(
        v["tags"],
        json!(["10", "9", "B", "_x", "a", "a1", "b", "latest"])
    );
}

#[tokio::test]
async fn tag_pages_carry_a_link_to_the_next_page() {
    let s = Server::start().await;
    tagged(&s, "lib/app", &["e", "c", "a", "d", "b"]).await;

    let resp = s.get("/v2/lib/app/tags/list?n=2").await;
    assert_eq!(
        header(&resp, "link"),
        r#"</v2/lib/app/tags/list?n=2&last=b>; rel="next""#
    );
    let v = json(resp).await;
    assert_eq!(v, json!({"name": "lib/app", "tags": ["a", "b"]}));

    let got = pages(&s, "/v2/lib/app/tags/list?n=2", "tags").await;
    let items: Vec<Vec<String>> = got.iter().map(|(i, _)| i.clone()).collect();
    assert_eq!(items, vec![vec!["a", "b"], vec!["c", "d"], vec!["e"]]);
    assert_eq!(
        got[1].1.as_deref(),
        Some(r#"</v2/lib/app/tags/list?n=2&last=d>; rel="next""#)
    );
    assert_eq!(got[2].1, None);

    // A page that ends exactly at the last tag has no Link.
    let resp = s.get("/v2/lib/app/tags/list?n=5").await;
    assert_eq!(opt_header(&resp, "link"), None);
    assert_eq!(json(resp).await["tags"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn last_without_n_and_past_the_end() {
    let s = Server::start().await;
    tagged(&s, "r", &["a", "b", "c"]).await;
    let resp = s.get("/v2/r/tags/list?last=a").await;
    assert_eq!(opt_header(&resp, "link"), None);
    assert_eq!(json(resp).await["tags"], json!(["b", "c"]));
    // `last` need not be an existing tag.
    let v = json(s.get("/v2/r/tags/list?last=bb&n=10").await).await;
    assert_eq!(v["tags"], json!(["c"]));
    let v = json(s.get("/v2/r/tags/list?last=z").await).await;
    assert_eq!(v["tags"], json!([]));
    // Without n, everything comes back with no Link.
    let resp = s.get("/v2/r/tags/list").await;
    assert_eq!(opt_header(&resp, "link"), None);
}

#[tokio::test]
async fn n_zero_and_invalid_n() {
    let s = Server::start().await;
    tagged(&s, "r", &["a", "b"]).await;
    let resp = s.get("/v2/r/tags/list?n=0").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(json(resp).await["tags"], json!([]));
    for bad in ["-1", "x", "1.5"] {
        let resp = s.get(&format!("/v2/r/tags/list?n={bad}")).await;
        expect_error(resp, StatusCode::BAD_REQUEST, "PAGINATION_NUMBER_INVALID").await;
    }
}

#[tokio::test]
async fn tags_of_unknown_repository_is_name_unknown() {
    let s = Server::start().await;
    let resp = s.get("/v2/nobody/tags/list").await;
    expect_error(resp, StatusCode::NOT_FOUND, "NAME_UNKNOWN").await;
}

#[tokio::test]
async fn tags_of_repository_with_only_blobs_is_empty() {
    let s = Server::start().await;
    s.push_blob("blobsonly", b"bytes").await;
    let resp = s.get("/v2/blobsonly/tags/list").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(json(resp).await["tags"], json!([]));
}

#[tokio::test]
async fn catalog_lists_and_paginates_repositories() {
    let s = Server::start().await;
    let v = json(s.get("/v2/_catalog").await).await;
    assert_eq!(v, json!({"repositories": []}));

    for r in ["zeta", "alpha/one", "alpha/two", "beta", "alpha"] {
        tagged(&s, r, &["t"]).await;
    }
    let v = json(s.get("/v2/_catalog").await).await;
    assert_eq!(
        v["repositories"],
        json!(["alpha", "alpha/one", "alpha/two", "beta", "zeta"])
    );

    let resp = s.get("/v2/_catalog?n=2").await;
    let link = header(&resp, "link");
    // The name in `last` is escaped or not; following it must work either way.
    assert!(
        link == r#"</v2/_catalog?n=2&last=alpha%2Fone>; rel="next""#
            || link == r#"</v2/_catalog?n=2&last=alpha/one>; rel="next""#,
        "{link}"
    );
    let got = pages(&s, "/v2/_catalog?n=2", "repositories").await;
    let items: Vec<Vec<String>> = got.iter().map(|(i, _)| i.clone()).collect();
    assert_eq!(
        items,
        vec![
            vec!["alpha", "alpha/one"],
            vec!["alpha/two", "beta"],
            vec!["zeta"]
        ]
    );
    let resp = s.get("/v2/_catalog?n=x").await;
    expect_error(resp, StatusCode::BAD_REQUEST, "PAGINATION_NUMBER_INVALID").await;
}
