//! Conformance of the write-lock scopes (`locks.rs`), with two stores on one database as two
//! nodes: writes to different repositories proceed side by side on PostgreSQL (SQLite has one
//! writer), writes to one repository serialize, a global writer excludes both kinds and waits
//! for them; and many pushes of the same blobs into different repositories beside a collection
//! pass that collects aggressively end with every reference intact and no database error.

use super::{delete, push, repo};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::task::JoinHandle;
use tokio::time::timeout;
use wharf_meta::{Dialect, MetaError, MetaStore, NewManifest, RemoveMode};
use wharf_oci::Digest;

/// How long a write that should be waiting is given to (wrongly) finish.
const BLOCKED: Duration = Duration::from_millis(400);
/// How long a write that should proceed is given to finish.
const PROCEEDS: Duration = Duration::from_secs(10);

async fn exists(store: &MetaStore, name: &str, d: &Digest) -> bool {
    store.image(repo(store, name), d).await.unwrap().is_some()
}

/// Deletes `d` from `name` through `store` in a task of its own.
fn spawn_delete(store: &MetaStore, name: &'static str, d: &Digest) -> JoinHandle<bool> {
    let (store, d) = (store.clone(), d.clone());
    tokio::spawn(async move { delete(&store, repo(&store, name), &d).await })
}

/// Asserts that `task` is still waiting after [`BLOCKED`].
async fn assert_waits<T: std::fmt::Debug>(task: &mut JoinHandle<T>, what: &str) {
    let early = timeout(BLOCKED, &mut *task).await;
    assert!(early.is_err(), "{what} must wait, but finished: {early:?}");
}

/// Waits for `task`, which must finish within [`PROCEEDS`].
async fn finishes<T>(task: JoinHandle<T>, what: &str) -> T {
    timeout(PROCEEDS, task)
        .await
        .unwrap_or_else(|_| panic!("{what} never finished"))
        .unwrap()
}

pub async fn scopes_exclude_what_they_share(a: &MetaStore, b: &MetaStore) {
    let (one, two) = ("locks/one", "locks/two");
    let mut images = Vec::new();
    for i in 0..6 {
        let name = if i % 2 == 0 { one } else { two };
        let d = push(a, name, format!("locks {i}").as_bytes(), &[], false)
            .await
            .unwrap();
        images.push(d);
    }
    let (one_a, two_a, one_b, two_b, one_c, two_c) = (
        &images[0], &images[1], &images[2], &images[3], &images[4], &images[5],
    );

    // (1) Different repositories: one transaction holds repository one (with a real change in
    // it, so it holds row locks too); another node deletes from repository two and commits
    // meanwhile. SQLite has a single writer, so there the second would wait: PostgreSQL only.
    if a.dialect() == Dialect::Postgres {
        let mut held = a.write_repo(repo(a, one)).await.unwrap();
        held.remove_image(repo(a, one), one_a, RemoveMode::Delete)
            .await
            .unwrap();
        let other = spawn_delete(b, two, two_a);
        assert!(
            finishes(other, "a delete in another repository").await,
            "it deleted"
        );
        assert!(!exists(b, two, two_a).await, "committed while one is held");
        assert!(
            exists(b, one, one_a).await,
            "the held delete is not visible yet"
        );
        held.commit().await.unwrap();
        assert!(!exists(b, one, one_a).await);
    } else {
        assert!(delete(a, repo(a, one), one_a).await);
        assert!(delete(a, repo(a, two), two_a).await);
    }

    // (2) One repository: a write to other rows of it waits for the held transaction.
    let held = a.write_repo(repo(a, one)).await.unwrap();
    let mut same = spawn_delete(b, one, one_b);
    assert_waits(&mut same, "a delete in the held repository").await;
    held.commit().await.unwrap();
    assert!(finishes(same, "the waiting delete").await);

    // (3) A global writer excludes writes to every repository...
    let held = a.write_global().await.unwrap();
    let mut in_one = spawn_delete(b, one, one_c);
    let mut in_two = spawn_delete(b, two, two_b);
    assert_waits(&mut in_one, "a repository write beside a global one").await;
    assert_waits(
        &mut in_two,
        "another repository's write beside a global one",
    )
    .await;
    held.commit().await.unwrap();
    assert!(finishes(in_one, "the first waiting delete").await);
    assert!(finishes(in_two, "the second waiting delete").await);

    // ... and waits for a repository writer.
    let held = a.write_repo(repo(a, two)).await.unwrap();
    let mut global = {
        let b = b.clone();
        let d = two_c.clone();
        tokio::spawn(async move {
            let mut tx = b.write_global().await.unwrap();
            let out = tx
                .remove_image(repo(&b, two), &d, RemoveMode::Delete)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            out
        })
    };
    assert_waits(&mut global, "a global write beside a repository one").await;
    held.commit().await.unwrap();
    finishes(global, "the waiting global write").await;
    assert!(!exists(a, two, two_c).await);
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Links `blobs` to the repository and stores a manifest referencing them, re-linking when a
/// collection pass took a link between the two (what a client does when told a blob is
/// unknown). Any other error fails the test.
async fn push_referencing(store: &MetaStore, name: &str, body: &[u8], blobs: &[Digest]) -> Digest {
    let digest = Digest::sha256(body);
    for attempt in 0.. {
        assert!(attempt < 50, "{name}: the pass took the links 50 times");
        for b in blobs {
            store
                .record_blob(repo(store, name), b, 7, None, None)
                .await
                .unwrap_or_else(|e| panic!("recording {b} in {name}: {e}"));
        }
        let put = store
            .put_manifest(NewManifest {
                repository: repo(store, name),
                digest: &digest,
                media_type: "application/vnd.oci.image.manifest.v1+json",
                artifact_type: None,
                subject: None,
                annotations: None,
                body,
                blobs: blobs.to_vec(),
                children: vec![],
                tags: vec!["latest"],
                frozen_tags: vec![],
                image_size: Some(7),
                scan: None,
                jobs: vec![],
                replications: vec![],
                signing: None,
            })
            .await;
        match put {
            Ok(_) => return digest,
            Err(MetaError::MissingReferences { .. }) => continue,
            Err(e) => panic!("pushing to {name}: {e}"),
        }
    }
    unreachable!()
}

/// Pushers on two nodes store images sharing blobs into eight repositories, and delete some
/// again (releasing references, which touches the shared blob rows), while a collection pass
/// marks and sweeps every unreferenced blob it finds, with no grace period. No write may fail
/// (no deadlock, no foreign-key error) and, at the end, every stored manifest's blobs are still
/// recorded and linked to its repository.
pub async fn pushes_beside_collection_keep_references(a: &MetaStore, b: &MetaStore) {
    const REPOS: usize = 8;
    const ROUNDS: usize = 12;
    let names: Vec<&'static str> = (0..REPOS)
        .map(|i| &*Box::leak(format!("stress/r{i}").into_boxed_str()))
        .collect();
    let shared: Vec<Digest> = (0..6)
        .map(|i| Digest::sha256(format!("shared layer {i}").as_bytes()))
        .collect();
    let running = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let collector = {
        let (a, running) = (a.clone(), running.clone());
        tokio::spawn(async move {
            let (mut passes, mut swept) = (0u64, 0usize);
            while running.load(std::sync::atomic::Ordering::Acquire) || passes < 3 {
                passes += 1;
                let token = 1000 + passes;
                // A cutoff in the future: every unreferenced blob is garbage at once.
                let marked = a
                    .gc_mark(token, now() + 3600, now() + 3600, None, 200)
                    .await
                    .expect("marking");
                let digests: Vec<Digest> = marked.into_iter().map(|g| g.digest).collect();
                swept += a
                    .gc_sweep_many(&digests, token)
                    .await
                    .expect("sweeping")
                    .len();
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            (passes, swept)
        })
    };
    let mut pushers = Vec::new();
    for (i, name) in names.iter().copied().enumerate() {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        let shared = shared.clone();
        pushers.push(tokio::spawn(async move {
            let mut kept = Vec::new();
            for round in 0..ROUNDS {
                // Shared layers in an order that differs per repository and round, plus one
                // layer of this repository's own.
                let mut blobs: Vec<Digest> = shared.clone();
                blobs.rotate_left((i + round) % shared.len());
                blobs.truncate(3 + round % 3);
                blobs.push(Digest::sha256(format!("{name} own {round}").as_bytes()));
                let body = format!("{{\"repo\":\"{name}\",\"round\":{round}}}");
                let d = push_referencing(&store, name, body.as_bytes(), &blobs).await;
                if round % 3 == 1 {
                    assert!(delete(&store, repo(&store, name), &d).await, "deleting {d}");
                } else {
                    kept.push((d, blobs));
                }
            }
            (name, kept)
        }));
    }
    let mut stored = Vec::new();
    for p in pushers {
        stored.push(p.await.expect("a pusher failed"));
    }
    running.store(false, std::sync::atomic::Ordering::Release);
    let (passes, swept) = collector.await.expect("the collector failed");
    assert!(swept > 0, "the pass collected something ({passes} passes)");
    for (name, kept) in stored {
        for (d, blobs) in kept {
            assert!(exists(a, name, &d).await, "{name}@{d} is stored");
            for blob in blobs {
                assert_eq!(
                    a.repository_blob(repo(a, name), &blob).await.unwrap(),
                    Some(7),
                    "{name}@{d} references {blob}, which must stay recorded and linked"
                );
            }
        }
    }
}
