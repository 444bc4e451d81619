//! The known-answer vector of the ECR research notes (section 1.4): botocore's `SigV4Auth` signing
//! DescribeRepositories at 20250102T030405Z. Checks the canonical request text, the string-to-sign
//! hash line and the signature, in both directions (verify and sign).

mod common;

use common::{headers, time};
use http::header::AUTHORIZATION;
use http::Method;
use sha2::{Digest, Sha256};
use wharf_sigv4::{
    canonical_request, parse, sign_headers, string_to_sign, verify, Payload, SignedRequest,
    SigningParams, DEFAULT_MAX_SKEW,
};

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const BODY: &[u8] = br#"{"repositoryNames": ["xy"]}"#;
const SIGNATURE: &str = "f3925259bf05e93dc74550a06816d073c30e41efaca880f7c7fe7072e7655263";
const CANONICAL: &str = "POST
/

content-type:application/x-amz-json-1.1
host:127.0.0.1:18555
x-amz-date:20250102T030405Z
x-amz-target:AmazonEC2ContainerRegistry_V20150921.DescribeRepositories

content-type;host;x-amz-date;x-amz-target
18f13aa0a5c21539cf2e9d6b96cf9d97ef8703c5ecb23d5cf31eceb86edafc05";

fn base_headers() -> http::HeaderMap {
    headers(&[
        ("Content-Type", "application/x-amz-json-1.1"),
        ("Host", "127.0.0.1:18555"),
        (
            "X-Amz-Target",
            "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories",
        ),
    ])
}

#[test]
fn verify_reproduces_every_intermediate_value() {
    let mut map = base_headers();
    map.insert("x-amz-date", "20250102T030405Z".parse().unwrap());
    map.insert(
        AUTHORIZATION,
        format!(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250102/eu-west-1/ecr/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature={SIGNATURE}"
        )
        .parse()
        .unwrap(),
    );
    let req = SignedRequest {
        method: &Method::POST,
        path: "/",
        query: "",
        headers: &map,
        payload: Payload::from_body(BODY),
    };
    let auth = parse(&req).unwrap();
    let canonical = canonical_request(&req, &auth).unwrap();
    assert_eq!(String::from_utf8(canonical.clone()).unwrap(), CANONICAL);
    let sts = string_to_sign(&auth, &canonical);
    assert_eq!(
        sts,
        "AWS4-HMAC-SHA256\n20250102T030405Z\n20250102/eu-west-1/ecr/aws4_request\n\
         b4763b3c5d1c8e1faaae912e72f939fc9db3072868db14209782b0cb6ce7b7b3"
    );
    assert_eq!(
        hex::encode(Sha256::digest(BODY)),
        CANONICAL.lines().last().unwrap()
    );
    let now = time("20250102T030405Z");
    assert_eq!(verify(&auth, &req, SECRET, now, DEFAULT_MAX_SKEW), Ok(()));
}

#[test]
fn sign_reproduces_the_signature() {
    let mut map = base_headers();
    let params = SigningParams {
        access_key_id: "AKIDEXAMPLE",
        secret_access_key: SECRET,
        session_token: None,
        region: "eu-west-1",
        service: "ecr",
        time: time("20250102T030405Z"),
    };
    sign_headers(
        &Method::POST,
        "/",
        "",
        &mut map,
        Payload::from_body(BODY),
        &params,
    )
    .unwrap();
    assert_eq!(map["x-amz-date"], "20250102T030405Z");
    assert_eq!(
        map[AUTHORIZATION].to_str().unwrap(),
        format!(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250102/eu-west-1/ecr/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature={SIGNATURE}"
        )
    );
}
