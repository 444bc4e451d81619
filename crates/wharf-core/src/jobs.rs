//! Background jobs across nodes, two mechanisms:
//! - interval claims (`claim_job`): each node asks the metadata store to claim a named job before
//!   running it, so a job runs once per interval however many nodes share the database;
//! - the durable queue (`enqueue_job`, `claim_jobs`, `complete_job`, `fail_job`): typed jobs
//!   (`JobKind`) that survive restarts, are leased to one worker at a time, and are retried with
//!   exponential backoff (`Backoff`) until they succeed or run out of attempts. The runner that
//!   drives it lives in the `wharf-jobs` crate.

use crate::job_kind::{JobDecodeError, JobKind};
use crate::{CoreError, Registry};
use std::time::Duration;
use wharf_meta::{JobFilter, JobRecord, JobState, NewJob};

/// How long a failed attempt waits before the next: `base * 2^(attempt - 1)`, at most `max`;
/// with `jitter`, a random point in the upper half of that delay, so jobs that failed together
/// (a registry-wide outage) do not all retry in the same second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
    pub jitter: bool,
}

impl Default for Backoff {
    /// 30 s, 1 min, 2 min, … up to an hour, jittered.
    fn default() -> Backoff {
        Backoff {
            base: Duration::from_secs(30),
            max: Duration::from_secs(3600),
            jitter: true,
        }
    }
}

impl Backoff {
    /// The wait after failed attempt number `attempt` (the first attempt is 1).
    pub fn delay(&self, attempt: u32) -> Duration {
        let exponent = attempt.saturating_sub(1).min(32);
        let full = self
            .base
            .checked_mul(1u32 << exponent.min(31))
            .unwrap_or(self.max)
            .min(self.max);
        if !self.jitter || full.is_zero() {
            return full;
        }
        let mut bytes = [0u8; 8];
        if getrandom::fill(&mut bytes).is_err() {
            return full;
        }
        // Uniform in [full / 2, full].
        let half = full / 2;
        let spread = (full - half).as_millis() as u64;
        let extra = u64::from_le_bytes(bytes) % spread.saturating_add(1);
        half + Duration::from_millis(extra)
    }
}

/// A job this node claimed from the queue and holds the lease of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedJob {
    pub record: JobRecord,
}

impl ClaimedJob {
    pub fn id(&self) -> i64 {
        self.record.id
    }

    /// Which attempt this is (the first is 1).
    pub fn attempt(&self) -> u32 {
        u32::try_from(self.record.attempts).unwrap_or(u32::MAX)
    }

    /// The job's kind and payload; an error for a payload this build cannot read.
    pub fn kind(&self) -> Result<JobKind, JobDecodeError> {
        JobKind::decode(&self.record.kind, &self.record.payload)
    }
}

impl Registry {
    /// Whether this node should run the interval job `name` now (see `MetaStore::claim_job`).
    pub async fn claim_job(&self, name: &str, interval_secs: u64) -> Result<bool, CoreError> {
        let interval = i64::try_from(interval_secs).unwrap_or(i64::MAX);
        Ok(self.meta.claim_job(name, &self.node, interval).await?)
    }

    /// This process's name in job claims and leases.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Enqueues a job (built with `JobKind::new_job`, then given a dedupe key, a due time or
    /// attempts as needed). Returns its id, or `None` when an unfinished job holds its dedupe key.
    pub async fn enqueue_job(&self, job: &NewJob) -> Result<Option<i64>, CoreError> {
        Ok(self.meta.enqueue(job).await?)
    }

    /// Claims up to `limit` due jobs of the kinds this build knows for this node, leased for
    /// `lease`. Kinds a newer node added stay in the queue for nodes that know them.
    pub async fn claim_jobs(
        &self,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<ClaimedJob>, CoreError> {
        self.claim_jobs_of(JobKind::NAMES, lease, limit).await
    }

    /// `claim_jobs` for only the kinds named (e.g. a worker pool of its own for scans).
    pub async fn claim_jobs_of(
        &self,
        kinds: &[&str],
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<ClaimedJob>, CoreError> {
        let lease = i64::try_from(lease.as_secs()).unwrap_or(i64::MAX);
        let records = self
            .meta
            .claim(&self.node, Some(kinds), lease, i64::from(limit))
            .await?;
        Ok(records
            .into_iter()
            .map(|record| ClaimedJob { record })
            .collect())
    }

    /// Extends this node's lease on a job it runs; `false` when the lease was lost (it ran out
    /// and another node claimed the job: this node should stop working on it).
    pub async fn renew_job_lease(
        &self,
        job: &ClaimedJob,
        lease: Duration,
    ) -> Result<bool, CoreError> {
        let lease = i64::try_from(lease.as_secs()).unwrap_or(i64::MAX);
        Ok(self.meta.renew_lease(job.id(), &self.node, lease).await?)
    }

    /// Gives a job back without spending its attempt (this node is shutting down before it
    /// finished); `false` when this node no longer held it.
    pub async fn release_job(&self, job: &ClaimedJob) -> Result<bool, CoreError> {
        Ok(self.meta.release(job.id(), &self.node).await?)
    }

    /// Records that the job succeeded; `false` when this node no longer held it.
    pub async fn complete_job(&self, job: &ClaimedJob) -> Result<bool, CoreError> {
        Ok(self.meta.complete(job.id(), &self.node).await?)
    }

    /// Records a failed attempt: the job is retried after `backoff`'s delay for this attempt, or
    /// is dead when it has no attempts left or `retry` is false (a failure retrying cannot fix,
    /// such as a payload this build cannot read). Returns the job's new state, `None` when this
    /// node no longer held it.
    pub async fn fail_job(
        &self,
        job: &ClaimedJob,
        error: &str,
        backoff: &Backoff,
        retry: bool,
    ) -> Result<Option<JobState>, CoreError> {
        let retry_at = retry.then(|| {
            let delay = i64::try_from(backoff.delay(job.attempt()).as_secs()).unwrap_or(i64::MAX);
            crate::unix_now().saturating_add(delay)
        });
        Ok(self
            .meta
            .fail(job.id(), &self.node, error, retry_at)
            .await?)
    }

    /// The jobs `filter` selects, newest first.
    pub async fn list_jobs(&self, filter: &JobFilter) -> Result<Vec<JobRecord>, CoreError> {
        Ok(self.meta.list_jobs(filter).await?)
    }

    /// Deletes finished jobs in `state` that finished before `before` (Unix seconds); how many
    /// went. Jobs not finished are never pruned.
    pub async fn prune_jobs(&self, state: JobState, before: i64) -> Result<u64, CoreError> {
        Ok(self.meta.prune_jobs(state, before).await?)
    }
}

impl crate::Records {
    /// The jobs `filter` selects, newest first.
    pub async fn list_jobs(&self, filter: &JobFilter) -> Result<Vec<JobRecord>, CoreError> {
        Ok(self.meta.list_jobs(filter).await?)
    }
}

/// A name for this process that differs between nodes and between restarts of one node.
pub(crate) fn node_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".into());
    let mut bytes = [0u8; 4];
    let _ = getrandom::fill(&mut bytes);
    format!(
        "{host}/{}/{:08x}",
        std::process::id(),
        u32::from_le_bytes(bytes)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let b = Backoff {
            base: Duration::from_secs(10),
            max: Duration::from_secs(100),
            jitter: false,
        };
        let check = |attempt: u32, secs: u64| {
            assert_eq!(
                b.delay(attempt),
                Duration::from_secs(secs),
                "attempt {attempt}"
            )
        };
        check(0, 10);
        check(1, 10);
        check(2, 20);
        check(3, 40);
        check(4, 80);
        check(5, 100);
        check(40, 100);
        check(u32::MAX, 100);
    }

    #[test]
    fn jitter_stays_in_the_upper_half() {
        let b = Backoff {
            base: Duration::from_secs(8),
            max: Duration::from_secs(3600),
            jitter: true,
        };
        for attempt in 1..=6 {
            let full = Duration::from_secs(8 << (attempt - 1));
            for _ in 0..50 {
                let d = b.delay(attempt);
                assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d:?}");
            }
        }
        let zero = Backoff {
            base: Duration::ZERO,
            ..b
        };
        assert_eq!(zero.delay(3), Duration::ZERO);
    }
}
