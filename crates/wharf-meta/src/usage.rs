//! Storage usage: per repository, per account and server-wide, the logical bytes ECR would report
//! (the sum of `imageSizeInBytes`) beside the physical, deduplicated bytes Wharf actually keeps.
//!
//! Definitions (the CLI and `wharf-core::usage` document the same ones):
//!
//! - **logical** = the sum of `manifests.image_size` over every manifest row, which is exactly the
//!   sum of `imageSizeInBytes` over `DescribeImages` (ECR lists an index *and* each child as an
//!   image, and reports an index as its largest child, so a child's layers count twice there).
//! - **blob bytes** = the sizes of the *distinct* blobs (config and layers) the manifests in scope
//!   reference through `manifest_blobs`: deduplicated within a repository, across an account's
//!   repositories, or across the whole server.
//! - **manifest bytes** = the sizes of the manifest rows in scope. Manifests are stored once per
//!   repository (their bytes live in the row), so they are not deduplicated.
//! - **physical** = blob bytes + manifest bytes.
//!
//! Every figure is one aggregate query; nothing is read from the blob store.

use crate::{MetaStore, Result};

/// Byte counts for one scope (a repository, an account or the server).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UsageFigures {
    /// Manifests (ECR images, index and children each counted once).
    pub images: u64,
    /// Sum of `imageSizeInBytes` over `images`.
    pub logical_bytes: u64,
    /// Distinct referenced blobs.
    pub blobs: u64,
    /// Total size of the distinct referenced blobs.
    pub blob_bytes: u64,
    /// Total size of the manifests' own bytes.
    pub manifest_bytes: u64,
}

impl UsageFigures {
    /// The bytes actually stored for the scope: distinct blobs plus manifest bytes.
    pub fn physical_bytes(&self) -> u64 {
        self.blob_bytes + self.manifest_bytes
    }
}

/// One repository's usage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositoryUsage {
    pub account: String,
    pub name: String,
    pub figures: UsageFigures,
}

/// One account's usage: blobs deduplicated across its repositories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountUsage {
    pub account: String,
    pub repositories: u64,
    pub figures: UsageFigures,
}

/// The whole server: blobs deduplicated across accounts, plus blobs nothing references.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServerUsage {
    pub figures: UsageFigures,
    /// Blobs recorded in the store that no manifest references (uploaded or left behind by a
    /// deleted image); garbage collection may reclaim them.
    pub unreferenced_blobs: u64,
    pub unreferenced_blob_bytes: u64,
}

type Row = (i64, i64, i64, i64, i64);

fn figures((images, logical, blobs, blob_bytes, manifest_bytes): Row) -> UsageFigures {
    // Counts and sizes are never negative in the store; clamp rather than wrap if one were.
    let u = |v: i64| u64::try_from(v).unwrap_or(0);
    UsageFigures {
        images: u(images),
        logical_bytes: u(logical),
        blobs: u(blobs),
        blob_bytes: u(blob_bytes),
        manifest_bytes: u(manifest_bytes),
    }
}

impl MetaStore {
    /// Usage of every repository, optionally only in `account` and/or named `name`, ordered by
    /// account then name. Repositories without images appear with zero figures.
    pub async fn repository_usage(
        &self,
        account: Option<&str>,
        name: Option<&str>,
    ) -> Result<Vec<RepositoryUsage>> {
        let rows: Vec<(String, String, i64, i64, i64, i64, i64)> = sqlx::query_as(
            "WITH ms AS (SELECT repository_id, count(*) AS n, CAST(sum(image_size) AS BIGINT) AS logical,
                                CAST(sum(size) AS BIGINT) AS bytes
                         FROM manifests GROUP BY repository_id),
                  rb AS (SELECT DISTINCT repository_id, blob_digest FROM manifest_blobs),
                  bs AS (SELECT rb.repository_id, count(*) AS n, CAST(sum(b.size) AS BIGINT) AS bytes
                         FROM rb JOIN blobs b ON b.digest = rb.blob_digest
                         GROUP BY rb.repository_id)
             SELECT r.account_id, r.name, coalesce(ms.n, 0), coalesce(ms.logical, 0),
                    coalesce(bs.n, 0), coalesce(bs.bytes, 0), coalesce(ms.bytes, 0)
             FROM repositories r
             LEFT JOIN ms ON ms.repository_id = r.id
             LEFT JOIN bs ON bs.repository_id = r.id
             WHERE ($1 IS NULL OR r.account_id = $1) AND ($2 IS NULL OR r.name = $2)
             ORDER BY r.account_id, r.name",
        )
        .bind(account)
        .bind(name)
        .fetch_all(&self.reader)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(account, name, a, b, c, d, e)| RepositoryUsage {
                account,
                name,
                figures: figures((a, b, c, d, e)),
            })
            .collect())
    }

    /// Usage of every account (or only `account`), ordered by id. A blob shared by two of an
    /// account's repositories counts once.
    pub async fn account_usage(&self, account: Option<&str>) -> Result<Vec<AccountUsage>> {
        let rows: Vec<(String, i64, i64, i64, i64, i64, i64)> = sqlx::query_as(
            "WITH rs AS (SELECT account_id, count(*) AS n FROM repositories GROUP BY account_id),
                  ms AS (SELECT r.account_id, count(*) AS n, CAST(sum(m.image_size) AS BIGINT) AS logical,
                                CAST(sum(m.size) AS BIGINT) AS bytes
                         FROM manifests m JOIN repositories r ON r.id = m.repository_id
                         GROUP BY r.account_id),
                  ab AS (SELECT DISTINCT r.account_id, mb.blob_digest
                         FROM manifest_blobs mb JOIN repositories r ON r.id = mb.repository_id),
                  bs AS (SELECT ab.account_id, count(*) AS n, CAST(sum(b.size) AS BIGINT) AS bytes
                         FROM ab JOIN blobs b ON b.digest = ab.blob_digest
                         GROUP BY ab.account_id)
             SELECT a.id, coalesce(rs.n, 0), coalesce(ms.n, 0), coalesce(ms.logical, 0),
                    coalesce(bs.n, 0), coalesce(bs.bytes, 0), coalesce(ms.bytes, 0)
             FROM accounts a
             LEFT JOIN rs ON rs.account_id = a.id
             LEFT JOIN ms ON ms.account_id = a.id
             LEFT JOIN bs ON bs.account_id = a.id
             WHERE $1 IS NULL OR a.id = $1
             ORDER BY a.id",
        )
        .bind(account)
        .fetch_all(&self.reader)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(account, repositories, a, b, c, d, e)| AccountUsage {
                account,
                repositories: u64::try_from(repositories).unwrap_or(0),
                figures: figures((a, b, c, d, e)),
            })
            .collect())
    }

    /// Server-wide usage: every referenced blob once, whichever accounts reference it.
    pub async fn server_usage(&self) -> Result<ServerUsage> {
        let (a, b, c, d, e, f, g): (i64, i64, i64, i64, i64, i64, i64) = sqlx::query_as(
            "WITH referenced AS (SELECT DISTINCT blob_digest AS digest FROM manifest_blobs)
             SELECT (SELECT count(*) FROM manifests),
                    (SELECT CAST(coalesce(sum(image_size), 0) AS BIGINT) FROM manifests),
                    (SELECT count(*) FROM blobs WHERE digest IN (SELECT digest FROM referenced)),
                    (SELECT CAST(coalesce(sum(size), 0) AS BIGINT) FROM blobs
                     WHERE digest IN (SELECT digest FROM referenced)),
                    (SELECT CAST(coalesce(sum(size), 0) AS BIGINT) FROM manifests),
                    (SELECT count(*) FROM blobs WHERE digest NOT IN (SELECT digest FROM referenced)),
                    (SELECT CAST(coalesce(sum(size), 0) AS BIGINT) FROM blobs
                     WHERE digest NOT IN (SELECT digest FROM referenced))",
        )
        .fetch_one(&self.reader)
        .await?;
        Ok(ServerUsage {
            figures: figures((a, b, c, d, e)),
            unreferenced_blobs: u64::try_from(f).unwrap_or(0),
            unreferenced_blob_bytes: u64::try_from(g).unwrap_or(0),
        })
    }
}
