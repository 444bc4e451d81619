//! The canonical request, string to sign, signing key and signature, byte for byte as botocore's
//! `SigV4Auth` builds them for non-S3 services.
//!
//! botocore's choices that a verifier must reproduce:
//! * Canonical URI: the path *as sent* (already percent-encoded) has its dot segments and empty
//!   segments removed, then is percent-encoded once more, keeping only RFC 3986 unreserved
//!   characters and `/`. So `%20` on the wire becomes `%2520` in the canonical URI.
//! * Canonical query: botocore sorts the raw `key=value` pairs of the URL without re-encoding
//!   them. We decode and re-encode each key and value with the RFC 3986 unreserved set, which gives
//!   the same bytes for every query botocore itself produces (it always encodes that way) and also
//!   accepts clients that left safe-to-encode characters raw.
//! * Header values: leading and trailing whitespace removed and inner runs collapsed to one space
//!   (`' '.join(value.split())`); repeated headers joined with `,` in the order received.

use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderName, Method};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};

/// The algorithm name, in both the header and the presigned form.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// Everything but the RFC 3986 unreserved characters is encoded in query keys and values.
const QUERY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Paths keep `/` as well (botocore: `quote(path, safe='/~')`).
const PATH: &AsciiSet = &QUERY.remove(b'/');

/// RFC 3986 percent-encoding of a query key or value, as AWS requires (space is `%20`, never `+`).
pub fn uri_encode(value: &str) -> String {
    utf8_percent_encode(value, QUERY).to_string()
}

/// The canonical URI of a raw (still percent-encoded) request path, for a non-S3 service.
pub fn canonical_uri(raw_path: &str) -> String {
    utf8_percent_encode(&remove_dot_segments(raw_path), PATH).to_string()
}

/// botocore's `normalize_url_path`: RFC 3986 dot-segment removal, and empty segments (`//`) are
/// dropped too. An empty path is `/`.
fn remove_dot_segments(path: &str) -> String {
    if path.is_empty() {
        return "/".to_owned();
    }
    let mut out: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    let first = if path.starts_with('/') { "/" } else { "" };
    let last = if path.ends_with('/') && !out.is_empty() {
        "/"
    } else {
        ""
    };
    format!("{first}{}{last}", out.join("/"))
}

/// Splits a raw query string into percent-decoded `(key, value)` pairs. Empty pieces (`a=1&&b=2`)
/// are skipped; a piece without `=` has an empty value. `+` is kept as a literal plus sign, because
/// SigV4 clients encode spaces as `%20`.
pub(crate) fn query_pairs(raw_query: &str) -> Vec<(String, String)> {
    raw_query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (k, v) = piece.split_once('=').unwrap_or((piece, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// The canonical query string: every pair (except `X-Amz-Signature` when `skip_signature`) encoded
/// and sorted by encoded key, then encoded value.
pub fn canonical_query(raw_query: &str, skip_signature: bool) -> String {
    let mut pairs: Vec<(String, String)> = query_pairs(raw_query)
        .into_iter()
        .filter(|(k, _)| !(skip_signature && k == "X-Amz-Signature"))
        .map(|(k, v)| (uri_encode(&k), uri_encode(&v)))
        .collect();
    pairs.sort();
    let parts: Vec<String> = pairs.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
    parts.join("&")
}

/// `Trimall`: strips the value and collapses inner whitespace runs to one space.
fn trim_all(value: &[u8], out: &mut Vec<u8>) {
    let mut first = true;
    for word in value
        .split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty())
    {
        if !first {
            out.push(b' ');
        }
        out.extend_from_slice(word);
        first = false;
    }
}

/// Assembles the canonical request. `signed` is the SignedHeaders list in the order the client
/// gave it; a signed header absent from the request contributes `name:` with an empty value.
pub(crate) fn canonical_request(
    method: &Method,
    canonical_uri: &str,
    canonical_query: &str,
    headers: &HeaderMap,
    signed: &[HeaderName],
    payload_hash: &str,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    for part in [
        method.as_str(),
        "\n",
        canonical_uri,
        "\n",
        canonical_query,
        "\n",
    ] {
        out.extend_from_slice(part.as_bytes());
    }
    for name in signed {
        out.extend_from_slice(name.as_str().as_bytes());
        out.push(b':');
        for (i, value) in headers.get_all(name).iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            trim_all(value.as_bytes(), &mut out);
        }
        out.push(b'\n');
    }
    out.push(b'\n');
    let names: Vec<&str> = signed.iter().map(HeaderName::as_str).collect();
    out.extend_from_slice(names.join(";").as_bytes());
    out.push(b'\n');
    out.extend_from_slice(payload_hash.as_bytes());
    out
}

/// `AWS4-HMAC-SHA256\n<amz date>\n<scope>\n<hex sha256 of the canonical request>`.
pub(crate) fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &[u8]) -> String {
    let hash = hex::encode(Sha256::digest(canonical_request));
    format!("{ALGORITHM}\n{amz_date}\n{scope}\n{hash}")
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")` applied to
/// the string to sign.
pub(crate) fn signature(
    secret: &str,
    date: &str,
    region: &str,
    service: &str,
    string_to_sign: &str,
) -> [u8; 32] {
    let mut k_secret = Vec::with_capacity(4 + secret.len());
    k_secret.extend_from_slice(b"AWS4");
    k_secret.extend_from_slice(secret.as_bytes());
    let k_date = hmac(&k_secret, date.as_bytes());
    k_secret.fill(0);
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    let k_signing = hmac(&k_service, b"aws4_request");
    hmac(&k_signing, string_to_sign.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_uri_double_encodes_and_normalizes() {
        let check = |raw: &str, expected: &str| assert_eq!(canonical_uri(raw), expected, "{raw}");
        check("", "/");
        check("/", "/");
        check("/a%20b/c", "/a%2520b/c");
        check("/a//b/./c/../d/", "/a/b/d/");
        check("/~user/x:y", "/~user/x%3Ay");
        check("/..", "/");
    }

    #[test]
    fn canonical_query_sorts_and_reencodes() {
        let check = |raw: &str, expected: &str| {
            assert_eq!(canonical_query(raw, true), expected, "{raw}");
        };
        check("", "");
        check("b=2&a=1&a=0", "a=0&a=1&b=2");
        check("k=a%20b&s=%2F&t=~&e=%3D", "e=%3D&k=a%20b&s=%2F&t=~");
        check("raw=a/b&flag", "flag=&raw=a%2Fb");
        check("p=a+b", "p=a%2Bb");
        check("X-Amz-Signature=ab&x=1", "x=1");
    }
}
