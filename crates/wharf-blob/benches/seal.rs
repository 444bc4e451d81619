//! The cost of encryption at rest (issue 11): sealing and opening 64 MiB with AES-256-GCM, and
//! what a push pays per byte in the store's write step — `Ingest::process` hashing only
//! (plaintext stores) against hashing and sealing, over the 4 MiB batches the filesystem store
//! hands it. Run with `cargo bench -p wharf-blob --bench seal`.

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use futures::StreamExt;
use std::hint::black_box;
use std::sync::Arc;
use wharf_blob::seal::{open_range, sealed_len, DataKey, Sealer};
use wharf_blob::{ByteStream, Ingest};
use wharf_oci::Algorithm;

const TOTAL: usize = 64 << 20;
/// The filesystem store's batch size.
const BATCH: usize = 4 << 20;
/// The filesystem store's read chunk.
const READ_CHUNK: usize = 256 << 10;

fn data() -> Vec<u8> {
    (0..TOTAL).map(|i| (i as u8).wrapping_mul(131)).collect()
}

/// Seals `data` into `out` (cleared first; reusing it keeps page faults of a fresh 64 MiB
/// buffer out of the measurement).
fn seal(key: &Arc<DataKey>, data: &[u8], out: &mut BytesMut) {
    out.clear();
    out.reserve(sealed_len(data.len() as u64) as usize);
    let mut sealer = Sealer::at_start(key.clone());
    for batch in data.chunks(BATCH) {
        sealer.seal(batch, out);
    }
    sealer.finish(out);
}

fn seal_and_open(c: &mut Criterion) {
    let key = Arc::new(DataKey::generate().0);
    let data = data();
    let mut out = BytesMut::new();
    seal(&key, &data, &mut out);
    let stored = out.split().freeze();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("seal");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(TOTAL as u64));
    group.bench_function("seal 64 MiB", |b| {
        b.iter(|| seal(&key, black_box(&data), black_box(&mut out)))
    });
    group.bench_function("open_range 64 MiB", |b| {
        b.iter(|| {
            let body = stored.slice(32..);
            let chunks: Vec<_> = (0..body.len())
                .step_by(READ_CHUNK)
                .map(|at| Ok(body.slice(at..(at + READ_CHUNK).min(body.len()))))
                .collect();
            let input: ByteStream = Box::pin(futures::stream::iter(chunks));
            let mut plain = open_range(input, key.clone(), TOTAL as u64, 0, TOTAL as u64);
            runtime.block_on(async {
                let mut n = 0;
                while let Some(piece) = plain.next().await {
                    n += piece.unwrap().len();
                }
                assert_eq!(n, TOTAL);
            })
        })
    });
    group.finish();
}

fn ingest(c: &mut Criterion) {
    let key = Arc::new(DataKey::generate().0);
    let batches: Vec<Bytes> = data().chunks(BATCH).map(Bytes::copy_from_slice).collect();
    let run = |mut ingest: Ingest| {
        let mut stored = 0;
        for batch in &batches {
            stored += ingest.process(batch.clone()).len();
        }
        stored += ingest.finish().len();
        black_box(ingest.into_hasher().finish());
        stored
    };
    let mut group = c.benchmark_group("ingest");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(TOTAL as u64));
    group.bench_function("hash only 64 MiB", |b| {
        b.iter(|| run(Ingest::plain(Algorithm::Sha256.hasher())))
    });
    group.bench_function("hash + seal 64 MiB", |b| {
        b.iter(|| {
            run(Ingest::sealed(
                Algorithm::Sha256.hasher(),
                Sealer::at_start(key.clone()),
            ))
        })
    });
    group.finish();
}

criterion_group!(benches, seal_and_open, ingest);
criterion_main!(benches);
