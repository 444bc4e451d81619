//! Pull-through cache rule use cases (Create/Describe/Update/Delete/Validate) and the upstream
//! credentials rules name: Secrets-Manager-style secrets `ecr-pullthroughcache/<name>` holding
//! `{"username","accessToken"}`, sealed under the master keyring (`crypt::secret`).

use super::rule::{self, ROOT};
use crate::crypt::secret;
use crate::{AccountId, CoreError, Registry};
use wharf_meta::{PullThroughRuleRecord, UpstreamSecretRecord};
use wharf_upstream::Credentials;
use zeroize::Zeroizing;

const SECRET_LABEL: &[u8] = b"wharf upstream secret v1";

/// What a secret's wrap is bound to.
fn binding(account: &str, name: &str) -> String {
    format!("wharf upstream secret v1\0{account}/{name}")
}

/// Credentials to store for an upstream.
pub struct UpstreamSecret {
    pub username: String,
    pub access_token: Zeroizing<String>,
}

/// ValidatePullThroughCacheRule's verdict.
pub struct RuleValidation {
    pub rule: PullThroughRuleRecord,
    pub failure: Option<String>,
}

/// A new rule as CreatePullThroughCacheRule asks for it.
pub struct NewRule<'a> {
    pub ecr_prefix: &'a str,
    pub upstream_url: &'a str,
    pub upstream_registry: Option<&'a str>,
    pub upstream_prefix: Option<&'a str>,
    pub credential_arn: Option<&'a str>,
    pub custom_role_arn: Option<&'a str>,
}

fn no_custom_role(custom_role_arn: Option<&str>) -> Result<(), CoreError> {
    match custom_role_arn {
        Some(r) if !r.is_empty() => Err(CoreError::InvalidParameter(
            "customRoleArn is not supported: Wharf reaches upstream registries with the credentials a credentialArn names".into(),
        )),
        _ => Ok(()),
    }
}

impl Registry {
    /// Stores upstream credentials under `ecr-pullthroughcache/<name>`; returns the ARN rules
    /// name them by.
    pub async fn put_upstream_secret(
        &self,
        account: &AccountId,
        name: &str,
        secret: &UpstreamSecret,
    ) -> Result<String, CoreError> {
        let full = if name.starts_with("ecr-pullthroughcache/") {
            name.to_string()
        } else {
            format!("ecr-pullthroughcache/{name}")
        };
        let arn = rule::credential_arn(self.region(), account.as_str(), &full);
        if rule::parse_credential_arn(&arn).is_none() || arn.len() < 50 || arn.len() > 612 {
            return Err(CoreError::InvalidParameter(format!(
                "{full:?} is not a valid secret name (letters, digits and /_+=.@- after ecr-pullthroughcache/)"
            )));
        }
        if secret.username.is_empty() || secret.access_token.is_empty() {
            return Err(CoreError::InvalidParameter(
                "a secret needs a username and an access token".into(),
            ));
        }
        let json = Zeroizing::new(
            serde_json::json!({"username": secret.username, "accessToken": secret.access_token.as_str()})
                .to_string(),
        );
        let (sealed, wrap) = secret::seal(
            self.keys.master(),
            &binding(account.as_str(), &full),
            SECRET_LABEL,
            json.as_bytes(),
        );
        let now = crate::unix_now();
        self.meta
            .put_upstream_secret(&UpstreamSecretRecord {
                account: account.to_string(),
                name: full,
                secret: sealed,
                key_wrap: wrap,
                created_at: now,
                updated_at: now,
            })
            .await?;
        self.forget_pull_through_rules(account.as_str());
        Ok(arn)
    }

    /// Removes stored upstream credentials; whether they existed.
    pub async fn delete_upstream_secret(
        &self,
        account: &AccountId,
        name: &str,
    ) -> Result<bool, CoreError> {
        let full = if name.starts_with("ecr-pullthroughcache/") {
            name.to_string()
        } else {
            format!("ecr-pullthroughcache/{name}")
        };
        let gone = self
            .meta
            .delete_upstream_secret(account.as_str(), &full)
            .await?;
        self.forget_pull_through_rules(account.as_str());
        Ok(gone)
    }

    /// The credentials a credential ARN names, opened.
    pub(crate) async fn upstream_credentials(
        &self,
        account: &str,
        arn: &str,
    ) -> Result<Credentials, CoreError> {
        let missing = || {
            CoreError::SecretNotFound(format!(
                "The secret {arn} does not exist in the registry with id '{account}'"
            ))
        };
        let (region, owner, name) = rule::parse_credential_arn(arn).ok_or_else(missing)?;
        if region != self.region() || owner != account {
            return Err(missing());
        }
        let stored = self
            .meta
            .upstream_secret(account, name)
            .await?
            .ok_or_else(missing)?;
        let plain = secret::open(
            self.keys.master(),
            &binding(account, name),
            SECRET_LABEL,
            &stored.secret,
            stored.key_wrap.as_deref(),
        )
        .ok_or_else(|| {
            CoreError::SecretUndecryptable(format!(
                "The secret {arn} cannot be decrypted with this server's master key"
            ))
        })?;
        let v: serde_json::Value = serde_json::from_slice(&plain).map_err(|_| {
            CoreError::SecretUndecryptable(format!("The secret {arn} is not valid JSON"))
        })?;
        match (v["username"].as_str(), v["accessToken"].as_str()) {
            (Some(u), Some(t)) => Ok(Credentials {
                username: u.to_string(),
                secret: Zeroizing::new(t.to_string()),
            }),
            _ => Err(CoreError::SecretUndecryptable(format!(
                "The secret {arn} has no username and accessToken"
            ))),
        }
    }

    /// CreatePullThroughCacheRule.
    pub async fn create_pull_through_rule(
        &self,
        account: &AccountId,
        new: NewRule<'_>,
    ) -> Result<PullThroughRuleRecord, CoreError> {
        no_custom_role(new.custom_role_arn)?;
        wharf_upstream::base_url(new.upstream_url).map_err(|e| {
            CoreError::InvalidParameter(format!("Invalid parameter at 'upstreamRegistryUrl': {e}"))
        })?;
        if let Some(arn) = new.credential_arn {
            self.upstream_credentials(account.as_str(), arn).await?;
        }
        let now = crate::unix_now();
        let record = PullThroughRuleRecord {
            account: account.to_string(),
            ecr_prefix: rule::normalize_prefix(new.ecr_prefix),
            upstream_url: new.upstream_url.to_string(),
            upstream_registry: new.upstream_registry.map(str::to_owned),
            upstream_prefix: rule::normalize_prefix(new.upstream_prefix.unwrap_or(ROOT)),
            credential_arn: new.credential_arn.map(str::to_owned),
            custom_role_arn: None,
            created_at: now,
            updated_at: now,
        };
        if !self.meta.create_pull_through_rule(&record).await? {
            return Err(CoreError::PullThroughRuleAlreadyExists);
        }
        self.forget_pull_through_rules(account.as_str());
        Ok(record)
    }

    /// DescribePullThroughCacheRules: all of an account's rules, or the named ones (each must
    /// exist).
    pub async fn pull_through_rules(
        &self,
        account: &AccountId,
        prefixes: Option<&[String]>,
    ) -> Result<Vec<PullThroughRuleRecord>, CoreError> {
        let all = self.meta.pull_through_rules(account.as_str()).await?;
        let Some(prefixes) = prefixes else {
            return Ok(all);
        };
        let mut out = Vec::new();
        for p in prefixes {
            let p = rule::normalize_prefix(p);
            let r = all
                .iter()
                .find(|r| r.ecr_prefix == p)
                .ok_or(CoreError::PullThroughRuleNotFound)?;
            if !out.contains(r) {
                out.push(r.clone());
            }
        }
        Ok(out)
    }

    /// UpdatePullThroughCacheRule: the rule's credentials.
    pub async fn update_pull_through_rule(
        &self,
        account: &AccountId,
        ecr_prefix: &str,
        credential_arn: Option<&str>,
        custom_role_arn: Option<&str>,
    ) -> Result<PullThroughRuleRecord, CoreError> {
        no_custom_role(custom_role_arn)?;
        if let Some(arn) = credential_arn {
            self.upstream_credentials(account.as_str(), arn).await?;
        }
        let record = self
            .meta
            .update_pull_through_rule(
                account.as_str(),
                &rule::normalize_prefix(ecr_prefix),
                credential_arn,
                None,
            )
            .await?
            .ok_or(CoreError::PullThroughRuleNotFound)?;
        self.forget_pull_through_rules(account.as_str());
        Ok(record)
    }

    /// DeletePullThroughCacheRule; the rule removed. Cached repositories stay, as in ECR.
    pub async fn delete_pull_through_rule(
        &self,
        account: &AccountId,
        ecr_prefix: &str,
    ) -> Result<PullThroughRuleRecord, CoreError> {
        let record = self
            .meta
            .delete_pull_through_rule(account.as_str(), &rule::normalize_prefix(ecr_prefix))
            .await?
            .ok_or(CoreError::PullThroughRuleNotFound)?;
        self.forget_pull_through_rules(account.as_str());
        Ok(record)
    }

    /// ValidatePullThroughCacheRule: whether the upstream answers `GET /v2/` with the rule's
    /// credentials.
    pub async fn validate_pull_through_rule(
        &self,
        account: &AccountId,
        ecr_prefix: &str,
    ) -> Result<RuleValidation, CoreError> {
        let p = rule::normalize_prefix(ecr_prefix);
        let rule = self
            .meta
            .pull_through_rules(account.as_str())
            .await?
            .into_iter()
            .find(|r| r.ecr_prefix == p)
            .ok_or(CoreError::PullThroughRuleNotFound)?;
        let failure = match self.upstream_for(&rule).await {
            Ok(upstream) => upstream.check().await.err().map(|e| e.to_string()),
            Err(e) => Some(e.to_string()),
        };
        Ok(RuleValidation { rule, failure })
    }
}
