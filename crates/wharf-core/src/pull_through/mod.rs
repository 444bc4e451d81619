//! Pull-through caches: repositories whose content is fetched from an upstream registry on a
//! miss. `rule.rs` is the pure rule grammar, `rules.rs` the rule and credential use cases,
//! `fetch.rs` the misses: a manifest is fetched, answered at once and committed in the
//! background once its blobs (and child manifests) are stored; a blob is streamed to the client
//! while it is stored. Concurrent misses of one manifest or blob on this node share one upstream
//! fetch. A tag is re-checked upstream once `tag_ttl` has passed since it was last confirmed;
//! when the upstream fails or rate-limits then, the cached image is served.
//!
//! Per node, in memory: the rules (re-read after `RULES_TTL`, at once after local changes), the
//! upstream clients, the fetches in flight and when each tag was last confirmed (after a restart
//! a tag's first pull re-checks it).

pub mod fetch;
pub mod rule;
mod rules;

use crate::{CoreError, Registry, Repo};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wharf_upstream::Upstream;

pub use rules::{NewRule, RuleValidation, UpstreamSecret};
pub use wharf_meta::PullThroughRuleRecord;

/// How long a node trusts its copy of an account's rules.
const RULES_TTL: Duration = Duration::from_secs(5);
/// How long a cached tag is served without asking again after its upstream check failed.
const FAILURE_BACKOFF: Duration = Duration::from_secs(30);
/// A tag's default re-check interval (as ECR: at most once per 24 hours).
pub const DEFAULT_TAG_TTL: Duration = Duration::from_secs(24 * 3600);

/// An account's rules and when they were read.
type CachedRules = (Arc<[PullThroughRuleRecord]>, Instant);
/// An upstream client and the rule version (`updated_at`) it was built for.
type BuiltUpstream = (i64, Arc<Upstream>);

/// This node's pull-through state.
pub(crate) struct PullThrough {
    http: Option<reqwest::Client>,
    rules: Mutex<HashMap<String, CachedRules>>,
    /// Upstream clients by (account, prefix), with the rule's `updated_at` they were built for.
    upstreams: Mutex<HashMap<(String, String), BuiltUpstream>>,
    pub(crate) inflight: fetch::Inflight,
    /// Until when each `account/repo:tag` is served without asking the upstream: the tag TTL
    /// after it was confirmed (or fetched), a shorter back-off after the upstream failed.
    confirmed: quick_cache::sync::Cache<String, Instant>,
    pub(crate) tag_ttl: Duration,
}

impl Default for PullThrough {
    fn default() -> Self {
        PullThrough {
            http: wharf_upstream::http_client()
                .map_err(|e| tracing::error!(error = %e, "pull-through HTTP client unavailable"))
                .ok(),
            rules: Mutex::default(),
            upstreams: Mutex::default(),
            inflight: fetch::Inflight::default(),
            confirmed: quick_cache::sync::Cache::new(100_000),
            tag_ttl: DEFAULT_TAG_TTL,
        }
    }
}

/// Where a cached repository reads from.
#[derive(Clone)]
pub(crate) struct Route {
    pub ecr_prefix: String,
    pub upstream_url: String,
    pub upstream: Arc<Upstream>,
    /// The upstream repository name.
    pub upstream_repo: String,
}

impl Registry {
    /// Sets how long a cached tag is served before the upstream is asked again.
    pub fn with_pull_through_tag_ttl(mut self, ttl: Duration) -> Registry {
        self.pull_through = Arc::new(PullThrough {
            tag_ttl: ttl,
            ..PullThrough::default()
        });
        self
    }

    /// The account's rules, from this node's copy when it is fresh.
    pub(crate) async fn pull_through_rules_cached(
        &self,
        account: &str,
    ) -> Result<Arc<[PullThroughRuleRecord]>, CoreError> {
        if let Some((rules, at)) = self
            .pull_through
            .rules
            .lock()
            .expect("rules lock")
            .get(account)
        {
            if at.elapsed() < RULES_TTL {
                return Ok(rules.clone());
            }
        }
        let rules: Arc<[PullThroughRuleRecord]> =
            self.meta.pull_through_rules(account).await?.into();
        self.pull_through
            .rules
            .lock()
            .expect("rules lock")
            .insert(account.to_string(), (rules.clone(), Instant::now()));
        Ok(rules)
    }

    /// Drops this node's copy of an account's rules (after a change here).
    pub(crate) fn forget_pull_through_rules(&self, account: &str) {
        self.pull_through
            .rules
            .lock()
            .expect("rules lock")
            .remove(account);
        self.pull_through
            .upstreams
            .lock()
            .expect("upstreams lock")
            .retain(|(a, _), _| a != account);
    }

    /// The route of a repository a rule covers; `None` when no rule does.
    pub(crate) async fn pull_through_route(&self, repo: &Repo) -> Result<Option<Route>, CoreError> {
        let rules = self
            .pull_through_rules_cached(repo.account.as_str())
            .await?;
        if rules.is_empty() {
            return Ok(None);
        }
        let Some(rule) = rule::covering(&rules, repo.name.as_str()) else {
            return Ok(None);
        };
        let Some(upstream_repo) = rule::upstream_name(rule, repo.name.as_str()) else {
            return Ok(None);
        };
        let upstream = self.upstream_for(rule).await?;
        Ok(Some(Route {
            ecr_prefix: rule.ecr_prefix.clone(),
            upstream_url: rule.upstream_url.clone(),
            upstream,
            upstream_repo,
        }))
    }

    /// The client of a rule's upstream, built once per rule version.
    pub(crate) async fn upstream_for(
        &self,
        rule: &PullThroughRuleRecord,
    ) -> Result<Arc<Upstream>, CoreError> {
        let key = (rule.account.clone(), rule.ecr_prefix.clone());
        if let Some((v, u)) = self
            .pull_through
            .upstreams
            .lock()
            .expect("upstreams lock")
            .get(&key)
        {
            if *v == rule.updated_at {
                return Ok(u.clone());
            }
        }
        let http = self
            .pull_through
            .http
            .clone()
            .ok_or_else(|| CoreError::Internal("no HTTP client for upstreams".into()))?;
        let creds = match &rule.credential_arn {
            Some(arn) => Some(self.upstream_credentials(&rule.account, arn).await?),
            None => None,
        };
        let upstream = Arc::new(
            Upstream::new(http, &rule.upstream_url, creds).map_err(CoreError::InvalidParameter)?,
        );
        self.pull_through
            .upstreams
            .lock()
            .expect("upstreams lock")
            .insert(key, (rule.updated_at, upstream.clone()));
        Ok(upstream)
    }

    /// Whether `repo:tag` was confirmed against its upstream within the tag TTL.
    pub(crate) fn tag_confirmed(&self, repo: &Repo, tag: &str) -> bool {
        self.pull_through
            .confirmed
            .get(&format!("{}:{tag}", repo.qualified()))
            .is_some_and(|until| Instant::now() < until)
    }

    /// Records that `repo:tag` matches its upstream now.
    pub(crate) fn confirm_tag(&self, repo: &Repo, tag: &str) {
        self.hold_tag(repo, tag, self.pull_through.tag_ttl);
    }

    /// After a failed upstream check: serve the cached tag for a while before asking again, so
    /// an unreachable upstream does not slow every pull.
    pub(crate) fn back_off_tag(&self, repo: &Repo, tag: &str) {
        self.hold_tag(repo, tag, self.pull_through.tag_ttl.min(FAILURE_BACKOFF));
    }

    fn hold_tag(&self, repo: &Repo, tag: &str, period: Duration) {
        self.pull_through.confirmed.insert(
            format!("{}:{tag}", repo.qualified()),
            Instant::now() + period,
        );
    }
}
