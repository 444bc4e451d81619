//! Identities: principals, access keys, and the registry login token (`GetAuthorizationToken`).
//!
//! The token is `base64url(payload).base64url(HMAC-SHA256(key, payload))` with a JSON payload naming
//! the user, the access key it was issued under and its expiry. It contains no `:` (the AWS CLI
//! splits the decoded token on the first one). It is verified on every `/v2/` request with one
//! HMAC and a read of the key's state — never a database write. The HMAC key is created on first
//! start and stored in the metadata store, so every node shares it.

use crate::{AccountId, CoreError};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::sync::Arc;
use wharf_meta::{AccessKeyRecord, MetaStore};

/// How long a login token lives: 12 hours, as ECR's.
pub const TOKEN_TTL_SECS: u64 = 12 * 3600;

/// Who is making a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Anonymous,
    User(User),
}

impl Principal {
    /// The ARN policies and error messages use; `anonymous` for anonymous callers.
    pub fn arn(&self) -> String {
        match self {
            Principal::Anonymous => "anonymous".to_string(),
            Principal::User(u) => u.arn(),
        }
    }
}

/// An authenticated IAM-style user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub account: AccountId,
    pub name: String,
    /// The access key the request was authenticated with.
    pub access_key: String,
}

impl User {
    pub fn arn(&self) -> String {
        crate::arn::user(self.account.as_str(), &self.name)
    }
}

/// A freshly created access key: the only moment the secret is handed out.
#[derive(Clone)]
pub struct NewAccessKey {
    pub id: String,
    pub secret: String,
}

impl std::fmt::Debug for NewAccessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAccessKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// A login token and when it expires (Unix seconds).
#[derive(Debug, Clone)]
pub struct LoginToken {
    pub password: String,
    pub expires_at: u64,
}

/// Why a login token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the authorization token is malformed")]
    Malformed,
    #[error("Your authorization token has expired. Reauthenticate and try again.")]
    Expired,
    #[error("the authorization token's credentials are no longer valid")]
    Revoked,
}

#[derive(Serialize, Deserialize)]
struct TokenPayload {
    v: u8,
    u: i64,
    k: String,
    i: u64,
    e: u64,
}

/// The identity service.
#[derive(Clone)]
pub struct Identity {
    pub(crate) meta: MetaStore,
    token_key: Arc<Vec<u8>>,
    /// Access keys read for token verification, kept `KEY_CACHE_TTL` so `/v2/` requests need no
    /// database read; a key deactivated by another process stops working within that time, or
    /// at once over PostgreSQL, where a moved cache epoch flushes them (`flush_keys`).
    keys: Arc<quick_cache::sync::Cache<String, (std::time::Instant, Option<AccessKeyRecord>)>>,
    gate: Arc<crate::cache_gate::Gate>,
}

/// How long a looked-up access key is trusted before it is read again.
pub const KEY_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(5);

/// Random bytes from the operating system.
pub(crate) fn random_bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf).expect("the operating system's random source is available");
    buf
}

/// `n` random characters from `alphabet`, without modulo bias.
fn random_string(alphabet: &[u8], n: usize) -> String {
    let mut out = String::with_capacity(n);
    while out.len() < n {
        for b in random_bytes(n * 2) {
            // Reject bytes past the largest multiple of the alphabet size.
            let limit = 256 - (256 % alphabet.len());
            if (b as usize) < limit && out.len() < n {
                out.push(alphabet[b as usize % alphabet.len()] as char);
            }
        }
    }
    out
}

fn new_access_key() -> NewAccessKey {
    // AWS key ids are "AKIA" + 16 characters of base32; secrets 40 characters of base64.
    let id = format!(
        "AKIA{}",
        random_string(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
    );
    let secret = random_string(
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        40,
    );
    NewAccessKey { id, secret }
}

/// The policy the bootstrap administrator gets.
pub const ADMINISTRATOR_POLICY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

impl Identity {
    /// Opens the identity service, creating the token signing key on first start.
    pub async fn open(meta: MetaStore) -> Result<Identity, CoreError> {
        let fresh = hex::encode(random_bytes(32));
        let stored = meta.init_setting("token_key", &fresh).await?;
        let key =
            hex::decode(stored).map_err(|_| CoreError::Internal("token key is not hex".into()))?;
        Ok(Identity {
            meta,
            token_key: Arc::new(key),
            keys: Arc::new(quick_cache::sync::Cache::new(10_000)),
            gate: Arc::default(),
        })
    }

    /// Forgets every cached access key (another node or process may have changed one); reads
    /// begun before cannot cache what they read.
    pub fn flush_keys(&self) {
        self.gate.invalidate(|| self.keys.clear());
    }

    /// Creates the `admin` user with full access and a key in the default account when that
    /// account has no user yet. Returns the new key, to be written to the credentials file.
    pub async fn bootstrap_admin(&self) -> Result<Option<NewAccessKey>, CoreError> {
        let account = self.meta.default_account().to_string();
        if !self.meta.list_users(Some(&account)).await?.is_empty() {
            return Ok(None);
        }
        let Some(user) = self.meta.create_user(&account, "admin").await? else {
            return Ok(None);
        };
        self.meta
            .put_user_policy(user.id, "AdministratorAccess", ADMINISTRATOR_POLICY)
            .await?;
        Ok(Some(self.create_access_key(user.id).await?))
    }

    /// Creates an access key for a user.
    pub async fn create_access_key(&self, user_id: i64) -> Result<NewAccessKey, CoreError> {
        let key = new_access_key();
        self.meta
            .create_access_key(user_id, &key.id, &key.secret)
            .await?;
        Ok(key)
    }

    /// Looks an access key up for SigV4 verification.
    pub async fn access_key(&self, id: &str) -> Result<Option<AccessKeyRecord>, CoreError> {
        Ok(self.meta.access_key(id).await?)
    }

    /// The principal an active access key authenticates.
    pub fn principal_of(key: &AccessKeyRecord) -> Result<Principal, CoreError> {
        let account = key
            .user
            .account
            .parse()
            .map_err(|_| CoreError::Internal("stored account id is invalid".into()))?;
        Ok(Principal::User(User {
            id: key.user.id,
            account,
            name: key.user.name.clone(),
            access_key: key.id.clone(),
        }))
    }

    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.token_key).expect("HMAC takes keys of any length")
    }

    /// Signs a blob download URL path (`GetDownloadUrlForLayer`) for an account until `expires`.
    pub fn sign_download(&self, account: &str, path: &str, expires: u64) -> String {
        let mut mac = self.mac();
        mac.update(format!("download\n{account}\n{path}\n{expires}").as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// Checks a download URL's signature (in constant time) and expiry.
    pub fn verify_download(
        &self,
        account: &str,
        path: &str,
        expires: u64,
        signature: &str,
        now: u64,
    ) -> bool {
        let Ok(sig) = URL_SAFE_NO_PAD.decode(signature) else {
            return false;
        };
        let mut mac = self.mac();
        mac.update(format!("download\n{account}\n{path}\n{expires}").as_bytes());
        mac.verify_slice(&sig).is_ok() && now < expires
    }

    /// Issues a login token for a user, valid for 12 hours from `now` (Unix seconds).
    pub fn issue_token(&self, user: &User, now: u64) -> LoginToken {
        let payload = TokenPayload {
            v: 1,
            u: user.id,
            k: user.access_key.clone(),
            i: now,
            e: now + TOKEN_TTL_SECS,
        };
        let body =
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).expect("payload serializes"));
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        LoginToken {
            password: format!("{body}.{sig}"),
            expires_at: payload.e,
        }
    }

    /// Verifies a login token at `now` and returns the user it was issued to.
    pub async fn verify_token(
        &self,
        password: &str,
        now: u64,
    ) -> Result<Result<User, TokenError>, CoreError> {
        let Some((body, sig)) = password.split_once('.') else {
            return Ok(Err(TokenError::Malformed));
        };
        let Ok(sig) = URL_SAFE_NO_PAD.decode(sig) else {
            return Ok(Err(TokenError::Malformed));
        };
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        // Constant-time comparison.
        if mac.verify_slice(&sig).is_err() {
            return Ok(Err(TokenError::Malformed));
        }
        let payload: TokenPayload = match URL_SAFE_NO_PAD
            .decode(body)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
        {
            Some(p) => p,
            None => return Ok(Err(TokenError::Malformed)),
        };
        if payload.e <= now {
            return Ok(Err(TokenError::Expired));
        }
        let key = match self.keys.get(&payload.k) {
            Some((at, key)) if at.elapsed() < KEY_CACHE_TTL => key,
            _ => {
                let token = self.gate.begin_read();
                let key = self.meta.access_key(&payload.k).await?;
                self.gate.insert(token, || {
                    self.keys
                        .insert(payload.k.clone(), (std::time::Instant::now(), key.clone()));
                });
                key
            }
        };
        match key {
            Some(key) if key.active && key.user.id == payload.u => {
                match Self::principal_of(&key)? {
                    Principal::User(u) => Ok(Ok(u)),
                    Principal::Anonymous => Ok(Err(TokenError::Revoked)),
                }
            }
            _ => Ok(Err(TokenError::Revoked)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn identity() -> (tempfile::TempDir, Identity) {
        let dir = tempfile::tempdir().unwrap();
        let meta = wharf_meta::testing::store(dir.path()).await;
        (dir, Identity::open(meta).await.unwrap())
    }

    #[tokio::test]
    async fn bootstrap_and_tokens() {
        let (_dir, id) = identity().await;
        let key = id
            .bootstrap_admin()
            .await
            .unwrap()
            .expect("first start creates the admin");
        assert!(key.id.starts_with("AKIA") && key.id.len() == 20);
        assert_eq!(key.secret.len(), 40);
        assert!(id.bootstrap_admin().await.unwrap().is_none(), "only once");
        let record = id.access_key(&key.id).await.unwrap().unwrap();
        let Principal::User(user) = Identity::principal_of(&record).unwrap() else {
            panic!()
        };
        assert_eq!(user.name, "admin");

        let token = id.issue_token(&user, 1_000);
        assert!(!token.password.contains(':'));
        assert_eq!(token.expires_at, 1_000 + TOKEN_TTL_SECS);
        assert_eq!(
            id.verify_token(&token.password, 2_000).await.unwrap(),
            Ok(user.clone())
        );
        assert_eq!(
            id.verify_token(&token.password, token.expires_at)
                .await
                .unwrap(),
            Err(TokenError::Expired)
        );
        let mut forged = token.password.clone();
        forged.pop();
        forged.push(if token.password.ends_with('A') {
            'B'
        } else {
            'A'
        });
        assert_eq!(
            id.verify_token(&forged, 2_000).await.unwrap(),
            Err(TokenError::Malformed)
        );
        assert_eq!(
            id.verify_token("garbage", 2_000).await.unwrap(),
            Err(TokenError::Malformed)
        );
        let sig = id.sign_download("123456789012", "/v2/r/blobs/sha256:ab", 5_000);
        assert!(id.verify_download("123456789012", "/v2/r/blobs/sha256:ab", 5_000, &sig, 4_000));
        assert!(!id.verify_download("123456789012", "/v2/r/blobs/sha256:ab", 5_000, &sig, 5_000));
        assert!(!id.verify_download("123456789012", "/v2/q/blobs/sha256:ab", 5_000, &sig, 4_000));
        assert!(!id.verify_download("123456789012", "/v2/r/blobs/sha256:ab", 6_000, &sig, 4_000));
        // Deactivating the key revokes its tokens once the key cache entry expires.
        id.meta.set_access_key_active(&key.id, false).await.unwrap();
        id.keys.clear();
        assert_eq!(
            id.verify_token(&token.password, 2_000).await.unwrap(),
            Err(TokenError::Revoked)
        );
    }

    #[test]
    fn random_strings_use_the_alphabet() {
        let s = random_string(b"ab", 64);
        assert_eq!(s.len(), 64);
        assert!(s.bytes().all(|b| b == b'a' || b == b'b'));
    }
}
