//! Authorization: one `authorize` call for every request on every surface.
//!
//! It evaluates, with IAM semantics (`wharf-policy`), the caller's identity policies, the
//! repository policy and the registry policy of the account that owns the resource. An explicit
//! Deny wins; otherwise an Allow is needed — from either side within one account, from both sides
//! across accounts, and from a resource policy naming `Principal: "*"` for anonymous callers.

use crate::authz_cache::{RepoEntry, RepoInputs};
use crate::{AccountId, CoreError, Principal, Registry, Repo};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use wharf_policy::{Decision, PolicyDocument, PolicyKind, RequestContext};

/// What an action is applied to.
#[derive(Debug, Clone, Copy)]
pub enum Resource<'a> {
    Repository(&'a Repo),
    /// Registry-level actions (`Resource: "*"`), in the given account's registry.
    Registry(&'a AccountId),
}

/// Where a request came from, as policy conditions see it (`aws:SourceIp`,
/// `aws:SecureTransport`): the connection's peer, or the client a trusted proxy names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Client {
    pub ip: Option<IpAddr>,
    /// The client reached the registry over TLS (Wharf's own listener, or a trusted proxy's).
    pub secure_transport: bool,
}

/// One access to check.
#[derive(Debug, Clone)]
pub struct Access<'a> {
    pub principal: &'a Principal,
    /// An `ecr:` action name.
    pub action: &'a str,
    pub resource: Resource<'a>,
    pub client: Client,
    /// Tags a request asks to set (`aws:RequestTag/…`, `aws:TagKeys`).
    pub request_tags: &'a [(String, String)],
}

/// Unix seconds as an RFC 3339 UTC timestamp.
fn rfc3339(secs: u64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs as i64)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// Checks a policy before it is stored: every path that stores one (the ECR and console
/// surfaces, templates, the admin CLI) goes through a use case that calls this, so no policy
/// that cannot be evaluated is ever stored.
pub fn check_policy(text: &str, kind: PolicyKind) -> Result<(), CoreError> {
    PolicyDocument::parse(text, kind)
        .map(|_| ())
        .map_err(|e| CoreError::InvalidParameter(format!("Invalid policy: {e}")))
}

fn parse(text: &str, kind: PolicyKind) -> Result<PolicyDocument, CoreError> {
    PolicyDocument::parse(text, kind)
        .map_err(|e| CoreError::Internal(format!("stored policy no longer parses: {e}")))
}

impl Registry {
    async fn identity_policies(&self, user: i64) -> Result<Arc<Vec<PolicyDocument>>, CoreError> {
        if let Some(p) = self.authz_cache.user(user) {
            return Ok(p);
        }
        let token = self.authz_cache.begin_read();
        let mut docs = Vec::new();
        for (_, text) in self.meta.user_policies(user).await? {
            docs.push(parse(&text, PolicyKind::Identity)?);
        }
        let docs = Arc::new(docs);
        self.authz_cache.put_user(token, user, docs.clone());
        Ok(docs)
    }

    /// A repository's authorization inputs and key target, cached (`authz_cache.rs`).
    pub(crate) async fn repo_inputs(&self, repo: &Repo) -> Result<Arc<RepoInputs>, CoreError> {
        let key = repo.qualified();
        if let Some(v) = self.authz_cache.repo(&key) {
            return Ok(v);
        }
        let token = self.authz_cache.begin_read();
        let inputs = match self.meta.repository(repo.key()).await? {
            None => None,
            Some(record) => {
                let target = crate::crypt::Target::of(
                    &record.settings.encryption_type,
                    record.settings.kms_key.as_deref(),
                );
                let tags = self.meta.repository_tags(repo.key()).await?;
                let policy = match self.meta.repository_policy(repo.key()).await {
                    Ok(Some(text)) => Some(Arc::new(parse(&text, PolicyKind::Resource)?)),
                    Ok(None) | Err(wharf_meta::MetaError::RepositoryNotFound) => None,
                    Err(e) => return Err(e.into()),
                };
                Some(RepoEntry {
                    policy,
                    tags,
                    target,
                })
            }
        };
        let inputs = Arc::new(inputs);
        self.authz_cache.put_repo(token, key, inputs.clone());
        Ok(inputs)
    }

    pub(crate) async fn registry_inputs(
        &self,
        account: &AccountId,
    ) -> Result<Option<Arc<PolicyDocument>>, CoreError> {
        if let Some(v) = self.authz_cache.registry(account.as_str()) {
            return Ok(v);
        }
        let token = self.authz_cache.begin_read();
        let policy = match self.meta.registry_policy(account.as_str()).await? {
            Some(text) => Some(Arc::new(parse(&text, PolicyKind::Resource)?)),
            None => None,
        };
        self.authz_cache
            .put_registry(token, account.to_string(), policy.clone());
        Ok(policy)
    }

    /// Drops cached authorization inputs of a repository after a write.
    pub(crate) fn forget_repo_authz(&self, repo: &Repo) {
        self.authz_cache.forget_repo(&repo.qualified());
    }

    /// Drops the cached registry policy of an account after a write.
    pub(crate) fn forget_registry_authz(&self, account: &AccountId) {
        self.authz_cache.forget_registry(account.as_str());
    }

    /// The ARN of a resource as policies name it.
    pub fn resource_arn(&self, resource: Resource<'_>) -> String {
        match resource {
            Resource::Repository(r) => {
                crate::arn::repository(self.region(), r.account.as_str(), r.name.as_str())
            }
            Resource::Registry(_) => "*".to_string(),
        }
    }

    /// Allows the access or answers `AccessDenied` with AWS's message.
    /// The request has already brought the caches up to date (`Registry::sync_caches`).
    pub async fn authorize(&self, access: &Access<'_>) -> Result<(), CoreError> {
        let (resource_account, repo) = match access.resource {
            Resource::Repository(r) => (&r.account, Some(r)),
            Resource::Registry(a) => (a, None),
        };
        let resource_arn = self.resource_arn(access.resource);
        let mut keys: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        keys.insert("aws:CurrentTime".into(), vec![rfc3339(now)]);
        keys.insert("aws:EpochTime".into(), vec![now.to_string()]);
        keys.insert(
            "aws:SecureTransport".into(),
            vec![access.client.secure_transport.to_string()],
        );
        if let Some(ip) = access.client.ip {
            keys.insert("aws:SourceIp".into(), vec![ip.to_string()]);
        }
        if let Principal::User(u) = access.principal {
            keys.insert("aws:PrincipalArn".into(), vec![u.arn()]);
            keys.insert("aws:PrincipalAccount".into(), vec![u.account.to_string()]);
            keys.insert("aws:username".into(), vec![u.name.clone()]);
            keys.insert("aws:PrincipalType".into(), vec!["User".into()]);
        }
        for (k, v) in access.request_tags {
            keys.insert(format!("aws:RequestTag/{k}"), vec![v.clone()]);
        }
        if !access.request_tags.is_empty() {
            keys.insert(
                "aws:TagKeys".into(),
                access.request_tags.iter().map(|(k, _)| k.clone()).collect(),
            );
        }

        let identity = match access.principal {
            Principal::User(u) => self.identity_policies(u.id).await?,
            Principal::Anonymous => Arc::new(Vec::new()),
        };
        let mut resource: Vec<Arc<PolicyDocument>> = Vec::new();
        if let Some(repo) = repo {
            if let Some(entry) = self.repo_inputs(repo).await?.as_ref() {
                for (k, v) in &entry.tags {
                    keys.insert(format!("aws:ResourceTag/{k}"), vec![v.clone()]);
                    keys.insert(format!("ecr:ResourceTag/{k}"), vec![v.clone()]);
                }
                resource.extend(entry.policy.iter().cloned());
            }
        }
        if let Some(p) = self.registry_inputs(resource_account).await? {
            resource.push(p);
        }

        let principal = match access.principal {
            Principal::Anonymous => wharf_policy::Principal::Anonymous,
            Principal::User(u) => wharf_policy::Principal::User {
                arn: u.arn(),
                account: u.account.to_string(),
            },
        };
        let ctx = RequestContext {
            principal,
            action: access.action.to_string(),
            resource: resource_arn.clone(),
            resource_account: resource_account.to_string(),
            keys,
        };
        let identity_refs: Vec<&PolicyDocument> = identity.iter().collect();
        let resource_refs: Vec<&PolicyDocument> = resource.iter().map(|p| p.as_ref()).collect();
        match wharf_policy::evaluate(&ctx, &identity_refs, &resource_refs) {
            Decision::Allow => Ok(()),
            decision => Err(CoreError::AccessDenied(
                wharf_policy::access_denied_message(&ctx, &decision),
            )),
        }
    }
}
