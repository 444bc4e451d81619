//! Benchmark of vulnerability matching (issue 10): an image of 500 packages (300 Debian, 100
//! PyPI, 50 npm, 30 Maven, 20 Go) matched against 100,000 synthetic OSV records indexed by
//! (ecosystem, name) the way a store would (`Advisory::keys` through `index_key`); plus the
//! version comparisons per scheme and the parsing of one record, which dominate the cost.
//!
//! Records and packages are generated deterministically (a fixed-seed xorshift, no `rand`
//! dependency); about one package name in three has records, five records per such name on
//! average, each with an introduced/fixed range, some with two. Run with
//! `cargo bench -p wharf-scan --bench matching`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::collections::HashMap;
use std::hint::black_box;
use wharf_scan::matching::{index_key, lookup_keys, match_advisories};
use wharf_scan::version::Scheme;
use wharf_scan::{Advisory, OsRelease, Package, PackageKind};

const RECORDS: usize = 100_000;

/// xorshift64*: deterministic and dependency-free; quality is irrelevant here.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The ecosystems of the synthetic data: OSV name, package kind, and how many distinct
/// package names each has.
const ECOSYSTEMS: [(&str, PackageKind, u64); 5] = [
    ("Debian:12", PackageKind::Deb, 9_000),
    ("PyPI", PackageKind::Python, 6_000),
    ("npm", PackageKind::Npm, 3_000),
    ("Maven", PackageKind::Java, 1_200),
    ("Go", PackageKind::GoModule, 800),
];

fn name(kind: PackageKind, i: u64) -> String {
    match kind {
        PackageKind::Java => format!("org.example{}:artifact-{i}", i % 50),
        PackageKind::GoModule => format!("github.com/example{}/module{i}", i % 50),
        PackageKind::Python => format!("Py_Package.{i}"),
        _ => format!("package{i}"),
    }
}

fn version(kind: PackageKind, rng: &mut Rng) -> String {
    let (a, b, c) = (rng.below(4), rng.below(20), rng.below(30));
    match kind {
        PackageKind::Deb => format!(
            "{}:{a}.{b}.{c}-{}+deb12u{}",
            rng.below(2),
            rng.below(5) + 1,
            rng.below(4)
        ),
        PackageKind::Python if c % 5 == 0 => format!("{a}.{b}.{c}rc{}", rng.below(3) + 1),
        PackageKind::Java if c % 5 == 0 => format!("{a}.{b}.{c}-beta-{}", rng.below(3) + 1),
        PackageKind::GoModule => format!("v{a}.{b}.{c}"),
        _ => format!("{a}.{b}.{c}"),
    }
}

fn records(rng: &mut Rng) -> Vec<Advisory> {
    (0..RECORDS)
        .map(|n| {
            let (eco, kind, names) = ECOSYSTEMS[rng.below(ECOSYSTEMS.len() as u64) as usize];
            // Records cover a third of the names, so most packages have none.
            let pkg = name(kind, rng.below(names / 3) * 3);
            let range = |rng: &mut Rng| {
                format!(
                    r#"{{"type": "ECOSYSTEM", "events": [{{"introduced": "{}"}}, {{"fixed": "{}"}}]}}"#,
                    if rng.below(2) == 0 { "0".to_string() } else { version(kind, rng) },
                    version(kind, rng)
                )
            };
            let ranges = if rng.below(4) == 0 {
                format!("{}, {}", range(rng), range(rng))
            } else {
                range(rng)
            };
            let json = format!(
                r#"{{"id": "SYN-{n}", "modified": "2024-01-01T00:00:00Z", "aliases": ["CVE-2024-{n}"],
                    "summary": "synthetic record {n}",
                    "severity": [{{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H"}}],
                    "affected": [{{"package": {{"ecosystem": "{eco}", "name": "{pkg}"}}, "ranges": [{ranges}]}}]}}"#
            );
            Advisory::parse(json.as_bytes()).expect("synthetic record parses")
        })
        .collect()
}

fn image(rng: &mut Rng) -> Vec<Package> {
    let counts = [300, 100, 50, 30, 20];
    ECOSYSTEMS
        .iter()
        .zip(counts)
        .flat_map(|((_, kind, names), count)| {
            (0..count)
                .map(|_| {
                    let n = name(*kind, rng.below(*names));
                    Package {
                        kind: *kind,
                        source_name: (*kind == PackageKind::Deb).then(|| n.clone()),
                        name: n,
                        version: version(*kind, rng),
                        source_version: None,
                        arch: None,
                        licenses: Vec::new(),
                        location: "/".to_string(),
                    }
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let all = records(&mut rng);
    let mut index: HashMap<(String, String), Vec<usize>> = HashMap::new();
    for (i, a) in all.iter().enumerate() {
        for (eco, name) in a.keys() {
            index.entry(index_key(&eco, &name)).or_default().push(i);
        }
    }
    let packages = image(&mut rng);
    let os = OsRelease {
        id: "debian".into(),
        version_id: Some("12".into()),
        ..OsRelease::default()
    };

    let scan = || {
        let mut findings = 0;
        for p in &packages {
            let mut candidates: Vec<&Advisory> = Vec::new();
            for key in lookup_keys(p, Some(&os)) {
                for &i in index.get(&key).into_iter().flatten() {
                    if let Some(a) = all.get(i) {
                        candidates.push(a);
                    }
                }
            }
            findings += match_advisories(p, Some(&os), candidates).len();
        }
        findings
    };
    eprintln!(
        "matching: {} packages, {} records, {} keys, {} findings",
        packages.len(),
        all.len(),
        index.len(),
        scan()
    );

    let mut group = c.benchmark_group("matching");
    group.throughput(Throughput::Elements(packages.len() as u64));
    group.bench_function("image_500_packages_vs_100k_records", |b| {
        b.iter(|| black_box(scan()))
    });
    group.finish();

    let mut group = c.benchmark_group("compare");
    let pairs = [
        (Scheme::Dpkg, "1:3.0.11-1~deb12u2", "1:3.0.11-1+deb12u1"),
        (Scheme::Apk, "9.6_p1-r0", "9.6_p1-r1"),
        (Scheme::Rpm, "1:3.0.7-24.el9", "1:3.0.7-25.el9_3"),
        (Scheme::Pep440, "4.2rc1", "4.2.3"),
        (Scheme::SemVer, "1.2.3-beta.2", "1.2.3-beta.11"),
        (Scheme::Go, "v0.0.0-20191109021931-daa7c04131f5", "v0.17.0"),
        (Scheme::Maven, "2.0-beta9", "2.15.0"),
        (Scheme::RubyGems, "3.0.0.beta1", "3.0.0"),
    ];
    for (scheme, a, b) in pairs {
        group.bench_function(format!("{scheme:?}"), |bench| {
            bench.iter(|| black_box(scheme.compare(black_box(a), black_box(b))))
        });
    }
    group.finish();

    let record = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/osv/GHSA-django-prerelease.json"
    ))
    .expect("fixture");
    c.bench_function("parse_record", |b| {
        b.iter(|| black_box(Advisory::parse(black_box(&record))))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
