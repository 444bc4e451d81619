//! The Prometheus metric families of a Wharf node and their OpenMetrics text exposition.
//!
//! One `Metrics` value (cheap to clone: every family is reference-counted) is made by the binary
//! and handed to the HTTP layer (`wharf-api`) and the job runner (`wharf-jobs`), which record into
//! it; `encode` renders everything for `GET /metrics`. Labels are closed sets only: a surface, an
//! operation name from a closed enum, a status code, a job kind, a state. No repository name,
//! tag, digest or principal ever becomes a label, so the number of series stays bounded.
//! No IO happens here.

pub use prometheus_client::metrics::counter::Counter;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

/// The media type of the exposition `encode` writes.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// A finished request: which surface, which operation, which status.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// `oci`, `ecr` or `other` (health, metrics).
    pub surface: &'static str,
    /// The ECR operation name or the OCI route kind (`manifest_get`, `blob_upload_patch`, ...).
    pub operation: &'static str,
    pub status: u16,
}

/// A request's operation without its status (latency histograms).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OperationLabels {
    pub surface: &'static str,
    pub operation: &'static str,
}

/// Bytes by surface.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SurfaceLabels {
    pub surface: &'static str,
}

/// Jobs in the queue by kind and state (`queued`, `running`, `done`, `dead`, ...).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct JobStateLabels {
    pub kind: String,
    pub state: String,
}

/// A job attempt's outcome on this node: `done`, `retry` or `dead`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct JobOutcomeLabels {
    pub kind: &'static str,
    pub outcome: &'static str,
}

/// A scan's final status (`COMPLETE`, `FAILED`, ...) and whether it was a rescan.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ScanLabels {
    pub status: String,
    pub rescan: bool,
}

/// A database pool (`reader` / `writer`) and its connections' state (`idle` / `busy`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PoolLabels {
    pub pool: &'static str,
    pub state: &'static str,
}

/// An audit record's fate: `written` or `dropped` (the writer's queue was full or the
/// database refused the batch).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AuditLabels {
    pub outcome: &'static str,
}

fn latency_histogram() -> Histogram {
    // 1 ms .. ~33 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// Every metric family of a node.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    pub requests: Family<RequestLabels, Counter>,
    pub request_seconds: Family<OperationLabels, Histogram, fn() -> Histogram>,
    pub bytes_received: Family<SurfaceLabels, Counter>,
    pub bytes_sent: Family<SurfaceLabels, Counter>,
    pub uploads_in_progress: Gauge,
    pub job_queue: Family<JobStateLabels, Gauge>,
    pub jobs_finished: Family<JobOutcomeLabels, Counter>,
    pub gc_passes: Counter,
    pub gc_blobs_deleted: Counter,
    pub gc_bytes_deleted: Counter,
    pub gc_uploads_deleted: Counter,
    pub lifecycle_runs: Counter,
    pub lifecycle_images_expired: Counter,
    pub lifecycle_images_archived: Counter,
    pub scans: Family<ScanLabels, Counter>,
    pub db_connections: Family<PoolLabels, Gauge>,
    pub audit_events: Family<AuditLabels, Counter>,
    /// The queue series ever set, so vanished ones can be zeroed.
    job_series: Arc<Mutex<BTreeSet<(String, String)>>>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// A fresh set of families, all registered under the `wharf_` prefix.
    pub fn new() -> Metrics {
        let mut r = Registry::with_prefix("wharf");
        let requests = Family::<RequestLabels, Counter>::default();
        r.register(
            "http_requests",
            "HTTP requests by surface, operation and status code",
            requests.clone(),
        );
        let request_seconds =
            Family::<OperationLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                latency_histogram,
            );
        r.register(
            "http_request_duration_seconds",
            "Time until the response head, by surface and operation",
            request_seconds.clone(),
        );
        let bytes_received = Family::<SurfaceLabels, Counter>::default();
        r.register(
            "http_request_body_bytes",
            "Request body bytes received, by surface",
            bytes_received.clone(),
        );
        let bytes_sent = Family::<SurfaceLabels, Counter>::default();
        r.register(
            "http_response_body_bytes",
            "Response body bytes sent, by surface",
            bytes_sent.clone(),
        );
        let uploads_in_progress = Gauge::default();
        r.register(
            "uploads_in_progress",
            "Upload sessions open in the metadata store (all nodes)",
            uploads_in_progress.clone(),
        );
        let job_queue = Family::<JobStateLabels, Gauge>::default();
        r.register(
            "job_queue_jobs",
            "Jobs in the durable queue by kind and state (all nodes)",
            job_queue.clone(),
        );
        let jobs_finished = Family::<JobOutcomeLabels, Counter>::default();
        r.register(
            "job_attempts",
            "Job attempts this node finished, by kind and outcome (done, retry, dead)",
            jobs_finished.clone(),
        );
        let gc_passes = Counter::default();
        r.register(
            "gc_passes",
            "Garbage-collection passes run by this node",
            gc_passes.clone(),
        );
        let gc_blobs_deleted = Counter::default();
        r.register(
            "gc_blobs_deleted",
            "Blobs garbage collection deleted (unreferenced blobs and orphan files)",
            gc_blobs_deleted.clone(),
        );
        let gc_bytes_deleted = Counter::default();
        r.register(
            "gc_deleted_bytes",
            "Bytes garbage collection freed (blobs, orphan files and uploads)",
            gc_bytes_deleted.clone(),
        );
        let gc_uploads_deleted = Counter::default();
        r.register(
            "gc_uploads_deleted",
            "Abandoned upload scratch areas garbage collection deleted",
            gc_uploads_deleted.clone(),
        );
        let lifecycle_runs = Counter::default();
        r.register(
            "lifecycle_runs",
            "Lifecycle runs (every repository's policy applied) by this node",
            lifecycle_runs.clone(),
        );
        let lifecycle_images_expired = Counter::default();
        r.register(
            "lifecycle_images_expired",
            "Images lifecycle policies expired",
            lifecycle_images_expired.clone(),
        );
        let lifecycle_images_archived = Counter::default();
        r.register(
            "lifecycle_images_archived",
            "Images lifecycle policies archived",
            lifecycle_images_archived.clone(),
        );
        let scans = Family::<ScanLabels, Counter>::default();
        r.register(
            "scans",
            "Image scans finished by this node, by status",
            scans.clone(),
        );
        let db_connections = Family::<PoolLabels, Gauge>::default();
        r.register(
            "db_pool_connections",
            "Metadata database connections by pool and state",
            db_connections.clone(),
        );
        let audit_events = Family::<AuditLabels, Counter>::default();
        r.register(
            "audit_events",
            "Audit records by outcome (written, dropped)",
            audit_events.clone(),
        );
        Metrics {
            registry: Arc::new(r),
            requests,
            request_seconds,
            bytes_received,
            bytes_sent,
            uploads_in_progress,
            job_queue,
            jobs_finished,
            gc_passes,
            gc_blobs_deleted,
            gc_bytes_deleted,
            gc_uploads_deleted,
            lifecycle_runs,
            lifecycle_images_expired,
            lifecycle_images_archived,
            scans,
            db_connections,
            audit_events,
            job_series: Arc::default(),
        }
    }

    /// Records one finished request.
    pub fn request(
        &self,
        surface: &'static str,
        operation: &'static str,
        status: u16,
        seconds: f64,
    ) {
        self.requests
            .get_or_create(&RequestLabels {
                surface,
                operation,
                status,
            })
            .inc();
        self.request_seconds
            .get_or_create(&OperationLabels { surface, operation })
            .observe(seconds);
    }

    /// Records one finished job attempt.
    pub fn job_finished(&self, kind: &'static str, outcome: &'static str) {
        self.jobs_finished
            .get_or_create(&JobOutcomeLabels { kind, outcome })
            .inc();
    }

    /// Records a finished scan.
    pub fn scan(&self, status: &str, rescan: bool) {
        self.scans
            .get_or_create(&ScanLabels {
                status: status.to_string(),
                rescan,
            })
            .inc();
    }

    /// Replaces the queue gauges with a fresh count (kinds and states that vanished read 0
    /// rather than disappearing, so rates and alerts keep working).
    pub fn set_job_queue(&self, counts: impl IntoIterator<Item = (String, String, i64)>) {
        let fresh: Vec<(String, String, i64)> = counts.into_iter().collect();
        let mut seen = self
            .job_series
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Zero the series that were seen before and are absent now.
        for (kind, state) in seen.iter() {
            if !fresh.iter().any(|(k, s, _)| k == kind && s == state) {
                self.job_queue
                    .get_or_create(&JobStateLabels {
                        kind: kind.clone(),
                        state: state.clone(),
                    })
                    .set(0);
            }
        }
        for (kind, state, n) in fresh {
            seen.insert((kind.clone(), state.clone()));
            self.job_queue
                .get_or_create(&JobStateLabels { kind, state })
                .set(n);
        }
    }

    /// Sets a database pool's connection gauges.
    pub fn set_pool(&self, pool: &'static str, size: u32, idle: u32) {
        self.db_connections
            .get_or_create(&PoolLabels {
                pool,
                state: "idle",
            })
            .set(i64::from(idle));
        self.db_connections
            .get_or_create(&PoolLabels {
                pool,
                state: "busy",
            })
            .set(i64::from(size.saturating_sub(idle)));
    }

    /// The OpenMetrics text exposition of every family.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_by_bounded_labels() {
        let m = Metrics::new();
        m.request("ecr", "CreateRepository", 200, 0.01);
        m.request("ecr", "CreateRepository", 200, 0.02);
        m.request("oci", "manifest_put", 201, 0.5);
        let text = m.encode();
        assert!(text.contains(
            r#"wharf_http_requests_total{surface="ecr",operation="CreateRepository",status="200"} 2"#
        ));
        assert!(text.contains(
            r#"wharf_http_request_duration_seconds_count{surface="oci",operation="manifest_put"} 1"#
        ));
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn queue_series_that_vanish_read_zero() {
        let m = Metrics::new();
        m.set_job_queue([("gc".to_string(), "queued".to_string(), 2)]);
        assert!(m
            .encode()
            .contains(r#"wharf_job_queue_jobs{kind="gc",state="queued"} 2"#));
        m.set_job_queue([("scan".to_string(), "done".to_string(), 1)]);
        let text = m.encode();
        assert!(text.contains(r#"wharf_job_queue_jobs{kind="gc",state="queued"} 0"#));
        assert!(text.contains(r#"wharf_job_queue_jobs{kind="scan",state="done"} 1"#));
    }

    #[test]
    fn job_outcomes_and_results() {
        let m = Metrics::new();
        m.job_finished("gc", "done");
        m.gc_passes.inc();
        m.scan("COMPLETE", false);
        m.set_pool("writer", 3, 1);
        let text = m.encode();
        assert!(text.contains(r#"wharf_job_attempts_total{kind="gc",outcome="done"} 1"#));
        assert!(text.contains("wharf_gc_passes_total 1"));
        assert!(text.contains(r#"wharf_scans_total{status="COMPLETE",rescan="false"} 1"#));
        assert!(text.contains(r#"wharf_db_pool_connections{pool="writer",state="busy"} 2"#));
    }
}
