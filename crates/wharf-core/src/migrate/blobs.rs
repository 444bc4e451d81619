//! The blob pass of a migration: walk the recorded blob rows and copy each one's bytes between
//! blob stores, a few at a time, unless the target has them. Plaintext bytes are hashed against
//! their digest on the way (`commit_upload` does not verify); sealed ones are copied as they
//! are (their ciphertext, which only the keys open: each segment's authentication still guards
//! them, and the header is checked). Blobs are content-addressed, so a pass that stops midway
//! leaves only harmless extra bytes, and running it again skips what is there.

use super::error::{Context, MigrateError};
use super::Progress;
use std::collections::HashSet;
use std::sync::Arc;
use tokio::task::JoinSet;
use wharf_blob::{BlobStore, Ingest};
use wharf_meta::MetaStore;
use wharf_oci::Digest;

/// Blobs listed per metadata query.
const PAGE: i64 = 500;
/// A progress report every this many blobs.
const PROGRESS_EVERY: u64 = 100;
/// Missing blobs named in the error.
const MISSING_SHOWN: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BlobMode {
    /// Look only: stat the source and the target.
    Plan,
    Copy,
}

/// What one blob needed.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Copied (or, planning, would be).
    Copied,
    /// Already in the target with the recorded size.
    Skipped,
    /// The source store does not have the bytes.
    Missing,
}

/// Totals of a blob pass.
#[derive(Debug, Default)]
pub struct BlobStats {
    pub seen: u64,
    pub copied: u64,
    pub copied_bytes: u64,
    pub skipped: u64,
    pub skipped_bytes: u64,
    /// A few of the blobs whose bytes the source lacks.
    pub missing: Vec<String>,
    pub missing_count: u64,
    /// Every digest the pass handled, so the pass after the metadata copy finds the rows it
    /// did not see (about 100 bytes a blob: 100 MB for a million blobs).
    pub(crate) handled: HashSet<String>,
}

impl BlobStats {
    pub(crate) fn add(&mut self, other: &BlobStats) {
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
    pub fn fail_on_missing(&self, consequence: &str) -> Result<(), MigrateError> {
        if self.missing_count == 0 {
            return Ok(());
        }
        Err(MigrateError::Refused(format!(
            "{} recorded blobs have no bytes in the source blob store, e.g. {}; {consequence} \
             (if garbage collection left them, run `wharf gc` on the source first)",
            self.missing_count,
            self.missing.join(", ")
        )))
    }

    fn record(&mut self, (digest, size, outcome): (String, u64, Outcome)) {
        self.seen += 1;
        match outcome {
            Outcome::Copied => {
                self.copied += 1;
                self.copied_bytes += size;
            }
            Outcome::Skipped => {
                self.skipped += 1;
                self.skipped_bytes += size;
            }
            Outcome::Missing => {
                self.missing_count += 1;
                if self.missing.len() < MISSING_SHOWN {
                    self.missing.push(digest.clone());
                }
            }
        }
        self.handled.insert(digest);
    }
}

/// Where a pass copies: its stores, how many blobs at a time, and whether it only looks.
pub(crate) struct Pass<'a> {
    pub from: Arc<dyn BlobStore>,
    /// `None` only when planning for a target store that does not exist yet.
    pub to: Option<Arc<dyn BlobStore>>,
    pub concurrency: usize,
    pub mode: BlobMode,
    pub progress: &'a (dyn Fn(Progress<'_>) + Sync),
}

impl Pass<'_> {
    /// Walks `meta`'s blob rows (skipping digests in `skip`) and copies each one's bytes.
    /// `total` is what progress reports count against; a pass with `skip` (the late pass after
    /// the metadata copy) reports none.
    pub(crate) async fn run(
        &self,
        meta: &MetaStore,
        skip: Option<&HashSet<String>>,
        total: i64,
    ) -> Result<BlobStats, MigrateError> {
        let mut stats = BlobStats::default();
        let mut tasks: JoinSet<Result<(String, u64, Outcome), MigrateError>> = JoinSet::new();
        let mut after: Option<String> = None;
        let report = |stats: &BlobStats| {
            (self.progress)(Progress::Blobs {
                stats,
                total,
                planning: self.mode == BlobMode::Plan,
            })
        };
        let done = |stats: &mut BlobStats, one| {
            stats.record(one);
            if skip.is_none() && stats.seen.is_multiple_of(PROGRESS_EVERY) {
                report(stats);
            }
        };
        loop {
            let page = meta.blob_digests(after.as_deref(), PAGE).await?;
            let full = page.len() as i64 == PAGE;
            after = page.last().map(|(d, _)| d.clone());
            for (digest, size) in page {
                if skip.is_some_and(|s| s.contains(&digest)) {
                    continue;
                }
                while tasks.len() >= self.concurrency {
                    let one = tasks.join_next().await.expect("tasks are running");
                    done(&mut stats, one??);
                }
                let (from, to, meta, mode) =
                    (self.from.clone(), self.to.clone(), meta.clone(), self.mode);
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
                    let outcome =
                        one_blob(from.as_ref(), to.as_deref(), &parsed, size, stored, mode)
                            .await
                            .with_context(|| format!("blob {digest}"))?;
                    Ok((digest, size, outcome))
                });
            }
            if !full {
                break;
            }
        }
        while let Some(one) = tasks.join_next().await {
            done(&mut stats, one??);
        }
        if stats.seen > 0 && skip.is_none() {
            report(&stats);
        }
        Ok(stats)
    }
}

/// How a blob's bytes are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stored {
    Plain,
    Sealed,
}

/// Copies (or, planning, checks) one blob.
pub(crate) async fn one_blob(
    from: &dyn BlobStore,
    to: Option<&dyn BlobStore>,
    digest: &Digest,
    plain_size: u64,
    stored: Stored,
    mode: BlobMode,
) -> Result<Outcome, MigrateError> {
    let size = match stored {
        Stored::Plain => plain_size,
        Stored::Sealed => wharf_blob::seal::sealed_len(plain_size),
    };
    let refuse = |m: String| Err(MigrateError::Refused(m));
    if let Some(to) = to {
        match to.stat(digest).await.context("stat in the target")? {
            Some(have) if have == size => return Ok(Outcome::Skipped),
            Some(have) => {
                return refuse(format!(
                "the target store holds {have} bytes at this address, the metadata records {size}"
            ))
            }
            None => {}
        }
    }
    match from.stat(digest).await.context("stat in the source")? {
        None => return Ok(Outcome::Missing),
        Some(have) if have != size => {
            return refuse(format!(
                "the source store holds {have} bytes at this address, the metadata records {size}"
            ))
        }
        Some(_) => {}
    }
    let Some(to) = to.filter(|_| mode == BlobMode::Copy) else {
        return Ok(Outcome::Copied);
    };
    // One scratch upload per digest: a rerun after a crash overwrites its own leftovers.
    let id = format!("migrate-{}", digest.hex());
    to.create_upload(&id).await.context("creating an upload")?;
    let result = copy_bytes(from, to, &id, digest, plain_size, size, stored).await;
    if result.is_err() {
        // Best effort: scratch space only, and the purge job reclaims it anyway.
        let _ = to.delete_upload(&id).await;
    }
    result.map(|()| Outcome::Copied)
}

/// Streams one blob's stored bytes into upload `id` of `to`, checks them, and commits them.
async fn copy_bytes(
    from: &dyn BlobStore,
    to: &dyn BlobStore,
    id: &str,
    digest: &Digest,
    plain_size: u64,
    size: u64,
    stored: Stored,
) -> Result<(), MigrateError> {
    let body = from.read(digest, 0, size).await.context("reading")?;
    let appended = to
        .append_upload(id, 0, body, Ingest::plain(digest.algorithm().hasher()))
        .await
        .context("writing")?;
    if stored == Stored::Sealed {
        if appended.size != size {
            return Err(MigrateError::Refused(format!(
                "the source holds {} stored bytes, a sealed blob of {plain_size} bytes takes {size}",
                appended.size
            )));
        }
        let mut stream = to
            .read_upload_range(id, 0, wharf_blob::seal::HEADER_LEN)
            .await?;
        let mut head = Vec::new();
        while let Some(chunk) = futures::StreamExt::next(&mut stream).await {
            head.extend_from_slice(&chunk?);
        }
        if !matches!(wharf_blob::seal::Header::parse(&head), Ok(Some(_))) {
            return Err(MigrateError::Refused(
                "the source bytes of a sealed blob have no valid seal header".into(),
            ));
        }
    } else {
        let actual = appended.ingest.into_hasher().finish();
        if &actual != digest || appended.size != size {
            return Err(MigrateError::Refused(format!(
                "the source bytes hash to {actual} ({} bytes): the source store is corrupt",
                appended.size
            )));
        }
    }
    to.commit_upload(id, digest, true)
        .await
        .context("committing")?;
    Ok(())
}
