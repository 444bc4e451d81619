//! Signing with the same canonicalization `verify` uses: an `Authorization` header (what botocore's
//! `SigV4Auth.add_auth` does) or a presigned query string (`SigV4QueryAuth`). The server uses the
//! latter for presigned download URLs; the tests use both to reproduce botocore's output.

use std::fmt;
use std::time::Duration;

use http::header::{AUTHORIZATION, DATE, HOST};
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use time::OffsetDateTime;

use crate::canonical::{self, canonical_query, canonical_uri, uri_encode, ALGORITHM};
use crate::date::{format_amz_date, format_http_date};
use crate::{Payload, SigV4Error, MAX_PRESIGNED_EXPIRY, UNSIGNED_PAYLOAD};

/// Headers botocore never signs (`SIGNED_HEADERS_BLACKLIST`): hop-by-hop headers, tracing headers
/// and `user-agent`, which proxies rewrite.
const UNSIGNED_HEADERS: &[&str] = &[
    "authorization",
    "baggage",
    "connection",
    "expect",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "traceparent",
    "tracestate",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "user-agent",
    "x-amzn-trace-id",
];

/// Who signs, for which scope, at what time.
#[derive(Clone, Copy)]
pub struct SigningParams<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub session_token: Option<&'a str>,
    pub region: &'a str,
    pub service: &'a str,
    pub time: OffsetDateTime,
}

/// The secret and the session token are never printed.
impl fmt::Debug for SigningParams<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningParams")
            .field("access_key_id", &self.access_key_id)
            .field("region", &self.region)
            .field("service", &self.service)
            .field("time", &self.time)
            .finish_non_exhaustive()
    }
}

impl SigningParams<'_> {
    fn scope(&self, amz_date: &str) -> String {
        format!(
            "{}/{}/{}/aws4_request",
            &amz_date[..8],
            self.region,
            self.service
        )
    }
}

fn header_value(value: &str) -> Result<HeaderValue, SigV4Error> {
    HeaderValue::from_str(value)
        .map_err(|_| SigV4Error::incomplete("signing input is not a valid header value"))
}

/// Every present header botocore would sign, sorted and deduplicated. `host` must be present.
fn headers_to_sign(headers: &HeaderMap) -> Result<Vec<HeaderName>, SigV4Error> {
    if !headers.contains_key(HOST) {
        return Err(SigV4Error::incomplete(
            "a request to sign needs a host header",
        ));
    }
    let mut names: Vec<HeaderName> = headers
        .keys()
        .filter(|n| !UNSIGNED_HEADERS.contains(&n.as_str()))
        .cloned()
        .collect();
    names.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    names.dedup();
    Ok(names)
}

/// The payload line when signing: a declared `x-amz-content-sha256` is used verbatim.
fn payload_line(headers: &HeaderMap, payload: Payload) -> Result<String, SigV4Error> {
    match (headers.get("x-amz-content-sha256"), payload) {
        (Some(v), _) => Ok(String::from_utf8_lossy(v.as_bytes()).into_owned()),
        (None, Payload::Sha256(h)) => Ok(hex::encode(h)),
        (None, Payload::Unhashed) => Err(SigV4Error::ContentSha256Mismatch),
    }
}

/// Signs a request in place, as botocore's `SigV4Auth.add_auth` does. It drops any old
/// `Authorization` and sets `X-Amz-Date`, or rewrites `Date` instead when the request already has
/// one. It adds `X-Amz-Security-Token` when there is a session token and
/// `X-Amz-Content-SHA256: UNSIGNED-PAYLOAD` for [`Payload::Unhashed`]. Then it signs every header
/// except the unsigned ones and inserts `Authorization`. `headers` must contain `host`.
pub fn sign_headers(
    method: &Method,
    path: &str,
    query: &str,
    headers: &mut HeaderMap,
    payload: Payload,
    params: &SigningParams<'_>,
) -> Result<(), SigV4Error> {
    let amz_date = format_amz_date(params.time);
    headers.remove(AUTHORIZATION);
    if headers.contains_key(DATE) {
        headers.insert(DATE, header_value(&format_http_date(params.time))?);
        headers.remove("x-amz-date");
    } else {
        headers.insert("x-amz-date", header_value(&amz_date)?);
    }
    if let Some(token) = params.session_token {
        headers.insert("x-amz-security-token", header_value(token)?);
    }
    if payload == Payload::Unhashed {
        headers.insert(
            "x-amz-content-sha256",
            HeaderValue::from_static(UNSIGNED_PAYLOAD),
        );
    }
    let signed = headers_to_sign(headers)?;
    let canonical = canonical::canonical_request(
        method,
        &canonical_uri(path),
        &canonical_query(query, false),
        headers,
        &signed,
        &payload_line(headers, payload)?,
    );
    let scope = params.scope(&amz_date);
    let sts = canonical::string_to_sign(&amz_date, &scope, &canonical);
    let signature = canonical::signature(
        params.secret_access_key,
        &amz_date[..8],
        params.region,
        params.service,
        &sts,
    );
    let names: Vec<&str> = signed.iter().map(HeaderName::as_str).collect();
    let value = format!(
        "{ALGORITHM} Credential={}/{scope}, SignedHeaders={}, Signature={}",
        params.access_key_id,
        names.join(";"),
        hex::encode(signature)
    );
    headers.insert(AUTHORIZATION, header_value(&value)?);
    Ok(())
}

/// Builds the query string of a presigned URL, as botocore's `SigV4QueryAuth`: the caller's `query`
/// (already percent-encoded, kept verbatim) followed by `X-Amz-Algorithm`, `X-Amz-Credential`,
/// `X-Amz-Date`, `X-Amz-Expires`, `X-Amz-SignedHeaders`, `X-Amz-Security-Token` when there is a
/// session token, and finally `X-Amz-Signature`. Every header in `headers` but the unsigned ones is
/// signed, so pass only `host` unless the URL's user will send more. For a GET pass
/// `Payload::from_body(b"")`. `expires` is whole seconds, 1 s to 7 days.
pub fn presign_query(
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    payload: Payload,
    params: &SigningParams<'_>,
    expires: Duration,
) -> Result<String, SigV4Error> {
    if expires.as_secs() == 0 || expires > MAX_PRESIGNED_EXPIRY {
        return Err(SigV4Error::incomplete(
            "X-Amz-Expires must be between 1 second and 7 days",
        ));
    }
    let amz_date = format_amz_date(params.time);
    let scope = params.scope(&amz_date);
    let signed = headers_to_sign(headers)?;
    let names: Vec<&str> = signed.iter().map(HeaderName::as_str).collect();
    let mut auth_params = vec![
        ("X-Amz-Algorithm", ALGORITHM.to_owned()),
        (
            "X-Amz-Credential",
            format!("{}/{scope}", params.access_key_id),
        ),
        ("X-Amz-Date", amz_date.clone()),
        ("X-Amz-Expires", expires.as_secs().to_string()),
        ("X-Amz-SignedHeaders", names.join(";")),
    ];
    if let Some(token) = params.session_token {
        auth_params.push(("X-Amz-Security-Token", token.to_owned()));
    }
    let mut out = String::from(query);
    for (key, value) in auth_params {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(key);
        out.push('=');
        out.push_str(&uri_encode(&value));
    }
    let canonical = canonical::canonical_request(
        method,
        &canonical_uri(path),
        &canonical_query(&out, true),
        headers,
        &signed,
        &payload_line(headers, payload)?,
    );
    let sts = canonical::string_to_sign(&amz_date, &scope, &canonical);
    let signature = canonical::signature(
        params.secret_access_key,
        &amz_date[..8],
        params.region,
        params.service,
        &sts,
    );
    out.push_str("&X-Amz-Signature=");
    out.push_str(&hex::encode(signature));
    Ok(out)
}
