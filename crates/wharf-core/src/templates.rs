//! Repository creation templates and the push-time repository check.
//!
//! As in ECR, a push to a repository that does not exist is refused (`NAME_UNKNOWN`) unless a
//! template applied for `CREATE_ON_PUSH` covers the name: then the repository is created with the
//! template's settings. A template's `prefix` covers `prefix/…`; `ROOT` covers every name no other
//! template covers. The template body is kept as the JSON object the ECR API exchanges.

use crate::crypt::Target;
use crate::{AccountId, CoreError, Registry, Repo};
use serde_json::Value;
use wharf_meta::{RepoSettings, RepositoryRecord, TemplateRecord};

/// Whether a template prefix covers a repository name.
pub fn prefix_covers(prefix: &str, name: &str) -> bool {
    let prefix = prefix.trim_end_matches('/');
    prefix == "ROOT"
        || name
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// The most specific template covering `name` that applies to `applied_for`.
pub fn pick<'a>(
    templates: &'a [TemplateRecord],
    name: &str,
    applied_for: &str,
) -> Option<(&'a TemplateRecord, Value)> {
    let mut best: Option<(&TemplateRecord, Value)> = None;
    for t in templates {
        if !prefix_covers(&t.prefix, name) {
            continue;
        }
        let Ok(body) = serde_json::from_str::<Value>(&t.body) else {
            continue;
        };
        let applies = body["appliedFor"]
            .as_array()
            .is_some_and(|a| a.iter().any(|v| v.as_str() == Some(applied_for)));
        if !applies {
            continue;
        }
        let rank = |p: &str| if p == "ROOT" { 0 } else { p.len() + 1 };
        if best
            .as_ref()
            .is_none_or(|(b, _)| rank(&t.prefix) > rank(&b.prefix))
        {
            best = Some((t, body));
        }
    }
    best
}

/// The repository settings, tags and policy a template body prescribes.
pub fn template_settings(body: &Value) -> (RepoSettings, Vec<(String, String)>, Option<String>) {
    let mut settings = RepoSettings::default();
    if let Some(m) = body["imageTagMutability"].as_str() {
        settings.image_tag_mutability = m.to_string();
    }
    if let Some(filters) = body["imageTagMutabilityExclusionFilters"].as_array() {
        settings.mutability_exclusions = filters
            .iter()
            .filter_map(|f| f["filter"].as_str().map(str::to_owned))
            .collect();
    }
    if let Some(e) = body["encryptionConfiguration"]["encryptionType"].as_str() {
        settings.encryption_type = e.to_string();
        settings.kms_key = body["encryptionConfiguration"]["kmsKey"]
            .as_str()
            .map(str::to_owned);
    }
    let tags = body["resourceTags"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| {
                    Some((
                        t["Key"].as_str()?.to_string(),
                        t["Value"].as_str()?.to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let policy = body["repositoryPolicy"]
        .as_str()
        .filter(|p| !p.is_empty())
        .map(str::to_owned);
    (settings, tags, policy)
}

impl Registry {
    /// The repository a push goes to: existing, or created by a `CREATE_ON_PUSH` template.
    pub async fn push_target(&self, repo: &Repo) -> Result<RepositoryRecord, CoreError> {
        if let Some(r) = self.meta.repository(repo.key()).await? {
            return Ok(r);
        }
        let templates = self.meta.templates(repo.account.as_str()).await?;
        let Some((_, body)) = pick(&templates, repo.name.as_str(), "CREATE_ON_PUSH") else {
            return Err(CoreError::NameUnknown);
        };
        self.create_from_template(repo, &body, "on push").await
    }

    /// The key a blob pushed to `repo` is sealed under: the repository's (cached, as
    /// `repo_target`), or that of the repository a `CREATE_ON_PUSH` template creates.
    pub(crate) async fn blob_push_target(&self, repo: &Repo) -> Result<Target, CoreError> {
        if let Some(entry) = self.repo_inputs(repo).await?.as_ref() {
            return Ok(entry.target.clone());
        }
        let record = self.push_target(repo).await?;
        Ok(Target::of(
            &record.settings.encryption_type,
            record.settings.kms_key.as_deref(),
        ))
    }

    /// Creates a replication's destination repository: from the most specific `REPLICATION`
    /// template covering it, or with default settings when none does (as ECR).
    pub async fn replication_target(&self, repo: &Repo) -> Result<RepositoryRecord, CoreError> {
        if let Some(r) = self.meta.repository(repo.key()).await? {
            return Ok(r);
        }
        let templates = self.meta.templates(repo.account.as_str()).await?;
        let body = pick(&templates, repo.name.as_str(), "REPLICATION")
            .map(|(_, b)| b)
            .unwrap_or_else(|| serde_json::json!({}));
        self.create_from_template(repo, &body, "by replication")
            .await
    }

    /// Creates a pull-through cache's repository on its first pull: from the most specific
    /// `PULL_THROUGH_CACHE` template covering it, or with default settings when none does.
    pub async fn pull_through_target(&self, repo: &Repo) -> Result<RepositoryRecord, CoreError> {
        if let Some(r) = self.meta.repository(repo.key()).await? {
            return Ok(r);
        }
        let templates = self.meta.templates(repo.account.as_str()).await?;
        let body = pick(&templates, repo.name.as_str(), "PULL_THROUGH_CACHE")
            .map(|(_, b)| b)
            .unwrap_or_else(|| serde_json::json!({}));
        self.create_from_template(repo, &body, "by a pull-through cache")
            .await
    }

    /// Creates `repo` with a template body's settings, tags, policies; an existing repository
    /// (another push created it meanwhile) is returned as it is.
    async fn create_from_template(
        &self,
        repo: &Repo,
        body: &Value,
        why: &str,
    ) -> Result<RepositoryRecord, CoreError> {
        let (settings, tags, policy) = template_settings(body);
        let settings = self.resolve_encryption(settings).await?;
        match self
            .meta
            .create_repository(repo.key(), &settings, &tags)
            .await?
        {
            Some(record) => {
                if let Some(p) = policy {
                    self.meta
                        .set_repository_policy(repo.key(), Some(&p))
                        .await?;
                }
                if let Some(l) = body["lifecyclePolicy"].as_str().filter(|l| !l.is_empty()) {
                    self.meta.set_lifecycle_policy(repo.key(), Some(l)).await?;
                }
                self.forget_repo_authz(repo);
                tracing::info!(repository = %repo.qualified(), "created repository {why} from a template");
                Ok(record)
            }
            // Another push created it meanwhile.
            None => self
                .meta
                .repository(repo.key())
                .await?
                .ok_or(CoreError::NameUnknown),
        }
    }

    pub async fn templates(&self, account: &AccountId) -> Result<Vec<TemplateRecord>, CoreError> {
        Ok(self.meta.templates(account.as_str()).await?)
    }

    pub async fn create_template(
        &self,
        account: &AccountId,
        prefix: &str,
        body: &Value,
    ) -> Result<(), CoreError> {
        check_template_policies(body)?;
        if self
            .meta
            .create_template(account.as_str(), prefix, &body.to_string())
            .await?
        {
            Ok(())
        } else {
            Err(CoreError::TemplateAlreadyExists)
        }
    }

    pub async fn update_template(
        &self,
        account: &AccountId,
        prefix: &str,
        body: &Value,
    ) -> Result<(), CoreError> {
        check_template_policies(body)?;
        if self
            .meta
            .update_template(account.as_str(), prefix, &body.to_string())
            .await?
        {
            Ok(())
        } else {
            Err(CoreError::TemplateNotFound)
        }
    }

    pub async fn delete_template(
        &self,
        account: &AccountId,
        prefix: &str,
    ) -> Result<TemplateRecord, CoreError> {
        self.meta
            .delete_template(account.as_str(), prefix)
            .await?
            .ok_or(CoreError::TemplateNotFound)
    }
}

/// A template's repository policy and lifecycle policy must parse before the template is stored:
/// every repository it creates gets them.
fn check_template_policies(body: &Value) -> Result<(), CoreError> {
    if let Some(p) = body["repositoryPolicy"].as_str().filter(|p| !p.is_empty()) {
        crate::authz::check_policy(p, wharf_policy::PolicyKind::Resource)?;
    }
    if let Some(l) = body["lifecyclePolicy"].as_str().filter(|l| !l.is_empty()) {
        crate::LifecyclePolicy::parse(l).map_err(|e| CoreError::InvalidParameter(e.message()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(prefix: &str, applied: &str) -> TemplateRecord {
        TemplateRecord {
            prefix: prefix.into(),
            body: format!(r#"{{"appliedFor":["{applied}"],"imageTagMutability":"IMMUTABLE"}}"#),
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn prefixes() {
        assert!(prefix_covers("ROOT", "anything/at/all"));
        assert!(prefix_covers("prod", "prod/app"));
        assert!(prefix_covers("prod/", "prod/app"));
        assert!(!prefix_covers("prod", "prod"));
        assert!(!prefix_covers("prod", "production/app"));
        let all = vec![
            t("ROOT", "CREATE_ON_PUSH"),
            t("team", "CREATE_ON_PUSH"),
            t("team/a", "REPLICATION"),
        ];
        assert_eq!(
            pick(&all, "team/a/x", "CREATE_ON_PUSH").unwrap().0.prefix,
            "team"
        );
        assert_eq!(
            pick(&all, "other", "CREATE_ON_PUSH").unwrap().0.prefix,
            "ROOT"
        );
        assert!(pick(&all[1..], "other", "CREATE_ON_PUSH").is_none());
        let (settings, _, _) = template_settings(&serde_json::from_str(&all[0].body).unwrap());
        assert_eq!(settings.image_tag_mutability, "IMMUTABLE");
    }
}
