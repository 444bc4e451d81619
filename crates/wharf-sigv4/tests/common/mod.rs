//! Shared test helpers: loading the botocore fixtures and turning one into the borrowed
//! `SignedRequest` the crate verifies.

#![allow(dead_code)]

use std::path::PathBuf;

use http::{HeaderMap, HeaderName, HeaderValue, Method};
use serde_json::Value;
use time::OffsetDateTime;
use wharf_sigv4::{Payload, SignedRequest};

/// One request signed by botocore (see `tests/fixtures/gen.py` for the fields).
pub struct Fixture {
    pub name: String,
    pub method: Method,
    pub path: String,
    pub query: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub access_key: String,
    pub secret: String,
    pub session_token: Option<String>,
    pub region: String,
    pub time: OffsetDateTime,
    pub presigned: bool,
    pub expires: Option<u64>,
    pub authorization: Option<String>,
}

impl Fixture {
    pub fn request(&self) -> SignedRequest<'_> {
        SignedRequest {
            method: &self.method,
            path: &self.path,
            query: &self.query,
            headers: &self.headers,
            payload: Payload::from_body(&self.body),
        }
    }
}

pub fn time(amz: &str) -> OffsetDateTime {
    let f = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    time::PrimitiveDateTime::parse(amz, f)
        .expect("fixture time")
        .assume_utc()
}

pub fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (k, v) in pairs {
        map.append(
            HeaderName::from_bytes(k.as_bytes()).expect("header name"),
            HeaderValue::from_str(v).expect("header value"),
        );
    }
    map
}

fn parse_fixture(v: &Value) -> Fixture {
    let s = |k: &str| v[k].as_str().map(str::to_owned);
    let pairs: Vec<(String, String)> = v["headers"]
        .as_array()
        .expect("headers")
        .iter()
        .map(|p| (p[0].as_str().unwrap().into(), p[1].as_str().unwrap().into()))
        .collect();
    let borrowed: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    Fixture {
        name: s("name").unwrap(),
        method: Method::from_bytes(s("method").unwrap().as_bytes()).unwrap(),
        path: s("path").unwrap(),
        query: s("query").unwrap(),
        headers: headers(&borrowed),
        body: s("body").unwrap().into_bytes(),
        access_key: s("access_key").unwrap(),
        secret: s("secret").unwrap(),
        session_token: s("session_token"),
        region: s("region").unwrap(),
        time: time(&s("time").unwrap()),
        presigned: v["presigned"].as_bool().unwrap(),
        expires: v["expires"].as_u64(),
        authorization: s("authorization"),
    }
}

/// Every `tests/fixtures/*.json`, sorted by name.
pub fn fixtures() -> Vec<Fixture> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixtures dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    let fixtures: Vec<Fixture> = paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).expect("read fixture");
            parse_fixture(&serde_json::from_str(&text).expect("fixture json"))
        })
        .collect();
    assert!(fixtures.len() >= 10, "fixtures missing from {dir:?}");
    fixtures
}
