//! Benchmark of image scanning (issue 10): the package inventory of a generated ~200 MB,
//! five-layer gzip image with 500 packages, and matching it against 100,000 generated OSV
//! records.
//!
//! What is timed (criterion):
//! - `scan/inventory`: `InventoryBuilder` over the five layers (inflate, tar walk, whiteouts,
//!   every cataloger), from layer bytes in memory; throughput in uncompressed bytes.
//! - `scan/walk-no-catalogers` and `scan/gunzip`: the same walk with no cataloger, and inflating
//!   the layers alone, to show what the inventory time is made of.
//! - `osv/parse`: `Advisory::parse` of every record, from JSON bytes in memory (not counting
//!   dropping the parsed records); `osv/json-skim`: serde_json reading the same bytes into
//!   `IgnoredAny`, the floor any typed parse of them stands on.
//! - `osv/index`: keying the parsed records by `Advisory::keys` (through `matching::index_key`)
//!   in a `HashMap`, as the SQL store indexes them.
//! - `match/inventory`: for every package of the inventory, `lookup_keys`, the candidates found
//!   under those keys, and `match_package` on each.
//!
//! Before timing, the bench checks the inventory (300 dpkg, 100 Python and 100 npm packages on
//! Debian 12) and that matching gives exactly the findings the OSV generator planted, so it
//! cannot measure a scanner that finds nothing. The walker's peak memory is measured in a child
//! process (this binary re-executed with `--walk-child`) that streams the layers from files, so
//! its `VmHWM` is the walk's own peak over a small baseline.
//!
//! `cargo bench -p wharf-scan --bench scan` (or `bench/scan.sh`) runs the full size; without
//! `--bench` (as `cargo test --benches` runs it) it makes an 8 MB image and 5,000 records.
//! `BENCH_SCAN_MB` and `BENCH_SCAN_RECORDS` override either size.

#[path = "scan/image.rs"]
mod image;
#[path = "scan/osv.rs"]
mod osv;

use criterion::{Criterion, SamplingMode, Throughput};
use std::collections::HashMap;
use std::hint::black_box;
use std::io::{self, Read};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use wharf_scan::matching::{index_key, lookup_keys, match_package};
use wharf_scan::{
    Advisory, Compression, Finding, Inventory, InventoryBuilder, Limits, PackageKind,
};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Runs of the memory-measuring child.
const MEMORY_RUNS: usize = 3;

/// xorshift64*: deterministic and dependency-free; quality is irrelevant here.
pub struct Rng(u64);

impl Rng {
    pub fn step(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (modulo bias is irrelevant at these sizes).
    pub fn below(&mut self, n: u64) -> u64 {
        self.step() % n.max(1)
    }
}

/// The advisories keyed as a store keys them: `index_key` of each of `Advisory::keys`.
type Index = HashMap<(String, String), Vec<u32>>;

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--walk-child") {
        let dir = args.get(2).ok_or("usage: scan --walk-child <layer dir>")?;
        return walk_child(Path::new(dir));
    }
    let full = args.iter().any(|a| a == "--bench");
    let mb: u64 = env_number("BENCH_SCAN_MB", if full { 200 } else { 8 })?;
    let records: usize = env_number("BENCH_SCAN_RECORDS", if full { 100_000 } else { 5_000 })?;

    let started = Instant::now();
    let image = image::generate(mb * 1_000_000);
    let uncompressed: u64 = image.tar_bytes.iter().sum();
    let compressed: usize = image.layers.iter().map(Vec::len).sum();
    println!(
        "image: {} layers, {:.1} MB uncompressed, {:.1} MB gzip (layers {}), generated in {:.1} s",
        image.layers.len(),
        uncompressed as f64 / 1e6,
        compressed as f64 / 1e6,
        image
            .layers
            .iter()
            .zip(&image.tar_bytes)
            .map(|(gz, tar)| format!("{:.1}/{:.1}", *tar as f64 / 1e6, gz.len() as f64 / 1e6))
            .collect::<Vec<_>>()
            .join(", "),
        started.elapsed().as_secs_f64()
    );

    let scanned = inventory(&image.layers)?;
    check_inventory(&scanned, image.expected)?;
    println!(
        "inventory: {} packages ({} deb, {} python, {} npm) on {}",
        scanned.packages.len(),
        image.expected.0,
        image.expected.1,
        image.expected.2,
        scanned
            .os
            .as_ref()
            .and_then(|os| os.pretty_name.clone())
            .unwrap_or_default()
    );
    walker_memory(&image.layers, uncompressed)?;

    let started = Instant::now();
    let db = osv::generate(&image.subjects, records);
    let json_bytes: usize = db.records.iter().map(Vec::len).sum();
    println!(
        "osv: {} records ({} planted for the image's names), {:.1} MB of JSON, generated in {:.1} s",
        db.records.len(),
        db.planted_records,
        json_bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    let advisories = parse_all(&db.records)?;
    let keyed = index(&advisories);
    let (findings, candidates) = match_inventory(&scanned, &advisories, &keyed);
    println!(
        "matching: {} index keys, {candidates} candidate (package, record) pairs, {} findings",
        keyed.len(),
        findings.len()
    );
    if findings.len() != db.expected_findings {
        return Err(format!(
            "matching found {} findings, the generator planted {}",
            findings.len(),
            db.expected_findings
        )
        .into());
    }

    let mut c = Criterion::default().configure_from_args();
    let long = Duration::from_secs(if full { 20 } else { 1 });
    let mut group = c.benchmark_group("scan");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .measurement_time(long)
        .throughput(Throughput::BytesDecimal(uncompressed));
    group.bench_function("inventory", |b| {
        b.iter(|| inventory(black_box(&image.layers)).expect("the image scans"))
    });
    group.bench_function("walk-no-catalogers", |b| {
        b.iter(|| {
            let mut builder = InventoryBuilder::with_catalogers(Limits::default(), Vec::new());
            for layer in &image.layers {
                builder
                    .add_layer(Compression::Gzip, &mut layer.as_slice())
                    .expect("the image walks");
            }
            builder.finish()
        })
    });
    group.bench_function("gunzip", |b| {
        b.iter(|| {
            for layer in &image.layers {
                let mut gz = flate2::read::MultiGzDecoder::new(layer.as_slice());
                io::copy(&mut gz, &mut io::sink()).expect("the layers inflate");
            }
        })
    });
    group.finish();

    let mut group = c.benchmark_group("osv");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .measurement_time(long)
        .throughput(Throughput::Elements(db.records.len() as u64));
    // Dropping 100,000 records costs a fair share of parsing them; it is left out of the time.
    group.bench_function("parse", |b| {
        b.iter_with_large_drop(|| parse_all(black_box(&db.records)).expect("the records parse"))
    });
    group.bench_function("json-skim", |b| {
        b.iter(|| {
            for json in &db.records {
                serde_json::from_slice::<serde::de::IgnoredAny>(black_box(json))
                    .expect("the records are JSON");
            }
        })
    });
    group.bench_function("index", |b| {
        b.iter_with_large_drop(|| index(black_box(&advisories)))
    });
    group.finish();

    let mut group = c.benchmark_group("match");
    group
        .sample_size(if full { 50 } else { 10 })
        .throughput(Throughput::Elements(scanned.packages.len() as u64));
    group.bench_function("inventory", |b| {
        b.iter(|| match_inventory(black_box(&scanned), &advisories, &keyed))
    });
    group.finish();
    c.final_summary();
    Ok(())
}

fn env_number<T: std::str::FromStr>(name: &str, default: T) -> Result<T, Error> {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .map_err(|_| format!("{name} must be a number").into()),
        Err(_) => Ok(default),
    }
}

/// The inventory of the image, its layers read from memory.
fn inventory(layers: &[Vec<u8>]) -> Result<Inventory, wharf_scan::ScanError> {
    let mut builder = InventoryBuilder::new(Limits::default());
    for layer in layers {
        builder.add_layer(Compression::Gzip, &mut layer.as_slice())?;
    }
    Ok(builder.finish())
}

fn check_inventory(inventory: &Inventory, expected: (usize, usize, usize)) -> Result<(), Error> {
    let count = |kind| inventory.packages.iter().filter(|p| p.kind == kind).count();
    let found = (
        count(PackageKind::Deb),
        count(PackageKind::Python),
        count(PackageKind::Npm),
    );
    if found != expected || inventory.packages.len() != expected.0 + expected.1 + expected.2 {
        return Err(format!(
            "inventory of {} packages, (deb, python, npm) = {found:?}, expected {expected:?}",
            inventory.packages.len()
        )
        .into());
    }
    let os = inventory.os.as_ref().ok_or("no os-release found")?;
    if os.id != "debian" || os.version_id.as_deref() != Some("12") {
        return Err(format!("os-release read as {os:?}").into());
    }
    Ok(())
}

fn parse_all(records: &[Vec<u8>]) -> Result<Vec<Advisory>, Error> {
    records
        .iter()
        .map(|json| Advisory::parse(json).map_err(Into::into))
        .collect()
}

fn index(advisories: &[Advisory]) -> Index {
    let mut index = Index::new();
    for (i, advisory) in advisories.iter().enumerate() {
        for (ecosystem, name) in advisory.keys() {
            index
                .entry(index_key(&ecosystem, &name))
                .or_default()
                .push(i as u32);
        }
    }
    index
}

/// Every finding of the inventory, and how many (package, record) pairs were evaluated.
fn match_inventory(
    inventory: &Inventory,
    advisories: &[Advisory],
    index: &Index,
) -> (Vec<Finding>, usize) {
    let os = inventory.os.as_ref();
    let mut findings = Vec::new();
    let mut candidates: Vec<u32> = Vec::new();
    let mut evaluated = 0;
    for pkg in &inventory.packages {
        candidates.clear();
        for key in lookup_keys(pkg, os) {
            if let Some(ids) = index.get(&key) {
                candidates.extend(ids);
            }
        }
        // A record filed under two of the package's keys is evaluated once.
        candidates.sort_unstable();
        candidates.dedup();
        evaluated += candidates.len();
        for &i in &candidates {
            let Some(advisory) = advisories.get(i as usize) else {
                continue;
            };
            findings.extend(match_package(pkg, os, advisory));
        }
    }
    (findings, evaluated)
}

/// Writes the layers to a temporary directory and runs the walk in child processes, reporting
/// the peak memory of each.
fn walker_memory(layers: &[Vec<u8>], uncompressed: u64) -> Result<(), Error> {
    // `BENCH_SCAN_LAYERS_DIR` keeps the layers, to profile a walk (`scan --walk-child <dir>`).
    let tmp = tempfile::Builder::new()
        .prefix("wharf-scan-bench")
        .tempdir()?;
    let dir = match std::env::var_os("BENCH_SCAN_LAYERS_DIR") {
        Some(dir) => std::path::PathBuf::from(dir),
        None => tmp.path().to_path_buf(),
    };
    std::fs::create_dir_all(&dir)?;
    for (i, layer) in layers.iter().enumerate() {
        std::fs::write(dir.join(format!("layer-{i}.tar.gz")), layer)?;
    }
    let exe = std::env::current_exe()?;
    for run in 1..=MEMORY_RUNS {
        let out = Command::new(&exe).arg("--walk-child").arg(&dir).output()?;
        if !out.status.success() {
            return Err(format!(
                "walk child failed: {}",
                String::from_utf8_lossy(&out.stderr)
            )
            .into());
        }
        let line = String::from_utf8_lossy(&out.stdout);
        let field = |name: &str| -> Result<f64, Error> {
            line.split_whitespace()
                .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
                .ok_or_else(|| format!("walk child printed no {name}: {line}"))?
                .parse()
                .map_err(Into::into)
        };
        let (secs, before, hwm) = (field("secs")?, field("rss_before_kb")?, field("hwm_kb")?);
        println!(
            "walker memory, run {run}: peak VmHWM {:.1} MiB over a {:.1} MiB baseline \
             (+{:.1} MiB), streamed from files in {secs:.2} s ({:.0} MB/s)",
            hwm / 1024.0,
            before / 1024.0,
            (hwm - before) / 1024.0,
            uncompressed as f64 / 1e6 / secs
        );
    }
    Ok(())
}

/// The child: walks the layers of `dir` from files and prints its time and memory.
fn walk_child(dir: &Path) -> Result<(), Error> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    paths.sort();
    let rss_before_kb = proc_status_kb("VmRSS")?;
    let started = Instant::now();
    let mut builder = InventoryBuilder::new(Limits::default());
    for path in &paths {
        let mut file: Box<dyn Read> = Box::new(std::fs::File::open(path)?);
        builder.add_layer(Compression::Gzip, &mut file)?;
    }
    let inventory = builder.finish();
    let secs = started.elapsed().as_secs_f64();
    let hwm_kb = proc_status_kb("VmHWM")?;
    println!(
        "packages={} secs={secs} rss_before_kb={rss_before_kb} hwm_kb={hwm_kb}",
        inventory.packages.len()
    );
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
