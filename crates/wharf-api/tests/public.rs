//! Public repositories on `/v2/` through the real server: a repository marked public is served at
//! `<alias>/<name>` to anyone (reads only), its upload `Location`s keep the alias path, the
//! `/token` endpoint's anonymous token reads it as `Bearer`, and nothing else becomes public.

mod common;

use common::{header, Server, OCI_MANIFEST};
use reqwest::{Method, StatusCode};
use wharf_core::public::default_public_alias;
use wharf_core::Repo;
use wharf_meta::RepoSettings;

/// Creates a public repository `name` in the default account; returns `<alias>/<name>`.
async fn public_repo(server: &Server, name: &str) -> String {
    let account = server.registry.default_account();
    let repo = Repo::new(account.clone(), name.parse().unwrap());
    let settings = RepoSettings {
        public: true,
        ..RepoSettings::default()
    };
    server
        .registry
        .create_repository(&repo, &settings, &[])
        .await
        .unwrap();
    let registry = server.registry.public_registry(&account).await.unwrap();
    assert_eq!(registry.alias, default_public_alias(&account));
    format!("{}/{name}", registry.alias)
}

fn anonymous() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn public_repositories_are_read_by_anyone_under_their_alias() {
    let server = Server::start().await;
    let path = public_repo(&server, "tools/hello").await;
    // An upload's Location keeps the alias, so the chunked flow stays on the public repository.
    let location = server.start_upload(&path).await;
    assert!(
        location.starts_with(&format!("/v2/{path}/blobs/uploads/")),
        "{location}"
    );
    let (digest, manifest) = server.push_image(&path, "v1", "public").await;

    let anon = anonymous();
    let get = |p: String| {
        anon.get(server.url(&p))
            .header("accept", OCI_MANIFEST)
            .send()
    };
    let resp = get(format!("/v2/{path}/manifests/v1")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(header(&resp, "docker-content-digest"), digest);
    assert_eq!(resp.bytes().await.unwrap(), manifest);
    let resp = get(format!("/v2/{path}/tags/list")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);

    // Writes still need credentials.
    let resp = anon
        .request(
            Method::POST,
            server.url(&format!("/v2/{path}/blobs/uploads/")),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let resp = anon
        .delete(server.url(&format!("/v2/{path}/manifests/{digest}")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    // The repository's own name, without the alias, is not public.
    let resp = get("/v2/tools/hello/manifests/v1".into()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    // The token flow: an anonymous token from /token reads it as Bearer.
    let token = common::json(
        anon.get(server.url("/token?scope=repository:x:pull"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let bearer = format!("Bearer {}", token["token"].as_str().unwrap());
    let resp = anon
        .get(server.url(&format!("/v2/{path}/manifests/{digest}")))
        .header("authorization", &bearer)
        .header("accept", OCI_MANIFEST)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = anon
        .get(server.url("/v2/"))
        .header("authorization", "Bearer forged")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn private_repositories_stay_private_under_an_alias() {
    let server = Server::start().await;
    let path = public_repo(&server, "open").await;
    let alias = path.split('/').next().unwrap().to_string();
    // A private repository of the same account, pushed by the administrator.
    server.push_image("closed", "v1", "private").await;
    let anon = anonymous();
    for p in [
        "/v2/closed/manifests/v1".to_string(),
        format!("/v2/{alias}/closed/manifests/v1"),
    ] {
        let resp = anon
            .get(server.url(&p))
            .header("accept", OCI_MANIFEST)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{p}");
    }
}
