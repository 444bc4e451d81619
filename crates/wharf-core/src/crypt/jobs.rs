//! The background work of encryption at rest: sealing the blobs of an install that predates it
//! (online: each blob is read, sealed into scratch, verified and swapped in while the registry
//! serves), rewrapping data keys after a master-key rotation or a KMS key rotation (the wraps
//! change, the blob bytes never do), and the start-up check of the master keyring.

use super::keys::{KeyRef, Target};
use crate::{CoreError, Registry};
use std::collections::BTreeSet;
use wharf_blob::seal::Sealer;
use wharf_blob::Ingest;
use wharf_oci::Digest;

/// Blobs read per page of the sealing job, and wraps per page of a rewrap.
const PAGE: i64 = 200;

/// What a sealing run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SealReport {
    /// Blobs sealed and swapped in.
    pub sealed: u64,
    /// Their plaintext bytes.
    pub bytes: u64,
    /// Blobs left unsealed this run (gone meanwhile, unreadable, or a key refused); named in
    /// the log.
    pub skipped: u64,
}

/// What a rewrap run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RewrapReport {
    pub master: u64,
    pub kms: u64,
    /// Wraps that changed meanwhile or whose key refused (named in the log).
    pub skipped: u64,
}

/// Where encryption at rest stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptionStatus {
    /// Whether new blobs are sealed.
    pub sealing: bool,
    /// The master key versions the database knows, with fingerprints.
    pub master_versions: Vec<(u32, String)>,
    /// The version new data keys are wrapped under (`None` without a keyring).
    pub current_master: Option<u32>,
    /// Blobs still stored in plaintext.
    pub unsealed_blobs: u64,
    /// Data-key wraps per key reference (`master:<v>`, `kms:<arn>`).
    pub wraps: Vec<(String, u64)>,
}

impl Registry {
    /// Checks the loaded master keyring against the versions the database recorded: every
    /// recorded version must be present with the same fingerprint, and no wrap may name a
    /// version the keyring lacks. New versions are recorded. The error says what is wrong.
    pub async fn check_master_keys(&self) -> Result<(), CoreError> {
        let Some(ring) = self.keys.master() else {
            return Ok(());
        };
        let recorded = self.meta.master_keys().await?;
        let loaded = ring.versions();
        for (v, fp) in &recorded {
            match loaded.iter().find(|(lv, _)| lv == v) {
                Some((_, lfp)) if lfp == fp => {}
                Some((_, lfp)) => {
                    return Err(CoreError::InvalidParameter(format!(
                        "master key version {v} has fingerprint {lfp}, but this registry's data was encrypted with version {v} of fingerprint {fp}: wrong master key"
                    )))
                }
                None => {
                    let wraps = self.wraps_under(&KeyRef::Master(*v)).await?;
                    if wraps > 0 {
                        return Err(CoreError::InvalidParameter(format!(
                            "master key version {v} (fingerprint {fp}) is missing from the keyring, and {wraps} data keys are wrapped under it"
                        )));
                    }
                }
            }
        }
        for (v, fp) in &loaded {
            if !recorded.iter().any(|(rv, _)| rv == v) {
                self.meta.record_master_key(*v, fp).await?;
            }
        }
        Ok(())
    }

    async fn wraps_under(&self, r: &KeyRef) -> Result<u64, CoreError> {
        let name = r.to_string();
        Ok(self
            .meta
            .data_key_counts()
            .await?
            .into_iter()
            .find(|(k, _)| *k == name)
            .map_or(0, |(_, n)| n))
    }

    /// The master key versions the database recorded, with fingerprints: what a keyring must
    /// hold to read this registry's data (empty before any data was sealed).
    pub async fn recorded_master_keys(&self) -> Result<Vec<(u32, String)>, CoreError> {
        Ok(self.meta.master_keys().await?)
    }

    /// Where encryption at rest stands.
    pub async fn encryption_status(&self) -> Result<EncryptionStatus, CoreError> {
        Ok(EncryptionStatus {
            sealing: self.keys.seals(),
            master_versions: self.meta.master_keys().await?,
            current_master: self.keys.master().map(|m| m.current()),
            unsealed_blobs: self.meta.count_unsealed_blobs().await?,
            wraps: self.meta.data_key_counts().await?,
        })
    }

    /// Seals every blob still stored in plaintext. Each is read, hashed and sealed under a new
    /// data key wrapped for every key of the repositories holding it, written to scratch,
    /// verified against its digest, and only then swapped in at its address; readers see the
    /// old bytes or the new, both correct. A blob that cannot be sealed now is skipped (and
    /// logged) so one bad blob does not stop the rest.
    pub async fn seal_legacy_blobs(&self) -> Result<SealReport, CoreError> {
        let mut report = SealReport::default();
        if !self.keys.seals() {
            return Ok(report);
        }
        let mut after: Option<String> = None;
        loop {
            let page = self.meta.unsealed_blobs(after.as_deref(), PAGE).await?;
            let Some((last, _)) = page.last() else {
                break;
            };
            after = Some(last.to_string());
            for (digest, size) in page {
                match self.seal_one(&digest, size).await {
                    Ok(true) => {
                        report.sealed += 1;
                        report.bytes += size;
                    }
                    Ok(false) => report.skipped += 1,
                    // A database or store that is away fails the next page and the job retries.
                    Err(e) => {
                        tracing::warn!(%digest, error = %e, "sealing a stored blob failed; it stays in plaintext for now");
                        report.skipped += 1;
                    }
                }
            }
        }
        Ok(report)
    }

    /// Seals one plaintext blob; `false` when it went away meanwhile.
    async fn seal_one(&self, digest: &Digest, size: u64) -> Result<bool, CoreError> {
        // Bytes sealed already (a re-push replaced them) only need the row to say so.
        if size > 0 {
            match self.stored_header(digest).await {
                Ok(Some(h)) => {
                    return Ok(self
                        .meta
                        .mark_blob_sealed(digest, &h.dek_id.to_hex())
                        .await?)
                }
                Ok(None) => {}
                Err(CoreError::BlobUnknown) => return Ok(false),
                Err(e) => return Err(e),
            }
        }
        let targets: BTreeSet<Target> = self
            .meta
            .blob_encryption_settings(digest)
            .await?
            .iter()
            .map(|(t, k)| Target::of(t, k.as_deref()))
            .collect();
        let mut targets = targets.into_iter();
        let first = targets.next().unwrap_or(Target::Master);
        let (u, key_ref, wrapped) = self.keys.new_data_key(&first).await?;
        let dek = u.id().to_hex();
        self.meta
            .insert_data_key(&dek, &key_ref.to_string(), &wrapped)
            .await?;
        for t in targets {
            let (r, w) = self.keys.wrap(&t, &u).await?;
            self.meta.insert_data_key(&dek, &r.to_string(), &w).await?;
        }
        let plain = match self.blobs.read(digest, 0, size).await {
            Ok(s) => s,
            Err(wharf_blob::BlobError::NotFound) => return Ok(false),
            Err(e) => return Err(e.into()),
        };
        let id = uuid::Uuid::new_v4().to_string();
        self.blobs.create_upload(&id).await?;
        let ingest = Ingest::sealed(digest.algorithm().hasher(), Sealer::at_start(u.key.clone()));
        let appended = match self.blobs.append_upload(&id, 0, plain, ingest).await {
            Ok(a) => a,
            Err(e) => {
                self.blobs.delete_upload(&id).await?;
                return Err(e.into());
            }
        };
        let received = appended.ingest.received();
        let actual = appended.ingest.into_hasher().finish();
        if received != size || &actual != digest {
            self.blobs.delete_upload(&id).await?;
            return Err(CoreError::Integrity(format!(
                "blob {digest} holds {received} bytes of digest {actual}, not its recorded {size} bytes"
            )));
        }
        self.meta.bind_data_key(&dek, digest).await?;
        self.blobs.commit_upload(&id, digest, true).await?;
        Ok(self.meta.mark_blob_sealed(digest, &dek).await?)
    }

    /// Rewraps data keys: those under an older master key version move to the current one;
    /// with `kms`, those under KMS keys are decrypted and encrypted again under the same key,
    /// so they use its newest key material. Blob bytes are never rewritten.
    pub async fn rewrap_data_keys(&self, kms: bool) -> Result<RewrapReport, CoreError> {
        let mut report = RewrapReport::default();
        let Some(ring) = self.keys.master() else {
            return Ok(report);
        };
        let current = ring.current();
        let mut prefixes = vec!["master:"];
        if kms {
            prefixes.push("kms:");
        }
        for prefix in prefixes {
            let mut after: Option<(String, String)> = None;
            loop {
                let page = self
                    .meta
                    .data_keys_page(
                        prefix,
                        after.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
                        PAGE,
                    )
                    .await?;
                let Some(last) = page.last() else {
                    break;
                };
                after = Some((last.key_ref.clone(), last.dek_id.clone()));
                for row in page {
                    let Some(old) = KeyRef::parse(&row.key_ref) else {
                        continue;
                    };
                    if old == KeyRef::Master(current) {
                        continue;
                    }
                    let Some(dek) = wharf_blob::seal::DekId::from_hex(&row.dek_id) else {
                        continue;
                    };
                    let step = async {
                        let u = self.keys.unwrap_uncached(&old, dek, &row.wrapped).await?;
                        let (new_ref, wrapped) = self.keys.wrap(&old.target(), &u).await?;
                        Ok::<_, CoreError>(
                            self.meta
                                .replace_data_key(
                                    &row.dek_id,
                                    &row.key_ref,
                                    &row.wrapped,
                                    &new_ref.to_string(),
                                    &wrapped,
                                )
                                .await?,
                        )
                    };
                    match step.await {
                        Ok(true) if matches!(old, KeyRef::Master(_)) => report.master += 1,
                        Ok(true) => report.kms += 1,
                        Ok(false) => report.skipped += 1,
                        Err(e) => {
                            tracing::warn!(dek = %row.dek_id, key = %row.key_ref, error = %e, "rewrapping a data key failed");
                            report.skipped += 1;
                        }
                    }
                }
            }
        }
        Ok(report)
    }

    /// Removes wraps of data keys no upload and no blob uses any more, created before
    /// `cutoff_unix`. Returns how many went.
    pub async fn prune_data_keys(&self, cutoff_unix: i64) -> Result<u64, CoreError> {
        Ok(self.meta.prune_data_keys(cutoff_unix).await?)
    }
}
