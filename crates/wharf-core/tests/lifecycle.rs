//! Lifecycle policies applied to a real repository (filesystem blobs + SQLite): expiry and its
//! referrers, index children left alone, archive and restore, previews, and the errors of each.

use bytes::Bytes;
use futures::StreamExt;
use std::sync::Arc;
use wharf_blob::{ByteStream, FsBlobStore};
use wharf_core::{CoreError, ImageId, LifecycleAction, Registry, Repo, StorageClass};
use wharf_meta::{MetaStore, RepoSettings};
use wharf_oci::{Algorithm, Digest, Reference};

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const DAY: i64 = 86_400;
/// "Now" for every evaluation: pushed_at values are set relative to it.
const NOW: i64 = 2_000_000_000;

struct Fixture {
    _dir: tempfile::TempDir,
    reg: Registry,
    meta: MetaStore,
    repo: Repo,
    n: usize,
}

impl Fixture {
    async fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let blobs = FsBlobStore::open(dir.path().join("blobs")).unwrap();
        let meta = wharf_meta::testing::store(dir.path()).await;
        let reg = Registry::new(Arc::new(blobs), meta.clone());
        let repo = Repo::new(
            meta.default_account().parse().unwrap(),
            "life/test".parse().unwrap(),
        );
        reg.create_repository(&repo, &RepoSettings::default(), &[])
            .await
            .unwrap();
        Fixture {
            _dir: dir,
            reg,
            meta,
            repo,
            n: 0,
        }
    }

    /// Pushes a distinct image (optionally a referrer of `subject`) under `tags`, pushed `age`
    /// days before `NOW`.
    async fn image(&mut self, tags: &[&str], age: i64, subject: Option<&Digest>) -> Digest {
        self.n += 1;
        let config = format!("config {}", self.n).into_bytes();
        let cd = Digest::of(Algorithm::Sha256, &config);
        let body: ByteStream =
            futures::stream::once(async move { Ok(Bytes::from(config)) }).boxed();
        self.reg.push_blob(&self.repo, &cd, body).await.unwrap();
        let subject = subject.map_or(String::new(), |s| {
            format!(r#","subject":{{"mediaType":"{OCI_MANIFEST}","digest":"{s}","size":1}}"#)
        });
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{cd}","size":{}}},"layers":[]{subject}}}"#,
            format!("config {}", self.n).len()
        );
        self.put(manifest.as_bytes(), OCI_MANIFEST, tags, age).await
    }

    /// Pushes an index listing `children` under `tags`.
    async fn index(&mut self, children: &[&Digest], tags: &[&str], age: i64) -> Digest {
        let list: Vec<String> = children
            .iter()
            .map(|c| format!(r#"{{"mediaType":"{OCI_MANIFEST}","digest":"{c}","size":1}}"#))
            .collect();
        let body = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[{}]}}"#,
            list.join(",")
        );
        self.put(body.as_bytes(), OCI_INDEX, tags, age).await
    }

    async fn put(&self, body: &[u8], media_type: &str, tags: &[&str], age: i64) -> Digest {
        let digest = Digest::of(Algorithm::Sha256, body);
        let extra: Vec<_> = tags.iter().map(|t| t.parse().unwrap()).collect();
        self.reg
            .put_manifest(
                &self.repo,
                &Reference::Digest(digest.clone()),
                &extra,
                Some(media_type),
                body,
            )
            .await
            .unwrap();
        wharf_meta::testing::set_pushed_at(&self.meta, &digest.to_string(), NOW - age * DAY)
            .await
            .unwrap();
        digest
    }

    /// Pushes a stored manifest again, by digest, with its exact bytes.
    async fn repush(&self, d: &Digest, media_type: &str) -> wharf_core::PushedManifest {
        let body = wharf_meta::testing::manifest_body(&self.meta, &d.to_string())
            .await
            .unwrap();
        self.reg
            .put_manifest(
                &self.repo,
                &Reference::Digest(d.clone()),
                &[],
                Some(media_type),
                &body,
            )
            .await
            .unwrap()
    }

    async fn policy(&self, rules: &str) {
        self.reg
            .put_lifecycle_policy(&self.repo, &format!(r#"{{"rules":[{rules}]}}"#))
            .await
            .unwrap();
    }

    async fn pullable(&self, d: &Digest) -> bool {
        self.reg
            .get_manifest(&self.repo, &Reference::Digest(d.clone()))
            .await
            .is_ok()
    }

    async fn exists(&self, d: &Digest) -> bool {
        self.reg
            .resolve_image(&self.repo, &id(d))
            .await
            .unwrap()
            .is_ok()
    }
}

fn id(d: &Digest) -> ImageId {
    ImageId {
        digest: Some(d.to_string()),
        tag: None,
    }
}

fn rule(priority: i64, selection: &str, action: &str) -> String {
    format!(
        r#"{{"rulePriority":{priority},"description":"rule {priority}","selection":{{{selection}}},"action":{action}}}"#
    )
}

const EXPIRE: &str = r#"{"type":"expire"}"#;
const ARCHIVE: &str = r#"{"type":"transition","targetStorageClass":"archive"}"#;

#[tokio::test]
async fn count_rule_expires_the_oldest_with_their_referrers_after_a_dry_run() {
    let mut f = Fixture::new().await;
    let v1 = f.image(&["v1"], 40, None).await;
    let v2 = f.image(&["v2"], 30, None).await;
    let v3 = f.image(&["v3"], 20, None).await;
    let v4 = f.image(&["v4"], 10, None).await;
    let sig = f.image(&[], 1, Some(&v1)).await;
    let sig_of_sig = f.image(&[], 1, Some(&sig)).await;
    f.policy(&rule(
        1,
        r#""tagStatus":"tagged","tagPrefixList":["v"],"countType":"imageCountMoreThan","countNumber":2"#,
        EXPIRE,
    ))
    .await;

    let dry = f.reg.apply_lifecycle(&f.repo, NOW, true).await.unwrap();
    let planned: Vec<_> = dry.planned.iter().map(|p| p.digest.clone()).collect();
    assert_eq!(planned, [v1.to_string(), v2.to_string()], "oldest first");
    assert!(dry
        .planned
        .iter()
        .all(|p| p.rule_priority == 1 && p.action == LifecycleAction::Expire));
    assert_eq!((dry.expired, dry.referrers), (0, 0));
    assert!(
        f.pullable(&v1).await && f.pullable(&sig).await,
        "a dry run changes nothing"
    );
    assert_eq!(
        f.reg.lifecycle_policy(&f.repo).await.unwrap().evaluated_at,
        None
    );

    let done = f.reg.apply_lifecycle(&f.repo, NOW, false).await.unwrap();
    assert_eq!((done.expired, done.archived, done.referrers), (2, 0, 2));
    for gone in [&v1, &v2, &sig, &sig_of_sig] {
        assert!(!f.exists(gone).await, "{gone} expired");
    }
    for kept in [&v3, &v4] {
        assert!(f.pullable(kept).await, "{kept} kept");
    }
    assert_eq!(
        f.reg.lifecycle_policy(&f.repo).await.unwrap().evaluated_at,
        Some(NOW)
    );
    // Applying again finds nothing more to do.
    let again = f.reg.apply_lifecycle(&f.repo, NOW, false).await.unwrap();
    assert!(again.planned.is_empty(), "{:?}", again.planned);
}

#[tokio::test]
async fn aws_worked_example_only_a_expires_when_prod_rule_comes_first() {
    for (prod_first, expected) in [(true, 1), (false, 2)] {
        let mut f = Fixture::new().await;
        let a = f.image(&["beta-1", "prod-1"], 10, None).await;
        let b = f.image(&["beta-2", "prod-2"], 9, None).await;
        let c = f.image(&["beta-3"], 8, None).await;
        let (p_prod, p_beta) = if prod_first { (1, 2) } else { (2, 1) };
        let sel = |prefix: &str| {
            format!(
                r#""tagStatus":"tagged","tagPrefixList":["{prefix}"],"countType":"imageCountMoreThan","countNumber":1"#
            )
        };
        f.policy(&format!(
            "{},{}",
            rule(p_prod, &sel("prod"), EXPIRE),
            rule(p_beta, &sel("beta"), EXPIRE)
        ))
        .await;
        let out = f.reg.apply_lifecycle(&f.repo, NOW, false).await.unwrap();
        assert_eq!(out.expired, expected, "prod first: {prod_first}");
        assert!(!f.exists(&a).await);
        assert_eq!(
            f.exists(&b).await,
            prod_first,
            "B is shielded by the prod rule"
        );
        assert!(f.exists(&c).await);
    }
}

#[tokio::test]
async fn untagged_expiry_leaves_children_of_a_kept_index_alone() {
    let mut f = Fixture::new().await;
    let amd = f.image(&[], 30, None).await;
    let arm = f.image(&[], 30, None).await;
    let index = f.index(&[&amd, &arm], &["multi"], 30).await;
    let orphan = f.image(&[], 30, None).await;
    let fresh = f.image(&[], 1, None).await;
    f.policy(&rule(
        1,
        r#""tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14"#,
        EXPIRE,
    ))
    .await;
    let out = f.reg.apply_lifecycle(&f.repo, NOW, false).await.unwrap();
    assert_eq!(out.expired, 1, "{:?}", out.planned);
    assert!(!f.exists(&orphan).await);
    for kept in [&amd, &arm, &index, &fresh] {
        assert!(f.pullable(kept).await, "{kept} kept");
    }

    // When the index itself expires in the same pass, its old children may go with it.
    f.policy(&format!(
        "{},{}",
        rule(
            1,
            r#""tagStatus":"tagged","tagPatternList":["mul*"],"countType":"sinceImagePushed","countUnit":"days","countNumber":7"#,
            EXPIRE
        ),
        rule(
            2,
            r#""tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14"#,
            EXPIRE
        )
    ))
    .await;
    let out = f.reg.apply_lifecycle(&f.repo, NOW, false).await.unwrap();
    assert_eq!(out.expired, 3, "{:?}", out.planned);
    for gone in [&index, &amd, &arm] {
        assert!(!f.exists(gone).await, "{gone} expired");
    }
    assert!(f.exists(&fresh).await);
}

#[tokio::test]
async fn transition_archives_then_the_archive_rule_expires_after_90_days() {
    let mut f = Fixture::new().await;
    let old = f.image(&["old"], 200, None).await;
    let sig = f.image(&[], 1, Some(&old)).await;
    let new = f.image(&["new"], 1, None).await;
    f.policy(&format!(
        "{},{}",
        rule(
            1,
            r#""tagStatus":"any","countType":"sinceImagePushed","countUnit":"days","countNumber":100"#,
            ARCHIVE
        ),
        rule(
            2,
            r#""tagStatus":"any","storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":90"#,
            EXPIRE
        )
    ))
    .await;
    let out = f.reg.apply_lifecycle(&f.repo, NOW, false).await.unwrap();
    assert_eq!((out.archived, out.referrers, out.expired), (1, 1, 0));
    assert!(!f.pullable(&old).await, "archived images are not served");
    assert!(!f.pullable(&sig).await, "its referrer was archived with it");
    let tag = Reference::Tag("old".parse().unwrap());
    assert!(matches!(
        f.reg.get_manifest(&f.repo, &tag).await,
        Err(CoreError::ManifestUnknown)
    ));
    let image = f
        .reg
        .resolve_image(&f.repo, &id(&old))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (image.status.as_str(), image.archived_at),
        ("ARCHIVED", Some(NOW))
    );
    assert!(f.pullable(&new).await);

    // Pushing the archived image again restores it, and its referrer with it.
    let pushed = f.repush(&old, OCI_MANIFEST).await;
    assert!(pushed.restored);
    assert!(f.pullable(&old).await && f.pullable(&sig).await);
    f.reg
        .update_storage_class(&f.repo, &id(&old), StorageClass::Archive, NOW)
        .await
        .unwrap()
        .unwrap();
    assert!(!f.pullable(&sig).await, "archived with its subject again");

    // 89 days in the archive: kept; 91: expired by the archive-class rule.
    let out = f
        .reg
        .apply_lifecycle(&f.repo, NOW + 89 * DAY, false)
        .await
        .unwrap();
    assert_eq!(out.expired, 0, "{:?}", out.planned);
    let out = f
        .reg
        .apply_lifecycle(&f.repo, NOW + 91 * DAY, false)
        .await
        .unwrap();
    assert!(
        !f.exists(&old).await && !f.exists(&sig).await,
        "{:?}",
        out.planned
    );
}

#[tokio::test]
async fn storage_class_updates_archive_restore_and_refuse_what_ecr_refuses() {
    let mut f = Fixture::new().await;
    let child = f.image(&[], 1, None).await;
    let index = f.index(&[&child], &["multi"], 1).await;
    let solo = f.image(&["solo"], 1, None).await;

    let (_, status) = f
        .reg
        .update_storage_class(&f.repo, &id(&solo), StorageClass::Archive, NOW)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status, "ARCHIVED");
    assert!(!f.pullable(&solo).await);
    let again = f
        .reg
        .update_storage_class(&f.repo, &id(&solo), StorageClass::Archive, NOW)
        .await;
    assert!(
        matches!(again, Err(CoreError::StorageClassUpdateNotSupported(_))),
        "{again:?}"
    );
    let refused = f
        .reg
        .update_storage_class(&f.repo, &id(&child), StorageClass::Archive, NOW)
        .await;
    assert!(
        matches!(refused, Err(CoreError::StorageClassUpdateNotSupported(_))),
        "{refused:?}"
    );
    assert!(f.pullable(&child).await && f.pullable(&index).await);

    let (_, status) = f
        .reg
        .update_storage_class(&f.repo, &id(&solo), StorageClass::Standard, NOW + 5)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status, "ACTIVE");
    assert!(f.pullable(&solo).await);
    let image = f
        .reg
        .resolve_image(&f.repo, &id(&solo))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (image.archived_at, image.activated_at),
        (Some(NOW), Some(NOW + 5))
    );
    let active = f
        .reg
        .update_storage_class(&f.repo, &id(&solo), StorageClass::Standard, NOW)
        .await;
    assert!(matches!(
        active,
        Err(CoreError::StorageClassUpdateNotSupported(_))
    ));

    // Re-pushing an archived image restores it.
    f.reg
        .update_storage_class(&f.repo, &id(&index), StorageClass::Archive, NOW)
        .await
        .unwrap()
        .unwrap();
    assert!(!f.pullable(&index).await);
    let body = f
        .reg
        .resolve_image(&f.repo, &id(&index))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(body.status, "ARCHIVED");
    let pushed = f.repush(&index, OCI_INDEX).await;
    assert!(pushed.restored && !pushed.inserted);
    assert!(f.pullable(&index).await);
}

#[tokio::test]
async fn previews_policies_and_their_errors() {
    let mut f = Fixture::new().await;
    assert!(matches!(
        f.reg.lifecycle_policy(&f.repo).await,
        Err(CoreError::LifecyclePolicyNotFound)
    ));
    assert!(matches!(
        f.reg.start_lifecycle_preview(&f.repo, None, NOW).await,
        Err(CoreError::LifecyclePolicyNotFound)
    ));
    assert!(matches!(
        f.reg.lifecycle_preview(&f.repo).await,
        Err(CoreError::LifecyclePolicyPreviewNotFound)
    ));
    let bad = f
        .reg
        .put_lifecycle_policy(
            &f.repo,
            r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}"#,
        )
        .await;
    match bad {
        Err(CoreError::InvalidParameter(m)) => assert_eq!(
            m,
            "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED.'"
        ),
        other => panic!("{other:?}"),
    }

    let a = f.image(&["a"], 3, None).await;
    let _b = f.image(&["b"], 2, None).await;
    let untagged = f.image(&[], 20, None).await;
    let text = format!(
        r#"{{"rules":[{},{}]}}"#,
        rule(
            1,
            r#""tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14"#,
            EXPIRE
        ),
        rule(
            2,
            r#""tagStatus":"any","countType":"imageCountMoreThan","countNumber":1"#,
            ARCHIVE
        )
    );
    let preview = f
        .reg
        .start_lifecycle_preview(&f.repo, Some(&text), NOW)
        .await
        .unwrap();
    assert_eq!(preview.status, "COMPLETE");
    let stored = f.reg.lifecycle_preview(&f.repo).await.unwrap();
    assert_eq!(stored.policy_text, text);
    let got: Vec<_> = stored
        .results
        .iter()
        .map(|r| (r.digest.clone(), r.rule_priority, r.action))
        .collect();
    assert_eq!(
        got,
        [
            (untagged.to_string(), 1, LifecycleAction::Expire),
            (
                a.to_string(),
                2,
                LifecycleAction::Transition {
                    target: StorageClass::Archive
                }
            ),
        ]
    );
    assert!(f.pullable(&untagged).await, "a preview changes nothing");
    assert!(
        matches!(
            f.reg.lifecycle_policy(&f.repo).await,
            Err(CoreError::LifecyclePolicyNotFound)
        ),
        "a preview of a given text does not set the policy"
    );

    f.reg.put_lifecycle_policy(&f.repo, &text).await.unwrap();
    let removed = f.reg.delete_lifecycle_policy(&f.repo).await.unwrap();
    assert_eq!(removed.text, text);
    assert!(matches!(
        f.reg.delete_lifecycle_policy(&f.repo).await,
        Err(CoreError::LifecyclePolicyNotFound)
    ));
}

#[tokio::test]
async fn an_expiring_untagged_index_takes_its_expiring_children_in_the_same_run() {
    let mut f = Fixture::new().await;
    let amd = f.image(&[], 30, None).await;
    let arm = f.image(&[], 30, None).await;
    let index = f.index(&[&amd, &arm], &[], 29).await;
    f.policy(&rule(
        1,
        r#""tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":1"#,
        EXPIRE,
    ))
    .await;
    let out = f.reg.apply_lifecycle(&f.repo, NOW, false).await.unwrap();
    assert_eq!(out.planned.len(), 3);
    assert_eq!(
        out.expired, 3,
        "children first in the plan, deleted after their index"
    );
    for gone in [&amd, &arm, &index] {
        assert!(!f.exists(gone).await);
    }
}
