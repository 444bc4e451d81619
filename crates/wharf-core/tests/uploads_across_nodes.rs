//! Chunked uploads over two `Registry` instances sharing one blob store and one metadata store,
//! as two nodes behind a round-robin load balancer: chunks alternate between them, the upload
//! completes on either, the digest is right, and hash states the other node left are forgotten.

use bytes::Bytes;
use futures::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use wharf_blob::{BlobStore, ObjectBlobStore};
use wharf_core::{Registry, Repo};
use wharf_meta::RepoSettings;
use wharf_oci::{Algorithm, Digest};

fn body(bytes: Vec<u8>) -> wharf_blob::ByteStream {
    Box::pin(futures::stream::once(async move { Ok(Bytes::from(bytes)) }))
}

#[tokio::test]
async fn chunks_alternate_between_nodes_and_complete_on_either() {
    let dir = tempfile::tempdir().unwrap();
    let blobs: Arc<dyn BlobStore> = Arc::new(ObjectBlobStore::memory());
    let meta = wharf_meta::testing::store(dir.path()).await;
    // The nodes share one master key, as a cluster's nodes do (WHARF_MASTER_KEY).
    let keys = wharf_core::crypt::Keys::ephemeral();
    let nodes = [
        Registry::new(blobs.clone(), meta.clone()).with_keys(keys.clone()),
        Registry::new(blobs.clone(), meta.clone()).with_keys(keys.clone()),
    ];
    let repo = Repo::new(
        meta.default_account().parse().unwrap(),
        "nodes/app".parse().unwrap(),
    );
    nodes[0]
        .create_repository(&repo, &RepoSettings::default(), &[])
        .await
        .unwrap();

    for finisher in 0..2 {
        let chunks: Vec<Vec<u8>> = (0..5u8)
            .map(|i| vec![i.wrapping_mul(37).wrapping_add(finisher as u8); 1000 + i as usize])
            .collect();
        let whole: Vec<u8> = chunks.concat();
        let digest = Digest::of(Algorithm::Sha256, &whole);
        let up = nodes[0].start_upload(&repo).await.unwrap();
        let mut offset = 0u64;
        for (i, chunk) in chunks.iter().enumerate() {
            let node = &nodes[i % 2];
            let state = node
                .append_upload(&repo, &up.id, Some(offset), body(chunk.clone()))
                .await
                .unwrap();
            offset += chunk.len() as u64;
            assert_eq!(state.size, offset);
        }
        // A wrong digest is refused wherever the upload finishes.
        let wrong = Digest::of(Algorithm::Sha256, b"not it");
        assert!(nodes[finisher]
            .finish_upload(&repo, &up.id, &wrong, None, None)
            .await
            .is_err());
        let size = nodes[finisher]
            .finish_upload(&repo, &up.id, &digest, None, None)
            .await
            .unwrap();
        assert_eq!(size, whole.len() as u64);
        // Stored sealed (each chunk ended mid-segment, so the next node resumed the segment);
        // either node reads the plaintext back.
        assert_eq!(
            blobs.stat(&digest).await.unwrap(),
            Some(wharf_blob::seal::sealed_len(whole.len() as u64))
        );
        let read: Vec<u8> = nodes[1 - finisher]
            .read_blob(&repo, &digest, 0, u64::MAX)
            .await
            .unwrap()
            .map(|c| c.unwrap().to_vec())
            .concat()
            .await;
        assert_eq!(read, whole);
    }

    // Node 0 did not finish the last upload: its slot for it (state unknown since node 1 took a
    // chunk) is forgotten, however young.
    let other = &nodes[0];
    assert_eq!(other.forget_idle_hash_states(Duration::from_secs(3600)), 1);
    assert_eq!(other.forget_idle_hash_states(Duration::ZERO), 0);
    let up = other.start_upload(&repo).await.unwrap();
    other
        .append_upload(&repo, &up.id, Some(0), body(vec![1; 10]))
        .await
        .unwrap();
    assert_eq!(other.forget_idle_hash_states(Duration::from_secs(3600)), 0);
    assert_eq!(other.forget_idle_hash_states(Duration::ZERO), 1);
}
