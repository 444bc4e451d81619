//! One worker task: claim a due job, run its handler in a task of its own (so a panic fails the
//! attempt instead of the worker, and a lost lease or a forced shutdown can abort it), renew the
//! lease while it runs, and record how it ended.

use crate::{JobError, Phase, Shared};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinError;
use tracing::Instrument;
use wharf_core::model::JobState;
use wharf_core::{ClaimedJob, JobKind};

/// Claims and runs jobs until the runner stops.
pub(crate) async fn run(shared: Arc<Shared>, index: usize, mut phase: watch::Receiver<Phase>) {
    let kinds = shared.config.kinds.clone();
    loop {
        if *phase.borrow() != Phase::Running {
            return;
        }
        let claimed = shared
            .registry
            .claim_jobs_of(&kinds, shared.config.lease, 1)
            .await;
        let job = match claimed {
            Ok(jobs) => jobs.into_iter().next(),
            Err(e) => {
                tracing::warn!(worker = index, error = %e, "claiming jobs failed");
                None
            }
        };
        match job {
            Some(job) => {
                let span = tracing::info_span!(
                    "job",
                    id = job.id(),
                    kind = %job.record.kind,
                    attempt = job.attempt()
                );
                run_one(&shared, job, &mut phase).instrument(span).await
            }
            None => {
                // Idle: wait for the poll interval, a local enqueue, or shutdown.
                tokio::select! {
                    _ = tokio::time::sleep(shared.config.poll) => {}
                    _ = shared.wake.notified() => {}
                    changed = phase.changed() => {
                        // The runner's handle is gone: nobody can stop this worker any more.
                        if changed.is_err() {
                            return;
                        }
                    }
                }
            }
        }
    }
}

/// How an attempt ended, as the worker saw it.
enum Ended {
    Finished(Result<Result<(), JobError>, JoinError>),
    /// Another node holds the job now.
    LeaseLost,
    /// Forced shutdown.
    Aborted,
}

async fn run_one(shared: &Shared, job: ClaimedJob, phase: &mut watch::Receiver<Phase>) {
    let registry = &shared.registry;
    let kind = match job.kind() {
        Ok(kind) => kind,
        Err(e) => {
            // A payload this build cannot read will not read better later.
            record_failure(shared, &job, None, &e.to_string(), false).await;
            return;
        }
    };

    let mut task = {
        let registry = registry.clone();
        let handler = shared.handler.clone();
        let kind: JobKind = kind.clone();
        tokio::spawn(
            async move { handler.handle(&registry, &kind).await }
                .instrument(tracing::Span::current()),
        )
    };
    let lease = shared.config.lease;
    let every = (lease / 3).max(Duration::from_millis(100));
    let mut renew = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    let ended = loop {
        tokio::select! {
            r = &mut task => break Ended::Finished(r),
            _ = renew.tick() => match registry.renew_job_lease(&job, lease).await {
                Ok(true) => {}
                Ok(false) => {
                    task.abort();
                    break Ended::LeaseLost;
                }
                // The database is away: keep going; if the lease runs out meanwhile, the next
                // renewal is refused and the attempt stops then.
                Err(e) => tracing::warn!(error = %e, "renewing a job lease failed"),
            },
            changed = phase.changed() => {
                if changed.is_err() || *phase.borrow() == Phase::Abort {
                    task.abort();
                    break Ended::Aborted;
                }
            }
        }
    };
    match ended {
        Ended::Finished(Ok(Ok(()))) => match registry.complete_job(&job).await {
            Ok(true) => {
                shared.config.metrics.job_finished(kind.as_str(), "done");
                tracing::info!("job done")
            }
            Ok(false) => tracing::warn!("job finished after its lease was lost"),
            Err(e) => tracing::warn!(error = %e, "recording a finished job failed"),
        },
        Ended::Finished(Ok(Err(JobError::Transient(message)))) => {
            record_failure(shared, &job, Some(&kind), &message, true).await
        }
        Ended::Finished(Ok(Err(JobError::Permanent(message)))) => {
            record_failure(shared, &job, Some(&kind), &message, false).await
        }
        Ended::Finished(Err(e)) => {
            let message = if e.is_panic() {
                format!("handler panicked: {}", panic_message(e))
            } else {
                "handler was cancelled".to_string()
            };
            record_failure(shared, &job, Some(&kind), &message, true).await
        }
        Ended::LeaseLost => {
            tracing::warn!("job lease lost to another node; attempt stopped")
        }
        Ended::Aborted => match registry.release_job(&job).await {
            Ok(_) => tracing::info!("job interrupted by shutdown; given back to the queue"),
            Err(e) => tracing::warn!(error = %e, "giving back an interrupted job failed"),
        },
    }
}

/// Records a failed attempt and logs where the job went; a job that failed for the last time
/// is handed to the handler's `gave_up`, so what it promised (a scan's IN_PROGRESS) is settled.
async fn record_failure(
    shared: &Shared,
    job: &ClaimedJob,
    kind: Option<&JobKind>,
    message: &str,
    retry: bool,
) {
    match shared
        .registry
        .fail_job(job, message, &shared.config.backoff, retry)
        .await
    {
        Ok(Some(JobState::Dead)) => {
            shared
                .config
                .metrics
                .job_finished(kind.map_or("unknown", JobKind::as_str), "dead");
            tracing::warn!(error = message, "job failed for the last time; it is dead");
            if let Some(kind) = kind {
                shared
                    .handler
                    .gave_up(&shared.registry, kind, message)
                    .await;
            }
        }
        Ok(Some(_)) => {
            shared
                .config
                .metrics
                .job_finished(kind.map_or("unknown", JobKind::as_str), "retry");
            tracing::info!(error = message, "job failed; it will be retried")
        }
        Ok(None) => tracing::warn!(error = message, "job failed after its lease was lost"),
        Err(e) => tracing::warn!(error = %e, job_error = message, "recording a failed job failed"),
    }
}

/// The text a panic carried, when it was a string.
fn panic_message(e: JoinError) -> String {
    let payload = e.into_panic();
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a non-text payload".to_string()
    }
}
