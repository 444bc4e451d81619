//! The durable job queue: background work (scans, garbage collection, lifecycle runs, ...) that
//! any node may run, stored in the `job_queue` table so it survives restarts and node failures.
//!
//! A job is enqueued `queued` (possibly inside another write transaction, as a push enqueues its
//! scan), claimed by a worker that moves it to `running` under a lease, and finished `done`; a
//! failed attempt goes to `failed` until its retry time, then is claimable again, and after
//! `max_attempts` attempts it is `dead` with its last error. A running job whose lease ran out
//! (its node died) is claimable again; if that was its last attempt it goes `dead` instead.
//!
//! Claims are one statement each. On PostgreSQL the candidate rows are locked with `FOR UPDATE
//! SKIP LOCKED`, so workers on many nodes claim different jobs without waiting for each other
//! and without any write lock (`locks.rs`; the queue is not cached data: no cache-epoch trigger
//! fires on it, and nothing here takes a write lock, so claims never queue behind pushes). On
//! SQLite the single writer connection makes `UPDATE … WHERE id IN (SELECT … LIMIT n)` atomic.
//!
//! Dedupe: a job may carry a key; while an unfinished (queued, running or failed) job holds the
//! key, enqueueing another with it is a no-op (a partial unique index arbitrates, so concurrent
//! enqueues on different nodes agree).

use crate::dialect::placeholders;
use crate::{now, MetaError, MetaStore, Result};
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

/// Attempts a job gets unless it asks for another number.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobState {
    /// Waiting for its `run_at`.
    Queued,
    /// Claimed by a worker, whose lease runs until `locked_until`.
    Running,
    /// Its last attempt failed; it runs again at `run_at`.
    Failed,
    /// Finished successfully.
    Done,
    /// Every attempt failed (or it cannot succeed); `last_error` says why.
    Dead,
}

impl JobState {
    /// Every state, in lifecycle order.
    pub const ALL: [JobState; 5] = [
        JobState::Queued,
        JobState::Running,
        JobState::Failed,
        JobState::Done,
        JobState::Dead,
    ];

    /// The state's name as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Failed => "failed",
            JobState::Done => "done",
            JobState::Dead => "dead",
        }
    }

    /// The state named `s` (as `as_str` spells it).
    pub fn parse(s: &str) -> Option<JobState> {
        JobState::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Whether the job will not run again.
    pub fn is_finished(self) -> bool {
        matches!(self, JobState::Done | JobState::Dead)
    }
}

impl std::fmt::Display for JobState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A job to enqueue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    /// What runs it (the runner dispatches on this name).
    pub kind: String,
    /// The handler's input, as JSON.
    pub payload: String,
    /// While an unfinished job has this key, enqueueing another with it does nothing.
    pub dedupe_key: Option<String>,
    /// Attempts before the job is dead (at least 1).
    pub max_attempts: u32,
    /// When it may first run (Unix seconds); `None` for now.
    pub run_at: Option<i64>,
}

impl NewJob {
    /// A job of `kind` with the JSON `payload`, due now, without a dedupe key.
    pub fn new(kind: impl Into<String>, payload: impl Into<String>) -> NewJob {
        NewJob {
            kind: kind.into(),
            payload: payload.into(),
            dedupe_key: None,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            run_at: None,
        }
    }

    /// The same job with a dedupe key.
    pub fn dedupe(mut self, key: impl Into<String>) -> NewJob {
        self.dedupe_key = Some(key.into());
        self
    }

    /// The same job with another number of attempts.
    pub fn max_attempts(mut self, attempts: u32) -> NewJob {
        self.max_attempts = attempts;
        self
    }

    /// The same job, due at `at` (Unix seconds).
    pub fn run_at(mut self, at: i64) -> NewJob {
        self.run_at = Some(at);
        self
    }
}

/// A stored job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRecord {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub dedupe_key: Option<String>,
    pub state: JobState,
    /// Attempts started so far (a claim starts one).
    pub attempts: i64,
    pub max_attempts: i64,
    /// When it is (or was) due.
    pub run_at: i64,
    /// The node holding the lease, while running.
    pub locked_by: Option<String>,
    /// When the lease runs out, while running.
    pub locked_until: Option<i64>,
    /// The error of the last failed attempt.
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub finished_at: Option<i64>,
}

/// Which jobs `list_jobs` returns: newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobFilter {
    pub state: Option<JobState>,
    pub kind: Option<String>,
    pub limit: i64,
}

impl Default for JobFilter {
    fn default() -> JobFilter {
        JobFilter {
            state: None,
            kind: None,
            limit: 100,
        }
    }
}

/// How many jobs of a kind are in a state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobCount {
    pub kind: String,
    pub state: JobState,
    pub count: i64,
}

/// The columns of a `JobRecord`, in `record`'s order.
const COLUMNS: &str = "id, kind, payload, dedupe_key, state, attempts, max_attempts, run_at, \
     locked_by, locked_until, last_error, created_at, updated_at, finished_at";

/// Which jobs a claim at `$1` may take: queued and failed jobs whose time has come, and running
/// jobs whose lease ran out (a running job's `run_at` is never after its claim). The first term
/// is the due index's predicate word for word, so SQLite uses the partial index.
const DUE: &str = "state IN ('queued', 'running', 'failed') AND run_at <= $1
     AND (state <> 'running' OR locked_until <= $1)";

fn record(row: &AnyRow) -> Result<JobRecord> {
    let state: String = row.try_get("state")?;
    Ok(JobRecord {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        payload: row.try_get("payload")?,
        dedupe_key: row.try_get("dedupe_key")?,
        state: JobState::parse(&state)
            .ok_or_else(|| MetaError::Corrupt(format!("job state {state:?}")))?,
        attempts: row.try_get("attempts")?,
        max_attempts: row.try_get("max_attempts")?,
        run_at: row.try_get("run_at")?,
        locked_by: row.try_get("locked_by")?,
        locked_until: row.try_get("locked_until")?,
        last_error: row.try_get("last_error")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        finished_at: row.try_get("finished_at")?,
    })
}

/// Inserts `job` through `executor` (a pool, or a transaction the job must commit with); returns
/// its id, or `None` when an unfinished job holds its dedupe key.
pub(crate) async fn insert<'e, E>(executor: E, job: &NewJob, at: i64) -> Result<Option<i64>>
where
    E: Executor<'e, Database = Any>,
{
    // Without a conflict target, DO NOTHING covers the partial unique index on both backends.
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO job_queue (kind, payload, dedupe_key, state, attempts, max_attempts, run_at,
             created_at, updated_at)
         VALUES ($1, $2, $3, 'queued', 0, $4, $5, $6, $6)
         ON CONFLICT DO NOTHING
         RETURNING id",
    )
    .bind(&job.kind)
    .bind(&job.payload)
    .bind(&job.dedupe_key)
    .bind(i64::from(job.max_attempts.max(1)))
    .bind(job.run_at.unwrap_or(at))
    .bind(at)
    .fetch_optional(executor)
    .await?;
    Ok(id)
}

impl MetaStore {
    /// Enqueues a job; returns its id, or `None` when an unfinished job holds its dedupe key.
    pub async fn enqueue(&self, job: &NewJob) -> Result<Option<i64>> {
        insert(&self.writer, job, now()).await
    }

    /// Claims up to `limit` due jobs (of `kinds`, when given) for `node`, leasing each for
    /// `lease_secs`: queued and failed jobs whose `run_at` has come, and running jobs whose
    /// lease ran out. Each claim starts an attempt. Jobs come in due order.
    pub async fn claim(
        &self,
        node: &str,
        kinds: Option<&[&str]>,
        lease_secs: i64,
        limit: i64,
    ) -> Result<Vec<JobRecord>> {
        self.claim_at(node, kinds, lease_secs, limit, now()).await
    }

    /// `claim` with an explicit clock (tests).
    pub async fn claim_at(
        &self,
        node: &str,
        kinds: Option<&[&str]>,
        lease_secs: i64,
        limit: i64,
        at: i64,
    ) -> Result<Vec<JobRecord>> {
        if limit <= 0 || kinds.is_some_and(|k| k.is_empty()) {
            return Ok(Vec::new());
        }
        let kinds = kinds.unwrap_or(&[]);
        // `AND kind IN ($first, …)`, or nothing when every kind may be claimed.
        let kind_filter = |first: usize| {
            if kinds.is_empty() {
                String::new()
            } else {
                format!(" AND kind IN ({})", placeholders(first, kinds.len()))
            }
        };
        let lock = self.skip_locked();

        // Workers poll: when nothing is due, a read on the read pool answers without queueing on
        // the writer (SQLite's single connection, shared with pushes).
        let sql = format!(
            "SELECT id FROM job_queue WHERE {DUE}{} LIMIT 1",
            kind_filter(2)
        );
        let mut q = sqlx::query_scalar::<_, i64>(&sql).bind(at);
        for k in kinds {
            q = q.bind(*k);
        }
        if q.fetch_optional(&self.reader).await?.is_none() {
            return Ok(Vec::new());
        }

        // A lease that ran out on the last attempt: the job dies rather than run once more (a job
        // that kills its node would otherwise take down one node after another).
        let sql = format!(
            "UPDATE job_queue SET state = 'dead', finished_at = $1, updated_at = $1,
                 last_error = 'the lease of ' || locked_by || ' ran out on the last attempt',
                 locked_by = NULL, locked_until = NULL
             WHERE id IN (SELECT id FROM job_queue
                 WHERE {DUE} AND state = 'running' AND attempts >= max_attempts{}{lock})",
            kind_filter(2)
        );
        let mut q = sqlx::query(&sql).bind(at);
        for k in kinds {
            q = q.bind(*k);
        }
        q.execute(&self.writer).await?;

        // $1..$3: the clock, the node and the lease's end; then the kinds and the limit.
        let sql = format!(
            "UPDATE job_queue SET state = 'running', attempts = attempts + 1, locked_by = $2,
                 locked_until = $3, updated_at = $1
             WHERE id IN (SELECT id FROM job_queue WHERE {DUE}{}
                 ORDER BY run_at, id LIMIT ${}{lock})
             RETURNING {COLUMNS}",
            kind_filter(4),
            4 + kinds.len()
        );
        let mut q = sqlx::query(&sql)
            .bind(at)
            .bind(node)
            .bind(at.saturating_add(lease_secs.max(1)));
        for k in kinds {
            q = q.bind(*k);
        }
        let rows = q.bind(limit).fetch_all(&self.writer).await?;
        let mut jobs = rows.iter().map(record).collect::<Result<Vec<_>>>()?;
        // RETURNING promises no order.
        jobs.sort_by_key(|j| (j.run_at, j.id));
        Ok(jobs)
    }

    /// Extends `node`'s lease on a running job to `lease_secs` from now; `false` when the node
    /// no longer holds it (it ran out and another node claimed the job).
    pub async fn renew_lease(&self, id: i64, node: &str, lease_secs: i64) -> Result<bool> {
        self.renew_lease_at(id, node, lease_secs, now()).await
    }

    /// `renew_lease` with an explicit clock (tests).
    pub async fn renew_lease_at(
        &self,
        id: i64,
        node: &str,
        lease_secs: i64,
        at: i64,
    ) -> Result<bool> {
        let changed = sqlx::query(
            "UPDATE job_queue SET locked_until = $1, updated_at = $2
             WHERE id = $3 AND locked_by = $4 AND state = 'running'",
        )
        .bind(at.saturating_add(lease_secs.max(1)))
        .bind(at)
        .bind(id)
        .bind(node)
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(changed > 0)
    }

    /// Marks `node`'s running job done; `false` when the node no longer holds it.
    pub async fn complete(&self, id: i64, node: &str) -> Result<bool> {
        let at = now();
        let changed = sqlx::query(
            "UPDATE job_queue SET state = 'done', finished_at = $1, updated_at = $1,
                 locked_by = NULL, locked_until = NULL
             WHERE id = $2 AND locked_by = $3 AND state = 'running'",
        )
        .bind(at)
        .bind(id)
        .bind(node)
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(changed > 0)
    }

    /// Gives a running job back without counting the attempt (its node is shutting down): it is
    /// queued again, due at once. `false` when the node no longer holds it.
    pub async fn release(&self, id: i64, node: &str) -> Result<bool> {
        let at = now();
        let changed = sqlx::query(
            "UPDATE job_queue SET state = 'queued', attempts = attempts - 1, run_at = $1,
                 updated_at = $1, locked_by = NULL, locked_until = NULL
             WHERE id = $2 AND locked_by = $3 AND state = 'running'",
        )
        .bind(at)
        .bind(id)
        .bind(node)
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(changed > 0)
    }

    /// Records a failed attempt of `node`'s running job: it runs again at `retry_at`, or is dead
    /// when that was its last attempt or `retry_at` is `None` (a failure retrying cannot fix).
    /// Returns the job's new state, `None` when the node no longer holds it.
    pub async fn fail(
        &self,
        id: i64,
        node: &str,
        error: &str,
        retry_at: Option<i64>,
    ) -> Result<Option<JobState>> {
        let at = now();
        // Without a retry time the job has spent its attempts.
        let dies = "(attempts >= max_attempts OR $1 IS NULL)";
        let sql = format!(
            "UPDATE job_queue SET
                 state = CASE WHEN {dies} THEN 'dead' ELSE 'failed' END,
                 run_at = CASE WHEN {dies} THEN run_at ELSE $1 END,
                 finished_at = CASE WHEN {dies} THEN $2 ELSE NULL END,
                 last_error = $3, locked_by = NULL, locked_until = NULL, updated_at = $2
             WHERE id = $4 AND locked_by = $5 AND state = 'running'
             RETURNING state"
        );
        let state: Option<String> = sqlx::query_scalar(&sql)
            .bind(retry_at)
            .bind(at)
            .bind(error)
            .bind(id)
            .bind(node)
            .fetch_optional(&self.writer)
            .await?;
        state
            .map(|s| JobState::parse(&s).ok_or_else(|| MetaError::Corrupt(format!("state {s:?}"))))
            .transpose()
    }

    /// One job by id.
    pub async fn job(&self, id: i64) -> Result<Option<JobRecord>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM job_queue WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.reader)
            .await?;
        row.as_ref().map(record).transpose()
    }

    /// Jobs matching `filter`, newest first.
    pub async fn list_jobs(&self, filter: &JobFilter) -> Result<Vec<JobRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM job_queue
             WHERE ($1 IS NULL OR state = $1) AND ($2 IS NULL OR kind = $2)
             ORDER BY id DESC LIMIT $3"
        ))
        .bind(filter.state.map(JobState::as_str))
        .bind(filter.kind.as_deref())
        .bind(filter.limit.max(0))
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(record).collect()
    }

    /// How many jobs of each kind are in each state (pairs without jobs are left out), by kind
    /// then state.
    pub async fn job_counts(&self) -> Result<Vec<JobCount>> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT kind, state, COUNT(*) FROM job_queue GROUP BY kind, state ORDER BY kind, state",
        )
        .fetch_all(&self.reader)
        .await?;
        let mut counts = rows
            .into_iter()
            .map(|(kind, state, count)| {
                let state = JobState::parse(&state)
                    .ok_or_else(|| MetaError::Corrupt(format!("job state {state:?}")))?;
                Ok(JobCount { kind, state, count })
            })
            .collect::<Result<Vec<_>>>()?;
        counts.sort_by_key(|c| (c.kind.clone(), c.state as u8));
        Ok(counts)
    }

    /// Deletes finished jobs in `state` (done or dead) that finished before `before`; returns how
    /// many went. Unfinished jobs are never pruned.
    pub async fn prune_jobs(&self, state: JobState, before: i64) -> Result<u64> {
        if !state.is_finished() {
            return Ok(0);
        }
        Ok(
            sqlx::query("DELETE FROM job_queue WHERE state = $1 AND finished_at < $2")
                .bind(state.as_str())
                .bind(before)
                .execute(&self.writer)
                .await?
                .rows_affected(),
        )
    }

    /// The row-locking clause of a claim's candidate query: PostgreSQL skips rows another claim
    /// holds; SQLite's single writer needs none.
    fn skip_locked(&self) -> &'static str {
        match self.dialect {
            crate::Dialect::Sqlite => "",
            crate::Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }
}
