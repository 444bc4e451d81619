//! Conformance of the scanning tables: registry scanning configuration, image scan results (and
//! their lifetime with the image), the vulnerability database and the join continuous scanning
//! runs after an import. None of these writes moves the cache epoch on PostgreSQL.

use super::{push, repo};
use wharf_meta::{MetaStore, NewAdvisory, ScanResult, UpsertCounts};

async fn epoch(store: &MetaStore) -> Option<i64> {
    store.cache_epoch().await.unwrap()
}

fn advisory(id: &str, modified: &str, keys: &[(&str, &str)]) -> NewAdvisory {
    NewAdvisory {
        id: id.into(),
        modified: modified.into(),
        document: format!(r#"{{"id":"{id}","modified":"{modified}"}}"#),
        keys: keys
            .iter()
            .map(|(e, n)| (e.to_string(), n.to_string()))
            .collect(),
    }
}

fn keys(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(e, n)| (e.to_string(), n.to_string()))
        .collect()
}

pub async fn registry_scanning_configuration(store: &MetaStore) {
    let account = store.default_account().to_string();
    let before = epoch(store).await;
    assert_eq!(store.registry_scanning(&account).await.unwrap(), None);
    store
        .put_registry_scanning(&account, "ENHANCED", r#"[{"a":1}]"#)
        .await
        .unwrap();
    store
        .put_registry_scanning(&account, "BASIC", "[]")
        .await
        .unwrap();
    assert_eq!(
        store.registry_scanning(&account).await.unwrap(),
        Some(("BASIC".to_string(), "[]".to_string()))
    );
    assert_eq!(
        epoch(store).await,
        before,
        "scanning configuration is not cached"
    );
}

pub async fn scan_results(store: &MetaStore) {
    let name = "scan/results";
    let d = push(store, name, b"scan results", &["v1"], false)
        .await
        .unwrap();
    let other = push(store, name, b"scan results other", &[], false)
        .await
        .unwrap();
    let before = epoch(store).await;
    assert_eq!(store.image_scan(repo(store, name), &d).await.unwrap(), None);
    let missing = wharf_oci::Digest::sha256(b"not pushed");
    assert!(!store
        .mark_scan(
            repo(store, name),
            &missing,
            "IN_PROGRESS",
            "BASIC",
            100,
            false
        )
        .await
        .unwrap());
    assert!(store
        .mark_scan(repo(store, name), &d, "IN_PROGRESS", "BASIC", 100, false)
        .await
        .unwrap());
    assert!(store
        .mark_scan(repo(store, name), &d, "IN_PROGRESS", "BASIC", 105, true)
        .await
        .unwrap());
    let queued = store
        .image_scan(repo(store, name), &d)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            queued.status.as_str(),
            queued.requested_at,
            queued.started_at
        ),
        ("IN_PROGRESS", 100, Some(105))
    );
    let k = keys(&[
        ("PyPI", "django"),
        ("Debian:12", "openssl"),
        ("PyPI", "django"),
    ]);
    assert!(store
        .store_scan(
            repo(store, name),
            &d,
            &ScanResult {
                status: "COMPLETE",
                description: Some("The scan was completed successfully."),
                scan_type: "BASIC",
                started_at: Some(105),
                completed_at: Some(110),
                source_updated_at: Some(90),
                inventory: Some(r#"{"packages":[]}"#),
                findings: Some("[1,2]"),
                severity_counts: Some(r#"{"HIGH":2}"#),
                finding_count: 2,
                keys: &k,
            },
        )
        .await
        .unwrap());
    let done = store
        .image_scan(repo(store, name), &d)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.status, "COMPLETE");
    assert_eq!(done.requested_at, 100);
    assert_eq!(done.completed_at, Some(110));
    assert_eq!(done.source_updated_at, Some(90));
    assert_eq!(done.inventory.as_deref(), Some(r#"{"packages":[]}"#));
    assert_eq!(done.findings.as_deref(), Some("[1,2]"));
    assert_eq!(done.severity_counts.as_deref(), Some(r#"{"HIGH":2}"#));
    assert_eq!(done.finding_count, 2);
    // A new request keeps the stored result until the next one lands.
    store
        .mark_scan(repo(store, name), &d, "IN_PROGRESS", "BASIC", 120, false)
        .await
        .unwrap();
    let again = store
        .image_scan(repo(store, name), &d)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            again.status.as_str(),
            again.description,
            again.findings.as_deref()
        ),
        ("IN_PROGRESS", None, Some("[1,2]"))
    );
    let summaries = store
        .scan_summaries(
            repo(store, name),
            &[d.clone(), other.clone(), missing.clone()],
        )
        .await
        .unwrap();
    assert_eq!(summaries.len(), 1);
    assert_eq!(summaries[0].digest, d);
    assert_eq!(summaries[0].inventory, None, "summaries carry no inventory");
    assert_eq!(summaries[0].finding_count, 2);
    assert_eq!(epoch(store).await, before, "scan results are not cached");

    // A push that scans records IN_PROGRESS in its own transaction; a re-push does not reset it.
    let body = b"scan on push";
    let config = wharf_oci::Digest::sha256(body);
    store
        .record_blob(repo(store, name), &config, body.len() as u64, None, None)
        .await
        .unwrap();
    let manifest = format!(
        r#"{{"schemaVersion":2,"config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{config}","size":{}}},"layers":[]}}"#,
        body.len()
    );
    let pushed = wharf_oci::Digest::sha256(manifest.as_bytes());
    let new_manifest = || wharf_meta::NewManifest {
        repository: repo(store, name),
        digest: &pushed,
        media_type: "application/vnd.oci.image.manifest.v1+json",
        artifact_type: None,
        subject: None,
        annotations: None,
        body: manifest.as_bytes(),
        blobs: vec![config.clone()],
        children: vec![],
        tags: vec![],
        frozen_tags: vec![],
        image_size: Some(0),
        scan: Some("ENHANCED"),
        jobs: vec![],
        replications: vec![],
        signing: None,
    };
    store.put_manifest(new_manifest()).await.unwrap();
    let on_push = store
        .image_scan(repo(store, name), &pushed)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (on_push.status.as_str(), on_push.scan_type.as_str()),
        ("IN_PROGRESS", "ENHANCED")
    );
    store
        .store_scan(
            repo(store, name),
            &pushed,
            &ScanResult {
                status: "FAILED",
                description: Some("layer 0: bad"),
                scan_type: "ENHANCED",
                ..ScanResult::default()
            },
        )
        .await
        .unwrap();
    store.put_manifest(new_manifest()).await.unwrap();
    let repushed = store
        .image_scan(repo(store, name), &pushed)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (repushed.status.as_str(), repushed.description.as_deref()),
        ("FAILED", Some("layer 0: bad"))
    );

    // Results go with their image.
    assert!(super::delete(store, repo(store, name), &d).await);
    assert_eq!(store.image_scan(repo(store, name), &d).await.unwrap(), None);
    assert!(!store
        .store_scan(
            repo(store, name),
            &d,
            &ScanResult {
                status: "COMPLETE",
                scan_type: "BASIC",
                ..ScanResult::default()
            },
        )
        .await
        .unwrap());
    assert!(store
        .delete_repository(repo(store, name), true)
        .await
        .unwrap());
    assert_eq!(
        store.image_scan(repo(store, name), &pushed).await.unwrap(),
        None
    );
}

pub async fn vulnerability_database(store: &MetaStore) {
    let before = epoch(store).await;
    let empty = store.vulndb_counts().await.unwrap();
    assert_eq!(
        (empty.advisories, empty.keys, empty.updated_at),
        (0, 0, None)
    );
    let first = vec![
        advisory("OSV-1", "2024-01-01T00:00:00Z", &[("PyPI", "django")]),
        advisory(
            "OSV-2",
            "2024-01-01T00:00:00Z",
            &[
                ("Debian:12", "openssl"),
                ("Debian:11", "openssl"),
                ("Debian:12", "openssl"),
            ],
        ),
        advisory("OSV-3", "2024-01-01T00:00:00Z", &[("PyPI", "flask")]),
    ];
    assert_eq!(
        store.upsert_advisories(&first, 1000).await.unwrap(),
        UpsertCounts {
            new: 3,
            updated: 0,
            unchanged: 0
        }
    );
    assert_eq!(
        store.upsert_advisories(&first, 1001).await.unwrap(),
        UpsertCounts {
            new: 0,
            updated: 0,
            unchanged: 3
        }
    );
    // OSV-3 changes and moves to another package; OSV-4 comes twice in one batch.
    let second = vec![
        advisory("OSV-3", "2024-02-01T00:00:00Z", &[("PyPI", "jinja2")]),
        advisory("OSV-4", "2024-02-01T00:00:00Z", &[("npm", "lodash")]),
        advisory(
            "OSV-4",
            "2024-03-01T00:00:00Z",
            &[("npm", "lodash"), ("npm", "underscore")],
        ),
    ];
    assert_eq!(
        store.upsert_advisories(&second, 1002).await.unwrap(),
        UpsertCounts {
            new: 1,
            updated: 2,
            unchanged: 0
        }
    );
    store.set_vulndb_updated(1002).await.unwrap();
    let hits = store
        .advisories_for_keys(&keys(&[
            ("PyPI", "flask"),
            ("PyPI", "jinja2"),
            ("Debian:12", "openssl"),
            ("npm", "underscore"),
            ("Go", "nothing"),
        ]))
        .await
        .unwrap();
    let found: Vec<(&str, &str, &str)> = hits
        .iter()
        .map(|h| (h.ecosystem.as_str(), h.name.as_str(), h.id.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            ("Debian:12", "openssl", "OSV-2"),
            ("PyPI", "jinja2", "OSV-3"),
            ("npm", "underscore", "OSV-4"),
        ]
    );
    assert_eq!(
        hits[2].document,
        r#"{"id":"OSV-4","modified":"2024-03-01T00:00:00Z"}"#
    );
    assert_eq!(
        store.advisory("OSV-3").await.unwrap().as_deref(),
        Some(r#"{"id":"OSV-3","modified":"2024-02-01T00:00:00Z"}"#)
    );
    let counts = store.vulndb_counts().await.unwrap();
    assert_eq!(
        (counts.advisories, counts.keys, counts.updated_at),
        (4, 6, Some(1002))
    );
    assert_eq!(
        counts.ecosystems,
        [
            ("Debian:11".to_string(), 1),
            ("Debian:12".to_string(), 1),
            ("PyPI".to_string(), 2),
            ("npm".to_string(), 1),
        ]
    );
    // A batch larger than one statement's worth of rows.
    let many: Vec<NewAdvisory> = (0..1200)
        .map(|i| {
            advisory(
                &format!("BULK-{i:04}"),
                "2024-01-01T00:00:00Z",
                &[("crates.io", "bulk")],
            )
        })
        .collect();
    assert_eq!(
        store.upsert_advisories(&many, 1003).await.unwrap().new,
        1200
    );
    let bulk = store
        .advisories_for_keys(&keys(&[("crates.io", "bulk")]))
        .await
        .unwrap();
    assert_eq!(bulk.len(), 1200);
    assert_eq!(
        epoch(store).await,
        before,
        "the vulnerability database is not cached"
    );
}

/// Runs after `vulnerability_database`: OSV-1 (PyPI/django) was written at 1000, OSV-3
/// (PyPI/jinja2) at 1002.
pub async fn continuous_rescan_candidates(store: &MetaStore) {
    let name = "scan/continuous";
    let a = push(store, name, b"continuous a", &[], false)
        .await
        .unwrap();
    let b = push(store, name, b"continuous b", &[], false)
        .await
        .unwrap();
    for (d, k) in [
        (&a, keys(&[("PyPI", "django"), ("PyPI", "jinja2")])),
        (&b, keys(&[("PyPI", "django")])),
    ] {
        store
            .store_scan(
                repo(store, name),
                d,
                &ScanResult {
                    status: "COMPLETE",
                    scan_type: "ENHANCED",
                    keys: &k,
                    ..ScanResult::default()
                },
            )
            .await
            .unwrap();
    }
    let since = |t| async move {
        store
            .images_with_changed_advisories(t)
            .await
            .unwrap()
            .into_iter()
            .map(|i| (i.repository, i.digest))
            .collect::<Vec<_>>()
    };
    let mut both = vec![(name.to_string(), a.clone()), (name.to_string(), b.clone())];
    both.sort_by_key(|x| x.1.to_string());
    assert_eq!(since(1000).await, both);
    assert_eq!(since(1002).await, [(name.to_string(), a.clone())]);
    assert_eq!(since(1004).await, []);
    let images = store.images_with_changed_advisories(1002).await.unwrap();
    assert_eq!(images[0].account, store.default_account());
    assert!(super::delete(store, repo(store, name), &a).await);
    assert_eq!(since(1002).await, []);
}

/// The keys an import owes rescans for: filed with each batch, old keys of a changed advisory
/// included, kept until cleared whatever else is written. Runs after
/// `continuous_rescan_candidates` (it empties the list first).
pub async fn pending_rescan_keys(store: &MetaStore) {
    let left = store.vulndb_pending_keys().await.unwrap();
    store.clear_vulndb_pending_keys(&left).await.unwrap();
    assert_eq!(store.vulndb_pending_keys().await.unwrap(), []);
    // A first batch commits; the import then dies before it finishes.
    let batch = vec![
        advisory(
            "PEND-1",
            "2024-01-01T00:00:00Z",
            &[("Go", "mod/a"), ("Go", "mod/b")],
        ),
        advisory("PEND-2", "2024-01-01T00:00:00Z", &[("npm", "left-pad")]),
    ];
    store.upsert_advisories(&batch, 2000).await.unwrap();
    let first = keys(&[("Go", "mod/a"), ("Go", "mod/b"), ("npm", "left-pad")]);
    assert_eq!(store.vulndb_pending_keys().await.unwrap(), first);
    // The next import sees them unchanged, yet the keys stay pending.
    assert_eq!(
        store
            .upsert_advisories(&batch, 2001)
            .await
            .unwrap()
            .unchanged,
        2
    );
    assert_eq!(store.vulndb_pending_keys().await.unwrap(), first);
    store.clear_vulndb_pending_keys(&first).await.unwrap();
    assert_eq!(store.vulndb_pending_keys().await.unwrap(), []);
    // PEND-1 moves from mod/a and mod/b to mod/c: all three are pending; PEND-2 is unchanged.
    let moved = vec![
        advisory("PEND-1", "2024-02-01T00:00:00Z", &[("Go", "mod/c")]),
        advisory("PEND-2", "2024-01-01T00:00:00Z", &[("npm", "left-pad")]),
    ];
    assert_eq!(
        store.upsert_advisories(&moved, 2002).await.unwrap(),
        UpsertCounts {
            new: 0,
            updated: 1,
            unchanged: 1
        }
    );
    assert_eq!(
        store.vulndb_pending_keys().await.unwrap(),
        keys(&[("Go", "mod/a"), ("Go", "mod/b"), ("Go", "mod/c")])
    );
    // An image under the dropped key is among those to rescan; one under an untouched key not.
    let name = "scan/pending";
    let old = push(store, name, b"pending old", &[], false).await.unwrap();
    let other = push(store, name, b"pending other", &[], false)
        .await
        .unwrap();
    for (d, k) in [
        (&old, keys(&[("Go", "mod/a")])),
        (&other, keys(&[("npm", "left-pad")])),
    ] {
        store
            .store_scan(
                repo(store, name),
                d,
                &ScanResult {
                    status: "COMPLETE",
                    scan_type: "ENHANCED",
                    keys: &k,
                    ..ScanResult::default()
                },
            )
            .await
            .unwrap();
    }
    let images = store.images_with_pending_keys().await.unwrap();
    let found: Vec<(&str, &str, String)> = images
        .iter()
        .map(|i| {
            (
                i.account.as_str(),
                i.repository.as_str(),
                i.digest.to_string(),
            )
        })
        .collect();
    assert_eq!(found, [(store.default_account(), name, old.to_string())]);
    // Clearing takes off exactly the keys given.
    store
        .clear_vulndb_pending_keys(&keys(&[("Go", "mod/a")]))
        .await
        .unwrap();
    assert_eq!(
        store.vulndb_pending_keys().await.unwrap(),
        keys(&[("Go", "mod/b"), ("Go", "mod/c")])
    );
    assert_eq!(store.images_with_pending_keys().await.unwrap(), []);
}
