//! The sealed (encrypted at rest) half of the conformance suite: uploads sealed across several
//! appends the way wharf-core drives them (reading the stored partial last segment back and
//! resuming the sealer over it), Range reads through `open_range` around every segment
//! boundary, and tampered stored bytes, which must fail to read and never yield wrong bytes.

use super::{body, collect, failing, pattern, put};
use futures::StreamExt;
use std::sync::Arc;
use wharf_blob::seal::{
    open_range, open_segment, plain_len, sealed_len, sealed_range, segment_offset, DataKey, Header,
    Sealer, SEGMENT,
};
use wharf_blob::{BlobError, BlobStore, ByteStream, Ingest};
use wharf_oci::{Algorithm, Digest};

pub(super) async fn suite(store: &dyn BlobStore) {
    let key = Arc::new(DataKey::generate().0);
    let (digest, data) = sealed_round_trip(store, &key).await;
    ranges_across_segment_boundaries(store, &key, &digest, &data).await;
    tampering_is_detected(store, &key, &digest, &data).await;
    empty_sealed_blob(store, &key).await;
}

/// Appends `part` to a sealed upload whose plaintext so far is `received` bytes, as wharf-core
/// does: continue at the last stored segment, re-sealing its plaintext when it is partial.
async fn append_sealed(
    store: &dyn BlobStore,
    key: &Arc<DataKey>,
    id: &str,
    received: u64,
    hasher: wharf_oci::Hasher,
    part: ByteStream,
) -> Result<wharf_blob::Appended, BlobError> {
    let (offset, sealer) = if received == 0 {
        (0, Sealer::at_start(key.clone()))
    } else {
        let index = received / SEGMENT;
        let offset = segment_offset(index);
        let stored = collect(store.read_upload(id).await.unwrap()).await;
        assert_eq!(stored.len() as u64, sealed_len(received));
        let carry = match &stored[offset as usize..] {
            [] => Vec::new(),
            partial => open_segment(key, index, partial).unwrap(),
        };
        assert_eq!(carry.len() as u64, received % SEGMENT);
        (offset, Sealer::resume(key.clone(), index, carry))
    };
    store
        .append_upload(id, offset, part, Ingest::sealed(hasher, sealer))
        .await
}

/// A sealed upload over appends of sizes that are not segment multiples (and one that is, and
/// one that fails midway), committed without replacing.
async fn sealed_round_trip(store: &dyn BlobStore, key: &Arc<DataKey>) -> (Digest, Vec<u8>) {
    let id = "s-1";
    store.create_upload(id).await.unwrap();
    let sizes = [1000, 70_000, SEGMENT as usize, 130_000, 5, 65_531];
    let parts: Vec<Vec<u8>> = sizes
        .iter()
        .enumerate()
        .map(|(i, &n)| pattern(n, 60 + i as u8))
        .collect();
    let mut hasher = Algorithm::Sha256.hasher();
    let mut received = 0u64;
    for (i, p) in parts.iter().enumerate() {
        // Split the body unevenly so chunks straddle segment boundaries.
        let cut = p.len() / 3;
        let a = append_sealed(
            store,
            key,
            id,
            received,
            hasher,
            body(vec![p[..cut].to_vec(), p[cut..].to_vec()]),
        )
        .await
        .unwrap();
        received += p.len() as u64;
        assert_eq!(a.size, sealed_len(received), "append {i}");
        assert_eq!(a.ingest.received(), p.len() as u64);
        assert_eq!(store.upload_size(id).await.unwrap(), Some(a.size));
        hasher = a.ingest.into_hasher();

        if i == 3 {
            // A body failing midway cuts the upload back to the start of the partial segment it
            // resumed; the caller puts the carried plaintext back with an empty append.
            let before = collect(store.read_upload(id).await.unwrap()).await;
            let index = received / SEGMENT;
            let offset = segment_offset(index);
            let carry = open_segment(key, index, &before[offset as usize..]).unwrap();
            let r = append_sealed(
                store,
                key,
                id,
                received,
                hasher.clone(),
                failing(pattern(200_000, 9)),
            )
            .await;
            assert!(matches!(r, Err(BlobError::Body(_))), "{:?}", r.err());
            assert_eq!(store.upload_size(id).await.unwrap(), Some(offset));
            let sealer = Sealer::resume(key.clone(), index, carry.clone());
            let ingest = Ingest::sealed(Algorithm::Sha256.hasher(), sealer);
            let a = store
                .append_upload(id, offset, body(vec![]), ingest)
                .await
                .unwrap();
            assert_eq!(a.size, before.len() as u64);
            let after = collect(store.read_upload(id).await.unwrap()).await;
            assert!(after[..offset as usize] == before[..offset as usize]);
            assert_eq!(
                open_segment(key, index, &after[offset as usize..]).unwrap(),
                carry
            );
        }
    }
    let data = parts.concat();
    let digest = hasher.finish();
    assert_eq!(
        digest,
        Digest::of(Algorithm::Sha256, &data),
        "hash of plaintext"
    );
    assert!(store.commit_upload(id, &digest, false).await.unwrap());
    let total = data.len() as u64;
    assert_eq!(store.stat(&digest).await.unwrap(), Some(sealed_len(total)));
    assert_eq!(plain_len(sealed_len(total)), Some(total));

    let stored = collect(store.read(&digest, 0, sealed_len(total)).await.unwrap()).await;
    let header = Header::parse(&stored).unwrap().expect("sealed");
    assert_eq!(header.dek_id, key.id());
    for i in 0..total.div_ceil(SEGMENT) {
        let (at, plain) = (segment_offset(i) as usize + 12, (i * SEGMENT) as usize);
        assert_ne!(
            stored[at..at + 64],
            data[plain..plain + 64],
            "segment {i} is encrypted"
        );
    }
    (digest, data)
}

/// Reads plaintext `[offset, offset + len)` of a sealed blob as a reader would: check the header
/// names the key, read the covering segments, open them. Returns the bytes yielded before any
/// error, and the error.
async fn read_sealed(
    store: &dyn BlobStore,
    key: &Arc<DataKey>,
    digest: &Digest,
    total: u64,
    offset: u64,
    len: u64,
) -> (Vec<u8>, Option<std::io::Error>) {
    let head = collect(store.read(digest, 0, 32).await.unwrap()).await;
    match Header::parse(&head) {
        Ok(Some(h)) if h.dek_id == key.id() => {}
        other => {
            let e = std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{other:?}"));
            return (Vec::new(), Some(e));
        }
    }
    let (_, start, end) = sealed_range(total, offset, len);
    let stored = store.read(digest, start, end - start).await.unwrap();
    let mut plain = open_range(stored, key.clone(), total, offset, len);
    let mut out = Vec::new();
    while let Some(piece) = plain.next().await {
        match piece {
            Ok(p) => out.extend_from_slice(&p),
            Err(e) => return (out, Some(e)),
        }
    }
    (out, None)
}

async fn ranges_across_segment_boundaries(
    store: &dyn BlobStore,
    key: &Arc<DataKey>,
    digest: &Digest,
    data: &[u8],
) {
    let total = data.len() as u64;
    let s = SEGMENT;
    let offsets = [
        0,
        1,
        s - 1,
        s,
        s + 1,
        2 * s - 1,
        2 * s,
        2 * s + 1,
        total - 1,
        total,
    ];
    for offset in offsets {
        let to_end = total - offset;
        for len in [0, 1, 2, s - 1, s, s + 1, 2 * s, to_end] {
            let len = len.min(to_end);
            let (got, err) = read_sealed(store, key, digest, total, offset, len).await;
            assert!(err.is_none(), "{offset}+{len}: {err:?}");
            assert!(
                got == data[offset as usize..(offset + len) as usize],
                "{offset}+{len}"
            );
        }
    }
}

/// Stores `bytes` as a blob (under their own digest) and reads the sealed blob they pretend to
/// be: the read fails with an authentication error, having yielded only true plaintext.
async fn assert_tamper_fails(
    store: &dyn BlobStore,
    key: &Arc<DataKey>,
    data: &[u8],
    what: &str,
    bytes: Vec<u8>,
) {
    let (digest, _) = put(store, &format!("x-{}", what.replace(' ', "-")), &[bytes]).await;
    let total = data.len() as u64;
    let (got, err) = read_sealed(store, key, &digest, total, 0, total).await;
    let err = err.unwrap_or_else(|| panic!("{what}: read succeeded"));
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData, "{what}");
    assert!(got == data[..got.len()], "{what}: wrong bytes yielded");
    store.delete(&digest).await.unwrap();
}

async fn tampering_is_detected(
    store: &dyn BlobStore,
    key: &Arc<DataKey>,
    digest: &Digest,
    data: &[u8],
) {
    let total = data.len() as u64;
    let stored = collect(store.read(digest, 0, sealed_len(total)).await.unwrap()).await;
    let seg = |i: u64| segment_offset(i) as usize;
    let flip = |at: usize| {
        let mut b = stored.clone();
        b[at] ^= 0x01;
        b
    };
    let cases = [
        ("header dek", flip(20)),
        ("header version", flip(8)),
        ("nonce", flip(seg(1) + 3)),
        ("ciphertext", flip(seg(2) + 1000)),
        ("tag", flip(seg(1) - 1)),
        ("last byte", flip(stored.len() - 1)),
        ("truncated segment", stored[..stored.len() - 1].to_vec()),
        ("missing last segment", stored[..seg(5)].to_vec()),
        ("swapped segments", {
            let mut b = stored.clone();
            let (first, second) = (stored[seg(0)..seg(1)].to_vec(), &stored[seg(1)..seg(2)]);
            b[seg(0)..seg(1)].copy_from_slice(second);
            b[seg(1)..seg(2)].copy_from_slice(&first);
            b
        }),
    ];
    for (what, bytes) in cases {
        assert_tamper_fails(store, key, data, what, bytes).await;
    }
    // Another key (a header rewritten to name it would still not open the segments).
    let other = Arc::new(DataKey::generate().0);
    let mut renamed = stored.clone();
    renamed[..32].copy_from_slice(&Header { dek_id: other.id() }.encode());
    let (d, _) = put(store, "x-renamed", &[renamed]).await;
    let (got, err) = read_sealed(store, &other, &d, total, 0, total).await;
    assert!(got.is_empty());
    assert_eq!(err.unwrap().kind(), std::io::ErrorKind::InvalidData);
    store.delete(&d).await.unwrap();
}

/// A zero-byte sealed blob is the header alone and reads back as nothing.
async fn empty_sealed_blob(store: &dyn BlobStore, key: &Arc<DataKey>) {
    store.create_upload("s-empty").await.unwrap();
    let ingest = Ingest::sealed(Algorithm::Sha256.hasher(), Sealer::at_start(key.clone()));
    let a = store
        .append_upload("s-empty", 0, body(vec![]), ingest)
        .await
        .unwrap();
    assert_eq!(a.size, 32);
    let digest = a.ingest.into_hasher().finish();
    assert_eq!(digest, Digest::of(Algorithm::Sha256, b""));
    // The plaintext suite committed an empty blob already: it is not replaced, the upload stays.
    assert!(!store
        .commit_upload("s-empty", &digest, false)
        .await
        .unwrap());
    assert_eq!(store.stat(&digest).await.unwrap(), Some(0));
    store.delete(&digest).await.unwrap();
    assert!(store
        .commit_upload("s-empty", &digest, false)
        .await
        .unwrap());
    assert_eq!(store.stat(&digest).await.unwrap(), Some(32));
    let stored = collect(store.read(&digest, 0, 32).await.unwrap()).await;
    assert_eq!(Header::parse(&stored).unwrap().unwrap().dek_id, key.id());
    assert_eq!(plain_len(32), Some(0));
    let (got, err) = read_sealed(store, key, &digest, 0, 0, 0).await;
    assert!(got.is_empty() && err.is_none(), "{err:?}");
    store.delete(&digest).await.unwrap();
}
