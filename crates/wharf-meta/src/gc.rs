//! The metadata side of online garbage collection: which blobs are garbage, marking them, and
//! deleting their rows only while they are still garbage.
//!
//! A blob is garbage when no manifest references it (`manifest_blobs`) and its `touched_at` — when
//! it was last recorded, or last lost a reference (a trigger keeps this) — is older than the grace
//! period. A pass marks a batch of garbage with its token in one short transaction, moves the bytes
//! to trash (outside any transaction), then calls [`MetaStore::gc_sweep`] per blob, which deletes
//! the rows only if the token is still there and no manifest references the blob. `record_blob`
//! clears the token, so an upload or mount that lands meanwhile revives the blob and the pass
//! puts the bytes back. Marking and sweeping take the *global* write lock (`locks.rs`), which
//! waits for every repository's writers and holds them off: a sweep and a `put_manifest` (or a
//! `record_blob`, in any repository) are serialized, so a manifest either sees the blob's link
//! (and the sweep then sees the reference) or finds it missing and is rejected. Under
//! per-repository locks alone, READ COMMITTED would let a sweep delete a blob between another
//! repository's check of its link and the insert of its reference.

use crate::{now, parse_digest, MetaStore, Result};
use wharf_oci::Digest;

/// A blob that is garbage (or, once marked, about to be collected).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GcBlob {
    pub digest: Digest,
    pub size: u64,
}

/// The garbage condition on `blobs b`, with the cutoff as parameter `$n`.
fn garbage(n: usize) -> String {
    format!(
        "b.touched_at < ${n}
         AND NOT EXISTS (SELECT 1 FROM manifest_blobs mb WHERE mb.blob_digest = b.digest)"
    )
}

fn rows(rows: Vec<(String, i64)>) -> Result<Vec<GcBlob>> {
    rows.into_iter()
        .map(|(d, size)| {
            Ok(GcBlob {
                digest: parse_digest(&d)?,
                size: size.max(0) as u64,
            })
        })
        .collect()
}

impl MetaStore {
    /// Takes (or renews) the collection lease for `holder` until `ttl_secs` from now. Returns
    /// `false` when another holder's lease has not expired.
    pub async fn gc_acquire_lease(&self, holder: u64, ttl_secs: i64) -> Result<bool> {
        let t = now();
        let res = sqlx::query(
            "INSERT INTO gc_lease (id, holder, expires_at) VALUES (1, $1, $2)
             ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
             WHERE gc_lease.expires_at < $3 OR gc_lease.holder = excluded.holder",
        )
        .bind(holder as i64)
        .bind(t + ttl_secs)
        .bind(t)
        .execute(&self.writer)
        .await?;
        Ok(res.rows_affected() > 0)
    }

    /// Gives the lease up, if `holder` still has it.
    pub async fn gc_release_lease(&self, holder: u64) -> Result<()> {
        sqlx::query("DELETE FROM gc_lease WHERE id = 1 AND holder = $1")
            .bind(holder as i64)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Up to `limit` garbage blobs after `after` in digest order, touched before `cutoff` (Unix
    /// seconds), without marking them: what a dry run reports.
    pub async fn gc_candidates(
        &self,
        cutoff: i64,
        after: Option<&Digest>,
        limit: i64,
    ) -> Result<Vec<GcBlob>> {
        let sql = format!(
            "SELECT b.digest, b.size FROM blobs b WHERE {} AND b.digest > $2
             ORDER BY b.digest LIMIT $3",
            garbage(1)
        );
        let found: Vec<(String, i64)> = sqlx::query_as(&sql)
            .bind(cutoff)
            .bind(after.map(|d| d.to_string()).unwrap_or_default())
            .bind(limit)
            .fetch_all(&self.reader)
            .await?;
        rows(found)
    }

    /// Marks up to `limit` garbage blobs after `after` in digest order with `token`, in one
    /// transaction, and returns them. Blobs marked by another pass are skipped unless the mark is
    /// older than `stale_before` (that pass is gone).
    pub async fn gc_mark(
        &self,
        token: u64,
        cutoff: i64,
        stale_before: i64,
        after: Option<&Digest>,
        limit: i64,
    ) -> Result<Vec<GcBlob>> {
        let sql = format!(
            "UPDATE blobs SET gc_mark = $1, gc_marked_at = $2 WHERE digest IN (
                 SELECT b.digest FROM blobs b WHERE {} AND b.digest > $4
                 AND (b.gc_mark IS NULL OR b.gc_marked_at < $5)
                 ORDER BY b.digest LIMIT $6)
             RETURNING digest, size",
            garbage(3)
        );
        // Under the global write lock: this statement locks many blob rows, in no set order, and
        // so does a push or a manifest delete (which touches the blobs it released); without the
        // lock they could deadlock (seen on PostgreSQL with pushes, deletes and passes in a loop).
        let mut tx = self.begin_write_global().await?;
        let mut found: Vec<(String, i64)> = sqlx::query_as(&sql)
            .bind(token as i64)
            .bind(now())
            .bind(cutoff)
            .bind(after.map(|d| d.to_string()).unwrap_or_default())
            .bind(stale_before)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        found.sort();
        rows(found)
    }

    /// Deletes a marked blob's row and its repository links, in one transaction, if it still
    /// carries `token` and no manifest references it. Returns whether it did; `false` means the
    /// blob was revived (recorded again, or referenced) and its bytes must stay.
    pub async fn gc_sweep(&self, digest: &Digest, token: u64) -> Result<bool> {
        Ok(!self
            .gc_sweep_many(std::slice::from_ref(digest), token)
            .await?
            .is_empty())
    }

    /// `gc_sweep` for a batch, in one transaction (one commit, so one fsync, per batch): deletes
    /// the rows that still carry `token` and that no manifest references, and answers which.
    pub async fn gc_sweep_many(&self, digests: &[Digest], token: u64) -> Result<Vec<Digest>> {
        let mut swept = Vec::new();
        let mut tx = self.begin_write_global().await?;
        for digest in digests {
            let d = digest.to_string();
            let still: Option<i64> = sqlx::query_scalar(
                "SELECT 1 FROM blobs b WHERE b.digest = $1 AND b.gc_mark = $2
                 AND NOT EXISTS (SELECT 1 FROM manifest_blobs mb WHERE mb.blob_digest = b.digest)",
            )
            .bind(&d)
            .bind(token as i64)
            .fetch_optional(&mut *tx)
            .await?;
            if still.is_none() {
                continue;
            }
            sqlx::query("DELETE FROM repository_blobs WHERE digest = $1")
                .bind(&d)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM blobs WHERE digest = $1")
                .bind(&d)
                .execute(&mut *tx)
                .await?;
            swept.push(digest.clone());
        }
        tx.commit().await?;
        Ok(swept)
    }

    /// Whether a marked blob would still be swept now: it carries `token` and no manifest
    /// references it (as of the last commit). A pass asks right after trashing its bytes, so
    /// a blob revived meanwhile gets them back at once, not after the whole batch.
    pub async fn gc_doomed(&self, digest: &Digest, token: u64) -> Result<bool> {
        let still: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM blobs b WHERE b.digest = $1 AND b.gc_mark = $2
             AND NOT EXISTS (SELECT 1 FROM manifest_blobs mb WHERE mb.blob_digest = b.digest)",
        )
        .bind(digest.to_string())
        .bind(token as i64)
        .fetch_optional(&self.reader)
        .await?;
        Ok(still.is_some())
    }

    /// Clears `token` from a blob a pass decided to keep.
    pub async fn gc_unmark(&self, digest: &Digest, token: u64) -> Result<()> {
        sqlx::query(
            "UPDATE blobs SET gc_mark = NULL, gc_marked_at = NULL WHERE digest = $1 AND gc_mark = $2",
        )
        .bind(digest.to_string())
        .bind(token as i64)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Whether a blob row exists (in any repository, referenced or not), as of the last commit.
    pub async fn blob_recorded(&self, digest: &Digest) -> Result<bool> {
        let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM blobs WHERE digest = $1")
            .bind(digest.to_string())
            .fetch_optional(&self.reader)
            .await?;
        Ok(found.is_some())
    }

    /// Which of `digests` have a blob row (one query for the lot; callers pass a few hundred).
    pub async fn blobs_recorded(
        &self,
        digests: &[Digest],
    ) -> Result<std::collections::HashSet<Digest>> {
        if digests.is_empty() {
            return Ok(Default::default());
        }
        let marks = crate::dialect::placeholders(1, digests.len());
        let sql = format!("SELECT digest FROM blobs WHERE digest IN ({marks})");
        let mut q = sqlx::query_scalar::<_, String>(&sql);
        for d in digests {
            q = q.bind(d.to_string());
        }
        q.fetch_all(&self.reader)
            .await?
            .iter()
            .map(|d| parse_digest(d))
            .collect()
    }

    /// Every recorded blob whose `touched_at` is older than `cutoff` and that no manifest
    /// references: what must be gone after a full pass with that cutoff (for tests and checks).
    pub async fn gc_garbage_count(&self, cutoff: i64) -> Result<u64> {
        let sql = format!("SELECT count(*) FROM blobs b WHERE {}", garbage(1));
        let n: i64 = sqlx::query_scalar(&sql)
            .bind(cutoff)
            .fetch_one(&self.reader)
            .await?;
        Ok(n.max(0) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{NewManifest, RepoKey};

    async fn store() -> (tempfile::TempDir, MetaStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = MetaStore::open_sqlite(&dir.path().join("meta.db"))
            .await
            .unwrap();
        (dir, store)
    }

    fn manifest<'a>(repo: RepoKey<'a>, digest: &'a Digest, blobs: Vec<Digest>) -> NewManifest<'a> {
        NewManifest {
            repository: repo,
            digest,
            media_type: "application/vnd.oci.image.manifest.v1+json",
            artifact_type: None,
            subject: None,
            annotations: None,
            body: b"{}",
            blobs,
            children: vec![],
            tags: vec![],
            frozen_tags: vec![],
            image_size: Some(0),
            scan: None,
            jobs: vec![],
            replications: vec![],
            signing: None,
        }
    }

    #[tokio::test]
    async fn mark_sweep_revive_and_references() {
        let (_dir, store) = store().await;
        let account = store.default_account().to_owned();
        let repo = RepoKey {
            account: &account,
            name: "gc/meta",
        };
        let a = Digest::sha256(b"a");
        let b = Digest::sha256(b"b");
        let c = Digest::sha256(b"c");
        for d in [&a, &b, &c] {
            store.record_blob(repo, d, 1, None, None).await.unwrap();
        }
        let m = Digest::sha256(b"m");
        store
            .put_manifest(manifest(repo, &m, vec![c.clone()]))
            .await
            .unwrap();
        // Within the grace period nothing is garbage.
        assert!(store
            .gc_candidates(now() - 5, None, 10)
            .await
            .unwrap()
            .is_empty());
        // Past it, the two unreferenced blobs are; the referenced one never is.
        let future = now() + 10;
        let marked = store.gc_mark(7, future, 0, None, 10).await.unwrap();
        let mut want = vec![a.clone(), b.clone()];
        want.sort_by_key(|d| d.to_string());
        assert_eq!(
            marked.iter().map(|g| g.digest.clone()).collect::<Vec<_>>(),
            want
        );
        // Another pass does not take blobs that are marked and fresh.
        assert!(store
            .gc_mark(8, future, 0, None, 10)
            .await
            .unwrap()
            .is_empty());
        // Recording `a` again revives it: no longer doomed, the sweep leaves it; `b` goes.
        assert!(store.gc_doomed(&a, 7).await.unwrap());
        assert!(
            !store.gc_doomed(&a, 8).await.unwrap(),
            "another pass's token"
        );
        store.record_blob(repo, &a, 1, None, None).await.unwrap();
        assert!(!store.gc_doomed(&a, 7).await.unwrap());
        assert!(store.gc_doomed(&b, 7).await.unwrap());
        assert!(!store.gc_sweep(&a, 7).await.unwrap());
        assert!(store.gc_sweep(&b, 7).await.unwrap());
        assert!(store.blob_recorded(&a).await.unwrap());
        assert!(!store.blob_recorded(&b).await.unwrap());
        assert_eq!(store.repository_blob(repo, &b).await.unwrap(), None);
        // A manifest pushed between mark and sweep keeps the blob.
        let marked = store.gc_mark(9, future, 0, None, 10).await.unwrap();
        assert_eq!(marked.len(), 1);
        let m2 = Digest::sha256(b"m2");
        store
            .put_manifest(manifest(repo, &m2, vec![a.clone()]))
            .await
            .unwrap();
        assert!(!store.gc_doomed(&a, 9).await.unwrap(), "referenced");
        assert!(!store.gc_sweep(&a, 9).await.unwrap());
        // Deleting the manifest restarts the grace period (the trigger touches the blob).
        store.gc_unmark(&a, 9).await.unwrap();
        store
            .remove_image(repo, &m2, crate::RemoveMode::Delete)
            .await
            .unwrap();
        assert!(store
            .gc_candidates(now() - 5, None, 10)
            .await
            .unwrap()
            .is_empty());
        assert_eq!(store.gc_garbage_count(future).await.unwrap(), 1);
    }

    #[tokio::test]
    async fn one_lease_at_a_time() {
        let (_dir, store) = store().await;
        assert!(store.gc_acquire_lease(1, 60).await.unwrap());
        assert!(store.gc_acquire_lease(1, 60).await.unwrap());
        assert!(!store.gc_acquire_lease(2, 60).await.unwrap());
        store.gc_release_lease(2).await.unwrap();
        assert!(!store.gc_acquire_lease(2, 60).await.unwrap());
        store.gc_release_lease(1).await.unwrap();
        assert!(store.gc_acquire_lease(2, 60).await.unwrap());
        // An expired lease is taken over.
        assert!(store.gc_acquire_lease(2, -5).await.unwrap());
        assert!(store.gc_acquire_lease(3, 60).await.unwrap());
    }
}
