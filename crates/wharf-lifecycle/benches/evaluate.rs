//! Benchmark of `wharf_lifecycle::evaluate` over a synthetic repository of 10,000 images (issue 4):
//! a realistic four-rule policy, a single `imageCountMoreThan` rule, and parsing the policy text.
//!
//! The images are generated deterministically (a fixed-seed xorshift, no `rand` dependency): 30 %
//! untagged, the rest tagged `release-*`, `dev-*` or `prod-*` (one in ten with a second tag), push
//! times spread uniformly over two years, 40 % pulled since their push, and 5 % already archived.
//! Run with `cargo bench -p wharf-lifecycle --bench evaluate` (or `bench/governance.sh`).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use wharf_lifecycle::{evaluate, ImageFacts, LifecyclePolicy, StorageClass};

const IMAGES: usize = 10_000;
const DAY: i64 = 86_400;
/// "Now" for every evaluation; push times lie up to two years before it.
const NOW: i64 = 2_000_000_000;

/// Untagged expire after 14 days; keep the 25 newest `prod*`; dev builds expire after 30 days;
/// anything not pulled for 90 days goes to the archive.
const REALISTIC: &str = r#"{"rules":[
  {"rulePriority":1,"description":"untagged after two weeks",
   "selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14},
   "action":{"type":"expire"}},
  {"rulePriority":2,"description":"keep the 25 newest prod images",
   "selection":{"tagStatus":"tagged","tagPatternList":["prod*"],"countType":"imageCountMoreThan","countNumber":25},
   "action":{"type":"expire"}},
  {"rulePriority":3,"description":"dev builds after 30 days",
   "selection":{"tagStatus":"tagged","tagPrefixList":["dev"],"countType":"sinceImagePushed","countUnit":"days","countNumber":30},
   "action":{"type":"expire"}},
  {"rulePriority":4,"description":"archive what nobody pulled for 90 days",
   "selection":{"tagStatus":"any","countType":"sinceImagePulled","countUnit":"days","countNumber":90},
   "action":{"type":"transition","targetStorageClass":"archive"}}
]}"#;

/// Keep the newest 1,000 images, whatever their tags.
const COUNT_ONLY: &str = r#"{"rules":[
  {"rulePriority":1,"description":"keep the newest 1000 images",
   "selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1000},
   "action":{"type":"expire"}}
]}"#;

/// xorshift64*: deterministic and dependency-free; quality is irrelevant here.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (modulo bias is irrelevant at these sizes).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn images(n: usize) -> Vec<ImageFacts> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    (0..n)
        .map(|i| {
            let pushed_at = NOW - rng.below(730 * DAY as u64) as i64;
            let mut tags = match rng.below(100) {
                0..=29 => vec![],
                30..=64 => vec![format!("release-{}.{}.{}", rng.below(5), rng.below(20), i)],
                65..=84 => vec![format!("dev-{:012x}", rng.next() >> 16)],
                _ => vec![format!("prod-{i}")],
            };
            if !tags.is_empty() && rng.below(10) == 0 {
                tags.push(format!("build-{i}"));
            }
            let last_pulled_at =
                (rng.below(10) < 4).then(|| pushed_at + rng.below((NOW - pushed_at) as u64) as i64);
            let archived = rng.below(20) == 0;
            ImageFacts {
                digest: format!("sha256:{:064x}", u128::from(rng.next()) << 64 | i as u128),
                tags,
                pushed_at,
                last_pulled_at,
                transitioned_at: archived.then_some(pushed_at + DAY),
                storage_class: if archived {
                    StorageClass::Archive
                } else {
                    StorageClass::Standard
                },
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let images = images(IMAGES);
    let realistic = LifecyclePolicy::parse(REALISTIC).expect("the realistic policy is valid");
    let count_only = LifecyclePolicy::parse(COUNT_ONLY).expect("the count policy is valid");
    // Printed once so the figures can be read against how much work each policy does.
    for (name, policy) in [("4-rule", &realistic), ("imageCountMoreThan", &count_only)] {
        let decisions = evaluate(policy, &images, NOW);
        eprintln!(
            "{name} policy over {IMAGES} images: {} decisions",
            decisions.len()
        );
    }

    let mut group = c.benchmark_group("lifecycle");
    group.throughput(Throughput::Elements(IMAGES as u64));
    group.bench_function("evaluate 10k images, 4-rule policy", |b| {
        b.iter(|| evaluate(black_box(&realistic), black_box(&images), NOW))
    });
    group.bench_function("evaluate 10k images, imageCountMoreThan", |b| {
        b.iter(|| evaluate(black_box(&count_only), black_box(&images), NOW))
    });
    group.finish();
    c.bench_function("lifecycle/parse 4-rule policy", |b| {
        b.iter(|| LifecyclePolicy::parse(black_box(REALISTIC)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
