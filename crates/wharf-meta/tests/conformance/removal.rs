//! Conformance of `remove_image`: an image and its referrer closure deleted, archived or restored
//! in one transaction; refused while an index outside the removal lists any of them; a
//! `WriteTx` spanning several calls commits or rolls back as one; and an index pushed while its
//! child is deleted never ends up listing a deleted child.

use super::{push, repo};
use wharf_meta::{MetaError, MetaStore, NewManifest, RemoveMode, RemoveOutcome};
use wharf_oci::{Digest, Reference};

const IMAGE: &str = "application/vnd.oci.image.manifest.v1+json";
const INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// Stores a manifest whose bytes are `body` (the store does not parse them), optionally with a
/// subject and children.
async fn put(
    store: &MetaStore,
    name: &str,
    body: &str,
    subject: Option<&Digest>,
    children: &[&Digest],
) -> Result<Digest, MetaError> {
    let digest = Digest::sha256(body.as_bytes());
    store
        .put_manifest(NewManifest {
            repository: repo(store, name),
            digest: &digest,
            media_type: if children.is_empty() { IMAGE } else { INDEX },
            artifact_type: subject.map(|_| "application/vnd.example.signature"),
            subject,
            annotations: None,
            body: body.as_bytes(),
            blobs: vec![],
            children: children.iter().map(|c| (*c).clone()).collect(),
            tags: vec![],
            frozen_tags: vec![],
            image_size: Some(0),
            scan: None,
            jobs: vec![],
            replications: vec![],
            signing: None,
        })
        .await?;
    Ok(digest)
}

async fn exists(store: &MetaStore, name: &str, d: &Digest) -> bool {
    store.image(repo(store, name), d).await.unwrap().is_some()
}

fn sorted(mut v: Vec<Digest>) -> Vec<Digest> {
    v.sort_by_key(|d| d.to_string());
    v
}

/// A referrer of a referrer goes with the image; nothing else does. On PostgreSQL the delete
/// moves the cache epoch, and a refused or empty one does not.
pub async fn delete_takes_the_referrer_closure(store: &MetaStore) {
    let name = "removal/closure";
    let image = push(store, name, b"closure image", &["v1"], false)
        .await
        .unwrap();
    let sig = put(store, name, "sig of image", Some(&image), &[])
        .await
        .unwrap();
    let sig_of_sig = put(store, name, "sig of sig", Some(&sig), &[])
        .await
        .unwrap();
    let other = push(store, name, b"closure other", &["v2"], false)
        .await
        .unwrap();
    let other_sig = put(store, name, "sig of other", Some(&other), &[])
        .await
        .unwrap();
    let before = store.cache_epoch().await.unwrap();
    let out = store
        .remove_image(repo(store, name), &image, RemoveMode::Delete)
        .await
        .unwrap();
    assert_eq!(
        out,
        RemoveOutcome::Removed {
            image: Some(image.clone()),
            referrers: sorted(vec![sig.clone(), sig_of_sig.clone()]),
        }
    );
    assert_eq!(out.affected().count(), 3);
    for d in [&image, &sig, &sig_of_sig] {
        assert!(!exists(store, name, d).await, "{d} deleted");
    }
    assert_eq!(
        store.tag_digest(repo(store, name), "v1").await.unwrap(),
        None
    );
    assert!(exists(store, name, &other).await && exists(store, name, &other_sig).await);
    if let Some(before) = before {
        let after = store.cache_epoch().await.unwrap().unwrap();
        assert!(after > before, "the delete moved the cache epoch");
        let out = store
            .remove_image(repo(store, name), &image, RemoveMode::Delete)
            .await
            .unwrap();
        assert_eq!(out, RemoveOutcome::NotFound);
        assert_eq!(store.cache_epoch().await.unwrap(), Some(after));
    }
}

/// Neither an index's child nor an image one of whose referrers an index lists is deleted or
/// archived; once the index is gone they are. Restoring is never refused.
pub async fn index_children_are_refused(store: &MetaStore) {
    let name = "removal/index";
    let child = put(store, name, "child image", None, &[]).await.unwrap();
    let index = put(store, name, "the index", None, &[&child])
        .await
        .unwrap();
    for mode in [RemoveMode::Delete, RemoveMode::Archive { at: 5 }] {
        assert_eq!(
            store
                .remove_image(repo(store, name), &child, mode)
                .await
                .unwrap(),
            RemoveOutcome::ReferencedByIndex {
                child: child.clone(),
                index: index.clone(),
            },
            "{mode:?}"
        );
    }
    assert!(exists(store, name, &child).await);

    // A referrer listed by an index that is not itself going: the subject stays too.
    let subject = put(store, name, "subject image", None, &[]).await.unwrap();
    let sig = put(store, name, "listed sig", Some(&subject), &[])
        .await
        .unwrap();
    let holder = put(store, name, "index of sig", None, &[&sig])
        .await
        .unwrap();
    let before = store.cache_epoch().await.unwrap();
    assert_eq!(
        store
            .remove_image(repo(store, name), &subject, RemoveMode::Delete)
            .await
            .unwrap(),
        RemoveOutcome::ReferencedByIndex {
            child: sig.clone(),
            index: holder.clone(),
        }
    );
    assert!(exists(store, name, &subject).await && exists(store, name, &sig).await);
    assert_eq!(
        store.cache_epoch().await.unwrap(),
        before,
        "refusal moved nothing"
    );

    // An index whose children include its own referrer closure is removed whole.
    let art = put(store, name, "artifact index subject", None, &[])
        .await
        .unwrap();
    let art_ref = put(store, name, "artifact index ref", Some(&art), &[])
        .await
        .unwrap();
    let art_index = put(store, name, "art index lists ref", Some(&art), &[&art_ref])
        .await
        .unwrap();
    let out = store
        .remove_image(repo(store, name), &art, RemoveMode::Delete)
        .await
        .unwrap();
    assert_eq!(
        out,
        RemoveOutcome::Removed {
            image: Some(art.clone()),
            referrers: sorted(vec![art_ref, art_index]),
        }
    );

    // Restore is not refused (an index may list an active child).
    let out = store
        .remove_image(repo(store, name), &child, RemoveMode::Restore { at: 6 })
        .await
        .unwrap();
    assert_eq!(
        out,
        RemoveOutcome::Removed {
            image: None,
            referrers: vec![]
        },
        "already active"
    );

    // Once the indexes go, so may what they listed.
    for d in [&index, &holder, &child, &subject] {
        assert!(matches!(
            store
                .remove_image(repo(store, name), d, RemoveMode::Delete)
                .await
                .unwrap(),
            RemoveOutcome::Removed { .. }
        ));
    }
    assert!(!exists(store, name, &sig).await, "went with its subject");
}

/// An unknown image changes nothing; an unknown repository is an error.
pub async fn unknown_images(store: &MetaStore) {
    let name = "removal/unknown";
    push(store, name, b"unknown repo holder", &[], false)
        .await
        .unwrap();
    let missing = Digest::sha256(b"never pushed");
    for mode in [
        RemoveMode::Delete,
        RemoveMode::Archive { at: 1 },
        RemoveMode::Restore { at: 1 },
    ] {
        assert_eq!(
            store
                .remove_image(repo(store, name), &missing, mode)
                .await
                .unwrap(),
            RemoveOutcome::NotFound
        );
    }
    assert!(matches!(
        store
            .remove_image(
                repo(store, "removal/no-such-repo"),
                &missing,
                RemoveMode::Delete
            )
            .await,
        Err(MetaError::RepositoryNotFound)
    ));
}

/// Archiving moves the image and its referrers (none is served); a second archive changes
/// nothing; a restore brings all of them back.
pub async fn archive_and_restore_with_referrers(store: &MetaStore) {
    let name = "removal/archive";
    let image = push(store, name, b"archive image", &["v1"], false)
        .await
        .unwrap();
    let sig = put(store, name, "archive sig", Some(&image), &[])
        .await
        .unwrap();
    let sbom = put(store, name, "archive sig sbom", Some(&sig), &[])
        .await
        .unwrap();
    let all = [&image, &sig, &sbom];
    let out = store
        .remove_image(repo(store, name), &image, RemoveMode::Archive { at: 100 })
        .await
        .unwrap();
    assert_eq!(
        out,
        RemoveOutcome::Removed {
            image: Some(image.clone()),
            referrers: sorted(vec![sig.clone(), sbom.clone()]),
        }
    );
    for d in all {
        let record = store.image(repo(store, name), d).await.unwrap().unwrap();
        assert_eq!(record.status, "ARCHIVED", "{d}");
        assert_eq!(record.archived_at, Some(100));
        let served = store
            .get_manifest(repo(store, name), &Reference::Digest(d.clone()))
            .await
            .unwrap();
        assert!(served.is_none(), "an archived manifest is not served");
    }
    assert_eq!(
        store
            .remove_image(repo(store, name), &image, RemoveMode::Archive { at: 101 })
            .await
            .unwrap(),
        RemoveOutcome::Removed {
            image: None,
            referrers: vec![]
        }
    );
    let out = store
        .remove_image(repo(store, name), &image, RemoveMode::Restore { at: 102 })
        .await
        .unwrap();
    assert_eq!(out.affected().count(), 3);
    for d in all {
        let record = store.image(repo(store, name), d).await.unwrap().unwrap();
        assert_eq!(record.status, "ACTIVE", "{d}");
        assert_eq!(record.activated_at, Some(102));
    }
    assert_eq!(
        store.tag_digest(repo(store, name), "v1").await.unwrap(),
        Some(image)
    );
}

/// Several removals in one `WriteTx` are one transaction: dropped, none happened; committed, all.
/// A transaction writes only into repositories its scope locks.
pub async fn write_tx_spans_calls(store: &MetaStore) {
    let name = "removal/tx";
    let a = push(store, name, b"tx a", &[], false).await.unwrap();
    let b = push(store, name, b"tx b", &[], false).await.unwrap();
    let mut tx = store.write_repo(repo(store, name)).await.unwrap();
    for d in [&a, &b] {
        let out = tx
            .remove_image(repo(store, name), d, RemoveMode::Delete)
            .await
            .unwrap();
        assert!(matches!(out, RemoveOutcome::Removed { .. }));
    }
    drop(tx);
    assert!(exists(store, name, &a).await && exists(store, name, &b).await);
    // A transaction scoped to another repository may not write here.
    let mut other = store
        .write_repo(repo(store, "removal/other"))
        .await
        .unwrap();
    let refused = other
        .remove_image(repo(store, name), &a, RemoveMode::Delete)
        .await;
    assert!(
        matches!(refused, Err(MetaError::OutsideWriteScope(_))),
        "{refused:?}"
    );
    drop(other);
    let mut tx = store.write_global().await.unwrap();
    for d in [&a, &b] {
        tx.remove_image(repo(store, name), d, RemoveMode::Delete)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    assert!(!exists(store, name, &a).await && !exists(store, name, &b).await);
}

/// Two nodes: one pushes an index over a child while the other deletes the child. The repository's write lock
/// orders them, so either the index was refused (its child was gone) or the delete was (an
/// index listed the child); never an index listing a deleted child.
pub async fn index_push_races_child_delete(a: &MetaStore, b: &MetaStore) {
    let name = "removal/race";
    push(a, name, b"race holder", &[], false).await.unwrap();
    let (mut indexes, mut deletes) = (0, 0);
    for i in 0..40 {
        let child = put(a, name, &format!("race child {i}"), None, &[])
            .await
            .unwrap();
        let push_index = {
            let (a, child) = (a.clone(), child.clone());
            tokio::spawn(
                async move { put(&a, name, &format!("race index {i}"), None, &[&child]).await },
            )
        };
        let delete = {
            let (b, child) = (b.clone(), child.clone());
            tokio::spawn(async move {
                b.remove_image(repo(&b, name), &child, RemoveMode::Delete)
                    .await
                    .unwrap()
            })
        };
        let (pushed, deleted) = (push_index.await.unwrap(), delete.await.unwrap());
        match (pushed, deleted) {
            (
                Ok(index),
                RemoveOutcome::ReferencedByIndex {
                    child: c,
                    index: by,
                },
            ) => {
                assert_eq!((c, by), (child.clone(), index.clone()));
                assert!(exists(a, name, &child).await);
                indexes += 1;
            }
            (
                Err(MetaError::MissingReferences { manifests, .. }),
                RemoveOutcome::Removed { .. },
            ) => {
                assert_eq!(manifests, vec![child.clone()]);
                deletes += 1;
            }
            (pushed, deleted) => panic!("round {i}: index {pushed:?}, delete {deleted:?}"),
        }
        let children = a.index_children(repo(a, name)).await.unwrap();
        for (_, c) in children {
            assert!(
                exists(a, name, &c.parse().unwrap()).await,
                "an index lists deleted child {c}"
            );
        }
    }
    eprintln!(
        "index/delete race on {:?}: {indexes} indexes won, {deletes} deletes won",
        a.dialect()
    );
}
