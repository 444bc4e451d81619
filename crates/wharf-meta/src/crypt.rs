//! Encryption-at-rest records: wrapped data keys (`data_keys`), the master key versions in use
//! (`master_keys`) and which blobs are sealed (`blobs.sealed`). Key material never passes through
//! here in clear: only wrapped keys and fingerprints are stored.
//!
//! Nothing here is cached by nodes, so none of these writes moves the cache epoch.
//!
//! The data-key writes of sealed uploads (`MetaStore::insert_data_key`, `bind_data_key`) are
//! group-committed with blob records: blobs.rs queues them and runs the SQL below inside its
//! group transactions, so this module never reaches back into the group commit.

use crate::{now, parse_digest, MetaError, MetaStore, Result};
use sqlx::{Any, Transaction};
use wharf_oci::Digest;

/// One wrap of a data key: the DEK `dek_id` (32 lowercase hex) wrapped under `key_ref`
/// (`master:<version>` or `kms:<key ARN>`), and the blob digest the DEK is bound to once its
/// blob is recorded.
#[derive(Clone, PartialEq, Eq)]
pub struct DataKeyRow {
    pub dek_id: String,
    pub key_ref: String,
    pub wrapped: Vec<u8>,
    pub digest: Option<String>,
}

impl std::fmt::Debug for DataKeyRow {
    // The wrapped key is not secret, but it is noise in logs: only its length is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataKeyRow")
            .field("dek_id", &self.dek_id)
            .field("key_ref", &self.key_ref)
            .field("wrapped_len", &self.wrapped.len())
            .field("digest", &self.digest)
            .finish()
    }
}

type RowTuple = (String, String, Vec<u8>, Option<String>);

fn row((dek_id, key_ref, wrapped, digest): RowTuple) -> DataKeyRow {
    DataKeyRow {
        dek_id,
        key_ref,
        wrapped,
        digest,
    }
}

/// Binds every wrap of `dek_id` to the blob `digest` (inside the caller's transaction).
pub(crate) async fn bind_data_key(
    tx: &mut Transaction<'_, Any>,
    dek_id: &str,
    digest: &str,
) -> Result<()> {
    sqlx::query("UPDATE data_keys SET digest = $1 WHERE dek_id = $2")
        .bind(digest)
        .bind(dek_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Records a wrap (inside the caller's transaction); see `MetaStore::insert_data_key`.
pub(crate) async fn insert_data_key(
    tx: &mut Transaction<'_, Any>,
    dek_id: &str,
    key_ref: &str,
    wrapped: &[u8],
) -> Result<()> {
    sqlx::query(
        "INSERT INTO data_keys (dek_id, key_ref, wrapped, digest, created_at)
         VALUES ($1, $2, $3,
                 (SELECT MAX(digest) FROM data_keys WHERE dek_id = $4), $5)
         ON CONFLICT (dek_id, key_ref) DO NOTHING",
    )
    .bind(dek_id)
    .bind(key_ref)
    .bind(wrapped.to_vec())
    .bind(dek_id)
    .bind(now())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl MetaStore {
    /// Every wrap of the DEK `dek_id`, by key reference (empty when none is recorded).
    pub async fn data_keys(&self, dek_id: &str) -> Result<Vec<DataKeyRow>> {
        let rows: Vec<RowTuple> = sqlx::query_as(
            "SELECT dek_id, key_ref, wrapped, digest FROM data_keys WHERE dek_id = $1
             ORDER BY key_ref",
        )
        .bind(dek_id)
        .fetch_all(&self.reader)
        .await?;
        Ok(rows.into_iter().map(row).collect())
    }

    /// Up to `limit` wraps whose key reference starts with `key_ref_prefix`, ordered by
    /// `(key_ref, dek_id)` and starting after `after` (a `(key_ref, dek_id)` from the previous
    /// page): how a rewrap job walks the DEKs wrapped under one key (`"master:3"`) or kind of key
    /// (`"kms:"`). An empty prefix matches every wrap.
    pub async fn data_keys_page(
        &self,
        key_ref_prefix: &str,
        after: Option<(&str, &str)>,
        limit: i64,
    ) -> Result<Vec<DataKeyRow>> {
        // A prefix by substr, not LIKE: key refs may hold `_` and `%`. The range start lets the
        // (key_ref, dek_id) index find the first row.
        let rows: Vec<RowTuple> = match after {
            None => {
                sqlx::query_as(
                    "SELECT dek_id, key_ref, wrapped, digest FROM data_keys
                     WHERE key_ref >= $1 AND substr(key_ref, 1, length($2)) = $3
                     ORDER BY key_ref, dek_id LIMIT $4",
                )
                .bind(key_ref_prefix)
                .bind(key_ref_prefix)
                .bind(key_ref_prefix)
                .bind(limit)
                .fetch_all(&self.reader)
                .await?
            }
            Some((key_ref, dek_id)) => {
                sqlx::query_as(
                    "SELECT dek_id, key_ref, wrapped, digest FROM data_keys
                     WHERE (key_ref, dek_id) > ($1, $2) AND substr(key_ref, 1, length($3)) = $4
                     ORDER BY key_ref, dek_id LIMIT $5",
                )
                .bind(key_ref)
                .bind(dek_id)
                .bind(key_ref_prefix)
                .bind(key_ref_prefix)
                .bind(limit)
                .fetch_all(&self.reader)
                .await?
            }
        };
        Ok(rows.into_iter().map(row).collect())
    }

    /// Replaces the wrap of `dek_id` under `old_key_ref` (which must still hold exactly
    /// `old_wrapped`) by one under `new_key_ref`, keeping its digest binding and creation time;
    /// one transaction. `false`, changing nothing, when the old wrap is gone or holds other
    /// bytes (someone else rewrapped it first). When a wrap under `new_key_ref` exists already
    /// (and the refs differ), it is kept and the old one is removed.
    pub async fn replace_data_key(
        &self,
        dek_id: &str,
        old_key_ref: &str,
        old_wrapped: &[u8],
        new_key_ref: &str,
        new_wrapped: &[u8],
    ) -> Result<bool> {
        let mut tx = self.begin_write_global().await?;
        let old: Option<(Vec<u8>, Option<String>, i64)> = sqlx::query_as(
            "SELECT wrapped, digest, created_at FROM data_keys WHERE dek_id = $1 AND key_ref = $2",
        )
        .bind(dek_id)
        .bind(old_key_ref)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((wrapped, digest, created_at)) = old else {
            return Ok(false);
        };
        if wrapped != old_wrapped {
            return Ok(false);
        }
        sqlx::query("DELETE FROM data_keys WHERE dek_id = $1 AND key_ref = $2")
            .bind(dek_id)
            .bind(old_key_ref)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO data_keys (dek_id, key_ref, wrapped, digest, created_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (dek_id, key_ref) DO NOTHING",
        )
        .bind(dek_id)
        .bind(new_key_ref)
        .bind(new_wrapped.to_vec())
        .bind(digest)
        .bind(created_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// How many wraps each key reference holds, by key reference.
    pub async fn data_key_counts(&self) -> Result<Vec<(String, u64)>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT key_ref, count(*) FROM data_keys GROUP BY key_ref ORDER BY key_ref",
        )
        .fetch_all(&self.reader)
        .await?;
        Ok(rows.into_iter().map(|(k, n)| (k, n as u64)).collect())
    }

    /// The master key versions recorded, with their fingerprints, by version.
    pub async fn master_keys(&self) -> Result<Vec<(u32, String)>> {
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT version, fingerprint FROM master_keys ORDER BY version")
                .fetch_all(&self.reader)
                .await?;
        rows.into_iter()
            .map(|(v, f)| {
                u32::try_from(v)
                    .map(|v| (v, f))
                    .map_err(|_| MetaError::Corrupt(format!("master key version {v}")))
            })
            .collect()
    }

    /// Records that master key `version` has `fingerprint`. Recording the same pair again is a
    /// no-op; `MasterKeyMismatch` when the version is recorded with another fingerprint (a
    /// keyring holding a different key under a version already in use).
    pub async fn record_master_key(&self, version: u32, fingerprint: &str) -> Result<()> {
        let mut tx = self.begin_write_global().await?;
        let known: Option<String> =
            sqlx::query_scalar("SELECT fingerprint FROM master_keys WHERE version = $1")
                .bind(i64::from(version))
                .fetch_optional(&mut *tx)
                .await?;
        match known {
            Some(f) if f == fingerprint => return Ok(()),
            Some(_) => return Err(MetaError::MasterKeyMismatch { version }),
            None => {}
        }
        sqlx::query(
            "INSERT INTO master_keys (version, fingerprint, created_at) VALUES ($1, $2, $3)",
        )
        .bind(i64::from(version))
        .bind(fingerprint)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether the blob's stored bytes are sealed; `None` when the blob is not recorded.
    pub async fn blob_sealed(&self, digest: &Digest) -> Result<Option<bool>> {
        let sealed: Option<i64> = sqlx::query_scalar("SELECT sealed FROM blobs WHERE digest = $1")
            .bind(digest.to_string())
            .fetch_optional(&self.reader)
            .await?;
        Ok(sealed.map(|s| s != 0))
    }

    /// Up to `limit` recorded blobs still stored in plaintext, as `(digest, size)` in digest
    /// order after `after`: how the re-encryption job walks them.
    pub async fn unsealed_blobs(
        &self,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<(Digest, u64)>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT digest, size FROM blobs WHERE sealed = 0 AND digest > $1
             ORDER BY digest LIMIT $2",
        )
        .bind(after.unwrap_or(""))
        .bind(limit)
        .fetch_all(&self.reader)
        .await?;
        rows.into_iter()
            .map(|(d, size)| Ok((parse_digest(&d)?, size as u64)))
            .collect()
    }

    /// How many recorded blobs are still stored in plaintext.
    pub async fn count_unsealed_blobs(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM blobs WHERE sealed = 0")
            .fetch_one(&self.reader)
            .await?;
        Ok(n as u64)
    }

    /// Marks a blob sealed under `dek_id` (its bytes were rewritten sealed) and binds every wrap
    /// of that DEK to the digest, in one transaction. `false`, changing nothing, when the blob
    /// row is gone (collected meanwhile).
    pub async fn mark_blob_sealed(&self, digest: &Digest, dek_id: &str) -> Result<bool> {
        let digest = digest.to_string();
        let mut tx = self.begin_write_global().await?;
        let updated = sqlx::query("UPDATE blobs SET sealed = 1 WHERE digest = $1")
            .bind(&digest)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if updated == 0 {
            return Ok(false);
        }
        bind_data_key(&mut tx, dek_id, &digest).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The distinct `(encryption_type, kms_key)` settings of the repositories that link the
    /// blob, sorted (a `None` key first): which keys its DEK must be wrapped under.
    pub async fn blob_encryption_settings(
        &self,
        digest: &Digest,
    ) -> Result<Vec<(String, Option<String>)>> {
        let mut rows: Vec<(String, Option<String>)> = sqlx::query_as(
            "SELECT DISTINCT r.encryption_type, r.kms_key FROM repository_blobs rb
             JOIN repositories r ON r.id = rb.repository_id WHERE rb.digest = $1",
        )
        .bind(digest.to_string())
        .fetch_all(&self.reader)
        .await?;
        rows.sort();
        Ok(rows)
    }

    /// Deletes the wraps created before `cutoff_unix` whose DEK no upload uses and that are
    /// either unbound (their upload was abandoned) or bound to a blob no longer recorded;
    /// answers how many were deleted.
    pub async fn prune_data_keys(&self, cutoff_unix: i64) -> Result<u64> {
        let res = sqlx::query(
            "DELETE FROM data_keys WHERE created_at < $1
             AND NOT EXISTS (SELECT 1 FROM uploads u WHERE u.dek_id = data_keys.dek_id)
             AND (digest IS NULL
                  OR NOT EXISTS (SELECT 1 FROM blobs b WHERE b.digest = data_keys.digest))",
        )
        .bind(cutoff_unix)
        .execute(&self.writer)
        .await?;
        Ok(res.rows_affected())
    }
}
