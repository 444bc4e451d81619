//! Encryption at rest on a real filesystem store and SQLite: no plaintext under the data
//! directory, Range reads across segments, tamper and swap detection, dedup, the online sealing
//! of an install that predates encryption, master-key rotation without rewriting blobs, and
//! KMS repositories against a real local-kms (kms.rs).

mod kms;
mod s3;

use bytes::Bytes;
use futures::StreamExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use wharf_blob::{ByteStream, FsBlobStore};
use wharf_core::crypt::{master, Keys, MasterKeyring};
use wharf_core::{CoreError, Registry, Repo};
use wharf_meta::{MetaStore, RepoSettings};
use wharf_oci::{Algorithm, Digest};

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub meta: MetaStore,
    pub blobs: Arc<FsBlobStore>,
}

impl Fixture {
    pub async fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Arc::new(FsBlobStore::open(dir.path().join("blobs")).unwrap());
        let meta = wharf_meta::testing::store(dir.path()).await;
        Fixture { dir, meta, blobs }
    }

    pub fn registry(&self, keys: Keys) -> Registry {
        Registry::new(self.blobs.clone(), self.meta.clone()).with_keys(keys)
    }

    pub async fn repo(&self, reg: &Registry, name: &str, settings: RepoSettings) -> Repo {
        let repo = Repo::new(
            self.meta.default_account().parse().unwrap(),
            name.parse().unwrap(),
        );
        reg.create_repository(&repo, &settings, &[]).await.unwrap();
        repo
    }

    pub fn blob_path(&self, d: &Digest) -> PathBuf {
        self.dir
            .path()
            .join("blobs/blobs/sha256")
            .join(&d.hex()[..2])
            .join(d.hex())
    }
}

pub fn body(bytes: &[u8]) -> ByteStream {
    let b = Bytes::copy_from_slice(bytes);
    futures::stream::once(async move { Ok(b) }).boxed()
}

/// Bytes no file would hold by chance: a counter mixed into a simple generator.
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

pub async fn read(
    reg: &Registry,
    repo: &Repo,
    d: &Digest,
    offset: u64,
    len: u64,
) -> Result<Vec<u8>, CoreError> {
    let mut s = reg.read_blob(repo, d, offset, len).await?;
    let mut out = Vec::new();
    while let Some(c) = s.next().await {
        out.extend_from_slice(&c.map_err(|e| CoreError::Integrity(e.to_string()))?);
    }
    Ok(out)
}

pub async fn push(reg: &Registry, repo: &Repo, bytes: &[u8]) -> Digest {
    let d = Digest::of(Algorithm::Sha256, bytes);
    reg.push_blob(repo, &d, body(bytes)).await.unwrap();
    d
}

/// Every file under `dir` (recursively) that contains `needle`.
pub fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                if bytes.windows(needle.len()).any(|w| w == needle) {
                    found.push(p);
                }
            }
        }
    }
    found
}

#[tokio::test]
async fn no_plaintext_of_a_pushed_layer_reaches_the_data_directory() {
    let f = Fixture::new().await;
    let reg = f.registry(Keys::ephemeral());
    let repo = f.repo(&reg, "enc/plain", RepoSettings::default()).await;
    let layer = pattern(300_000, 1);
    // Monolithic, then chunked with chunk ends inside segments.
    let d1 = push(&reg, &repo, &layer).await;
    let layer2 = pattern(200_001, 2);
    let d2 = Digest::of(Algorithm::Sha256, &layer2);
    let up = reg.start_upload(&repo).await.unwrap();
    let mut at = 0;
    for chunk in layer2.chunks(70_001) {
        reg.append_upload(&repo, &up.id, Some(at), body(chunk))
            .await
            .unwrap();
        at += chunk.len() as u64;
    }
    reg.finish_upload(&repo, &up.id, &d2, None, None)
        .await
        .unwrap();
    for (d, bytes) in [(&d1, &layer), (&d2, &layer2)] {
        assert_eq!(&read(&reg, &repo, d, 0, u64::MAX).await.unwrap(), bytes);
        // Any 32-byte window of the plaintext, anywhere under the data directory (blob files,
        // uploads, the SQLite database and its WAL).
        for at in [0, 65_530, 150_000, bytes.len() - 32] {
            let hits = files_containing(f.dir.path(), &bytes[at..at + 32]);
            assert!(hits.is_empty(), "plaintext at {at} found in {hits:?}");
        }
    }
}

#[tokio::test]
async fn an_empty_blob_is_stored_sealed_by_every_upload_path() {
    let f = Fixture::new().await;
    let reg = f.registry(Keys::ephemeral());
    let empty = Digest::of(Algorithm::Sha256, b"");
    // POST then PUT with no body (the OCI conformance suite's empty blob), in one repository;
    // a monolithic push of zero bytes in another.
    let a = f.repo(&reg, "enc/empty-a", RepoSettings::default()).await;
    let up = reg.start_upload(&a).await.unwrap();
    reg.finish_upload(&a, &up.id, &empty, None, None)
        .await
        .unwrap();
    assert_eq!(read(&reg, &a, &empty, 0, u64::MAX).await.unwrap(), b"");
    let stored = std::fs::read(f.blob_path(&empty)).unwrap();
    assert_eq!(
        &stored[..8],
        b"WHARFSEG",
        "the empty blob's stored form is a seal header"
    );
    let b = f.repo(&reg, "enc/empty-b", RepoSettings::default()).await;
    assert_eq!(push(&reg, &b, b"").await, empty);
    assert_eq!(read(&reg, &b, &empty, 0, u64::MAX).await.unwrap(), b"");
}

#[tokio::test]
async fn range_reads_across_segment_boundaries() {
    let f = Fixture::new().await;
    let reg = f.registry(Keys::ephemeral());
    let repo = f.repo(&reg, "enc/range", RepoSettings::default()).await;
    let bytes = pattern(3 * 65_536 + 17, 3);
    let d = push(&reg, &repo, &bytes).await;
    let n = bytes.len() as u64;
    for offset in [
        0,
        1,
        65_535,
        65_536,
        65_537,
        131_071,
        131_072,
        n - 17,
        n - 1,
        n,
    ] {
        for len in [0, 1, 2, 65_535, 65_536, 65_537, 200_000] {
            let got = read(&reg, &repo, &d, offset, len).await.unwrap();
            let end = (offset + len).min(n) as usize;
            assert_eq!(
                got,
                bytes[offset as usize..end],
                "offset {offset} len {len}"
            );
        }
    }
}

#[tokio::test]
async fn tampered_or_swapped_bytes_are_errors_never_wrong_bytes() {
    let f = Fixture::new().await;
    let reg = f.registry(Keys::ephemeral());
    let repo = f.repo(&reg, "enc/tamper", RepoSettings::default()).await;
    let a = pattern(150_000, 4);
    let b = pattern(150_000, 5);
    let (da, db) = (push(&reg, &repo, &a).await, push(&reg, &repo, &b).await);
    let original = std::fs::read(f.blob_path(&da)).unwrap();
    // One flipped bit in the first segment, in a later segment, in the last tag.
    for at in [40, 70_000, original.len() - 1] {
        let mut bad = original.clone();
        bad[at] ^= 0x01;
        std::fs::write(f.blob_path(&da), &bad).unwrap();
        let r = read(&reg, &repo, &da, 0, u64::MAX).await;
        assert!(
            matches!(r, Err(CoreError::Integrity(_))),
            "flip at {at}: {r:?}"
        );
    }
    // Cut short by a segment.
    std::fs::write(f.blob_path(&da), &original[..original.len() - 100]).unwrap();
    assert!(read(&reg, &repo, &da, 0, u64::MAX).await.is_err());
    // Another blob's (valid) file at this address.
    std::fs::copy(f.blob_path(&db), f.blob_path(&da)).unwrap();
    let r = read(&reg, &repo, &da, 0, u64::MAX).await;
    assert!(
        matches!(r, Err(CoreError::Integrity(ref m)) if m.contains("data key")),
        "{r:?}"
    );
    // Plaintext put in place of a sealed blob.
    std::fs::write(f.blob_path(&da), &a).unwrap();
    let r = read(&reg, &repo, &da, 0, u64::MAX).await;
    assert!(matches!(r, Err(CoreError::Integrity(_))), "{r:?}");
    // Restored: readable again.
    std::fs::write(f.blob_path(&da), &original).unwrap();
    assert_eq!(read(&reg, &repo, &da, 0, u64::MAX).await.unwrap(), a);
}

#[tokio::test]
async fn a_blob_pushed_twice_or_mounted_is_stored_once() {
    let f = Fixture::new().await;
    let reg = f.registry(Keys::ephemeral());
    let r1 = f.repo(&reg, "enc/one", RepoSettings::default()).await;
    let r2 = f.repo(&reg, "enc/two", RepoSettings::default()).await;
    let r3 = f.repo(&reg, "enc/three", RepoSettings::default()).await;
    let bytes = pattern(100_000, 6);
    let d = push(&reg, &r1, &bytes).await;
    let stored = std::fs::read(f.blob_path(&d)).unwrap();
    push(&reg, &r2, &bytes).await;
    assert_eq!(
        std::fs::read(f.blob_path(&d)).unwrap(),
        stored,
        "the second push kept the first bytes"
    );
    assert!(reg.mount_blob(&r3, &d, Some(&r1)).await.unwrap());
    for r in [&r1, &r2, &r3] {
        assert_eq!(read(&reg, r, &d, 0, u64::MAX).await.unwrap(), bytes);
    }
    assert_eq!(
        std::fs::read_dir(f.dir.path().join("blobs/uploads"))
            .unwrap()
            .count(),
        0
    );
}

#[tokio::test]
async fn an_install_from_before_encryption_is_sealed_online() {
    let f = Fixture::new().await;
    let ring_bytes = master::random_key();
    let ring = || MasterKeyring::single(1, &ring_bytes);
    // Written in plaintext (encrypt_blobs = false), as an older install did.
    let old = f.registry(Keys::with_master(ring(), false));
    let repo = f.repo(&old, "enc/legacy", RepoSettings::default()).await;
    let blobs: Vec<Vec<u8>> = (0..5)
        .map(|i| pattern(50_000 + i * 40_000, 10 + i as u64))
        .collect();
    let mut digests = Vec::new();
    for b in &blobs {
        digests.push(push(&old, &repo, b).await);
    }
    let empty = push(&old, &repo, b"").await;
    assert_eq!(std::fs::read(f.blob_path(&digests[0])).unwrap(), blobs[0]);
    let reg = f.registry(Keys::with_master(ring(), true));
    assert_eq!(reg.encryption_status().await.unwrap().unsealed_blobs, 6);
    // Readable before sealing, and a redirect would be allowed only for them.
    assert_eq!(
        read(&reg, &repo, &digests[1], 0, u64::MAX).await.unwrap(),
        blobs[1]
    );
    let report = reg.seal_legacy_blobs().await.unwrap();
    assert_eq!((report.sealed, report.skipped), (6, 0));
    assert_eq!(reg.encryption_status().await.unwrap().unsealed_blobs, 0);
    for (d, b) in digests.iter().zip(&blobs) {
        assert_eq!(&read(&reg, &repo, d, 0, u64::MAX).await.unwrap(), b);
        assert!(files_containing(f.dir.path(), &b[1000..1032]).is_empty());
    }
    assert_eq!(read(&reg, &repo, &empty, 0, u64::MAX).await.unwrap(), b"");
    // A second run finds nothing to do.
    assert_eq!(reg.seal_legacy_blobs().await.unwrap().sealed, 0);
}

#[tokio::test]
async fn master_key_rotation_rewraps_without_rewriting_blobs() {
    let f = Fixture::new().await;
    let (k1, k2) = (master::random_key(), master::random_key());
    let v1 = || MasterKeyring::single(1, &k1);
    let both = || {
        MasterKeyring::parse(&format!(
            "{}{}",
            master::keyring_line(1, &k1).as_str(),
            master::keyring_line(2, &k2).as_str()
        ))
        .unwrap()
    };
    let reg = f.registry(Keys::with_master(v1(), true));
    reg.check_master_keys().await.unwrap();
    let repo = f.repo(&reg, "enc/rotate", RepoSettings::default()).await;
    let bytes = pattern(90_000, 20);
    let d = push(&reg, &repo, &bytes).await;
    let stored = std::fs::read(f.blob_path(&d)).unwrap();

    let reg = f.registry(Keys::with_master(both(), true));
    reg.check_master_keys().await.unwrap();
    let r = reg.rewrap_data_keys(false).await.unwrap();
    assert!(r.master >= 1 && r.skipped == 0, "{r:?}");
    let wraps = reg.encryption_status().await.unwrap().wraps;
    assert!(wraps.iter().all(|(k, _)| k == "master:2"), "{wraps:?}");
    assert_eq!(
        std::fs::read(f.blob_path(&d)).unwrap(),
        stored,
        "blob bytes untouched"
    );

    // Version 1 can go now: a keyring of version 2 alone reads everything.
    let only2 = MasterKeyring::single(2, &k2);
    let reg = f.registry(Keys::with_master(only2, true));
    reg.check_master_keys().await.unwrap();
    assert_eq!(read(&reg, &repo, &d, 0, u64::MAX).await.unwrap(), bytes);

    // A wrong key for a recorded version stops start-up.
    let wrong = f.registry(Keys::with_master(
        MasterKeyring::single(2, &master::random_key()),
        true,
    ));
    let e = wrong.check_master_keys().await.unwrap_err();
    assert!(e.to_string().contains("wrong master key"), "{e}");
}

#[tokio::test]
async fn a_version_still_wrapping_keys_cannot_be_dropped() {
    let f = Fixture::new().await;
    let k1 = master::random_key();
    let reg = f.registry(Keys::with_master(MasterKeyring::single(1, &k1), true));
    reg.check_master_keys().await.unwrap();
    let repo = f.repo(&reg, "enc/drop", RepoSettings::default()).await;
    push(&reg, &repo, &pattern(1000, 30)).await;
    let reg = f.registry(Keys::with_master(
        MasterKeyring::single(2, &master::random_key()),
        true,
    ));
    let e = reg.check_master_keys().await.unwrap_err();
    assert!(e.to_string().contains("missing from the keyring"), "{e}");
}
