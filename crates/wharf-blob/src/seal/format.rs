//! The sealed blob format on disk and in the bucket: the header, the segment layout and the
//! length arithmetic between plaintext and stored bytes.
//!
//! ```text
//! header (32 bytes)   "WHARFSEG" | version = 1 | log2(segment) = 16 | 6 zero bytes | dek_id (16)
//! segment i           nonce (12, random) | AES-256-GCM ciphertext (1..=65536) | tag (16)
//! ```
//!
//! Every segment holds 65536 plaintext bytes except the last, which holds 1..=65536; a blob of
//! zero bytes is the header alone. The AAD of segment `i` is `dek_id || i as u64 big-endian`, so
//! segments cannot be reordered or moved to another blob sealed under another key.

use super::{DekId, SealError};

/// The first eight bytes of every sealed blob. A file without them is a legacy plaintext blob.
pub const MAGIC: [u8; 8] = *b"WHARFSEG";
/// Stored bytes before the first segment.
pub const HEADER_LEN: u64 = 32;
/// Plaintext bytes per segment (every segment but the last).
pub const SEGMENT: u64 = 65536;
/// Stored bytes a segment adds to its plaintext: the nonce (12) and the tag (16).
pub const OVERHEAD: u64 = 28;

/// The only format version written and read.
const VERSION: u8 = 1;
/// `SEGMENT` as the header records it.
const SEGMENT_LOG2: u8 = 16;
/// Stored bytes of one full segment.
const SEALED_SEGMENT: u64 = SEGMENT + OVERHEAD;

/// Stored length of a blob of `plain` plaintext bytes.
pub fn sealed_len(plain: u64) -> u64 {
    let tail = plain % SEGMENT;
    HEADER_LEN + (plain / SEGMENT) * SEALED_SEGMENT + if tail > 0 { tail + OVERHEAD } else { 0 }
}

/// Plaintext length of a stored blob of `sealed` bytes; `None` when no plaintext length seals
/// to exactly that many bytes (a truncated or padded file).
pub fn plain_len(sealed: u64) -> Option<u64> {
    let body = sealed.checked_sub(HEADER_LEN)?;
    let (full, tail) = (body / SEALED_SEGMENT, body % SEALED_SEGMENT);
    match tail {
        0 => Some(full * SEGMENT),
        t if t > OVERHEAD => Some(full * SEGMENT + t - OVERHEAD),
        _ => None,
    }
}

/// Stored offset of segment `index`.
pub fn segment_offset(index: u64) -> u64 {
    HEADER_LEN + index * SEALED_SEGMENT
}

/// The header of a sealed blob: which data key sealed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub dek_id: DekId,
}

impl Header {
    /// The 32 header bytes.
    pub fn encode(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out[..8].copy_from_slice(&MAGIC);
        out[8] = VERSION;
        out[9] = SEGMENT_LOG2;
        out[16..].copy_from_slice(&self.dek_id.0);
        out
    }

    /// Parses the start of a stored blob. `Ok(None)` when it does not begin with the magic (a
    /// legacy plaintext blob); an error when it has the magic but not a header this code wrote.
    pub fn parse(bytes: &[u8]) -> Result<Option<Header>, SealError> {
        if bytes.len() < MAGIC.len() || bytes[..MAGIC.len()] != MAGIC {
            return Ok(None);
        }
        let Some(header) = bytes.get(..HEADER_LEN as usize) else {
            return Err(SealError::Truncated);
        };
        if header[8] != VERSION {
            return Err(SealError::BadHeader(format!(
                "unknown version {}",
                header[8]
            )));
        }
        if header[9] != SEGMENT_LOG2 {
            return Err(SealError::BadHeader(format!(
                "unsupported segment size 2^{}",
                header[9]
            )));
        }
        if header[10..16].iter().any(|&b| b != 0) {
            return Err(SealError::BadHeader("reserved bytes are not zero".into()));
        }
        let mut id = [0u8; 16];
        id.copy_from_slice(&header[16..32]);
        Ok(Some(Header { dek_id: DekId(id) }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sizes around every boundary of the first few segments, plus a large one.
    fn interesting_plain_lengths() -> impl Iterator<Item = u64> {
        (0..5u64)
            .flat_map(|k| (0..=40).map(move |d| (k * SEGMENT + d, k * SEGMENT)))
            .flat_map(|(up, base)| [up, base.saturating_sub(up - base)])
            .chain([SEGMENT - 1, 3 * SEGMENT - 1, (1 << 40) + 12_345])
    }

    #[test]
    fn sealed_len_matches_the_layout() {
        assert_eq!(sealed_len(0), 32);
        assert_eq!(sealed_len(1), 32 + 1 + 28);
        assert_eq!(sealed_len(SEGMENT), 32 + SEGMENT + 28);
        assert_eq!(sealed_len(SEGMENT + 1), 32 + SEGMENT + 28 + 1 + 28);
        assert_eq!(sealed_len(2 * SEGMENT), 32 + 2 * (SEGMENT + 28));
        for n in interesting_plain_lengths() {
            // Sum of the segments as the sealer writes them.
            let segments = n.div_ceil(SEGMENT);
            assert_eq!(sealed_len(n), 32 + n + segments * OVERHEAD, "{n}");
        }
    }

    #[test]
    fn plain_len_inverts_sealed_len_and_rejects_the_rest() {
        for n in interesting_plain_lengths() {
            assert_eq!(plain_len(sealed_len(n)), Some(n), "{n}");
        }
        // Every stored length up to three segments: exactly the sealed lengths invert.
        let mut inverted = 0;
        for s in 0..=sealed_len(3 * SEGMENT) + 40 {
            match plain_len(s) {
                Some(n) => {
                    assert_eq!(sealed_len(n), s);
                    inverted += 1;
                }
                None => {
                    let body = s.saturating_sub(HEADER_LEN) % (SEGMENT + OVERHEAD);
                    assert!(s < HEADER_LEN || (1..=OVERHEAD).contains(&body), "{s}");
                }
            }
        }
        assert_eq!(inverted, 3 * SEGMENT + 1 + 12);
    }

    #[test]
    fn segment_offsets_step_by_a_sealed_segment() {
        assert_eq!(segment_offset(0), 32);
        assert_eq!(segment_offset(1), 32 + 65536 + 28);
        for i in 0..100 {
            assert_eq!(segment_offset(i), sealed_len(i * SEGMENT));
        }
    }

    #[test]
    fn header_round_trips_and_rejects_what_it_did_not_write() {
        let header = Header {
            dek_id: DekId([7; 16]),
        };
        let bytes = header.encode();
        assert_eq!(&bytes[..8], b"WHARFSEG");
        assert_eq!(bytes[8..16], [1, 16, 0, 0, 0, 0, 0, 0]);
        assert_eq!(Header::parse(&bytes).unwrap(), Some(header));
        let mut longer = bytes.to_vec();
        longer.extend_from_slice(b"segment bytes");
        assert_eq!(Header::parse(&longer).unwrap(), Some(header));

        for plain in [
            &b""[..],
            b"WHARF",
            b"{\"schemaVersion\":2}",
            b"wharfseg........",
        ] {
            assert_eq!(Header::parse(plain).unwrap(), None);
        }
        assert!(matches!(
            Header::parse(&bytes[..31]),
            Err(SealError::Truncated)
        ));
        assert!(matches!(
            Header::parse(&bytes[..8]),
            Err(SealError::Truncated)
        ));
        for (at, value) in [(8, 2), (8, 0), (9, 20), (10, 1), (15, 0xff)] {
            let mut bad = bytes;
            bad[at] = value;
            assert!(
                matches!(Header::parse(&bad), Err(SealError::BadHeader(_))),
                "byte {at} = {value}"
            );
        }
    }
}
