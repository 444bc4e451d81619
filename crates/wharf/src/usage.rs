//! `wharf usage`: storage usage per repository, per account and server-wide, with the monthly cost
//! ECR would charge for the logical bytes beside the cost of the deduplicated bytes Wharf stores.
//!
//! The definitions live in `wharf_core::usage`. In short: logical = the sum of
//! `imageSizeInBytes` over every image (an index and each child count, as `DescribeImages` lists
//! them); physical = distinct referenced blobs plus manifest bytes; GB = 2^30 bytes; the free
//! allowance is applied once per account, so repository costs are gross.
//!
//! The JSON output is a contract for scripts: keys are never renamed or removed, byte counts are
//! integers, costs are US dollars rounded to micro-dollars, and `total` is `null` (and `accounts`
//! empty under `--repository`) when a filter makes a server-wide figure misleading.

use crate::config::Settings;
use anyhow::anyhow;
use serde::Serialize;
use wharf_core::usage::{
    Pricing, RepositoryLine, TotalLine, Usage, UsageFilter, UsageReport, BYTES_PER_GB,
};
use wharf_core::AccountId;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// An aligned table for people.
    Table,
    /// One JSON document for scripts.
    Json,
}

/// The arguments of `wharf usage`.
#[derive(Debug, clap::Args)]
pub struct UsageArgs {
    /// Only this account (12 digits): its repositories and its account line, no server total.
    #[arg(long)]
    pub account: Option<String>,
    /// Only repositories with this name (in every account unless --account); no account lines.
    #[arg(long)]
    pub repository: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

pub async fn run(settings: Settings, args: UsageArgs) -> anyhow::Result<()> {
    let account = args
        .account
        .as_deref()
        .map(|a| {
            a.parse::<AccountId>()
                .map_err(|e| anyhow!("--account {a:?}: {e}"))
        })
        .transpose()?;
    let registry = crate::open::open_registry(&settings).await?;
    let filter = UsageFilter {
        account,
        repository: args.repository,
    };
    let report = registry.usage(&filter, settings.pricing).await;
    registry.close().await;
    let report = report?;
    let out = match args.format {
        Format::Table => table(&report),
        Format::Json => json(&report),
    };
    print!("{out}");
    Ok(())
}

// ---- JSON ----

#[derive(Serialize)]
struct JsonReport<'a> {
    pricing: JsonPricing,
    repositories: Vec<JsonRepository<'a>>,
    accounts: Vec<JsonAccount<'a>>,
    total: Option<JsonTotal>,
}

#[derive(Serialize)]
struct JsonPricing {
    price_per_gb_month: f64,
    free_gb_month: f64,
    bytes_per_gb: u64,
}

#[derive(Serialize)]
struct JsonFigures {
    images: u64,
    logical_bytes: u64,
    physical_bytes: u64,
    blob_bytes: u64,
    manifest_bytes: u64,
    blobs: u64,
    saved_bytes: i64,
    logical_cost_usd: f64,
    physical_cost_usd: f64,
    saved_cost_usd: f64,
}

#[derive(Serialize)]
struct JsonRepository<'a> {
    account: &'a str,
    repository: &'a str,
    #[serde(flatten)]
    figures: JsonFigures,
}

#[derive(Serialize)]
struct JsonAccount<'a> {
    account: &'a str,
    repositories: u64,
    #[serde(flatten)]
    figures: JsonFigures,
}

#[derive(Serialize)]
struct JsonTotal {
    #[serde(flatten)]
    figures: JsonFigures,
    unreferenced_blobs: u64,
    unreferenced_blob_bytes: u64,
}

/// Dollars rounded to micro-dollars, so the JSON does not carry float noise.
fn usd(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

fn json_figures(u: &Usage) -> JsonFigures {
    JsonFigures {
        images: u.figures.images,
        logical_bytes: u.logical_bytes(),
        physical_bytes: u.physical_bytes(),
        blob_bytes: u.figures.blob_bytes,
        manifest_bytes: u.figures.manifest_bytes,
        blobs: u.figures.blobs,
        saved_bytes: i64::try_from(u.saved_bytes()).unwrap_or(i64::MAX),
        logical_cost_usd: usd(u.costs.logical_usd),
        physical_cost_usd: usd(u.costs.physical_usd),
        saved_cost_usd: usd(u.costs.saved_usd()),
    }
}

/// The report as one pretty-printed JSON document, newline-terminated.
pub fn json(report: &UsageReport) -> String {
    let doc = JsonReport {
        pricing: JsonPricing {
            price_per_gb_month: report.pricing.price_per_gb_month,
            free_gb_month: report.pricing.free_gb_month,
            bytes_per_gb: BYTES_PER_GB,
        },
        repositories: report
            .repositories
            .iter()
            .map(|r: &RepositoryLine| JsonRepository {
                account: &r.account,
                repository: &r.name,
                figures: json_figures(&r.usage),
            })
            .collect(),
        accounts: report
            .accounts
            .iter()
            .map(|a| JsonAccount {
                account: &a.account,
                repositories: a.repositories,
                figures: json_figures(&a.usage),
            })
            .collect(),
        total: report.total.as_ref().map(|t: &TotalLine| JsonTotal {
            figures: json_figures(&t.usage),
            unreferenced_blobs: t.unreferenced_blobs,
            unreferenced_blob_bytes: t.unreferenced_blob_bytes,
        }),
    };
    let mut s = serde_json::to_string_pretty(&doc).expect("usage report serializes");
    s.push('\n');
    s
}

// ---- Table ----

/// Bytes in binary units, matching the 2^30-byte GB the costs use.
fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64;
    let mut unit = "B";
    for u in UNITS {
        if v < 1024.0 {
            break;
        }
        v /= 1024.0;
        unit = u;
    }
    format!("{v:.2} {unit}")
}

fn human_signed(bytes: i128) -> String {
    let magnitude = human_bytes(u64::try_from(bytes.unsigned_abs()).unwrap_or(u64::MAX));
    if bytes < 0 {
        format!("-{magnitude}")
    } else {
        magnitude
    }
}

fn dollars(v: f64) -> String {
    // Round first so a tiny negative saving does not print as "-$0.00".
    let cents = (v * 100.0).round() / 100.0;
    if cents < 0.0 {
        format!("-${:.2}", -cents)
    } else {
        format!("${:.2}", cents.abs())
    }
}

/// A price per GB: at least cents, more digits only when the price has them ($0.10, $0.025).
fn price(v: f64) -> String {
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0');
    let decimals = s.split_once('.').map_or(0, |(_, d)| d.len());
    format!("${s}{}", "0".repeat(2usize.saturating_sub(decimals)))
}

fn row(kind: &str, name: String, u: &Usage) -> Vec<String> {
    vec![
        kind.to_owned(),
        name,
        u.figures.images.to_string(),
        human_bytes(u.logical_bytes()),
        human_bytes(u.physical_bytes()),
        human_signed(u.saved_bytes()),
        dollars(u.costs.logical_usd),
        dollars(u.costs.physical_usd),
        dollars(u.costs.saved_usd()),
    ]
}

/// The report as an aligned table (text left-aligned, numbers right-aligned) with a legend.
pub fn table(report: &UsageReport) -> String {
    let header = [
        "SCOPE",
        "NAME",
        "IMAGES",
        "LOGICAL",
        "PHYSICAL",
        "SAVED",
        "ECR $/MONTH",
        "STORED $/MONTH",
        "SAVED $/MONTH",
    ];
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
    for r in &report.repositories {
        rows.push(row(
            "repository",
            format!("{}/{}", r.account, r.name),
            &r.usage,
        ));
    }
    for a in &report.accounts {
        rows.push(row("account", a.account.clone(), &a.usage));
    }
    if let Some(t) = &report.total {
        rows.push(row("total", "(server)".to_owned(), &t.usage));
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in &rows {
        let cells: Vec<String> = r
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (cell, w))| {
                if c < 2 {
                    format!("{cell:<w$}")
                } else {
                    format!("{cell:>w$}")
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    let Pricing {
        price_per_gb_month,
        free_gb_month,
    } = report.pricing;
    out.push('\n');
    out.push_str(&format!(
        "Logical = sum of imageSizeInBytes over all images (what ECR bills); physical = distinct \
         blobs + manifest bytes.\nPriced at {} per GB-month (1 GB = 2^30 \
         bytes), {free_gb_month} GB-month free per account; repository costs are before the \
         free allowance.\n",
        price(price_per_gb_month)
    ));
    if let Some(t) = &report.total {
        if t.unreferenced_blobs > 0 {
            out.push_str(&format!(
                "{} unreferenced blob(s), {}, are stored but not counted; garbage collection \
                 may reclaim them.\n",
                t.unreferenced_blobs,
                human_bytes(t.unreferenced_blob_bytes)
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use wharf_core::model::UsageFigures;
    use wharf_core::usage::{AccountLine, Costs};

    fn usage(logical: u64, blob_bytes: u64, manifest_bytes: u64, pricing: Pricing) -> Usage {
        Usage {
            figures: UsageFigures {
                images: 2,
                logical_bytes: logical,
                blobs: 3,
                blob_bytes,
                manifest_bytes,
            },
            costs: Costs {
                logical_usd: pricing.account_cost(logical),
                physical_usd: pricing.account_cost(blob_bytes + manifest_bytes),
            },
        }
    }

    /// 3 GiB logical, 1 GiB of blobs + 1 MiB of manifests: ECR bills (3 − 0.5) × $0.10 = $0.25;
    /// the physical bytes cost (1 GiB + 1 MiB − 0.5 GiB) × $0.10 ≈ $0.0501; saved ≈ $0.1999.
    fn report() -> UsageReport {
        let pricing = Pricing::default();
        let u = usage(3 * BYTES_PER_GB, BYTES_PER_GB, 1 << 20, pricing);
        UsageReport {
            pricing,
            repositories: vec![RepositoryLine {
                account: "123456789012".into(),
                name: "team/app".into(),
                usage: u,
            }],
            accounts: vec![AccountLine {
                account: "123456789012".into(),
                repositories: 1,
                usage: u,
            }],
            total: Some(TotalLine {
                usage: u,
                unreferenced_blobs: 1,
                unreferenced_blob_bytes: 512,
            }),
        }
    }

    #[test]
    fn table_is_aligned() {
        let out = table(&report());
        let lines: Vec<&str> = out.lines().take_while(|l| !l.is_empty()).collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with("SCOPE"));
        // Right-aligned numeric columns: every row ends at the same column.
        let len = lines[0].len();
        assert!(lines.iter().all(|l| l.len() == len), "{out}");
        assert!(lines[1].contains("123456789012/team/app"));
        assert!(lines[1].contains("3.00 GiB") && lines[1].contains("1.00 GiB"));
        assert!(lines[1].contains("$0.25") && lines[1].contains("$0.05"));
        assert!(lines[3].starts_with("total"));
        assert!(out.contains("1 unreferenced blob(s), 512 B"));
    }

    #[test]
    fn json_is_stable() {
        let v: serde_json::Value = serde_json::from_str(&json(&report())).unwrap();
        assert_eq!(v["pricing"]["bytes_per_gb"], 1u64 << 30);
        let r = &v["repositories"][0];
        assert_eq!(r["account"], "123456789012");
        assert_eq!(r["repository"], "team/app");
        assert_eq!(r["logical_bytes"], 3u64 << 30);
        assert_eq!(r["physical_bytes"], (1u64 << 30) + (1 << 20));
        assert_eq!(r["saved_bytes"], (2i64 << 30) - (1 << 20));
        assert_eq!(r["logical_cost_usd"], 0.25);
        // (1 GiB + 1 MiB) / 1 GiB = 1.0009765625 GB; minus 0.5 free, × $0.10 = $0.05009765625.
        assert_eq!(r["physical_cost_usd"], 0.050098);
        assert_eq!(r["saved_cost_usd"], 0.199902);
        assert_eq!(v["accounts"][0]["repositories"], 1);
        assert_eq!(v["total"]["unreferenced_blob_bytes"], 512);
        let mut filtered = report();
        filtered.total = None;
        let v: serde_json::Value = serde_json::from_str(&json(&filtered)).unwrap();
        assert!(v["total"].is_null());
    }

    #[test]
    fn byte_and_dollar_formats() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.50 KiB");
        assert_eq!(human_signed(-2048), "-2.00 KiB");
        assert_eq!(dollars(0.004), "$0.00");
        assert_eq!(dollars(-0.001), "$0.00");
        assert_eq!(dollars(-1.5), "-$1.50");
        assert_eq!(price(0.1), "$0.10");
        assert_eq!(price(0.025), "$0.025");
        assert_eq!(price(2.0), "$2.00");
    }
}
