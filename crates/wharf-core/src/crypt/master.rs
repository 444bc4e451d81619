//! The Wharf master keyring: versioned AES-256 keys that wrap data keys of AES256 repositories.
//!
//! A keyring is text, one key per line: `<version> <base64 of 32 bytes>`, `#` starts a comment.
//! The highest version wraps new data keys; older versions stay to unwrap what they wrapped
//! until a rewrap job has moved every data key to the newest one. Each version has a fingerprint
//! (HMAC-SHA256 of a fixed label under the key, first 16 bytes, hex) that the metadata database
//! records, so a node started with the wrong key stops instead of writing data nobody can read.
//!
//! A wrapped data key is `version (u32 BE) || nonce (12) || AES-256-GCM(dek) || tag (16)` with the
//! data key's id as additional data, so a wrap moved to another data key fails to open.

use base64::Engine;
use hmac::{Hmac, Mac};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use sha2::Sha256;
use std::collections::BTreeMap;
use std::fmt;
use wharf_blob::seal::DekId;
use zeroize::Zeroizing;

/// Length of a wrapped data key.
pub const WRAPPED_LEN: usize = 4 + NONCE_LEN + 32 + 16;
const FINGERPRINT_LABEL: &[u8] = b"wharf master key fingerprint v1";
const WRAP_LABEL: &[u8] = b"wharf-dek:";

/// Why a keyring could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error("line {line}: {reason}")]
    Syntax { line: usize, reason: String },
    #[error("the keyring holds no key")]
    Empty,
    #[error("version {0} appears twice")]
    Duplicate(u32),
}

/// One master key version.
struct MasterKey {
    key: LessSafeKey,
    fingerprint: String,
}

/// The loaded master keys, by version.
pub struct MasterKeyring {
    keys: BTreeMap<u32, MasterKey>,
}

impl fmt::Debug for MasterKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let versions: Vec<(u32, &str)> = self
            .keys
            .iter()
            .map(|(v, k)| (*v, k.fingerprint.as_str()))
            .collect();
        f.debug_struct("MasterKeyring")
            .field("versions", &versions)
            .finish()
    }
}

/// The fingerprint of key bytes (safe to store and print).
pub fn fingerprint(bytes: &[u8; 32]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(bytes).expect("HMAC takes any key length");
    mac.update(FINGERPRINT_LABEL);
    hex::encode(&mac.finalize().into_bytes()[..16])
}

/// Fresh random key bytes.
pub fn random_key() -> Zeroizing<[u8; 32]> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    getrandom::fill(&mut bytes[..]).expect("the OS random source works");
    bytes
}

/// One keyring line for `version` and `bytes`.
pub fn keyring_line(version: u32, bytes: &[u8; 32]) -> Zeroizing<String> {
    Zeroizing::new(format!(
        "{version} {}\n",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}

fn aad(dek: DekId) -> Vec<u8> {
    let mut a = WRAP_LABEL.to_vec();
    a.extend_from_slice(&dek.0);
    a
}

impl MasterKeyring {
    /// Parses keyring text.
    pub fn parse(text: &str) -> Result<MasterKeyring, KeyringError> {
        let mut keys = BTreeMap::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let syntax = |reason: &str| KeyringError::Syntax {
                line: i + 1,
                reason: reason.to_string(),
            };
            let mut parts = line.split_whitespace();
            let (Some(version), Some(encoded), None) = (parts.next(), parts.next(), parts.next())
            else {
                return Err(syntax("expected `<version> <base64 key>`"));
            };
            let version: u32 = version
                .parse()
                .ok()
                .filter(|v| *v > 0)
                .ok_or_else(|| syntax("the version must be a positive integer"))?;
            let decoded = Zeroizing::new(
                base64::engine::general_purpose::STANDARD
                    .decode(encoded)
                    .map_err(|_| syntax("the key is not base64"))?,
            );
            let bytes: Zeroizing<[u8; 32]> = Zeroizing::new(
                decoded
                    .as_slice()
                    .try_into()
                    .map_err(|_| syntax("the key must be 32 bytes (256 bits)"))?,
            );
            if keys.contains_key(&version) {
                return Err(KeyringError::Duplicate(version));
            }
            keys.insert(version, MasterKey::new(&bytes));
        }
        if keys.is_empty() {
            return Err(KeyringError::Empty);
        }
        Ok(MasterKeyring { keys })
    }

    /// A keyring of one key (tests and ephemeral registries).
    pub fn single(version: u32, bytes: &[u8; 32]) -> MasterKeyring {
        MasterKeyring {
            keys: BTreeMap::from([(version, MasterKey::new(bytes))]),
        }
    }

    /// The version that wraps new data keys.
    pub fn current(&self) -> u32 {
        *self
            .keys
            .keys()
            .next_back()
            .expect("a keyring is never empty")
    }

    /// Every version with its fingerprint, oldest first.
    pub fn versions(&self) -> Vec<(u32, String)> {
        self.keys
            .iter()
            .map(|(v, k)| (*v, k.fingerprint.clone()))
            .collect()
    }

    pub fn has(&self, version: u32) -> bool {
        self.keys.contains_key(&version)
    }

    /// Wraps a data key under the current version.
    pub fn wrap(&self, dek: DekId, bytes: &[u8; 32]) -> Vec<u8> {
        let version = self.current();
        let key = &self.keys[&version].key;
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).expect("the OS random source works");
        let mut out = Vec::with_capacity(WRAPPED_LEN);
        out.extend_from_slice(&version.to_be_bytes());
        out.extend_from_slice(&nonce);
        let mut sealed = bytes.to_vec();
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad(dek)),
            &mut sealed,
        )
        .expect("sealing 32 bytes cannot fail");
        out.extend_from_slice(&sealed);
        sealed.iter_mut().for_each(|b| *b = 0);
        out
    }

    /// The version a wrapped data key names (`None` when it is malformed).
    pub fn wrapped_version(wrapped: &[u8]) -> Option<u32> {
        (wrapped.len() == WRAPPED_LEN)
            .then(|| u32::from_be_bytes(wrapped[..4].try_into().expect("4 bytes")))
    }

    /// Opens a wrapped data key; `None` when its version is not in the keyring or it does not
    /// authenticate (wrong key, corrupted, or wrapped for another data key).
    pub fn unwrap(&self, dek: DekId, wrapped: &[u8]) -> Option<Zeroizing<[u8; 32]>> {
        let version = Self::wrapped_version(wrapped)?;
        let key = &self.keys.get(&version)?.key;
        let nonce: [u8; NONCE_LEN] = wrapped[4..4 + NONCE_LEN].try_into().ok()?;
        let mut buf = Zeroizing::new(wrapped[4 + NONCE_LEN..].to_vec());
        let plain = key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad(dek)),
                &mut buf,
            )
            .ok()?;
        let bytes: [u8; 32] = plain.try_into().ok()?;
        Some(Zeroizing::new(bytes))
    }
}

impl MasterKey {
    fn new(bytes: &[u8; 32]) -> MasterKey {
        MasterKey {
            key: LessSafeKey::new(
                UnboundKey::new(&AES_256_GCM, bytes).expect("32 bytes is an AES-256 key"),
            ),
            fingerprint: fingerprint(bytes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_round_trip_and_bind_to_the_data_key() {
        let k = random_key();
        let ring = MasterKeyring::single(1, &k);
        let dek = DekId::random();
        let bytes = random_key();
        let w = ring.wrap(dek, &bytes);
        assert_eq!(w.len(), WRAPPED_LEN);
        assert_eq!(ring.unwrap(dek, &w).as_deref(), Some(&*bytes));
        assert!(ring.unwrap(DekId::random(), &w).is_none(), "other data key");
        let mut bad = w.clone();
        bad[20] ^= 1;
        assert!(ring.unwrap(dek, &bad).is_none(), "tampered");
        let other = MasterKeyring::single(1, &random_key());
        assert!(other.unwrap(dek, &w).is_none(), "wrong key");
    }

    #[test]
    fn parses_versions_and_wraps_with_the_newest() {
        let (a, b) = (random_key(), random_key());
        let text = format!(
            "# keys\n{}\n{}",
            keyring_line(1, &a).trim(),
            keyring_line(2, &b).as_str()
        );
        let ring = MasterKeyring::parse(&text).unwrap();
        assert_eq!(ring.current(), 2);
        assert_eq!(ring.versions()[0], (1, fingerprint(&a)));
        let dek = DekId::random();
        let w = ring.wrap(dek, &a);
        assert_eq!(MasterKeyring::wrapped_version(&w), Some(2));
        let old = MasterKeyring::single(1, &a).wrap(dek, &b);
        assert_eq!(ring.unwrap(dek, &old).as_deref(), Some(&*b));
    }

    #[test]
    fn rejects_bad_keyrings() {
        for (text, want) in [
            ("", "no key"),
            ("1", "expected"),
            ("0 AAAA", "positive"),
            ("x AAAA", "positive"),
            ("1 !!!", "base64"),
            ("1 AAAA", "32 bytes"),
        ] {
            let err = MasterKeyring::parse(text).unwrap_err().to_string();
            assert!(err.contains(want), "{text:?}: {err}");
        }
        let line = keyring_line(3, &random_key());
        let twice = format!("{}{}", line.as_str(), line.as_str());
        assert!(matches!(
            MasterKeyring::parse(&twice),
            Err(KeyringError::Duplicate(3))
        ));
    }

    #[test]
    fn debug_shows_fingerprints_only() {
        let k = random_key();
        let s = format!("{:?}", MasterKeyring::single(1, &k));
        assert!(s.contains(&fingerprint(&k)));
        let b64 = base64::engine::general_purpose::STANDARD.encode(*k);
        assert!(!s.contains(&b64));
    }
}
