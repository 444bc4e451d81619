//! Key administration: `CreateKey`, `EnableKey`, `DisableKey`, `CreateAlias`. Wharf itself never
//! manages customer keys; the tests use these to set up a local KMS.

use serde::Serialize;

use crate::wire::{self, KeyMetadataResponse};
use crate::{KeyMetadata, KmsClient, KmsError};

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CreateKey<'a> {
    description: &'a str,
    key_usage: &'a str,
    key_spec: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct KeyId<'a> {
    key_id: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CreateAlias<'a> {
    alias_name: &'a str,
    target_key_id: &'a str,
}

#[derive(serde::Deserialize)]
struct Empty {}

impl KmsClient {
    /// `CreateKey`: a new symmetric (`SYMMETRIC_DEFAULT`, `ENCRYPT_DECRYPT`) key.
    pub async fn create_key(&self, description: &str) -> Result<KeyMetadata, KmsError> {
        let req = CreateKey {
            description,
            key_usage: "ENCRYPT_DECRYPT",
            key_spec: "SYMMETRIC_DEFAULT",
        };
        let body = self.call("CreateKey", &req).await?;
        Ok(wire::parse::<KeyMetadataResponse>("CreateKey", &body)?.key_metadata)
    }

    /// `DisableKey`: the key stays but every cryptographic use fails with `DisabledException`.
    pub async fn disable_key(&self, key_id: &str) -> Result<(), KmsError> {
        let body = self.call("DisableKey", &KeyId { key_id }).await?;
        wire::parse::<Empty>("DisableKey", &body).map(drop)
    }

    /// `EnableKey`: undoes `disable_key`.
    pub async fn enable_key(&self, key_id: &str) -> Result<(), KmsError> {
        let body = self.call("EnableKey", &KeyId { key_id }).await?;
        wire::parse::<Empty>("EnableKey", &body).map(drop)
    }

    /// `CreateAlias`: `alias_name` (which must start with `alias/`) now names `target_key_id`.
    pub async fn create_alias(
        &self,
        alias_name: &str,
        target_key_id: &str,
    ) -> Result<(), KmsError> {
        let req = CreateAlias {
            alias_name,
            target_key_id,
        };
        let body = self.call("CreateAlias", &req).await?;
        wire::parse::<Empty>("CreateAlias", &body).map(drop)
    }
}
