//! `MetaStore::copy_into`: a store filled through the public API is copied into a fresh one and
//! read back equal through the same API — SQLite to SQLite always, and with
//! `WHARF_TEST_POSTGRES_URL` also SQLite to PostgreSQL and back from PostgreSQL to SQLite.

use wharf_meta::{testing, MetaStore, NewManifest, RepoKey, RepoSettings};
use wharf_oci::{Digest, Reference};

/// The data key the fixture's sealed blob is sealed under.
const SEALED_DEK: &str = "0123456789abcdef0123456789abcdef";

const SECOND_ACCOUNT: &str = "222233334444";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// What the fixture stored, for the checks.
struct Fixture {
    image: Digest,
    index: Digest,
    referrer: Digest,
    archived: Digest,
    layer: Digest,
}

fn repo<'a>(account: &'a str, name: &'a str) -> RepoKey<'a> {
    RepoKey { account, name }
}

fn manifest<'a>(
    repository: RepoKey<'a>,
    digest: &'a Digest,
    body: &'a [u8],
    blobs: Vec<Digest>,
    tags: Vec<&'a str>,
) -> NewManifest<'a> {
    NewManifest {
        repository,
        digest,
        media_type: OCI_MANIFEST,
        artifact_type: None,
        subject: None,
        annotations: None,
        body,
        blobs,
        children: Vec::new(),
        tags,
        frozen_tags: Vec::new(),
        image_size: Some(1234),
        scan: None,
        jobs: vec![],
        replications: vec![],
        signing: None,
    }
}

/// Fills `store` with one of everything the copy must carry.
async fn fill(store: &MetaStore) -> Fixture {
    let account = store.default_account().to_owned();
    store
        .init_setting("token_key", "0123456789abcdef")
        .await
        .unwrap();
    assert!(store
        .create_account(SECOND_ACCOUNT, "second")
        .await
        .unwrap());

    let admin = store.create_user(&account, "admin").await.unwrap().unwrap();
    store
        .put_user_policy(
            admin.id,
            "AdministratorAccess",
            r#"{"Version":"2012-10-17"}"#,
        )
        .await
        .unwrap();
    store
        .create_access_key(admin.id, "AKIAADMIN00000000001", "admin-secret")
        .await
        .unwrap();
    store
        .create_access_key(admin.id, "AKIAADMIN00000000002", "old-secret")
        .await
        .unwrap();
    store
        .set_access_key_active("AKIAADMIN00000000002", false)
        .await
        .unwrap();
    // A deleted user leaves a gap in the ids: they must be kept as they are, not renumbered.
    let gone = store.create_user(&account, "gone").await.unwrap().unwrap();
    assert!(store.delete_user(gone.id).await.unwrap());
    let bob = store
        .create_user(SECOND_ACCOUNT, "bob")
        .await
        .unwrap()
        .unwrap();
    store
        .create_access_key(bob.id, "AKIABOB0000000000001", "bob-secret")
        .await
        .unwrap();

    store
        .put_registry_policy(&account, r#"{"Statement":[]}"#)
        .await
        .unwrap();
    store
        .put_account_setting(&account, "scanning", "ENHANCED")
        .await
        .unwrap();
    store
        .register_pull_exclusion(&account, "arn:aws:iam::123456789012:role/scanner")
        .await
        .unwrap()
        .unwrap();
    assert!(store
        .create_template(&account, "team/", r#"{"imageTagMutability":"IMMUTABLE"}"#)
        .await
        .unwrap());

    let app = repo(&account, "team/app");
    let settings = RepoSettings {
        image_tag_mutability: "IMMUTABLE_WITH_EXCLUSION".into(),
        mutability_exclusions: vec!["dev-*".into(), "latest".into()],
        scan_on_push: true,
        encryption_type: "KMS".into(),
        kms_key: Some("arn:aws:kms:us-east-1:111122223333:key/k".into()),
        public: true,
    };
    store
        .create_repository(app, &settings, &[("team".into(), "a".into())])
        .await
        .unwrap()
        .unwrap();
    store
        .set_repository_policy(app, Some(r#"{"Statement":[{"Effect":"Allow"}]}"#))
        .await
        .unwrap();
    let lifecycle = r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":5},"action":{"type":"expire"}}]}"#;
    store
        .set_lifecycle_policy(app, Some(lifecycle))
        .await
        .unwrap();
    store
        .mark_lifecycle_evaluated(app, 1_700_000_000)
        .await
        .unwrap();
    store
        .save_preview(app, lifecycle, "COMPLETE", "[]")
        .await
        .unwrap();

    let config = Digest::sha256(b"config");
    let layer = Digest::sha256(b"layer");
    store
        .record_blob(app, &config, 6, None, None)
        .await
        .unwrap();
    store.record_blob(app, &layer, 5, None, None).await.unwrap();
    // Encryption at rest: a sealed blob, its data key wrapped under two refs (bound to it), an
    // unbound wrap, and the master key versions in use.
    let sealed = Digest::sha256(b"sealed");
    store
        .insert_data_key(SEALED_DEK, "master:1", &[1, 2, 3])
        .await
        .unwrap();
    store
        .insert_data_key(
            SEALED_DEK,
            "kms:arn:aws:kms:us-east-1:1:key/k",
            &[0, 255, 7],
        )
        .await
        .unwrap();
    store
        .insert_data_key(&"e".repeat(32), "master:2", &[9; 60])
        .await
        .unwrap();
    store
        .record_blob(app, &sealed, 6, None, Some(SEALED_DEK))
        .await
        .unwrap();
    store.record_master_key(1, "fp-one").await.unwrap();
    store.record_master_key(2, "fp-two").await.unwrap();

    let image_body = br#"{"schemaVersion":2,"config":"c","layers":["l"]}"#;
    let image = Digest::sha256(image_body);
    store
        .put_manifest(manifest(
            app,
            &image,
            image_body,
            vec![config.clone(), layer.clone()],
            vec!["v1", "stable"],
        ))
        .await
        .unwrap();
    store.record_pull(app, &image, 1_700_000_100).await.unwrap();

    let index_body = format!(r#"{{"schemaVersion":2,"manifests":["{image}"]}}"#);
    let index = Digest::sha256(index_body.as_bytes());
    store
        .put_manifest(NewManifest {
            media_type: OCI_INDEX,
            children: vec![image.clone()],
            image_size: None,
            scan: None,
            jobs: vec![],
            replications: vec![],
            signing: None,
            ..manifest(
                app,
                &index,
                index_body.as_bytes(),
                Vec::new(),
                vec!["latest"],
            )
        })
        .await
        .unwrap();

    let referrer_body = format!(r#"{{"schemaVersion":2,"subject":"{image}"}}"#);
    let referrer = Digest::sha256(referrer_body.as_bytes());
    store
        .put_manifest(NewManifest {
            artifact_type: Some("application/vnd.example.signature"),
            subject: Some(&image),
            annotations: Some(r#"{"org.example":"yes"}"#.into()),
            ..manifest(
                app,
                &referrer,
                referrer_body.as_bytes(),
                vec![config.clone()],
                Vec::new(),
            )
        })
        .await
        .unwrap();

    let old_body = br#"{"schemaVersion":2,"old":true}"#;
    let archived = Digest::sha256(old_body);
    store
        .put_manifest(manifest(
            app,
            &archived,
            old_body,
            vec![layer.clone()],
            vec!["old"],
        ))
        .await
        .unwrap();
    assert!(store
        .set_image_archived(app, &archived, true, 1_700_000_200)
        .await
        .unwrap());

    // A repository of the second account sharing the layer blob.
    let other = repo(SECOND_ACCOUNT, "other/repo");
    store
        .record_blob(other, &layer, 5, None, None)
        .await
        .unwrap();
    let other_body = br#"{"schemaVersion":2,"other":true}"#;
    let other_digest = Digest::sha256(other_body);
    store
        .put_manifest(manifest(
            other,
            &other_digest,
            other_body,
            vec![layer.clone()],
            vec!["v9"],
        ))
        .await
        .unwrap();

    // An upload in progress: not migrated.
    store
        .create_upload("upload-in-progress", app, None)
        .await
        .unwrap();

    Fixture {
        image,
        index,
        referrer,
        archived,
        layer,
    }
}

/// Everything `fill` stored reads back equal from `target`.
async fn check_same(source: &MetaStore, target: &MetaStore, f: &Fixture) {
    let account = source.default_account().to_owned();
    assert_eq!(target.default_account(), account, "default account");
    assert_eq!(
        target.list_accounts().await.unwrap(),
        source.list_accounts().await.unwrap()
    );
    assert_eq!(
        target.setting("token_key").await.unwrap(),
        source.setting("token_key").await.unwrap()
    );
    let users = source.list_users(None).await.unwrap();
    assert_eq!(users.len(), 2);
    assert_eq!(target.list_users(None).await.unwrap(), users);
    for u in &users {
        assert_eq!(
            target.list_access_keys(u.id).await.unwrap(),
            source.list_access_keys(u.id).await.unwrap(),
            "keys of {}",
            u.name
        );
        assert_eq!(
            target.user_policies(u.id).await.unwrap(),
            source.user_policies(u.id).await.unwrap()
        );
    }
    let key = target
        .access_key("AKIAADMIN00000000001")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((key.secret.as_str(), key.active), ("admin-secret", true));
    assert!(
        !target
            .access_key("AKIAADMIN00000000002")
            .await
            .unwrap()
            .unwrap()
            .active
    );

    assert_eq!(
        target.registry_policy(&account).await.unwrap(),
        source.registry_policy(&account).await.unwrap()
    );
    assert_eq!(
        target.account_setting(&account, "scanning").await.unwrap(),
        Some("ENHANCED".into())
    );
    assert_eq!(
        target.templates(&account).await.unwrap(),
        source.templates(&account).await.unwrap()
    );
    let exclusions = source.pull_exclusions(&account, None, 10).await.unwrap();
    assert_eq!(exclusions.len(), 1);
    assert_eq!(
        target.pull_exclusions(&account, None, 10).await.unwrap(),
        exclusions
    );

    let app = repo(&account, "team/app");
    let other = repo(SECOND_ACCOUNT, "other/repo");
    for r in [app, other] {
        assert_eq!(
            target.repository(r).await.unwrap(),
            source.repository(r).await.unwrap()
        );
        assert_eq!(
            target.repository_tags(r).await.unwrap(),
            source.repository_tags(r).await.unwrap()
        );
        assert_eq!(
            target.repository_policy(r).await.unwrap(),
            source.repository_policy(r).await.unwrap()
        );
        assert_eq!(
            target.lifecycle_policy(r).await.unwrap(),
            source.lifecycle_policy(r).await.unwrap()
        );
        assert_eq!(
            target.preview(r).await.unwrap(),
            source.preview(r).await.unwrap()
        );
        assert_eq!(
            target.list_tags(r, None, 100).await.unwrap(),
            source.list_tags(r, None, 100).await.unwrap()
        );
        assert_eq!(
            target.images(r, None, 100).await.unwrap(),
            source.images(r, None, 100).await.unwrap()
        );
    }
    assert_eq!(
        target.list_tags(app, None, 100).await.unwrap(),
        ["latest", "old", "stable", "v1"]
    );
    assert_eq!(
        target.list_repositories(&account, None, 100).await.unwrap(),
        ["team/app"]
    );

    for reference in [
        Reference::Tag("v1".parse().unwrap()),
        Reference::Tag("latest".parse().unwrap()),
        Reference::Digest(f.image.clone()),
        Reference::Digest(f.index.clone()),
        Reference::Digest(f.referrer.clone()),
    ] {
        let want = source.get_manifest(app, &reference).await.unwrap().unwrap();
        let got = target.get_manifest(app, &reference).await.unwrap().unwrap();
        assert_eq!(
            (got.digest, got.media_type, got.body),
            (want.digest, want.media_type, want.body),
            "{reference:?}"
        );
    }
    // Archived images stay archived (listed, not served).
    assert!(target
        .get_manifest(app, &Reference::Digest(f.archived.clone()))
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        target
            .image(app, &f.archived)
            .await
            .unwrap()
            .unwrap()
            .status,
        "ARCHIVED"
    );

    let referrers = target.referrers(app, &f.image).await.unwrap();
    assert_eq!(referrers.len(), 1);
    let r = &referrers[0];
    assert_eq!(r.digest, f.referrer);
    assert_eq!(
        r.artifact_type.as_deref(),
        Some("application/vnd.example.signature")
    );
    assert_eq!(r.annotations.as_deref(), Some(r#"{"org.example":"yes"}"#));
    assert_eq!(
        r.size,
        source.referrers(app, &f.image).await.unwrap()[0].size
    );

    assert_eq!(
        target.repository_blob(app, &f.layer).await.unwrap(),
        Some(5)
    );
    assert_eq!(
        target.repository_blob(other, &f.layer).await.unwrap(),
        Some(5)
    );
    assert_eq!(
        target.blob_digests(None, 100).await.unwrap(),
        source.blob_digests(None, 100).await.unwrap()
    );
    assert!(target.upload("upload-in-progress").await.unwrap().is_none());
    let sealed = Digest::sha256(b"sealed");
    assert_eq!(target.blob_sealed(&sealed).await.unwrap(), Some(true));
    assert_eq!(target.blob_sealed(&f.layer).await.unwrap(), Some(false));
    let keys = target.data_keys(SEALED_DEK).await.unwrap();
    assert_eq!(keys, source.data_keys(SEALED_DEK).await.unwrap());
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0].wrapped, vec![0, 255, 7], "bytes survive the copy");
    assert!(keys.iter().all(|k| k.digest == Some(sealed.to_string())));
    assert_eq!(
        target.data_keys_page("", None, 100).await.unwrap(),
        source.data_keys_page("", None, 100).await.unwrap()
    );
    assert_eq!(
        target.master_keys().await.unwrap(),
        vec![(1, "fp-one".to_string()), (2, "fp-two".to_string())]
    );
    assert_eq!(
        target.table_counts().await.unwrap(),
        source.table_counts().await.unwrap()
    );
}

/// Copies `source` into `target` (freshly opened), reopens the target with `reopen` and checks it.
async fn copy_and_check<F, Fut>(source: &MetaStore, target: MetaStore, f: &Fixture, reopen: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = MetaStore>,
{
    let report = source.copy_into(&target).await.expect("copy");
    let counts = source.table_counts().await.unwrap();
    assert_eq!(report.tables, counts, "the report counts every copied row");
    assert_eq!(report.rows("users"), 2);
    assert_eq!(report.rows("manifests"), 5);
    assert_eq!(report.rows("uploads"), 0, "uploads are not migrated");
    target.close().await;

    let target = reopen().await;
    check_same(source, &target, f).await;

    // Copying again is refused: the target is not empty any more, and nothing changes.
    let err = source
        .copy_into(&target)
        .await
        .expect_err("a second copy is refused");
    assert!(err.to_string().contains("not empty"), "{err}");
    assert_eq!(target.table_counts().await.unwrap(), counts);

    // New rows get ids past the copied ones (PostgreSQL's identity sequences were moved).
    let max_user = source
        .list_users(None)
        .await
        .unwrap()
        .iter()
        .map(|u| u.id)
        .max()
        .unwrap();
    let account = target.default_account().to_owned();
    let new = target.create_user(&account, "new").await.unwrap().unwrap();
    assert!(new.id > max_user, "{} > {max_user}", new.id);
    let created = target
        .create_repository(repo(&account, "fresh"), &RepoSettings::default(), &[])
        .await
        .unwrap()
        .unwrap();
    let old = source
        .repository(repo(&account, "team/app"))
        .await
        .unwrap()
        .unwrap();
    assert_ne!(created.id, old.id);
    target.close().await;
}

#[tokio::test]
async fn sqlite_to_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let source = MetaStore::open_sqlite(&dir.path().join("source.db"))
        .await
        .unwrap();
    let fixture = fill(&source).await;
    let target_path = dir.path().join("target.db");
    let target = MetaStore::open_sqlite(&target_path).await.unwrap();
    assert_ne!(target.default_account(), source.default_account());
    copy_and_check(&source, target, &fixture, || async {
        MetaStore::open_sqlite(&target_path).await.unwrap()
    })
    .await;
    source.close().await;
}

#[tokio::test]
async fn refuses_a_target_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let source = MetaStore::open_sqlite(&dir.path().join("source.db"))
        .await
        .unwrap();
    fill(&source).await;
    let target = MetaStore::open_sqlite(&dir.path().join("target.db"))
        .await
        .unwrap();
    let account = target.default_account().to_owned();
    target
        .create_user(&account, "admin")
        .await
        .unwrap()
        .unwrap();
    let before = target.table_counts().await.unwrap();
    let err = source.copy_into(&target).await.expect_err("refused");
    assert!(
        err.to_string().contains("not empty") && err.to_string().contains("users"),
        "{err}"
    );
    assert_eq!(
        target.table_counts().await.unwrap(),
        before,
        "nothing written"
    );
    assert_eq!(
        target.setting("default_account").await.unwrap().as_deref(),
        Some(account.as_str()),
        "the target keeps its own account"
    );

    // A template alone (no user, repository or blob) is also data the copy would lose.
    let other = MetaStore::open_sqlite(&dir.path().join("other.db"))
        .await
        .unwrap();
    let account = other.default_account().to_owned();
    other.create_template(&account, "x/", "{}").await.unwrap();
    let err = source.copy_into(&other).await.expect_err("refused");
    assert!(err.to_string().contains("creation_templates"), "{err}");
}

#[tokio::test]
async fn sqlite_to_postgres_and_back() {
    let Some(base) = testing::postgres_url() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let source = MetaStore::open_sqlite(&dir.path().join("source.db"))
        .await
        .unwrap();
    let fixture = fill(&source).await;

    let url = testing::with_database(&base, &testing::create_database(&base).await.unwrap());
    let pg = MetaStore::open_postgres(&url).await.unwrap();
    copy_and_check(&source, pg, &fixture, || async {
        MetaStore::open_postgres(&url).await.unwrap()
    })
    .await;

    // And out of PostgreSQL again: the copy reads PostgreSQL's types as well as it writes them.
    // (copy_and_check added a user and a repository to the PostgreSQL store.)
    let pg = MetaStore::open_postgres(&url).await.unwrap();
    let back_path = dir.path().join("back.db");
    let back = MetaStore::open_sqlite(&back_path).await.unwrap();
    let report = pg.copy_into(&back).await.unwrap();
    back.close().await;
    let back = MetaStore::open_sqlite(&back_path).await.unwrap();
    assert_eq!(report.tables, pg.table_counts().await.unwrap());
    assert_eq!(
        back.table_counts().await.unwrap(),
        pg.table_counts().await.unwrap()
    );
    assert_eq!(back.default_account(), source.default_account());
    assert_eq!(
        back.list_users(None).await.unwrap(),
        pg.list_users(None).await.unwrap()
    );
    let app = repo(source.default_account(), "team/app");
    assert_eq!(
        back.images(app, None, 100).await.unwrap(),
        source.images(app, None, 100).await.unwrap()
    );
    let got = back
        .get_manifest(app, &Reference::Digest(fixture.index.clone()))
        .await
        .unwrap()
        .unwrap();
    let want = source
        .get_manifest(app, &Reference::Digest(fixture.index.clone()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.body, want.body);
    pg.close().await;
    back.close().await;
    source.close().await;
}

/// A scan still `IN_PROGRESS` in the source gets an `image_scan` job in the target (its own job
/// stays behind with the source's queue); a finished scan gets none.
async fn copy_requeues_in_progress_scans(target: &MetaStore) {
    let dir = tempfile::tempdir().unwrap();
    let source = MetaStore::open_sqlite(&dir.path().join("scans.db"))
        .await
        .unwrap();
    let account = source.default_account().to_owned();
    let app = repo(&account, "team/scanned");
    let pending_body = br#"{"schemaVersion":2,"scan":"pending"}"#;
    let pending = Digest::sha256(pending_body);
    let done_body = br#"{"schemaVersion":2,"scan":"done"}"#;
    let done = Digest::sha256(done_body);
    for (digest, body) in [(&pending, &pending_body[..]), (&done, &done_body[..])] {
        source
            .put_manifest(NewManifest {
                scan: Some("ENHANCED"),
                ..manifest(app, digest, body, Vec::new(), Vec::new())
            })
            .await
            .unwrap();
    }
    source
        .store_scan(
            app,
            &done,
            &wharf_meta::ScanResult {
                status: "COMPLETE",
                scan_type: "ENHANCED",
                ..wharf_meta::ScanResult::default()
            },
        )
        .await
        .unwrap();
    let report = source.copy_into(target).await.unwrap();
    assert_eq!(report.rows("image_scans"), 2);
    assert_eq!(report.requeued_scans, 1);
    let jobs = target.claim("test", None, 60, 10).await.unwrap();
    let got: Vec<(&str, &str, Option<&str>)> = jobs
        .iter()
        .map(|j| (j.kind.as_str(), j.payload.as_str(), j.dedupe_key.as_deref()))
        .collect();
    let payload = format!(
        r#"{{"kind":"image_scan","account":"{account}","repository":"team/scanned","digest":"{pending}"}}"#
    );
    let dedupe = format!("image_scan:{account}/team/scanned@{pending}");
    assert_eq!(
        got,
        [("image_scan", payload.as_str(), Some(dedupe.as_str()))]
    );
    let scan = target.image_scan(app, &pending).await.unwrap().unwrap();
    assert_eq!(scan.status, "IN_PROGRESS");
    source.close().await;
}

#[tokio::test]
async fn in_progress_scans_are_requeued_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let target = MetaStore::open_sqlite(&dir.path().join("target.db"))
        .await
        .unwrap();
    copy_requeues_in_progress_scans(&target).await;
    target.close().await;
}

#[tokio::test]
async fn in_progress_scans_are_requeued_postgres() {
    let Some(base) = testing::postgres_url() else {
        return;
    };
    let url = testing::with_database(&base, &testing::create_database(&base).await.unwrap());
    let target = MetaStore::open_postgres(&url).await.unwrap();
    copy_requeues_in_progress_scans(&target).await;
    target.close().await;
}
