//! `KmsClient`: one signed awsJson1.1 `POST` per operation, with a timeout and a bounded response.
//!
//! The request is signed over its exact body (`Payload::Sha256`) and headers `content-type`,
//! `host`, `x-amz-date`, `x-amz-target` and, with temporary credentials, `x-amz-security-token`.

use std::sync::Arc;
use std::time::Duration;

use http::header::{CONTENT_TYPE, HOST};
use http::{HeaderMap, HeaderValue, Method};
use reqwest::Url;
use serde::Serialize;
use time::OffsetDateTime;
use wharf_sigv4::{sign_headers, Payload, SigningParams};
use zeroize::Zeroizing;

use crate::error::from_response;
use crate::{KmsConfig, KmsError};

/// How long one KMS call may take, connecting included.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The largest response body read; KMS responses are a few KiB.
const MAX_RESPONSE: usize = 1 << 20;

const CONTENT_TYPE_JSON: &str = "application/x-amz-json-1.1";

/// A KMS client. Cheap to clone: clones share the connection pool.
#[derive(Clone, Debug)]
pub struct KmsClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: KmsConfig,
    url: Url,
    host: HeaderValue,
    http: reqwest::Client,
}

impl KmsClient {
    /// A client for `config` with the default [`TIMEOUT`]. Fails when the endpoint is not an
    /// `http`/`https` URL with a host.
    pub fn new(config: KmsConfig) -> Result<Self, KmsError> {
        Self::with_timeout(config, TIMEOUT)
    }

    /// A client whose calls give up after `timeout` instead of [`TIMEOUT`].
    pub fn with_timeout(config: KmsConfig, timeout: Duration) -> Result<Self, KmsError> {
        let url = Url::parse(&config.endpoint)
            .map_err(|e| KmsError::protocol(format!("KMS endpoint {:?}: {e}", config.endpoint)))?;
        if !matches!(url.scheme(), "http" | "https") || url.query().is_some() {
            return Err(KmsError::protocol(format!(
                "KMS endpoint {:?} must be an http or https URL without a query",
                config.endpoint
            )));
        }
        let host = host_header(&url).ok_or_else(|| {
            KmsError::protocol(format!("KMS endpoint {:?} has no host", config.endpoint))
        })?;
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .map_err(|e| KmsError::Transport(e.to_string()))?;
        Ok(KmsClient {
            inner: Arc::new(Inner {
                config,
                url,
                host,
                http,
            }),
        })
    }

    /// The configuration this client signs with.
    pub fn config(&self) -> &KmsConfig {
        &self.inner.config
    }

    /// Sends `TrentService.<op>` with `request` as its body and returns the 2xx response body, in a
    /// buffer wiped on drop (it may hold key material). Non-2xx responses become [`KmsError`]s.
    pub(crate) async fn call<T: Serialize>(
        &self,
        op: &str,
        request: &T,
    ) -> Result<Zeroizing<Vec<u8>>, KmsError> {
        let body = Zeroizing::new(
            serde_json::to_vec(request)
                .map_err(|e| KmsError::protocol(format!("{op} request: {e}")))?,
        );
        let headers = self.signed_headers(op, &body, OffsetDateTime::now_utc())?;
        let started = std::time::Instant::now();
        let mut response = self
            .inner
            .http
            .post(self.inner.url.clone())
            .headers(headers)
            // reqwest needs an owned body; this copy is not wiped (best effort for requests).
            .body(body.to_vec())
            .send()
            .await
            .map_err(|e| transport(op, e))?;
        let status = response.status();
        let error_type = response
            .headers()
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut bytes = Zeroizing::new(Vec::new());
        while let Some(chunk) = response.chunk().await.map_err(|e| transport(op, e))? {
            if bytes.len() + chunk.len() > MAX_RESPONSE {
                return Err(KmsError::protocol(format!(
                    "{op} response is larger than {MAX_RESPONSE} bytes"
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        tracing::debug!(
            op,
            status = status.as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "kms call"
        );
        if status.is_success() {
            Ok(bytes)
        } else {
            Err(from_response(status, error_type.as_deref(), &bytes))
        }
    }

    /// The headers of a `TrentService.<op>` request with `body`, signed at `now`.
    fn signed_headers(
        &self,
        op: &str,
        body: &[u8],
        now: OffsetDateTime,
    ) -> Result<HeaderMap, KmsError> {
        let config = &self.inner.config;
        let mut headers = HeaderMap::new();
        headers.insert(HOST, self.inner.host.clone());
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE_JSON));
        headers.insert(
            "x-amz-target",
            HeaderValue::from_str(&format!("TrentService.{op}"))
                .map_err(|_| KmsError::protocol(format!("bad operation name {op:?}")))?,
        );
        let params = SigningParams {
            access_key_id: &config.access_key_id,
            secret_access_key: &config.secret_access_key,
            session_token: config.session_token.as_deref(),
            region: &config.region,
            service: "kms",
            time: now,
        };
        sign_headers(
            &Method::POST,
            self.inner.url.path(),
            "",
            &mut headers,
            Payload::from_body(body),
            &params,
        )
        // SigV4Error messages name only parameters, never the secret.
        .map_err(|e| KmsError::protocol(format!("signing {op}: {e}")))?;
        Ok(headers)
    }
}

/// `host[:port]` as the request will carry it (the port only when not the scheme's default).
fn host_header(url: &Url) -> Option<HeaderValue> {
    let host = url.host_str()?;
    let value = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    HeaderValue::from_str(&value).ok()
}

fn transport(op: &str, e: reqwest::Error) -> KmsError {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "failed"
    };
    // reqwest's text names the URL (no query, no body) and the cause chain.
    let mut text = format!("{op} {what}: {e}");
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    KmsError::Transport(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wharf_sigv4::{parse, verify, SignedRequest, DEFAULT_MAX_SKEW};

    fn client(endpoint: &str, token: Option<&str>) -> KmsClient {
        KmsClient::new(KmsConfig {
            endpoint: endpoint.into(),
            region: "eu-west-2".into(),
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: token.map(str::to_owned),
        })
        .unwrap()
    }

    #[test]
    fn signed_headers_verify_with_the_server_side_code() {
        let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        for (endpoint, host) in [
            (
                "https://kms.eu-west-2.amazonaws.com",
                "kms.eu-west-2.amazonaws.com",
            ),
            ("http://127.0.0.1:4599/", "127.0.0.1:4599"),
            ("https://[::1]:8443", "[::1]:8443"),
        ] {
            let kms = client(endpoint, Some("session-token"));
            let body = br#"{"KeyId":"alias/wharf","KeySpec":"AES_256"}"#;
            let headers = kms.signed_headers("GenerateDataKey", body, now).unwrap();
            assert_eq!(headers[HOST], host);
            assert_eq!(headers["x-amz-target"], "TrentService.GenerateDataKey");
            assert_eq!(headers[CONTENT_TYPE], CONTENT_TYPE_JSON);
            assert_eq!(headers["x-amz-security-token"], "session-token");
            let auth = headers["authorization"].to_str().unwrap();
            assert!(
                auth.contains("/20231114/eu-west-2/kms/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target,"),
                "{auth}"
            );
            let req = SignedRequest {
                method: &Method::POST,
                path: "/",
                query: "",
                headers: &headers,
                payload: Payload::from_body(body),
            };
            let parsed = parse(&req).unwrap();
            verify(
                &parsed,
                &req,
                "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                now,
                DEFAULT_MAX_SKEW,
            )
            .unwrap();
            // A different body or secret does not verify.
            let tampered = SignedRequest {
                payload: Payload::from_body(b"{}"),
                ..req
            };
            assert!(verify(
                &parsed,
                &tampered,
                "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                now,
                DEFAULT_MAX_SKEW
            )
            .is_err());
            assert!(verify(&parsed, &req, "another-secret", now, DEFAULT_MAX_SKEW).is_err());
        }
    }

    #[test]
    fn bad_endpoints_are_refused() {
        for endpoint in [
            "",
            "kms.example",
            "ftp://kms.example",
            "http://kms.example/?x=1",
        ] {
            let err = KmsClient::new(KmsConfig {
                endpoint: endpoint.into(),
                region: "r".into(),
                access_key_id: "a".into(),
                secret_access_key: "s".into(),
                session_token: None,
            })
            .unwrap_err();
            assert_eq!(err.code(), "Protocol", "{endpoint}: {err}");
        }
    }

    #[test]
    fn debug_does_not_print_the_secret() {
        let kms = client("http://127.0.0.1:1", Some("session-token"));
        let printed = format!("{kms:?}");
        assert!(!printed.contains("wJalrXUtnFEMI"), "{printed}");
        assert!(!printed.contains("session-token"), "{printed}");
    }
}
