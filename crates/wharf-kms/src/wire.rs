//! The awsJson1.1 shapes of the operations this crate calls, and base64 for blob fields.
//!
//! Response fields that hold key material are read as borrowed strings from the (zeroized) body
//! buffer and decoded straight into `Zeroizing` buffers, so no plain `String` copy of a data key
//! is left behind by parsing.

use std::borrow::Cow;
use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::KmsError;

/// What `DescribeKey` and `CreateKey` say about a key.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyMetadata {
    /// `arn:aws:kms:<region>:<account>:key/<key id>`.
    pub arn: String,
    pub key_id: String,
    #[serde(default)]
    pub enabled: bool,
    /// `Enabled`, `Disabled`, `PendingDeletion`, `PendingImport`, `Unavailable`, ...
    #[serde(default)]
    pub key_state: String,
    /// `ENCRYPT_DECRYPT` for keys that can wrap data keys.
    #[serde(default)]
    pub key_usage: String,
}

/// Any request that names a key and an encryption context.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct KeyRequest<'a> {
    pub key_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_spec: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plaintext: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ciphertext_blob: Option<&'a str>,
    #[serde(skip_serializing_if = "is_empty")]
    pub encryption_context: &'a BTreeMap<String, String>,
}

fn is_empty(map: &&BTreeMap<String, String>) -> bool {
    map.is_empty()
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct KeyMetadataResponse {
    pub key_metadata: KeyMetadata,
}

/// `GenerateDataKey`, `Encrypt` and `Decrypt` responses: whichever blobs the operation returns.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct BlobResponse<'a> {
    pub key_id: String,
    #[serde(borrow, default)]
    pub plaintext: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub ciphertext_blob: Option<Cow<'a, str>>,
}

/// Base64 of bytes that may be secret, in a buffer wiped on drop.
pub(crate) fn encode_secret(bytes: &[u8]) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::new());
    STANDARD.encode_string(bytes, &mut out);
    out
}

pub(crate) fn encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Decodes a required base64 field into a buffer wiped on drop.
pub(crate) fn decode(
    op: &str,
    field: &str,
    value: Option<&Cow<'_, str>>,
) -> Result<Zeroizing<Vec<u8>>, KmsError> {
    let value = value.ok_or_else(|| KmsError::protocol(format!("{op} response has no {field}")))?;
    let mut out = Zeroizing::new(Vec::new());
    STANDARD
        .decode_vec(value.as_bytes(), &mut out)
        .map_err(|_| KmsError::protocol(format!("{op} response: {field} is not base64")))?;
    Ok(out)
}

/// Parses a 2xx response body; an empty body (unit operations such as `EnableKey`) reads as `{}`.
pub(crate) fn parse<'a, T: Deserialize<'a>>(op: &str, body: &'a [u8]) -> Result<T, KmsError> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    // The serde message may quote part of the body, which can hold key material: drop it.
    serde_json::from_slice(body).map_err(|e| {
        KmsError::protocol(format!(
            "{op} response is not the expected JSON ({:?})",
            e.classify()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_omits_absent_fields_and_empty_context() {
        let empty = BTreeMap::new();
        let req = KeyRequest {
            key_id: "alias/wharf",
            key_spec: Some("AES_256"),
            plaintext: None,
            ciphertext_blob: None,
            encryption_context: &empty,
        };
        assert_eq!(
            serde_json::to_string(&req).unwrap(),
            r#"{"KeyId":"alias/wharf","KeySpec":"AES_256"}"#
        );
        let context = BTreeMap::from([("wharf:repo".to_owned(), "team/app".to_owned())]);
        let req = KeyRequest {
            key_id: "k",
            key_spec: None,
            plaintext: None,
            ciphertext_blob: Some("AAE="),
            encryption_context: &context,
        };
        assert_eq!(
            serde_json::to_string(&req).unwrap(),
            r#"{"KeyId":"k","CiphertextBlob":"AAE=","EncryptionContext":{"wharf:repo":"team/app"}}"#
        );
    }

    #[test]
    fn blob_fields_decode_and_errors_do_not_echo_the_body() {
        let body = br#"{"KeyId":"arn:k","Plaintext":"c2VjcmV0","CiphertextBlob":"AAE="}"#;
        let resp: BlobResponse<'_> = parse("Decrypt", body).unwrap();
        assert_eq!(resp.key_id, "arn:k");
        assert_eq!(
            &*decode("Decrypt", "Plaintext", resp.plaintext.as_ref()).unwrap(),
            b"secret"
        );
        let missing = decode("Encrypt", "CiphertextBlob", None).unwrap_err();
        assert_eq!(missing.code(), "Protocol");

        let bad = br#"{"KeyId":"arn:k","Plaintext":"c2VjcmV0!!"}"#;
        let resp: BlobResponse<'_> = parse("Decrypt", bad).unwrap();
        let err = decode("Decrypt", "Plaintext", resp.plaintext.as_ref()).unwrap_err();
        assert!(!err.to_string().contains("c2VjcmV0"), "{err}");

        let Err(err) = parse::<BlobResponse<'_>>("Decrypt", br#"{"Plaintext":"c2VjcmV0"}"#) else {
            panic!("a response without KeyId parsed");
        };
        assert!(!err.to_string().contains("c2VjcmV0"), "{err}");
    }

    #[test]
    fn empty_body_is_an_empty_object() {
        #[derive(Deserialize)]
        struct Unit {}
        parse::<Unit>("EnableKey", b"").unwrap();
    }
}
