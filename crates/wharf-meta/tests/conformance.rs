//! One metadata conformance suite for both backends: SQLite always, PostgreSQL when
//! `WHARF_TEST_POSTGRES_URL` names a server (`WHARF_TEST_POSTGRES_REQUIRED=1` makes its absence a
//! failure). Besides single-store behaviour it opens two stores on one database, as two nodes do,
//! and races them where the database must arbitrate: first start, repository creation, immutable
//! tags, job claims, the job queue's claims, an index pushed while its child is deleted, the
//! write-lock scopes and pushes into many repositories beside collection; and on PostgreSQL, the
//! cache epoch every cached-data write moves.

use wharf_meta::{
    testing, JobCount, JobFilter, JobState, MetaError, MetaStore, NewJob, NewManifest, RemoveMode,
    RemoveOutcome, RepoKey, RepoSettings,
};
use wharf_oci::{Digest, Reference};

/// Where a backend's database lives: a SQLite file, or a fresh PostgreSQL database.
enum Db {
    Sqlite(tempfile::TempDir),
    Postgres(String),
}

impl Db {
    async fn open(&self) -> MetaStore {
        match self {
            Db::Sqlite(dir) => MetaStore::open_sqlite(&dir.path().join("meta.db"))
                .await
                .unwrap(),
            Db::Postgres(url) => MetaStore::open_postgres(url).await.unwrap(),
        }
    }
}

/// A fresh database per backend available.
async fn backends() -> Vec<Db> {
    let mut dbs = vec![Db::Sqlite(tempfile::tempdir().unwrap())];
    match testing::postgres_url() {
        Some(base) => {
            let name = testing::create_database(&base).await.unwrap();
            dbs.push(Db::Postgres(testing::with_database(&base, &name)));
        }
        None if std::env::var("WHARF_TEST_POSTGRES_REQUIRED").as_deref() == Ok("1") => {
            panic!("WHARF_TEST_POSTGRES_REQUIRED=1 but WHARF_TEST_POSTGRES_URL is not set")
        }
        None => eprintln!("PostgreSQL not configured: metadata conformance runs on SQLite only"),
    }
    dbs
}

pub(crate) fn repo<'a>(store: &'a MetaStore, name: &'a str) -> RepoKey<'a> {
    RepoKey {
        account: store.default_account(),
        name,
    }
}

/// Stores a config-only image whose bytes are `body`, under `tags`.
pub(crate) async fn push(
    store: &MetaStore,
    name: &str,
    body: &[u8],
    tags: &[&str],
    frozen: bool,
) -> Result<Digest, MetaError> {
    let config = Digest::sha256(body);
    store
        .record_blob(repo(store, name), &config, body.len() as u64, None, None)
        .await?;
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{config}","size":{}}},"layers":[]}}"#,
        body.len()
    );
    let digest = Digest::sha256(manifest.as_bytes());
    store
        .put_manifest(NewManifest {
            repository: repo(store, name),
            digest: &digest,
            media_type: "application/vnd.oci.image.manifest.v1+json",
            artifact_type: None,
            subject: None,
            annotations: None,
            body: manifest.as_bytes(),
            blobs: vec![config],
            children: vec![],
            tags: tags.to_vec(),
            frozen_tags: if frozen { tags.to_vec() } else { vec![] },
            image_size: None,
            scan: None,
            jobs: vec![],
            replications: vec![],
            signing: None,
        })
        .await?;
    Ok(digest)
}

/// Deletes an image (with its referrers); whether it existed.
pub(crate) async fn delete(store: &MetaStore, repo: RepoKey<'_>, digest: &Digest) -> bool {
    match store
        .remove_image(repo, digest, RemoveMode::Delete)
        .await
        .unwrap()
    {
        RemoveOutcome::Removed { .. } => true,
        RemoveOutcome::NotFound => false,
        other => panic!("deleting {digest}: {other:?}"),
    }
}

#[path = "conformance/scanning.rs"]
mod scanning;

#[path = "conformance/queue.rs"]
mod queue;

#[path = "conformance/audit.rs"]
mod audit;
#[path = "conformance/crypt.rs"]
mod crypt;
#[path = "conformance/ecr_records.rs"]
mod ecr_records;
#[path = "conformance/public_records.rs"]
mod public_records;
#[path = "conformance/removal.rs"]
mod removal;
#[path = "conformance/replication.rs"]
mod replication;
#[path = "conformance/signing.rs"]
mod signing;
#[path = "conformance/write_locks.rs"]
mod write_locks;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn metadata_conformance() {
    for db in backends().await {
        let a = db.open().await;
        let kind = a.dialect();
        eprintln!("metadata conformance on {kind:?}");
        schema_is_current(&a).await;
        round_trip_across_nodes(&a, &db.open().await).await;
        tags_page_in_byte_order(&a).await;
        racing_repository_creation(&a, &db.open().await).await;
        racing_immutable_tags(&a, &db.open().await).await;
        jobs_run_once_per_interval(&a, &db.open().await).await;
        cache_epoch_follows_cached_data(&a).await;
        concurrent_writers_do_not_deadlock(&a, &db.open().await).await;
        scanning::registry_scanning_configuration(&a).await;
        scanning::scan_results(&a).await;
        scanning::vulnerability_database(&a).await;
        scanning::continuous_rescan_candidates(&a).await;
        scanning::pending_rescan_keys(&a).await;
        queue::queue_enqueue_claim_complete(&a).await;
        queue::queue_concurrent_claims_are_disjoint(&a, &db.open().await).await;
        queue::queue_lease_expiry_reclaims(&a, &db.open().await).await;
        queue::queue_backoff_and_dead_letters(&a).await;
        queue::queue_dedupe(&a, &db.open().await).await;
        queue::queue_enqueue_with_push(&a).await;
        queue::queue_claims_beside_pushes(&a, &db.open().await).await;
        queue::queue_counts_and_pruning(&a).await;
        crypt::data_key_wraps(&a).await;
        crypt::data_keys_paging(&a).await;
        crypt::data_key_rewrap(&a).await;
        crypt::master_keys(&a).await;
        crypt::sealed_blob_records(&a).await;
        crypt::unsealed_blob_walk(&a).await;
        crypt::blob_encryption_settings(&a).await;
        crypt::prune_data_keys(&a).await;
        ecr_records::pull_time_update_exclusions(&a).await;
        ecr_records::layer_part_sizes(&a).await;
        replication::replication_state(&a).await;
        signing::signing_state(&a).await;
        ecr_records::manifest_referencing_a_blob(&a).await;
        audit::audit_trail(&a).await;
        removal::delete_takes_the_referrer_closure(&a).await;
        removal::index_children_are_refused(&a).await;
        removal::unknown_images(&a).await;
        removal::archive_and_restore_with_referrers(&a).await;
        removal::write_tx_spans_calls(&a).await;
        removal::index_push_races_child_delete(&a, &db.open().await).await;
        write_locks::scopes_exclude_what_they_share(&a, &db.open().await).await;
        write_locks::pushes_beside_collection_keep_references(&a, &db.open().await).await;
        public_records::public_registries_and_catalog_data(&a).await;
        if let Db::Postgres(url) = &db {
            nodes_starting_together_share_one_default_account(url).await;
        }
    }
}

async fn schema_is_current(store: &MetaStore) {
    let (at, latest) = store.schema_version().await.unwrap();
    assert_eq!(
        at,
        latest,
        "{:?} schema is current after open",
        store.dialect()
    );
    assert!(latest >= 1);
}

/// What one node writes, another reads at once; deletes show everywhere too.
async fn round_trip_across_nodes(a: &MetaStore, b: &MetaStore) {
    assert_eq!(a.default_account(), b.default_account());
    let d = push(a, "shared/app", b"one", &["v1"], false).await.unwrap();
    let got = b
        .get_manifest(
            repo(b, "shared/app"),
            &Reference::Tag("v1".parse().unwrap()),
        )
        .await
        .unwrap()
        .expect("pushed through a, visible through b");
    assert_eq!(got.digest, d);
    assert!(b
        .list_repositories(b.default_account(), None, 100)
        .await
        .unwrap()
        .contains(&"shared/app".to_string()));
    assert!(delete(b, repo(b, "shared/app"), &d).await);
    assert!(a
        .get_manifest(repo(a, "shared/app"), &Reference::Digest(d))
        .await
        .unwrap()
        .is_none());
}

/// Tags page in byte order (uppercase before lowercase), whatever the database's locale.
async fn tags_page_in_byte_order(store: &MetaStore) {
    let tags = ["b", "B", "a", "A", "_x", "1.0", "a-1", "a.1"];
    push(store, "order/app", b"order", &tags, false)
        .await
        .unwrap();
    let mut expected: Vec<String> = tags.iter().map(|t| t.to_string()).collect();
    expected.sort();
    let all = store
        .list_tags(repo(store, "order/app"), None, 100)
        .await
        .unwrap();
    assert_eq!(all, expected);
    let first = store
        .list_tags_json(repo(store, "order/app"), None, 3)
        .await
        .unwrap();
    let names: Vec<String> = serde_json::from_str(&first.json).unwrap();
    assert_eq!(names, expected[..3]);
    assert!(first.more);
    let rest = store
        .list_tags(repo(store, "order/app"), first.last.as_deref(), 100)
        .await
        .unwrap();
    assert_eq!(rest, expected[3..]);
}

/// Two nodes creating one repository at once: exactly one creates it.
async fn racing_repository_creation(a: &MetaStore, b: &MetaStore) {
    for round in 0..10 {
        let name = format!("race/repo{round}");
        let settings = RepoSettings::default();
        let (ra, rb) = tokio::join!(
            a.create_repository(repo(a, &name), &settings, &[]),
            b.create_repository(repo(b, &name), &settings, &[])
        );
        let created = [ra.unwrap(), rb.unwrap()];
        assert_eq!(created.iter().filter(|r| r.is_some()).count(), 1, "{name}");
    }
}

/// Two nodes pushing different images under one immutable tag at once: exactly one wins, the
/// other is refused, and the tag names the winner.
async fn racing_immutable_tags(a: &MetaStore, b: &MetaStore) {
    for round in 0..10 {
        let name = format!("race/frozen{round}");
        let (body_a, body_b) = (format!("a{round}"), format!("b{round}"));
        let (ra, rb) = tokio::join!(
            push(a, &name, body_a.as_bytes(), &["release"], true),
            push(b, &name, body_b.as_bytes(), &["release"], true)
        );
        let (winner, loser) = match (ra, rb) {
            (Ok(d), Err(e)) | (Err(e), Ok(d)) => (d, e),
            other => panic!("exactly one push must win: {other:?}"),
        };
        assert!(
            matches!(loser, MetaError::TagImmutable(ref t) if t == "release"),
            "{loser:?}"
        );
        let tagged = a
            .get_manifest(repo(a, &name), &Reference::Tag("release".parse().unwrap()))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(tagged.digest, winner);
    }
}

/// Nodes ticking together claim a job once per interval.
async fn jobs_run_once_per_interval(a: &MetaStore, b: &MetaStore) {
    let t = 1_900_000_000;
    let (ca, cb) = tokio::join!(
        a.claim_job_at("gc", "node-a", 3600, t),
        b.claim_job_at("gc", "node-b", 3600, t)
    );
    assert!(ca.unwrap() ^ cb.unwrap(), "exactly one node claims the job");
    assert!(!a
        .claim_job_at("gc", "node-a", 3600, t + 1800)
        .await
        .unwrap());
    assert!(!b
        .claim_job_at("gc", "node-b", 3600, t + 3598)
        .await
        .unwrap());
    // A tick a second early still claims: timers on two nodes drift.
    assert!(b
        .claim_job_at("gc", "node-b", 3600, t + 3599)
        .await
        .unwrap());
    assert_eq!(
        a.job_last_run("gc").await.unwrap(),
        Some((t + 3599, "node-b".to_string()))
    );
    // Short intervals get no slack: two nodes a second apart do not both run a 2 s job.
    assert!(a.claim_job_at("purge", "node-a", 2, t).await.unwrap());
    assert!(!b.claim_job_at("purge", "node-b", 2, t + 1).await.unwrap());
    assert!(b.claim_job_at("purge", "node-b", 2, t + 2).await.unwrap());
    // Another job has its own schedule.
    assert!(a
        .claim_job_at("lifecycle", "node-a", 3600, t + 3599)
        .await
        .unwrap());
}

/// Several nodes starting on an empty database migrate once and agree on the default account.
async fn nodes_starting_together_share_one_default_account(url: &str) {
    let base = url.to_string();
    let name = testing::create_database(&base).await.unwrap();
    let fresh = testing::with_database(&base, &name);
    let (s1, s2, s3, s4) = tokio::join!(
        MetaStore::open_postgres(&fresh),
        MetaStore::open_postgres(&fresh),
        MetaStore::open_postgres(&fresh),
        MetaStore::open_postgres(&fresh)
    );
    let stores = [s1.unwrap(), s2.unwrap(), s3.unwrap(), s4.unwrap()];
    let first = stores[0].default_account().to_string();
    assert!(stores.iter().all(|s| s.default_account() == first));
    assert_eq!(first.len(), 12);
}

/// PostgreSQL's cache epoch moves with every committed change to what nodes cache (tags,
/// manifests and their status, repositories, repository tags, policies, users), and not with
/// writes that change nothing cached: bookkeeping (pull times, lifecycle evaluation times, blobs)
/// or statements that change no row. SQLite has none.
async fn cache_epoch_follows_cached_data(store: &MetaStore) {
    if store.dialect() == wharf_meta::Dialect::Sqlite {
        assert_eq!(store.cache_epoch().await.unwrap(), None);
        return;
    }
    let epoch = || async { store.cache_epoch().await.unwrap().expect("an epoch") };
    let account = store.default_account().to_string();
    let name = "epoch/app";
    let r = || repo(store, name);
    let policy = r#"{"Version":"2012-10-17","Statement":[]}"#;
    let mut last = epoch().await;
    let mut moved = |what: &str, now: i64| {
        assert!(now > last, "{what} moves the cache epoch ({last} -> {now})");
        last = now;
    };
    store
        .create_repository(r(), &RepoSettings::default(), &[])
        .await
        .unwrap();
    moved("creating a repository", epoch().await);
    let d = push(store, name, b"epoch one", &["v1"], false)
        .await
        .unwrap();
    moved("pushing a tagged manifest", epoch().await);
    push(store, name, b"epoch two", &["v1"], false)
        .await
        .unwrap();
    moved("moving a tag to another manifest", epoch().await);
    push(store, name, b"epoch one", &["v1"], false)
        .await
        .unwrap();
    moved("moving it back", epoch().await);
    store.delete_tag(r(), "v1").await.unwrap();
    moved("deleting a tag", epoch().await);
    store
        .set_repository_policy(r(), Some(policy))
        .await
        .unwrap();
    moved("setting a repository policy", epoch().await);
    store
        .tag_repository(r(), &[("team".into(), "a".into())], 50)
        .await
        .unwrap();
    moved("tagging the repository", epoch().await);
    store.untag_repository(r(), &["team".into()]).await.unwrap();
    moved("untagging the repository", epoch().await);
    store.put_registry_policy(&account, policy).await.unwrap();
    moved("setting the registry policy", epoch().await);
    store.delete_registry_policy(&account).await.unwrap();
    moved("deleting the registry policy", epoch().await);
    let user = store
        .create_user(&account, "epoch-user")
        .await
        .unwrap()
        .unwrap();
    moved("creating a user", epoch().await);
    store.put_user_policy(user.id, "p", policy).await.unwrap();
    moved("attaching an identity policy", epoch().await);
    store.delete_user_policy(user.id, "p").await.unwrap();
    moved("detaching an identity policy", epoch().await);
    store
        .create_access_key(user.id, "AKIAEPOCHTEST0000001", "secret")
        .await
        .unwrap();
    moved("creating an access key", epoch().await);
    store
        .set_access_key_active("AKIAEPOCHTEST0000001", false)
        .await
        .unwrap();
    moved("deactivating an access key", epoch().await);
    store
        .delete_access_key("AKIAEPOCHTEST0000001")
        .await
        .unwrap();
    moved("deleting an access key", epoch().await);
    store.delete_user(user.id).await.unwrap();
    moved("deleting a user", epoch().await);
    assert!(store.set_image_archived(r(), &d, true, 1).await.unwrap());
    moved("archiving an image", epoch().await);

    // Writes that change nothing cached leave it alone.
    let still = epoch().await;
    store.record_pull(r(), &d, 2).await.unwrap();
    assert_eq!(epoch().await, still, "recording a pull");
    store.mark_lifecycle_evaluated(r(), 3).await.unwrap();
    assert_eq!(epoch().await, still, "recording a lifecycle evaluation");
    store
        .record_blob(r(), &Digest::sha256(b"a loose blob"), 12, None, None)
        .await
        .unwrap();
    assert_eq!(epoch().await, still, "recording a blob");
    assert!(!store.delete_tag(r(), "no-such-tag").await.unwrap());
    assert_eq!(epoch().await, still, "deleting a tag that does not exist");
    store.set_image_archived(r(), &d, true, 4).await.unwrap();
    assert_eq!(epoch().await, still, "archiving an archived image");
    store.set_image_archived(r(), &d, false, 5).await.unwrap();
    moved("restoring the image", epoch().await);
    push(store, name, b"epoch one", &["v1"], false)
        .await
        .unwrap();
    moved("tagging it again", epoch().await);
    let still = epoch().await;
    push(store, name, b"epoch one", &["v1"], false)
        .await
        .unwrap();
    assert_eq!(
        epoch().await,
        still,
        "pushing the same manifest under the same tag again"
    );

    assert!(delete(store, r(), &d).await);
    moved("deleting a manifest", epoch().await);
    assert!(store.delete_repository(r(), true).await.unwrap());
    moved("deleting a repository", epoch().await);
}

/// Writers that lock rows in different orders, on two stores: pushes (a transaction under the
/// repository's write lock) against single-statement tag deletes, archives and pull records. The
/// cache-epoch triggers bump the epoch at commit, after every other row, so none of this
/// deadlocks.
async fn concurrent_writers_do_not_deadlock(a: &MetaStore, b: &MetaStore) {
    let name = "race/deadlock";
    push(a, name, b"race base", &["t"], false).await.unwrap();
    let pushes = {
        let a = a.clone();
        tokio::spawn(async move {
            for i in 0..60 {
                push(
                    &a,
                    name,
                    format!("race {}", i % 3).as_bytes(),
                    &["t", "u"],
                    false,
                )
                .await
                .expect("push");
            }
        })
    };
    let others = {
        let b = b.clone();
        tokio::spawn(async move {
            let d = Digest::sha256(b"never pushed");
            for i in 0..60 {
                let r = repo(&b, name);
                b.delete_tag(r, if i % 2 == 0 { "t" } else { "u" })
                    .await
                    .expect("delete tag");
                b.set_image_archived(r, &d, i % 2 == 0, i)
                    .await
                    .expect("archive");
                b.record_pull(r, &d, i).await.expect("record pull");
            }
        })
    };
    pushes.await.unwrap();
    others.await.unwrap();
}
