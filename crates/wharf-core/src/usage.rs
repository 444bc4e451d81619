//! Storage usage and its monthly cost: what ECR would bill for the images (logical bytes) against
//! what Wharf actually stores once layers are deduplicated (physical bytes).
//!
//! Definitions:
//!
//! - **Logical bytes** of a repository = the sum of `imageSizeInBytes` over all its images, which
//!   is what ECR bills on. ECR lists an image index *and* each of its child manifests as images,
//!   and reports an index's `imageSizeInBytes` as its largest child's (reference
//!   `ecr-api.md` §2.2, DescribeImages; §11 states no billing rule), so the sum counts an index's
//!   largest child twice. That is kept on purpose: it is what summing `DescribeImages` gives.
//!   `imageSizeInBytes` is the layers' compressed sizes plus the config blob's (the AWS CLI
//!   reference's DescribeImages example: 48318255 = layers 48315478 + config 2777).
//! - **Physical bytes** of a repository = the distinct blobs (config and layers) its manifests
//!   reference, plus the manifests' own bytes. Per account, blobs are deduplicated across its
//!   repositories; server-wide, across accounts. Manifest bytes are stored per repository and are
//!   never deduplicated.
//! - **Cost** = GB × price per GB-month, with GB = 2^30 bytes (AWS's storage billing counts a GB
//!   as 2^30 bytes). ECR's free tier (500 MB-month, `free_gb_month = 0.5`) is granted once per
//!   account, so an account's cost is `max(0, GB − free) × price`, a repository's is the gross
//!   `GB × price`, and the server total is the sum of the accounts' costs.
//!
//! The estimate prices today's bytes as if they stayed stored for the whole month.

use crate::{AccountId, CoreError, Registry};
use wharf_meta::UsageFigures;

/// Bytes in one billed GB (a binary gigabyte, 2^30).
pub const BYTES_PER_GB: u64 = 1 << 30;

/// Storage price settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pricing {
    /// US dollars per GB-month.
    pub price_per_gb_month: f64,
    /// GB-months free per account each month.
    pub free_gb_month: f64,
}

impl Default for Pricing {
    /// ECR's published private-repository rate: $0.10 per GB-month, 500 MB-month free.
    fn default() -> Self {
        Pricing {
            price_per_gb_month: 0.10,
            free_gb_month: 0.5,
        }
    }
}

impl Pricing {
    /// `bytes` in GB (2^30 bytes each).
    pub fn gb(bytes: u64) -> f64 {
        bytes as f64 / BYTES_PER_GB as f64
    }

    /// The monthly cost of `bytes` before the free allowance.
    pub fn gross_cost(&self, bytes: u64) -> f64 {
        Self::gb(bytes) * self.price_per_gb_month
    }

    /// The monthly cost of `bytes` for one account: the free allowance first, then the price.
    pub fn account_cost(&self, bytes: u64) -> f64 {
        (Self::gb(bytes) - self.free_gb_month).max(0.0) * self.price_per_gb_month
    }
}

/// Monthly costs of one scope.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Costs {
    /// What ECR would charge: the logical bytes priced.
    pub logical_usd: f64,
    /// The physical bytes priced the same way.
    pub physical_usd: f64,
}

impl Costs {
    /// What deduplication saves (negative when manifests and configs outweigh the sharing).
    pub fn saved_usd(&self) -> f64 {
        self.logical_usd - self.physical_usd
    }
}

/// Byte counts plus their monthly costs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Usage {
    pub figures: UsageFigures,
    pub costs: Costs,
}

impl Usage {
    pub fn logical_bytes(&self) -> u64 {
        self.figures.logical_bytes
    }

    pub fn physical_bytes(&self) -> u64 {
        self.figures.physical_bytes()
    }

    /// Logical minus physical bytes: what deduplication saves (may be negative).
    pub fn saved_bytes(&self) -> i128 {
        i128::from(self.logical_bytes()) - i128::from(self.physical_bytes())
    }
}

/// One repository's line of the report (costs gross: the free tier is per account).
#[derive(Debug, Clone, PartialEq)]
pub struct RepositoryLine {
    pub account: String,
    pub name: String,
    pub usage: Usage,
}

/// One account's line of the report (costs after the free tier).
#[derive(Debug, Clone, PartialEq)]
pub struct AccountLine {
    pub account: String,
    pub repositories: u64,
    pub usage: Usage,
}

/// The server-wide line: blobs deduplicated across accounts; costs summed over accounts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TotalLine {
    pub usage: Usage,
    /// Stored blobs no manifest references (garbage collection may reclaim them).
    pub unreferenced_blobs: u64,
    pub unreferenced_blob_bytes: u64,
}

/// Which part of the server to report on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsageFilter {
    /// Only this account's repositories and account line; no server total.
    pub account: Option<AccountId>,
    /// Only repositories with this name (in every account unless `account` is set); no account
    /// lines and no server total, whose figures would cover more than the repositories shown.
    pub repository: Option<String>,
}

/// A usage report.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageReport {
    pub pricing: Pricing,
    pub repositories: Vec<RepositoryLine>,
    pub accounts: Vec<AccountLine>,
    /// Present only for an unfiltered report.
    pub total: Option<TotalLine>,
}

impl Registry {
    /// Storage usage and its cost at `pricing`, for the scope `filter` selects.
    pub async fn usage(
        &self,
        filter: &UsageFilter,
        pricing: Pricing,
    ) -> Result<UsageReport, CoreError> {
        let account = filter.account.as_ref().map(AccountId::as_str);
        let repositories = self
            .meta
            .repository_usage(account, filter.repository.as_deref())
            .await?
            .into_iter()
            .map(|r| RepositoryLine {
                account: r.account,
                name: r.name,
                usage: Usage {
                    figures: r.figures,
                    costs: Costs {
                        logical_usd: pricing.gross_cost(r.figures.logical_bytes),
                        physical_usd: pricing.gross_cost(r.figures.physical_bytes()),
                    },
                },
            })
            .collect();
        let accounts: Vec<AccountLine> = if filter.repository.is_some() {
            Vec::new()
        } else {
            self.meta
                .account_usage(account)
                .await?
                .into_iter()
                .map(|a| AccountLine {
                    account: a.account,
                    repositories: a.repositories,
                    usage: Usage {
                        figures: a.figures,
                        costs: Costs {
                            logical_usd: pricing.account_cost(a.figures.logical_bytes),
                            physical_usd: pricing.account_cost(a.figures.physical_bytes()),
                        },
                    },
                })
                .collect()
        };
        let total = if filter.account.is_none() && filter.repository.is_none() {
            let server = self.meta.server_usage().await?;
            let costs = accounts.iter().fold(Costs::default(), |sum, a| Costs {
                logical_usd: sum.logical_usd + a.usage.costs.logical_usd,
                physical_usd: sum.physical_usd + a.usage.costs.physical_usd,
            });
            Some(TotalLine {
                usage: Usage {
                    figures: server.figures,
                    costs,
                },
                unreferenced_blobs: server.unreferenced_blobs,
                unreferenced_blob_bytes: server.unreferenced_blob_bytes,
            })
        } else {
            None
        };
        Ok(UsageReport {
            pricing,
            repositories,
            accounts,
            total,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    #[test]
    fn free_tier_boundary() {
        let p = Pricing::default();
        // Exactly the free 0.5 GB (512 MiB) costs nothing; one byte less too.
        assert_eq!(p.account_cost(512 * MIB), 0.0);
        assert_eq!(p.account_cost(512 * MIB - 1), 0.0);
        assert_eq!(p.account_cost(0), 0.0);
        // One byte over is billed for that byte alone.
        let one_byte = p.account_cost(512 * MIB + 1);
        assert!(one_byte > 0.0 && (one_byte - 0.10 / BYTES_PER_GB as f64).abs() < 1e-18);
        // 1.5 GB: 1 GB billed at $0.10.
        assert!((p.account_cost(1536 * MIB) - 0.10).abs() < 1e-12);
        // Gross cost ignores the allowance: 1 GB is $0.10.
        assert!((p.gross_cost(BYTES_PER_GB) - 0.10).abs() < 1e-12);
    }

    #[test]
    fn custom_price() {
        let p = Pricing {
            price_per_gb_month: 0.25,
            free_gb_month: 0.0,
        };
        assert!((p.account_cost(4 * BYTES_PER_GB) - 1.0).abs() < 1e-12);
        let c = Costs {
            logical_usd: 1.0,
            physical_usd: 0.25,
        };
        assert!((c.saved_usd() - 0.75).abs() < 1e-12);
    }
}
