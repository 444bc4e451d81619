//! Replication inside one Wharf: the jobs a push enqueues (in its transaction, only when it
//! changed something, only for repositories the rules' filters select), the plan's order (blobs,
//! index children, the image, referrers, tags), and the copy into another account, refused
//! without that account's registry policy and done exactly with it.

use bytes::Bytes;
use futures::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use wharf_blob::FsBlobStore;
use wharf_core::replication::{ReplicateError, ReplicationConfiguration, Step};
use wharf_core::{AccountId, JobKind, Registry, Repo};
use wharf_meta::RepoSettings;
use wharf_oci::{Algorithm, Digest, Reference};

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const B: &str = "222222222222";

async fn setup(dir: &std::path::Path) -> (Registry, Repo) {
    let blobs = FsBlobStore::open(dir.join("blobs")).unwrap();
    let meta = wharf_meta::testing::store(dir).await;
    assert!(meta.create_account(B, "b").await.unwrap());
    let reg = Registry::new(Arc::new(blobs), meta);
    let repo = Repo::new(reg.default_account(), "app/web".parse().unwrap());
    reg.create_repository(&repo, &RepoSettings::default(), &[])
        .await
        .unwrap();
    (reg, repo)
}

async fn blob(reg: &Registry, repo: &Repo, bytes: &[u8]) -> Digest {
    let digest = Digest::of(Algorithm::Sha256, bytes);
    let owned = Bytes::copy_from_slice(bytes);
    reg.push_blob(
        repo,
        &digest,
        futures::stream::once(async move { Ok(owned) }).boxed(),
    )
    .await
    .unwrap();
    digest
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

/// An image of one config blob under `tag` (by digest without one); `subject` makes it a
/// referrer. Its digest and bytes.
async fn image(
    reg: &Registry,
    repo: &Repo,
    seed: &str,
    tag: Option<&str>,
    subject: Option<(&Digest, usize)>,
) -> (Digest, String) {
    let c = blob(reg, repo, seed.as_bytes()).await;
    let subject = subject
        .map(|(d, size)| {
            format!(r#","subject":{{"mediaType":"{OCI_MANIFEST}","digest":"{d}","size":{size}}}"#)
        })
        .unwrap_or_default();
    let body = format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"{OCI_CONFIG}","digest":"{c}","size":{}}},"layers":[]{subject}}}"#,
        seed.len()
    );
    let reference = match tag {
        Some(t) => t.to_string(),
        None => Digest::of(Algorithm::Sha256, body.as_bytes()).to_string(),
    };
    (put(reg, repo, &reference, OCI_MANIFEST, &body).await, body)
}

fn config(json: &str) -> ReplicationConfiguration {
    serde_json::from_str(json).unwrap()
}

/// The replicate jobs due, as (repository, digest, region, registry id).
async fn replicate_jobs(reg: &Registry) -> Vec<(String, String, String, String)> {
    let mut out = Vec::new();
    for j in reg.claim_jobs(Duration::from_secs(60), 100).await.unwrap() {
        if let JobKind::Replicate {
            repository,
            digest,
            region,
            registry_id,
            ..
        } = j.kind().unwrap()
        {
            out.push((repository, digest, region, registry_id));
        }
        reg.complete_job(&j).await.unwrap();
    }
    out.sort();
    out
}

fn manifest_digests(steps: &[Step]) -> Vec<String> {
    steps
        .iter()
        .map(|s| match s {
            Step::Blob { digest, .. } => format!("blob {digest}"),
            Step::Manifest { digest, .. } => format!("manifest {digest}"),
            Step::Tag { tag, .. } => format!("tag {tag}"),
        })
        .collect()
}

#[tokio::test]
async fn pushes_enqueue_replication_and_plans_put_children_first() {
    let dir = tempfile::tempdir().unwrap();
    let (reg, repo) = setup(dir.path()).await;
    let src = reg.default_account();
    reg.put_replication_configuration(
        &src,
        &config(&format!(
            r#"{{"rules":[{{"destinations":[{{"region":"us-east-1","registryId":"{B}"}},{{"region":"eu-west-1","registryId":"333333333333"}}],
                "repositoryFilters":[{{"filter":"app/","filterType":"PREFIX_MATCH"}}]}}]}}"#
        )),
    )
    .await
    .unwrap();
    assert_eq!(
        reg.replication_configuration(&src)
            .await
            .unwrap()
            .rules
            .len(),
        1
    );

    let (c1, c1_body) = image(&reg, &repo, "amd64", Some("v1"), None).await;
    let jobs = replicate_jobs(&reg).await;
    let d1 = c1.to_string();
    assert_eq!(
        jobs,
        [
            (
                "app/web".into(),
                d1.clone(),
                "eu-west-1".into(),
                "333333333333".into()
            ),
            ("app/web".into(), d1.clone(), "us-east-1".into(), B.into()),
        ]
    );
    let statuses = reg.replication_statuses(&repo, &c1).await.unwrap();
    assert_eq!(statuses.len(), 2);
    assert!(statuses
        .iter()
        .all(|s| s.status == "IN_PROGRESS" && s.failure_code.is_none()));

    // A re-push that changes nothing replicates nothing; a new tag does.
    put(&reg, &repo, "v1", OCI_MANIFEST, &c1_body).await;
    assert!(replicate_jobs(&reg).await.is_empty());
    put(&reg, &repo, "stable", OCI_MANIFEST, &c1_body).await;
    assert_eq!(replicate_jobs(&reg).await.len(), 2);

    // Outside the filter: nothing.
    let other = Repo::new(src.clone(), "other/web".parse().unwrap());
    reg.create_repository(&other, &RepoSettings::default(), &[])
        .await
        .unwrap();
    image(&reg, &other, "other", Some("v1"), None).await;
    assert!(replicate_jobs(&reg).await.is_empty());

    // A referrer of c1, a second platform and an index over both.
    let (r, _) = image(&reg, &repo, "signature", None, Some((&c1, c1_body.len()))).await;
    let (c2, c2_body) = image(&reg, &repo, "arm64", None, None).await;
    let index = format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[{{"mediaType":"{OCI_MANIFEST}","digest":"{c1}","size":{}}},{{"mediaType":"{OCI_MANIFEST}","digest":"{c2}","size":{}}}]}}"#,
        c1_body.len(),
        c2_body.len()
    );
    let idx = put(&reg, &repo, "multi", OCI_INDEX, &index).await;
    replicate_jobs(&reg).await;

    let blob_of = |seed: &str| format!("blob {}", Digest::of(Algorithm::Sha256, seed.as_bytes()));
    let plan = reg.replication_plan(&repo, &c1).await.unwrap().unwrap();
    assert_eq!(
        manifest_digests(&plan.steps),
        [
            blob_of("amd64"),
            format!("manifest {c1}"),
            blob_of("signature"),
            format!("manifest {r}"),
            "tag stable".into(),
            "tag v1".into(),
        ]
    );
    let plan = reg.replication_plan(&repo, &idx).await.unwrap().unwrap();
    let steps = manifest_digests(&plan.steps);
    let at = |s: &str| {
        steps
            .iter()
            .position(|x| x == s)
            .unwrap_or_else(|| panic!("{s} not in {steps:?}"))
    };
    assert!(at(&blob_of("amd64")) < at(&format!("manifest {c1}")));
    assert!(at(&blob_of("arm64")) < at(&format!("manifest {c2}")));
    assert!(at(&format!("manifest {c1}")) < at(&format!("manifest {idx}")));
    assert!(at(&format!("manifest {c2}")) < at(&format!("manifest {idx}")));
    assert_eq!(steps.last().unwrap(), "tag multi");
    assert_eq!((plan.blobs(), plan.manifests()), (2, 3));

    // A deleted image has nothing to replicate.
    let gone = Repo::new(src, "app/gone".parse().unwrap());
    assert!(reg.replication_plan(&gone, &c1).await.unwrap().is_none());
}

#[tokio::test]
async fn cross_account_copies_need_the_destination_registry_policy() {
    let dir = tempfile::tempdir().unwrap();
    let (reg, repo) = setup(dir.path()).await;
    let src = reg.default_account();
    let b: AccountId = B.parse().unwrap();
    let (c1, c1_body) = image(&reg, &repo, "amd64", Some("v1"), None).await;
    let (r, r_body) = image(&reg, &repo, "signature", None, Some((&c1, c1_body.len()))).await;
    let plan = reg.replication_plan(&repo, &c1).await.unwrap().unwrap();
    let dest = Repo::new(b.clone(), repo.name.clone());

    let code = |e: ReplicateError| match e {
        ReplicateError::Permanent { code, .. } => code,
        other => panic!("not permanent: {other}"),
    };
    let e = reg.replicate_local(&repo, &plan, &b).await.unwrap_err();
    assert_eq!(code(e), "REPLICATION_NOT_ALLOWED");
    assert!(reg.repository(&dest).await.is_err());

    let policy = |actions: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{src}:root"}},"Action":{actions},"Resource":"arn:aws:ecr:us-east-1:{B}:repository/*"}}]}}"#
        )
    };
    reg.put_registry_policy(&b, &policy(r#""ecr:ReplicateImage""#))
        .await
        .unwrap();
    let e = reg.replicate_local(&repo, &plan, &b).await.unwrap_err();
    assert_eq!(code(e), "REPOSITORY_CREATION_NOT_ALLOWED");

    // Another account named in the policy is not the source.
    let other: AccountId = "444444444444".parse().unwrap();
    assert!(!reg
        .replication_allowed(&other, &dest, "ecr:ReplicateImage")
        .await
        .unwrap());

    reg.put_registry_policy(
        &b,
        &policy(r#"["ecr:ReplicateImage","ecr:CreateRepository"]"#),
    )
    .await
    .unwrap();
    reg.create_template(
        &b,
        "app",
        &serde_json::json!({ "appliedFor": ["REPLICATION"], "imageTagMutability": "IMMUTABLE" }),
    )
    .await
    .unwrap();
    reg.replicate_local(&repo, &plan, &b).await.unwrap();
    let created = reg.repository(&dest).await.unwrap();
    assert_eq!(created.settings.image_tag_mutability, "IMMUTABLE");
    let m = reg
        .get_manifest(&dest, &"v1".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(
        (m.digest.clone(), &*m.body),
        (c1.clone(), c1_body.as_bytes())
    );
    let m = reg
        .get_manifest(&dest, &Reference::Digest(r.clone()))
        .await
        .unwrap();
    assert_eq!(&*m.body, r_body.as_bytes());
    let config = Digest::of(Algorithm::Sha256, b"amd64");
    let mut bytes = Vec::new();
    let mut s = reg.read_blob(&dest, &config, 0, u64::MAX).await.unwrap();
    while let Some(chunk) = s.next().await {
        bytes.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(bytes, b"amd64");
    // Replicating again is a no-op that succeeds (an immutable tag pointed at the same image).
    reg.replicate_local(&repo, &plan, &b).await.unwrap();
}
