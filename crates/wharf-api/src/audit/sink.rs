//! Getting audit records into SQL without holding up requests: handlers hand records to a
//! bounded channel (never waiting), and one writer task per node appends whatever has piled up
//! in one transaction, retrying a batch the database refused a few times before giving it up
//! (counted as dropped, and logged). `AuditWriter::finish` at shutdown closes the channel and
//! writes what is left, so a graceful stop loses nothing; a crash loses at most the records of
//! the last few milliseconds.

use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use wharf_core::model::AuditRecord;
use wharf_core::Registry;
use wharf_metrics::{AuditLabels, Metrics};

/// Records waiting for the writer; more are dropped (and counted) rather than slowing requests.
const QUEUE: usize = 20_000;
/// Most records one transaction appends.
const BATCH: usize = 500;
/// Attempts at writing one batch.
const ATTEMPTS: u32 = 5;

/// Where handlers send audit records. Cheap to clone.
#[derive(Clone)]
pub struct AuditSink {
    tx: Option<mpsc::Sender<AuditRecord>>,
    metrics: Metrics,
}

impl std::fmt::Debug for AuditSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditSink")
            .field("enabled", &self.tx.is_some())
            .finish()
    }
}

/// The writer task; `finish` flushes it.
pub struct AuditWriter {
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl AuditSink {
    /// Starts the writer into `registry`'s metadata on the current runtime.
    pub fn start(registry: Registry, metrics: Metrics) -> (AuditSink, AuditWriter) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(write_loop(registry, metrics.clone(), rx, stopped));
        (
            AuditSink {
                tx: Some(tx),
                metrics,
            },
            AuditWriter { stop, task },
        )
    }

    /// A sink that records nothing (tools that serve no requests).
    pub fn disabled() -> AuditSink {
        AuditSink {
            tx: None,
            metrics: Metrics::default(),
        }
    }

    /// Queues a record without waiting.
    pub fn send(&self, record: AuditRecord) {
        let Some(tx) = &self.tx else { return };
        if let Err(e) = tx.try_send(record) {
            self.metrics
                .audit_events
                .get_or_create(&AuditLabels { outcome: "dropped" })
                .inc();
            tracing::warn!(error = %e, "audit record dropped: the writer is behind or stopped");
        }
    }
}

impl AuditWriter {
    /// Closes the channel, writes every record still queued, and waits up to `grace` for that.
    pub async fn finish(self, grace: Duration) {
        let _ = self.stop.send(());
        if tokio::time::timeout(grace, self.task).await.is_err() {
            tracing::warn!("audit records still unwritten at shutdown");
        }
    }
}

async fn write_loop(
    registry: Registry,
    metrics: Metrics,
    mut rx: mpsc::Receiver<AuditRecord>,
    mut stopped: oneshot::Receiver<()>,
) {
    let mut batch = Vec::with_capacity(BATCH);
    // Until `finish` is called (or its handle dropped, which leaves the writer running for as
    // long as senders live).
    let mut watching = true;
    loop {
        let first = if watching {
            tokio::select! {
                r = rx.recv() => r,
                asked = &mut stopped => {
                    watching = false;
                    if asked.is_ok() {
                        // No more sends; what is queued is still received, then None.
                        rx.close();
                    }
                    continue;
                }
            }
        } else {
            rx.recv().await
        };
        let Some(first) = first else { break };
        batch.push(first);
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(r) => batch.push(r),
                Err(_) => break,
            }
        }
        write(&registry, &metrics, &mut batch).await;
    }
}

async fn write(registry: &Registry, metrics: &Metrics, batch: &mut Vec<AuditRecord>) {
    let n = batch.len() as u64;
    for attempt in 1..=ATTEMPTS {
        match registry.append_audit(batch).await {
            Ok(()) => {
                metrics
                    .audit_events
                    .get_or_create(&AuditLabels { outcome: "written" })
                    .inc_by(n);
                batch.clear();
                return;
            }
            Err(e) if attempt < ATTEMPTS => {
                tracing::warn!(error = %e, attempt, "writing audit records failed; retrying");
                tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
            }
            Err(e) => {
                tracing::error!(error = %e, records = n, "audit records lost: the database refused them")
            }
        }
    }
    metrics
        .audit_events
        .get_or_create(&AuditLabels { outcome: "dropped" })
        .inc_by(n);
    batch.clear();
}
