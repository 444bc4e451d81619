//! Benchmark of one online garbage-collection pass over 100,000 blobs (issue 4): wall time and
//! peak memory of a dry run, a real pass that frees half the blobs, and a second real pass with
//! nothing left to free (the steady state of the interval job).
//!
//! The scenario is a repository after a lifecycle expiry: `BENCH_GC_BLOBS` (default 100,000) 1 KiB
//! blobs are pushed through `Registry::push_blob` (bytes fsynced, rows group-committed, as a
//! monolithic push does), grouped ten to an image (one config, nine layers) whose manifests are
//! pushed through `Registry::put_manifest`; then every other image is deleted, so half the blobs
//! lose their last reference. Grace is 0, so every unreferenced blob is collectible.
//!
//! Each pass runs in a child process (this binary re-executed with `--gc-pass`), so its `VmHWM`
//! is the pass's own peak plus the baseline of a process that opened the stores, which is
//! reported beside it. After its pass the child also times, on its own, the loop the pass ends
//! with (list every blob file, then look their rows up 500 at a time), to show how much of the
//! pass that orphan scan is.
//!
//! `cargo bench -p wharf-core --bench gc` runs the full size; without `--bench` (as
//! `cargo test --benches` runs it) it does a 100-blob smoke run unless `BENCH_GC_BLOBS` is set.

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wharf_blob::{ByteStream, FsBlobStore};
use wharf_core::{GcOptions, GcReport, Registry, Repo};
use wharf_meta::{MetaStore, RepoSettings};
use wharf_oci::{Algorithm, Digest, Reference};

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const BLOB_BYTES: usize = 1024;
const BLOBS_PER_IMAGE: usize = 10;
/// Concurrent pushes while populating (the group commit of `record_blob` needs several).
const PUSH_CONCURRENCY: usize = 32;

type Error = Box<dyn std::error::Error + Send + Sync>;

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--gc-pass") {
        let (dir, mode) = match (args.get(2), args.get(3)) {
            (Some(dir), Some(mode)) => (dir, mode),
            _ => return Err("usage: gc --gc-pass <data dir> dry|real".into()),
        };
        return runtime()?.block_on(child_pass(Path::new(dir), mode == "dry"));
    }
    let full = args.iter().any(|a| a == "--bench");
    let blobs = match std::env::var("BENCH_GC_BLOBS") {
        Ok(v) => v.parse().map_err(|_| "BENCH_GC_BLOBS must be a number")?,
        Err(_) if full => 100_000,
        Err(_) => 100,
    };
    runtime()?.block_on(parent(blobs))
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}

async fn open(dir: &Path) -> Result<(Registry, MetaStore, FsBlobStore), Error> {
    let store = FsBlobStore::open(dir.join("blobs"))?;
    let meta = MetaStore::open_sqlite(&dir.join("meta.db")).await?;
    let reg = Registry::new(Arc::new(store.clone()), meta.clone());
    Ok((reg, meta, store))
}

/// Populates a fresh data dir, runs the three passes in child processes and prints the table.
async fn parent(blobs: usize) -> Result<(), Error> {
    let tmp = tempfile::Builder::new()
        .prefix("wharf-gc-bench")
        .tempdir()?;
    let dir = tmp.path();
    let (reg, meta, _) = open(dir).await?;
    let repo = Repo::new(
        meta.default_account().parse()?,
        "bench/gc".parse().map_err(|_| "repository name")?,
    );
    reg.create_repository(&repo, &RepoSettings::default(), &[])
        .await?;

    let started = Instant::now();
    let digests = push_blobs(&reg, &repo, blobs).await?;
    let push_secs = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let images = push_images(&reg, &repo, &digests).await?;
    let manifest_secs = started.elapsed().as_secs_f64();
    let started = Instant::now();
    for image in images.iter().step_by(2) {
        reg.delete_manifest(&repo, &Reference::Digest(image.clone()))
            .await?;
    }
    let delete_secs = started.elapsed().as_secs_f64();
    let referenced = images.len().div_ceil(2) * BLOBS_PER_IMAGE;
    let garbage = (blobs - referenced) as u64;
    eprintln!(
        "populated {blobs} blobs in {push_secs:.1} s, {} manifests in {manifest_secs:.1} s, \
         deleted {} in {delete_secs:.1} s; {garbage} blobs are garbage",
        images.len(),
        images.len() / 2,
    );
    meta.close().await;
    drop((reg, meta));
    // Times in SQL are whole seconds and grace 0 means "touched before this second": wait one.
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let dry = run_child(dir, "dry")?;
    let real = run_child(dir, "real")?;
    let again = run_child(dir, "real")?;
    check("dry run", dry.report.blobs, garbage)?;
    check("real pass", real.report.blobs, garbage)?;
    check("second pass", again.report.blobs, 0)?;

    println!();
    println!(
        "GC pass over {blobs} blobs ({} referenced by {} manifests, {garbage} garbage, \
         {BLOB_BYTES} B each, grace 0)",
        referenced,
        images.len() - images.len() / 2
    );
    println!();
    println!(
        "| pass | blobs freed | wall time (s) | blobs/s | of which orphan scan (s, re-timed) \
         | process peak VmHWM (MiB) | baseline VmRSS before pass (MiB) |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (name, p, n) in [
        ("dry run", &dry, blobs),
        ("real", &real, blobs),
        ("real, nothing to free", &again, referenced),
    ] {
        println!(
            "| {name} | {} | {:.2} | {:.0} | {:.2} | {:.1} | {:.1} |",
            p.report.blobs,
            p.secs,
            n as f64 / p.secs,
            p.scan_secs,
            p.hwm_kb as f64 / 1024.0,
            p.rss_before_kb as f64 / 1024.0,
        );
    }
    println!();
    println!(
        "blobs/s counts the blobs the pass had to look at: all of them, or only those left \
         after the real pass."
    );
    Ok(())
}

fn check(what: &str, got: u64, want: u64) -> Result<(), Error> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what} freed {got} blobs, expected {want}").into())
    }
}

/// Pushes `n` distinct 1 KiB blobs, `PUSH_CONCURRENCY` at a time; returns their digests in order.
async fn push_blobs(reg: &Registry, repo: &Repo, n: usize) -> Result<Vec<Digest>, Error> {
    futures::stream::iter(0..n)
        .map(|i| async move {
            let mut bytes = format!("wharf gc bench blob {i}\n").into_bytes();
            bytes.resize(BLOB_BYTES, b'.');
            let digest = Digest::of(Algorithm::Sha256, &bytes);
            let body: ByteStream =
                futures::stream::once(async move { Ok(Bytes::from(bytes)) }).boxed();
            reg.push_blob(repo, &digest, body).await?;
            Ok::<_, Error>(digest)
        })
        .buffered(PUSH_CONCURRENCY)
        .try_collect()
        .await
}

/// Pushes one manifest per `BLOBS_PER_IMAGE` blobs (a config and the rest as layers).
async fn push_images(reg: &Registry, repo: &Repo, blobs: &[Digest]) -> Result<Vec<Digest>, Error> {
    let descriptor = |media: &str, d: &Digest| {
        format!(r#"{{"mediaType":"{media}","digest":"{d}","size":{BLOB_BYTES}}}"#)
    };
    let mut images = Vec::with_capacity(blobs.len() / BLOBS_PER_IMAGE);
    for group in blobs.chunks_exact(BLOBS_PER_IMAGE) {
        let layers: Vec<String> = group[1..]
            .iter()
            .map(|d| descriptor("application/vnd.oci.image.layer.v1.tar+gzip", d))
            .collect();
        let body = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{},"layers":[{}]}}"#,
            descriptor("application/vnd.oci.image.config.v1+json", &group[0]),
            layers.join(",")
        );
        let digest = Digest::of(Algorithm::Sha256, body.as_bytes());
        reg.put_manifest(
            repo,
            &Reference::Digest(digest.clone()),
            &[],
            Some(OCI_MANIFEST),
            body.as_bytes(),
        )
        .await?;
        images.push(digest);
    }
    Ok(images)
}

/// What a child process measured.
struct Pass {
    report: GcReport,
    secs: f64,
    scan_secs: f64,
    rss_before_kb: u64,
    hwm_kb: u64,
}

fn run_child(dir: &Path, mode: &str) -> Result<Pass, Error> {
    let out = Command::new(std::env::current_exe()?)
        .arg("--gc-pass")
        .arg(dir)
        .arg(mode)
        .output()?;
    if !out.status.success() {
        return Err(format!(
            "{mode} pass failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    let line = String::from_utf8(out.stdout)?;
    let field = |name: &str| -> Result<&str, Error> {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
            .ok_or_else(|| format!("child output lacks {name}: {line}").into())
    };
    Ok(Pass {
        report: GcReport {
            blobs: field("blobs")?.parse()?,
            blob_bytes: field("blob_bytes")?.parse()?,
            orphans: field("orphans")?.parse()?,
            revived: field("revived")?.parse()?,
            ran: true,
            ..GcReport::default()
        },
        secs: field("secs")?.parse()?,
        scan_secs: field("scan_secs")?.parse()?,
        rss_before_kb: field("rss_before_kb")?.parse()?,
        hwm_kb: field("hwm_kb")?.parse()?,
    })
}

/// The child: one pass over the populated dir, then the orphan scan re-timed on its own.
async fn child_pass(dir: &Path, dry_run: bool) -> Result<(), Error> {
    let (reg, meta, store) = open(dir).await?;
    let rss_before_kb = proc_status_kb("VmRSS")?;
    let started = Instant::now();
    let report = reg
        .collect_garbage(GcOptions {
            grace: Duration::ZERO,
            upload_max_age: Duration::from_secs(3600),
            dry_run,
        })
        .await?;
    let secs = started.elapsed().as_secs_f64();
    // Read before the re-timed scan below, which allocates its own listing.
    let hwm_kb = proc_status_kb("VmHWM")?;
    if !report.ran {
        return Err("another pass held the lease".into());
    }
    if report.orphans != 0 || report.revived != 0 {
        return Err(format!("unexpected orphans or revivals: {report:?}").into());
    }

    let started = Instant::now();
    let files = wharf_blob::BlobStore::list_blobs(&store).await?;
    for chunk in files.chunks(500) {
        let digests: Vec<_> = chunk.iter().map(|(d, _)| d.clone()).collect();
        meta.blobs_recorded(&digests).await?;
    }
    let scan_secs = started.elapsed().as_secs_f64();
    println!(
        "blobs={} blob_bytes={} orphans={} revived={} secs={secs} scan_secs={scan_secs} \
         rss_before_kb={rss_before_kb} hwm_kb={hwm_kb}",
        report.blobs, report.blob_bytes, report.orphans, report.revived
    );
    meta.close().await;
    Ok(())
}

/// A `kB` field of `/proc/self/status` (Linux only; 0 elsewhere).
fn proc_status_kb(field: &str) -> Result<u64, Error> {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return Ok(0);
    };
    let value = status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .ok_or_else(|| format!("/proc/self/status has no {field}"))?;
    Ok(value.trim().trim_end_matches("kB").trim().parse()?)
}
