//! A bounded, deterministic HTTP fuzz run of both surfaces against a real in-process server:
//! random `/v2/` requests (`oci.rs`) and random ECR / ECR Public calls (`ecr.rs`), mixed with
//! valid pushes so the cases reach deep code. Every answer must be below 500, in its protocol's
//! error format when it is an error, no handler may panic, and the server must still answer a
//! plain `GET /v2/` and a valid ECR call at the end.
//!
//! `WHARF_FUZZ_CASES` (default 3000) sets the number of cases and `WHARF_FUZZ_SEED` the seed, so
//! a failure reproduces with the seed the report prints.

#[path = "../common/mod.rs"]
mod common;
mod ecr;
mod oci;
mod rng;

use common::{image_manifest, Server, OCI_MANIFEST};
use reqwest::Response;
use rng::Rng;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;

/// Panics anywhere in the process (handlers run on the test's runtime), counted by a hook.
static PANICS: AtomicUsize = AtomicUsize::new(0);

fn count_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            default(info);
        }));
    });
}

/// Which protocol a response must speak.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    Oci,
    Aws,
}

/// The server under test and what the cases know about it.
pub struct World {
    pub s: Server,
    /// A client with no default credentials (each case picks its own).
    pub client: reqwest::Client,
    pub account: String,
    pub key_id: String,
    pub secret: String,
    pub repos: Vec<String>,
    pub digests: Vec<String>,
    /// Valid image manifests with the repository holding their blobs (elsewhere a push of one
    /// answers `MANIFEST_BLOB_UNKNOWN`).
    pub manifests: Vec<(String, String)>,
    /// `Location`s of `/v2/` uploads in progress.
    pub uploads: Vec<String>,
    /// Upload ids of ECR layer uploads.
    pub ecr_uploads: Vec<String>,
    pub failures: Vec<String>,
    /// How many answers of each kind (`surface status code`), for the summary line.
    pub seen: std::collections::BTreeMap<String, usize>,
}

impl World {
    pub fn fail(&mut self, what: String) {
        self.failures.push(what);
    }

    pub fn status(&mut self, status: u16, what: String) {
        if status >= 500 {
            self.fail(format!("{what}: status {status}"));
        }
    }

    /// Sends a case and checks its response. A request reqwest cannot build (a junk byte in a
    /// header) is not sent. A pooled connection the server closed after an earlier answer that
    /// left its body unread fails before any response (`IncompleteMessage`); that case is sent
    /// once more, so only a request that really gets no answer counts as a failure.
    pub async fn send(
        &mut self,
        req: reqwest::RequestBuilder,
        surface: Surface,
        head: bool,
        what: String,
    ) {
        let again = req.try_clone();
        let result = match req.send().await {
            Err(e) if e.is_request() && !e.is_builder() => match again {
                Some(r) => r.send().await,
                None => Err(e),
            },
            other => other,
        };
        match result {
            Ok(resp) => self.check(resp, surface, head, what).await,
            Err(e) if e.is_builder() => {}
            Err(e) => self.fail(format!("{what}: transport error {e:?}")),
        }
    }

    /// Checks a response: no 5xx, and errors in the surface's own envelope.
    pub async fn check(&mut self, resp: Response, surface: Surface, head: bool, what: String) {
        let status = resp.status().as_u16();
        let location = resp
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .map(str::to_string);
        let body = match resp.bytes().await {
            Ok(b) => b,
            Err(e) => return self.fail(format!("{what}: body cut off ({e}), status {status}")),
        };
        if status >= 500 {
            let text = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
            return self.fail(format!("{what}: status {status}: {text}"));
        }
        if status == 202 {
            if let Some(l) = location.filter(|l| l.contains("/blobs/uploads/")) {
                self.uploads.push(l);
            }
        }
        if status < 400 || head {
            *self.seen.entry(status.to_string()).or_default() += 1;
            return;
        }
        let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let code = match surface {
            Surface::Oci => v["errors"][0]["code"].as_str().unwrap_or("-"),
            Surface::Aws => v["__type"].as_str().unwrap_or("-"),
        };
        *self.seen.entry(format!("{status} {code}")).or_default() += 1;
        let well_formed = match surface {
            Surface::Oci => v["errors"][0]["code"].is_string(),
            Surface::Aws => v["__type"].is_string() && v["message"].is_string(),
        };
        let oci_path = what.split(' ').nth(1).is_some_and(|p| p.starts_with("/v2"));
        if !well_formed && (surface == Surface::Aws || oci_path) {
            let text = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
            self.fail(format!(
                "{what}: {status} without an error envelope: {text:?}"
            ));
        }
    }
}

/// A user with `ecr:*` and `ecr-public:*` and an access key, for the signed calls.
async fn fuzz_user(s: &Server) -> (String, String) {
    let meta = s.registry.meta();
    let account = meta.default_account().to_string();
    let u = meta.create_user(&account, "fuzzer").await.unwrap().unwrap();
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["ecr:*", "ecr-public:*"], "Resource": "*"}]});
    meta.put_user_policy(u.id, "fuzz", &policy.to_string())
        .await
        .unwrap();
    let (id, secret) = (
        "AKIAFUZZ000000000001",
        "fuzz-secret-0123456789abcdefghijklmnopqr",
    );
    meta.create_access_key(u.id, id, secret).await.unwrap();
    (id.to_string(), secret.to_string())
}

/// Valid operations between the random ones: a new repository with an image pushed over `/v2/`,
/// or one created and filled through the ECR API.
async fn valid_push(w: &mut World, rng: &mut Rng, n: usize) {
    let repo = format!("fuzz/valid-{n}");
    if rng.chance(50) {
        let (d, body) = w.s.push_image(&repo, "v1", &format!("seed {n}")).await;
        w.digests.push(d);
        w.manifests
            .push((repo.clone(), String::from_utf8(body).unwrap()));
    } else {
        ecr::call(w, "CreateRepository", json!({"repositoryName": repo})).await;
        let config = format!("{{\"n\":{n}}}");
        let layer = {
            let n = 100 + rng.below(3000);
            rng.bytes(n)
        };
        ecr::push_layer(w, &repo, config.as_bytes()).await;
        ecr::push_layer(w, &repo, &layer).await;
        let (c, l) = (common::sha256(config.as_bytes()), common::sha256(&layer));
        let m = image_manifest(OCI_MANIFEST, &c, config.len(), &[(&l, layer.len())]);
        let put = json!({"repositoryName": repo, "imageManifest": m, "imageTag": "v1"});
        ecr::call(w, "PutImage", put).await;
        // The pushed bytes are served back untouched.
        let got = w.s.get(&format!("/v2/{repo}/manifests/v1")).await;
        assert_eq!(got.bytes().await.unwrap(), m.as_bytes(), "{repo}");
        w.digests.push(common::sha256(m.as_bytes()));
        w.manifests.push((repo.clone(), m));
    }
    w.repos.push(repo);
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fuzz_both_surfaces() {
    count_panics();
    let cases = env_number("WHARF_FUZZ_CASES", 3000) as usize;
    let seed = env_number("WHARF_FUZZ_SEED", 0x5eed_f022);
    let mut rng = Rng::new(seed);
    let s = Server::start().await;
    let (key_id, secret) = fuzz_user(&s).await;
    let account = s.registry.meta().default_account().to_string();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap();
    let mut w = World {
        s,
        client,
        account,
        key_id,
        secret,
        repos: vec!["fuzz/app".into()],
        digests: Vec::new(),
        manifests: Vec::new(),
        uploads: Vec::new(),
        ecr_uploads: vec!["00000000-0000-0000-0000-000000000000".into()],
        failures: Vec::new(),
        seen: Default::default(),
    };
    let (d, body) = w.s.push_image("fuzz/app", "v1", "app").await;
    w.digests.push(d);
    w.digests.push(common::sha256(b"{\"seed\":\"app\"}"));
    w.digests.push(common::sha256(b"layer bytes of app"));
    w.manifests
        .push(("fuzz/app".into(), String::from_utf8(body).unwrap()));
    valid_push(&mut w, &mut rng, 0).await;

    let started = std::time::Instant::now();
    for n in 1..=cases {
        match rng.below(100) {
            0..=1 => valid_push(&mut w, &mut rng, n).await,
            2..=34 => oci::case(&mut w, &mut rng).await,
            35..=44 => oci::deep_case(&mut w, &mut rng).await,
            45..=52 => oci::raw_case(&mut w, &mut rng).await,
            _ => ecr::case(&mut w, &mut rng).await,
        }
        // Keep the lists the cases draw from short, so old entries do not dominate.
        w.uploads.truncate(64);
    }
    let elapsed = started.elapsed();

    // The server still answers both surfaces.
    let base = w.s.get("/v2/").await;
    assert_eq!(base.status(), 200, "GET /v2/ after the fuzz run");
    let repos = ecr::call(&w, "DescribeRepositories", json!({})).await;
    assert!(repos["repositories"]
        .as_array()
        .is_some_and(|r| !r.is_empty()));

    let panics = PANICS.load(Ordering::SeqCst);
    eprintln!("fuzz: {cases} cases in {elapsed:?} (seed {seed:#x}), {panics} panics");
    eprintln!("fuzz: answers by status and error code: {:?}", w.seen);
    assert!(
        w.failures.is_empty() && panics == 0,
        "seed {seed:#x}: {panics} panics, {} failures:\n{}",
        w.failures.len(),
        w.failures
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
