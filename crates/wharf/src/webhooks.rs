//! `[[webhooks]]`: where events are POSTed — `url`, `secret` (the HMAC-SHA256 key of
//! `X-Wharf-Signature`), and optional filters `detail_types` (EventBridge names such as
//! `"ECR Image Action"`) and `repository_prefix`. From the environment, one more webhook:
//! `WHARF_WEBHOOK_URL`, `WHARF_WEBHOOK_SECRET`, `WHARF_WEBHOOK_DETAIL_TYPES` (comma-separated)
//! and `WHARF_WEBHOOK_REPOSITORY_PREFIX`; it replaces a file entry with the same URL.

use anyhow::bail;
use serde::Deserialize;
use wharf_core::events::{DetailType, Webhook};

/// One `[[webhooks]]` entry as written.
#[derive(Default, Deserialize, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RawWebhook {
    pub url: Option<String>,
    pub secret: Option<String>,
    pub detail_types: Option<Vec<String>>,
    pub repository_prefix: Option<String>,
}

impl std::fmt::Debug for RawWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawWebhook")
            .field("url", &self.url)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("detail_types", &self.detail_types)
            .field("repository_prefix", &self.repository_prefix)
            .finish()
    }
}

/// The webhook `WHARF_WEBHOOK_*` describes, if `WHARF_WEBHOOK_URL` is set.
pub fn from_env(get: &impl Fn(&str) -> Option<String>) -> Vec<RawWebhook> {
    let Some(url) = get("WHARF_WEBHOOK_URL").filter(|u| !u.trim().is_empty()) else {
        return Vec::new();
    };
    vec![RawWebhook {
        url: Some(url),
        secret: get("WHARF_WEBHOOK_SECRET"),
        detail_types: get("WHARF_WEBHOOK_DETAIL_TYPES").map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(String::from)
                .collect()
        }),
        repository_prefix: get("WHARF_WEBHOOK_REPOSITORY_PREFIX"),
    }]
}

/// `over`'s webhooks added to `base`'s; one with a URL `base` has replaces that entry.
pub fn merge(mut base: Vec<RawWebhook>, over: Vec<RawWebhook>) -> Vec<RawWebhook> {
    for w in over {
        match base.iter_mut().find(|b| b.url.is_some() && b.url == w.url) {
            Some(b) => *b = w,
            None => base.push(w),
        }
    }
    base
}

/// Checks every entry into a `Webhook`.
pub fn settle(raw: Vec<RawWebhook>) -> anyhow::Result<Vec<Webhook>> {
    let mut out: Vec<Webhook> = Vec::with_capacity(raw.len());
    for (i, w) in raw.into_iter().enumerate() {
        let Some(url) = w.url.map(|u| u.trim().to_string()) else {
            bail!("webhooks[{i}] has no url");
        };
        if !(url.starts_with("http://") || url.starts_with("https://"))
            || url.contains(char::is_whitespace)
            || url
                .split_once("://")
                .is_none_or(|(_, rest)| rest.is_empty())
        {
            bail!("webhooks[{i}].url = {url:?} is not an http:// or https:// URL");
        }
        if out.iter().any(|o| o.url == url) {
            bail!("webhooks[{i}].url = {url:?} is configured twice");
        }
        let secret = match w.secret {
            Some(s) if !s.is_empty() => s,
            _ => bail!("webhooks[{i}] ({url}) needs a secret to sign its events with"),
        };
        let mut detail_types = Vec::new();
        for t in w.detail_types.unwrap_or_default() {
            match DetailType::parse(&t) {
                Some(d) => detail_types.push(d),
                None => bail!(
                    "webhooks[{i}].detail_types has {t:?}; known: {}",
                    DetailType::ALL.map(DetailType::as_str).join(", ")
                ),
            }
        }
        out.push(Webhook {
            url,
            secret,
            detail_types,
            repository_prefix: w.repository_prefix.filter(|p| !p.is_empty()),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(url: &str, secret: &str) -> RawWebhook {
        RawWebhook {
            url: Some(url.into()),
            secret: Some(secret.into()),
            ..RawWebhook::default()
        }
    }

    #[test]
    fn entries_settle_with_their_filters() {
        let mut w = raw("https://hooks.example.com/ecr", "k");
        w.detail_types = Some(vec!["ECR Image Action".into(), "ECR Image Scan".into()]);
        w.repository_prefix = Some("team/".into());
        let s = settle(vec![w]).unwrap();
        assert_eq!(
            s[0].detail_types,
            [DetailType::ImageAction, DetailType::ImageScan]
        );
        assert_eq!(s[0].repository_prefix.as_deref(), Some("team/"));
    }

    #[test]
    fn the_config_file_takes_a_list_of_webhooks() {
        let raw: crate::config::RawConfig = toml::from_str(
            r#"
[[webhooks]]
url = "https://hooks.example.com/a"
secret = "k1"

[[webhooks]]
url = "http://127.0.0.1:8080/b"
secret = "k2"
detail_types = ["ECR Replication Action"]
repository_prefix = "prod/"
"#,
        )
        .unwrap();
        let s = settle(raw.webhooks).unwrap();
        assert_eq!(s.len(), 2);
        assert!(s[0].detail_types.is_empty() && s[0].repository_prefix.is_none());
        assert_eq!(s[1].detail_types, [DetailType::ReplicationAction]);
        let typo: Result<crate::config::RawConfig, _> =
            toml::from_str("[[webhooks]]\nurl = \"http://x\"\nsecrets = \"k\"\n");
        assert!(typo.is_err());
    }

    #[test]
    fn bad_entries_are_refused_clearly() {
        let err = |w: Vec<RawWebhook>| format!("{:#}", settle(w).unwrap_err());
        assert!(err(vec![raw("ftp://x", "k")]).contains("not an http"));
        assert!(err(vec![raw("http://x/a", "")]).contains("needs a secret"));
        assert!(err(vec![raw("http://x/a", "k"), raw("http://x/a", "j")]).contains("twice"));
        let mut w = raw("http://x/a", "k");
        w.detail_types = Some(vec!["ECR Image Push".into()]);
        assert!(err(vec![w]).contains("ECR Image Push"));
        assert!(err(vec![RawWebhook::default()]).contains("no url"));
    }

    #[test]
    fn the_environment_adds_or_replaces_one_and_secrets_stay_out_of_debug() {
        let env = |k: &str| match k {
            "WHARF_WEBHOOK_URL" => Some("http://x/a".to_string()),
            "WHARF_WEBHOOK_SECRET" => Some("from-env".to_string()),
            "WHARF_WEBHOOK_DETAIL_TYPES" => Some("ECR Image Action, ECR Image Scan".to_string()),
            _ => None,
        };
        let merged = merge(
            vec![raw("http://x/a", "from-file"), raw("http://y/b", "other")],
            from_env(&env),
        );
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].secret.as_deref(), Some("from-env"));
        assert_eq!(merged[0].detail_types.as_ref().unwrap().len(), 2);
        assert!(!format!("{merged:?}").contains("from-env"));
        assert!(!format!("{:?}", settle(merged).unwrap()).contains("from-env"));
        assert!(from_env(&|_: &str| None).is_empty());
    }
}
