//! Conformance of the encryption-at-rest records: wrapped data keys (insert, lookup, paging by
//! key reference, compare-and-set rewrap, counts, pruning), master key fingerprints, and which
//! blobs are sealed (recording, the re-encryption walk, marking). None of these writes moves the
//! cache epoch on PostgreSQL.

use super::repo;
use wharf_meta::{DataKeyRow, MetaError, MetaStore, RepoKey, RepoSettings};
use wharf_oci::Digest;

/// A DEK id for test `n` of module part `part`: 32 lowercase hex.
fn dek(part: u8, n: u8) -> String {
    format!("{part:02x}{n:02x}{}", "0".repeat(28))
}

async fn epoch(store: &MetaStore) -> Option<i64> {
    store.cache_epoch().await.unwrap()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Removes a blob's row the way garbage collection does: mark, sweep it, unmark the others.
async fn collect_blob(store: &MetaStore, digest: &Digest) {
    let token = 0x5ea1;
    let marked = store
        .gc_mark(token, now() + 10, now() + 10, None, 10_000)
        .await
        .unwrap();
    assert!(
        marked.iter().any(|b| &b.digest == digest),
        "{digest} marked"
    );
    assert!(
        store.gc_sweep(digest, token).await.unwrap(),
        "{digest} swept"
    );
    for b in marked.iter().filter(|b| &b.digest != digest) {
        store.gc_unmark(&b.digest, token).await.unwrap();
    }
    assert!(!store.blob_recorded(digest).await.unwrap());
}

/// Wraps: insert is idempotent per (dek, ref) and never overwrites, lookups return every wrap in
/// key-ref order with the exact bytes, and counts group by ref.
pub async fn data_key_wraps(store: &MetaStore) {
    let before = epoch(store).await;
    let a = dek(1, 1);
    assert!(store.data_keys(&a).await.unwrap().is_empty());
    let bytes: Vec<u8> = (0..=255).collect();
    store.insert_data_key(&a, "master:1", &bytes).await.unwrap();
    store
        .insert_data_key(
            &a,
            "kms:arn:aws:kms:eu-west-1:111122223333:key/one",
            &[0, 1, 0],
        )
        .await
        .unwrap();
    // Same (dek, ref) again, other bytes: a no-op that keeps the first wrap.
    store
        .insert_data_key(&a, "master:1", b"other")
        .await
        .unwrap();
    let rows = store.data_keys(&a).await.unwrap();
    assert_eq!(
        rows,
        vec![
            DataKeyRow {
                dek_id: a.clone(),
                key_ref: "kms:arn:aws:kms:eu-west-1:111122223333:key/one".into(),
                wrapped: vec![0, 1, 0],
                digest: None,
            },
            DataKeyRow {
                dek_id: a.clone(),
                key_ref: "master:1".into(),
                wrapped: bytes.clone(),
                digest: None,
            },
        ]
    );
    // Debug shows no key bytes.
    let shown = format!("{:?}", rows[1]);
    assert!(shown.contains("wrapped_len: 256"), "{shown}");
    assert!(!shown.contains("255"), "{shown}");
    // Another DEK's wraps are its own.
    store
        .insert_data_key(&dek(1, 2), "master:1", &[7])
        .await
        .unwrap();
    assert_eq!(store.data_keys(&a).await.unwrap().len(), 2);
    let counts = store.data_key_counts().await.unwrap();
    let count = |r: &str| counts.iter().find(|(k, _)| k == r).map(|(_, n)| *n);
    assert_eq!(count("master:1"), Some(2));
    assert_eq!(
        count("kms:arn:aws:kms:eu-west-1:111122223333:key/one"),
        Some(1)
    );
    let mut sorted = counts.clone();
    sorted.sort();
    assert_eq!(counts, sorted, "counts are ordered by key ref");
    assert_eq!(
        epoch(store).await,
        before,
        "wraps do not move the cache epoch"
    );
}

/// Paging by key-ref prefix, in (key_ref, dek_id) order; `_` and `%` in a prefix are literal.
pub async fn data_keys_paging(store: &MetaStore) {
    let refs = [
        "kms:arn_x",
        "kms:arnAx",
        "kms:arn%y",
        "master:7",
        "master:70",
    ];
    for r in refs {
        for n in 0..3 {
            store.insert_data_key(&dek(2, n), r, &[n]).await.unwrap();
        }
    }
    // Walk "master:7" two at a time: "master:70" starts with it too.
    let mut seen = Vec::new();
    let mut after: Option<(String, String)> = None;
    loop {
        let page = store
            .data_keys_page(
                "master:7",
                after.as_ref().map(|(r, d)| (r.as_str(), d.as_str())),
                2,
            )
            .await
            .unwrap();
        assert!(page.len() <= 2);
        let Some(last) = page.last() else { break };
        after = Some((last.key_ref.clone(), last.dek_id.clone()));
        seen.extend(page.into_iter().map(|r| (r.key_ref, r.dek_id, r.wrapped)));
    }
    let mut want = Vec::new();
    for r in ["master:7", "master:70"] {
        for n in 0..3 {
            want.push((r.to_string(), dek(2, n), vec![n]));
        }
    }
    assert_eq!(seen, want);

    let only = |prefix: &'static str| async move {
        store
            .data_keys_page(prefix, None, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.key_ref)
            .collect::<std::collections::BTreeSet<_>>()
    };
    assert_eq!(only("kms:arn_").await, ["kms:arn_x".to_string()].into());
    assert_eq!(only("kms:arn%").await, ["kms:arn%y".to_string()].into());
    assert_eq!(only("master:70").await, ["master:70".to_string()].into());
    assert!(only("master:8").await.is_empty());
    let kms = only("kms:").await;
    assert!(kms.iter().all(|r| r.starts_with("kms:")) && kms.len() >= 3);

    // An empty prefix walks everything, in order.
    let all = store.data_keys_page("", None, 10_000).await.unwrap();
    let total: u64 = store
        .data_key_counts()
        .await
        .unwrap()
        .iter()
        .map(|(_, n)| n)
        .sum();
    assert_eq!(all.len() as u64, total);
    let keys: Vec<_> = all.iter().map(|r| (&r.key_ref, &r.dek_id)).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    // After the last row: nothing.
    let last = all.last().unwrap();
    assert!(store
        .data_keys_page("", Some((&last.key_ref, &last.dek_id)), 10)
        .await
        .unwrap()
        .is_empty());
}

/// Rewrap is a compare-and-set: it moves a wrap to another ref only while the old wrap is as
/// given, keeping the digest binding.
pub async fn data_key_rewrap(store: &MetaStore) {
    let before = epoch(store).await;
    let d = dek(3, 1);
    let digest = Digest::sha256(b"rewrapped blob");
    store.insert_data_key(&d, "master:1", b"old").await.unwrap();
    store
        .record_blob(repo(store, "crypt/rewrap"), &digest, 14, None, Some(&d))
        .await
        .unwrap();
    let epoch_after_repo = epoch(store).await;
    // Stale bytes or a wrong ref: nothing changes.
    assert!(!store
        .replace_data_key(&d, "master:1", b"stale", "master:2", b"new")
        .await
        .unwrap());
    assert!(!store
        .replace_data_key(&d, "master:9", b"old", "master:2", b"new")
        .await
        .unwrap());
    assert_eq!(store.data_keys(&d).await.unwrap().len(), 1);
    assert!(store
        .replace_data_key(&d, "master:1", b"old", "master:2", b"new")
        .await
        .unwrap());
    let rows = store.data_keys(&d).await.unwrap();
    assert_eq!(
        rows,
        vec![DataKeyRow {
            dek_id: d.clone(),
            key_ref: "master:2".into(),
            wrapped: b"new".to_vec(),
            digest: Some(digest.to_string()),
        }]
    );
    // A second rewrap from the same old state loses.
    assert!(!store
        .replace_data_key(&d, "master:1", b"old", "master:3", b"newer")
        .await
        .unwrap());
    // Same ref, new bytes (a KMS re-encrypt under the same key).
    assert!(store
        .replace_data_key(&d, "master:2", b"new", "master:2", b"new again")
        .await
        .unwrap());
    assert_eq!(store.data_keys(&d).await.unwrap()[0].wrapped, b"new again");
    // Onto a ref that already wraps the DEK: that wrap stays, the old one goes.
    store
        .insert_data_key(&d, "kms:k", b"kms wrap")
        .await
        .unwrap();
    assert_eq!(
        store.data_keys(&d).await.unwrap()[0].digest,
        Some(digest.to_string()),
        "a wrap added to a bound DEK is bound too"
    );
    assert!(store
        .replace_data_key(&d, "master:2", b"new again", "kms:k", b"ignored")
        .await
        .unwrap());
    let rows = store.data_keys(&d).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].key_ref.as_str(), rows[0].wrapped.as_slice()),
        ("kms:k", &b"kms wrap"[..])
    );
    if before.is_some() {
        assert_eq!(
            epoch(store).await,
            epoch_after_repo,
            "rewraps do not move the cache epoch"
        );
    }
}

/// Master key versions: recorded once per version; the same fingerprint again is fine, another
/// is refused.
pub async fn master_keys(store: &MetaStore) {
    let before = epoch(store).await;
    assert!(store.master_keys().await.unwrap().is_empty());
    store.record_master_key(2, "fp-two").await.unwrap();
    store.record_master_key(1, "fp-one").await.unwrap();
    store.record_master_key(2, "fp-two").await.unwrap();
    let err = store.record_master_key(1, "fp-other").await.unwrap_err();
    assert!(
        matches!(err, MetaError::MasterKeyMismatch { version: 1 }),
        "{err:?}"
    );
    store.record_master_key(u32::MAX, "fp-max").await.unwrap();
    assert_eq!(
        store.master_keys().await.unwrap(),
        vec![
            (1, "fp-one".to_string()),
            (2, "fp-two".to_string()),
            (u32::MAX, "fp-max".to_string())
        ]
    );
    assert_eq!(epoch(store).await, before);
}

/// `record_blob` seals new rows exactly when given a DEK, seals existing rows when given one,
/// never unseals, binds the DEK's wraps, and closes the upload that carried the DEK.
pub async fn sealed_blob_records(store: &MetaStore) {
    let r = repo(store, "crypt/sealed");
    let d = dek(4, 1);
    let unknown = Digest::sha256(b"never recorded");
    assert_eq!(store.blob_sealed(&unknown).await.unwrap(), None);

    store
        .create_upload("crypt-upload", r, Some(&d))
        .await
        .unwrap();
    store.create_upload("crypt-plain", r, None).await.unwrap();
    assert_eq!(
        store.upload("crypt-upload").await.unwrap().unwrap().dek_id,
        Some(d.clone())
    );
    assert_eq!(
        store.upload("crypt-plain").await.unwrap().unwrap().dek_id,
        None
    );
    store.insert_data_key(&d, "master:1", b"w1").await.unwrap();
    store.insert_data_key(&d, "kms:k1", b"w2").await.unwrap();

    let sealed = Digest::sha256(b"sealed blob");
    store
        .record_blob(r, &sealed, 11, Some("crypt-upload"), Some(&d))
        .await
        .unwrap();
    assert!(store.upload("crypt-upload").await.unwrap().is_none());
    assert_eq!(store.blob_sealed(&sealed).await.unwrap(), Some(true));
    let rows = store.data_keys(&d).await.unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|k| k.digest == Some(sealed.to_string())));
    // Recording it again in plaintext terms (a mount, a re-push without a DEK) keeps it sealed.
    store
        .record_blob(repo(store, "crypt/other"), &sealed, 11, None, None)
        .await
        .unwrap();
    store
        .link_existing_blob(repo(store, "crypt/third"), &sealed, 11)
        .await
        .unwrap();
    assert_eq!(store.blob_sealed(&sealed).await.unwrap(), Some(true));

    // A plaintext blob, then the same digest recorded sealed: it becomes sealed.
    let plain = Digest::sha256(b"plain blob");
    store
        .record_blob(r, &plain, 10, Some("crypt-plain"), None)
        .await
        .unwrap();
    assert_eq!(store.blob_sealed(&plain).await.unwrap(), Some(false));
    let d2 = dek(4, 2);
    store.insert_data_key(&d2, "master:1", b"w3").await.unwrap();
    store
        .record_blob(r, &plain, 10, None, Some(&d2))
        .await
        .unwrap();
    assert_eq!(store.blob_sealed(&plain).await.unwrap(), Some(true));
    assert_eq!(
        store.data_keys(&d2).await.unwrap()[0].digest,
        Some(plain.to_string())
    );
}

/// The re-encryption walk: unsealed blobs in digest order, their count, and marking them sealed.
pub async fn unsealed_blob_walk(store: &MetaStore) {
    let before = epoch(store).await;
    let r = repo(store, "crypt/legacy");
    let mut mine = Vec::new();
    for i in 0..5u8 {
        let d = Digest::sha256(&[b'L', i]);
        store
            .record_blob(r, &d, 100 + i as u64, None, None)
            .await
            .unwrap();
        mine.push((d, 100 + i as u64));
    }
    mine.sort_by_key(|(d, _)| d.to_string());
    let count = store.count_unsealed_blobs().await.unwrap();
    // Walk everything two at a time.
    let mut walked = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store.unsealed_blobs(after.as_deref(), 2).await.unwrap();
        let Some((last, _)) = page.last() else { break };
        after = Some(last.to_string());
        walked.extend(page);
    }
    assert_eq!(walked.len() as u64, count);
    let digests: Vec<String> = walked.iter().map(|(d, _)| d.to_string()).collect();
    let mut sorted = digests.clone();
    sorted.sort();
    assert_eq!(digests, sorted, "digest order");
    for m in &mine {
        assert!(walked.contains(m), "{} listed with its size", m.0);
    }
    // Sealed blobs are not listed.
    assert!(!walked
        .iter()
        .any(|(d, _)| *d == Digest::sha256(b"sealed blob")));

    let epoch_mid = epoch(store).await;
    let d = dek(5, 1);
    store.insert_data_key(&d, "master:1", b"w").await.unwrap();
    let (first, _) = &mine[0];
    assert!(store.mark_blob_sealed(first, &d).await.unwrap());
    assert_eq!(store.blob_sealed(first).await.unwrap(), Some(true));
    assert_eq!(store.count_unsealed_blobs().await.unwrap(), count - 1);
    assert!(!store
        .unsealed_blobs(None, 10_000)
        .await
        .unwrap()
        .iter()
        .any(|(x, _)| x == first));
    assert_eq!(
        store.data_keys(&d).await.unwrap()[0].digest,
        Some(first.to_string())
    );
    // A blob collected meanwhile: false, nothing bound.
    let (gone, _) = &mine[1];
    collect_blob(store, gone).await;
    let d2 = dek(5, 2);
    store.insert_data_key(&d2, "master:1", b"w").await.unwrap();
    assert!(!store.mark_blob_sealed(gone, &d2).await.unwrap());
    assert_eq!(store.data_keys(&d2).await.unwrap()[0].digest, None);
    assert_eq!(store.blob_sealed(gone).await.unwrap(), None);
    if before.is_some() {
        assert_eq!(
            epoch(store).await,
            epoch_mid,
            "sealing does not move the cache epoch"
        );
    }
}

/// The distinct encryption settings of the repositories linking a blob.
pub async fn blob_encryption_settings(store: &MetaStore) {
    let kms = |key: &str| RepoSettings {
        encryption_type: "KMS".into(),
        kms_key: Some(key.into()),
        ..RepoSettings::default()
    };
    let names = ["crypt/enc-a", "crypt/enc-b", "crypt/enc-c", "crypt/enc-d"];
    let settings = [
        RepoSettings::default(),
        kms("arn:aws:kms:us-east-1:1:key/b"),
        kms("arn:aws:kms:us-east-1:1:key/a"),
        RepoSettings::default(),
    ];
    for (name, s) in names.iter().zip(&settings) {
        store
            .create_repository(repo(store, name), s, &[])
            .await
            .unwrap();
    }
    let digest = Digest::sha256(b"shared across keys");
    assert!(store
        .blob_encryption_settings(&digest)
        .await
        .unwrap()
        .is_empty());
    for name in names {
        store
            .record_blob(repo(store, name), &digest, 18, None, None)
            .await
            .unwrap();
    }
    // Another repository's blob does not show up.
    store
        .record_blob(
            repo(store, "crypt/unrelated"),
            &Digest::sha256(b"x"),
            1,
            None,
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        store.blob_encryption_settings(&digest).await.unwrap(),
        vec![
            ("AES256".to_string(), None),
            (
                "KMS".to_string(),
                Some("arn:aws:kms:us-east-1:1:key/a".to_string())
            ),
            (
                "KMS".to_string(),
                Some("arn:aws:kms:us-east-1:1:key/b".to_string())
            ),
        ]
    );
    let r: RepoKey = repo(store, "crypt/enc-b");
    store.unlink_blob(r, &digest).await.unwrap();
    assert_eq!(
        store.blob_encryption_settings(&digest).await.unwrap().len(),
        2
    );
}

/// Pruning removes only old wraps of DEKs that no upload uses and that are unbound or bound to a
/// blob no longer recorded.
pub async fn prune_data_keys(store: &MetaStore) {
    let r = repo(store, "crypt/prune");
    let abandoned = dek(6, 1); // unbound, no upload: pruned
    let in_upload = dek(6, 2); // unbound, its upload is open: kept
    let live = dek(6, 3); // bound to a recorded blob: kept
    let collected = dek(6, 4); // bound to a blob since collected: pruned
    for d in [&abandoned, &in_upload, &live, &collected] {
        store.insert_data_key(d, "master:1", b"w").await.unwrap();
        store.insert_data_key(d, "kms:k", b"w").await.unwrap();
    }
    store
        .create_upload("crypt-prune", r, Some(&in_upload))
        .await
        .unwrap();
    let live_blob = Digest::sha256(b"live");
    let gone_blob = Digest::sha256(b"to be collected");
    store
        .record_blob(r, &live_blob, 4, None, Some(&live))
        .await
        .unwrap();
    store
        .record_blob(r, &gone_blob, 15, None, Some(&collected))
        .await
        .unwrap();
    collect_blob(store, &gone_blob).await;

    let before = epoch(store).await;
    // Too recent for the cutoff: nothing goes.
    let total = || async {
        store
            .data_key_counts()
            .await
            .unwrap()
            .iter()
            .map(|(_, n)| n)
            .sum::<u64>()
    };
    let all = total().await;
    assert_eq!(store.prune_data_keys(now() - 60).await.unwrap(), 0);
    assert_eq!(total().await, all);

    // Other parts' unbound wraps without uploads go too; count only ours.
    store.prune_data_keys(now() + 60).await.unwrap();
    assert!(store.data_keys(&abandoned).await.unwrap().is_empty());
    assert!(store.data_keys(&collected).await.unwrap().is_empty());
    assert_eq!(store.data_keys(&in_upload).await.unwrap().len(), 2);
    assert_eq!(store.data_keys(&live).await.unwrap().len(), 2);
    // Once the upload is gone, its DEK goes too.
    store.delete_upload("crypt-prune").await.unwrap();
    assert_eq!(store.prune_data_keys(now() + 60).await.unwrap(), 2);
    assert!(store.data_keys(&in_upload).await.unwrap().is_empty());
    assert_eq!(store.data_keys(&live).await.unwrap().len(), 2);
    assert_eq!(
        epoch(store).await,
        before,
        "pruning does not move the cache epoch"
    );
}
