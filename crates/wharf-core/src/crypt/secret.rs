//! Small secrets at rest (signing-profile keys, upstream credentials): the plaintext is sealed
//! with AES-256-GCM under a random key, and that key is wrapped by the master keyring for a
//! data-key id derived from `binding`, so a stored secret opens only for the record it was sealed
//! for. Without a master keyring the plaintext is stored as is (and never logged either way).

use crate::crypt::master::MasterKeyring;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use sha2::{Digest as _, Sha256};
use wharf_blob::seal::DekId;
use zeroize::Zeroizing;

/// The data-key id a secret's key is wrapped for.
fn binding_dek(binding: &str) -> DekId {
    let h = Sha256::digest(binding.as_bytes());
    let mut id = [0u8; 16];
    id.copy_from_slice(&h[..16]);
    DekId(id)
}

/// Seals `plain` for `binding` with `label` as associated data: (stored bytes, wrapped key).
pub(crate) fn seal(
    master: Option<&MasterKeyring>,
    binding: &str,
    label: &[u8],
    plain: &[u8],
) -> (Vec<u8>, Option<Vec<u8>>) {
    let Some(master) = master else {
        return (plain.to_vec(), None);
    };
    let key = crate::crypt::master::random_key();
    let wrap = master.wrap(binding_dek(binding), &key);
    let sealing = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &key[..]).expect("32 bytes"));
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce).expect("the OS random source works");
    let mut sealed = plain.to_vec();
    sealing
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(label),
            &mut sealed,
        )
        .expect("sealing a small secret cannot fail");
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    (out, Some(wrap))
}

/// Opens a stored secret; `None` when its wrap cannot be opened with this keyring for `binding`.
pub(crate) fn open(
    master: Option<&MasterKeyring>,
    binding: &str,
    label: &[u8],
    stored: &[u8],
    wrap: Option<&[u8]>,
) -> Option<Zeroizing<Vec<u8>>> {
    let Some(wrap) = wrap else {
        return Some(Zeroizing::new(stored.to_vec()));
    };
    let key = master?.unwrap(binding_dek(binding), wrap)?;
    let opening = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &key[..]).ok()?);
    let nonce: [u8; NONCE_LEN] = stored.get(..NONCE_LEN)?.try_into().ok()?;
    let mut buf = Zeroizing::new(stored[NONCE_LEN..].to_vec());
    let plain = opening
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(label),
            &mut buf,
        )
        .ok()?;
    Some(Zeroizing::new(plain.to_vec()))
}
