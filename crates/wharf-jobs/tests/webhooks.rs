//! Events delivered to webhooks, end to end inside one process: a real Registry pushes and
//! deletes, the runner's standard handler POSTs to a tiny axum receiver on 127.0.0.1:0, and the
//! receiver checks what arrived — EventBridge-shaped bodies, the event id header, and an
//! HMAC-SHA256 signature computed here independently. A receiver answering 500 first gets the
//! same event again on the retry; one answering 404 is not retried. A replicate job into another
//! account reports an "ECR Replication Action".

use axum::http::{HeaderMap, StatusCode};
use bytes::Bytes;
use futures::StreamExt;
use hmac::{Hmac, Mac};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wharf_blob::FsBlobStore;
use wharf_core::events::{DetailType, Webhook};
use wharf_core::{Backoff, GcOptions, Registry, Repo};
use wharf_jobs::{RunnerConfig, StandardHandler};
use wharf_meta::{JobFilter, JobState, RepoSettings};
use wharf_oci::{Algorithm, Digest, Reference};

const SECRET: &str = "test-secret-0123456789";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";

/// What a receiver got, and how it answers its nth request (from 1).
#[derive(Clone)]
struct Receiver {
    got: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    answer: fn(usize) -> StatusCode,
}

/// Starts a receiver; its URL.
async fn receiver(answer: fn(usize) -> StatusCode) -> (String, Receiver) {
    let r = Receiver {
        got: Arc::default(),
        answer,
    };
    let state = r.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let state = state.clone();
            async move {
                let n = {
                    let mut got = state.got.lock().unwrap();
                    got.push((headers, body));
                    got.len()
                };
                (state.answer)(n)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, r)
}

impl Receiver {
    /// Waits until at least `n` requests arrived (at most 30 s); all of them.
    async fn wait(&self, n: usize) -> Vec<(HeaderMap, Bytes)> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let got = self.got.lock().unwrap().clone();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "only {} requests arrived",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn hook(url: &str, types: &[DetailType], prefix: Option<&str>) -> Webhook {
    Webhook {
        url: url.to_string(),
        secret: SECRET.to_string(),
        detail_types: types.to_vec(),
        repository_prefix: prefix.map(String::from),
    }
}

async fn setup(dir: &std::path::Path, hooks: Vec<Webhook>) -> (Registry, Repo) {
    let blobs = FsBlobStore::open(dir.join("blobs")).unwrap();
    let reg = Registry::new(Arc::new(blobs), wharf_meta::testing::store(dir).await)
        .with_region("eu-west-1")
        .with_webhooks(hooks);
    let repo = Repo::new(reg.default_account(), "team/app".parse().unwrap());
    reg.create_repository(&repo, &RepoSettings::default(), &[])
        .await
        .unwrap();
    (reg, repo)
}

async fn push(reg: &Registry, repo: &Repo, tag: &str) -> Digest {
    let config = b"{\"architecture\":\"amd64\",\"os\":\"linux\"}".to_vec();
    let c = Digest::of(Algorithm::Sha256, &config);
    let size = config.len();
    reg.push_blob(
        repo,
        &c,
        futures::stream::once(async move { Ok(Bytes::from(config)) }).boxed(),
    )
    .await
    .unwrap();
    let body = format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"{OCI_CONFIG}","digest":"{c}","size":{size}}},"layers":[]}}"#
    );
    reg.put_manifest(
        repo,
        &tag.parse::<Reference>().unwrap(),
        &[],
        Some(OCI_MANIFEST),
        body.as_bytes(),
    )
    .await
    .unwrap()
    .digest
}

fn runner(reg: &Registry) -> wharf_jobs::RunnerHandle {
    let handler = Arc::new(StandardHandler {
        gc: GcOptions {
            grace: Duration::from_secs(3600),
            upload_max_age: Duration::from_secs(3600),
            dry_run: false,
        },
        upload_max_age: Duration::from_secs(3600),
        metrics: Default::default(),
        regions: Default::default(),
    });
    wharf_jobs::start(
        reg.clone(),
        handler,
        RunnerConfig {
            workers: 2,
            poll: Duration::from_millis(50),
            backoff: Backoff {
                base: Duration::from_millis(200),
                max: Duration::from_millis(200),
                jitter: false,
            },
            ..RunnerConfig::default()
        },
    )
}

/// Checks one delivery's headers and signature; its body as JSON.
fn verified((headers, body): &(HeaderMap, Bytes)) -> serde_json::Value {
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(headers["x-wharf-signature"].to_str().unwrap(), expected);
    assert_eq!(headers["content-type"], "application/json");
    let ts: i64 = headers["x-wharf-timestamp"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((wharf_core::unix_now() - ts).abs() < 60);
    let v: serde_json::Value = serde_json::from_slice(body).unwrap();
    assert_eq!(headers["x-wharf-event-id"].to_str().unwrap(), v["id"]);
    v
}

async fn webhook_jobs(reg: &Registry, state: Option<JobState>) -> Vec<wharf_meta::JobRecord> {
    reg.meta()
        .list_jobs(&JobFilter {
            state,
            kind: Some("webhook".into()),
            ..JobFilter::default()
        })
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_and_a_delete_arrive_signed_where_the_filters_allow() {
    let (url, all) = receiver(|_| StatusCode::OK).await;
    let (scans_url, scans) = receiver(|_| StatusCode::OK).await;
    let (other_url, other) = receiver(|_| StatusCode::OK).await;
    let dir = tempfile::tempdir().unwrap();
    let (reg, repo) = setup(
        dir.path(),
        vec![
            hook(&url, &[], None),
            hook(&scans_url, &[DetailType::ImageScan], None),
            hook(&other_url, &[], Some("other/")),
        ],
    )
    .await;
    let digest = push(&reg, &repo, "v1").await;
    // The push's delivery was committed with the push, before any runner exists.
    assert_eq!(webhook_jobs(&reg, None).await.len(), 1);
    let runner = runner(&reg);
    let got = all.wait(1).await;
    let pushed = verified(&got[0]);
    assert_eq!(pushed["detail-type"], "ECR Image Action");
    assert_eq!(pushed["source"], "aws.ecr");
    assert_eq!(pushed["region"], "eu-west-1");
    assert_eq!(pushed["account"], repo.account.as_str());
    assert_eq!(
        pushed["resources"][0],
        format!("arn:aws:ecr:eu-west-1:{}:repository/team/app", repo.account)
    );
    assert_eq!(
        pushed["detail"],
        serde_json::json!({
            "result": "SUCCESS",
            "repository-name": "team/app",
            "image-digest": digest.to_string(),
            "action-type": "PUSH",
            "image-tag": "v1",
            "manifest-media-type": OCI_MANIFEST,
            "artifact-media-type": OCI_CONFIG
        })
    );
    reg.delete_manifest(&repo, &Reference::Digest(digest.clone()))
        .await
        .unwrap();
    let got = all.wait(2).await;
    let deleted = verified(&got[1]);
    assert_eq!(deleted["detail"]["action-type"], "DELETE");
    assert_eq!(deleted["detail"]["image-digest"], digest.to_string());
    assert_ne!(deleted["id"], pushed["id"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while webhook_jobs(&reg, Some(JobState::Done)).await.len() < 2 {
        assert!(Instant::now() < deadline, "deliveries never recorded done");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    runner.shutdown(Duration::from_secs(5)).await;
    // Filtered out: a scans-only webhook and one for another prefix got nothing.
    assert!(scans.got.lock().unwrap().is_empty());
    assert!(other.got.lock().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_500_is_retried_with_the_same_event_and_a_404_is_not() {
    let (flaky_url, flaky) = receiver(|n| {
        if n == 1 {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::OK
        }
    })
    .await;
    let (gone_url, gone) = receiver(|_| StatusCode::NOT_FOUND).await;
    let dir = tempfile::tempdir().unwrap();
    let (reg, repo) = setup(
        dir.path(),
        vec![hook(&flaky_url, &[], None), hook(&gone_url, &[], None)],
    )
    .await;
    push(&reg, &repo, "latest").await;
    let runner = runner(&reg);
    let got = flaky.wait(2).await;
    assert_eq!(verified(&got[0]), verified(&got[1]));
    let deadline = Instant::now() + Duration::from_secs(30);
    let (done, dead) = loop {
        let done = webhook_jobs(&reg, Some(JobState::Done)).await;
        let dead = webhook_jobs(&reg, Some(JobState::Dead)).await;
        if done.len() == 1 && dead.len() == 1 {
            break (done, dead);
        }
        assert!(Instant::now() < deadline, "done {done:?} dead {dead:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    runner.shutdown(Duration::from_secs(5)).await;
    assert_eq!(done[0].attempts, 2);
    assert!(done[0].payload.contains(&flaky_url));
    assert_eq!(dead[0].attempts, 1);
    assert!(dead[0].last_error.as_deref().unwrap().contains("404"));
    assert_eq!(gone.got.lock().unwrap().len(), 1);
    assert_eq!(flaky.got.lock().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_completed_replication_is_an_ecr_replication_action() {
    const B: &str = "222222222222";
    let (url, got) = receiver(|_| StatusCode::OK).await;
    let dir = tempfile::tempdir().unwrap();
    let (reg, repo) = setup(
        dir.path(),
        vec![hook(&url, &[DetailType::ReplicationAction], None)],
    )
    .await;
    assert!(reg.meta().create_account(B, "b").await.unwrap());
    let src = reg.default_account();
    let b: wharf_core::AccountId = B.parse().unwrap();
    reg.put_registry_policy(
        &b,
        &format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{src}:root"}},"Action":["ecr:ReplicateImage","ecr:CreateRepository"],"Resource":"arn:aws:ecr:eu-west-1:{B}:repository/*"}}]}}"#
        ),
    )
    .await
    .unwrap();
    reg.create_repository(
        &Repo::new(b, repo.name.clone()),
        &RepoSettings::default(),
        &[],
    )
    .await
    .unwrap();
    reg.put_replication_configuration(
        &src,
        &serde_json::from_str(&format!(
            r#"{{"rules":[{{"destinations":[{{"region":"eu-west-1","registryId":"{B}"}}]}}]}}"#
        ))
        .unwrap(),
    )
    .await
    .unwrap();
    let digest = push(&reg, &repo, "v1").await;
    let runner = runner(&reg);
    let events = got.wait(1).await;
    runner.shutdown(Duration::from_secs(5)).await;
    let e = verified(&events[0]);
    assert_eq!(e["detail-type"], "ECR Replication Action");
    assert_eq!(
        e["detail"],
        serde_json::json!({
            "result": "SUCCESS",
            "repository-name": "team/app",
            "image-digest": digest.to_string(),
            "source-account": src.as_str(),
            "action-type": "REPLICATE",
            "source-region": "eu-west-1",
            "image-tag": "v1",
            "destination-region": "eu-west-1",
            "destination-registry-id": B
        })
    );
    // The push's own event was filtered out: only the replication arrived.
    assert_eq!(got.got.lock().unwrap().len(), 1);
}
