//! Managed signing state: signing profiles (Wharf-held keys, stored sealed), each registry's
//! signing configuration (ECR's PutSigningConfiguration body as validated JSON) and the
//! per-profile signing status of every image (`IN_PROGRESS` from the push transaction, then
//! `COMPLETE` or `FAILED` from the sign job). Nothing caches them, so their writes never move the
//! cache epoch.

use crate::{now, MetaStore, RepoKey, Result};
use sqlx::{Any, Executor};
use wharf_oci::Digest;

/// A signing profile's stored key material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningProfileRecord {
    pub account: String,
    pub name: String,
    /// Sealed PKCS#8 (or the PKCS#8 itself when `key_wrap` is `None`).
    pub private_key: Vec<u8>,
    /// The profile key wrapped by the master keyring.
    pub key_wrap: Option<Vec<u8>>,
    /// SubjectPublicKeyInfo DER.
    pub public_key: Vec<u8>,
    pub created_at: i64,
}

/// One image's signing by one profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningStatusRecord {
    pub profile_arn: String,
    pub status: String,
    pub failure_code: Option<String>,
    pub failure_reason: Option<String>,
    pub updated_at: i64,
}

type ProfileRow = (String, String, Vec<u8>, Option<Vec<u8>>, Vec<u8>, i64);
type StatusRow = (String, String, Option<String>, Option<String>, i64);

impl MetaStore {
    /// Stores a new signing profile; false when the account already has one by that name.
    pub async fn create_signing_profile(&self, p: &SigningProfileRecord) -> Result<bool> {
        Ok(sqlx::query(
            "INSERT INTO signing_profiles (account_id, name, private_key, key_wrap, public_key, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        )
        .bind(&p.account)
        .bind(&p.name)
        .bind(&p.private_key)
        .bind(&p.key_wrap)
        .bind(&p.public_key)
        .bind(p.created_at)
        .execute(&self.writer)
        .await?
        .rows_affected()
            > 0)
    }

    /// One signing profile of an account.
    pub async fn signing_profile(
        &self,
        account: &str,
        name: &str,
    ) -> Result<Option<SigningProfileRecord>> {
        let row: Option<ProfileRow> = sqlx::query_as(
            "SELECT account_id, name, private_key, key_wrap, public_key, created_at
             FROM signing_profiles WHERE account_id = $1 AND name = $2",
        )
        .bind(account)
        .bind(name)
        .fetch_optional(&self.reader)
        .await?;
        Ok(row.map(
            |(account, name, private_key, key_wrap, public_key, created_at)| SigningProfileRecord {
                account,
                name,
                private_key,
                key_wrap,
                public_key,
                created_at,
            },
        ))
    }

    /// The account's signing configuration JSON, if one was put.
    pub async fn signing_config(&self, account: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT body FROM signing_configs WHERE account_id = $1")
                .bind(account)
                .fetch_optional(&self.reader)
                .await?,
        )
    }

    /// Replaces the account's signing configuration.
    pub async fn put_signing_config(&self, account: &str, body: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO signing_configs (account_id, body, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (account_id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
        )
        .bind(account)
        .bind(body)
        .bind(now())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Removes the account's signing configuration; the one removed, if there was one.
    pub async fn delete_signing_config(&self, account: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("DELETE FROM signing_configs WHERE account_id = $1 RETURNING body")
                .bind(account)
                .fetch_optional(&self.writer)
                .await?,
        )
    }

    /// Records where an image's signing by one profile stands (false when the image is gone).
    pub async fn set_signing_status(
        &self,
        repo: RepoKey<'_>,
        digest: &Digest,
        profile_arn: &str,
        status: &str,
        failure: Option<(&str, &str)>,
    ) -> Result<bool> {
        upsert_status(
            &self.writer,
            repo,
            digest,
            profile_arn,
            status,
            failure,
            now(),
        )
        .await
    }

    /// An image's signing statuses, ordered by profile ARN.
    pub async fn signing_statuses(
        &self,
        repo: RepoKey<'_>,
        digest: &Digest,
    ) -> Result<Vec<SigningStatusRecord>> {
        let rows: Vec<StatusRow> = sqlx::query_as(
            "SELECT s.profile_arn, s.status, s.failure_code, s.failure_reason, s.updated_at
             FROM signing_statuses s JOIN repositories r ON r.id = s.repository_id
             WHERE r.account_id = $1 AND r.name = $2 AND s.manifest_digest = $3
             ORDER BY s.profile_arn",
        )
        .bind(repo.account)
        .bind(repo.name)
        .bind(digest.to_string())
        .fetch_all(&self.reader)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(profile_arn, status, failure_code, failure_reason, updated_at)| {
                    SigningStatusRecord {
                        profile_arn,
                        status,
                        failure_code,
                        failure_reason,
                        updated_at,
                    }
                },
            )
            .collect())
    }
}

/// Inserts or replaces one status row for an existing manifest, on any executor (the push
/// transaction writes `IN_PROGRESS` rows with it).
pub(crate) async fn upsert_status<'e, E>(
    executor: E,
    repo: RepoKey<'_>,
    digest: &Digest,
    profile_arn: &str,
    status: &str,
    failure: Option<(&str, &str)>,
    at: i64,
) -> Result<bool>
where
    E: Executor<'e, Database = Any>,
{
    let res = sqlx::query(
        "INSERT INTO signing_statuses (repository_id, manifest_digest, profile_arn, status, failure_code, failure_reason, updated_at)
         SELECT m.repository_id, m.digest, $1, $2, $3, $4, $5 FROM manifests m
         JOIN repositories r ON r.id = m.repository_id
         WHERE r.account_id = $6 AND r.name = $7 AND m.digest = $8
         ON CONFLICT (repository_id, manifest_digest, profile_arn) DO UPDATE SET
             status = excluded.status, failure_code = excluded.failure_code,
             failure_reason = excluded.failure_reason, updated_at = excluded.updated_at",
    )
    .bind(profile_arn)
    .bind(status)
    .bind(failure.map(|f| f.0))
    .bind(failure.map(|f| f.1))
    .bind(at)
    .bind(repo.account)
    .bind(repo.name)
    .bind(digest.to_string())
    .execute(executor)
    .await?;
    Ok(res.rows_affected() > 0)
}
