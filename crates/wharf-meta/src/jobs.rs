//! Interval jobs claimed across nodes: every node runs the same timers, and a job runs only on
//! the node whose claim moves its `last_started_at` forward first, so it runs once per interval
//! across the cluster. The claim is one conditional upsert, atomic on both backends.

use crate::{now, MetaStore, Result};

impl MetaStore {
    /// Claims the job `name` for `node` unless some node started it less than `interval_secs`
    /// ago. Returns whether this caller should run it now.
    pub async fn claim_job(&self, name: &str, node: &str, interval_secs: i64) -> Result<bool> {
        self.claim_job_at(name, node, interval_secs, now()).await
    }

    /// `claim_job` with an explicit clock (tests).
    pub async fn claim_job_at(
        &self,
        name: &str,
        node: &str,
        interval_secs: i64,
        at: i64,
    ) -> Result<bool> {
        // A second of slack for intervals of 10 s and more: timers on different nodes drift, and
        // a tick that lands a little early must not skip a whole interval. (Shorter intervals get
        // none: a second would be a large share of them.)
        let interval = interval_secs.max(1);
        let slack = i64::from(interval >= 10);
        let due = at - interval + slack;
        let claimed: Option<String> = sqlx::query_scalar(
            "INSERT INTO jobs (name, last_started_at, node) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET last_started_at = excluded.last_started_at,
                 node = excluded.node
             WHERE jobs.last_started_at <= $4
             RETURNING name",
        )
        .bind(name)
        .bind(at)
        .bind(node)
        .bind(due)
        .fetch_optional(&self.writer)
        .await?;
        Ok(claimed.is_some())
    }

    /// When the job last started and on which node.
    pub async fn job_last_run(&self, name: &str) -> Result<Option<(i64, String)>> {
        Ok(
            sqlx::query_as("SELECT last_started_at, node FROM jobs WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.reader)
                .await?,
        )
    }
}
