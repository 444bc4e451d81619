//! `replicate_remote` against a real Wharf served in-process on port 0 (the destination region):
//! an index with two platforms, a referrer and tags, one blob large enough to go up in chunks,
//! arrive with identical bytes in a repository created from the destination's REPLICATION
//! template; a second run skips what is there; an unreachable destination is a transient error
//! and wrong keys a permanent one.

use bytes::Bytes;
use futures::StreamExt;
use std::sync::Arc;
use tokio::net::TcpListener;
use wharf_api::{AppState, EcrSettings};
use wharf_blob::FsBlobStore;
use wharf_core::replication::ReplicateError;
use wharf_core::{Identity, Registry, Repo};
use wharf_meta::RepoSettings;
use wharf_oci::{Algorithm, Digest, Reference};
use wharf_replicate::{replicate_remote, RegionEndpoint, RemoteRegistry};

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

async fn registry(dir: &std::path::Path) -> Registry {
    let blobs = FsBlobStore::open(dir.join("blobs")).unwrap();
    Registry::new(Arc::new(blobs), wharf_meta::testing::store(dir).await)
}

/// The destination: a Wharf in eu-west-1 with a REPLICATION template for `app`; its registry,
/// endpoint and administrator key.
async fn destination(dir: &std::path::Path) -> (Registry, String, String, String) {
    let registry = registry(dir).await.with_region("eu-west-1");
    let meta = registry.meta().clone();
    meta.create_template(
        meta.default_account(),
        "app",
        r#"{"appliedFor":["REPLICATION"],"imageTagMutability":"IMMUTABLE"}"#,
    )
    .await
    .unwrap();
    let identity = Identity::open(meta.clone()).await.unwrap();
    let key = identity.bootstrap_admin().await.unwrap().unwrap();
    let app = wharf_api::app(AppState::new(wharf_api::Services {
        registry: registry.clone(),
        identity,
        ecr: EcrSettings {
            region: "eu-west-1".into(),
            public_host: "127.0.0.1".into(),
            public_scheme: "http".into(),
            registry_domain: None,
            replication_regions: Vec::new(),
        },
        proxies: wharf_api::client::TrustedProxies::new(Vec::new()),
        metrics: wharf_metrics::Metrics::default(),
        metrics_access: wharf_api::metrics::MetricsAccess::Authorized,
        audit: wharf_api::audit::AuditSink::start(
            registry.clone(),
            wharf_metrics::Metrics::default(),
        )
        .0,
        console: Default::default(),
    }));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .unwrap()
    });
    (registry, format!("http://{addr}"), key.id, key.secret)
}

fn remote(endpoint: &str, key: &str, secret: &str) -> RemoteRegistry {
    RemoteRegistry::new(RegionEndpoint {
        name: "eu-west-1".into(),
        endpoint: endpoint.into(),
        access_key_id: key.into(),
        secret_access_key: secret.into(),
        registry_domain: None,
    })
    .unwrap()
}

async fn blob(reg: &Registry, repo: &Repo, bytes: Vec<u8>) -> (Digest, usize) {
    let digest = Digest::of(Algorithm::Sha256, &bytes);
    let len = bytes.len();
    reg.push_blob(
        repo,
        &digest,
        futures::stream::once(async move { Ok(Bytes::from(bytes)) }).boxed(),
    )
    .await
    .unwrap();
    (digest, len)
}

async fn put(reg: &Registry, repo: &Repo, reference: &str, media_type: &str, body: &str) -> Digest {
    reg.put_manifest(
        repo,
        &reference.parse::<Reference>().unwrap(),
        &[],
        Some(media_type),
        body.as_bytes(),
    )
    .await
    .unwrap()
    .digest
}

/// An image of a config and one layer, pushed by digest; its digest and size.
async fn image(
    reg: &Registry,
    repo: &Repo,
    seed: &str,
    layer: Vec<u8>,
    subject: Option<&(Digest, usize)>,
) -> (Digest, usize) {
    let (c, cl) = blob(reg, repo, seed.as_bytes().to_vec()).await;
    let (l, ll) = blob(reg, repo, layer).await;
    let subject = subject
        .map(|(d, n)| {
            format!(r#","subject":{{"mediaType":"{OCI_INDEX}","digest":"{d}","size":{n}}}"#)
        })
        .unwrap_or_default();
    let body = format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"{OCI_CONFIG}","digest":"{c}","size":{cl}}},"layers":[{{"mediaType":"{OCI_LAYER}","digest":"{l}","size":{ll}}}]{subject}}}"#
    );
    let d = Digest::of(Algorithm::Sha256, body.as_bytes());
    put(reg, repo, &d.to_string(), OCI_MANIFEST, &body).await;
    (d, body.len())
}

async fn read_all(reg: &Registry, repo: &Repo, d: &Digest) -> Vec<u8> {
    let mut s = reg.read_blob(repo, d, 0, u64::MAX).await.unwrap();
    let mut out = Vec::new();
    while let Some(c) = s.next().await {
        out.extend_from_slice(&c.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_arrive_byte_identical_and_failures_say_whether_to_retry() {
    let src_dir = tempfile::tempdir().unwrap();
    let dest_dir = tempfile::tempdir().unwrap();
    let src = registry(src_dir.path()).await;
    let repo = Repo::new(src.default_account(), "app/web".parse().unwrap());
    src.create_repository(&repo, &RepoSettings::default(), &[])
        .await
        .unwrap();
    let (dest, endpoint, key, secret) = destination(dest_dir.path()).await;
    let account = dest.default_account();
    let dest_repo = Repo::new(account.clone(), "app/web".parse().unwrap());

    // Two platforms (one with a 9 MiB layer: chunked), an index over them tagged twice, a
    // referrer of the index.
    let big: Vec<u8> = (0..9 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let amd = image(&src, &repo, "amd64", big.clone(), None).await;
    let arm = image(&src, &repo, "arm64", b"small layer".to_vec(), None).await;
    let index = format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[{{"mediaType":"{OCI_MANIFEST}","digest":"{}","size":{}}},{{"mediaType":"{OCI_MANIFEST}","digest":"{}","size":{}}}]}}"#,
        amd.0, amd.1, arm.0, arm.1
    );
    let idx = put(&src, &repo, "v1", OCI_INDEX, &index).await;
    put(&src, &repo, "stable", OCI_INDEX, &index).await;
    let idx_ref = (idx.clone(), index.len());
    let sig = image(&src, &repo, "signature", b"sig".to_vec(), Some(&idx_ref)).await;

    let plan = src.replication_plan(&repo, &idx).await.unwrap().unwrap();
    let client = remote(&endpoint, &key, &secret);
    replicate_remote(&src, &repo, &plan, &client, account.as_str())
        .await
        .unwrap();

    for tag in ["v1", "stable"] {
        let m = dest
            .get_manifest(&dest_repo, &tag.parse().unwrap())
            .await
            .unwrap();
        assert_eq!((&m.digest, &*m.body), (&idx, index.as_bytes()));
    }
    for d in [&amd.0, &arm.0, &sig.0] {
        let r = Reference::Digest(d.clone());
        let theirs = dest.get_manifest(&dest_repo, &r).await.unwrap();
        let ours = src.get_manifest(&repo, &r).await.unwrap();
        assert_eq!(theirs.body, ours.body);
    }
    let big_digest = Digest::of(Algorithm::Sha256, &big);
    assert_eq!(read_all(&dest, &dest_repo, &big_digest).await, big);
    let referrers = dest.referrer_records(&dest_repo, &idx).await.unwrap();
    assert_eq!(
        referrers.iter().map(|r| &r.digest).collect::<Vec<_>>(),
        [&sig.0]
    );
    // The repository came from the destination's REPLICATION template.
    assert_eq!(
        dest.repository(&dest_repo)
            .await
            .unwrap()
            .settings
            .image_tag_mutability,
        "IMMUTABLE"
    );

    // Again: everything is there (blobs skipped after HEAD; the immutable tags already point
    // at the index), and it succeeds.
    replicate_remote(&src, &repo, &plan, &client, account.as_str())
        .await
        .unwrap();

    // Nobody listening: retry later.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gone = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let e = replicate_remote(
        &src,
        &repo,
        &plan,
        &remote(&gone, &key, &secret),
        account.as_str(),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, ReplicateError::Transient(_)), "{e}");

    // Wrong keys: retrying cannot help.
    let e = replicate_remote(
        &src,
        &repo,
        &plan,
        &remote(&endpoint, &key, "wrong"),
        account.as_str(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&e, ReplicateError::Permanent { code, .. } if code == "AUTHENTICATION_FAILED" || code == "DESTINATION_REFUSED"),
        "{e}"
    );
}
