//! What `parse` and `verify` reject, and with which AWS error: clock skew, presigned expiry,
//! malformed authorization, missing authentication, payload hash mismatches. Also checks that no
//! secret reaches a `Debug` or error string.

mod common;

use std::time::Duration;

use common::{headers, time};
use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderValue, Method};
use wharf_sigv4::{
    parse, presign_query, sign_headers, verify, Payload, SigV4Error, SignedRequest, SigningParams,
    DEFAULT_MAX_SKEW,
};

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const TOKEN: &str = "session-token-value-that-must-stay-private";
const BODY: &[u8] = b"{}";
const SIGNED_AT: &str = "20250102T030405Z";

fn params(token: Option<&'static str>) -> SigningParams<'static> {
    SigningParams {
        access_key_id: "AKIDEXAMPLE",
        secret_access_key: SECRET,
        session_token: token,
        region: "eu-west-1",
        service: "ecr",
        time: time(SIGNED_AT),
    }
}

/// A POST signed at `SIGNED_AT`, as the AWS CLI would send it.
fn signed_headers() -> HeaderMap {
    let mut map = headers(&[
        ("host", "127.0.0.1:18555"),
        ("content-type", "application/x-amz-json-1.1"),
        (
            "x-amz-target",
            "AmazonEC2ContainerRegistry_V20150921.ListImages",
        ),
    ]);
    let body = Payload::from_body(BODY);
    sign_headers(&Method::POST, "/", "", &mut map, body, &params(Some(TOKEN))).unwrap();
    map
}

fn request(map: &HeaderMap) -> SignedRequest<'_> {
    SignedRequest {
        method: &Method::POST,
        path: "/",
        query: "",
        headers: map,
        payload: Payload::from_body(BODY),
    }
}

fn verify_at(map: &HeaderMap, now: &str, skew: Duration) -> Result<(), SigV4Error> {
    let req = request(map);
    verify(&parse(&req)?, &req, SECRET, time(now), skew)
}

fn with_auth(value: &str) -> Result<wharf_sigv4::Authorization, SigV4Error> {
    let mut map = signed_headers();
    map.insert(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
    parse(&request(&map))
}

const FIFTEEN: Duration = Duration::from_secs(15 * 60);

#[test]
fn clock_skew() {
    let map = signed_headers();
    assert_eq!(verify_at(&map, "20250102T030805Z", FIFTEEN), Ok(()));
    assert_eq!(
        verify_at(&map, "20250102T030805Z", DEFAULT_MAX_SKEW),
        Ok(())
    );
    assert_eq!(
        verify_at(&map, "20250102T032005Z", FIFTEEN),
        Err(SigV4Error::SignatureExpired(
            "Signature expired: 20250102T030405Z is now earlier than 20250102T030505Z \
             (20250102T032005Z - 15 min.)"
                .into()
        ))
    );
    let six_min = verify_at(&map, "20250102T031005Z", DEFAULT_MAX_SKEW).unwrap_err();
    assert!(
        six_min.to_string().ends_with("(20250102T031005Z - 5 min.)"),
        "{six_min}"
    );
    assert_eq!(
        verify_at(&map, "20250102T024805Z", FIFTEEN),
        Err(SigV4Error::SignatureExpired(
            "Signature not yet current: 20250102T030405Z is still later than 20250102T030305Z \
             (20250102T024805Z + 15 min.)"
                .into()
        ))
    );
    assert_eq!(six_min.aws_code(), "InvalidSignatureException");
}

#[test]
fn presigned_expiry_bounds() {
    let map = headers(&[("host", "127.0.0.1:18555")]);
    let p = params(None);
    let get = |d| presign_query(&Method::GET, "/x", "", &map, Payload::from_body(b""), &p, d);
    assert!(get(Duration::from_secs(604_800)).is_ok());
    assert!(get(Duration::from_secs(604_801)).is_err());
    assert!(get(Duration::ZERO).is_err());
    let query = get(Duration::from_secs(60)).unwrap();
    let req = SignedRequest {
        method: &Method::GET,
        path: "/x",
        query: &query,
        headers: &map,
        payload: Payload::from_body(b""),
    };
    let auth = parse(&req).unwrap();
    assert_eq!(
        verify(&auth, &req, SECRET, time("20250102T030505Z"), FIFTEEN),
        Ok(())
    );
    assert_eq!(
        verify(&auth, &req, SECRET, time("20250102T030506Z"), FIFTEEN),
        Err(SigV4Error::SignatureExpired(
            "Signature expired: 20250102T030505Z is now earlier than 20250102T030506Z \
             (20250102T030405Z + 1 min.)"
                .into()
        ))
    );
    // A URL claiming to live longer than a week is malformed, whatever its signature.
    let long = query.replace("X-Amz-Expires=60", "X-Amz-Expires=604801");
    let req = SignedRequest {
        query: &long,
        ..req
    };
    assert!(matches!(
        parse(&req),
        Err(SigV4Error::IncompleteSignature(_))
    ));
}

#[test]
fn no_authentication_at_all() {
    let map = headers(&[("host", "h"), ("x-amz-date", SIGNED_AT)]);
    let err = parse(&request(&map)).unwrap_err();
    assert_eq!(err, SigV4Error::MissingAuthenticationToken);
    assert_eq!(err.aws_code(), "MissingAuthenticationTokenException");
}

#[test]
fn malformed_authorization_headers() {
    let scope = "AKIDEXAMPLE/20250102/eu-west-1/ecr/aws4_request";
    let sig = "0".repeat(64);
    let incomplete = |value: String, needle: &str| {
        let err = with_auth(&value).unwrap_err();
        assert_eq!(err.aws_code(), "IncompleteSignatureException", "{value}");
        assert!(err.to_string().contains(needle), "{value}: {err}");
    };
    let sh = "SignedHeaders=host;x-amz-date";
    incomplete(
        format!("AWS4-HMAC-SHA256 {sh}, Signature={sig}"),
        "'Credential'",
    );
    incomplete(
        format!("AWS4-HMAC-SHA256 Credential={scope}, {sh}"),
        "'Signature'",
    );
    incomplete(
        format!("AWS4-HMAC-SHA256 Credential={scope}, Signature={sig}"),
        "'SignedHeaders'",
    );
    incomplete(
        format!("AWS4-HMAC-SHA1 Credential={scope}, {sh}, Signature={sig}"),
        "algorithm",
    );
    incomplete("Basic QVdTOnBhc3N3b3Jk".into(), "algorithm");
    incomplete("AWS4-HMAC-SHA256".into(), "'Credential'");
    let bad_scopes = [
        ("AKIDEXAMPLE/20250102/eu-west-1/ecr", "exactly 5"),
        (
            "AKIDEXAMPLE/20250102/eu-west-1/ecr/aws4_request/x",
            "exactly 5",
        ),
        (
            "AKIDEXAMPLE/20250102/eu-west-1/ecr/aws5_request",
            "terminator",
        ),
        (
            "AKIDEXAMPLE/20250103/eu-west-1/ecr/aws4_request",
            "'20250103' != '20250102'",
        ),
        ("/20250102/eu-west-1/ecr/aws4_request", "empty"),
    ];
    for (bad, needle) in bad_scopes {
        incomplete(
            format!("AWS4-HMAC-SHA256 Credential={bad}, {sh}, Signature={sig}"),
            needle,
        );
    }
    let no_host =
        format!("AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=x-amz-date, Signature={sig}");
    incomplete(no_host, "'Host'");
    let upper = format!("AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=Host, Signature={sig}");
    incomplete(upper, "lowercase");
    incomplete(
        format!("AWS4-HMAC-SHA256 Credential={scope}, {sh}, Signature=abc"),
        "64 hex",
    );
    incomplete(
        format!("AWS4-HMAC-SHA256 Credential={scope}, {sh}, Signature"),
        "equal-sign",
    );
}

#[test]
fn missing_or_bad_date() {
    let mut map = signed_headers();
    map.remove("x-amz-date");
    let err = parse(&request(&map)).unwrap_err();
    assert!(
        err.to_string().contains("'X-Amz-Date' or a 'Date'"),
        "{err}"
    );
    map.insert(
        "x-amz-date",
        HeaderValue::from_static("2025-01-02T03:04:05Z"),
    );
    assert!(matches!(
        parse(&request(&map)),
        Err(SigV4Error::IncompleteSignature(_))
    ));
    // An HTTP-date in the Date header works as the request time when X-Amz-Date is absent.
    map.remove("x-amz-date");
    map.insert(
        "date",
        HeaderValue::from_static("Thu, 02 Jan 2025 03:04:05 GMT"),
    );
    assert_eq!(
        parse(&request(&map)).unwrap().request_time(),
        time(SIGNED_AT)
    );
}

#[test]
fn both_mechanisms_at_once() {
    let map = signed_headers();
    let req = SignedRequest {
        query: "X-Amz-Algorithm=AWS4-HMAC-SHA256",
        ..request(&map)
    };
    assert!(matches!(
        parse(&req),
        Err(SigV4Error::IncompleteSignature(_))
    ));
}

#[test]
fn presigned_missing_parameters() {
    let map = headers(&[("host", "h")]);
    let req = SignedRequest {
        method: &Method::GET,
        path: "/",
        query: "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20250102T030405Z",
        headers: &map,
        payload: Payload::from_body(b""),
    };
    let err = parse(&req).unwrap_err().to_string();
    assert!(
        err.contains("'X-Amz-Credential', 'X-Amz-SignedHeaders', 'X-Amz-Signature'"),
        "{err}"
    );
}

#[test]
fn content_sha256_header_must_match_the_body() {
    let mut map = signed_headers();
    let wrong = "0".repeat(64);
    map.insert(
        "x-amz-content-sha256",
        HeaderValue::from_str(&wrong).unwrap(),
    );
    assert_eq!(
        verify_at(&map, SIGNED_AT, FIFTEEN),
        Err(SigV4Error::ContentSha256Mismatch)
    );
    map.insert(
        "x-amz-content-sha256",
        HeaderValue::from_static("STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
    );
    assert_eq!(
        verify_at(&map, SIGNED_AT, FIFTEEN),
        Err(SigV4Error::ContentSha256Mismatch)
    );
    // Without the header, a caller that did not hash the body cannot verify anything.
    let map = signed_headers();
    let req = SignedRequest {
        payload: Payload::Unhashed,
        ..request(&map)
    };
    let auth = parse(&req).unwrap();
    let err = verify(&auth, &req, SECRET, time(SIGNED_AT), FIFTEEN).unwrap_err();
    assert_eq!(err, SigV4Error::ContentSha256Mismatch);
}

#[test]
fn unsigned_payload_needs_no_body_hash() {
    let mut map = headers(&[("host", "h")]);
    let p = params(None);
    sign_headers(&Method::PUT, "/u", "", &mut map, Payload::Unhashed, &p).unwrap();
    assert_eq!(map["x-amz-content-sha256"], "UNSIGNED-PAYLOAD");
    let req = SignedRequest {
        method: &Method::PUT,
        path: "/u",
        query: "",
        headers: &map,
        payload: Payload::Unhashed,
    };
    assert_eq!(
        verify(
            &parse(&req).unwrap(),
            &req,
            SECRET,
            time(SIGNED_AT),
            FIFTEEN
        ),
        Ok(())
    );
}

#[test]
fn secrets_stay_out_of_debug_and_errors() {
    let map = signed_headers();
    let req = request(&map);
    let auth = parse(&req).unwrap();
    assert_eq!(auth.session_token(), Some(TOKEN));
    let shown = [
        format!("{auth:?}"),
        format!("{req:?}"),
        format!("{:?}", params(Some(TOKEN))),
        verify(&auth, &req, "wrong", time(SIGNED_AT), FIFTEEN)
            .unwrap_err()
            .to_string(),
    ];
    for text in shown {
        assert!(!text.contains(SECRET) && !text.contains(TOKEN), "{text}");
    }
}

#[test]
fn aws_codes() {
    let cases = [
        (
            SigV4Error::MissingAuthenticationToken,
            "MissingAuthenticationTokenException",
        ),
        (
            SigV4Error::IncompleteSignature("x".into()),
            "IncompleteSignatureException",
        ),
        (SigV4Error::InvalidSignature, "InvalidSignatureException"),
        (
            SigV4Error::SignatureExpired("x".into()),
            "InvalidSignatureException",
        ),
        (
            SigV4Error::ContentSha256Mismatch,
            "InvalidSignatureException",
        ),
    ];
    for (err, code) in cases {
        assert_eq!(err.aws_code(), code);
    }
    assert!(SigV4Error::InvalidSignature.to_string().starts_with(
        "The request signature we calculated does not match the signature you provided."
    ));
}

#[test]
fn check_service_names_the_expected_service() {
    let auth = parse(&request(&signed_headers())).unwrap();
    let err = auth.check_service("ecr-public").unwrap_err();
    assert_eq!(
        err.to_string(),
        "Credential should be scoped to correct service: 'ecr-public'. "
    );
}
