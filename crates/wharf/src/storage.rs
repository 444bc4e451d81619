//! Where blobs live: the `[blob_store]` table of the config file and its `WHARF_BLOB_STORE_*`
//! variables — the filesystem under the data directory (the default) or an S3-compatible bucket
//! — validated into wharf-core's `BlobStoreSettings`, which opens it.

use anyhow::{bail, Context};
use serde::Deserialize;
pub use wharf_core::stores::BlobStoreSettings;
use wharf_core::stores::S3Config;

/// The `[blob_store]` table as written (every field optional).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBlobStore {
    /// `filesystem` (default) or `s3`.
    pub kind: Option<String>,
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub bucket: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    /// Path-style addressing (default true: what Garage, Ceph and MinIO need).
    pub path_style: Option<bool>,
    pub prefix: Option<String>,
    /// Redirect blob GETs to presigned URLs (default false: stream through Wharf).
    pub redirect: Option<bool>,
}

impl RawBlobStore {
    /// Reads `WHARF_BLOB_STORE_*` through `get`; the S3 keys also fall back to the standard
    /// `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`.
    pub fn from_env(get: &impl Fn(&str) -> Option<String>) -> anyhow::Result<RawBlobStore> {
        let flag = |key: &str| {
            get(key)
                .map(|v| match v.trim() {
                    "true" | "1" => Ok(true),
                    "false" | "0" => Ok(false),
                    other => bail!("{key}={other:?} must be true or false"),
                })
                .transpose()
        };
        let path_style = flag("WHARF_BLOB_STORE_PATH_STYLE")?;
        let redirect = flag("WHARF_BLOB_STORE_REDIRECT")?;
        Ok(RawBlobStore {
            kind: get("WHARF_BLOB_STORE"),
            endpoint: get("WHARF_BLOB_STORE_ENDPOINT"),
            region: get("WHARF_BLOB_STORE_REGION"),
            bucket: get("WHARF_BLOB_STORE_BUCKET"),
            access_key_id: get("WHARF_BLOB_STORE_ACCESS_KEY_ID")
                .or_else(|| get("AWS_ACCESS_KEY_ID")),
            secret_access_key: get("WHARF_BLOB_STORE_SECRET_ACCESS_KEY")
                .or_else(|| get("AWS_SECRET_ACCESS_KEY")),
            path_style,
            prefix: get("WHARF_BLOB_STORE_PREFIX"),
            redirect,
        })
    }

    /// Layers `over` on top of `self`, field by field.
    pub fn merge(self, over: RawBlobStore) -> RawBlobStore {
        RawBlobStore {
            kind: over.kind.or(self.kind),
            endpoint: over.endpoint.or(self.endpoint),
            region: over.region.or(self.region),
            bucket: over.bucket.or(self.bucket),
            access_key_id: over.access_key_id.or(self.access_key_id),
            secret_access_key: over.secret_access_key.or(self.secret_access_key),
            path_style: over.path_style.or(self.path_style),
            prefix: over.prefix.or(self.prefix),
            redirect: over.redirect.or(self.redirect),
        }
    }
}

impl TryFrom<RawBlobStore> for BlobStoreSettings {
    type Error = anyhow::Error;

    fn try_from(raw: RawBlobStore) -> anyhow::Result<BlobStoreSettings> {
        match raw.kind.as_deref().unwrap_or("filesystem") {
            "filesystem" => Ok(BlobStoreSettings::Filesystem),
            "s3" => {
                let need = |name: &str, v: Option<String>| -> anyhow::Result<String> {
                    v.filter(|v| !v.is_empty()).with_context(|| {
                        format!("blob_store.{name} is required when blob_store.kind = \"s3\"")
                    })
                };
                if let Some(e) = &raw.endpoint {
                    if !(e.starts_with("http://") || e.starts_with("https://")) {
                        bail!("blob_store.endpoint = {e:?} must start with http:// or https://");
                    }
                }
                Ok(BlobStoreSettings::S3(S3Config {
                    endpoint: raw.endpoint,
                    region: raw.region.unwrap_or_else(|| "us-east-1".into()),
                    bucket: need("bucket", raw.bucket)?,
                    access_key_id: need("access_key_id", raw.access_key_id)?,
                    secret_access_key: need("secret_access_key", raw.secret_access_key)?,
                    path_style: raw.path_style.unwrap_or(true),
                    prefix: raw.prefix.unwrap_or_default(),
                    redirect: raw.redirect.unwrap_or(false),
                }))
            }
            other => bail!("blob_store.kind = {other:?} must be \"filesystem\" or \"s3\""),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn filesystem_by_default_and_s3_needs_bucket_and_keys() {
        let d = BlobStoreSettings::try_from(RawBlobStore::default()).unwrap();
        assert!(matches!(d, BlobStoreSettings::Filesystem));
        let raw = RawBlobStore::from_env(&env(&[("WHARF_BLOB_STORE", "s3")])).unwrap();
        let e = BlobStoreSettings::try_from(raw).unwrap_err();
        assert!(format!("{e:#}").contains("blob_store.bucket"), "{e:#}");
        let raw = RawBlobStore::from_env(&env(&[
            ("WHARF_BLOB_STORE", "s3"),
            ("WHARF_BLOB_STORE_ENDPOINT", "http://127.0.0.1:3900"),
            ("WHARF_BLOB_STORE_BUCKET", "wharf"),
            ("AWS_ACCESS_KEY_ID", "GK123"),
            ("AWS_SECRET_ACCESS_KEY", "very-secret"),
        ]))
        .unwrap();
        let s = BlobStoreSettings::try_from(raw).unwrap();
        let BlobStoreSettings::S3(c) = &s else {
            panic!("{s:?}")
        };
        assert_eq!((c.bucket.as_str(), c.path_style), ("wharf", true));
        assert!(
            !format!("{s:?}").contains("very-secret"),
            "Debug hides the secret"
        );
        let bad = RawBlobStore {
            kind: Some("s3".into()),
            endpoint: Some("127.0.0.1:3900".into()),
            ..RawBlobStore::default()
        };
        assert!(BlobStoreSettings::try_from(bad).is_err());
        let bad = RawBlobStore {
            kind: Some("tape".into()),
            ..RawBlobStore::default()
        };
        assert!(format!("{:#}", BlobStoreSettings::try_from(bad).unwrap_err()).contains("tape"));
    }
}
