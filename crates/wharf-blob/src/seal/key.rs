//! Data keys (DEKs): the per-upload AES-256-GCM keys blobs are sealed under, and their ids.
//!
//! A `DataKey` never gives its key bytes back: they exist in the clear only in the
//! `Zeroizing` buffer `generate` returns for wrapping, and inside ring's key schedule.

use ring::aead::{LessSafeKey, UnboundKey, AES_256_GCM};
use ring::rand::{SecureRandom, SystemRandom};
use std::fmt;
use zeroize::Zeroizing;

/// The random id of a data key, stored in every sealed blob's header and in SQL as 32 lowercase
/// hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct DekId(pub [u8; 16]);

impl DekId {
    /// A fresh random id.
    pub fn random() -> DekId {
        let mut id = [0u8; 16];
        fill_random(&mut id);
        DekId(id)
    }

    /// 32 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses exactly 32 lowercase hex digits (the only form `to_hex` writes).
    pub fn from_hex(s: &str) -> Option<DekId> {
        if s.len() != 32 || !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return None;
        }
        let mut id = [0u8; 16];
        hex::decode_to_slice(s, &mut id).ok()?;
        Some(DekId(id))
    }
}

impl fmt::Display for DekId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for DekId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DekId({})", self.to_hex())
    }
}

/// An AES-256-GCM data key and its id, ready to seal and open segments.
pub struct DataKey {
    id: DekId,
    key: LessSafeKey,
}

impl DataKey {
    /// A key from its (unwrapped) bytes.
    pub fn new(id: DekId, key: &[u8; 32]) -> DataKey {
        let unbound = UnboundKey::new(&AES_256_GCM, key).expect("32 bytes is an AES-256 key");
        DataKey {
            id,
            key: LessSafeKey::new(unbound),
        }
    }

    /// A new random key with a new random id, and its bytes so the caller can wrap them.
    pub fn generate() -> (DataKey, Zeroizing<[u8; 32]>) {
        let mut bytes = Zeroizing::new([0u8; 32]);
        fill_random(bytes.as_mut());
        (DataKey::new(DekId::random(), &bytes), bytes)
    }

    pub fn id(&self) -> DekId {
        self.id
    }

    pub(crate) fn aead(&self) -> &LessSafeKey {
        &self.key
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataKey").field("id", &self.id).finish()
    }
}

/// Fills `buf` from the operating system's CSPRNG.
pub(crate) fn fill_random(buf: &mut [u8]) {
    SystemRandom::new()
        .fill(buf)
        .expect("the operating system's random source failed");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_random_and_round_trip_as_lowercase_hex() {
        let (a, b) = (DekId::random(), DekId::random());
        assert_ne!(a, b);
        assert_eq!(a.to_hex().len(), 32);
        assert_eq!(DekId::from_hex(&a.to_hex()), Some(a));
        assert_eq!(a.to_string(), a.to_hex());
        let fixed = DekId([0xab; 16]);
        assert_eq!(fixed.to_hex(), "ab".repeat(16));
        assert_eq!(format!("{fixed:?}"), format!("DekId({})", "ab".repeat(16)));
        for bad in [
            "",
            &"AB".repeat(16),
            &"ab".repeat(15),
            &"ab".repeat(17),
            &"zz".repeat(16),
        ] {
            assert_eq!(DekId::from_hex(bad), None, "{bad}");
        }
    }

    #[test]
    fn debug_shows_the_id_and_never_the_key() {
        let (key, bytes) = DataKey::generate();
        let shown = format!("{key:?}");
        assert!(shown.contains(&key.id().to_hex()), "{shown}");
        assert!(!shown.contains(&hex::encode(bytes.as_ref())), "{shown}");
        assert_eq!(DataKey::new(key.id(), &bytes).id(), key.id());
        let (other, other_bytes) = DataKey::generate();
        assert_ne!(other.id(), key.id());
        assert_ne!(*other_bytes, *bytes);
    }
}
