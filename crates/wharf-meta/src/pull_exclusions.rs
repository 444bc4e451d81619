//! Pull time update exclusions per registry (account): the principals whose pulls leave an
//! image's `lastRecordedPullTime` unchanged (ECR's Register/Deregister/ListPullTimeUpdateExclusions).
//! Nothing caches them, so their writes never move the cache epoch; a recorded pull reads them.

use crate::{now, MetaStore, Result};

/// One excluded principal and when it was registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullExclusion {
    pub principal_arn: String,
    pub created_at: i64,
}

impl MetaStore {
    /// Excludes a principal; `None` when it already was, else the new exclusion.
    pub async fn register_pull_exclusion(
        &self,
        account: &str,
        principal_arn: &str,
    ) -> Result<Option<PullExclusion>> {
        let t = now();
        let inserted = sqlx::query(
            "INSERT INTO pull_time_update_exclusions (account_id, principal_arn, created_at)
             VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(account)
        .bind(principal_arn)
        .bind(t)
        .execute(&self.writer)
        .await?
        .rows_affected()
            > 0;
        Ok(inserted.then(|| PullExclusion {
            principal_arn: principal_arn.to_owned(),
            created_at: t,
        }))
    }

    /// Removes an exclusion; whether there was one.
    pub async fn deregister_pull_exclusion(
        &self,
        account: &str,
        principal_arn: &str,
    ) -> Result<bool> {
        Ok(sqlx::query(
            "DELETE FROM pull_time_update_exclusions WHERE account_id = $1 AND principal_arn = $2",
        )
        .bind(account)
        .bind(principal_arn)
        .execute(&self.writer)
        .await?
        .rows_affected()
            > 0)
    }

    /// Up to `limit` exclusions of the account in ARN order, after `after`.
    pub async fn pull_exclusions(
        &self,
        account: &str,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<PullExclusion>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT principal_arn, created_at FROM pull_time_update_exclusions
             WHERE account_id = $1 AND principal_arn > $2 ORDER BY principal_arn LIMIT $3",
        )
        .bind(account)
        .bind(after.unwrap_or(""))
        .bind(limit)
        .fetch_all(&self.reader)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(principal_arn, created_at)| PullExclusion {
                principal_arn,
                created_at,
            })
            .collect())
    }

    /// Whether the principal's pulls from the account's registry go unrecorded.
    pub async fn pull_excluded(&self, account: &str, principal_arn: &str) -> Result<bool> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM pull_time_update_exclusions WHERE account_id = $1 AND principal_arn = $2",
        )
        .bind(account)
        .bind(principal_arn)
        .fetch_optional(&self.reader)
        .await?;
        Ok(found.is_some())
    }
}
