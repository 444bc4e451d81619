//! Signing-profile keys at rest: the PKCS#8 private key sealed by `crypt::secret`, bound to the
//! profile's account and name. Without a master keyring the PKCS#8 is stored as is.

use crate::crypt::master::MasterKeyring;
use crate::crypt::secret;
use zeroize::Zeroizing;

const SEAL_LABEL: &[u8] = b"wharf signing key v1";

/// What a profile key's wrap is bound to.
fn binding(account: &str, name: &str) -> String {
    format!("wharf signing profile v1\0{account}/{name}")
}

/// Seals `pkcs8`: (stored private key, wrapped profile key).
pub(crate) fn seal(
    master: Option<&MasterKeyring>,
    account: &str,
    name: &str,
    pkcs8: &[u8],
) -> (Vec<u8>, Option<Vec<u8>>) {
    secret::seal(master, &binding(account, name), SEAL_LABEL, pkcs8)
}

/// Opens a stored private key; `None` when its wrap cannot be opened with this keyring.
pub(crate) fn open(
    master: Option<&MasterKeyring>,
    account: &str,
    name: &str,
    stored: &[u8],
    wrap: Option<&[u8]>,
) -> Option<Zeroizing<Vec<u8>>> {
    secret::open(master, &binding(account, name), SEAL_LABEL, stored, wrap)
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
