//! `wharf migrate-storage`: moves an installation from one pair of stores (blob store, metadata
//! store) to another — typically an embedded one (filesystem + SQLite) to S3 + PostgreSQL.
//!
//! The source is the usual configuration (`--config`, `WHARF_*`, `--data-dir`); the target is
//! read from `--to-config` alone, so no environment variable meant for the source leaks into it.
//! Stop the server first: the metadata is copied from one snapshot, and writes made after it are
//! not migrated.
//!
//! The order keeps Wharf's invariant that no metadata row points at bytes that are not durable:
//! 1. check the target metadata store is empty (before any byte moves), and that the target
//!    holds the source's master keyring — a missing target key file is written from it
//!    (`migrate_keyring`), one with other keys is refused;
//! 2. copy every recorded blob's bytes into the target blob store, a few at a time, hashing
//!    while they stream and comparing with the digest before committing them (`commit_upload`
//!    does not verify); blobs the target already has are skipped. Blobs are content-addressed,
//!    so a run that stops midway leaves only harmless extra bytes, and running it again skips
//!    what is there;
//! 3. copy the metadata in one target transaction (`MetaStore::copy_into`): all or nothing;
//! 4. copy the bytes of any blob row the copy brought that step 2 did not see (the source was
//!    written to meanwhile), then verify: every migrated table has as many rows in the target as
//!    in the source, and the target's default account is the source's.
//!
//! Uploads in progress are not migrated; clients restart them against the new installation.
//! `--dry-run` reports what would be copied and writes nothing (the target is not opened,
//! except to look at which blobs its store already holds).

use crate::config::{RawConfig, Settings};
use crate::metadata::MetadataSettings;
use crate::storage::BlobStoreSettings;
use anyhow::{bail, Context};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::task::JoinSet;
use wharf_blob::{BlobStore, Ingest};
use wharf_meta::MetaStore;
use wharf_oci::Digest;

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

/// Blobs listed per metadata query.
const PAGE: i64 = 500;
/// A progress line every this many blobs.
const PROGRESS_EVERY: u64 = 100;
/// Missing blobs named in the error.
const MISSING_SHOWN: usize = 10;

pub async fn run(source: Settings, args: MigrateStorageArgs) -> anyhow::Result<()> {
    let target = RawConfig::from_file(&args.to_config)
        .and_then(Settings::try_from)
        .with_context(|| format!("target configuration {}", args.to_config.display()))?;
    if same_metadata(&source, &target) {
        bail!(
            "the source and the target name the same metadata store ({}); --to-config must name new stores",
            describe_metadata(&target)
        );
    }
    if source.metadata == MetadataSettings::Embedded
        && !source.data_dir.join("metadata.db").exists()
    {
        bail!(
            "no metadata database at {}: point --data-dir (or --config) at the installation to migrate",
            source.data_dir.join("metadata.db").display()
        );
    }
    eprintln!("migrate-storage: from {}", describe(&source));
    eprintln!("migrate-storage: to {}", describe(&target));
    let from_blobs = crate::storage::open(&source.blob_store, &source.data_dir)?;
    let from_meta = crate::metadata::open(&source.metadata, &source.data_dir).await?;
    let result = async {
        let keyring =
            crate::migrate_keyring::plan(&source, &target, &from_meta.master_keys().await?)
                .context("the master keyring")?;
        if args.dry_run {
            plan(&from_meta, from_blobs, &target, args.concurrency.into()).await?;
            if let crate::migrate_keyring::KeyringStep::Copy { to, .. } = &keyring {
                println!("master keyring: would be copied to {}", to.display());
            }
            Ok(())
        } else {
            migrate(
                &from_meta,
                from_blobs,
                &target,
                &keyring,
                args.concurrency.into(),
            )
            .await
        }
    }
    .await;
    from_meta.close().await;
    result
}

/// Where an installation's stores are, for people (secrets redacted).
fn describe(s: &Settings) -> String {
    let blobs = match &s.blob_store {
        BlobStoreSettings::Filesystem => {
            format!("blobs in {}", s.data_dir.join("blobs-store").display())
        }
        BlobStoreSettings::S3(c) => format!(
            "blobs in S3 bucket {} at {} under prefix {:?}",
            c.bucket,
            c.endpoint.as_deref().unwrap_or("AWS"),
            c.prefix
        ),
    };
    format!("{blobs}, metadata in {}", describe_metadata(s))
}

fn describe_metadata(s: &Settings) -> String {
    match &s.metadata {
        MetadataSettings::Embedded => {
            format!("SQLite {}", s.data_dir.join("metadata.db").display())
        }
        // Debug redacts the password.
        pg => format!("{pg:?}"),
    }
}

/// Whether both settings name one metadata database.
fn same_metadata(a: &Settings, b: &Settings) -> bool {
    match (&a.metadata, &b.metadata) {
        (MetadataSettings::Embedded, MetadataSettings::Embedded) => {
            same_dir(&a.data_dir, &b.data_dir)
        }
        (MetadataSettings::Postgres(x), MetadataSettings::Postgres(y)) => x == y,
        _ => false,
    }
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// `--dry-run`: what a migration would copy. Opens nothing of the target but its blob store (and
/// a filesystem one only if its directory exists), to tell which blobs it already holds.
async fn plan(
    from_meta: &MetaStore,
    from_blobs: Arc<dyn BlobStore>,
    target: &Settings,
    concurrency: usize,
) -> anyhow::Result<()> {
    let to_blobs = match &target.blob_store {
        BlobStoreSettings::Filesystem if !target.data_dir.join("blobs-store").is_dir() => None,
        settings => Some(crate::storage::open(settings, &target.data_dir)?),
    };
    let counts = from_meta.table_counts().await?;
    let stats = copy_blobs(
        from_meta,
        from_blobs,
        to_blobs,
        concurrency,
        BlobMode::Plan,
        None,
        blob_rows(&counts),
    )
    .await?;
    println!("dry run: nothing was written");
    println!(
        "blobs: would copy {} ({}), {} already in the target ({}), {} in all",
        stats.copied,
        bytes(stats.copied_bytes),
        stats.skipped,
        bytes(stats.skipped_bytes),
        stats.seen
    );
    println!("metadata rows that would be copied:");
    print_table(&counts, None);
    println!("uploads in progress are not migrated");
    println!(
        "the target metadata store was not opened; the migration refuses one that is not empty"
    );
    stats.fail_on_missing("a migration would copy no metadata")
}

/// The migration proper.
async fn migrate(
    from_meta: &MetaStore,
    from_blobs: Arc<dyn BlobStore>,
    target: &Settings,
    keyring: &crate::migrate_keyring::KeyringStep,
    concurrency: usize,
) -> anyhow::Result<()> {
    let local = target.metadata == MetadataSettings::Embedded
        || matches!(target.blob_store, BlobStoreSettings::Filesystem);
    if local {
        std::fs::create_dir_all(&target.data_dir).with_context(|| {
            format!(
                "creating target data directory {}",
                target.data_dir.display()
            )
        })?;
    }
    let to_blobs = crate::storage::open(&target.blob_store, &target.data_dir)?;
    to_blobs
        .stat(&Digest::sha256(b""))
        .await
        .context("reaching the target blob store")?;
    let to_meta = crate::metadata::open(&target.metadata, &target.data_dir).await?;
    let result = async {
        // Refuse before moving any byte; copy_into checks again inside its transaction.
        to_meta
            .ensure_empty()
            .await
            .with_context(|| format!("target {}", describe_metadata(target)))?;
        // Before any metadata lands: a target whose rows point at wrapped keys it cannot
        // unwrap would not start.
        keyring.apply()?;
        let total = blob_rows(&from_meta.table_counts().await?);
        let mut stats = copy_blobs(
            from_meta,
            from_blobs.clone(),
            Some(to_blobs.clone()),
            concurrency,
            BlobMode::Copy,
            None,
            total,
        )
        .await?;
        stats.fail_on_missing("nothing of the metadata was copied")?;
        eprintln!("migrate-storage: copying metadata in one transaction");
        let report = from_meta
            .copy_into(&to_meta)
            .await
            .context("copying metadata")?;
        // Rows the snapshot holds that the blob pass did not see: the source changed between the
        // two. Their bytes are copied now; the verification below then reports the change.
        let late = copy_blobs(
            &to_meta,
            from_blobs,
            Some(to_blobs),
            concurrency,
            BlobMode::Copy,
            Some(&stats.handled),
            0,
        )
        .await?;
        if late.seen > 0 {
            eprintln!(
                "migrate-storage: warning: {} blobs were recorded in the source after the blob pass (is a server still running on it?)",
                late.seen
            );
            stats.add(&late);
            stats.fail_on_missing(
                "but the target's metadata, already committed, records them: drop the target and migrate again with the server stopped",
            )?;
        }
        anyhow::Ok((stats, report))
    }
    .await;
    to_meta.close().await;
    let (stats, report) = result?;

    // Verify through a fresh handle: the copy replaced the default account the old one holds.
    let to_meta = crate::metadata::open(&target.metadata, &target.data_dir).await?;
    let verified = verify(from_meta, &to_meta).await;
    to_meta.close().await;
    println!(
        "blobs: copied {} ({}), {} already in the target ({}), {} in all",
        stats.copied,
        bytes(stats.copied_bytes),
        stats.skipped,
        bytes(stats.skipped_bytes),
        stats.seen
    );
    println!("metadata rows copied ({} in all):", report.total());
    print_table(&report.tables, None);
    let account = verified?;
    println!("{}", keyring.describe());
    println!(
        "verified: every table has as many rows in the target as in the source; default account {account}"
    );
    println!("uploads in progress were not migrated; start wharf with the new configuration");
    Ok(())
}

/// Row counts and the default account of the target against the source's.
async fn verify(from: &MetaStore, to: &MetaStore) -> anyhow::Result<String> {
    let (ours, theirs) = (from.table_counts().await?, to.table_counts().await?);
    if ours != theirs {
        print_table(&ours, Some(&theirs));
        bail!("the target's row counts differ from the source's (was the source written to during the migration?)");
    }
    if from.default_account() != to.default_account() {
        bail!(
            "the target's default account is {}, the source's {}",
            to.default_account(),
            from.default_account()
        );
    }
    Ok(to.default_account().to_string())
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BlobMode {
    /// Look only: stat the source and the target.
    Plan,
    Copy,
}

/// What one blob needed.
enum Outcome {
    /// Copied (or, planning, would be).
    Copied,
    /// Already in the target with the recorded size.
    Skipped,
    /// The source store does not have the bytes.
    Missing,
}

/// Totals of a blob pass.
#[derive(Default)]
struct BlobStats {
    seen: u64,
    copied: u64,
    copied_bytes: u64,
    skipped: u64,
    skipped_bytes: u64,
    missing: Vec<String>,
    missing_count: u64,
    /// Every digest the pass handled, so the pass after the metadata copy finds the rows it
    /// did not see (about 100 bytes a blob: 100 MB for a million blobs).
    handled: HashSet<String>,
}

impl BlobStats {
    fn add(&mut self, other: &BlobStats) {
        self.seen += other.seen;
        self.copied += other.copied;
        self.copied_bytes += other.copied_bytes;
        self.skipped += other.skipped;
        self.skipped_bytes += other.skipped_bytes;
        self.missing_count += other.missing_count;
        for d in &other.missing {
            if self.missing.len() < MISSING_SHOWN {
                self.missing.push(d.clone());
            }
        }
    }

    /// Fails, naming a few, when blobs had no bytes in the source; `consequence` says what that
    /// left behind.
    fn fail_on_missing(&self, consequence: &str) -> anyhow::Result<()> {
        if self.missing_count == 0 {
            return Ok(());
        }
        bail!(
            "{} recorded blobs have no bytes in the source blob store, e.g. {}; {consequence} \
             (if garbage collection left them, run `wharf gc` on the source first)",
            self.missing_count,
            self.missing.join(", ")
        )
    }
}

/// The `blobs` row count among `table_counts`: the total progress lines count against.
fn blob_rows(counts: &[(String, i64)]) -> i64 {
    counts
        .iter()
        .find(|(t, _)| t == "blobs")
        .map_or(0, |(_, n)| *n)
}

/// Walks `meta`'s blob rows (skipping digests in `skip`) and copies each one's bytes from
/// `from` to `to`, `concurrency` at a time, unless `to` has them. `to` is `None` only when
/// planning for a target store that does not exist yet. `total` is what progress lines count
/// against.
async fn copy_blobs(
    meta: &MetaStore,
    from: Arc<dyn BlobStore>,
    to: Option<Arc<dyn BlobStore>>,
    concurrency: usize,
    mode: BlobMode,
    skip: Option<&HashSet<String>>,
    total: i64,
) -> anyhow::Result<BlobStats> {
    let mut stats = BlobStats::default();
    let mut tasks: JoinSet<anyhow::Result<(String, u64, Outcome)>> = JoinSet::new();
    let mut after: Option<String> = None;
    loop {
        let page = meta.blob_digests(after.as_deref(), PAGE).await?;
        let full = page.len() as i64 == PAGE;
        after = page.last().map(|(d, _)| d.clone());
        for (digest, size) in page {
            if skip.is_some_and(|s| s.contains(&digest)) {
                continue;
            }
            while tasks.len() >= concurrency {
                let done = tasks.join_next().await.expect("tasks are running");
                record(&mut stats, done??, total, mode, skip.is_some());
            }
            let (from, to, meta) = (from.clone(), to.clone(), meta.clone());
            tasks.spawn(async move {
                let parsed: Digest = digest
                    .parse()
                    .with_context(|| format!("blob row with a malformed digest {digest:?}"))?;
                let size = u64::try_from(size)
                    .with_context(|| format!("blob {digest} has a negative size"))?;
                let stored = match meta.blob_sealed(&parsed).await? {
                    Some(true) => Stored::Sealed,
                    _ => Stored::Plain,
                };
                let outcome = one_blob(from.as_ref(), to.as_deref(), &parsed, size, stored, mode)
                    .await
                    .with_context(|| format!("blob {digest}"))?;
                Ok((digest, size, outcome))
            });
        }
        if !full {
            break;
        }
    }
    while let Some(done) = tasks.join_next().await {
        record(&mut stats, done??, total, mode, skip.is_some());
    }
    if stats.seen > 0 && skip.is_none() {
        progress(&stats, total, mode);
    }
    Ok(stats)
}

fn record(
    stats: &mut BlobStats,
    (digest, size, outcome): (String, u64, Outcome),
    total: i64,
    mode: BlobMode,
    late: bool,
) {
    stats.seen += 1;
    match outcome {
        Outcome::Copied => {
            stats.copied += 1;
            stats.copied_bytes += size;
        }
        Outcome::Skipped => {
            stats.skipped += 1;
            stats.skipped_bytes += size;
        }
        Outcome::Missing => {
            stats.missing_count += 1;
            if stats.missing.len() < MISSING_SHOWN {
                stats.missing.push(digest.clone());
            }
        }
    }
    stats.handled.insert(digest);
    if !late && stats.seen.is_multiple_of(PROGRESS_EVERY) {
        progress(stats, total, mode);
    }
}

fn progress(stats: &BlobStats, total: i64, mode: BlobMode) {
    let (verb, copied) = match mode {
        BlobMode::Plan => ("checked", "to copy"),
        BlobMode::Copy => ("done", "copied"),
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

/// Copies (or, planning, checks) one blob.
/// How a blob's bytes are stored: sealed blobs are copied as they are (their ciphertext, which
/// only the keys open: each segment's authentication still guards them, and the header is
/// checked), plaintext ones are hashed against their digest on the way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stored {
    Plain,
    Sealed,
}

async fn one_blob(
    from: &dyn BlobStore,
    to: Option<&dyn BlobStore>,
    digest: &Digest,
    plain_size: u64,
    stored: Stored,
    mode: BlobMode,
) -> anyhow::Result<Outcome> {
    let size = match stored {
        Stored::Plain => plain_size,
        Stored::Sealed => wharf_blob::seal::sealed_len(plain_size),
    };
    if let Some(to) = to {
        match to.stat(digest).await.context("stat in the target")? {
            Some(have) if have == size => return Ok(Outcome::Skipped),
            Some(have) => bail!(
                "the target store holds {have} bytes at this address, the metadata records {size}"
            ),
            None => {}
        }
    }
    match from.stat(digest).await.context("stat in the source")? {
        None => return Ok(Outcome::Missing),
        Some(have) if have != size => bail!(
            "the source store holds {have} bytes at this address, the metadata records {size}"
        ),
        Some(_) => {}
    }
    let Some(to) = to.filter(|_| mode == BlobMode::Copy) else {
        return Ok(Outcome::Copied);
    };
    // One scratch upload per digest: a rerun after a crash overwrites its own leftovers.
    let id = format!("migrate-{}", digest.hex());
    to.create_upload(&id).await.context("creating an upload")?;
    let result = async {
        let body = from.read(digest, 0, size).await.context("reading")?;
        let appended = to
            .append_upload(&id, 0, body, Ingest::plain(digest.algorithm().hasher()))
            .await
            .context("writing")?;
        if stored == Stored::Sealed {
            if appended.size != size {
                bail!(
                    "the source holds {} stored bytes, a sealed blob of {plain_size} bytes takes {size}",
                    appended.size
                );
            }
            let mut stream = to
                .read_upload_range(&id, 0, wharf_blob::seal::HEADER_LEN)
                .await?;
            let mut head = Vec::new();
            while let Some(chunk) = futures::StreamExt::next(&mut stream).await {
                head.extend_from_slice(&chunk?);
            }
            if !matches!(wharf_blob::seal::Header::parse(&head), Ok(Some(_))) {
                bail!("the source bytes of a sealed blob have no valid seal header");
            }
            to.commit_upload(&id, digest, true)
                .await
                .context("committing")?;
            return anyhow::Ok(());
        }
        let actual = appended.ingest.into_hasher().finish();
        if &actual != digest || appended.size != size {
            bail!(
                "the source bytes hash to {actual} ({} bytes): the source store is corrupt",
                appended.size
            );
        }
        to.commit_upload(&id, digest, true)
            .await
            .context("committing")?;
        anyhow::Ok(())
    }
    .await;
    if result.is_err() {
        // Best effort: scratch space only, and the purge job reclaims it anyway.
        let _ = to.delete_upload(&id).await;
    }
    result.map(|()| Outcome::Copied)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(toml: &str) -> Settings {
        Settings::try_from(toml::from_str::<RawConfig>(toml).unwrap()).unwrap()
    }

    #[test]
    fn same_metadata_is_refused() {
        let a = settings("data_dir = \"/srv/a\"");
        let b = settings("data_dir = \"/srv/b\"");
        assert!(same_metadata(&a, &a));
        assert!(!same_metadata(&a, &b));
        let pg = settings("data_dir = \"/srv/a\"\n[metadata]\nurl = \"postgres://h/db\"");
        assert!(!same_metadata(&a, &pg), "same directory, other database");
        assert!(same_metadata(&pg, &pg));
    }

    /// `body` as a blob-store byte stream.
    fn stream_of(body: &[u8]) -> wharf_blob::ByteStream {
        let bytes = bytes::Bytes::copy_from_slice(body);
        Box::pin(futures::stream::once(async move { Ok(bytes) }))
    }

    /// Stores `body` in `store` under `digest` (which need not be its hash) through upload `id`.
    async fn store_as(store: &dyn BlobStore, id: &str, body: &[u8], digest: &Digest) {
        store.create_upload(id).await.unwrap();
        store
            .append_upload(
                id,
                0,
                stream_of(body),
                Ingest::plain(digest.algorithm().hasher()),
            )
            .await
            .unwrap();
        store.commit_upload(id, digest, true).await.unwrap();
    }

    #[tokio::test]
    async fn blobs_copy_verified_and_skipped() {
        use wharf_blob::ObjectBlobStore;
        let from: Arc<dyn BlobStore> = Arc::new(ObjectBlobStore::memory());
        let to: Arc<dyn BlobStore> = Arc::new(ObjectBlobStore::memory());
        let body = b"hello, migration".to_vec();
        let digest = Digest::sha256(&body);
        let size = body.len() as u64;
        store_as(from.as_ref(), "u", &body, &digest).await;

        let planned = one_blob(
            from.as_ref(),
            Some(to.as_ref()),
            &digest,
            size,
            Stored::Plain,
            BlobMode::Plan,
        )
        .await
        .unwrap();
        assert!(matches!(planned, Outcome::Copied));
        assert_eq!(
            to.stat(&digest).await.unwrap(),
            None,
            "planning writes nothing"
        );
        let copied = one_blob(
            from.as_ref(),
            Some(to.as_ref()),
            &digest,
            size,
            Stored::Plain,
            BlobMode::Copy,
        )
        .await
        .unwrap();
        assert!(matches!(copied, Outcome::Copied));
        assert_eq!(to.stat(&digest).await.unwrap(), Some(size));
        let again = one_blob(
            from.as_ref(),
            Some(to.as_ref()),
            &digest,
            size,
            Stored::Plain,
            BlobMode::Copy,
        )
        .await
        .unwrap();
        assert!(matches!(again, Outcome::Skipped));

        let absent = Digest::sha256(b"absent");
        let missing = one_blob(
            from.as_ref(),
            Some(to.as_ref()),
            &absent,
            6,
            Stored::Plain,
            BlobMode::Copy,
        )
        .await
        .unwrap();
        assert!(matches!(missing, Outcome::Missing));
        let wrong_size = one_blob(
            from.as_ref(),
            None,
            &digest,
            size + 1,
            Stored::Plain,
            BlobMode::Plan,
        )
        .await
        .err()
        .expect("a size mismatch fails");
        assert!(format!("{wrong_size:#}").contains("metadata records"));

        // Bytes that do not hash to their address are never committed in the target.
        let liar = Digest::sha256(b"something else entirely");
        store_as(from.as_ref(), "v", &body, &liar).await;
        let err = one_blob(
            from.as_ref(),
            Some(to.as_ref()),
            &liar,
            size,
            Stored::Plain,
            BlobMode::Copy,
        )
        .await
        .err()
        .expect("a corrupt source blob fails");
        assert!(format!("{err:#}").contains("corrupt"), "{err:#}");
        assert_eq!(to.stat(&liar).await.unwrap(), None);
    }

    #[tokio::test]
    async fn blob_pass_copies_skips_and_finds_late_rows() {
        use wharf_blob::ObjectBlobStore;
        use wharf_meta::RepoKey;
        let tmp = tempfile::tempdir().unwrap();
        let meta = MetaStore::open_sqlite(&tmp.path().join("meta.db"))
            .await
            .unwrap();
        let account = meta.default_account().to_owned();
        let repo = RepoKey {
            account: &account,
            name: "r",
        };
        let from: Arc<dyn BlobStore> = Arc::new(ObjectBlobStore::memory());
        let to: Arc<dyn BlobStore> = Arc::new(ObjectBlobStore::memory());
        let put = |i: u32| {
            let (from, meta) = (from.clone(), meta.clone());
            async move {
                let body = format!("blob number {i}").into_bytes();
                let digest = Digest::sha256(&body);
                store_as(from.as_ref(), &format!("u{i}"), &body, &digest).await;
                meta.record_blob(repo, &digest, body.len() as u64, None, None)
                    .await
                    .unwrap();
                digest
            }
        };
        for i in 0..7 {
            put(i).await;
        }
        // One row whose bytes are gone from the source.
        meta.record_blob(repo, &Digest::sha256(b"gone"), 4, None, None)
            .await
            .unwrap();

        let first = copy_blobs(
            &meta,
            from.clone(),
            Some(to.clone()),
            3,
            BlobMode::Copy,
            None,
            8,
        )
        .await
        .unwrap();
        assert_eq!((first.seen, first.copied, first.skipped), (8, 7, 0));
        assert_eq!(first.missing_count, 1);
        let err = first.fail_on_missing("x").unwrap_err();
        assert!(format!("{err}").contains(&Digest::sha256(b"gone").to_string()));

        // Rows recorded after the pass are the only ones a pass skipping its digests sees.
        let late = put(7).await;
        let second = copy_blobs(
            &meta,
            from.clone(),
            Some(to.clone()),
            3,
            BlobMode::Copy,
            Some(&first.handled),
            0,
        )
        .await
        .unwrap();
        assert_eq!((second.seen, second.copied), (1, 1));
        assert!(second.handled.contains(&late.to_string()));
        assert!(to.stat(&late).await.unwrap().is_some());

        // A full pass again: everything present is skipped.
        let third = copy_blobs(&meta, from, Some(to), 2, BlobMode::Copy, None, 9)
            .await
            .unwrap();
        assert_eq!(
            (third.copied, third.skipped, third.missing_count),
            (0, 8, 1)
        );
        meta.close().await;
    }
}
