//! The token flow against a small registry that answers like Docker Hub: `/v2/` paths need a
//! Bearer token, which `/token` hands out for Basic credentials and a repository pull scope.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use wharf_upstream::{Credentials, Upstream, UpstreamError};
use zeroize::Zeroizing;

#[derive(Clone, Default)]
struct Seen {
    token_requests: Arc<Mutex<Vec<HashMap<String, String>>>>,
}

const MANIFEST: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#;

async fn token(
    State(seen): State<Seen>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    // base64("user:pass")
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Basic dXNlcjpwYXNz") {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    seen.token_requests.lock().unwrap().push(q);
    serde_json::json!({"token": "good-token", "expires_in": 300})
        .to_string()
        .into_response()
}

fn challenge(addr: &str) -> Response {
    let mut r = StatusCode::UNAUTHORIZED.into_response();
    r.headers_mut().insert(
        "www-authenticate",
        format!(r#"Bearer realm="http://{addr}/token",service="test.registry",scope="repository:lib/app:pull""#)
            .parse()
            .unwrap(),
    );
    r
}

async fn serve() -> (String, Seen) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let seen = Seen::default();
    let a1 = addr.clone();
    let a2 = addr.clone();
    let app = Router::new()
        .route("/token", get(token))
        .route(
            "/v2/",
            get(move |h: HeaderMap| {
                let addr = a1.clone();
                async move {
                    if h.get("authorization").and_then(|v| v.to_str().ok())
                        == Some("Bearer good-token")
                    {
                        StatusCode::OK.into_response()
                    } else {
                        challenge(&addr)
                    }
                }
            }),
        )
        .route(
            "/v2/lib/app/manifests/{reference}",
            get(move |h: HeaderMap| {
                let addr = a2.clone();
                async move {
                    if h.get("authorization").and_then(|v| v.to_str().ok())
                        != Some("Bearer good-token")
                    {
                        return challenge(&addr);
                    }
                    let mut r = MANIFEST.into_response();
                    r.headers_mut().insert(
                        "content-type",
                        "application/vnd.oci.image.manifest.v1+json"
                            .parse()
                            .unwrap(),
                    );
                    r
                }
            }),
        )
        .with_state(seen.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, seen)
}

fn creds(pass: &str) -> Option<Credentials> {
    Some(Credentials {
        username: "user".into(),
        secret: Zeroizing::new(pass.into()),
    })
}

#[tokio::test]
async fn bearer_tokens_are_fetched_with_credentials_and_reused() {
    let (addr, seen) = serve().await;
    let http = wharf_upstream::http_client().unwrap();
    let up = Upstream::new(http, &format!("http://{addr}"), creds("pass")).unwrap();
    let m = up.manifest("lib/app", "v1").await.unwrap();
    assert_eq!(m.body, MANIFEST.as_bytes());
    assert_eq!(m.media_type, "application/vnd.oci.image.manifest.v1+json");
    up.manifest("lib/app", "v1").await.unwrap();
    let requests = seen.token_requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 1, "the token is cached for the repository");
    assert_eq!(requests[0]["scope"], "repository:lib/app:pull");
    assert_eq!(requests[0]["service"], "test.registry");
}

#[tokio::test]
async fn wrong_credentials_are_unauthorized_and_missing_manifests_not_found() {
    let (addr, _) = serve().await;
    let http = wharf_upstream::http_client().unwrap();
    let bad = Upstream::new(http.clone(), &format!("http://{addr}"), creds("wrong")).unwrap();
    assert!(matches!(
        bad.check().await,
        Err(UpstreamError::Unauthorized(_))
    ));
    let good = Upstream::new(http, &format!("http://{addr}"), creds("pass")).unwrap();
    good.check().await.unwrap();
    assert!(matches!(
        good.manifest("lib/other", "v1").await,
        Err(UpstreamError::NotFound)
    ));
}

#[tokio::test]
async fn an_unreachable_upstream_is_unavailable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let up = Upstream::new(
        wharf_upstream::http_client().unwrap(),
        &format!("http://{addr}"),
        None,
    )
    .unwrap();
    assert!(matches!(
        up.check().await,
        Err(UpstreamError::Unavailable(_))
    ));
}
