//! The background job runner of a node: worker tasks that claim jobs from the durable queue
//! (the metadata store's `job_queue`, typed by `wharf_core::JobKind`) and run them, and a scheduler that
//! enqueues the periodic ones (garbage collection, lifecycle, upload purge).
//!
//! Workers (`worker.rs`). Each of `RunnerConfig::workers` tasks claims one due job at a time under
//! a lease, runs its handler in a task of its own, renews the lease every third of its length
//! while the handler runs, and records the outcome: done; failed and retried after an
//! exponential backoff (`wharf_core::Backoff`); or dead once its attempts are spent (or at once,
//! for a failure retrying cannot fix, such as a payload this build cannot read). A handler that
//! panics fails its attempt like an error; the worker goes on. A node that dies leaves its jobs
//! leased; once the lease runs out another node claims them again. A lost lease (renewal refused:
//! another node took the job over) aborts the local attempt.
//!
//! Scheduler (`scheduler.rs`): once per interval across the cluster. Every node ticks each
//! periodic job on its own timer and, on a tick, asks the metadata store's interval claim
//! (`Registry::claim_job`, a conditional upsert on the `jobs` table) whether it is the node that
//! moves the job's last start forward; only that node enqueues the job. A dedupe key per
//! periodic kind (`periodic:gc`, ...) then keeps a slow job from piling up behind itself: while
//! one is still queued, running or waiting to retry, the next interval's enqueue is a no-op. We
//! keep the interval claim rather than a dedupe key per interval because dedupe keys only guard
//! unfinished jobs: a node whose tick came after the interval's job finished would enqueue it a
//! second time. The claim names are the ones the server used before the queue existed (`gc`,
//! `lifecycle`, `upload-purge`), so old and new nodes share one schedule during a rolling
//! upgrade. A node that dies between its claim and its enqueue skips that one interval.
//! The scheduler also prunes finished jobs once an hour across the cluster and, on every node,
//! forgets idle upload hash states (per-node memory, not a queue job).
//!
//! Shutdown (`RunnerHandle::shutdown`): workers stop claiming, jobs in flight get a grace period
//! to finish, and those still running after it are aborted and given back to the queue without
//! spending an attempt (`Registry::release_job`), so another node picks them up at once.

mod backfill;
mod error;
mod handlers;
mod replicate;
mod scheduler;
mod sign;
mod webhook;
mod worker;

pub use error::JobError;
pub use handlers::{JobHandler, StandardHandler};

use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;
use wharf_core::{Backoff, JobKind, Registry};

/// A job enqueued on an interval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Periodic {
    pub kind: JobKind,
    /// How often it runs across the cluster.
    pub every: Duration,
    /// When this node first ticks after start (0: at once).
    pub first_after: Duration,
}

/// Per-node sweep of upload hash states (uploads finished on other nodes or abandoned).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashStateSweep {
    pub every: Duration,
    /// States idle this long are forgotten.
    pub max_age: Duration,
}

/// How a node runs jobs.
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// Worker tasks, each running one job at a time (0: this node runs no jobs, but still
    /// schedules them).
    pub workers: usize,
    /// The kinds this node's workers claim.
    pub kinds: Vec<&'static str>,
    /// How long a claim holds a job without renewal (renewed every third of it).
    pub lease: Duration,
    /// How long an idle worker waits before looking for due jobs again.
    pub poll: Duration,
    /// The wait between failed attempts.
    pub backoff: Backoff,
    /// The periodic jobs to enqueue.
    pub periodic: Vec<Periodic>,
    /// Attempts a periodic job gets.
    pub periodic_attempts: u32,
    pub hash_state_sweep: Option<HashStateSweep>,
    /// How long finished jobs stay listed: done ones, and dead ones (kept longer, for diagnosis).
    pub keep_done: Duration,
    pub keep_dead: Duration,
    /// Where attempts' outcomes are counted (`wharf_job_attempts_total`).
    pub metrics: wharf_metrics::Metrics,
}

impl Default for RunnerConfig {
    fn default() -> RunnerConfig {
        RunnerConfig {
            workers: 2,
            kinds: JobKind::NAMES.to_vec(),
            lease: Duration::from_secs(60),
            poll: Duration::from_secs(1),
            backoff: Backoff::default(),
            periodic: Vec::new(),
            periodic_attempts: 3,
            hash_state_sweep: None,
            keep_done: Duration::from_secs(7 * 24 * 3600),
            keep_dead: Duration::from_secs(30 * 24 * 3600),
            metrics: wharf_metrics::Metrics::default(),
        }
    }
}

/// Where the runner stands; workers watch it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Running,
    /// Claim nothing more; let jobs in flight finish.
    Stopping,
    /// Abort jobs in flight and give them back.
    Abort,
}

/// What every task of the runner shares.
pub(crate) struct Shared {
    pub registry: Registry,
    pub handler: Arc<dyn JobHandler>,
    pub config: RunnerConfig,
    /// Wakes idle workers when this node enqueued something.
    pub wake: Notify,
}

/// A running runner; `shutdown` stops it.
pub struct RunnerHandle {
    shared: Arc<Shared>,
    phase: watch::Sender<Phase>,
    workers: JoinSet<()>,
    schedulers: JoinSet<()>,
}

/// Starts the workers and the scheduler on the current Tokio runtime.
pub fn start(
    registry: Registry,
    handler: Arc<dyn JobHandler>,
    config: RunnerConfig,
) -> RunnerHandle {
    let (phase, _) = watch::channel(Phase::Running);
    let shared = Arc::new(Shared {
        registry,
        handler,
        config,
        wake: Notify::new(),
    });
    let mut workers = JoinSet::new();
    for index in 0..shared.config.workers {
        workers.spawn(worker::run(shared.clone(), index, phase.subscribe()));
    }
    let mut schedulers = JoinSet::new();
    for periodic in shared.config.periodic.clone() {
        schedulers.spawn(scheduler::periodic(
            shared.clone(),
            periodic,
            phase.subscribe(),
        ));
    }
    schedulers.spawn(scheduler::prune(shared.clone(), phase.subscribe()));
    if let Some(sweep) = shared.config.hash_state_sweep {
        schedulers.spawn(scheduler::hash_states(
            shared.clone(),
            sweep,
            phase.subscribe(),
        ));
    }
    tracing::info!(
        node = shared.registry.node(),
        workers = shared.config.workers,
        periodic = shared.config.periodic.len(),
        "job runner started"
    );
    RunnerHandle {
        shared,
        phase,
        workers,
        schedulers,
    }
}

impl RunnerHandle {
    /// Wakes idle workers to look for due jobs now (after this node enqueued one).
    pub fn wake(&self) {
        self.shared.wake.notify_waiters();
    }

    /// Stops claiming and scheduling, waits up to `grace` for jobs in flight, then aborts the
    /// rest and gives them back to the queue.
    pub async fn shutdown(mut self, grace: Duration) {
        let _ = self.phase.send(Phase::Stopping);
        self.schedulers.abort_all();
        while self.schedulers.join_next().await.is_some() {}
        let finished = tokio::time::timeout(grace, async {
            while self.workers.join_next().await.is_some() {}
        })
        .await;
        if finished.is_err() {
            tracing::warn!(
                seconds = grace.as_secs(),
                "jobs still running after the grace period; giving them back to the queue"
            );
            let _ = self.phase.send(Phase::Abort);
            while self.workers.join_next().await.is_some() {}
        }
        tracing::info!("job runner stopped");
    }
}
