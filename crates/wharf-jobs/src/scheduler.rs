//! The scheduler's tasks: periodic jobs enqueued once per interval across the cluster (see the
//! crate documentation for how), the hourly pruning of finished jobs, and this node's sweep of
//! idle upload hash states.

use crate::{HashStateSweep, Periodic, Phase, Shared};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::{interval_at, Instant, MissedTickBehavior};
use wharf_core::model::JobState;
use wharf_core::{unix_now, JobKind};

/// How often finished jobs are pruned, across the cluster.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// The interval-claim name of a periodic job: the names the server's timers used before the
/// queue (`gc`, `lifecycle`, `upload-purge`), so mixed-version nodes share one schedule.
pub(crate) fn claim_name(kind: &JobKind) -> String {
    kind.as_str().replace('_', "-")
}

/// A timer ticking first after `first`, then every `every` (at least a second), that waits out
/// ticks it missed rather than bursting.
fn ticker(first: Duration, every: Duration) -> tokio::time::Interval {
    let every = every.max(Duration::from_secs(1));
    let mut tick = interval_at(Instant::now() + first, every);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    tick
}

/// Waits for the next tick; `false` once the runner stops.
async fn next(tick: &mut tokio::time::Interval, phase: &mut watch::Receiver<Phase>) -> bool {
    tokio::select! {
        _ = tick.tick() => *phase.borrow() == Phase::Running,
        _ = phase.changed() => false,
    }
}

/// Enqueues `periodic.kind` on each tick this node wins the interval claim of.
pub(crate) async fn periodic(
    shared: Arc<Shared>,
    periodic: Periodic,
    mut phase: watch::Receiver<Phase>,
) {
    let name = claim_name(&periodic.kind);
    let interval = periodic.every.as_secs().max(1);
    let mut tick = ticker(periodic.first_after, periodic.every);
    while next(&mut tick, &mut phase).await {
        match shared.registry.claim_job(&name, interval).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::debug!(job = %name, "job was scheduled by another node this interval");
                continue;
            }
            Err(e) => {
                tracing::warn!(job = %name, error = %e, "claiming a periodic job failed");
                continue;
            }
        }
        let job = periodic
            .kind
            .new_job()
            .dedupe(format!("periodic:{}", periodic.kind.as_str()))
            .max_attempts(shared.config.periodic_attempts);
        match shared.registry.enqueue_job(&job).await {
            Ok(Some(id)) => {
                tracing::debug!(job = %name, id, "periodic job enqueued");
                shared.wake.notify_waiters();
            }
            Ok(None) => tracing::info!(
                job = %name,
                "periodic job not enqueued: the previous one has not finished"
            ),
            Err(e) => tracing::warn!(job = %name, error = %e, "enqueueing a periodic job failed"),
        }
    }
}

/// Deletes done and dead jobs past their keeping time, once an hour across the cluster.
pub(crate) async fn prune(shared: Arc<Shared>, mut phase: watch::Receiver<Phase>) {
    let mut tick = ticker(Duration::from_secs(60), PRUNE_EVERY);
    while next(&mut tick, &mut phase).await {
        match shared
            .registry
            .claim_job("job-queue-prune", PRUNE_EVERY.as_secs())
            .await
        {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "claiming the job-queue pruning failed");
                continue;
            }
        }
        let now = unix_now();
        let age = |d: Duration| now.saturating_sub(i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        for (state, keep) in [
            (JobState::Done, shared.config.keep_done),
            (JobState::Dead, shared.config.keep_dead),
        ] {
            match shared.registry.prune_jobs(state, age(keep)).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(pruned = n, %state, "pruned finished jobs"),
                Err(e) => tracing::warn!(error = %e, %state, "pruning finished jobs failed"),
            }
        }
    }
}

/// Forgets this node's idle upload hash states (uploads another node finished or a client
/// abandoned); every node runs it, for its own memory.
pub(crate) async fn hash_states(
    shared: Arc<Shared>,
    sweep: HashStateSweep,
    mut phase: watch::Receiver<Phase>,
) {
    let mut tick = ticker(Duration::ZERO, sweep.every);
    while next(&mut tick, &mut phase).await {
        let forgotten = shared.registry.forget_idle_hash_states(sweep.max_age);
        if forgotten > 0 {
            tracing::debug!(forgotten, "forgot idle upload hash states");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_names_match_the_old_timers() {
        assert_eq!(claim_name(&JobKind::Gc), "gc");
        assert_eq!(claim_name(&JobKind::Lifecycle), "lifecycle");
        assert_eq!(claim_name(&JobKind::UploadPurge), "upload-purge");
        assert_eq!(claim_name(&JobKind::AuditPrune { days: 90 }), "audit-prune");
    }
}
