//! Data keys: made for uploads, wrapped under a repository's key (the master keyring or a KMS
//! key), unwrapped for reads, with a cache so a pull does not ask KMS for every blob.
//!
//! KMS unwraps are cached for `kms_cache` only, so a key disabled in KMS stops reads within that
//! time; master-key unwraps are cached until evicted (the keyring cannot change under a process).

use super::master::MasterKeyring;
use crate::CoreError;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wharf_blob::seal::{DataKey, DekId};
use zeroize::Zeroizing;

/// The KMS encryption-context entry binding a wrap to its data key.
const CONTEXT_KEY: &str = "wharf:dek";
/// Unwrapped data keys kept in memory.
const CACHE_ENTRIES: usize = 16_384;

/// What a stored wrap is wrapped under (`data_keys.key_ref`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KeyRef {
    /// A master keyring version.
    Master(u32),
    /// A KMS key, by ARN.
    Kms(String),
}

impl KeyRef {
    pub fn parse(s: &str) -> Option<KeyRef> {
        if let Some(v) = s.strip_prefix("master:") {
            return v.parse().ok().map(KeyRef::Master);
        }
        s.strip_prefix("kms:")
            .filter(|a| !a.is_empty())
            .map(|a| KeyRef::Kms(a.to_string()))
    }

    /// The repository key this wrap serves.
    pub fn target(&self) -> Target {
        match self {
            KeyRef::Master(_) => Target::Master,
            KeyRef::Kms(arn) => Target::Kms(arn.clone()),
        }
    }
}

impl std::fmt::Display for KeyRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyRef::Master(v) => write!(f, "master:{v}"),
            KeyRef::Kms(arn) => write!(f, "kms:{arn}"),
        }
    }
}

/// The key a repository's blobs are read and written under.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    /// `AES256`: the master keyring (any version unwraps, the newest wraps).
    Master,
    /// `KMS` / `KMS_DSSE`: the repository's KMS key, by the ARN stored with the repository.
    Kms(String),
}

impl Target {
    /// The target of a repository's encryption settings.
    pub fn of(encryption_type: &str, kms_key: Option<&str>) -> Target {
        match (encryption_type, kms_key) {
            ("KMS" | "KMS_DSSE", Some(key)) if !key.is_empty() => Target::Kms(key.to_string()),
            _ => Target::Master,
        }
    }

    /// Whether a stored wrap serves this target.
    pub fn matches(&self, r: &KeyRef) -> bool {
        *self == r.target()
    }
}

/// A data key ready to seal and open, with its bytes for wrapping under further keys.
pub struct Unwrapped {
    pub key: Arc<DataKey>,
    raw: Zeroizing<[u8; 32]>,
}

impl Unwrapped {
    fn new(id: DekId, raw: Zeroizing<[u8; 32]>) -> Arc<Unwrapped> {
        Arc::new(Unwrapped {
            key: Arc::new(DataKey::new(id, &raw)),
            raw,
        })
    }

    pub fn id(&self) -> DekId {
        self.key.id()
    }
}

/// Unwrapped data keys by (data key, the key they were opened through), with when.
type UnwrapCache = quick_cache::sync::Cache<(DekId, Target), (Arc<Unwrapped>, Instant)>;

/// The key service of a registry.
#[derive(Clone)]
pub struct Keys {
    /// `None`: blobs are written in plaintext (`encrypt_blobs = false`, or a registry built
    /// without keys); existing sealed blobs stay readable only with a keyring.
    master: Option<Arc<MasterKeyring>>,
    /// Whether new blobs are sealed.
    seal_new: bool,
    kms: Option<Arc<wharf_kms::KmsClient>>,
    kms_cache: Duration,
    cache: Arc<UnwrapCache>,
    /// KMS keys found usable, and when (`check_usable`).
    usable: Arc<quick_cache::sync::Cache<String, Instant>>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("master", &self.master)
            .field("seal_new", &self.seal_new)
            .field("kms", &self.kms.is_some())
            .finish()
    }
}

fn context(dek: DekId) -> BTreeMap<String, String> {
    BTreeMap::from([(CONTEXT_KEY.to_string(), dek.to_hex())])
}

/// A KMS failure as the domain error the surfaces report (ECR's `KmsException`).
pub(crate) fn kms_error(key: &str, e: wharf_kms::KmsError) -> CoreError {
    let unavailable = matches!(e, wharf_kms::KmsError::Transport(_));
    CoreError::Kms {
        code: e.code().to_string(),
        message: format!("KMS key {key}: {e}"),
        unavailable,
    }
}

fn no_kms(key: &str) -> CoreError {
    CoreError::Kms {
        code: "KMSNotConfigured".into(),
        message: format!("the repository is encrypted with KMS key {key}, but this registry has no KMS endpoint configured ([kms] endpoint)"),
        unavailable: true,
    }
}

impl Keys {
    /// No keys: blobs stay plaintext. Sealed blobs cannot be read.
    pub fn plaintext() -> Keys {
        Keys {
            master: None,
            seal_new: false,
            kms: None,
            kms_cache: Duration::from_secs(60),
            cache: Arc::new(quick_cache::sync::Cache::new(CACHE_ENTRIES)),
            usable: Arc::new(quick_cache::sync::Cache::new(1024)),
        }
    }

    /// Sealing with `master`; `seal_new = false` writes new blobs in plaintext but still reads
    /// sealed ones (benchmarks, and installs created before encryption).
    pub fn with_master(master: MasterKeyring, seal_new: bool) -> Keys {
        Keys {
            master: Some(Arc::new(master)),
            seal_new,
            ..Keys::plaintext()
        }
    }

    /// Sealing under a random master key that lives only in this process (tests, and
    /// registries whose data must not outlive them). Clones share the key.
    pub fn ephemeral() -> Keys {
        Keys::with_master(MasterKeyring::single(1, &super::master::random_key()), true)
    }

    /// Adds a KMS endpoint; unwraps under KMS keys are cached for `cache`.
    pub fn with_kms(mut self, kms: wharf_kms::KmsClient, cache: Duration) -> Keys {
        self.kms = Some(Arc::new(kms));
        self.kms_cache = cache;
        self
    }

    /// Whether new blobs are sealed.
    pub fn seals(&self) -> bool {
        self.seal_new && self.master.is_some()
    }

    pub fn master(&self) -> Option<&MasterKeyring> {
        self.master.as_deref()
    }

    pub fn has_kms(&self) -> bool {
        self.kms.is_some()
    }

    fn kms(&self, key: &str) -> Result<&wharf_kms::KmsClient, CoreError> {
        self.kms.as_deref().ok_or_else(|| no_kms(key))
    }

    fn keyring(&self) -> Result<&MasterKeyring, CoreError> {
        self.master.as_deref().ok_or_else(|| {
            CoreError::Internal("a sealed blob was met but no master keyring is loaded".into())
        })
    }

    /// A cached unwrap of `dek` for `target`, if still fresh.
    pub fn cached(&self, dek: DekId, target: &Target) -> Option<Arc<Unwrapped>> {
        let (u, at) = self.cache.get(&(dek, target.clone()))?;
        match target {
            Target::Kms(_) if at.elapsed() >= self.kms_cache => {
                self.cache.remove(&(dek, target.clone()));
                None
            }
            _ => Some(u),
        }
    }

    fn remember(&self, target: &Target, u: &Arc<Unwrapped>) {
        self.cache
            .insert((u.id(), target.clone()), (u.clone(), Instant::now()));
    }

    /// A fresh data key for a blob written under `target`, and its wrap to store.
    pub async fn new_data_key(
        &self,
        target: &Target,
    ) -> Result<(Arc<Unwrapped>, KeyRef, Vec<u8>), CoreError> {
        let id = DekId::random();
        let (u, key_ref, wrapped) = match target {
            Target::Master => {
                let ring = self.keyring()?;
                let raw = super::master::random_key();
                let wrapped = ring.wrap(id, &raw);
                (
                    Unwrapped::new(id, raw),
                    KeyRef::Master(ring.current()),
                    wrapped,
                )
            }
            Target::Kms(arn) => {
                let pair = self
                    .kms(arn)?
                    .generate_data_key(arn, &context(id))
                    .await
                    .map_err(|e| kms_error(arn, e))?;
                let raw = to_key(&pair.plaintext)?;
                (
                    Unwrapped::new(id, raw),
                    KeyRef::Kms(arn.clone()),
                    pair.ciphertext,
                )
            }
        };
        self.remember(target, &u);
        Ok((u, key_ref, wrapped))
    }

    /// Opens a stored wrap. Errors name the key: a disabled or deleted KMS key is a
    /// `CoreError::Kms`; a master wrap that does not open is an integrity error.
    pub async fn unwrap(
        &self,
        key_ref: &KeyRef,
        dek: DekId,
        wrapped: &[u8],
    ) -> Result<Arc<Unwrapped>, CoreError> {
        if let Some(u) = self.cached(dek, &key_ref.target()) {
            return Ok(u);
        }
        self.unwrap_uncached(key_ref, dek, wrapped).await
    }

    /// Opens a stored wrap without the cache (a rewrap must prove each old wrap opens).
    pub async fn unwrap_uncached(
        &self,
        key_ref: &KeyRef,
        dek: DekId,
        wrapped: &[u8],
    ) -> Result<Arc<Unwrapped>, CoreError> {
        let target = key_ref.target();
        let raw = match key_ref {
            KeyRef::Master(v) => {
                let ring = self.keyring()?;
                if !ring.has(*v) {
                    return Err(CoreError::Internal(format!(
                        "data key {dek} is wrapped by master key version {v}, which the keyring lacks"
                    )));
                }
                ring.unwrap(dek, wrapped).ok_or_else(|| {
                    CoreError::Integrity(format!(
                        "the wrap of data key {dek} under master key version {v} does not authenticate"
                    ))
                })?
            }
            KeyRef::Kms(arn) => {
                let (plain, _) = self
                    .kms(arn)?
                    .decrypt(wrapped, arn, &context(dek))
                    .await
                    .map_err(|e| kms_error(arn, e))?;
                to_key(&plain)?
            }
        };
        let u = Unwrapped::new(dek, raw);
        self.remember(&target, &u);
        Ok(u)
    }

    /// Wraps an unwrapped data key under `target` (a blob shared with a repository of another
    /// key, or a rewrap); the result is remembered for `target`.
    pub async fn wrap(
        &self,
        target: &Target,
        u: &Arc<Unwrapped>,
    ) -> Result<(KeyRef, Vec<u8>), CoreError> {
        let out = match target {
            Target::Master => {
                let ring = self.keyring()?;
                (KeyRef::Master(ring.current()), ring.wrap(u.id(), &u.raw))
            }
            Target::Kms(arn) => {
                let (wrapped, _) = self
                    .kms(arn)?
                    .encrypt(arn, &u.raw[..], &context(u.id()))
                    .await
                    .map_err(|e| kms_error(arn, e))?;
                (KeyRef::Kms(arn.clone()), wrapped)
            }
        };
        self.remember(target, u);
        Ok(out)
    }

    /// Checks a KMS key a repository is to be created with and returns its ARN, as ECR does
    /// before it creates a KMS-encrypted repository.
    pub async fn check_kms_key(&self, key: &str) -> Result<String, CoreError> {
        self.enabled_arn(key).await
    }

    /// The ARN of an enabled KMS key; a `CoreError::Kms` naming its state otherwise.
    async fn enabled_arn(&self, key: &str) -> Result<String, CoreError> {
        let meta = self
            .kms(key)?
            .describe_key(key)
            .await
            .map_err(|e| kms_error(key, e))?;
        if !meta.enabled {
            return Err(CoreError::Kms {
                code: if meta.key_state == "Disabled" {
                    "DisabledException".into()
                } else {
                    "KMSInvalidStateException".into()
                },
                message: format!("KMS key {} is {}", meta.arn, meta.key_state),
                unavailable: false,
            });
        }
        Ok(meta.arn)
    }

    /// Checks that a KMS key is enabled (DescribeKey), at most once per cache period: what a
    /// KMS repository's manifest reads wait on.
    pub async fn check_usable(&self, arn: &str) -> Result<(), CoreError> {
        if let Some(at) = self.usable.get(arn) {
            if at.elapsed() < self.kms_cache {
                return Ok(());
            }
        }
        if let Err(e) = self.enabled_arn(arn).await {
            self.usable.remove(arn);
            return Err(e);
        }
        self.usable.insert(arn.to_string(), Instant::now());
        Ok(())
    }

    /// Forgets every cached unwrap (tests, and after a rewrap).
    pub fn forget(&self) {
        self.cache.clear();
        self.usable.clear();
    }
}

fn to_key(plain: &[u8]) -> Result<Zeroizing<[u8; 32]>, CoreError> {
    let bytes: [u8; 32] = plain
        .try_into()
        .map_err(|_| CoreError::Internal("KMS returned a data key that is not 256 bits".into()))?;
    Ok(Zeroizing::new(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_refs_round_trip() {
        for s in [
            "master:1",
            "master:42",
            "kms:arn:aws:kms:us-east-1:1:key/abc",
        ] {
            assert_eq!(KeyRef::parse(s).unwrap().to_string(), s);
        }
        for s in ["", "master:", "master:x", "kms:", "aws:1"] {
            assert!(KeyRef::parse(s).is_none(), "{s}");
        }
    }

    #[test]
    fn targets_follow_the_repository_settings() {
        assert_eq!(Target::of("AES256", None), Target::Master);
        assert_eq!(Target::of("KMS", Some("k")), Target::Kms("k".into()));
        assert_eq!(Target::of("KMS_DSSE", Some("k")), Target::Kms("k".into()));
        assert!(Target::Master.matches(&KeyRef::Master(3)));
        assert!(!Target::Master.matches(&KeyRef::Kms("k".into())));
        assert!(!Target::Kms("a".into()).matches(&KeyRef::Kms("b".into())));
    }

    #[tokio::test]
    async fn master_data_keys_wrap_and_unwrap() {
        let keys = Keys::with_master(
            MasterKeyring::single(1, &super::super::master::random_key()),
            true,
        );
        let (u, r, w) = keys.new_data_key(&Target::Master).await.unwrap();
        assert_eq!(r, KeyRef::Master(1));
        keys.forget();
        let back = keys.unwrap(&r, u.id(), &w).await.unwrap();
        assert_eq!(*back.raw, *u.raw);
        let err = keys.unwrap(&r, DekId::random(), &w).await.err().unwrap();
        assert!(matches!(err, CoreError::Integrity(_)), "{err}");
        let err = keys
            .new_data_key(&Target::Kms("k".into()))
            .await
            .err()
            .unwrap();
        assert!(err.to_string().contains("no KMS endpoint"), "{err}");
    }
}
