//! `aws:SourceIp` and `aws:SecureTransport` behind a proxy: a repository policy that denies pulls
//! from outside 203.0.113.0/24, or over plain HTTP, applies to the client a trusted proxy names in
//! `X-Forwarded-For`/`X-Forwarded-Proto`, and the same headers from an untrusted peer change
//! nothing.

mod common;

use common::{Server, OCI_MANIFEST};
use reqwest::StatusCode;
use wharf_api::client::TrustedProxies;
use wharf_core::Repo;

const ONLY_FROM_DOCS_NET: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"ecr:BatchGetImage","Condition":{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}]}"#;
const ONLY_OVER_TLS: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"ecr:BatchGetImage","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#;

async fn with_policy(s: &Server, name: &str, policy: &str) {
    s.push_image(name, "v1", name).await;
    let repo = Repo::new(s.registry.default_account(), name.parse().unwrap());
    s.registry
        .set_repository_policy(&repo, policy)
        .await
        .expect("set policy");
}

async fn pull(s: &Server, name: &str, headers: &[(&str, &str)]) -> StatusCode {
    let mut req = s
        .req(reqwest::Method::GET, &format!("/v2/{name}/manifests/v1"))
        .header("accept", OCI_MANIFEST);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.expect("GET manifest").status()
}

#[tokio::test]
async fn a_trusted_proxy_names_the_client_address_and_scheme() {
    let s = Server::start_with(TrustedProxies::new(vec!["127.0.0.0/8".parse().unwrap()])).await;
    with_policy(&s, "proxied/ip", ONLY_FROM_DOCS_NET).await;
    assert_eq!(pull(&s, "proxied/ip", &[]).await, StatusCode::FORBIDDEN);
    let from_docs = [("x-forwarded-for", "203.0.113.7")];
    assert_eq!(pull(&s, "proxied/ip", &from_docs).await, StatusCode::OK);
    // The edge proxy appends the real address after whatever the client sent.
    let forged = [("x-forwarded-for", "203.0.113.7, 198.51.100.1")];
    assert_eq!(pull(&s, "proxied/ip", &forged).await, StatusCode::FORBIDDEN);

    with_policy(&s, "proxied/tls", ONLY_OVER_TLS).await;
    assert_eq!(pull(&s, "proxied/tls", &[]).await, StatusCode::FORBIDDEN);
    let tls = [("x-forwarded-proto", "https")];
    assert_eq!(pull(&s, "proxied/tls", &tls).await, StatusCode::OK);
}

#[tokio::test]
async fn headers_from_an_untrusted_peer_change_nothing() {
    let s = Server::start().await;
    with_policy(&s, "direct/ip", ONLY_FROM_DOCS_NET).await;
    let claims = [
        ("x-forwarded-for", "203.0.113.7"),
        ("x-forwarded-proto", "https"),
    ];
    assert_eq!(pull(&s, "direct/ip", &claims).await, StatusCode::FORBIDDEN);
    with_policy(&s, "direct/tls", ONLY_OVER_TLS).await;
    assert_eq!(pull(&s, "direct/tls", &claims).await, StatusCode::FORBIDDEN);
}
