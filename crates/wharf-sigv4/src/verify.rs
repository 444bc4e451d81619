//! Verification of a parsed [`Authorization`] against the request, the secret and the clock:
//! time window first, then the payload hash, then a constant-time signature comparison.

use std::time::Duration;

use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use crate::canonical::{self, canonical_query, canonical_uri};
use crate::date::{describe, format_amz_date};
use crate::{Authorization, Payload, SigV4Error, SignedRequest, UNSIGNED_PAYLOAD};

/// Checks that `auth` (parsed from `req` by [`crate::parse`]) was made with `secret_access_key`,
/// that its request time is within `max_skew` of `now` and, for a presigned URL, that
/// `X-Amz-Date + X-Amz-Expires` has not passed.
pub fn verify(
    auth: &Authorization,
    req: &SignedRequest<'_>,
    secret_access_key: &str,
    now: OffsetDateTime,
    max_skew: Duration,
) -> Result<(), SigV4Error> {
    check_time(auth, now, max_skew)?;
    let canonical = canonical_request(req, auth)?;
    let sts = string_to_sign(auth, &canonical);
    let expected = canonical::signature(
        secret_access_key,
        &auth.scope_date,
        &auth.region,
        &auth.service,
        &sts,
    );
    if bool::from(expected.ct_eq(&auth.signature)) {
        Ok(())
    } else {
        Err(SigV4Error::InvalidSignature)
    }
}

fn check_time(
    auth: &Authorization,
    now: OffsetDateTime,
    max_skew: Duration,
) -> Result<(), SigV4Error> {
    let t = auth.request_time;
    let (now_s, t_s) = (format_amz_date(now), &auth.amz_date);
    if t > now + max_skew {
        return Err(SigV4Error::SignatureExpired(format!(
            "Signature not yet current: {t_s} is still later than {} ({now_s} + {})",
            format_amz_date(now + max_skew),
            describe(max_skew)
        )));
    }
    // `t + expires` cannot overflow: `t` is no later than `now + max_skew` here and `expires` is at
    // most seven days.
    match auth.presigned_expiry() {
        Some(expires) if now > t + expires => Err(SigV4Error::SignatureExpired(format!(
            "Signature expired: {} is now earlier than {now_s} ({t_s} + {})",
            format_amz_date(t + expires),
            describe(expires)
        ))),
        Some(_) => Ok(()),
        None if t < now - max_skew => Err(SigV4Error::SignatureExpired(format!(
            "Signature expired: {t_s} is now earlier than {} ({now_s} - {})",
            format_amz_date(now - max_skew),
            describe(max_skew)
        ))),
        None => Ok(()),
    }
}

/// The payload hash line of the canonical request. A declared `x-amz-content-sha256` wins, as in
/// botocore, but a hex value must be the hash of the body the caller read.
fn payload_hash(req: &SignedRequest<'_>) -> Result<String, SigV4Error> {
    let declared = req
        .headers
        .get("x-amz-content-sha256")
        .map(|v| v.as_bytes());
    match (declared, req.payload) {
        (Some(v), _) if v == UNSIGNED_PAYLOAD.as_bytes() => Ok(UNSIGNED_PAYLOAD.to_owned()),
        (Some(v), Payload::Sha256(body)) => {
            let mut claimed = [0u8; 32];
            match hex::decode_to_slice(v, &mut claimed) {
                Ok(()) if claimed == body => Ok(String::from_utf8_lossy(v).into_owned()),
                _ => Err(SigV4Error::ContentSha256Mismatch),
            }
        }
        (None, Payload::Sha256(body)) => Ok(hex::encode(body)),
        (_, Payload::Unhashed) => Err(SigV4Error::ContentSha256Mismatch),
    }
}

/// The canonical request `verify` signs, exposed for tests and for debugging by operators. It can
/// contain the session token, so never send it to clients.
pub fn canonical_request(
    req: &SignedRequest<'_>,
    auth: &Authorization,
) -> Result<Vec<u8>, SigV4Error> {
    Ok(canonical::canonical_request(
        req.method,
        &canonical_uri(req.path),
        &canonical_query(req.query, auth.is_presigned()),
        req.headers,
        &auth.signed_headers,
        &payload_hash(req)?,
    ))
}

/// The string to sign for `auth` over a canonical request.
pub fn string_to_sign(auth: &Authorization, canonical_request: &[u8]) -> String {
    canonical::string_to_sign(&auth.amz_date, &auth.credential_scope(), canonical_request)
}
