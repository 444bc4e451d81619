//! `Sealer`: turns a plaintext stream into the sealed format, one 64 KiB segment at a time.
//!
//! Full segments are sealed as soon as their last byte arrives; the remainder waits for more
//! plaintext or for `finish`, which seals it as the (short) last segment. An upload that
//! continues in a later request resumes at the stored partial last segment: the caller
//! decrypts it, cuts the upload back to where it began, and hands its plaintext over as `carry`.

use super::format::{Header, OVERHEAD, SEGMENT};
use super::key::{fill_random, DataKey};
use bytes::BytesMut;
use ring::aead::{Aad, Nonce, NONCE_LEN};
use std::sync::Arc;

const SEGMENT_LEN: usize = SEGMENT as usize;
const SEALED_SEGMENT_LEN: usize = SEGMENT_LEN + OVERHEAD as usize;
/// Nonces drawn from the OS per refill: one `getrandom` call per 2 MiB sealed instead of one
/// per segment.
const NONCES_PER_FILL: usize = 32;

/// Seals a plaintext stream under one data key.
pub struct Sealer {
    key: Arc<DataKey>,
    /// The segment `partial` belongs to.
    index: u64,
    /// Plaintext of segment `index` received so far (always shorter than a segment).
    partial: Vec<u8>,
    header_due: bool,
    spent: bool,
    nonces: [u8; NONCE_LEN * NONCES_PER_FILL],
    /// Nonces of `nonces` already used.
    used: usize,
}

impl Sealer {
    /// A sealer for a new blob: its output starts with the header.
    pub fn at_start(key: Arc<DataKey>) -> Sealer {
        Sealer::new(key, 0, Vec::new(), true)
    }

    /// A sealer continuing a stored blob at segment `index`, whose first `carry.len()` plaintext
    /// bytes are already known (decrypted from the stored partial last segment; they are sealed
    /// again with the bytes that follow). The caller cuts the stored bytes back to
    /// `segment_offset(index)`.
    pub fn resume(key: Arc<DataKey>, index: u64, carry: Vec<u8>) -> Sealer {
        assert!(
            carry.len() < SEGMENT_LEN,
            "the carried plaintext is shorter than a segment"
        );
        Sealer::new(key, index, carry, false)
    }

    fn new(key: Arc<DataKey>, index: u64, mut partial: Vec<u8>, header_due: bool) -> Sealer {
        partial.reserve_exact(SEGMENT_LEN - partial.len());
        Sealer {
            key,
            index,
            partial,
            header_due,
            spent: false,
            nonces: [0; NONCE_LEN * NONCES_PER_FILL],
            used: NONCES_PER_FILL,
        }
    }

    /// Appends to `out` the header (if not written yet) and every segment `plain` completes;
    /// keeps the rest for later.
    pub fn seal(&mut self, plain: &[u8], out: &mut BytesMut) {
        assert!(!self.spent, "seal called on a finished sealer");
        out.reserve(self.output_len(plain.len()));
        self.write_header(out);
        let mut rest = plain;
        if !self.partial.is_empty() {
            let take = rest.len().min(SEGMENT_LEN - self.partial.len());
            self.partial.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.partial.len() == SEGMENT_LEN {
                let partial = std::mem::take(&mut self.partial);
                self.seal_segment(&partial, out);
                self.partial = partial;
                self.partial.clear();
            }
        }
        let mut full = rest.chunks_exact(SEGMENT_LEN);
        for segment in &mut full {
            self.seal_segment(segment, out);
        }
        self.partial.extend_from_slice(full.remainder());
    }

    /// Appends to `out` the header (for an empty blob) and the remainder as the last segment.
    /// The sealer is spent afterwards; finishing again appends nothing.
    pub fn finish(&mut self, out: &mut BytesMut) {
        if self.spent {
            return;
        }
        self.spent = true;
        out.reserve(self.output_len(0) + self.tail_len());
        self.write_header(out);
        if !self.partial.is_empty() {
            let partial = std::mem::take(&mut self.partial);
            self.seal_segment(&partial, out);
        }
    }

    /// Stored bytes `seal` would append for `more` plaintext bytes (so callers can size `out`).
    pub(crate) fn output_len(&self, more: usize) -> usize {
        let header = if self.header_due { 32 } else { 0 };
        header + (self.partial.len() + more) / SEGMENT_LEN * SEALED_SEGMENT_LEN
    }

    /// Stored bytes `finish` would append after the header.
    pub(crate) fn tail_len(&self) -> usize {
        match self.partial.len() {
            0 => 0,
            n => n + OVERHEAD as usize,
        }
    }

    fn write_header(&mut self, out: &mut BytesMut) {
        if std::mem::take(&mut self.header_due) {
            out.extend_from_slice(
                &Header {
                    dek_id: self.key.id(),
                }
                .encode(),
            );
        }
    }

    /// Appends segment `self.index` sealed: nonce, ciphertext, tag.
    fn seal_segment(&mut self, plain: &[u8], out: &mut BytesMut) {
        debug_assert!(!plain.is_empty() && plain.len() <= SEGMENT_LEN);
        let nonce = self.next_nonce();
        out.extend_from_slice(&nonce);
        let start = out.len();
        out.extend_from_slice(plain);
        let tag = self
            .key
            .aead()
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(super::aad(self.key.id(), self.index)),
                &mut out[start..],
            )
            .expect("a segment is far below AES-GCM's message limit");
        out.extend_from_slice(tag.as_ref());
        self.index += 1;
    }

    /// A fresh random nonce. Random 96-bit nonces are safe here: a data key seals one upload, far
    /// fewer than the 2^32 segments after which a collision becomes a concern.
    fn next_nonce(&mut self) -> [u8; NONCE_LEN] {
        if self.used == NONCES_PER_FILL {
            fill_random(&mut self.nonces);
            self.used = 0;
        }
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&self.nonces[self.used * NONCE_LEN..][..NONCE_LEN]);
        self.used += 1;
        nonce
    }
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer")
            .field("dek_id", &self.key.id())
            .field("index", &self.index)
            .field("partial", &self.partial.len())
            .field("spent", &self.spent)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seal::{open_segment, sealed_len, segment_offset, Header};

    fn key() -> Arc<DataKey> {
        Arc::new(DataKey::generate().0)
    }

    fn seal_all(sealer: &mut Sealer, parts: &[&[u8]]) -> Vec<u8> {
        let mut out = BytesMut::new();
        for p in parts {
            sealer.seal(p, &mut out);
        }
        sealer.finish(&mut out);
        out.to_vec()
    }

    /// Decrypts every segment of a whole stored blob of `plain` bytes.
    fn open_all(key: &DataKey, stored: &[u8], plain: u64) -> Vec<u8> {
        assert_eq!(stored.len() as u64, sealed_len(plain));
        let mut out = Vec::new();
        let mut i = 0;
        while (out.len() as u64) < plain {
            let end = segment_offset(i + 1).min(stored.len() as u64) as usize;
            out.extend(open_segment(key, i, &stored[segment_offset(i) as usize..end]).unwrap());
            i += 1;
        }
        out
    }

    #[test]
    fn output_does_not_depend_on_how_the_plaintext_is_split() {
        let key = key();
        let data: Vec<u8> = (0..2 * SEGMENT_LEN + 1000)
            .map(|i| (i % 253) as u8)
            .collect();
        for split in [
            1,
            999,
            SEGMENT_LEN - 1,
            SEGMENT_LEN,
            SEGMENT_LEN + 1,
            data.len(),
        ] {
            let parts: Vec<&[u8]> = data.chunks(split).collect();
            let stored = seal_all(&mut Sealer::at_start(key.clone()), &parts);
            assert_eq!(Header::parse(&stored).unwrap().unwrap().dek_id, key.id());
            assert_eq!(open_all(&key, &stored, data.len() as u64), data, "{split}");
        }
    }

    #[test]
    fn lengths_on_segment_boundaries_and_the_empty_blob() {
        let key = key();
        for n in [
            0,
            1,
            SEGMENT_LEN - 1,
            SEGMENT_LEN,
            SEGMENT_LEN + 1,
            2 * SEGMENT_LEN,
        ] {
            let data = vec![0x5a; n];
            let mut sealer = Sealer::at_start(key.clone());
            let mut out = BytesMut::new();
            sealer.seal(&data, &mut out);
            // Full segments leave at once; only the remainder waits for `finish`.
            let expected = 32 + n / SEGMENT_LEN * SEALED_SEGMENT_LEN;
            assert_eq!(out.len(), expected, "{n}");
            sealer.finish(&mut out);
            assert_eq!(out.len() as u64, sealed_len(n as u64), "{n}");
            sealer.finish(&mut out);
            assert_eq!(
                out.len() as u64,
                sealed_len(n as u64),
                "finishing twice adds nothing"
            );
            assert_eq!(open_all(&key, &out, n as u64), data);
        }
    }

    #[test]
    fn resume_reseals_the_carried_partial_segment() {
        let key = key();
        let data: Vec<u8> = (0..2 * SEGMENT_LEN + 7).map(|i| (i % 241) as u8).collect();
        // First request: 100_000 bytes, leaving a partial second segment.
        let mut first = seal_all(&mut Sealer::at_start(key.clone()), &[&data[..100_000]]);
        let cut = segment_offset(1) as usize;
        let carry = open_segment(&key, 1, &first[cut..]).unwrap();
        assert_eq!(carry, data[SEGMENT_LEN..100_000]);
        first.truncate(cut);
        // Second request: resume at segment 1 with the carry, then the rest.
        let rest = seal_all(
            &mut Sealer::resume(key.clone(), 1, carry),
            &[&data[100_000..]],
        );
        first.extend(rest);
        assert_eq!(open_all(&key, &first, data.len() as u64), data);

        // Resuming on a segment boundary with nothing more to add writes nothing.
        let mut out = BytesMut::new();
        Sealer::resume(key, 2, Vec::new()).finish(&mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn nonces_are_fresh_per_segment_and_per_sealing() {
        let key = key();
        let data = vec![0u8; 40 * SEGMENT_LEN];
        let a = seal_all(&mut Sealer::at_start(key.clone()), &[&data]);
        let b = seal_all(&mut Sealer::at_start(key.clone()), &[&data]);
        let mut nonces = std::collections::HashSet::new();
        for stored in [&a, &b] {
            for i in 0..40 {
                let at = segment_offset(i) as usize;
                assert!(nonces.insert(stored[at..at + NONCE_LEN].to_vec()));
            }
        }
        assert_ne!(a[32..], b[32..], "same plaintext, different ciphertext");
    }
}
