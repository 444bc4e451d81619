//! `wharf migrate-storage`: moves an installation from one pair of stores (blob store, metadata
//! store) to another — typically an embedded one (filesystem + SQLite) to S3 + PostgreSQL. The
//! migration itself (its order, the blob pass, the metadata copy, the verification) is
//! `wharf_core::migrate`; this is its command line: the two configurations, the master keyring
//! (`migrate_keyring`), progress lines on stderr and the report on stdout.
//!
//! The source is the usual configuration (`--config`, `WHARF_*`, `--data-dir`); the target is
//! read from `--to-config` alone, so no environment variable meant for the source leaks into it.
//! Stop the server first: the metadata is copied from one snapshot, and writes made after it are
//! not migrated. Before any byte moves the target metadata store must be empty and the target
//! must hold the source's master keyring — a missing target key file is written from it, one
//! with other keys is refused. `--dry-run` reports what would be copied and writes nothing.

use crate::config::{RawConfig, Settings};
use crate::migrate_keyring::KeyringStep;
use crate::open::stores;
use anyhow::{bail, Context};
use std::path::PathBuf;
use wharf_core::migrate::{MigrateError, Progress, Source};

/// The arguments of `wharf migrate-storage`.
#[derive(Debug, clap::Args)]
pub struct MigrateStorageArgs {
    /// Config file naming the target stores ([blob_store], [metadata], data_dir), in the same
    /// format as --config. Read alone: WHARF_* variables and flags do not apply to it.
    #[arg(long, value_name = "NEW.toml")]
    pub to_config: PathBuf,
    /// Report what would be copied (blobs, bytes, rows) without writing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Blobs copied at a time.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
}

pub async fn run(source: Settings, args: MigrateStorageArgs) -> anyhow::Result<()> {
    let target = RawConfig::from_file(&args.to_config)
        .and_then(Settings::try_from)
        .with_context(|| format!("target configuration {}", args.to_config.display()))?;
    let (from, to) = (stores(&source), stores(&target));
    if from.same_metadata(&to) {
        bail!(
            "the source and the target name the same metadata store ({}); --to-config must name new stores",
            to.describe_metadata()
        );
    }
    if let Some(db) = from.metadata_file().filter(|db| !db.exists()) {
        bail!(
            "no metadata database at {}: point --data-dir (or --config) at the installation to migrate",
            db.display()
        );
    }
    eprintln!("migrate-storage: from {}", from.describe());
    eprintln!("migrate-storage: to {}", to.describe());
    let migration = Source::open(&from).await?;
    let result = async {
        let keyring =
            crate::migrate_keyring::plan(&source, &target, &migration.recorded_master_keys().await?)
                .context("the master keyring")?;
        let concurrency = args.concurrency.into();
        if args.dry_run {
            let plan = migration.plan(&to, concurrency, &progress).await?;
            println!("dry run: nothing was written");
            println!(
                "blobs: would copy {} ({}), {} already in the target ({}), {} in all",
                plan.blobs.copied,
                bytes(plan.blobs.copied_bytes),
                plan.blobs.skipped,
                bytes(plan.blobs.skipped_bytes),
                plan.blobs.seen
            );
            println!("metadata rows that would be copied:");
            print_table(&plan.tables, None);
            println!("uploads in progress are not migrated");
            println!(
                "the target metadata store was not opened; the migration refuses one that is not empty"
            );
            plan.blobs
                .fail_on_missing("a migration would copy no metadata")?;
            if let KeyringStep::Copy { to, .. } = &keyring {
                println!("master keyring: would be copied to {}", to.display());
            }
            return Ok(());
        }
        // Before any metadata lands: a target whose rows point at wrapped keys it cannot unwrap
        // would not start.
        let before_data = || keyring.apply().map_err(Into::into);
        let done = migration
            .migrate(&to, concurrency, before_data, &progress)
            .await?;
        if let Err(MigrateError::CountsDiffer { ours, theirs }) = &done.verified {
            print_table(ours, Some(theirs));
        }
        println!(
            "blobs: copied {} ({}), {} already in the target ({}), {} in all",
            done.blobs.copied,
            bytes(done.blobs.copied_bytes),
            done.blobs.skipped,
            bytes(done.blobs.skipped_bytes),
            done.blobs.seen
        );
        println!("metadata rows copied ({} in all):", done.total_rows());
        print_table(&done.tables, None);
        let account = done.verified?;
        println!("{}", keyring.describe());
        println!(
            "verified: every table has as many rows in the target as in the source; default account {account}"
        );
        println!("uploads in progress were not migrated; start wharf with the new configuration");
        anyhow::Ok(())
    }
    .await;
    migration.close().await;
    result
}

/// Progress lines on stderr.
fn progress(p: Progress<'_>) {
    match p {
        Progress::Blobs {
            stats,
            total,
            planning,
        } => {
            let (verb, copied) = if planning {
                ("checked", "to copy")
            } else {
                ("done", "copied")
            };
            eprintln!(
                "migrate-storage: blobs {verb} {}/{total}: {copied} {} ({}), already in the target {}, missing {}",
                stats.seen,
                stats.copied,
                bytes(stats.copied_bytes),
                stats.skipped,
                stats.missing_count
            );
        }
        Progress::CopyingMetadata => {
            eprintln!("migrate-storage: copying metadata in one transaction")
        }
        Progress::LateBlobs(n) => eprintln!(
            "migrate-storage: warning: {n} blobs were recorded in the source after the blob pass (is a server still running on it?)"
        ),
    }
}

/// Prints `table rows` lines; with `other`, a second column for comparison.
fn print_table(rows: &[(String, i64)], other: Option<&[(String, i64)]>) {
    for (i, (table, n)) in rows.iter().enumerate() {
        match other.and_then(|o| o.get(i)) {
            Some((_, m)) => println!("  {table:<20} {n:>10} {m:>10}"),
            None => println!("  {table:<20} {n:>10}"),
        }
    }
}

/// `1234567 bytes (1.2 MiB)`.
fn bytes(n: u64) -> String {
    format!("{n} bytes ({:.1} MiB)", n as f64 / (1024.0 * 1024.0))
}
