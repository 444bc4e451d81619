//! `RemoteRegistry`: HTTP to one other region's Wharf — signed ECR calls and `/v2/` requests
//! with a cached login token.

use crate::RegionEndpoint;
use base64::Engine;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use reqwest::Url;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;
use wharf_core::replication::ReplicateError;
use wharf_sigv4::{sign_headers, Payload, SigningParams};

/// How long one request may take (a 8 MiB chunk over a slow link included).
const TIMEOUT: Duration = Duration::from_secs(300);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// A login token is renewed this long before it expires.
const TOKEN_MARGIN: Duration = Duration::from_secs(300);

/// A client of one remote Wharf. Cheap to clone (shares the pool and the token).
#[derive(Clone, Debug)]
pub struct RemoteRegistry {
    inner: std::sync::Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    region: RegionEndpoint,
    url: Url,
    http: reqwest::Client,
    /// `Basic …` and when to renew it.
    token: Mutex<Option<(String, Instant)>>,
}

impl RemoteRegistry {
    pub fn new(region: RegionEndpoint) -> Result<RemoteRegistry, String> {
        let url = Url::parse(&region.endpoint)
            .map_err(|e| format!("region {} endpoint {:?}: {e}", region.name, region.endpoint))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(format!(
                "region {} endpoint {:?} must be an http or https URL",
                region.name, region.endpoint
            ));
        }
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| e.to_string())?;
        Ok(RemoteRegistry {
            inner: std::sync::Arc::new(Inner {
                region,
                url,
                http,
                token: Mutex::new(None),
            }),
        })
    }

    pub fn region(&self) -> &str {
        &self.inner.region.name
    }

    /// `host[:port]` of the endpoint.
    fn endpoint_host(&self) -> String {
        let url = &self.inner.url;
        match url.port() {
            Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_string(),
        }
    }

    /// Calls an ECR operation; the response body as JSON, or the error's `__type` and message.
    pub(crate) async fn ecr(
        &self,
        op: &str,
        body: &serde_json::Value,
    ) -> Result<Result<serde_json::Value, (String, String)>, ReplicateError> {
        let body =
            serde_json::to_vec(body).map_err(|e| ReplicateError::Transient(e.to_string()))?;
        let mut headers = HeaderMap::new();
        headers.insert(HOST, header(&self.endpoint_host())?);
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-amz-json-1.1"),
        );
        headers.insert(
            "x-amz-target",
            header(&format!("AmazonEC2ContainerRegistry_V20150921.{op}"))?,
        );
        let r = &self.inner.region;
        let params = SigningParams {
            access_key_id: &r.access_key_id,
            secret_access_key: &r.secret_access_key,
            session_token: None,
            region: &r.name,
            service: "ecr",
            time: time::OffsetDateTime::now_utc(),
        };
        sign_headers(
            &Method::POST,
            self.inner.url.path(),
            "",
            &mut headers,
            Payload::from_body(&body),
            &params,
        )
        .map_err(|e| ReplicateError::permanent("SIGNING_FAILED", e.to_string()))?;
        let resp = self
            .inner
            .http
            .post(self.inner.url.clone())
            .headers(headers)
            .body(body)
            .send()
            .await
            .map_err(|e| transport(op, e))?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| transport(op, e))?;
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        if status.is_success() {
            return Ok(Ok(json));
        }
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            return Err(ReplicateError::Transient(format!(
                "{op} at {}: HTTP {status}",
                self.region()
            )));
        }
        let kind = json["__type"]
            .as_str()
            .unwrap_or("UnknownError")
            .rsplit('#')
            .next()
            .unwrap_or_default()
            .to_string();
        let message = json["message"].as_str().unwrap_or_default().to_string();
        Ok(Err((kind, message)))
    }

    /// The `/v2/` Basic credentials, from `GetAuthorizationToken` (cached until shortly before
    /// they expire; `renew` forces a new one after a 401).
    pub(crate) async fn login(&self, renew: bool) -> Result<String, ReplicateError> {
        let mut token = self.inner.token.lock().await;
        if let (false, Some((t, until))) = (renew, token.as_ref()) {
            if Instant::now() < *until {
                return Ok(t.clone());
            }
        }
        let data = match self
            .ecr("GetAuthorizationToken", &serde_json::json!({}))
            .await?
        {
            Ok(v) => v,
            Err((kind, message)) => {
                return Err(ReplicateError::permanent(
                    "AUTHENTICATION_FAILED",
                    format!(
                        "GetAuthorizationToken at {}: {kind}: {message}",
                        self.region()
                    ),
                ))
            }
        };
        let entry = &data["authorizationData"][0];
        let Some(encoded) = entry["authorizationToken"].as_str() else {
            return Err(ReplicateError::Transient(
                "GetAuthorizationToken answered no token".into(),
            ));
        };
        // Check it decodes to user:password before using it as Basic credentials.
        base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|_| {
                ReplicateError::Transient("GetAuthorizationToken answered a malformed token".into())
            })?;
        let now = time::OffsetDateTime::now_utc().unix_timestamp() as f64;
        let lifetime = entry["expiresAt"]
            .as_f64()
            .map_or(Duration::from_secs(3600), |e| {
                Duration::from_secs_f64((e - now).max(0.0))
            });
        let basic = format!("Basic {encoded}");
        *token = Some((
            basic.clone(),
            Instant::now() + lifetime.saturating_sub(TOKEN_MARGIN),
        ));
        Ok(basic)
    }

    /// A `/v2/` URL: the endpoint joined with `path_and_query`, or an absolute/relative upload
    /// location the destination answered.
    pub(crate) fn v2_url(&self, location: &str) -> Result<Url, ReplicateError> {
        self.inner
            .url
            .join(location)
            .map_err(|e| ReplicateError::Transient(format!("bad location {location:?}: {e}")))
    }

    /// Sends a `/v2/` request for `account`'s registry with the login, once more with a fresh
    /// login after a 401.
    pub(crate) async fn v2(
        &self,
        account: &str,
        method: Method,
        url: Url,
        headers: HeaderMap,
        body: Option<bytes::Bytes>,
    ) -> Result<reqwest::Response, ReplicateError> {
        let mut renew = false;
        loop {
            let auth = self.login(renew).await?;
            let mut h = headers.clone();
            h.insert(AUTHORIZATION, header(&auth)?);
            if let Some(domain) = &self.inner.region.registry_domain {
                h.insert(
                    HOST,
                    header(&format!("{account}.dkr.ecr.{}.{domain}", self.region()))?,
                );
            }
            let mut req = self
                .inner
                .http
                .request(method.clone(), url.clone())
                .headers(h);
            if let Some(b) = &body {
                req = req.body(b.clone());
            }
            let resp = req
                .send()
                .await
                .map_err(|e| transport(method.as_str(), e))?;
            if resp.status() == StatusCode::UNAUTHORIZED && !renew {
                renew = true;
                continue;
            }
            return Ok(resp);
        }
    }
}

fn header(v: &str) -> Result<HeaderValue, ReplicateError> {
    HeaderValue::from_str(v)
        .map_err(|_| ReplicateError::permanent("INVALID_HEADER", "a header value is not valid"))
}

/// An unreachable destination: retried.
fn transport(what: &str, e: reqwest::Error) -> ReplicateError {
    let mut text = format!("{what}: {e}");
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    ReplicateError::Transient(text)
}

/// The outcome of a `/v2/` response that is not the expected success: 5xx, 429 and 401 may pass;
/// any other refusal is permanent, its OCI error code the failure code.
pub(crate) async fn refusal(what: &str, resp: reqwest::Response) -> ReplicateError {
    let status = resp.status();
    let body = resp.bytes().await.unwrap_or_default();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let code = json["errors"][0]["code"]
        .as_str()
        .unwrap_or("UNKNOWN")
        .to_string();
    let message = json["errors"][0]["message"].as_str().unwrap_or_default();
    let text = format!("{what}: HTTP {status} {code} {message}");
    if status.is_server_error()
        || status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::UNAUTHORIZED
        || status == StatusCode::REQUEST_TIMEOUT
    {
        ReplicateError::Transient(text)
    } else {
        ReplicateError::permanent(&code, text)
    }
}
