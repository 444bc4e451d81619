//! Encryption at rest: blobs are stored sealed, as a header and AES-256-GCM segments under a
//! per-upload data key. Pure: no IO; the stores write what `Sealer` produces and readers decrypt
//! with `open_range`. The format is drawn in `format.rs`.

pub mod format;
pub mod key;
pub mod open;
pub mod sealer;

pub use format::{
    plain_len, sealed_len, segment_offset, Header, HEADER_LEN, MAGIC, OVERHEAD, SEGMENT,
};
pub use key::{DataKey, DekId};
pub use open::{open_range, open_segment, sealed_range};
pub use sealer::Sealer;

/// Why sealed bytes could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// A segment failed authentication: wrong key, modified, reordered or from another blob.
    #[error("the blob's ciphertext failed authentication")]
    Tampered,
    /// The header has the magic but is not one this version writes.
    #[error("the blob's sealed header is invalid: {0}")]
    BadHeader(String),
    /// The stored bytes end before the header or a segment does.
    #[error("the blob's ciphertext failed authentication: it is truncated")]
    Truncated,
}

/// The additional authenticated data of segment `index` of a blob sealed under `dek_id`.
fn aad(dek_id: DekId, index: u64) -> [u8; 24] {
    let mut aad = [0u8; 24];
    aad[..16].copy_from_slice(&dek_id.0);
    aad[16..].copy_from_slice(&index.to_be_bytes());
    aad
}
