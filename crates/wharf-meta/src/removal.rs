//! Removing an image together with its referrers in one write transaction: deleting it, archiving
//! it, or restoring it from the archive.
//!
//! Referrers (signatures, SBOMs, attestations: manifests whose `subject` is the image, and theirs,
//! transitively) follow their subject. The closure is computed inside the transaction, and a
//! delete or archive is refused when an index outside what is removed lists the image or any
//! referrer: `put_manifest` checks an index's children under the same repository write lock, so an index
//! pushed at the same time either sees its child gone (and is refused) or is seen here.
//!
//! ```text
//! remove_image(repo, image, mode)          one transaction, the repository's write lock first
//!   image row?                    no  ->   NotFound
//!   S = image + referrer closure           WITH RECURSIVE over manifests.subject
//!   an index outside S lists one of S? ->  ReferencedByIndex (Delete, Archive; nothing changed)
//!   Delete:  lock the blob rows S references, in digest order (PostgreSQL)
//!            DELETE S (tags, references, scans go by cascade)
//!   Archive / Restore: move the members of S not yet in the target class
//! ```
//!
//! On PostgreSQL the `manifests` triggers move the cache epoch, as for every other delete, and
//! the `manifest_blobs` trigger touches every blob row a deleted manifest referenced. Other
//! repositories' writes run concurrently and touch blob rows too, so those rows are locked
//! first, in ascending digest order, as every keyed transaction locks them (`locks.rs`): in the
//! cascade's own order two removals could deadlock.

use crate::dialect::placeholders;
use crate::write_tx::WriteTx;
use crate::{parse_digest, Dialect, MetaError, MetaStore, RepoKey, Result};
use std::collections::HashSet;
use wharf_oci::Digest;

/// What `remove_image` does to the image and its referrers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoveMode {
    /// Delete them, with their tags.
    Delete,
    /// Move them to the archive storage class at `at` (Unix seconds).
    Archive { at: i64 },
    /// Move them back to the standard class at `at`. Never refused: an index may list an
    /// active child.
    Restore { at: i64 },
}

/// What `remove_image` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoveOutcome {
    /// The repository holds no manifest with this digest; nothing changed.
    NotFound,
    /// `index`, which is not being removed, lists `child` (the image or one of its referrers) as
    /// a child; nothing changed.
    ReferencedByIndex { child: Digest, index: Digest },
    /// Done. `image` is the image when it changed (always for a delete; for a move, unless it
    /// was in the target class already); `referrers` are the referrers that changed, in digest
    /// order.
    Removed {
        image: Option<Digest>,
        referrers: Vec<Digest>,
    },
}

impl RemoveOutcome {
    /// Every digest that changed: the image (if it did) and its referrers.
    pub fn affected(&self) -> impl Iterator<Item = &Digest> {
        let (image, referrers) = match self {
            RemoveOutcome::Removed { image, referrers } => (image.as_ref(), referrers.as_slice()),
            _ => (None, &[][..]),
        };
        image.into_iter().chain(referrers)
    }
}

/// At most this many digests per `IN (...)` list (SQLite allows 32766 parameters per statement).
const CHUNK: usize = 500;

impl MetaStore {
    /// `WriteTx::remove_image` in a transaction of its own, committed when something changed.
    pub async fn remove_image(
        &self,
        repo: RepoKey<'_>,
        digest: &Digest,
        mode: RemoveMode,
    ) -> Result<RemoveOutcome> {
        let mut tx = self.write_repo(repo).await?;
        let outcome = tx.remove_image(repo, digest, mode).await?;
        match outcome {
            RemoveOutcome::Removed { .. } => tx.commit().await?,
            _ => tx.rollback().await?,
        }
        Ok(outcome)
    }
}

impl WriteTx {
    /// Deletes, archives or restores the image `digest` and its referrer closure; see the module
    /// documentation. `RepositoryNotFound` for an unknown repository.
    pub async fn remove_image(
        &mut self,
        repo: RepoKey<'_>,
        digest: &Digest,
        mode: RemoveMode,
    ) -> Result<RemoveOutcome> {
        self.check_covers(repo)?;
        let dialect = self.dialect;
        let tx = &mut *self.tx;
        let repo_id: i64 =
            sqlx::query_scalar("SELECT id FROM repositories WHERE account_id = $1 AND name = $2")
                .bind(repo.account)
                .bind(repo.name)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(MetaError::RepositoryNotFound)?;
        let image = digest.to_string();
        let present: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM manifests WHERE repository_id = $1 AND digest = $2")
                .bind(repo_id)
                .bind(&image)
                .fetch_optional(&mut *tx)
                .await?;
        if present.is_none() {
            return Ok(RemoveOutcome::NotFound);
        }
        // UNION (not UNION ALL) keeps each digest once, so even a cycle would end.
        let closure: Vec<String> = sqlx::query_scalar(
            "WITH RECURSIVE closure(digest) AS (
                 SELECT digest FROM manifests WHERE repository_id = $1 AND subject = $2
                 UNION
                 SELECT m.digest FROM manifests m JOIN closure c ON m.subject = c.digest
                 WHERE m.repository_id = $1
             )
             SELECT digest FROM closure ORDER BY digest",
        )
        .bind(repo_id)
        .bind(&image)
        .fetch_all(&mut *tx)
        .await?;
        let closure: Vec<String> = closure.into_iter().filter(|d| *d != image).collect();
        let mut set = Vec::with_capacity(closure.len() + 1);
        set.push(image.clone());
        set.extend(closure.iter().cloned());

        if !matches!(mode, RemoveMode::Restore { .. }) {
            if let Some((child, index)) = outside_parent(tx, repo_id, &set).await? {
                return Ok(RemoveOutcome::ReferencedByIndex {
                    child: parse_digest(&child)?,
                    index: parse_digest(&index)?,
                });
            }
        }

        let changed: HashSet<String> = match mode {
            RemoveMode::Delete => {
                if dialect == Dialect::Postgres {
                    let blobs = referenced_blobs(tx, repo_id, &set).await?;
                    crate::blobs::lock_blob_rows(tx, &blobs).await?;
                }
                for chunk in set.chunks(CHUNK) {
                    let sql = format!(
                        "DELETE FROM manifests WHERE repository_id = $1 AND digest IN ({})",
                        placeholders(2, chunk.len())
                    );
                    let mut q = sqlx::query(&sql).bind(repo_id);
                    for d in chunk {
                        q = q.bind(d);
                    }
                    q.execute(&mut *tx).await?;
                }
                set.iter().cloned().collect()
            }
            RemoveMode::Archive { at } => move_class(tx, repo_id, &set, "ARCHIVED", at).await?,
            RemoveMode::Restore { at } => move_class(tx, repo_id, &set, "ACTIVE", at).await?,
        };
        let referrers = closure
            .iter()
            .filter(|d| changed.contains(*d))
            .map(|d| parse_digest(d))
            .collect::<Result<Vec<_>>>()?;
        Ok(RemoveOutcome::Removed {
            image: changed.contains(&image).then(|| digest.clone()),
            referrers,
        })
    }
}

/// The distinct blobs the manifests of `set` reference, in ascending order.
async fn referenced_blobs(
    tx: &mut sqlx::AnyConnection,
    repo_id: i64,
    set: &[String],
) -> Result<Vec<String>> {
    let mut blobs = Vec::new();
    for chunk in set.chunks(CHUNK) {
        let sql = format!(
            "SELECT DISTINCT blob_digest FROM manifest_blobs
             WHERE repository_id = $1 AND manifest_digest IN ({})",
            placeholders(2, chunk.len())
        );
        let mut q = sqlx::query_scalar::<_, String>(&sql).bind(repo_id);
        for d in chunk {
            q = q.bind(d);
        }
        blobs.extend(q.fetch_all(&mut *tx).await?);
    }
    blobs.sort_unstable();
    blobs.dedup();
    Ok(blobs)
}

/// The first (child, index) pair where an index outside `set` lists a member of `set`.
async fn outside_parent(
    tx: &mut sqlx::AnyConnection,
    repo_id: i64,
    set: &[String],
) -> Result<Option<(String, String)>> {
    let members: HashSet<&str> = set.iter().map(String::as_str).collect();
    for chunk in set.chunks(CHUNK) {
        let sql = format!(
            "SELECT child_digest, parent_digest FROM manifest_children
             WHERE repository_id = $1 AND child_digest IN ({})
             ORDER BY child_digest, parent_digest",
            placeholders(2, chunk.len())
        );
        let mut q = sqlx::query_as::<_, (String, String)>(&sql).bind(repo_id);
        for d in chunk {
            q = q.bind(d);
        }
        let pairs = q.fetch_all(&mut *tx).await?;
        if let Some(pair) = pairs
            .into_iter()
            .find(|(_, parent)| !members.contains(parent.as_str()))
        {
            return Ok(Some(pair));
        }
    }
    Ok(None)
}

/// Moves the members of `set` not in `status` (`ARCHIVED` or `ACTIVE`) to it at `at`; answers
/// those it moved.
async fn move_class(
    tx: &mut sqlx::AnyConnection,
    repo_id: i64,
    set: &[String],
    status: &str,
    at: i64,
) -> Result<HashSet<String>> {
    let stamp = if status == "ARCHIVED" {
        "archived_at"
    } else {
        "activated_at"
    };
    let mut moved = HashSet::new();
    for chunk in set.chunks(CHUNK) {
        let list = placeholders(3, chunk.len());
        let select = format!(
            "SELECT digest FROM manifests
             WHERE repository_id = $1 AND image_status <> $2 AND digest IN ({list})"
        );
        let mut q = sqlx::query_scalar::<_, String>(&select)
            .bind(repo_id)
            .bind(status);
        for d in chunk {
            q = q.bind(d);
        }
        let these = q.fetch_all(&mut *tx).await?;
        if these.is_empty() {
            continue;
        }
        let update = format!(
            "UPDATE manifests SET image_status = $2, {stamp} = $3
             WHERE repository_id = $1 AND image_status <> $2 AND digest IN ({})",
            placeholders(4, these.len())
        );
        let mut q = sqlx::query(&update).bind(repo_id).bind(status).bind(at);
        for d in &these {
            q = q.bind(d);
        }
        q.execute(&mut *tx).await?;
        moved.extend(these);
    }
    Ok(moved)
}
