//! The `webhook` job: one event POSTed to one configured webhook. The body is the event's exact
//! JSON; `X-Wharf-Event-Id` is its id, `X-Wharf-Timestamp` the attempt's Unix seconds and
//! `X-Wharf-Signature` is `sha256=<hex HMAC-SHA256 of the body>` under the webhook's secret. A
//! 2xx answer delivers it; a connection error, a timeout, a 5xx or a 429 is retried with the
//! queue's backoff until its attempts run out; any other answer, or a webhook no longer
//! configured, is dead at once.

use crate::JobError;
use std::sync::OnceLock;
use std::time::Duration;
use wharf_core::events::shape::signature;
use wharf_core::{unix_now, Registry};

/// How long one delivery may take, connecting included.
const TIMEOUT: Duration = Duration::from_secs(10);

/// One client per process: its connection pool is reused across deliveries.
fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            // A redirect would resend a signed body somewhere not configured.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("wharf/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default()
    })
}

pub(crate) async fn deliver(
    registry: &Registry,
    url: &str,
    event_id: &str,
    body: &str,
) -> Result<(), JobError> {
    let Some(hook) = registry.webhook(url) else {
        return Err(JobError::Permanent(format!(
            "webhook {url} is no longer configured"
        )));
    };
    let response = client()
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("X-Wharf-Event-Id", event_id)
        .header("X-Wharf-Timestamp", unix_now().to_string())
        .header(
            "X-Wharf-Signature",
            signature(hook.secret.as_bytes(), body.as_bytes()),
        )
        .body(body.to_string())
        .send()
        .await
        // Connection refused, reset, timed out: the receiver may be back later.
        .map_err(|e| JobError::Transient(format!("webhook {url}: {}", error_chain(&e))))?;
    let status = response.status();
    if status.is_success() {
        tracing::info!(%url, event = %event_id, status = status.as_u16(), "event delivered");
        return Ok(());
    }
    let message = format!("webhook {url} answered {status}");
    if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        Err(JobError::Transient(message))
    } else {
        Err(JobError::Permanent(message))
    }
}

/// The error with its sources, which name the actual cause (refused, timed out).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
