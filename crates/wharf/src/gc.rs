//! `wharf gc`: one garbage-collection pass over the data directory (safe while a server runs on
//! it), with the options the server's periodic pass (a `wharf-jobs` job) uses too.

use crate::config::Settings;
use std::time::Duration;
use wharf_core::{GcOptions, GcReport};

/// How `wharf gc` prints its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Table,
    Json,
}

/// The pass the settings describe.
pub fn options(settings: &Settings, dry_run: bool) -> GcOptions {
    GcOptions {
        grace: Duration::from_secs(settings.gc_grace_secs),
        upload_max_age: Duration::from_secs(settings.upload_max_age_secs),
        dry_run,
    }
}

/// Runs one pass and prints what it freed (or would free).
pub async fn run(settings: Settings, dry_run: bool, format: ReportFormat) -> anyhow::Result<()> {
    let registry = crate::open::open_registry(&settings).await?;
    let report = registry.collect_garbage(options(&settings, dry_run)).await;
    registry.close().await;
    let report = report?;
    if !report.ran {
        anyhow::bail!("another garbage-collection pass is running; try again later");
    }
    println!("{}", render(&report, dry_run, format));
    Ok(())
}

fn render(r: &GcReport, dry_run: bool, format: ReportFormat) -> String {
    match format {
        ReportFormat::Json => serde_json::json!({
            "dryRun": dry_run,
            "blobs": {"count": r.blobs, "bytes": r.blob_bytes},
            "uploads": {"count": r.uploads, "bytes": r.upload_bytes},
            "orphans": {"count": r.orphans, "bytes": r.orphan_bytes},
            "revived": r.revived,
            "total": {
                "count": r.blobs + r.uploads + r.orphans,
                "bytes": r.blob_bytes + r.upload_bytes + r.orphan_bytes,
            },
        })
        .to_string(),
        ReportFormat::Table => {
            let verb = if dry_run { "would free" } else { "freed" };
            format!(
                "{:<10} {:>10} {:>16}\n{:<10} {:>10} {:>16}\n{:<10} {:>10} {:>16}\n{:<10} {:>10} {:>16}\n{:<10} {:>10} {:>16}",
                verb,
                "count",
                "bytes",
                "blobs",
                r.blobs,
                r.blob_bytes,
                "uploads",
                r.uploads,
                r.upload_bytes,
                "orphans",
                r.orphans,
                r.orphan_bytes,
                "total",
                r.blobs + r.uploads + r.orphans,
                r.blob_bytes + r.upload_bytes + r.orphan_bytes,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_table_and_json() {
        let r = GcReport {
            blobs: 2,
            blob_bytes: 300,
            uploads: 1,
            upload_bytes: 5,
            orphans: 0,
            orphan_bytes: 0,
            revived: 1,
            ran: true,
        };
        let table = render(&r, true, ReportFormat::Table);
        assert!(table.starts_with("would free"), "{table}");
        assert!(table
            .lines()
            .any(|l| l.split_whitespace().eq(["total", "3", "305"])));
        let v: serde_json::Value =
            serde_json::from_str(&render(&r, false, ReportFormat::Json)).unwrap();
        assert_eq!(v["blobs"]["bytes"], 300);
        assert_eq!(v["total"]["count"], 3);
        assert_eq!(v["dryRun"], false);
    }
}
