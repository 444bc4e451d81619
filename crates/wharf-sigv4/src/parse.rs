//! Reading the SigV4 authorization a request carries, from the `Authorization` header or from
//! presigned-URL query parameters, into an [`Authorization`] whose fields are known to be well formed.
//!
//! Everything that can be checked without the secret or the clock is checked here: the algorithm,
//! the five-part credential scope and its `aws4_request` terminator, that the scope date is the
//! request date's day, that `host` is signed, the signature's shape and the presigned expiry bound.

use std::fmt;
use std::time::Duration;

use http::header::{AUTHORIZATION, DATE};
use http::HeaderName;
use time::OffsetDateTime;

use crate::canonical::{query_pairs, ALGORITHM};
use crate::date::{format_amz_date, parse_amz_date, parse_http_date};
use crate::{SigV4Error, SignedRequest, MAX_PRESIGNED_EXPIRY};

/// A parsed, well-formed SigV4 authorization. Only [`parse`] creates one; [`crate::verify`] then
/// checks it against the secret and the clock.
#[derive(Clone)]
pub struct Authorization {
    pub(crate) access_key_id: String,
    pub(crate) scope_date: String,
    pub(crate) region: String,
    pub(crate) service: String,
    pub(crate) signed_headers: Vec<HeaderName>,
    pub(crate) signature: [u8; 32],
    pub(crate) request_time: OffsetDateTime,
    /// The request time as it enters the string to sign (`YYYYMMDDTHHMMSSZ`).
    pub(crate) amz_date: String,
    /// `Some` for the presigned (query-string) form; the inner value is `X-Amz-Expires`.
    pub(crate) presigned: Option<Option<Duration>>,
    pub(crate) session_token: Option<String>,
}

impl Authorization {
    /// The access key id of the credential scope, for the caller to look up.
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }
    /// The scope date, `YYYYMMDD`.
    pub fn date(&self) -> &str {
        &self.scope_date
    }
    pub fn region(&self) -> &str {
        &self.region
    }
    pub fn service(&self) -> &str {
        &self.service
    }
    /// `<date>/<region>/<service>/aws4_request`.
    pub fn credential_scope(&self) -> String {
        format!(
            "{}/{}/{}/aws4_request",
            self.scope_date, self.region, self.service
        )
    }
    /// The SignedHeaders list, in the order the client sent it.
    pub fn signed_headers(&self) -> &[HeaderName] {
        &self.signed_headers
    }
    /// The signature the client sent, as lowercase hex.
    pub fn signature(&self) -> String {
        hex::encode(self.signature)
    }
    /// From `X-Amz-Date` (header or presigned query), else from the `Date` header.
    pub fn request_time(&self) -> OffsetDateTime {
        self.request_time
    }
    pub fn is_presigned(&self) -> bool {
        self.presigned.is_some()
    }
    /// `X-Amz-Expires` of a presigned URL; `None` for the header form or when it was left out.
    pub fn presigned_expiry(&self) -> Option<Duration> {
        self.presigned.flatten()
    }
    /// `X-Amz-Security-Token` (header, or query parameter of a presigned URL), for the caller to
    /// check against the temporary credentials it issued.
    pub fn session_token(&self) -> Option<&str> {
        self.session_token.as_deref()
    }
    /// Rejects a credential scoped to another service, with AWS's message.
    pub fn check_service(&self, expected: &str) -> Result<(), SigV4Error> {
        if self.service == expected {
            Ok(())
        } else {
            Err(SigV4Error::incomplete(format!(
                "Credential should be scoped to correct service: '{expected}'. "
            )))
        }
    }
}

/// The session token is a credential, so `Debug` shows only whether there is one.
impl fmt::Debug for Authorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authorization")
            .field("access_key_id", &self.access_key_id)
            .field("scope", &self.credential_scope())
            .field("signed_headers", &self.signed_headers)
            .field("amz_date", &self.amz_date)
            .field("presigned", &self.presigned)
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

/// The raw parts common to both forms, before validation.
struct RawAuth<'a> {
    credential: &'a str,
    signed_headers: &'a str,
    signature: &'a str,
}

/// Reads the authorization of a request. No `Authorization` header and no presigned query
/// parameters is [`SigV4Error::MissingAuthenticationToken`]; anything malformed, including both
/// forms at once, is [`SigV4Error::IncompleteSignature`].
pub fn parse(req: &SignedRequest<'_>) -> Result<Authorization, SigV4Error> {
    let mut headers = req.headers.get_all(AUTHORIZATION).iter();
    let header = headers.next();
    if headers.next().is_some() {
        return Err(SigV4Error::incomplete(
            "Only one Authorization header is allowed.",
        ));
    }
    let query = query_pairs(req.query);
    let presigned = query.iter().any(|(k, _)| {
        matches!(
            k.as_str(),
            "X-Amz-Algorithm" | "X-Amz-Credential" | "X-Amz-Signature" | "X-Amz-SignedHeaders"
        )
    });
    match (header, presigned) {
        (None, false) => Err(SigV4Error::MissingAuthenticationToken),
        (Some(_), true) => Err(SigV4Error::incomplete(
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, \
             Signature query string parameter or the Authorization header should be specified",
        )),
        (Some(value), false) => {
            let value = value.to_str().map_err(|_| {
                SigV4Error::incomplete("Authorization header contains invalid characters.")
            })?;
            parse_header(value, req)
        }
        (None, true) => parse_presigned(&query),
    }
}

fn parse_header(value: &str, req: &SignedRequest<'_>) -> Result<Authorization, SigV4Error> {
    let (algorithm, rest) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
    if algorithm != ALGORITHM {
        return Err(SigV4Error::incomplete(format!(
            "Unsupported AWS 'algorithm': '{algorithm}'. Only '{ALGORITHM}' is supported."
        )));
    }
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let slot = match part.split_once('=') {
            Some(("Credential", v)) => (&mut credential, v),
            Some(("SignedHeaders", v)) => (&mut signed_headers, v),
            Some(("Signature", v)) => (&mut signature, v),
            _ => {
                return Err(SigV4Error::incomplete(format!(
                    "'{}' not a valid key=value pair (missing equal-sign) in Authorization header.",
                    part.split('=').next().unwrap_or(part)
                )))
            }
        };
        if slot.0.replace(slot.1).is_some() {
            return Err(SigV4Error::incomplete(
                "Authorization header contains a repeated parameter.",
            ));
        }
    }
    let time_header = req
        .headers
        .get("x-amz-date")
        .map(|v| (v, true))
        .or_else(|| req.headers.get(DATE).map(|v| (v, false)));
    let mut missing = Vec::new();
    for (name, slot) in [
        ("Credential", &credential),
        ("Signature", &signature),
        ("SignedHeaders", &signed_headers),
    ] {
        if slot.is_none() {
            missing.push(format!("Authorization header requires '{name}' parameter."));
        }
    }
    if time_header.is_none() {
        missing.push(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
                .to_owned(),
        );
    }
    let (Some(credential), Some(signed_headers), Some(signature), Some((time, amz))) =
        (credential, signed_headers, signature, time_header)
    else {
        return Err(SigV4Error::IncompleteSignature(missing.join(" ")));
    };
    let time = time.to_str().ok();
    let request_time = if amz {
        time.and_then(parse_amz_date)
            .ok_or_else(|| SigV4Error::incomplete(bad_date("X-Amz-Date", time)))?
    } else {
        time.and_then(parse_http_date)
            .ok_or_else(|| SigV4Error::incomplete(bad_date("Date", time)))?
    };
    let session_token = req
        .headers
        .get("x-amz-security-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let raw = RawAuth {
        credential,
        signed_headers,
        signature,
    };
    build(raw, request_time, None, session_token)
}

fn bad_date(name: &str, value: Option<&str>) -> String {
    format!(
        "Date must be in ISO-8601 'basic format' (yyyyMMdd'T'HHmmss'Z') for {name}. Got '{}'.",
        value.unwrap_or("<non-ascii>")
    )
}

fn parse_presigned(query: &[(String, String)]) -> Result<Authorization, SigV4Error> {
    let get = |name: &str| -> Result<Option<&str>, SigV4Error> {
        let mut found = query.iter().filter(|(k, _)| k == name);
        let first = found.next().map(|(_, v)| v.as_str());
        if found.next().is_some() {
            return Err(SigV4Error::incomplete(format!(
                "Query parameter '{name}' must appear only once."
            )));
        }
        Ok(first)
    };
    let mut missing = Vec::new();
    let mut require = |name: &'static str| -> Result<&str, SigV4Error> {
        let v = get(name)?;
        if v.is_none() {
            missing.push(name);
        }
        Ok(v.unwrap_or(""))
    };
    let algorithm = require("X-Amz-Algorithm")?;
    let credential = require("X-Amz-Credential")?;
    let date = require("X-Amz-Date")?;
    let signed_headers = require("X-Amz-SignedHeaders")?;
    let signature = require("X-Amz-Signature")?;
    if !missing.is_empty() {
        return Err(SigV4Error::incomplete(format!(
            "AWS query-string parameters must include {}. Re-examine the query-string parameters.",
            missing
                .iter()
                .map(|m| format!("'{m}'"))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    if algorithm != ALGORITHM {
        return Err(SigV4Error::incomplete(format!(
            "Unsupported AWS 'algorithm': '{algorithm}'. Only '{ALGORITHM}' is supported."
        )));
    }
    let request_time = parse_amz_date(date)
        .ok_or_else(|| SigV4Error::incomplete(bad_date("X-Amz-Date", Some(date))))?;
    let expires = get("X-Amz-Expires")?
        .map(|v| {
            let secs: u64 = v.parse().map_err(|_| {
                SigV4Error::incomplete("X-Amz-Expires should be a number of seconds.")
            })?;
            let expiry = Duration::from_secs(secs);
            if secs == 0 || expiry > MAX_PRESIGNED_EXPIRY {
                return Err(SigV4Error::incomplete(format!(
                    "X-Amz-Expires must be between 1 and {} seconds (one week).",
                    MAX_PRESIGNED_EXPIRY.as_secs()
                )));
            }
            Ok(expiry)
        })
        .transpose()?;
    let session_token = get("X-Amz-Security-Token")?.map(str::to_owned);
    let raw = RawAuth {
        credential,
        signed_headers,
        signature,
    };
    build(raw, request_time, Some(expires), session_token)
}

/// Validates the parts shared by both forms and assembles the [`Authorization`].
fn build(
    raw: RawAuth<'_>,
    request_time: OffsetDateTime,
    presigned: Option<Option<Duration>>,
    session_token: Option<String>,
) -> Result<Authorization, SigV4Error> {
    let parts: Vec<&str> = raw.credential.split('/').collect();
    let [access_key_id, scope_date, region, service, terminator] = parts[..] else {
        return Err(SigV4Error::incomplete(format!(
            "Credential must have exactly 5 slash-delimited elements, \
             e.g. keyid/date/region/service/term, got '{}'",
            raw.credential
        )));
    };
    if access_key_id.is_empty() || region.is_empty() || service.is_empty() {
        return Err(SigV4Error::incomplete(format!(
            "Credential has an empty access key id, region or service: '{}'",
            raw.credential
        )));
    }
    if terminator != "aws4_request" {
        return Err(SigV4Error::incomplete(format!(
            "Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'."
        )));
    }
    let amz_date = format_amz_date(request_time);
    if scope_date != &amz_date[..8] {
        return Err(SigV4Error::incomplete(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date \
             from HTTP: '{scope_date}' != '{}', from '{amz_date}'.",
            &amz_date[..8]
        )));
    }
    let signed_headers = raw
        .signed_headers
        .split(';')
        .map(|name| HeaderName::from_lowercase(name.as_bytes()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| {
            SigV4Error::incomplete(format!(
                "SignedHeaders must be a ';'-separated list of lowercase header names, got '{}'.",
                raw.signed_headers
            ))
        })?;
    if !signed_headers.contains(&http::header::HOST) {
        return Err(SigV4Error::incomplete(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    let mut signature = [0u8; 32];
    hex::decode_to_slice(raw.signature, &mut signature)
        .map_err(|_| SigV4Error::incomplete("Signature must be 64 hexadecimal characters."))?;
    Ok(Authorization {
        access_key_id: access_key_id.to_owned(),
        scope_date: scope_date.to_owned(),
        region: region.to_owned(),
        service: service.to_owned(),
        signed_headers,
        signature,
        request_time,
        amz_date,
        presigned,
        session_token,
    })
}
