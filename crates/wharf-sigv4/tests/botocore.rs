//! Compatibility with botocore 1.44.5: every request it signed (`fixtures/*.json`, made by
//! `fixtures/gen.py`) verifies, every tampered copy fails, and `sign_headers`/`presign_query`
//! reproduce its exact output.

mod common;

use std::time::Duration;

use common::{fixtures, Fixture};
use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderValue};
use wharf_sigv4::{
    parse, presign_query, sign_headers, verify, Payload, SigV4Error, SignedRequest, SigningParams,
    DEFAULT_MAX_SKEW,
};

fn check(f: &Fixture, req: &SignedRequest<'_>, secret: &str) -> Result<(), SigV4Error> {
    let auth = parse(req)?;
    verify(&auth, req, secret, f.time, DEFAULT_MAX_SKEW)
}

fn params(f: &Fixture) -> SigningParams<'_> {
    SigningParams {
        access_key_id: &f.access_key,
        secret_access_key: &f.secret,
        session_token: f.session_token.as_deref(),
        region: &f.region,
        service: "ecr",
        time: f.time,
    }
}

#[test]
fn every_fixture_verifies_and_parses() {
    for f in fixtures() {
        let req = f.request();
        let auth = parse(&req).unwrap_or_else(|e| panic!("{}: {e}", f.name));
        assert_eq!(auth.access_key_id(), "AKIDEXAMPLE", "{}", f.name);
        assert_eq!(auth.date(), "20250102");
        assert_eq!(auth.region(), "eu-west-1");
        assert_eq!(auth.service(), "ecr");
        assert!(auth.check_service("ecr").is_ok());
        assert_eq!(auth.request_time(), f.time, "{}", f.name);
        assert_eq!(auth.is_presigned(), f.presigned, "{}", f.name);
        assert_eq!(
            auth.presigned_expiry(),
            f.expires.map(Duration::from_secs),
            "{}",
            f.name
        );
        assert_eq!(
            auth.session_token(),
            f.session_token.as_deref(),
            "{}",
            f.name
        );
        assert!(auth.signed_headers().iter().any(|h| h == "host"));
        assert_eq!(auth.signature().len(), 64);
        // A client a few minutes off either way is still accepted.
        for offset in [-240i64, 0, 240] {
            let now = f.time + time::Duration::seconds(offset);
            verify(&auth, &req, &f.secret, now, DEFAULT_MAX_SKEW)
                .unwrap_or_else(|e| panic!("{} at {offset}s: {e}", f.name));
        }
    }
}

#[test]
fn wrong_secret_fails() {
    for f in fixtures() {
        let err = check(&f, &f.request(), "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEZ").unwrap_err();
        assert_eq!(err, SigV4Error::InvalidSignature, "{}", f.name);
    }
}

#[test]
fn tampered_body_fails() {
    for f in fixtures() {
        let mut req = f.request();
        req.payload = Payload::from_body(b"{\"repositoryNames\": [\"other\"]}");
        let result = check(&f, &req, &f.secret);
        let unsigned = f.headers.get("x-amz-content-sha256").map(|v| v.as_bytes())
            == Some(b"UNSIGNED-PAYLOAD".as_slice());
        match f.name.as_str() {
            // The body is not part of the signature: that is what UNSIGNED-PAYLOAD means.
            _ if unsigned => assert_eq!(result, Ok(()), "{}", f.name),
            "post_content_sha256_header" => {
                assert_eq!(result, Err(SigV4Error::ContentSha256Mismatch))
            }
            _ => assert_eq!(result, Err(SigV4Error::InvalidSignature), "{}", f.name),
        }
    }
}

#[test]
fn tampered_signed_header_fails() {
    for f in fixtures() {
        let mut headers = f.headers.clone();
        headers.insert("host", HeaderValue::from_static("evil.example.com:18555"));
        let req = SignedRequest {
            headers: &headers,
            ..f.request()
        };
        assert_eq!(
            check(&f, &req, &f.secret),
            Err(SigV4Error::InvalidSignature),
            "{}",
            f.name
        );
    }
}

#[test]
fn tampered_path_and_query_fail() {
    for f in fixtures() {
        let path = format!("{}x", f.path);
        let req = SignedRequest {
            path: &path,
            ..f.request()
        };
        assert_eq!(
            check(&f, &req, &f.secret),
            Err(SigV4Error::InvalidSignature)
        );
        let query = if f.query.is_empty() {
            "extra=1".to_owned()
        } else {
            format!("{}&extra=1", f.query)
        };
        let req = SignedRequest {
            query: &query,
            ..f.request()
        };
        assert_eq!(
            check(&f, &req, &f.secret),
            Err(SigV4Error::InvalidSignature)
        );
    }
}

#[test]
fn unsigned_headers_may_change() {
    for f in fixtures() {
        let mut headers = f.headers.clone();
        headers.insert("user-agent", HeaderValue::from_static("proxy/1.0"));
        headers.insert("x-forwarded-for", HeaderValue::from_static("10.0.0.1"));
        let req = SignedRequest {
            headers: &headers,
            ..f.request()
        };
        assert_eq!(check(&f, &req, &f.secret), Ok(()), "{}", f.name);
    }
}

#[test]
fn sign_headers_reproduces_botocore() {
    for f in fixtures().into_iter().filter(|f| !f.presigned) {
        let auth = parse(&f.request()).unwrap();
        // botocore adds Content-Length, amz-sdk-* and the like after signing: keep only what it signed.
        let mut headers = HeaderMap::new();
        for name in auth.signed_headers() {
            for value in f.headers.get_all(name) {
                headers.append(name.clone(), value.clone());
            }
        }
        headers.remove("x-amz-date");
        headers.remove("x-amz-security-token");
        let payload = if f.name == "put_unsigned_payload_https" {
            headers.remove("x-amz-content-sha256");
            Payload::Unhashed
        } else {
            Payload::from_body(&f.body)
        };
        sign_headers(
            &f.method,
            &f.path,
            &f.query,
            &mut headers,
            payload,
            &params(&f),
        )
        .unwrap();
        assert_eq!(
            headers[AUTHORIZATION].to_str().unwrap(),
            f.authorization.as_deref().unwrap(),
            "{}",
            f.name
        );
        for name in auth.signed_headers() {
            assert_eq!(headers.get(name), f.headers.get(name), "{} {name}", f.name);
        }
    }
}

#[test]
fn presign_query_reproduces_botocore() {
    for f in fixtures().into_iter().filter(|f| f.presigned) {
        let original: Vec<&str> = f
            .query
            .split('&')
            .filter(|p| !p.starts_with("X-Amz-"))
            .collect();
        let expires = Duration::from_secs(f.expires.unwrap());
        let query = presign_query(
            &f.method,
            &f.path,
            &original.join("&"),
            &f.headers,
            Payload::from_body(b""),
            &params(&f),
            expires,
        )
        .unwrap();
        assert_eq!(query, f.query, "{}", f.name);
    }
}

#[test]
fn presigned_url_expires() {
    for f in fixtures().into_iter().filter(|f| f.presigned) {
        let req = f.request();
        let auth = parse(&req).unwrap();
        let expires = time::Duration::seconds(f.expires.unwrap() as i64);
        let last = f.time + expires;
        assert_eq!(
            verify(&auth, &req, &f.secret, last, DEFAULT_MAX_SKEW),
            Ok(())
        );
        let err = verify(
            &auth,
            &req,
            &f.secret,
            last + time::Duration::SECOND,
            DEFAULT_MAX_SKEW,
        )
        .unwrap_err();
        assert!(matches!(err, SigV4Error::SignatureExpired(_)), "{err:?}");
        assert_eq!(err.aws_code(), "InvalidSignatureException");
    }
}
