//! `Ingest`: what happens to upload bytes on their way to storage — always hashed as plaintext,
//! and sealed when the upload is encrypted. The stores run it in their pipelined write step.

use crate::seal::{Sealer, SEGMENT};
use bytes::{Bytes, BytesMut};
use wharf_oci::Hasher;

/// Hashes plaintext and produces the bytes to store.
pub struct Ingest {
    hasher: Hasher,
    sealer: Option<Sealer>,
    received: u64,
}

impl Ingest {
    /// Stores the plaintext as it is (legacy and unencrypted stores).
    pub fn plain(hasher: Hasher) -> Ingest {
        Ingest {
            hasher,
            sealer: None,
            received: 0,
        }
    }

    /// Stores the plaintext sealed by `sealer`.
    pub fn sealed(hasher: Hasher, sealer: Sealer) -> Ingest {
        Ingest {
            hasher,
            sealer: Some(sealer),
            received: 0,
        }
    }

    /// Hashes a plaintext chunk and returns the bytes to store: the chunk itself when plain, the
    /// sealed segments it completes otherwise (possibly none).
    pub fn process(&mut self, chunk: Bytes) -> Bytes {
        self.received += chunk.len() as u64;
        let Some(sealer) = &mut self.sealer else {
            self.hasher.update(&chunk);
            return chunk;
        };
        let mut out = BytesMut::with_capacity(sealer.output_len(chunk.len()));
        // Hash and seal a segment's worth at a time, so the sealer reads what the hasher just
        // pulled into cache.
        for piece in chunk.chunks(SEGMENT as usize) {
            self.hasher.update(piece);
            sealer.seal(piece, &mut out);
        }
        out.freeze()
    }

    /// `process` for a caller that stores each chunk's output before the next one: sealed
    /// output goes into `scratch` (cleared first; its capacity is kept across calls, so no fresh
    /// buffer is faulted in per chunk). Returns whether the bytes to store are in `scratch`;
    /// when plain they are `chunk` itself.
    pub fn process_into(&mut self, chunk: &[u8], scratch: &mut BytesMut) -> bool {
        self.received += chunk.len() as u64;
        let Some(sealer) = &mut self.sealer else {
            self.hasher.update(chunk);
            return false;
        };
        scratch.clear();
        scratch.reserve(sealer.output_len(chunk.len()));
        for piece in chunk.chunks(SEGMENT as usize) {
            self.hasher.update(piece);
            sealer.seal(piece, scratch);
        }
        true
    }

    /// The bytes to store after the last chunk: the sealer's last segment (and the header of an
    /// empty blob); empty when plain. Call once, after the body ended.
    pub fn finish(&mut self) -> Bytes {
        let Some(sealer) = &mut self.sealer else {
            return Bytes::new();
        };
        let mut out = BytesMut::new();
        sealer.finish(&mut out);
        out.freeze()
    }

    /// Plaintext bytes processed so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    pub fn hasher(&self) -> &Hasher {
        &self.hasher
    }

    pub fn into_hasher(self) -> Hasher {
        self.hasher
    }

    /// The hasher, the sealer (when sealed) and the plaintext bytes processed so far, for a
    /// store that hashes and seals on separate threads.
    pub(crate) fn into_parts(self) -> (Hasher, Option<Sealer>, u64) {
        (self.hasher, self.sealer, self.received)
    }

    /// An ingest put back together from `into_parts`.
    pub(crate) fn from_parts(hasher: Hasher, sealer: Option<Sealer>, received: u64) -> Ingest {
        Ingest {
            hasher,
            sealer,
            received,
        }
    }
}

impl std::fmt::Debug for Ingest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ingest")
            .field("algorithm", &self.hasher.algorithm())
            .field("sealer", &self.sealer)
            .field("received", &self.received)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seal::{open_segment, sealed_len, segment_offset, DataKey, Header};
    use std::sync::Arc;
    use wharf_oci::{Algorithm, Digest};

    #[test]
    fn plain_ingest_passes_chunks_through_and_hashes_them() {
        let mut ingest = Ingest::plain(Algorithm::Sha256.hasher());
        let chunk = Bytes::from_static(b"hello world");
        let out = ingest.process(chunk.clone());
        assert_eq!(out.as_ptr(), chunk.as_ptr(), "no copy");
        assert!(ingest.finish().is_empty());
        assert_eq!(ingest.received(), 11);
        assert_eq!(
            ingest.into_hasher().finish(),
            Digest::sha256(b"hello world")
        );
    }

    #[test]
    fn process_into_reuses_its_scratch_and_matches_process() {
        let (key, _) = DataKey::generate();
        let key = Arc::new(key);
        let data: Vec<u8> = (0..2 * SEGMENT as usize + 77)
            .map(|i| (i * 7) as u8)
            .collect();
        let mut a = Ingest::sealed(Algorithm::Sha256.hasher(), Sealer::at_start(key.clone()));
        let mut scratch = BytesMut::new();
        let mut stored = Vec::new();
        let mut capacity = 0;
        for part in data.chunks(SEGMENT as usize) {
            assert!(a.process_into(part, &mut scratch));
            stored.extend_from_slice(&scratch);
            if capacity > 0 {
                assert_eq!(scratch.capacity(), capacity, "the scratch is reused");
            }
            capacity = scratch.capacity();
        }
        stored.extend_from_slice(&a.finish());
        assert_eq!(stored.len() as u64, sealed_len(data.len() as u64));
        assert_eq!(a.received(), data.len() as u64);
        for i in 0..3u64 {
            let at = segment_offset(i) as usize;
            let end = (at + SEGMENT as usize + 28).min(stored.len());
            let plain = open_segment(&key, i, &stored[at..end]).unwrap();
            let from = (i * SEGMENT) as usize;
            assert_eq!(plain, data[from..from + plain.len()]);
        }
        assert_eq!(a.into_hasher().finish(), Digest::sha256(&data));
        let mut plain = Ingest::plain(Algorithm::Sha256.hasher());
        assert!(!plain.process_into(b"abc", &mut scratch));
        assert_eq!(plain.into_hasher().finish(), Digest::sha256(b"abc"));
    }

    #[test]
    fn sealed_ingest_hashes_plaintext_and_stores_segments() {
        let (key, _) = DataKey::generate();
        let key = Arc::new(key);
        let mut ingest = Ingest::sealed(Algorithm::Sha256.hasher(), Sealer::at_start(key.clone()));
        let data: Vec<u8> = (0..3 * SEGMENT as usize + 5).map(|i| i as u8).collect();
        let mut stored = Vec::new();
        for part in data.chunks(50_000) {
            stored.extend_from_slice(&ingest.process(Bytes::copy_from_slice(part)));
        }
        stored.extend_from_slice(&ingest.finish());
        assert_eq!(stored.len() as u64, sealed_len(data.len() as u64));
        assert_eq!(ingest.received(), data.len() as u64);
        assert_eq!(
            Header::parse(&stored).unwrap().map(|h| h.dek_id),
            Some(key.id())
        );
        let last = segment_offset(3) as usize;
        assert_eq!(
            open_segment(&key, 3, &stored[last..]).unwrap(),
            data[3 * SEGMENT as usize..]
        );
        assert_eq!(ingest.hasher().clone().finish(), Digest::sha256(&data));
    }
}
