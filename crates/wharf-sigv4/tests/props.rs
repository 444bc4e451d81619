//! Property tests of SigV4: parsing and verifying never panic on arbitrary headers and query
//! strings; a request signed by this crate's signer (header or presigned form) verifies, and
//! changing any signed part — method, path, query, a signed header, the body, the date — makes
//! verification fail.

use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use proptest::prelude::*;
use proptest::test_runner::Config;
use std::time::Duration;
use time::OffsetDateTime;
use wharf_sigv4::{
    parse, presign_query, sign_headers, verify, Payload, SignedRequest, SigningParams,
    DEFAULT_MAX_SKEW,
};

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

fn config() -> Config {
    Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    }
}

/// 2000-01-01 to 2100-01-01.
fn signing_time() -> impl Strategy<Value = OffsetDateTime> {
    (946_684_800i64..4_102_444_800).prop_map(|s| OffsetDateTime::from_unix_timestamp(s).unwrap())
}

fn header_name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "authorization",
            "x-amz-date",
            "date",
            "host",
            "x-amz-content-sha256",
            "x-amz-security-token",
            "x-amz-target",
            "content-type",
        ])
        .prop_map(str::to_string),
        "x-[a-z0-9-]{1,10}",
    ]
}

/// Values near what the parser looks for, and junk.
fn header_value() -> impl Strategy<Value = String> {
    let hex = "[0-9a-f]{0,66}";
    let date8 = "[0-9]{8}";
    prop_oneof![
        (
            date8,
            "[a-z0-9-]{0,10}",
            "[a-z;-]{0,30}",
            hex,
            "[a-zA-Z/=, ]{0,6}"
        )
            .prop_map(|(d, region, signed, sig, junk)| format!(
                "AWS4-HMAC-SHA256 Credential=AKID/{d}/{region}/ecr/aws4_request,{junk} \
                 SignedHeaders={signed}, Signature={sig}"
            )),
        "AWS4-HMAC-SHA256 [A-Za-z=/,; ]{0,40}",
        "[0-9]{8}T[0-9]{6}Z",
        "[0-9T]{0,20}Z?",
        // RFC 2822 dates, up to the edges of the representable years and offsets.
        (
            "(Mon|Fri|Sat), ",
            1u8..=31,
            " (Jan|Dec) ",
            0u16..=9999,
            " [0-2][0-9]:[0-5][0-9]:[0-5][0-9] ",
            "(GMT|UT|[+-][0-2][0-9][0-5][0-9])"
        )
            .prop_map(|(a, d, m, y, t, z)| format!("{a}{d:02}{m}{y:04}{t}{z}")),
        Just("Fri, 31 Dec 9999 23:59:59 -2359".to_string()),
        Just("Sat, 01 Jan 0000 00:00:00 +2359".to_string()),
        Just("UNSIGNED-PAYLOAD".to_string()),
        "[ -~]{0,40}",
    ]
}

fn query() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        prop::sample::select(vec![
            "X-Amz-Algorithm",
            "X-Amz-Credential",
            "X-Amz-Date",
            "X-Amz-Expires",
            "X-Amz-SignedHeaders",
            "X-Amz-Signature",
            "X-Amz-Security-Token",
        ])
        .prop_map(str::to_string),
        "[a-zA-Z%0-9]{0,6}",
    ];
    let value = prop_oneof![
        Just("AWS4-HMAC-SHA256".to_string()),
        "AKID%2F[0-9]{8}%2Fus-east-1%2Fecr%2Faws4_request",
        "[0-9]{8}T[0-9]{6}Z",
        "[0-9]{0,21}",
        "host(%3B[a-z-]{1,8})?",
        "[0-9a-f]{64}",
        "[ -~&&[^&#]]{0,20}",
    ];
    prop::collection::vec((key, value), 0..7).prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    })
}

/// A request to sign: method, path, query, extra headers and body.
#[derive(Debug, Clone)]
struct Req {
    method: Method,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    date_header: bool,
    unsigned_payload: bool,
}

fn req() -> impl Strategy<Value = Req> {
    (
        prop::sample::select(vec![
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::HEAD,
        ]),
        "(/[a-zA-Z0-9._~-]{1,8}|/%[0-9A-F]{2}|/\\.\\.|/\\.){0,4}/?",
        prop::collection::vec(("[a-zA-Z0-9_.~-]{1,6}", "[a-zA-Z0-9%_.~+-]{0,8}"), 0..4),
        prop::collection::vec(("x-[a-z]{1,8}", "[!-~]([ !-~]{0,14}[!-~])?"), 0..3),
        prop::collection::vec(any::<u8>(), 0..64),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(method, path, query, extra, body, date_header, unsigned_payload)| Req {
                method,
                path: if path.is_empty() { "/".into() } else { path },
                query: query
                    .into_iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("&"),
                headers: [
                    ("host".to_string(), "registry.example:5000".to_string()),
                    (
                        "x-amz-target".to_string(),
                        "AmazonEC2ContainerRegistry_V20150921.ListImages".to_string(),
                    ),
                ]
                .into_iter()
                .chain(extra)
                .collect(),
                body,
                date_header,
                unsigned_payload,
            },
        )
}

fn params(time: OffsetDateTime) -> SigningParams<'static> {
    SigningParams {
        access_key_id: "AKIDEXAMPLE",
        secret_access_key: SECRET,
        session_token: None,
        region: "us-east-1",
        service: "ecr",
        time,
    }
}

fn header_map(pairs: &[(String, String)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (k, v) in pairs {
        map.append(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    map
}

/// Signs `r` in the header form and returns its headers.
fn sign(r: &Req, at: OffsetDateTime) -> HeaderMap {
    let mut map = header_map(&r.headers);
    if r.date_header {
        map.insert(http::header::DATE, HeaderValue::from_static("x"));
    }
    let payload = if r.unsigned_payload {
        Payload::Unhashed
    } else {
        Payload::from_body(&r.body)
    };
    sign_headers(&r.method, &r.path, &r.query, &mut map, payload, &params(at)).unwrap();
    map
}

/// Parses and verifies a request at `now`.
fn check(
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
    now: OffsetDateTime,
) -> Result<(), wharf_sigv4::SigV4Error> {
    let req = SignedRequest {
        method,
        path,
        query,
        headers,
        payload: Payload::from_body(body),
    };
    let auth = parse(&req)?;
    auth.check_service("ecr")?;
    verify(&auth, &req, SECRET, now, DEFAULT_MAX_SKEW)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn parse_and_verify_never_panic(
        headers in prop::collection::vec((header_name(), header_value()), 0..6),
        q in query(),
        path in ".{0,20}",
        now in signing_time(),
        body in prop::collection::vec(any::<u8>(), 0..16),
    ) {
        let map = header_map(&headers);
        let _ = check(&Method::POST, &path, &q, &map, &body, now);
    }

    #[test]
    fn any_date_header_is_parsed_without_panic(
        value in header_value(),
        amz in any::<bool>(),
        d in "[0-9]{8}",
        now in signing_time(),
    ) {
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/{d}/us-east-1/ecr/aws4_request, \
             SignedHeaders=host;x-amz-date, Signature={}",
            "0".repeat(64)
        );
        let date = if amz { "x-amz-date" } else { "date" };
        let map = header_map(&[
            ("authorization".into(), auth),
            ("host".into(), "h".into()),
            (date.into(), value),
        ]);
        let _ = check(&Method::POST, "/", "", &map, b"", now);
    }

    #[test]
    fn signed_requests_verify(r in req(), at in signing_time(), late in 0i64..300) {
        let map = sign(&r, at);
        let now = at + Duration::from_secs(late as u64);
        prop_assert_eq!(check(&r.method, &r.path, &r.query, &map, &r.body, now), Ok(()));
    }

    #[test]
    fn presigned_requests_verify(r in req(), at in signing_time(), expires in 1u64..=604_800) {
        let map = header_map(&r.headers[..1]);
        let payload = Payload::from_body(b"");
        let expiry = Duration::from_secs(expires);
        let q = presign_query(&r.method, &r.path, &r.query, &map, payload, &params(at), expiry).unwrap();
        prop_assert_eq!(check(&r.method, &r.path, &q, &map, b"", at + expiry), Ok(()));
        // One second past the expiry (beyond the skew), the URL is refused.
        let too_late = at + expiry.max(DEFAULT_MAX_SKEW) + Duration::from_secs(1);
        prop_assert!(check(&r.method, &r.path, &q, &map, b"", too_late).is_err());
    }

    #[test]
    fn changing_a_signed_part_fails(r in req(), at in signing_time(), which in 0u8..7, shift in 1i64..200) {
        let map = sign(&r, at);
        let (mut method, mut path, mut query, mut headers, mut body) =
            (r.method.clone(), r.path.clone(), r.query.clone(), map.clone(), r.body.clone());
        match which {
            // PATCH is never generated, so this always changes the method.
            0 => method = Method::PATCH,
            1 => path = format!("{}/changed", path.trim_end_matches('/')),
            2 => query = if query.is_empty() { "a=1".into() } else { format!("{query}&extra=1") },
            3 => {
                let v = headers.get("x-amz-target").unwrap().to_str().unwrap().to_string();
                headers.insert("x-amz-target", HeaderValue::from_str(&format!("{v}X")).unwrap());
            }
            4 => {
                // A signed header the signer saw, removed.
                headers.remove("x-amz-target");
            }
            5 => {
                if r.unsigned_payload {
                    // An unsigned payload may change; its hash declaration may not.
                    headers.remove("x-amz-content-sha256");
                } else {
                    body.push(0);
                }
            }
            _ => {
                // Another time within the skew: the string to sign changes.
                let other = at + Duration::from_secs(shift as u64);
                let mut resigned = sign(&r, other);
                let date = if r.date_header { "date" } else { "x-amz-date" };
                let value = resigned.remove(date).unwrap();
                headers.insert(HeaderName::from_static(date), value);
            }
        }
        let got = check(&method, &path, &query, &headers, &body, at);
        prop_assert!(got.is_err(), "change {} still verifies", which);
        // The untouched request still verifies.
        prop_assert_eq!(check(&r.method, &r.path, &r.query, &map, &r.body, at), Ok(()));
    }

    #[test]
    fn a_wrong_secret_fails(r in req(), at in signing_time(), secret in "[A-Za-z0-9/+]{1,40}") {
        prop_assume!(secret != SECRET);
        let map = sign(&r, at);
        let req = SignedRequest {
            method: &r.method,
            path: &r.path,
            query: &r.query,
            headers: &map,
            payload: Payload::from_body(&r.body),
        };
        let auth = parse(&req).unwrap();
        prop_assert!(verify(&auth, &req, &secret, at, DEFAULT_MAX_SKEW).is_err());
        prop_assert!(map.get(AUTHORIZATION).is_some());
    }
}
