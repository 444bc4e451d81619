//! A read-only client of one upstream OCI registry, for pull-through caches: manifests by tag or
//! digest, a tag's current digest, blobs as streams, and a reachability check. Authentication
//! follows the registry's 401 challenge: `Basic` with the rule's credentials, or the token flow
//! (`Bearer realm=…`), tokens cached per repository until they expire. Credentials never appear in
//! `Debug` output, errors or logs.

pub mod challenge;

use base64::Engine;
use bytes::Bytes;
use challenge::Challenge;
use futures::stream::BoxStream;
use futures::TryStreamExt;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode, Url};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;
use zeroize::Zeroizing;

/// The manifest media types a pull-through cache asks for.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.docker.distribution.manifest.v2+json";

/// Longest time an upstream may take to answer the headers of a request.
const HEADERS_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest time to connect.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest manifest accepted from an upstream (as Wharf accepts on push).
const MAX_MANIFEST_BYTES: usize = 4 << 20;

/// Why an upstream request failed.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// The upstream has no such repository, manifest or blob.
    #[error("not found upstream")]
    NotFound,
    /// The upstream refused the credentials (or needs some).
    #[error("the upstream registry refused authentication: {0}")]
    Unauthorized(String),
    /// The upstream asked to slow down (429).
    #[error("the upstream registry is rate limiting: {0}")]
    RateLimited(String),
    /// Connection failure, timeout or a 5xx.
    #[error("the upstream registry is unavailable: {0}")]
    Unavailable(String),
    /// An answer that makes no sense (bad JSON, too large, no digest).
    #[error("the upstream registry answered badly: {0}")]
    Invalid(String),
}

/// A username and a password or access token.
#[derive(Clone)]
pub struct Credentials {
    pub username: String,
    pub secret: Zeroizing<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// A manifest as the upstream served it.
#[derive(Debug, Clone)]
pub struct FetchedManifest {
    pub media_type: String,
    pub body: Bytes,
}

/// A blob's bytes on their way, with the length the upstream announced.
pub struct FetchedBlob {
    pub len: Option<u64>,
    pub stream: BoxStream<'static, std::io::Result<Bytes>>,
}

/// One upstream registry as one pull-through rule reaches it. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Upstream {
    base: Url,
    http: reqwest::Client,
    creds: Option<Credentials>,
    /// Bearer tokens per scope, with when they expire.
    tokens: Mutex<HashMap<String, (Zeroizing<String>, Instant)>>,
}

/// The shared HTTP client of all upstreams (one pool).
pub fn http_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(HEADERS_TIMEOUT)
        .redirect(reqwest::redirect::Policy::limited(5))
        .user_agent(concat!(
            "wharf/",
            env!("CARGO_PKG_VERSION"),
            " pull-through"
        ))
        .build()
        .map_err(|e| e.to_string())
}

/// `url` as a base URL: `https://` is assumed when no scheme is given; only `http` and `https`
/// with a host and no path, query or credentials are accepted.
pub fn base_url(url: &str) -> Result<Url, String> {
    let with_scheme = if url.contains("://") {
        url.to_string()
    } else {
        format!("https://{url}")
    };
    let parsed = Url::parse(&with_scheme).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("{url:?} must be an http or https URL"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!("{url:?} names no host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(format!(
            "{url:?} must not carry credentials (use a credentialArn)"
        ));
    }
    if !parsed.path().trim_end_matches('/').is_empty() || parsed.query().is_some() {
        return Err(format!("{url:?} must name a registry, not a path"));
    }
    Ok(parsed)
}

impl Upstream {
    pub fn new(
        http: reqwest::Client,
        url: &str,
        creds: Option<Credentials>,
    ) -> Result<Self, String> {
        Ok(Upstream {
            base: base_url(url)?,
            http,
            creds,
            tokens: Mutex::new(HashMap::new()),
        })
    }

    /// `GET /v2/`: whether the registry answers and accepts the credentials.
    pub async fn check(&self) -> Result<(), UpstreamError> {
        self.send(Method::GET, "/v2/", None, None).await.map(drop)
    }

    /// The manifest `reference` (a tag or `sha256:…`) of `repo`.
    pub async fn manifest(
        &self,
        repo: &str,
        reference: &str,
    ) -> Result<FetchedManifest, UpstreamError> {
        let path = format!("/v2/{repo}/manifests/{reference}");
        let resp = self
            .send(Method::GET, &path, Some(repo), Some(MANIFEST_ACCEPT))
            .await?;
        let media_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or(v).trim().to_string())
            .unwrap_or_default();
        if resp
            .content_length()
            .is_some_and(|l| l > MAX_MANIFEST_BYTES as u64)
        {
            return Err(UpstreamError::Invalid("manifest too large".into()));
        }
        let mut body = Vec::new();
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.try_next().await.map_err(unavailable)? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_MANIFEST_BYTES {
                return Err(UpstreamError::Invalid("manifest too large".into()));
            }
        }
        Ok(FetchedManifest {
            media_type,
            body: Bytes::from(body),
        })
    }

    /// The digest the tag points at now (`HEAD`, `Docker-Content-Digest`).
    pub async fn tag_digest(&self, repo: &str, tag: &str) -> Result<String, UpstreamError> {
        let path = format!("/v2/{repo}/manifests/{tag}");
        let resp = self
            .send(Method::HEAD, &path, Some(repo), Some(MANIFEST_ACCEPT))
            .await?;
        resp.headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .ok_or_else(|| UpstreamError::Invalid("no Docker-Content-Digest on a HEAD".into()))
    }

    /// The bytes of blob `digest` of `repo`, streamed.
    pub async fn blob(&self, repo: &str, digest: &str) -> Result<FetchedBlob, UpstreamError> {
        let path = format!("/v2/{repo}/blobs/{digest}");
        let resp = self.send(Method::GET, &path, Some(repo), None).await?;
        let len = resp.content_length();
        Ok(FetchedBlob {
            len,
            stream: Box::pin(resp.bytes_stream().map_err(std::io::Error::other)),
        })
    }

    /// One request, answering the registry's challenge once when it sends a 401.
    async fn send(
        &self,
        method: Method,
        path: &str,
        repo: Option<&str>,
        accept: Option<&str>,
    ) -> Result<reqwest::Response, UpstreamError> {
        let url = self
            .base
            .join(path)
            .map_err(|e| UpstreamError::Invalid(e.to_string()))?;
        let scope_key = repo.unwrap_or("");
        let cached = self.cached_token(scope_key).await;
        let resp = self
            .request(
                method.clone(),
                url.clone(),
                accept,
                cached.as_deref().map(String::as_str),
            )
            .await?;
        if resp.status() != StatusCode::UNAUTHORIZED {
            return status_of(resp);
        }
        let header = resp
            .headers()
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(challenge::parse);
        let auth = match header {
            Some(Challenge::Basic) => match &self.creds {
                Some(c) => basic(c),
                None => {
                    return Err(UpstreamError::Unauthorized(
                        "the upstream registry needs credentials".into(),
                    ))
                }
            },
            Some(Challenge::Bearer {
                realm,
                service,
                scope,
            }) => {
                let scope = scope.or_else(|| repo.map(|r| format!("repository:{r}:pull")));
                let token = self
                    .fetch_token(&realm, service.as_deref(), scope.as_deref())
                    .await?;
                let value = Zeroizing::new(format!("Bearer {}", token.0.as_str()));
                self.tokens
                    .lock()
                    .await
                    .insert(scope_key.to_string(), (value.clone(), token.1));
                value
            }
            None => {
                return Err(UpstreamError::Unauthorized(
                    "401 without a challenge this client understands".into(),
                ))
            }
        };
        let resp = self
            .request(method, url, accept, Some(auth.as_str()))
            .await?;
        if resp.status() == StatusCode::UNAUTHORIZED || resp.status() == StatusCode::FORBIDDEN {
            return Err(UpstreamError::Unauthorized(format!(
                "{} after authenticating",
                resp.status()
            )));
        }
        status_of(resp)
    }

    async fn cached_token(&self, scope: &str) -> Option<Zeroizing<String>> {
        let tokens = self.tokens.lock().await;
        tokens
            .get(scope)
            .filter(|(_, until)| *until > Instant::now())
            .map(|(t, _)| t.clone())
    }

    async fn request(
        &self,
        method: Method,
        url: Url,
        accept: Option<&str>,
        auth: Option<&str>,
    ) -> Result<reqwest::Response, UpstreamError> {
        let mut headers = HeaderMap::new();
        if let Some(a) = accept {
            headers.insert(
                ACCEPT,
                HeaderValue::from_str(a).map_err(|e| UpstreamError::Invalid(e.to_string()))?,
            );
        }
        if let Some(a) = auth {
            let mut v = HeaderValue::from_str(a).map_err(|_| {
                UpstreamError::Invalid("credentials are not valid header text".into())
            })?;
            v.set_sensitive(true);
            headers.insert(AUTHORIZATION, v);
        }
        let req = self.http.request(method, url).headers(headers);
        tokio::time::timeout(HEADERS_TIMEOUT, req.send())
            .await
            .map_err(|_| UpstreamError::Unavailable("no answer in time".into()))?
            .map_err(unavailable)
    }

    /// The token flow: `GET realm?service=…&scope=…`, with Basic credentials when the rule has
    /// some. Returns the token and when to stop using it.
    async fn fetch_token(
        &self,
        realm: &str,
        service: Option<&str>,
        scope: Option<&str>,
    ) -> Result<(Zeroizing<String>, Instant), UpstreamError> {
        let mut url = Url::parse(realm)
            .map_err(|e| UpstreamError::Invalid(format!("token realm {realm:?}: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(UpstreamError::Invalid(format!(
                "token realm {realm:?} is not http(s)"
            )));
        }
        {
            let mut q = url.query_pairs_mut();
            if let Some(s) = service {
                q.append_pair("service", s);
            }
            if let Some(s) = scope {
                q.append_pair("scope", s);
            }
        }
        let auth = self.creds.as_ref().map(basic);
        let resp = self
            .request(Method::GET, url, None, auth.as_deref().map(String::as_str))
            .await?;
        if resp.status() == StatusCode::UNAUTHORIZED || resp.status() == StatusCode::FORBIDDEN {
            return Err(UpstreamError::Unauthorized(format!(
                "the token service answered {}",
                resp.status()
            )));
        }
        let resp = status_of(resp)?;
        let bytes = resp.bytes().await.map_err(unavailable)?;
        let body: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| UpstreamError::Invalid(format!("token response: {e}")))?;
        let token = body["token"]
            .as_str()
            .or_else(|| body["access_token"].as_str())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| UpstreamError::Invalid("token response without a token".into()))?;
        // Tokens live 60 s unless the service says otherwise; renew 10 s early.
        let secs = body["expires_in"].as_u64().unwrap_or(60).max(20) - 10;
        Ok((
            Zeroizing::new(token.to_string()),
            Instant::now() + Duration::from_secs(secs),
        ))
    }
}

fn basic(c: &Credentials) -> Zeroizing<String> {
    let raw = Zeroizing::new(format!("{}:{}", c.username, c.secret.as_str()));
    Zeroizing::new(format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw.as_bytes())
    ))
}

fn unavailable(e: reqwest::Error) -> UpstreamError {
    // Without the URL: it is ours, but keep messages short and free of query strings.
    UpstreamError::Unavailable(e.without_url().to_string())
}

fn status_of(resp: reqwest::Response) -> Result<reqwest::Response, UpstreamError> {
    let s = resp.status();
    match s {
        s if s.is_success() => Ok(resp),
        StatusCode::NOT_FOUND => Err(UpstreamError::NotFound),
        StatusCode::TOO_MANY_REQUESTS => Err(UpstreamError::RateLimited(s.to_string())),
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
            Err(UpstreamError::Unauthorized(s.to_string()))
        }
        s if s.is_server_error() => Err(UpstreamError::Unavailable(s.to_string())),
        s => Err(UpstreamError::Invalid(format!("unexpected status {s}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        assert_eq!(
            base_url("registry-1.docker.io").unwrap().as_str(),
            "https://registry-1.docker.io/"
        );
        assert_eq!(
            base_url("http://127.0.0.1:5001").unwrap().as_str(),
            "http://127.0.0.1:5001/"
        );
        assert!(base_url("ftp://x").is_err());
        assert!(base_url("https://u:p@x").is_err());
        assert!(base_url("https://x/v2/foo").is_err());
        assert!(base_url("https://").is_err());
    }

    #[test]
    fn credentials_debug_is_redacted() {
        let c = Credentials {
            username: "u".into(),
            secret: Zeroizing::new("hunter2".into()),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
