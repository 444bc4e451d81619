//! Encryption at rest settings and start-up: the `[encryption]` and `[kms]` tables and their
//! `WHARF_*` variables, and loading the master keyring (generated at first start, 0600) with
//! the checks that stop start-up when it is missing, unreadable, malformed or the wrong one.

use anyhow::{bail, Context};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;
use wharf_core::crypt::{master, Keys, MasterKeyring};
use wharf_core::Registry;

/// The `[encryption]` table as written.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEncryption {
    /// The master keyring file (default `<data_dir>/master.key`).
    pub master_key_file: Option<PathBuf>,
    /// Seal new blobs (default true). `false` stores new blobs in plaintext: only for
    /// measuring the cost of encryption, never in production.
    pub encrypt_blobs: Option<bool>,
}

/// The `[kms]` table as written: the AWS KMS (or compatible) endpoint KMS repositories use.
#[derive(Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKms {
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    /// Seconds an unwrapped KMS data key is reused before KMS is asked again (default 60): a
    /// key disabled in KMS stops reads within this time.
    pub cache_secs: Option<u64>,
}

impl std::fmt::Debug for RawKms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawKms")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("cache_secs", &self.cache_secs)
            .finish_non_exhaustive()
    }
}

fn flag(get: &impl Fn(&str) -> Option<String>, key: &str) -> anyhow::Result<Option<bool>> {
    get(key)
        .map(|v| match v.trim() {
            "true" | "1" => Ok(true),
            "false" | "0" => Ok(false),
            other => bail!("{key}={other:?} must be true or false"),
        })
        .transpose()
}

impl RawEncryption {
    pub fn from_env(get: &impl Fn(&str) -> Option<String>) -> anyhow::Result<RawEncryption> {
        Ok(RawEncryption {
            master_key_file: get("WHARF_MASTER_KEY_FILE").map(PathBuf::from),
            encrypt_blobs: flag(get, "WHARF_ENCRYPT_BLOBS")?,
        })
    }

    pub fn merge(self, over: RawEncryption) -> RawEncryption {
        RawEncryption {
            master_key_file: over.master_key_file.or(self.master_key_file),
            encrypt_blobs: over.encrypt_blobs.or(self.encrypt_blobs),
        }
    }
}

impl RawKms {
    pub fn from_env(get: &impl Fn(&str) -> Option<String>) -> anyhow::Result<RawKms> {
        Ok(RawKms {
            endpoint: get("WHARF_KMS_ENDPOINT"),
            region: get("WHARF_KMS_REGION"),
            access_key_id: get("WHARF_KMS_ACCESS_KEY_ID"),
            secret_access_key: get("WHARF_KMS_SECRET_ACCESS_KEY"),
            cache_secs: get("WHARF_KMS_CACHE_SECS")
                .map(|v| {
                    v.trim()
                        .parse()
                        .with_context(|| format!("WHARF_KMS_CACHE_SECS={v:?} is not a number"))
                })
                .transpose()?,
        })
    }

    pub fn merge(self, over: RawKms) -> RawKms {
        RawKms {
            endpoint: over.endpoint.or(self.endpoint),
            region: over.region.or(self.region),
            access_key_id: over.access_key_id.or(self.access_key_id),
            secret_access_key: over.secret_access_key.or(self.secret_access_key),
            cache_secs: over.cache_secs.or(self.cache_secs),
        }
    }
}

/// Where the master keyring comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `WHARF_MASTER_KEY`: the keyring text itself (never printed).
    Env(String),
    /// A file; `explicit` when configured (a missing explicit file is an error, a missing
    /// default one is created at first start).
    File { path: PathBuf, explicit: bool },
}

impl std::fmt::Debug for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::Env(_) => f.write_str("WHARF_MASTER_KEY"),
            KeySource::File { path, .. } => write!(f, "{}", path.display()),
        }
    }
}

/// Validated encryption settings.
#[derive(Debug, Clone)]
pub struct EncryptionSettings {
    pub key_source: KeySource,
    pub encrypt_blobs: bool,
    pub kms: Option<wharf_kms::KmsConfig>,
    pub kms_cache: Duration,
}

impl EncryptionSettings {
    pub fn from_raw(
        raw: RawEncryption,
        kms: RawKms,
        env_key: Option<String>,
        data_dir: &Path,
    ) -> anyhow::Result<EncryptionSettings> {
        let key_source = match (env_key, raw.master_key_file) {
            (Some(_), Some(_)) => {
                bail!("WHARF_MASTER_KEY and master_key_file exclude each other; choose one")
            }
            (Some(text), None) => KeySource::Env(text),
            (None, Some(path)) => KeySource::File {
                path,
                explicit: true,
            },
            (None, None) => KeySource::File {
                path: data_dir.join("master.key"),
                explicit: false,
            },
        };
        let kms_config = match kms.endpoint {
            None => {
                if kms.access_key_id.is_some() || kms.secret_access_key.is_some() {
                    bail!("[kms] credentials are set but kms endpoint (WHARF_KMS_ENDPOINT) is not");
                }
                None
            }
            Some(endpoint) => {
                if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
                    bail!("kms endpoint {endpoint:?} must be an http:// or https:// URL");
                }
                let (Some(access_key_id), Some(secret_access_key)) =
                    (kms.access_key_id, kms.secret_access_key)
                else {
                    bail!("kms endpoint needs access_key_id and secret_access_key (WHARF_KMS_ACCESS_KEY_ID, WHARF_KMS_SECRET_ACCESS_KEY)");
                };
                Some(wharf_kms::KmsConfig {
                    endpoint,
                    region: kms.region.unwrap_or_else(|| "us-east-1".into()),
                    access_key_id,
                    secret_access_key,
                    session_token: None,
                })
            }
        };
        Ok(EncryptionSettings {
            key_source,
            encrypt_blobs: raw.encrypt_blobs.unwrap_or(true),
            kms: kms_config,
            kms_cache: Duration::from_secs(kms.cache_secs.unwrap_or(60)),
        })
    }
}

/// Loads (or at first start creates) the master keyring and builds the key service. Stops
/// with a message naming the file when the keyring is missing but the database says data is
/// encrypted, unreadable, or malformed. The keyring is checked against the database's recorded
/// fingerprints by `Registry::check_master_keys` afterwards.
pub async fn load_keys(settings: &EncryptionSettings, registry: &Registry) -> anyhow::Result<Keys> {
    let ring = match &settings.key_source {
        KeySource::Env(text) => MasterKeyring::parse(text)
            .map_err(|e| anyhow::anyhow!("WHARF_MASTER_KEY is not a valid master keyring: {e}"))?,
        KeySource::File { path, explicit } => match std::fs::read_to_string(path) {
            Ok(text) => {
                warn_if_readable_by_others(path);
                MasterKeyring::parse(&text).map_err(|e| {
                    anyhow::anyhow!(
                        "master key file {} is not a valid keyring ({e}); expected lines `<version> <base64 of 32 bytes>`",
                        path.display()
                    )
                })?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let recorded = registry.recorded_master_keys().await?;
                if let Some((v, fp)) = recorded.last() {
                    bail!(
                        "master key file {} is missing, but this registry's data is encrypted under master key version {v} (fingerprint {fp}); restore the file (or set WHARF_MASTER_KEY) — without it no stored image can be read",
                        path.display()
                    );
                }
                if *explicit {
                    bail!("master key file {} does not exist", path.display());
                }
                create_keyring(path)?
            }
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("reading master key file {}", path.display()))
            }
        },
    };
    let mut keys = Keys::with_master(ring, settings.encrypt_blobs);
    if let Some(kms) = &settings.kms {
        let client = wharf_kms::KmsClient::new(kms.clone())
            .map_err(|e| anyhow::anyhow!("setting up the KMS client: {e}"))?;
        keys = keys.with_kms(client, settings.kms_cache);
    }
    Ok(keys)
}

/// Writes a new keyring of one random key, readable only by its owner.
fn create_keyring(path: &Path) -> anyhow::Result<MasterKeyring> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let bytes = master::random_key();
    let line = master::keyring_line(1, &bytes);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating master key file {}", path.display()))?;
    f.write_all(line.as_bytes())?;
    f.sync_all()?;
    tracing::warn!(
        path = %path.display(),
        fingerprint = %master::fingerprint(&bytes),
        "generated the master key that encrypts every blob: back this file up; without it no image can be read"
    );
    Ok(MasterKeyring::single(1, &bytes))
}

/// Appends a new key version to a keyring file; returns the new version.
pub fn add_key_version(path: &Path) -> anyhow::Result<u32> {
    use std::io::Write;
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading master key file {}", path.display()))?;
    let ring = MasterKeyring::parse(&text)
        .map_err(|e| anyhow::anyhow!("master key file {}: {e}", path.display()))?;
    let version = ring.current() + 1;
    let bytes = master::random_key();
    let line = master::keyring_line(version, &bytes);
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .with_context(|| format!("opening master key file {}", path.display()))?;
    if !text.ends_with('\n') && !text.is_empty() {
        f.write_all(b"\n")?;
    }
    f.write_all(line.as_bytes())?;
    f.sync_all()?;
    Ok(version)
}

fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(m) = std::fs::metadata(path) {
        if m.permissions().mode() & 0o077 != 0 {
            tracing::warn!(path = %path.display(), mode = format!("{:o}", m.permissions().mode() & 0o777), "the master key file is readable by other users; chmod 600 it");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(source: KeySource) -> EncryptionSettings {
        EncryptionSettings {
            key_source: source,
            encrypt_blobs: true,
            kms: None,
            kms_cache: Duration::from_secs(60),
        }
    }

    /// A registry over fresh embedded stores under `dir`.
    async fn registry(dir: &Path) -> Registry {
        use wharf_core::stores::{BlobStoreSettings, MetadataSettings, StoreSettings};
        wharf_core::stores::open_registry(&StoreSettings {
            data_dir: dir.join("data"),
            metadata: MetadataSettings::Embedded,
            blob_store: BlobStoreSettings::Filesystem,
        })
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn first_start_creates_a_private_keyring_and_later_starts_need_it() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let reg = registry(dir.path()).await;
        let path = dir.path().join("master.key");
        let source = KeySource::File {
            path: path.clone(),
            explicit: false,
        };
        let keys = load_keys(&settings(source.clone()), &reg).await.unwrap();
        assert!(keys.seals());
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let (_, fp) = keys.master().unwrap().versions()[0].clone();
        // The start that generated it records its fingerprint.
        reg.clone()
            .with_keys(keys)
            .check_master_keys()
            .await
            .unwrap();
        // Same file again: loads.
        load_keys(&settings(source.clone()), &reg).await.unwrap();
        // Gone: refuses, naming the file and the fingerprint.
        std::fs::remove_file(&path).unwrap();
        let err = load_keys(&settings(source), &reg).await.err().unwrap();
        let msg = format!("{err:#}");
        assert!(msg.contains("master.key") && msg.contains(&fp), "{msg}");
        // Garbage: refuses with the reason.
        std::fs::write(&path, "1 not-base64!\n").unwrap();
        let err = load_keys(
            &settings(KeySource::File {
                path: path.clone(),
                explicit: true,
            }),
            &reg,
        )
        .await
        .err()
        .unwrap();
        assert!(
            format!("{err:#}").contains("not a valid keyring"),
            "{err:#}"
        );
    }

    #[tokio::test]
    async fn an_explicit_missing_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let reg = registry(dir.path()).await;
        let path = dir.path().join("nope.key");
        let err = load_keys(
            &settings(KeySource::File {
                path: path.clone(),
                explicit: true,
            }),
            &reg,
        )
        .await
        .err()
        .unwrap();
        assert!(format!("{err:#}").contains("does not exist"));
        assert!(!path.exists());
    }

    #[test]
    fn rotation_appends_a_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        std::fs::write(
            &path,
            master::keyring_line(1, &master::random_key()).as_str(),
        )
        .unwrap();
        assert_eq!(add_key_version(&path).unwrap(), 2);
        let ring = MasterKeyring::parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(ring.current(), 2);
        assert_eq!(ring.versions().len(), 2);
    }

    #[test]
    fn env_key_and_file_exclude_each_other_and_kms_needs_keys() {
        let dir = Path::new("/d");
        let raw = RawEncryption {
            master_key_file: Some("/k".into()),
            encrypt_blobs: None,
        };
        assert!(
            EncryptionSettings::from_raw(raw, RawKms::default(), Some("x".into()), dir).is_err()
        );
        let kms = RawKms {
            endpoint: Some("http://127.0.0.1:1".into()),
            ..RawKms::default()
        };
        let e = EncryptionSettings::from_raw(RawEncryption::default(), kms, None, dir).unwrap_err();
        assert!(e.to_string().contains("access_key_id"));
        let s =
            EncryptionSettings::from_raw(RawEncryption::default(), RawKms::default(), None, dir)
                .unwrap();
        assert_eq!(
            s.key_source,
            KeySource::File {
                path: "/d/master.key".into(),
                explicit: false
            }
        );
        assert!(s.encrypt_blobs);
    }
}
