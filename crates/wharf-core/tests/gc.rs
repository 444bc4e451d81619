//! The garbage-collection protocol, step by step: the grace period, dry runs, and what happens
//! when an upload, a mount or a manifest push lands while a pass has a blob's bytes in its trash.
//! A blob store wrapper runs a scenario's concurrent action right after the pass trashes a blob.

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::StreamExt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use wharf_blob::{Appended, BlobError, BlobStore, ByteStream, FileInfo, FsBlobStore, Ingest};
use wharf_core::{GcOptions, GcReport, Registry, Repo};
use wharf_meta::{MetaStore, RepoSettings};
use wharf_oci::{Digest, Reference};

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const GRACE: Duration = Duration::from_secs(1);
/// Long enough for anything recorded before it to be past `GRACE` (times are whole seconds).
const PAST_GRACE: Duration = Duration::from_millis(2100);

type Hook = Box<dyn FnOnce(Digest) -> BoxFuture<'static, ()> + Send>;

/// The filesystem store, running a one-shot hook right after it trashes a blob.
struct Hooked {
    inner: FsBlobStore,
    hook: Mutex<Option<Hook>>,
}

type Fut<'a, T> = Pin<Box<dyn Future<Output = Result<T, BlobError>> + Send + 'a>>;

/// Delegates one `BlobStore` method to the inner store, with the signature `async_trait` gives
/// it (one lifetime per reference argument, listed in the angle brackets).
macro_rules! delegate {
    ($name:ident <$($lt:lifetime),*> ($($arg:ident : $ty:ty),*) -> $out:ty) => {
        fn $name<'s, $($lt,)* 'a>(&'s self, $($arg: $ty),*) -> Fut<'a, $out>
        where
            's: 'a,
            $($lt: 'a,)*
            Self: 'a,
        {
            Box::pin(self.inner.$name($($arg),*))
        }
    };
}

impl BlobStore for Hooked {
    delegate!(stat<'d>(digest: &'d Digest) -> Option<u64>);
    delegate!(read<'d>(digest: &'d Digest, offset: u64, len: u64) -> ByteStream);
    delegate!(create_upload<'i>(id: &'i str) -> ());
    delegate!(upload_size<'i>(id: &'i str) -> Option<u64>);
    delegate!(append_upload<'i>(id: &'i str, offset: u64, body: ByteStream, ingest: Ingest) -> Appended);
    delegate!(read_upload<'i>(id: &'i str) -> ByteStream);
    delegate!(commit_upload<'i, 'd>(id: &'i str, digest: &'d Digest, replace: bool) -> bool);
    delegate!(delete_upload<'i>(id: &'i str) -> ());
    delegate!(delete<'d>(digest: &'d Digest) -> ());
    delegate!(restore<'d>(digest: &'d Digest, token: u64) -> bool);
    delegate!(purge_trash<'d>(digest: &'d Digest, token: u64) -> ());
    delegate!(list_trash<>() -> Vec<(Digest, u64)>);
    delegate!(owner<>() -> Option<String>);
    delegate!(set_owner<'i>(id: &'i str) -> ());
    fn blob_listing(&self) -> wharf_blob::BlobListing<'_> {
        self.inner.blob_listing()
    }
    delegate!(list_uploads<>() -> Vec<(String, FileInfo)>);

    fn trash<'s, 'd, 'a>(&'s self, digest: &'d Digest, token: u64) -> Fut<'a, Option<FileInfo>>
    where
        's: 'a,
        'd: 'a,
        Self: 'a,
    {
        Box::pin(async move {
            let trashed = self.inner.trash(digest, token).await?;
            let hook = self.hook.lock().unwrap().take();
            if let Some(hook) = hook {
                hook(digest.clone()).await;
            }
            Ok(trashed)
        })
    }
}

struct Fixture {
    dir: tempfile::TempDir,
    store: Arc<Hooked>,
    reg: Registry,
    meta: MetaStore,
    repo: Repo,
}

impl Fixture {
    async fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Hooked {
            inner: FsBlobStore::open(dir.path().join("blobs")).unwrap(),
            hook: Mutex::new(None),
        });
        let meta = wharf_meta::testing::store(dir.path()).await;
        // Plaintext blobs: these tests place bytes at addresses themselves (uploads between
        // rename and record, orphans); sealed blobs under GC load are tests/gc.rs of wharf-api.
        let reg = Registry::new(store.clone(), meta.clone());
        let account = meta.default_account().parse().unwrap();
        let repo = Repo::new(account, "gc/test".parse().unwrap());
        reg.create_repository(&repo, &RepoSettings::default(), &[])
            .await
            .unwrap();
        Fixture {
            dir,
            store,
            reg,
            meta,
            repo,
        }
    }

    /// Runs `hook` right after the next blob the pass trashes.
    fn on_trash<F>(&self, hook: impl FnOnce(Registry, Digest) -> F + Send + 'static)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let reg = self.reg.clone();
        *self.store.hook.lock().unwrap() = Some(Box::new(move |d| Box::pin(hook(reg, d))));
    }

    async fn gc(&self, dry_run: bool) -> GcReport {
        let r = self
            .reg
            .collect_garbage(GcOptions {
                grace: GRACE,
                upload_max_age: Duration::from_secs(3600),
                dry_run,
            })
            .await
            .unwrap();
        assert!(r.ran);
        r
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("blobs")
    }

    fn blob_path(&self, d: &Digest) -> PathBuf {
        self.root()
            .join("blobs")
            .join(d.algorithm().as_str())
            .join(&d.hex()[..2])
            .join(d.hex())
    }

    /// Whether the blob has a row (in this repository) and bytes at its address.
    async fn present(&self, d: &Digest) -> (bool, bool) {
        (
            self.reg.blob_size(&self.repo, d).await.is_ok(),
            self.blob_path(d).exists(),
        )
    }

    async fn read(&self, d: &Digest) -> Vec<u8> {
        let size = self.reg.blob_size(&self.repo, d).await.unwrap();
        let parts: Vec<_> = self
            .reg
            .read_blob(&self.repo, d, 0, size)
            .await
            .unwrap()
            .collect()
            .await;
        parts
            .into_iter()
            .flat_map(|p| p.unwrap().to_vec())
            .collect()
    }

    fn trash_is_empty(&self) -> bool {
        std::fs::read_dir(self.root().join("trash")).map_or(true, |mut d| d.next().is_none())
    }
}

async fn push(reg: &Registry, repo: &Repo, bytes: &[u8]) -> Digest {
    let digest = Digest::sha256(bytes);
    let body = Bytes::copy_from_slice(bytes);
    let body: ByteStream = futures::stream::once(async move { Ok(body) }).boxed();
    reg.push_blob(repo, &digest, body).await.unwrap();
    digest
}

fn image(config: &Digest, config_len: usize) -> Vec<u8> {
    format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{config}","size":{config_len}}},"layers":[]}}"#
    )
    .into_bytes()
}

async fn put_image(reg: &Registry, repo: &Repo, tag: &str, config: &Digest, len: usize) -> Digest {
    let body = image(config, len);
    reg.put_manifest(
        repo,
        &Reference::Tag(tag.parse().unwrap()),
        &[],
        Some(OCI_MANIFEST),
        &body,
    )
    .await
    .unwrap()
    .digest
}

fn set_mtime(path: &Path, age: Duration) {
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(SystemTime::now() - age).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grace_is_honoured_and_dry_run_frees_nothing() {
    let f = Fixture::new().await;
    let kept = push(&f.reg, &f.repo, b"referenced config").await;
    put_image(&f.reg, &f.repo, "v1", &kept, 17).await;
    let garbage = push(&f.reg, &f.repo, b"nobody references me").await;
    // Within the grace period nothing goes, and a dry run reports nothing.
    assert_eq!(f.gc(true).await.blobs, 0);
    assert_eq!(f.gc(false).await.blobs, 0);
    assert_eq!(f.present(&garbage).await, (true, true));

    tokio::time::sleep(PAST_GRACE).await;
    let dry = f.gc(true).await;
    assert_eq!((dry.blobs, dry.blob_bytes), (1, 20));
    assert_eq!(
        f.present(&garbage).await,
        (true, true),
        "a dry run frees nothing"
    );

    let real = f.gc(false).await;
    assert_eq!((real.blobs, real.blob_bytes, real.revived), (1, 20, 0));
    assert_eq!(f.present(&garbage).await, (false, false));
    assert_eq!(f.present(&kept).await, (true, true));
    assert_eq!(f.read(&kept).await, b"referenced config");
    assert!(f.trash_is_empty());
    assert_eq!(
        f.gc(false).await,
        GcReport {
            ran: true,
            ..GcReport::default()
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_manifest_restarts_the_grace_period() {
    let f = Fixture::new().await;
    let config = push(&f.reg, &f.repo, b"config of a deleted image").await;
    let m = put_image(&f.reg, &f.repo, "v1", &config, 25).await;
    tokio::time::sleep(PAST_GRACE).await;
    f.reg
        .delete_manifest(&f.repo, &Reference::Digest(m))
        .await
        .unwrap();
    // Old, but it lost its last reference just now.
    assert_eq!(f.gc(false).await.blobs, 0);
    tokio::time::sleep(PAST_GRACE).await;
    assert_eq!(f.gc(false).await.blobs, 1);
    assert_eq!(f.present(&config).await, (false, false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_during_collection_revives_the_blob() {
    let f = Fixture::new().await;
    let d = push(&f.reg, &f.repo, b"mounted while being collected").await;
    tokio::time::sleep(PAST_GRACE).await;
    // A mount records the blob while its bytes are in the trash.
    let meta = f.meta.clone();
    let repo = f.repo.clone();
    f.on_trash(move |_, d| async move {
        let other = wharf_meta::RepoKey {
            account: repo.account.as_str(),
            name: "gc/other",
        };
        meta.record_blob(other, &d, 29, None, None).await.unwrap();
    });
    let r = f.gc(false).await;
    assert_eq!((r.blobs, r.revived), (0, 1));
    assert_eq!(f.present(&d).await, (true, true));
    assert_eq!(f.read(&d).await, b"mounted while being collected");
    assert!(f.trash_is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_during_collection_wins() {
    let f = Fixture::new().await;
    let bytes = b"uploaded again while being collected";
    let d = push(&f.reg, &f.repo, bytes).await;
    tokio::time::sleep(PAST_GRACE).await;
    // The same blob is pushed again: new bytes at the address, and a record that revives it.
    let repo = f.repo.clone();
    f.on_trash(move |reg, _| async move {
        push(&reg, &repo, bytes).await;
    });
    let r = f.gc(false).await;
    assert_eq!((r.blobs, r.revived), (0, 1));
    assert_eq!(f.present(&d).await, (true, true));
    assert_eq!(f.read(&d).await, bytes);
    assert!(f.trash_is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manifest_pushed_during_collection_keeps_its_blob() {
    let f = Fixture::new().await;
    let d = push(&f.reg, &f.repo, b"referenced while being collected").await;
    tokio::time::sleep(PAST_GRACE).await;
    let repo = f.repo.clone();
    f.on_trash(move |reg, d| async move {
        put_image(&reg, &repo, "late", &d, 32).await;
    });
    let r = f.gc(false).await;
    assert_eq!((r.blobs, r.revived), (0, 1));
    assert_eq!(f.read(&d).await, b"referenced while being collected");
    // And it stays while referenced.
    tokio::time::sleep(PAST_GRACE).await;
    assert_eq!(f.gc(false).await.blobs, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sweep_that_wins_leaves_the_address_to_a_later_upload() {
    let f = Fixture::new().await;
    let bytes = b"collected, then uploaded again";
    let d = push(&f.reg, &f.repo, bytes).await;
    tokio::time::sleep(PAST_GRACE).await;
    assert_eq!(f.gc(false).await.blobs, 1);
    assert_eq!(f.present(&d).await, (false, false));
    push(&f.reg, &f.repo, bytes).await;
    assert_eq!(f.read(&d).await, bytes);
    assert_eq!(f.gc(false).await.blobs, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_but_unrecorded_bytes_are_left_alone() {
    let f = Fixture::new().await;
    let bytes = b"an upload between its rename and its record";
    let d = push(&f.reg, &f.repo, bytes).await;
    tokio::time::sleep(PAST_GRACE).await;
    // Another upload of the same digest has just put fresh bytes at the address and is about to
    // record them: the row is old, but the bytes are not.
    let store = FsBlobStore::open(f.root()).unwrap();
    store.create_upload("fresh-upload").await.unwrap();
    let body: ByteStream =
        futures::stream::once(async move { Ok(Bytes::from_static(bytes)) }).boxed();
    store
        .append_upload(
            "fresh-upload",
            0,
            body,
            Ingest::plain(d.algorithm().hasher()),
        )
        .await
        .unwrap();
    store.commit_upload("fresh-upload", &d, true).await.unwrap();
    let r = f.gc(false).await;
    assert_eq!((r.blobs, r.revived), (0, 1));
    assert_eq!(f.present(&d).await, (true, true));
    // The upload records; the blob lives on. Had it never recorded, a later pass collects it.
    assert_eq!(f.read(&d).await, bytes);
    set_mtime(&f.blob_path(&d), Duration::from_secs(60));
    assert_eq!(f.gc(false).await.blobs, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orphans_and_interrupted_passes() {
    let f = Fixture::new().await;
    let store = FsBlobStore::open(f.root()).unwrap();
    // Blob bytes without a row (a crash between rename and record): old ones go, fresh ones stay.
    let mut orphans = Vec::new();
    for (i, age) in [(0u8, 60u64), (1, 0)] {
        let bytes = vec![i; 100];
        let d = Digest::sha256(&bytes);
        let id = format!("orphan-{i}");
        store.create_upload(&id).await.unwrap();
        let body: ByteStream = futures::stream::once(async move { Ok(Bytes::from(bytes)) }).boxed();
        store
            .append_upload(&id, 0, body, Ingest::plain(d.algorithm().hasher()))
            .await
            .unwrap();
        store.commit_upload(&id, &d, true).await.unwrap();
        if age > 0 {
            set_mtime(&f.blob_path(&d), Duration::from_secs(age));
        }
        orphans.push(d);
    }
    // Scratch files: an old one without a session goes; a fresh one and a session's stay.
    store.create_upload("scratch-old").await.unwrap();
    std::fs::write(f.root().join("uploads/scratch-old"), b"12345").unwrap();
    set_mtime(
        &f.root().join("uploads/scratch-old"),
        Duration::from_secs(60),
    );
    store.create_upload("scratch-new").await.unwrap();
    let session = f.reg.start_upload(&f.repo).await.unwrap();
    set_mtime(
        &f.root().join("uploads").join(&session.id),
        Duration::from_secs(60),
    );
    // A recorded blob whose bytes an interrupted pass left in its trash.
    let stranded = push(&f.reg, &f.repo, b"stranded in the trash").await;
    assert!(store.trash(&stranded, 42).await.unwrap().is_some());

    let dry = f.gc(true).await;
    assert_eq!((dry.orphans, dry.orphan_bytes), (1, 100));
    assert_eq!((dry.uploads, dry.upload_bytes), (1, 5));
    assert!(f.blob_path(&orphans[0]).exists());

    let r = f.gc(false).await;
    assert_eq!(
        (r.orphans, r.orphan_bytes, r.uploads, r.upload_bytes),
        (1, 100, 1, 5)
    );
    assert!(!f.blob_path(&orphans[0]).exists());
    assert!(f.blob_path(&orphans[1]).exists());
    assert!(!f.root().join("uploads/scratch-old").exists());
    assert!(f.root().join("uploads/scratch-new").exists());
    assert!(f.root().join("uploads").join(&session.id).exists());
    assert_eq!(f.read(&stranded).await, b"stranded in the trash");
    assert!(f.trash_is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abandoned_sessions_are_purged() {
    let f = Fixture::new().await;
    let session = f.reg.start_upload(&f.repo).await.unwrap();
    tokio::time::sleep(PAST_GRACE).await;
    let r = f
        .reg
        .collect_garbage(GcOptions {
            grace: GRACE,
            upload_max_age: Duration::from_secs(1),
            dry_run: false,
        })
        .await
        .unwrap();
    assert_eq!(r.uploads, 1);
    assert!(f.reg.upload_status(&f.repo, &session.id).await.is_err());
    assert!(!f.root().join("uploads").join(&session.id).exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_pass_at_a_time() {
    let f = Fixture::new().await;
    assert!(f.meta.gc_acquire_lease(7, 60).await.unwrap());
    let r = f
        .reg
        .collect_garbage(GcOptions {
            grace: GRACE,
            upload_max_age: Duration::from_secs(3600),
            dry_run: false,
        })
        .await
        .unwrap();
    assert!(!r.ran);
    f.meta.gc_release_lease(7).await.unwrap();
    f.gc(false).await;
}
