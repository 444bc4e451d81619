//! The data-key operations: `GenerateDataKey`, `Encrypt`, `Decrypt` and `DescribeKey`.
//!
//! Every call takes the encryption context Wharf binds the wrap to; KMS refuses to decrypt under a
//! different context (`InvalidCiphertextException`). `decrypt` always names the key, so KMS checks
//! that the ciphertext belongs to it rather than trusting the key id inside the blob.

use std::collections::BTreeMap;
use std::fmt;

use zeroize::Zeroizing;

use crate::wire::{self, BlobResponse, KeyMetadataResponse, KeyRequest};
use crate::{KeyMetadata, KmsClient, KmsError};

/// Bytes of an `AES_256` data key.
const DATA_KEY_LEN: usize = 32;

/// The most plaintext `Encrypt` accepts (KMS's limit). Checked before sending: some KMS
/// implementations quote an oversized plaintext in their error message.
const MAX_ENCRYPT: usize = 4096;

/// A fresh data key: its plaintext and the same key wrapped under a KMS key.
pub struct DataKeyPair {
    /// The 32-byte AES-256 key, wiped on drop. Never printed.
    pub plaintext: Zeroizing<Vec<u8>>,
    /// KMS's `CiphertextBlob`: what `decrypt` turns back into `plaintext`.
    pub ciphertext: Vec<u8>,
    /// The ARN of the KMS key that wrapped it (also when the request named an alias).
    pub key_arn: String,
}

impl fmt::Debug for DataKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataKeyPair")
            .field("ciphertext_len", &self.ciphertext.len())
            .field("key_arn", &self.key_arn)
            .finish_non_exhaustive()
    }
}

fn request<'a>(key_id: &'a str, context: &'a BTreeMap<String, String>) -> KeyRequest<'a> {
    KeyRequest {
        key_id,
        key_spec: None,
        plaintext: None,
        ciphertext_blob: None,
        encryption_context: context,
    }
}

impl KmsClient {
    /// `DescribeKey`: the key's ARN, id, state and usage. `key_id` may be a key id, key ARN, alias
    /// name (`alias/...`) or alias ARN.
    pub async fn describe_key(&self, key_id: &str) -> Result<KeyMetadata, KmsError> {
        let empty = BTreeMap::new();
        let body = self.call("DescribeKey", &request(key_id, &empty)).await?;
        Ok(wire::parse::<KeyMetadataResponse>("DescribeKey", &body)?.key_metadata)
    }

    /// `GenerateDataKey` with `KeySpec: AES_256`, wrapped under `key_id` with `context`.
    pub async fn generate_data_key(
        &self,
        key_id: &str,
        context: &BTreeMap<String, String>,
    ) -> Result<DataKeyPair, KmsError> {
        const OP: &str = "GenerateDataKey";
        let req = KeyRequest {
            key_spec: Some("AES_256"),
            ..request(key_id, context)
        };
        let body = self.call(OP, &req).await?;
        let resp: BlobResponse<'_> = wire::parse(OP, &body)?;
        let plaintext = wire::decode(OP, "Plaintext", resp.plaintext.as_ref())?;
        if plaintext.len() != DATA_KEY_LEN {
            return Err(KmsError::protocol(format!(
                "{OP} returned a {}-byte key, not {DATA_KEY_LEN}",
                plaintext.len()
            )));
        }
        let ciphertext = wire::decode(OP, "CiphertextBlob", resp.ciphertext_blob.as_ref())?;
        Ok(DataKeyPair {
            plaintext,
            ciphertext: ciphertext.to_vec(),
            key_arn: resp.key_id,
        })
    }

    /// `Encrypt`: wraps `plaintext` (1 to 4096 bytes, e.g. an existing data key) under `key_id`
    /// with `context`. Returns the `CiphertextBlob` and the ARN of the key used.
    pub async fn encrypt(
        &self,
        key_id: &str,
        plaintext: &[u8],
        context: &BTreeMap<String, String>,
    ) -> Result<(Vec<u8>, String), KmsError> {
        const OP: &str = "Encrypt";
        if plaintext.is_empty() || plaintext.len() > MAX_ENCRYPT {
            return Err(KmsError::protocol(format!(
                "{OP} takes 1 to {MAX_ENCRYPT} bytes of plaintext, not {}",
                plaintext.len()
            )));
        }
        let encoded = wire::encode_secret(plaintext);
        let req = KeyRequest {
            plaintext: Some(&encoded),
            ..request(key_id, context)
        };
        let body = self.call(OP, &req).await?;
        let resp: BlobResponse<'_> = wire::parse(OP, &body)?;
        let ciphertext = wire::decode(OP, "CiphertextBlob", resp.ciphertext_blob.as_ref())?;
        Ok((ciphertext.to_vec(), resp.key_id))
    }

    /// `Decrypt` of `ciphertext` under `key_id` (KMS checks the ciphertext is that key's) with the
    /// `context` it was wrapped with. Returns the plaintext and the ARN of the key used.
    pub async fn decrypt(
        &self,
        ciphertext: &[u8],
        key_id: &str,
        context: &BTreeMap<String, String>,
    ) -> Result<(Zeroizing<Vec<u8>>, String), KmsError> {
        const OP: &str = "Decrypt";
        let encoded = wire::encode(ciphertext);
        let req = KeyRequest {
            ciphertext_blob: Some(&encoded),
            ..request(key_id, context)
        };
        let body = self.call(OP, &req).await?;
        let resp: BlobResponse<'_> = wire::parse(OP, &body)?;
        let plaintext = wire::decode(OP, "Plaintext", resp.plaintext.as_ref())?;
        Ok((plaintext, resp.key_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_key_debug_hides_the_plaintext() {
        let pair = DataKeyPair {
            plaintext: Zeroizing::new(vec![0xAB; 32]),
            ciphertext: vec![1, 2, 3],
            key_arn: "arn:aws:kms:eu-west-2:111122223333:key/k".into(),
        };
        let printed = format!("{pair:?}");
        assert!(printed.contains("key/k"), "{printed}");
        assert!(
            !printed.contains("171") && !printed.to_lowercase().contains("ab, "),
            "{printed}"
        );
    }
}
