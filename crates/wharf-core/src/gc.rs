//! Online garbage collection: reclaims blobs no manifest references, abandoned upload sessions,
//! and orphan files (scratch space without a session, blob bytes without a row), while the
//! registry keeps serving. No lock is held across IO and no request ever waits for a pass.
//!
//! One pass, for each batch of garbage blobs (see `wharf_meta::gc` for what garbage is):
//!
//! 1. mark the batch with the pass's random token, in one short transaction;
//! 2. move each blob's bytes into trash (a rename; the address is free for a new upload at once);
//! 3. if the trashed bytes were placed less than the grace period ago, an upload put them there
//!    and has not recorded them yet: put them back and unmark; likewise if the blob was revived
//!    since the mark (an upload that kept the bytes at the address recorded it, or a manifest
//!    references it): readers then miss the bytes only for the trash-and-back, never for a batch;
//! 4. otherwise delete the row in a transaction that checks the token is still there and no
//!    manifest references the blob (one transaction for the whole batch, so one commit). If it did, drop the trash; if the blob was revived
//!    meanwhile (`record_blob` clears the token), put the bytes back unless the address holds
//!    them again.
//!
//! Content addressing is what makes this safe without locks: any file at a digest's address has
//! the same content (sealed copies differ in ciphertext, but each names a data key bound to that
//! digest, so each opens to the same plaintext), so putting bytes back, or dropping trash because the address is filled again,
//! never changes what a row points at. Bytes are only deleted after the transaction that removed
//! the last row pointing at them committed.
//!
//! The lease in SQL keeps two passes (the server's interval job, `wharf gc`) from running at once;
//! the protocol stays safe without it, the lease only avoids wasted work. A pass that stopped
//! midway leaves marks (retaken after the lease TTL) and trash, which the next pass puts back or
//! drops depending on whether a row still names the blob.

use crate::{CoreError, Registry};
use futures::StreamExt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use wharf_oci::Digest;

/// Garbage blobs marked per transaction.
const BATCH: i64 = 256;
/// How long a pass's lease (and its marks) stay valid without renewal.
const LEASE_SECS: i64 = 300;

/// What a pass is allowed to do.
#[derive(Debug, Clone, Copy)]
pub struct GcOptions {
    /// Unreferenced blobs and orphan files younger than this are kept.
    pub grace: Duration,
    /// Upload sessions untouched for this long are abandoned.
    pub upload_max_age: Duration,
    /// Report what would be freed without changing anything.
    pub dry_run: bool,
}

/// What a pass freed (or, in a dry run, would free).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GcReport {
    /// Unreferenced blobs removed, and their bytes.
    pub blobs: u64,
    pub blob_bytes: u64,
    /// Upload sessions purged (abandoned) plus scratch files without a session, and their bytes.
    pub uploads: u64,
    pub upload_bytes: u64,
    /// Blob files no row names, and their bytes.
    pub orphans: u64,
    pub orphan_bytes: u64,
    /// Blobs marked but kept: recorded or referenced again while the pass ran, or placed by an
    /// upload that had not been recorded yet.
    pub revived: u64,
    /// Whether the pass ran; `false` when another pass held the lease.
    pub ran: bool,
}

fn unix_secs(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A random, non-zero token naming one pass (its marks, lease and trash files).
fn new_token() -> Result<u64, CoreError> {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).map_err(|e| CoreError::Internal(e.to_string()))?;
    Ok((u64::from_le_bytes(b) >> 1) | 1)
}

/// Whether a file was placed at least `grace` ago (a clock step backwards reads as fresh).
fn older_than(modified: SystemTime, grace: Duration) -> bool {
    SystemTime::now()
        .duration_since(modified)
        .is_ok_and(|age| age >= grace)
}

impl Registry {
    /// Runs one garbage-collection pass.
    pub async fn collect_garbage(&self, opts: GcOptions) -> Result<GcReport, CoreError> {
        if opts.dry_run {
            return self.gc_dry_run(opts).await;
        }
        let token = new_token()?;
        if !self.meta.gc_acquire_lease(token, LEASE_SECS).await? {
            return Ok(GcReport::default());
        }
        let result = self.gc_pass(token, opts).await;
        if let Err(e) = self.meta.gc_release_lease(token).await {
            tracing::warn!(error = %e, "releasing the garbage-collection lease failed");
        }
        result
    }

    async fn gc_pass(&self, token: u64, opts: GcOptions) -> Result<GcReport, CoreError> {
        let mut report = GcReport {
            ran: true,
            ..GcReport::default()
        };
        self.gc_recover_trash().await?;
        self.gc_uploads(opts, &mut report).await?;

        // Unreferenced blobs, batch by batch in digest order.
        let mut after: Option<Digest> = None;
        loop {
            let now = unix_secs(SystemTime::now());
            let cutoff = now - opts.grace.as_secs() as i64;
            let batch = self
                .meta
                .gc_mark(token, cutoff, now - LEASE_SECS, after.as_ref(), BATCH)
                .await?;
            self.gc_collect_batch(token, &batch, opts.grace, &mut report)
                .await?;
            match batch.last() {
                Some(last) if batch.len() as i64 == BATCH => after = Some(last.digest.clone()),
                _ => break,
            }
            self.meta.gc_acquire_lease(token, LEASE_SECS).await?;
        }

        // Blob files no row names: a crash between an upload's rename and its record.
        for (digest, _) in self.unrecorded_blob_files(opts.grace).await? {
            let Some(trashed) = self.blobs.trash(&digest, token).await? else {
                continue;
            };
            if older_than(trashed.modified, opts.grace) && !self.meta.blob_recorded(&digest).await?
            {
                self.blobs.purge_trash(&digest, token).await?;
                report.orphans += 1;
                report.orphan_bytes += trashed.size;
            } else {
                self.blobs.restore(&digest, token).await?;
            }
        }
        Ok(report)
    }

    /// Steps 2–4 of the protocol for a marked batch: trash each blob's bytes (putting fresh ones
    /// back), then delete the rows in one transaction, then drop the trash of the deleted rows and
    /// put back the bytes of the revived ones.
    async fn gc_collect_batch(
        &self,
        token: u64,
        batch: &[wharf_meta::GcBlob],
        grace: Duration,
        report: &mut GcReport,
    ) -> Result<(), CoreError> {
        // (digest, bytes freed if swept, whether its bytes are in the trash)
        let mut pending: Vec<(Digest, u64, bool)> = Vec::with_capacity(batch.len());
        for blob in batch {
            let trashed = match self.blobs.trash(&blob.digest, token).await {
                Ok(t) => t,
                Err(e) => {
                    self.gc_put_back(token, &pending).await;
                    return Err(e.into());
                }
            };
            match trashed {
                Some(t) if !older_than(t.modified, grace) => {
                    // Fresh bytes: an upload of this digest is between its rename and its record.
                    self.blobs.restore(&blob.digest, token).await?;
                    self.meta.gc_unmark(&blob.digest, token).await?;
                    report.revived += 1;
                }
                // Revived since the mark (recorded again by an upload that kept these bytes,
                // or referenced): back at once, so readers see no gap as long as a batch.
                Some(t)
                    if !self
                        .gc_doomed_or_put_back(token, &blob.digest, t.size, &pending)
                        .await? =>
                {
                    self.blobs.restore(&blob.digest, token).await?;
                    self.meta.gc_unmark(&blob.digest, token).await?;
                    report.revived += 1;
                }
                Some(t) => pending.push((blob.digest.clone(), t.size, true)),
                // Absent bytes (a row without a file is already broken) are swept all the same.
                None => pending.push((blob.digest.clone(), blob.size, false)),
            }
        }
        let digests: Vec<Digest> = pending.iter().map(|(d, _, _)| d.clone()).collect();
        let swept = match self.meta.gc_sweep_many(&digests, token).await {
            Ok(swept) => swept,
            Err(e) => {
                // The rows are still there: their bytes must be too.
                self.gc_put_back(token, &pending).await;
                return Err(e.into());
            }
        };
        let swept: std::collections::HashSet<Digest> = swept.into_iter().collect();
        for (digest, size, in_trash) in &pending {
            if swept.contains(digest) {
                if *in_trash {
                    self.blobs.purge_trash(digest, token).await?;
                }
                report.blobs += 1;
                report.blob_bytes += size;
            } else {
                if *in_trash {
                    self.blobs.restore(digest, token).await?;
                }
                report.revived += 1;
            }
        }
        Ok(())
    }

    /// `gc_doomed`, putting back this blob's and the batch's trashed bytes when it fails.
    async fn gc_doomed_or_put_back(
        &self,
        token: u64,
        digest: &Digest,
        size: u64,
        pending: &[(Digest, u64, bool)],
    ) -> Result<bool, CoreError> {
        match self.meta.gc_doomed(digest, token).await {
            Ok(doomed) => Ok(doomed),
            Err(e) => {
                self.gc_put_back(token, pending).await;
                self.gc_put_back(token, &[(digest.clone(), size, true)])
                    .await;
                Err(e.into())
            }
        }
    }

    /// Best effort after a failure: puts trashed bytes back (what fails here, the next pass's
    /// trash recovery puts back, since the rows still name the blobs).
    async fn gc_put_back(&self, token: u64, pending: &[(Digest, u64, bool)]) {
        for (digest, _, in_trash) in pending {
            if *in_trash {
                if let Err(e) = self.blobs.restore(digest, token).await {
                    tracing::warn!(%digest, error = %e, "putting trashed bytes back failed");
                }
            }
        }
    }

    /// Blob files older than `grace` that no row names, looked up a few hundred at a time.
    async fn unrecorded_blob_files(
        &self,
        grace: Duration,
    ) -> Result<Vec<(Digest, wharf_blob::FileInfo)>, CoreError> {
        // Streamed: only a batch and the orphans found are held, not the whole listing.
        let mut listing = self.blobs.blob_listing();
        let mut batch: Vec<(Digest, wharf_blob::FileInfo)> = Vec::with_capacity(500);
        let mut out = Vec::new();
        loop {
            let next = listing.next().await.transpose()?;
            let done = next.is_none();
            if let Some((digest, info)) = next {
                if older_than(info.modified, grace) {
                    batch.push((digest, info));
                }
            }
            if batch.len() == 500 || (done && !batch.is_empty()) {
                let digests: Vec<Digest> = batch.iter().map(|(d, _)| d.clone()).collect();
                let recorded = self.meta.blobs_recorded(&digests).await?;
                out.extend(batch.drain(..).filter(|(d, _)| !recorded.contains(d)));
            }
            if done {
                return Ok(out);
            }
        }
    }

    /// Puts back or drops what an interrupted pass left in the trash: bytes a row still names go
    /// back (unless the address holds them again), the rest is dropped.
    async fn gc_recover_trash(&self) -> Result<(), CoreError> {
        for (digest, token) in self.blobs.list_trash().await? {
            if self.meta.blob_recorded(&digest).await? {
                let back = self.blobs.restore(&digest, token).await?;
                tracing::info!(%digest, back, "recovered blob bytes from an interrupted collection");
            } else {
                self.blobs.purge_trash(&digest, token).await?;
            }
        }
        Ok(())
    }

    /// Abandoned upload sessions, and scratch files without a session (monolithic pushes record
    /// none; a crash can leave either).
    async fn gc_uploads(&self, opts: GcOptions, report: &mut GcReport) -> Result<(), CoreError> {
        let now = unix_secs(SystemTime::now());
        let stale = self
            .meta
            .stale_uploads(now - opts.upload_max_age.as_secs() as i64)
            .await?;
        let mut bytes = 0;
        for id in &stale {
            bytes += self.blobs.upload_size(id).await?.unwrap_or(0);
        }
        let purged = if opts.dry_run {
            stale.len()
        } else {
            self.purge_stale_uploads(opts.upload_max_age.as_secs())
                .await?
        };
        report.uploads += purged as u64;
        report.upload_bytes += bytes;
        for (id, info) in self.blobs.list_uploads().await? {
            if !older_than(info.modified, opts.grace) || self.meta.upload(&id).await?.is_some() {
                continue;
            }
            if !opts.dry_run {
                self.blobs.delete_upload(&id).await?;
            }
            report.uploads += 1;
            report.upload_bytes += info.size;
        }
        Ok(())
    }

    /// Counts what a pass would free, changing nothing.
    async fn gc_dry_run(&self, opts: GcOptions) -> Result<GcReport, CoreError> {
        let mut report = GcReport {
            ran: true,
            ..GcReport::default()
        };
        let cutoff = unix_secs(SystemTime::now()) - opts.grace.as_secs() as i64;
        let mut after: Option<Digest> = None;
        loop {
            let batch = self
                .meta
                .gc_candidates(cutoff, after.as_ref(), BATCH)
                .await?;
            for b in &batch {
                report.blobs += 1;
                report.blob_bytes += b.size;
            }
            match batch.last() {
                Some(last) if batch.len() as i64 == BATCH => after = Some(last.digest.clone()),
                _ => break,
            }
        }
        self.gc_uploads(opts, &mut report).await?;
        for (_, info) in self.unrecorded_blob_files(opts.grace).await? {
            report.orphans += 1;
            report.orphan_bytes += info.size;
        }
        Ok(report)
    }
}
