//! Online garbage collection under load: many clients push (monolithic and chunked; new images
//! and deleted ones again), retag, delete and pull over HTTP while collection passes run back to back with a one-second grace.
//! Afterwards every acknowledged image pulls byte-exact, and nothing unreferenced older than the
//! grace period is left: no row, no blob file, no trash.

mod common;

use common::{image_manifest, sha256, Server, OCI_MANIFEST};
use futures::StreamExt;
use reqwest::{Method, StatusCode};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use wharf_blob::{Appended, BlobError, BlobStore, ByteStream, FileInfo, FsBlobStore, Ingest};
use wharf_core::{GcOptions, GcReport, Registry};
use wharf_oci::Digest;

const CLIENTS: u64 = 12;
const RUN: Duration = Duration::from_secs(10);
const GRACE: Duration = Duration::from_secs(1);
const REPOS: [&str; 3] = ["gc/a", "gc/b", "gc/c"];
/// Layers drawn from a small shared pool, so deleted images leave blobs that later pushes
/// upload and reference again while passes are collecting them.
const SHARED_LAYERS: u64 = 128;

/// How long the passes keep a blob's bytes in trash before deciding: wide enough that uploads,
/// records and manifest pushes regularly land between a blob's trash and its sweep.
const TRASH_DELAY_MS: u64 = 40;

/// The server's filesystem store as the passes see it: trashing takes a while.
struct SlowTrash {
    inner: FsBlobStore,
    ticks: AtomicU64,
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

impl BlobStore for SlowTrash {
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
            let n = self.ticks.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(n % (TRASH_DELAY_MS + 1))).await;
            Ok(trashed)
        })
    }
}

/// An image whose manifest push was acknowledged and that has not been deleted.
#[derive(Clone)]
struct Image {
    /// The client that pushed it: only it retags or deletes it, so a retag never races a delete
    /// (which would push the deleted manifest again).
    owner: u64,
    repo: &'static str,
    digest: String,
    manifest: Vec<u8>,
    blobs: Vec<(String, Vec<u8>)>,
    /// When it was deleted, for images in the deleted list.
    deleted_at: Option<Instant>,
}

#[derive(Default)]
struct Counts {
    pushed: AtomicU64,
    rejected: AtomicU64,
    retagged: AtomicU64,
    deleted: AtomicU64,
    pulled: AtomicU64,
    passes: AtomicU64,
}

/// A small deterministic generator, one per client.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn shared_layer(i: u64) -> Vec<u8> {
    (0..1000 + i * 10).map(|j| (j * 7 + i * 31) as u8).collect()
}

/// Pushes a blob monolithically or in chunks; `false` when the registry refused it.
async fn push_blob(s: &Server, repo: &str, bytes: &[u8], chunked: bool) -> bool {
    let digest = sha256(bytes);
    if !chunked {
        let resp = s
            .req(
                Method::POST,
                &format!("/v2/{repo}/blobs/uploads/?digest={digest}"),
            )
            .body(bytes.to_vec())
            .send()
            .await
            .expect("POST blob");
        return resp.status() == StatusCode::CREATED;
    }
    let loc = s.start_upload(repo).await;
    let half = bytes.len() / 2;
    if s.patch(&loc, Some(0), &bytes[..half]).await.status() != StatusCode::ACCEPTED {
        return false;
    }
    s.finish(&loc, &digest, &bytes[half..]).await.status() == StatusCode::CREATED
}

/// Pulls an image and checks every byte; `Err` says what differed.
async fn pull(s: &Server, img: &Image) -> Result<(), String> {
    let resp = s
        .req(
            Method::GET,
            &format!("/v2/{}/manifests/{}", img.repo, img.digest),
        )
        .header("accept", OCI_MANIFEST)
        .send()
        .await
        .expect("GET manifest");
    if resp.status() != StatusCode::OK {
        return Err(format!("manifest {}: {}", img.digest, resp.status()));
    }
    if resp.bytes().await.expect("manifest body") != img.manifest {
        return Err(format!("manifest {} bytes differ", img.digest));
    }
    for (d, bytes) in &img.blobs {
        let resp = s.get(&format!("/v2/{}/blobs/{d}", img.repo)).await;
        let status = resp.status();
        let body = resp.bytes().await.expect("blob body");
        if status != StatusCode::OK || body != *bytes {
            return Err(format!(
                "blob {d} of {}: {status} {}",
                img.digest,
                String::from_utf8_lossy(&body[..body.len().min(300)])
            ));
        }
    }
    Ok(())
}

async fn client(
    s: Arc<Server>,
    id: u64,
    live: Arc<Mutex<Vec<Image>>>,
    deleted: Arc<Mutex<Vec<Image>>>,
    counts: Arc<Counts>,
) {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ ((id + 1) * 0x1000_0001));
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < RUN {
        n += 1;
        let pick = |rng: &mut Rng| {
            let live = live.lock().unwrap();
            (!live.is_empty()).then(|| live[rng.below(live.len() as u64) as usize].clone())
        };
        // The index in `live` of one of this client's images.
        let own = |rng: &mut Rng, live: &[Image]| {
            let mine: Vec<usize> = (0..live.len()).filter(|&i| live[i].owner == id).collect();
            (!mine.is_empty()).then(|| mine[rng.below(mine.len() as u64) as usize])
        };
        match rng.below(10) {
            // Push an image: a unique config, a shared layer and sometimes a unique one.
            // Or push a deleted image again: its blobs are what the passes are collecting.
            0..=3 => {
                let again = if rng.below(4) == 0 {
                    // Deleted just over the grace period ago: the passes are collecting it now.
                    let mut deleted = deleted.lock().unwrap();
                    let ripe: Vec<usize> = (0..deleted.len())
                        .filter(|&i| {
                            deleted[i]
                                .deleted_at
                                .is_some_and(|t| t.elapsed() >= GRACE && t.elapsed() < GRACE * 3)
                        })
                        .collect();
                    (!ripe.is_empty())
                        .then(|| deleted.swap_remove(ripe[rng.below(ripe.len() as u64) as usize]))
                } else {
                    None
                };
                let (repo, blobs) = match again {
                    Some(img) => (img.repo, img.blobs),
                    None => {
                        let repo = REPOS[rng.below(REPOS.len() as u64) as usize];
                        let config = format!(r#"{{"client":{id},"n":{n}}}"#).into_bytes();
                        let mut blobs = vec![(sha256(&config), config)];
                        let shared = shared_layer(rng.below(SHARED_LAYERS));
                        blobs.push((sha256(&shared), shared));
                        if rng.below(2) == 0 {
                            let unique = format!("unique layer {id}/{n}").repeat(50).into_bytes();
                            blobs.push((sha256(&unique), unique));
                        }
                        (repo, blobs)
                    }
                };
                let mut ok = true;
                let mut first_ack = None;
                for (_, bytes) in &blobs {
                    ok &= push_blob(&s, repo, bytes, rng.below(3) == 0).await;
                    first_ack.get_or_insert_with(Instant::now);
                }
                assert!(ok, "blob pushes succeed");
                let layers: Vec<(&str, usize)> = blobs[1..]
                    .iter()
                    .map(|(d, b)| (d.as_str(), b.len()))
                    .collect();
                let manifest = image_manifest(OCI_MANIFEST, &blobs[0].0, blobs[0].1.len(), &layers)
                    .into_bytes();
                let resp = s
                    .put_manifest(repo, &format!("c{id}-{n}"), OCI_MANIFEST, &manifest)
                    .await;
                match resp.status() {
                    StatusCode::CREATED => {
                        counts.pushed.fetch_add(1, Ordering::Relaxed);
                        live.lock().unwrap().push(Image {
                            owner: id,
                            repo,
                            digest: sha256(&manifest),
                            manifest,
                            blobs,
                            deleted_at: None,
                        });
                    }
                    // A blob pushed more than the grace period ago may be collected before the
                    // manifest arrives: the push is refused, never half-accepted. Within the
                    // grace period, a refusal means an acknowledged blob push was lost.
                    StatusCode::BAD_REQUEST => {
                        let age = first_ack.map(|t| t.elapsed()).unwrap_or_default();
                        assert!(age >= GRACE, "blobs pushed {age:?} before were lost");
                        counts.rejected.fetch_add(1, Ordering::Relaxed);
                    }
                    other => panic!("manifest push: {other}"),
                }
            }
            // Retag an image.
            4 => {
                let img = {
                    let live = live.lock().unwrap();
                    own(&mut rng, &live).map(|i| live[i].clone())
                };
                if let Some(img) = img {
                    let resp = s
                        .put_manifest(img.repo, &format!("r{id}-{n}"), OCI_MANIFEST, &img.manifest)
                        .await;
                    assert_eq!(resp.status(), StatusCode::CREATED, "retag {}", img.digest);
                    counts.retagged.fetch_add(1, Ordering::Relaxed);
                }
            }
            // Delete an image (by digest, with its tags).
            5 => {
                let img = {
                    let mut live = live.lock().unwrap();
                    own(&mut rng, &live).map(|i| live.swap_remove(i))
                };
                if let Some(img) = img {
                    let resp = s
                        .delete(&format!("/v2/{}/manifests/{}", img.repo, img.digest))
                        .await;
                    assert_eq!(resp.status(), StatusCode::ACCEPTED, "delete {}", img.digest);
                    counts.deleted.fetch_add(1, Ordering::Relaxed);
                    deleted.lock().unwrap().push(Image {
                        deleted_at: Some(Instant::now()),
                        ..img
                    });
                }
            }
            // Pull an image and check every byte.
            _ => {
                if let Some(img) = pick(&mut rng) {
                    let mut tries = 0;
                    loop {
                        match pull(&s, &img).await {
                            Ok(()) => break,
                            Err(e) => {
                                let still_live =
                                    live.lock().unwrap().iter().any(|i| i.digest == img.digest);
                                // Deleted by another client after we picked it.
                                if !still_live {
                                    break;
                                }
                                tries += 1;
                                if tries >= 5 {
                                    let mut later = String::new();
                                    for _ in 0..20 {
                                        tokio::time::sleep(Duration::from_millis(100)).await;
                                        later = match pull(&s, &img).await {
                                            Ok(()) => "recovered".into(),
                                            Err(e) => e,
                                        };
                                        if later == "recovered" {
                                            break;
                                        }
                                    }
                                    panic!("acknowledged image failed to pull: {e} (2 s later: {later})");
                                }
                                tokio::time::sleep(Duration::from_millis(20)).await;
                            }
                        }
                    }
                    counts.pulled.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }
}

fn add(total: &mut GcReport, r: &GcReport) {
    total.blobs += r.blobs;
    total.blob_bytes += r.blob_bytes;
    total.uploads += r.uploads;
    total.orphans += r.orphans;
    total.revived += r.revived;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn gc_in_a_loop_never_loses_an_acknowledged_push() {
    let s = Arc::new(Server::start().await);
    let opts = GcOptions {
        grace: GRACE,
        upload_max_age: Duration::from_secs(3600),
        dry_run: false,
    };
    let live = Arc::new(Mutex::new(Vec::<Image>::new()));
    let deleted = Arc::new(Mutex::new(Vec::<Image>::new()));
    let counts = Arc::new(Counts::default());
    let stop = Arc::new(AtomicBool::new(false));

    // The passes run on their own `Registry` over the server's stores, with slow trashing.
    let collector = Registry::new(
        Arc::new(SlowTrash {
            inner: FsBlobStore::open(s.blob_root()).unwrap(),
            ticks: AtomicU64::new(0),
        }),
        s.registry.meta().clone(),
    );
    let gc = {
        let (registry, stop, counts) = (collector.clone(), stop.clone(), counts.clone());
        tokio::spawn(async move {
            let mut total = GcReport::default();
            while !stop.load(Ordering::Relaxed) {
                let r = registry.collect_garbage(opts).await.expect("gc pass");
                add(&mut total, &r);
                counts.passes.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            total
        })
    };
    let clients: Vec<_> = (0..CLIENTS)
        .map(|id| {
            tokio::spawn(client(
                s.clone(),
                id,
                live.clone(),
                deleted.clone(),
                counts.clone(),
            ))
        })
        .collect();
    for c in clients {
        c.await.expect("client");
    }
    stop.store(true, Ordering::Relaxed);
    let during = gc.await.expect("gc loop");

    let live = live.lock().unwrap().clone();

    // Once the grace period has passed, one more pass leaves no garbage behind.
    tokio::time::sleep(GRACE + Duration::from_millis(1100)).await;
    let last = collector.collect_garbage(opts).await.expect("final pass");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let meta = s.registry.meta();
    assert_eq!(
        meta.gc_garbage_count(now - GRACE.as_secs() as i64)
            .await
            .unwrap(),
        0,
        "unreferenced blobs older than the grace period remain"
    );
    // Every blob file has a row, and every acknowledged image that was not deleted pulls
    // byte-exact.
    let store = FsBlobStore::open(s.blob_root()).unwrap();
    for (d, _) in store.list_blobs().await.unwrap() {
        assert!(meta.blob_recorded(&d).await.unwrap(), "orphan file {d}");
    }
    assert!(store.list_trash().await.unwrap().is_empty(), "trash left");
    let failures: Vec<String> = futures::stream::iter(&live)
        .map(|img| pull(&s, img))
        .buffer_unordered(32)
        .filter_map(|r| async move { r.err() })
        .collect()
        .await;
    assert!(
        failures.is_empty(),
        "acknowledged images lost: {failures:?}"
    );
    // Blobs only deleted images referenced are gone, bytes and all; the others pull.
    let referenced: HashMap<&str, ()> = live
        .iter()
        .flat_map(|i| i.blobs.iter().map(|(d, _)| (d.as_str(), ())))
        .collect();
    let deleted = deleted.lock().unwrap().clone();
    let mut gone = 0;
    for img in &deleted {
        for (d, _) in &img.blobs {
            let digest: Digest = d.parse().unwrap();
            if !referenced.contains_key(d.as_str()) {
                assert_eq!(store.stat(&digest).await.unwrap(), None, "{d} kept");
                gone += 1;
            }
        }
    }
    // Abandoned scratch files: none (every client finished its uploads).
    assert!(s.scratch_files().is_empty(), "{:?}", s.scratch_files());

    let c = &counts;
    eprintln!(
        "pushed {} (refused {}), retagged {}, deleted {}, pulled {}; {} passes freed {} blobs \
         ({} bytes), revived {}; final pass freed {} blobs; {} deleted blobs verified gone",
        c.pushed.load(Ordering::Relaxed),
        c.rejected.load(Ordering::Relaxed),
        c.retagged.load(Ordering::Relaxed),
        c.deleted.load(Ordering::Relaxed),
        c.pulled.load(Ordering::Relaxed),
        c.passes.load(Ordering::Relaxed),
        during.blobs,
        during.blob_bytes,
        during.revived,
        last.blobs,
        gone,
    );
    // The run exercised what it claims to.
    assert!(c.pushed.load(Ordering::Relaxed) > 50);
    assert!(c.deleted.load(Ordering::Relaxed) > 10);
    assert!(c.passes.load(Ordering::Relaxed) > 10);
    assert!(
        during.blobs > 0,
        "passes collected nothing while clients ran"
    );
    assert!(gone > 0);
}
