//! Events delivered to webhooks: the configured `Webhook`s (URL, HMAC secret, filters), which
//! webhooks an event goes to, and the durable `webhook` jobs that deliver it (one per webhook,
//! carrying the exact body, so every retry sends the same bytes and id). A push's jobs are
//! enqueued in the push's own transaction; deletes, scans and replications enqueue theirs right
//! after their change commits. The wire shape is in `shape.rs`; the POST itself is
//! `wharf-jobs`'s.

pub mod shape;

use crate::{JobKind, Registry, Repo};
pub use shape::{DetailType, Event, PullThrough as PullThroughEvent};
use wharf_meta::NewJob;
use wharf_oci::Digest;

/// One webhook: where events are POSTed, the HMAC key, and which events it wants.
#[derive(Clone, PartialEq, Eq)]
pub struct Webhook {
    /// `http://` or `https://` URL; it also names the webhook in the queued jobs.
    pub url: String,
    /// The HMAC-SHA256 key of `X-Wharf-Signature`.
    pub secret: String,
    /// Only these detail types (all when empty).
    pub detail_types: Vec<DetailType>,
    /// Only repositories whose name starts with this (all when `None`).
    pub repository_prefix: Option<String>,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("url", &self.url)
            .field("secret", &"<redacted>")
            .field("detail_types", &self.detail_types)
            .field("repository_prefix", &self.repository_prefix)
            .finish()
    }
}

impl Webhook {
    /// Whether this webhook wants `event`.
    pub fn wants(&self, event: &Event) -> bool {
        (self.detail_types.is_empty() || self.detail_types.contains(&event.detail_type))
            && self
                .repository_prefix
                .as_deref()
                .is_none_or(|p| event.repository.starts_with(p))
    }
}

/// The job delivering `event` to `hook`.
fn delivery_job(hook: &Webhook, event: &Event) -> NewJob {
    JobKind::Webhook {
        url: hook.url.clone(),
        event_id: event.id.clone(),
        body: event.body.clone(),
    }
    .new_job()
    .dedupe(format!("webhook:{}:{}", event.id, hook.url))
}

impl Registry {
    /// Sets the webhooks events are delivered to (none by default).
    pub fn with_webhooks(mut self, hooks: Vec<Webhook>) -> Registry {
        self.webhooks = hooks.into();
        self
    }

    /// The configured webhook at `url`, if it still is configured.
    pub fn webhook(&self, url: &str) -> Option<&Webhook> {
        self.webhooks.iter().find(|h| h.url == url)
    }

    /// The delivery jobs of `event`: one per webhook that wants it.
    pub(crate) fn event_jobs(&self, event: &Event) -> Vec<NewJob> {
        self.webhooks
            .iter()
            .filter(|h| h.wants(event))
            .map(|h| delivery_job(h, event))
            .collect()
    }

    /// Whether any webhook is configured (events are not even built otherwise).
    pub(crate) fn events_on(&self) -> bool {
        !self.webhooks.is_empty()
    }

    /// Enqueues `event`'s deliveries after the change it reports committed. A failure is
    /// logged, not returned: the change itself stands.
    pub async fn emit_event(&self, event: &Event) {
        for job in self.event_jobs(event) {
            if let Err(e) = self.meta.enqueue(&job).await {
                tracing::warn!(event = %event.id, error = %e, "enqueueing an event delivery failed");
            }
        }
    }

    pub(crate) fn origin<'a>(&'a self, repo: &'a Repo, name: &'a str) -> shape::Origin<'a> {
        shape::Origin {
            account: repo.account.as_str(),
            region: &self.region,
            repository: name,
            time: crate::unix_now(),
        }
    }

    /// Emits "ECR Image Scan" for a scan that finished COMPLETE or FAILED.
    pub(crate) async fn emit_scan_event(&self, repo: &Repo, digest: &Digest) {
        if !self.events_on() {
            return;
        }
        let image = match self.meta.image(repo.key(), digest).await {
            Ok(Some(i)) => i,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "reading an image for its scan event failed");
                return;
            }
        };
        let summary = match self
            .scan_summaries(repo, std::slice::from_ref(&image))
            .await
        {
            Ok(mut s) => s.remove(digest),
            Err(e) => {
                tracing::warn!(error = %e, "reading a scan for its event failed");
                return;
            }
        };
        let Some(summary) = summary else { return };
        let status = summary.status.as_str();
        if status != "COMPLETE" && status != "FAILED" {
            return;
        }
        let counts: Vec<(&str, u64)> = summary
            .severity_counts
            .iter()
            .map(|(s, n)| (s.as_str(), *n))
            .collect();
        let name = repo.name.to_string();
        let digest_s = digest.to_string();
        let event = shape::image_scan(
            &self.origin(repo, &name),
            status,
            &digest_s,
            &image.tags,
            &counts,
        );
        self.emit_event(&event).await;
    }

    /// Emits "ECR Pull Through Cache Action" for an image a pull-through cache committed (or
    /// failed to).
    pub(crate) async fn emit_pull_through_event(&self, repo: &Repo, p: &shape::PullThrough<'_>) {
        if !self.events_on() {
            return;
        }
        let name = repo.name.to_string();
        let event = shape::pull_through(&self.origin(repo, &name), p);
        self.emit_event(&event).await;
    }

    /// Emits "ECR Replication Action" for a replication that finished.
    pub async fn emit_replication_event(
        &self,
        repo: &Repo,
        digest: &Digest,
        dest: &crate::replication::Destination,
        failure_code: Option<&str>,
    ) {
        if !self.events_on() {
            return;
        }
        let tags = match self.meta.image(repo.key(), digest).await {
            Ok(Some(i)) => i.tags,
            _ => Vec::new(),
        };
        let name = repo.name.to_string();
        let digest_s = digest.to_string();
        let event = shape::replication(
            &self.origin(repo, &name),
            &shape::Replication {
                success: failure_code.is_none(),
                digest: &digest_s,
                tag: tags.first().map(String::as_str),
                destination_region: &dest.region,
                destination_registry: &dest.registry_id,
                failure_code,
            },
        );
        self.emit_event(&event).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(types: &[DetailType], prefix: Option<&str>) -> Webhook {
        Webhook {
            url: "http://127.0.0.1:9/hook".into(),
            secret: "s3cret".into(),
            detail_types: types.to_vec(),
            repository_prefix: prefix.map(Into::into),
        }
    }

    fn push(repository: &str) -> Event {
        shape::image_action(
            &shape::Origin {
                account: "123456789012",
                region: "us-east-1",
                repository,
                time: 0,
            },
            &shape::ImageAction {
                action: "PUSH",
                digest: Some("sha256:ab"),
                tag: None,
                manifest_media_type: None,
                artifact_media_type: None,
            },
        )
    }

    #[test]
    fn filters_match_detail_types_and_repository_prefixes() {
        let e = push("team/app");
        assert!(hook(&[], None).wants(&e));
        assert!(hook(&[DetailType::ImageAction], Some("team/")).wants(&e));
        assert!(!hook(&[DetailType::ImageScan], None).wants(&e));
        assert!(!hook(&[], Some("other/")).wants(&e));
    }

    #[test]
    fn the_secret_stays_out_of_debug_and_jobs_carry_the_exact_body() {
        let h = hook(&[], None);
        assert!(!format!("{h:?}").contains("s3cret"));
        let e = push("team/app");
        let job = delivery_job(&h, &e);
        assert!(!job.payload.contains("s3cret"));
        let JobKind::Webhook {
            url,
            event_id,
            body,
        } = JobKind::decode(&job.kind, &job.payload).unwrap()
        else {
            panic!("not a webhook job");
        };
        assert_eq!((url, event_id, body), (h.url, e.id, e.body));
    }
}
