//! The one removal path seen from each of its callers (filesystem blobs + SQLite): a `/v2/`
//! DELETE by digest, BatchDeleteImage and lifecycle expiry/transition all take the image's
//! referrers with it (and drop them from the manifest cache), and refuse while an index lists it.

use bytes::Bytes;
use futures::StreamExt;
use std::sync::Arc;
use wharf_blob::{ByteStream, FsBlobStore};
use wharf_core::{CoreError, ImageFailure, ImageId, Registry, Repo};
use wharf_meta::RepoSettings;
use wharf_oci::{Algorithm, Digest, Reference};

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

struct Fixture {
    _dir: tempfile::TempDir,
    reg: Registry,
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
            "removal/test".parse().unwrap(),
        );
        reg.create_repository(&repo, &RepoSettings::default(), &[])
            .await
            .unwrap();
        Fixture {
            _dir: dir,
            reg,
            repo,
            n: 0,
        }
    }

    /// Pushes a distinct image (a referrer of `subject`, if given) under `tags`.
    async fn image(&mut self, tags: &[&str], subject: Option<&Digest>) -> Digest {
        self.n += 1;
        let config = format!("removal config {}", self.n).into_bytes();
        let (cd, len) = (Digest::of(Algorithm::Sha256, &config), config.len());
        let body: ByteStream =
            futures::stream::once(async move { Ok(Bytes::from(config)) }).boxed();
        self.reg.push_blob(&self.repo, &cd, body).await.unwrap();
        let subject = subject.map_or(String::new(), |s| {
            format!(r#","subject":{{"mediaType":"{OCI_MANIFEST}","digest":"{s}","size":1}}"#)
        });
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{cd}","size":{len}}},"layers":[]{subject}}}"#
        );
        self.put(manifest.as_bytes(), OCI_MANIFEST, tags).await
    }

    async fn index(&self, children: &[&Digest], tags: &[&str]) -> Digest {
        let list: Vec<String> = children
            .iter()
            .map(|c| format!(r#"{{"mediaType":"{OCI_MANIFEST}","digest":"{c}","size":1}}"#))
            .collect();
        let body = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[{}]}}"#,
            list.join(",")
        );
        self.put(body.as_bytes(), OCI_INDEX, tags).await
    }

    async fn put(&self, body: &[u8], media_type: &str, tags: &[&str]) -> Digest {
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
        digest
    }

    /// Whether a GET by digest serves it (warming the manifest cache when it does).
    async fn pullable(&self, d: &Digest) -> bool {
        self.reg
            .get_manifest(&self.repo, &Reference::Digest(d.clone()))
            .await
            .is_ok()
    }

    async fn exists(&self, d: &Digest) -> bool {
        self.reg
            .resolve_image(&self.repo, &id(d, None))
            .await
            .unwrap()
            .is_ok()
    }

    /// An image with a signature and a signature of that; every one pulled once (cached).
    async fn signed(&mut self, tags: &[&str]) -> [Digest; 3] {
        let image = self.image(tags, None).await;
        let sig = self.image(&[], Some(&image)).await;
        let sig_of_sig = self.image(&[], Some(&sig)).await;
        for d in [&image, &sig, &sig_of_sig] {
            assert!(self.pullable(d).await);
        }
        [image, sig, sig_of_sig]
    }
}

fn id(d: &Digest, tag: Option<&str>) -> ImageId {
    ImageId {
        digest: Some(d.to_string()),
        tag: tag.map(str::to_owned),
    }
}

#[tokio::test]
async fn v2_delete_takes_referrers_and_refuses_an_index_child() {
    let mut f = Fixture::new().await;
    let signed = f.signed(&["v1"]).await;
    f.reg
        .delete_manifest(&f.repo, &Reference::Digest(signed[0].clone()))
        .await
        .unwrap();
    for d in &signed {
        assert!(
            !f.pullable(d).await,
            "{d} deleted, and not served from cache"
        );
        assert!(!f.exists(d).await);
    }

    let child = f.image(&[], None).await;
    let index = f.index(&[&child], &["multi"]).await;
    let refused = f
        .reg
        .delete_manifest(&f.repo, &Reference::Digest(child.clone()))
        .await;
    match refused {
        Err(CoreError::ManifestReferenced { child: c, index: i }) => {
            assert_eq!((c, i), (child.clone(), index.clone()))
        }
        other => panic!("expected ManifestReferenced, got {other:?}"),
    }
    assert!(f.pullable(&child).await);
    f.reg
        .delete_manifest(&f.repo, &Reference::Digest(index))
        .await
        .unwrap();
    f.reg
        .delete_manifest(&f.repo, &Reference::Digest(child.clone()))
        .await
        .unwrap();
    assert!(!f.exists(&child).await);
}

#[tokio::test]
async fn batch_delete_image_takes_referrers_and_reports_index_children() {
    let mut f = Fixture::new().await;
    let signed = f.signed(&["v1", "latest"]).await;
    // One of two tags: a tag delete, the image and its referrers stay.
    let out = f
        .reg
        .delete_image(
            &f.repo,
            &ImageId {
                digest: None,
                tag: Some("latest".into()),
            },
        )
        .await
        .unwrap();
    assert!(out.is_ok());
    for d in &signed {
        assert!(f.pullable(d).await);
    }
    // By digest: the image goes with its referrers.
    let out = f.reg.delete_image(&f.repo, &id(&signed[0], None)).await;
    assert_eq!(out.unwrap().unwrap().digest, signed[0]);
    for d in &signed {
        assert!(!f.pullable(d).await, "{d} deleted");
    }

    let child = f.image(&["child"], None).await;
    let index = f.index(&[&child], &[]).await;
    for image_id in [
        id(&child, None),
        ImageId {
            digest: None,
            tag: Some("child".into()),
        },
    ] {
        let out = f.reg.delete_image(&f.repo, &image_id).await.unwrap();
        assert_eq!(
            out.unwrap_err(),
            ImageFailure::ImageReferencedByManifestList
        );
    }
    assert!(f.pullable(&child).await);
    f.reg
        .delete_image(&f.repo, &id(&index, None))
        .await
        .unwrap()
        .unwrap();
    f.reg
        .delete_image(&f.repo, &id(&child, None))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        f.reg
            .delete_image(&f.repo, &id(&child, None))
            .await
            .unwrap()
            .unwrap_err(),
        ImageFailure::ImageNotFound
    );
}

#[tokio::test]
async fn lifecycle_expiry_and_transition_take_referrers() {
    let mut f = Fixture::new().await;
    let old = f.signed(&["old"]).await;
    let keep = f.image(&["keep"], None).await;
    let rule = |action: &str| {
        format!(
            r#"{{"rules":[{{"rulePriority":1,"selection":{{"tagStatus":"tagged","tagPrefixList":["old"],"countType":"sinceImagePushed","countUnit":"days","countNumber":1}},"action":{action}}}]}}"#
        )
    };
    f.reg
        .put_lifecycle_policy(
            &f.repo,
            &rule(r#"{"type":"transition","targetStorageClass":"archive"}"#),
        )
        .await
        .unwrap();
    // Two days on: the image is past the rule's one day (a restore restarts the count).
    let now = wharf_core::unix_now() + 2 * 86_400;
    let done = f.reg.apply_lifecycle(&f.repo, now, false).await.unwrap();
    assert_eq!((done.archived, done.referrers), (1, 2));
    for d in &old {
        assert!(f.exists(d).await, "{d} archived, still listed");
        assert!(!f.pullable(d).await, "{d} archived, not served from cache");
    }
    assert!(f.pullable(&keep).await);

    // Restored by hand (with its referrers), then expired by the next policy.
    let restored = f
        .reg
        .update_storage_class(
            &f.repo,
            &id(&old[0], None),
            wharf_core::StorageClass::Standard,
            now,
        )
        .await
        .unwrap();
    assert!(restored.is_ok());
    for d in &old {
        assert!(f.pullable(d).await, "{d} restored");
    }
    f.reg
        .put_lifecycle_policy(&f.repo, &rule(r#"{"type":"expire"}"#))
        .await
        .unwrap();
    let later = now + 2 * 86_400;
    let done = f.reg.apply_lifecycle(&f.repo, later, false).await.unwrap();
    assert_eq!((done.expired, done.referrers), (1, 2));
    for d in &old {
        assert!(!f.exists(d).await, "{d} expired");
        assert!(!f.pullable(d).await);
    }
    assert!(f.pullable(&keep).await);
}
