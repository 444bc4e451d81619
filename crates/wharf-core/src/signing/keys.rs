//! Signing-profile keys at rest: the PKCS#8 private key is sealed (AES-256-GCM) under a random
//! profile key, and that profile key is wrapped by the master keyring, bound to the profile's
//! account and name. Without a master keyring the PKCS#8 is stored as is (never logged either way).

use crate::crypt::master::MasterKeyring;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use sha2::{Digest as _, Sha256};
use wharf_blob::seal::DekId;
use zeroize::Zeroizing;

const SEAL_LABEL: &[u8] = b"wharf signing key v1";

/// The data-key id a profile key is wrapped for: it binds the wrap to this profile.
fn profile_dek(account: &str, name: &str) -> DekId {
    let h = Sha256::digest(format!("wharf signing profile v1\0{account}/{name}"));
    let mut id = [0u8; 16];
    id.copy_from_slice(&h[..16]);
    DekId(id)
}

/// Seals `pkcs8`: (stored private key, wrapped profile key).
pub(crate) fn seal(
    master: Option<&MasterKeyring>,
    account: &str,
    name: &str,
    pkcs8: &[u8],
) -> (Vec<u8>, Option<Vec<u8>>) {
    let Some(master) = master else {
        return (pkcs8.to_vec(), None);
    };
    let key = crate::crypt::master::random_key();
    let wrap = master.wrap(profile_dek(account, name), &key);
    let sealing = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &key[..]).expect("32 bytes"));
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce).expect("the OS random source works");
    let mut sealed = pkcs8.to_vec();
    sealing
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(SEAL_LABEL),
            &mut sealed,
        )
        .expect("sealing a key cannot fail");
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    (out, Some(wrap))
}

/// Opens a stored private key; `None` when its wrap cannot be opened with this keyring.
pub(crate) fn open(
    master: Option<&MasterKeyring>,
    account: &str,
    name: &str,
    stored: &[u8],
    wrap: Option<&[u8]>,
) -> Option<Zeroizing<Vec<u8>>> {
    let Some(wrap) = wrap else {
        return Some(Zeroizing::new(stored.to_vec()));
    };
    let key = master?.unwrap(profile_dek(account, name), wrap)?;
    let opening = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &key[..]).ok()?);
    let nonce: [u8; NONCE_LEN] = stored.get(..NONCE_LEN)?.try_into().ok()?;
    let mut buf = Zeroizing::new(stored[NONCE_LEN..].to_vec());
    let plain = opening
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(SEAL_LABEL),
            &mut buf,
        )
        .ok()?;
    Some(Zeroizing::new(plain.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_keys_open_only_for_their_profile_and_keyring() {
        let master = MasterKeyring::single(1, &[7u8; 32]);
        let (stored, wrap) = seal(Some(&master), "123456789012", "rel", b"pkcs8 bytes");
        assert!(!stored.windows(11).any(|w| w == b"pkcs8 bytes"));
        let wrap = wrap.unwrap();
        let open_with = |m: &MasterKeyring, name: &str| {
            open(Some(m), "123456789012", name, &stored, Some(&wrap)).map(|k| k.to_vec())
        };
        assert_eq!(open_with(&master, "rel").unwrap(), b"pkcs8 bytes");
        assert!(open_with(&master, "other").is_none());
        assert!(open_with(&MasterKeyring::single(1, &[8u8; 32]), "rel").is_none());
        assert!(open(None, "123456789012", "rel", &stored, Some(&wrap)).is_none());
        let (clear, none) = seal(None, "123456789012", "rel", b"k");
        assert_eq!((clear.as_slice(), none), (&b"k"[..], None));
        assert_eq!(open(None, "a", "b", b"k", None).unwrap().to_vec(), b"k");
    }
}
