//! Random `/v2/` requests: route shapes with garbage names, references, digests and upload ids,
//! random query parameters and headers, Basic credentials from valid to garbage, and bodies from
//! valid manifests to mutated ones; some sent over a raw socket with lying `Content-Length`s.

use crate::common::{image_manifest, sha256, OCI_INDEX, OCI_MANIFEST};
use crate::rng::Rng;
use crate::{Surface, World};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use reqwest::Method;

const CONTENT_TYPES: &[&str] = &[
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
    "application/octet-stream",
    "application/json; charset=utf-8",
    "text/plain",
    ";;;",
];

fn method(rng: &mut Rng) -> Method {
    match rng.below(9) {
        0 | 1 => Method::GET,
        2 => Method::HEAD,
        3 | 4 => Method::PUT,
        5 => Method::POST,
        6 => Method::PATCH,
        7 => Method::DELETE,
        _ => Method::from_bytes(rng.pick(&["OPTIONS", "TRACE", "FOO"]).as_bytes()).unwrap(),
    }
}

/// A repository name: a known one, a fresh valid one, or one the grammar refuses.
fn name(w: &World, rng: &mut Rng) -> String {
    match rng.below(10) {
        0..=4 => rng.pick(&w.repos).clone(),
        5 | 6 => format!("fuzz/{}", rng.word()),
        7 => {
            let n = 1 + rng.below(12);
            rng.string("abcXYZ._-/%0", n)
        }
        8 => "a".repeat(250 + rng.below(20)),
        _ => rng
            .pick(&["..", "%2e%2e", "a/../b", "a//b", "A", "_x", "x/", ""])
            .to_string(),
    }
}

fn digest(w: &World, rng: &mut Rng) -> String {
    match rng.below(8) {
        0..=3 => rng.pick(&w.digests).clone(),
        4 => sha256(&rng.bytes(8)),
        5 => format!("sha512:{}", "ab".repeat(64)),
        6 => rng
            .pick(&["sha256:zz", "sha256:", "md5:00", "sha256:../../x"])
            .to_string(),
        _ => rng.junk(),
    }
}

fn reference(w: &World, rng: &mut Rng) -> String {
    match rng.below(5) {
        0 => digest(w, rng),
        1 => rng.pick(&["v1", "latest", "t_9.x-Y"]).to_string(),
        2 => "t".repeat(120 + rng.below(20)),
        3 => rng.word(),
        _ => rng.junk(),
    }
}

fn path(w: &World, rng: &mut Rng) -> String {
    let n = name(w, rng);
    match rng.below(14) {
        0 => "/v2/".into(),
        1 => "/v2/_catalog".into(),
        2 | 3 => format!("/v2/{n}/manifests/{}", reference(w, rng)),
        4 | 5 => format!("/v2/{n}/blobs/{}", digest(w, rng)),
        6 => format!("/v2/{n}/blobs/uploads/"),
        7 | 8 => match rng.below(3) {
            0 if !w.uploads.is_empty() => rng.pick(&w.uploads).clone(),
            1 => format!("/v2/{n}/blobs/uploads/{}", uuid_like(rng)),
            _ => format!("/v2/{n}/blobs/uploads/{}", rng.junk()),
        },
        9 => format!("/v2/{n}/tags/list"),
        10 => format!("/v2/{n}/referrers/{}", digest(w, rng)),
        11 => format!("/v2/{n}/{}/{}", rng.junk(), rng.junk()),
        12 => format!("/v2/{}", rng.junk()),
        _ => rng
            .pick(&[
                "/", "/v2", "/healthz", "/readyz", "/metrics", "/console", "/x",
            ])
            .to_string(),
    }
}

fn uuid_like(rng: &mut Rng) -> String {
    let h = hex::encode(rng.bytes(16));
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

fn query(w: &World, rng: &mut Rng) -> String {
    let mut pairs = Vec::new();
    for _ in 0..rng.below(4) {
        let v = match rng.below(5) {
            0 => digest(w, rng),
            1 => rng
                .pick(&["0", "1", "-1", "100000", "99999999999999999999", "x"])
                .to_string(),
            2 => name(w, rng),
            3 => reference(w, rng),
            _ => rng.junk(),
        };
        let k = *rng.pick(&["n", "last", "digest", "mount", "from", "artifactType", "x"]);
        pairs.push(format!("{k}={}", encode_some(rng, &v)));
    }
    if pairs.is_empty() {
        String::new()
    } else {
        format!("?{}", pairs.join("&"))
    }
}

/// Percent-encodes a value, or leaves it raw (reqwest encodes what a URL cannot hold).
fn encode_some(rng: &mut Rng, v: &str) -> String {
    if rng.chance(50) {
        v.bytes().map(|b| format!("%{b:02X}")).collect()
    } else {
        v.replace(['#', '&'], "")
    }
}

fn authorization(w: &World, rng: &mut Rng) -> Option<String> {
    match rng.below(10) {
        0..=5 => Some(w.s.auth.clone()),
        6 => None,
        7 => Some(format!(
            "Basic {}",
            STANDARD.encode(format!("AWS:{}", rng.junk()))
        )),
        8 => Some(format!("Basic {}", rng.junk())),
        _ => Some(format!(
            "{} {}",
            rng.pick(&["Bearer", "Basic", "AWS4-HMAC-SHA256", ""]),
            STANDARD.encode({
                let n = rng.below(40);
                rng.bytes(n)
            })
        )),
    }
}

/// A valid image manifest over the seeded blobs, or a mutation of one.
pub fn manifest_body(w: &World, rng: &mut Rng) -> Vec<u8> {
    let valid = rng.pick(&w.manifests).1.clone();
    match rng.below(10) {
        0 | 1 => valid.into_bytes(),
        2 => {
            let mut b = valid.into_bytes();
            let i = rng.below(b.len());
            b[i] = rng.next() as u8;
            b
        }
        3 => valid.as_bytes()[..rng.below(valid.len())].to_vec(),
        4 => valid.replace(rng.pick(&w.digests).as_str(), &digest(w, rng)).into_bytes(),
        5 => valid.replace("\"schemaVersion\":2", "\"schemaVersion\":\"2\"").into_bytes(),
        6 => {
            let layers: Vec<(String, usize)> = (0..200 + rng.below(800))
                .map(|i| (sha256(&i.to_le_bytes()), i))
                .collect();
            let refs: Vec<(&str, usize)> = layers.iter().map(|(d, s)| (d.as_str(), *s)).collect();
            image_manifest(OCI_MANIFEST, &w.digests[0], 2, &refs).into_bytes()
        }
        7 => {
            let depth = 100 + rng.below(2000);
            format!("{}{}", "[".repeat(depth), "]".repeat(depth)).into_bytes()
        }
        8 => format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[{{"mediaType":"{OCI_MANIFEST}","digest":"{}","size":{}}}],"subject":{{"mediaType":"{OCI_MANIFEST}","digest":"{}","size":-1}}}}"#,
            digest(w, rng),
            rng.next() as i64,
            digest(w, rng)
        )
        .into_bytes(),
        _ => { let n = rng.below(300); rng.bytes(n) },
    }
}

fn body(w: &World, rng: &mut Rng) -> Vec<u8> {
    match rng.below(4) {
        0 => Vec::new(),
        1 | 2 => manifest_body(w, rng),
        _ => {
            let n = rng.below(2000);
            rng.bytes(n)
        }
    }
}

/// One random `/v2/` request through reqwest.
pub async fn case(w: &mut World, rng: &mut Rng) {
    let m = method(rng);
    let target = format!("{}{}", path(w, rng), query(w, rng));
    let mut req = w.client.request(m.clone(), w.s.url(&target));
    if let Some(a) = authorization(w, rng) {
        req = req.header("authorization", a);
    }
    if rng.chance(50) {
        req = req.header("content-type", *rng.pick(CONTENT_TYPES));
    }
    if rng.chance(25) {
        let (a, b) = (rng.below(2000) as i64 - 5, rng.below(2000) as i64 - 5);
        let options = [format!("{a}-{b}"), format!("bytes {a}-{b}/*"), rng.junk()];
        let v = rng.pick(&options).clone();
        req = req.header("content-range", v);
    }
    if rng.chance(15) {
        let v = rng.pick(&[
            "bytes=0-5",
            "bytes=5-",
            "bytes=-3",
            "bytes=9-2",
            "bytes=99999999-",
        ]);
        req = req.header("range", *v);
    }
    if rng.chance(10) {
        req = req.header("accept", *rng.pick(CONTENT_TYPES));
    }
    let body = body(w, rng);
    let what = format!("{m} {} ({} body bytes)", short(&target), body.len());
    w.send(req.body(body), Surface::Oci, m == Method::HEAD, what)
        .await;
}

/// Requests that get past routing and authorization: a manifest (valid or mutated) pushed to the
/// repository holding its blobs, or a chunked upload with random `Content-Range`s and a final
/// digest that may or may not match.
pub async fn deep_case(w: &mut World, rng: &mut Rng) {
    let (repo, valid) = rng.pick(&w.manifests).clone();
    if rng.chance(50) {
        let body = if rng.chance(40) {
            valid.into_bytes()
        } else {
            manifest_body(w, rng)
        };
        let reference = match rng.below(3) {
            0 => sha256(&body),
            1 => rng.word(),
            _ => reference(w, rng),
        };
        let ct = if rng.chance(70) {
            OCI_MANIFEST
        } else {
            *rng.pick(CONTENT_TYPES)
        };
        let target = format!("/v2/{repo}/manifests/{reference}");
        let what = format!("PUT {target} ({} body bytes, {ct})", body.len());
        let req =
            w.s.req(Method::PUT, &target)
                .header("content-type", ct)
                .body(body);
        return w.send(req, Surface::Oci, false, what).await;
    }
    let start = w.s.req(Method::POST, &format!("/v2/{repo}/blobs/uploads/"));
    let what = format!("POST /v2/{repo}/blobs/uploads/");
    let resp = start.send().await.expect("start an upload");
    let Some(location) = resp.headers().get("location").and_then(|l| l.to_str().ok()) else {
        return w.fail(format!("{what}: {} without a Location", resp.status()));
    };
    let location = location.to_string();
    let mut sent = Vec::new();
    for _ in 0..rng.below(4) {
        let chunk = {
            let n = rng.below(500);
            rng.bytes(n)
        };
        let offset = if rng.chance(80) {
            sent.len()
        } else {
            rng.below(1000)
        };
        let end = (offset + chunk.len()).saturating_sub(1);
        let mut req = w.s.req(Method::PATCH, &location).body(chunk.clone());
        if rng.chance(70) {
            req = req.header("content-range", format!("{offset}-{end}"));
        }
        let what = format!("PATCH {location} ({offset}-{end})");
        if offset == sent.len() {
            sent.extend_from_slice(&chunk);
        }
        w.send(req, Surface::Oci, false, what).await;
    }
    let last = {
        let n = rng.below(100);
        rng.bytes(n)
    };
    let mut all = sent.clone();
    all.extend_from_slice(&last);
    let digest = if rng.chance(70) {
        sha256(&all)
    } else {
        digest(w, rng)
    };
    let target = crate::common::with_query(&location, &format!("digest={digest}"));
    let what = format!("PUT {target} ({} bytes)", last.len());
    let req = w.s.req(Method::PUT, &target).body(last);
    w.send(req, Surface::Oci, false, what).await;
}

/// One request over a raw socket: dot segments reach the server, and `Content-Length` may lie.
pub async fn raw_case(w: &mut World, rng: &mut Rng) {
    let m = method(rng);
    let target = match rng.below(3) {
        0 => format!("/v2/{}/../{}/manifests/v1", name(w, rng), name(w, rng)),
        1 => format!("/v2/./{}/blobs/uploads/", name(w, rng)),
        _ => format!("{}{}", path(w, rng), query(w, rng)),
    }
    .replace([' ', '\r', '\n', '\0'], "%20");
    let body = body(w, rng);
    let (declared, lying) = match rng.below(3) {
        0 => (body.len(), false),
        1 => (body.len() + 1 + rng.below(100), true),
        _ => (body.len().saturating_sub(1 + rng.below(10)), true),
    };
    let auth = authorization(w, rng).unwrap_or_default();
    let mut req = format!(
        "{m} {target} HTTP/1.1\r\nHost: fuzz\r\nAuthorization: {auth}\r\nContent-Length: {declared}\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    req.extend_from_slice(&body);
    let what = format!(
        "raw {m} {} (Content-Length {declared} for {})",
        short(&target),
        body.len()
    );
    match raw_status(&w.s.base, &req, lying).await {
        Some(status) => w.status(status, what),
        // A request whose body never arrives may be dropped; a truthful one must be answered.
        None if lying => {}
        None => w.fail(format!("{what}: no response")),
    }
}

/// Sends bytes, half-closing when the body is short, and reads the status line.
async fn raw_status(base: &str, request: &[u8], half_close: bool) -> Option<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
    let _ = s.write_all(request).await;
    if half_close {
        let _ = s.shutdown().await;
    }
    let mut buf = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), s.read_to_end(&mut buf));
    let _ = read.await;
    let head = String::from_utf8_lossy(&buf[..buf.len().min(32)]);
    head.split(' ').nth(1)?.parse().ok()
}

/// A path or target cut for messages.
pub fn short(s: &str) -> String {
    if s.chars().count() > 120 {
        format!(
            "{}…({} chars)",
            s.chars().take(120).collect::<String>(),
            s.len()
        )
    } else {
        s.to_string()
    }
}
