//! Conformance of replication state: the per-account configuration, the replicate jobs and
//! `IN_PROGRESS` rows a push writes in its transaction (only when it changed something), status
//! updates, rows going with their manifest, and none of it moving the cache epoch.

use super::repo;
use wharf_meta::{JobFilter, MetaStore, NewJob, NewManifest};
use wharf_oci::Digest;

async fn push_replicated(store: &MetaStore, name: &str, body: &[u8], tag: &str) -> (Digest, bool) {
    let config = Digest::sha256(body);
    store
        .record_blob(repo(store, name), &config, body.len() as u64, None, None)
        .await
        .unwrap();
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{config}","size":{}}},"layers":[]}}"#,
        body.len()
    );
    let digest = Digest::sha256(manifest.as_bytes());
    let job = |region: &str| NewJob::new("repl-conformance", format!("{name} {digest} {region}"));
    let outcome = store
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
            tags: vec![tag],
            frozen_tags: vec![],
            image_size: None,
            scan: None,
            jobs: vec![],
            replications: vec![
                ("eu-west-1".into(), "111111111111".into(), job("eu-west-1")),
                ("us-east-1".into(), "222222222222".into(), job("us-east-1")),
            ],
            signing: None,
        })
        .await
        .unwrap();
    (digest, outcome.inserted || outcome.tags_changed)
}

async fn queued(store: &MetaStore) -> usize {
    store
        .list_jobs(&JobFilter {
            kind: Some("repl-conformance".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .len()
}

pub async fn replication_state(store: &MetaStore) {
    let account = store.default_account().to_string();
    let name = "repl/app";
    store
        .create_repository(repo(store, name), &Default::default(), &[])
        .await
        .unwrap();
    let (digest, changed) = push_replicated(store, name, b"repl one", "v1").await;
    assert!(changed);
    assert_eq!(
        queued(store).await,
        2,
        "both replicate jobs enqueued with the push"
    );
    let rows = store
        .replication_statuses(repo(store, name), &digest)
        .await
        .unwrap();
    assert_eq!(
        rows.iter()
            .map(|r| (r.region.as_str(), r.registry_id.as_str(), r.status.as_str()))
            .collect::<Vec<_>>(),
        [
            ("eu-west-1", "111111111111", "IN_PROGRESS"),
            ("us-east-1", "222222222222", "IN_PROGRESS")
        ]
    );

    // A re-push that changes nothing enqueues nothing.
    let (_, changed) = push_replicated(store, name, b"repl one", "v1").await;
    assert!(!changed);
    assert_eq!(queued(store).await, 2);

    let before = store.cache_epoch().await.unwrap();
    assert_eq!(store.replication_config(&account).await.unwrap(), None);
    store
        .put_replication_config(&account, r#"{"rules":[]}"#)
        .await
        .unwrap();
    store
        .put_replication_config(&account, r#"{"rules":[{"destinations":[]}]}"#)
        .await
        .unwrap();
    assert_eq!(
        store.replication_config(&account).await.unwrap().as_deref(),
        Some(r#"{"rules":[{"destinations":[]}]}"#)
    );

    assert!(store
        .set_replication_status(
            repo(store, name),
            &digest,
            ("eu-west-1", "111111111111"),
            "COMPLETE",
            None
        )
        .await
        .unwrap());
    assert!(store
        .set_replication_status(
            repo(store, name),
            &digest,
            ("us-east-1", "222222222222"),
            "FAILED",
            Some("REPLICATION_NOT_ALLOWED")
        )
        .await
        .unwrap());
    let rows = store
        .replication_statuses(repo(store, name), &digest)
        .await
        .unwrap();
    assert_eq!(rows[0].status, "COMPLETE");
    assert_eq!(
        (rows[1].status.as_str(), rows[1].failure_code.as_deref()),
        ("FAILED", Some("REPLICATION_NOT_ALLOWED"))
    );
    // A status for an image that is not there records nothing.
    let absent = Digest::sha256(b"absent");
    assert!(!store
        .set_replication_status(
            repo(store, name),
            &absent,
            ("eu-west-1", "111111111111"),
            "COMPLETE",
            None
        )
        .await
        .unwrap());
    assert_eq!(
        store.cache_epoch().await.unwrap(),
        before,
        "replication state is not cached data"
    );

    // The rows go with the manifest.
    assert!(super::delete(store, repo(store, name), &digest).await);
    assert!(store
        .replication_statuses(repo(store, name), &digest)
        .await
        .unwrap()
        .is_empty());
}
