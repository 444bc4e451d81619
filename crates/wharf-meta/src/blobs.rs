//! Blob records and their links to repositories.
//!
//! `record_blob` is group-committed: SQLite with `synchronous=FULL` pays one WAL fsync per commit,
//! which would cap small-blob pushes at the disk's fsync rate. Concurrent calls queue up; whichever
//! call finds no batch running spawns one task that takes up to [`GROUP_MAX`] queued records, writes
//! them in one transaction (each inside its own savepoint, so one failing record fails alone),
//! commits once and answers every caller, then repeats while records are waiting. A caller is
//! answered only after the commit that holds its record returned, so durability is unchanged.
//! The data-key writes of sealed uploads (`insert_data_key`, `bind_data_key`) and new upload
//! sessions (`create_upload`) join the same groups, so neither sealing nor opening an upload
//! costs a small push a commit of its own.

use crate::locks::{self, LockKey, WriteScope};
use crate::{crypt, now, repos, MetaError, MetaStore, RepoKey, Result};
use sqlx::{Acquire, Any, Transaction};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::oneshot;
use wharf_oci::Digest;

/// Most records one group commit writes.
const GROUP_MAX: usize = 64;

/// How often a group commit runs when PostgreSQL reports a deadlock (which the lock order rules
/// out, `locks.rs`: this is a safety net, not a path the design relies on).
const GROUP_ATTEMPTS: u32 = 3;

/// One write a group commit carries.
#[derive(Debug)]
pub(crate) enum GroupOp {
    Record(BlobRecord),
    /// `insert_data_key`.
    InsertKey {
        dek_id: String,
        key_ref: String,
        wrapped: Vec<u8>,
    },
    /// `bind_data_key`.
    BindKey {
        dek_id: String,
        digest: String,
    },
    /// `create_upload` (with the new data key's wrap, for a sealed upload).
    CreateUpload(crate::uploads::NewUpload),
}

impl GroupOp {
    /// The blob row this op writes, if any: a group writes them in ascending order.
    fn blob_digest(&self) -> Option<&str> {
        match self {
            GroupOp::Record(r) => Some(&r.digest),
            GroupOp::InsertKey { .. } | GroupOp::BindKey { .. } | GroupOp::CreateUpload(_) => None,
        }
    }
}

/// A queued write and who waits for it.
#[derive(Debug)]
struct Queued {
    op: GroupOp,
    done: oneshot::Sender<Result<()>>,
}

/// One queued `record_blob` call.
#[derive(Debug)]
pub(crate) struct BlobRecord {
    account: String,
    name: String,
    digest: String,
    size: i64,
    upload: Option<String>,
    /// The data key the blob's bytes are sealed under (hex id), `None` for plaintext bytes.
    sealed: Option<String>,
    /// Link an existing blob only (a mount): never recreate a row a collection pass removed.
    existing_only: bool,
}

#[derive(Debug, Default)]
struct Queue {
    waiting: Vec<Queued>,
    /// Whether a task is draining `waiting`.
    running: bool,
}

/// The group-commit queue of `record_blob`, shared by all clones of a `MetaStore`.
#[derive(Debug, Default)]
pub(crate) struct BlobGroup {
    queue: Mutex<Queue>,
}

impl BlobGroup {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // The queue stays consistent even if a holder panicked: every change is a push or a drain.
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Clears `running` if the draining task ends abnormally (a panic, or its runtime shutting down);
/// records it never took then fail (their senders drop) rather than wait for a task that is gone.
struct Running {
    group: Arc<BlobGroup>,
    /// Set when the task saw the queue empty and cleared `running` itself.
    finished: bool,
}

impl Drop for Running {
    fn drop(&mut self) {
        if !self.finished {
            let mut q = self.group.lock();
            q.running = false;
            q.waiting.clear();
        }
    }
}

impl MetaStore {
    /// Records a blob whose bytes are durable and links it to the repository (created if needed).
    /// When the blob came from an upload session, the session is closed in the same transaction.
    /// Returns once the record is committed; concurrent calls share one commit.
    ///
    /// `sealed` names the data key (hex id) the stored bytes are sealed under: the blob row is
    /// then marked sealed and every wrap of that key is bound to `digest`, in the same
    /// transaction. A new row is sealed exactly when `sealed` is `Some`; an existing row changes
    /// only then (recording plaintext bytes never unseals a sealed blob).
    pub async fn record_blob(
        &self,
        repo: RepoKey<'_>,
        digest: &Digest,
        size: u64,
        upload: Option<&str>,
        sealed: Option<&str>,
    ) -> Result<()> {
        self.queue_blob(repo, digest, size, upload, sealed, false)
            .await
    }

    /// Links a blob that is already recorded to the repository (a mount), reviving it like
    /// `record_blob`. `BlobNotFound` when the row is gone: a collection pass removed it (and its
    /// bytes) after the caller looked it up, so the link must not recreate it.
    pub async fn link_existing_blob(
        &self,
        repo: RepoKey<'_>,
        digest: &Digest,
        size: u64,
    ) -> Result<()> {
        self.queue_blob(repo, digest, size, None, None, true).await
    }

    async fn queue_blob(
        &self,
        repo: RepoKey<'_>,
        digest: &Digest,
        size: u64,
        upload: Option<&str>,
        sealed: Option<&str>,
        existing_only: bool,
    ) -> Result<()> {
        self.queue_group(GroupOp::Record(BlobRecord {
            account: repo.account.to_owned(),
            name: repo.name.to_owned(),
            digest: digest.to_string(),
            size: size as i64,
            upload: upload.map(str::to_owned),
            sealed: sealed.map(str::to_owned),
            existing_only,
        }))
        .await
    }

    /// Records `dek_id` wrapped under `key_ref`. A wrap already recorded under the same
    /// `(dek_id, key_ref)` is kept as it is (the call is then a no-op). A new wrap of a DEK
    /// that is already bound to a blob is bound to the same digest.
    /// Group-committed with blob records: concurrent uploads share its fsync. (The SQL is
    /// `crypt::insert_data_key`'s; the group commit that runs it is here.)
    pub async fn insert_data_key(&self, dek_id: &str, key_ref: &str, wrapped: &[u8]) -> Result<()> {
        self.queue_group(GroupOp::InsertKey {
            dek_id: dek_id.to_owned(),
            key_ref: key_ref.to_owned(),
            wrapped: wrapped.to_vec(),
        })
        .await
    }

    /// Registers a new upload in a repository (created if needed). `dek_id` names the data key
    /// its bytes are sealed under (its wraps are recorded with `insert_data_key`); while the
    /// upload exists, `prune_data_keys` keeps that key. Group-committed with blob records (see
    /// blobs.rs), so concurrent upload starts share one commit.
    pub async fn create_upload(
        &self,
        id: &str,
        repo: RepoKey<'_>,
        dek_id: Option<&str>,
    ) -> Result<()> {
        self.queue_group(GroupOp::CreateUpload(crate::uploads::NewUpload {
            id: id.to_owned(),
            account: repo.account.to_owned(),
            name: repo.name.to_owned(),
            dek_id: dek_id.map(str::to_owned),
            wrap: None,
        }))
        .await
    }

    /// `create_upload` of a sealed upload whose data key `dek_id` is new: its wrap under
    /// `key_ref` is recorded with the upload, in the same commit (as `insert_data_key` would).
    pub async fn create_sealed_upload(
        &self,
        id: &str,
        repo: RepoKey<'_>,
        dek_id: &str,
        key_ref: &str,
        wrapped: &[u8],
    ) -> Result<()> {
        self.queue_group(GroupOp::CreateUpload(crate::uploads::NewUpload {
            id: id.to_owned(),
            account: repo.account.to_owned(),
            name: repo.name.to_owned(),
            dek_id: Some(dek_id.to_owned()),
            wrap: Some((key_ref.to_owned(), wrapped.to_vec())),
        }))
        .await
    }

    /// Queues a write for the next group commit and waits for that commit.
    pub(crate) async fn queue_group(&self, op: GroupOp) -> Result<()> {
        let (done, answer) = oneshot::channel();
        let start = {
            let mut q = self.blob_group.lock();
            q.waiting.push(Queued { op, done });
            !std::mem::replace(&mut q.running, true)
        };
        if start {
            // A task, not this future: a caller that goes away must not strand the others.
            let store = self.clone();
            tokio::spawn(async move { store.drain_blob_group().await });
        }
        answer
            .await
            .map_err(|_| MetaError::Db(sqlx::Error::WorkerCrashed))?
    }

    /// Commits queued records in groups until none are waiting.
    async fn drain_blob_group(self) {
        let mut running = Running {
            group: self.blob_group.clone(),
            finished: false,
        };
        loop {
            let group: Vec<Queued> = {
                let mut q = self.blob_group.lock();
                if q.waiting.is_empty() {
                    q.running = false;
                    running.finished = true;
                    return;
                }
                let n = q.waiting.len().min(GROUP_MAX);
                q.waiting.drain(..n).collect()
            };
            self.commit_blob_group(group).await;
        }
    }

    /// Writes `group` in one transaction and answers each record.
    ///
    /// The transaction locks the repositories of the group's records (`locks.rs`; key writes
    /// name none, the shared lock covers them), so groups of other repositories, on this node or
    /// another, commit concurrently. Records are written in ascending digest order, so the blob
    /// rows two such groups share are locked in one order. Any two ops of a group come from
    /// callers that are waiting concurrently, so none depends on another and reordering is safe.
    /// Should the server still report a deadlock or serialization failure (for the whole
    /// transaction, or for one op's savepoint), the ops it hit run again in a new transaction,
    /// a few times, before they fail: every op is idempotent.
    async fn commit_blob_group(&self, mut group: Vec<Queued>) {
        group.sort_by(|a, b| a.op.blob_digest().cmp(&b.op.blob_digest()));
        let mut results: Vec<Option<Result<()>>> = group.iter().map(|_| None).collect();
        let mut pending: Vec<usize> = (0..group.len()).collect();
        for attempt in 1..=GROUP_ATTEMPTS {
            let last = attempt == GROUP_ATTEMPTS;
            let scope = WriteScope::keys(pending.iter().filter_map(|&i| match &group[i].op {
                GroupOp::Record(r) => Some(LockKey::repo(RepoKey {
                    account: &r.account,
                    name: &r.name,
                })),
                GroupOp::CreateUpload(u) => Some(LockKey::repo(RepoKey {
                    account: &u.account,
                    name: &u.name,
                })),
                GroupOp::InsertKey { .. } | GroupOp::BindKey { .. } => None,
            }));
            let mut these = Vec::with_capacity(pending.len());
            let outcome: Result<()> = async {
                let mut tx = self.begin_write_scoped(&scope).await?;
                for &i in &pending {
                    these.push(write_one(&mut tx, &group[i].op).await);
                }
                tx.commit().await?;
                Ok(())
            }
            .await;
            match outcome {
                Ok(()) => {
                    let mut again = Vec::new();
                    for (i, res) in pending.iter().copied().zip(these) {
                        match res {
                            Err(MetaError::Db(e)) if !last && locks::is_retryable(&e) => {
                                again.push(i)
                            }
                            res => results[i] = Some(res),
                        }
                    }
                    pending = again;
                }
                Err(MetaError::Db(e)) if !last && locks::is_retryable(&e) => {}
                Err(e) => {
                    // Nothing of this transaction was committed: its ops fail with its cause.
                    let msg = e.to_string();
                    for &i in &pending {
                        results[i] = Some(Err(MetaError::Db(sqlx::Error::Io(
                            std::io::Error::other(format!("group commit: {msg}")),
                        ))));
                    }
                    pending.clear();
                }
            }
            if pending.is_empty() {
                break;
            }
            tracing::warn!(
                attempt,
                ops = pending.len(),
                "blob group commit hit a deadlock; retrying"
            );
        }
        for (q, res) in group.into_iter().zip(results) {
            let _ = q.done.send(res.unwrap_or_else(|| {
                Err(MetaError::Db(sqlx::Error::Io(std::io::Error::other(
                    "group commit: not written",
                ))))
            }));
        }
    }

    /// The size of a blob the repository may serve.
    pub async fn repository_blob(&self, repo: RepoKey<'_>, digest: &Digest) -> Result<Option<u64>> {
        let size: Option<i64> = sqlx::query_scalar(
            "SELECT b.size FROM repository_blobs rb
             JOIN repositories r ON r.id = rb.repository_id
             JOIN blobs b ON b.digest = rb.digest
             WHERE r.account_id = $1 AND r.name = $2 AND rb.digest = $3",
        )
        .bind(repo.account)
        .bind(repo.name)
        .bind(digest.to_string())
        .fetch_optional(&self.reader)
        .await?;
        Ok(size.map(|s| s as u64))
    }

    /// The size of a blob that at least one repository of the account holds.
    pub async fn linked_blob_size(&self, account: &str, digest: &Digest) -> Result<Option<u64>> {
        let size: Option<i64> = sqlx::query_scalar(
            "SELECT size FROM blobs b WHERE digest = $1
             AND EXISTS (SELECT 1 FROM repository_blobs rb JOIN repositories r ON r.id = rb.repository_id
                         WHERE rb.digest = b.digest AND r.account_id = $2)",
        )
        .bind(digest.to_string())
        .bind(account)
        .fetch_optional(&self.reader)
        .await?;
        Ok(size.map(|s| s as u64))
    }

    /// Whether a manifest of the repository references the blob.
    pub async fn blob_referenced(&self, repo: RepoKey<'_>, digest: &Digest) -> Result<bool> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM manifest_blobs mb JOIN repositories r ON r.id = mb.repository_id
             WHERE r.account_id = $1 AND r.name = $2 AND mb.blob_digest = $3 LIMIT 1",
        )
        .bind(repo.account)
        .bind(repo.name)
        .bind(digest.to_string())
        .fetch_optional(&self.reader)
        .await?;
        Ok(found.is_some())
    }

    /// One manifest of the repository that references the blob, as (media type, bytes): the
    /// descriptor in it says what the blob is (its `mediaType`), which the blob row does not keep.
    pub async fn manifest_referencing(
        &self,
        repo: RepoKey<'_>,
        digest: &Digest,
    ) -> Result<Option<(String, Vec<u8>)>> {
        Ok(sqlx::query_as(
            "SELECT m.media_type, m.body FROM manifest_blobs mb
             JOIN repositories r ON r.id = mb.repository_id
             JOIN manifests m ON m.repository_id = mb.repository_id AND m.digest = mb.manifest_digest
             WHERE r.account_id = $1 AND r.name = $2 AND mb.blob_digest = $3 LIMIT 1",
        )
        .bind(repo.account)
        .bind(repo.name)
        .bind(digest.to_string())
        .fetch_optional(&self.reader)
        .await?)
    }

    /// Names of up to `limit` repositories of the account that hold a blob.
    pub async fn repositories_holding(
        &self,
        account: &str,
        digest: &Digest,
        limit: i64,
    ) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT r.name FROM repository_blobs rb JOIN repositories r ON r.id = rb.repository_id
             WHERE r.account_id = $1 AND rb.digest = $2 ORDER BY r.name LIMIT $3",
        )
        .bind(account)
        .bind(digest.to_string())
        .bind(limit)
        .fetch_all(&self.reader)
        .await?)
    }

    /// Removes a blob from a repository. The bytes stay until garbage collection finds them
    /// unreferenced. Returns whether the repository had the blob.
    pub async fn unlink_blob(&self, repo: RepoKey<'_>, digest: &Digest) -> Result<bool> {
        let res = sqlx::query(
            "DELETE FROM repository_blobs WHERE digest = $1
             AND repository_id = (SELECT id FROM repositories WHERE account_id = $2 AND name = $3)",
        )
        .bind(digest.to_string())
        .bind(repo.account)
        .bind(repo.name)
        .execute(&self.writer)
        .await?;
        Ok(res.rows_affected() > 0)
    }
}

/// Locks the rows of `digests` (ascending, without repeats) for update, in that order, in chunks
/// (PostgreSQL only; SQLite has no row locks). Keyed write transactions of different repositories
/// share blob rows, so each locks the ones it will update in ascending digest order before
/// updating any (`locks.rs`); rows that do not exist are skipped.
pub(crate) async fn lock_blob_rows(tx: &mut sqlx::AnyConnection, digests: &[String]) -> Result<()> {
    debug_assert!(digests.windows(2).all(|w| w[0] < w[1]));
    for chunk in digests.chunks(500) {
        let sql = format!(
            "SELECT digest FROM blobs WHERE digest IN ({}) ORDER BY digest FOR NO KEY UPDATE",
            crate::dialect::placeholders(1, chunk.len())
        );
        let mut q = sqlx::query_scalar::<_, String>(&sql);
        for d in chunk {
            q = q.bind(d);
        }
        q.fetch_all(&mut *tx).await?;
    }
    Ok(())
}

/// Writes one queued op inside its own savepoint of `tx`: an error undoes this op only.
async fn write_one(tx: &mut Transaction<'_, Any>, op: &GroupOp) -> Result<()> {
    let mut sp = tx.begin().await?;
    let res = match op {
        GroupOp::Record(r) => record_in(&mut sp, r).await,
        GroupOp::InsertKey {
            dek_id,
            key_ref,
            wrapped,
        } => crypt::insert_data_key(&mut sp, dek_id, key_ref, wrapped).await,
        GroupOp::BindKey { dek_id, digest } => crypt::bind_data_key(&mut sp, dek_id, digest).await,
        GroupOp::CreateUpload(u) => crate::uploads::create_in(&mut sp, u).await,
    };
    match res {
        Ok(()) => sp.commit().await?,
        Err(_) => sp.rollback().await?,
    }
    res
}

async fn record_in(tx: &mut Transaction<'_, Any>, r: &BlobRecord) -> Result<()> {
    let repo = RepoKey {
        account: &r.account,
        name: &r.name,
    };
    let repo_id = repos::ensure(tx, repo).await?;
    if r.existing_only {
        let revived = sqlx::query(
            "UPDATE blobs SET touched_at = $1, gc_mark = NULL, gc_marked_at = NULL WHERE digest = $2",
        )
        .bind(now())
        .bind(&r.digest)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if revived == 0 {
            return Err(MetaError::BlobNotFound);
        }
    }
    // Recording an existing blob revives it: a collection pass that marked it must not delete
    // it (see gc.rs), and its grace period starts again.
    sqlx::query(
        "INSERT INTO blobs (digest, size, created_at, touched_at, sealed) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (digest) DO UPDATE SET touched_at = excluded.touched_at, gc_mark = NULL,
         gc_marked_at = NULL,
         sealed = CASE WHEN excluded.sealed = 1 THEN 1 ELSE blobs.sealed END",
    )
    .bind(&r.digest)
    .bind(r.size)
    .bind(now())
    .bind(now())
    .bind(i64::from(r.sealed.is_some()))
    .execute(&mut **tx)
    .await?;
    if let Some(dek_id) = &r.sealed {
        crypt::bind_data_key(tx, dek_id, &r.digest).await?;
    }
    sqlx::query(
        "INSERT INTO repository_blobs (repository_id, digest, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(repo_id)
    .bind(&r.digest)
    .bind(now())
    .execute(&mut **tx)
    .await?;
    if let Some(id) = &r.upload {
        sqlx::query("DELETE FROM uploads WHERE id = $1")
            .bind(id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_records_share_commits_and_fail_alone() {
        let dir = tempfile::tempdir().unwrap();
        let store = MetaStore::open_sqlite(&dir.path().join("meta.db"))
            .await
            .unwrap();
        let account = store.default_account().to_owned();
        let mut calls = Vec::new();
        for i in 0..200u32 {
            let store = store.clone();
            let account = account.clone();
            calls.push(tokio::spawn(async move {
                let digest = Digest::sha256(&i.to_be_bytes());
                // Every 10th record names an account that does not exist: a foreign-key error.
                let account = if i % 10 == 3 { "nope" } else { &account };
                let repo = RepoKey {
                    account,
                    name: "group/commit",
                };
                let res = store.record_blob(repo, &digest, i as u64, None, None).await;
                (i, digest, res.is_ok())
            }));
        }
        for call in calls {
            let (i, digest, ok) = call.await.unwrap();
            assert_eq!(ok, i % 10 != 3, "record {i}");
            let repo = RepoKey {
                account: &account,
                name: "group/commit",
            };
            let size = store.repository_blob(repo, &digest).await.unwrap();
            assert_eq!(size, ok.then_some(i as u64), "record {i}");
        }
        // The queue drained: a later call still goes through.
        let repo = RepoKey {
            account: &account,
            name: "group/commit",
        };
        let digest = Digest::sha256(b"late");
        store
            .record_blob(repo, &digest, 4, None, None)
            .await
            .unwrap();
        assert_eq!(store.repository_blob(repo, &digest).await.unwrap(), Some(4));
    }

    #[tokio::test]
    async fn linking_a_collected_blob_fails_and_recreates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = MetaStore::open_sqlite(&dir.path().join("meta.db"))
            .await
            .unwrap();
        let account = store.default_account().to_owned();
        let (from, to) = (
            RepoKey {
                account: &account,
                name: "mount/from",
            },
            RepoKey {
                account: &account,
                name: "mount/to",
            },
        );
        let digest = Digest::sha256(b"mounted");
        let gone = store.link_existing_blob(to, &digest, 7).await;
        assert!(matches!(gone, Err(MetaError::BlobNotFound)), "{gone:?}");
        assert!(!store.blob_recorded(&digest).await.unwrap());
        assert_eq!(store.repository_blob(to, &digest).await.unwrap(), None);

        store
            .record_blob(from, &digest, 7, None, None)
            .await
            .unwrap();
        store.link_existing_blob(to, &digest, 7).await.unwrap();
        assert_eq!(store.repository_blob(to, &digest).await.unwrap(), Some(7));
    }
}
