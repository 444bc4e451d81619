//! Managed signing (ECR's Put/Get/DeleteSigningConfiguration and DescribeImageSigningStatus):
//! signing profiles are Wharf-held ECDSA P-256 keys (`keys.rs` seals them under the master
//! keyring); a push of a new image enqueues, in its own transaction, one `sign` job for all the
//! profiles its registry's rules select (`config.rs`) and records `IN_PROGRESS` for each. The job
//! pushes one cosign-compatible signature manifest (`cosign.rs`, a layer per profile) into the
//! same repository, under the tag `sha256-<hex>.sig` and as an OCI referrer of the image, then
//! records `COMPLETE` or `FAILED` per profile. One job per image means one writer per `.sig` tag
//! (two jobs racing would each overwrite the other's tag).
//! Signatures themselves (manifests with a subject, or carrying a simple-signing layer) are never
//! signed again, so signing cannot loop.

pub mod config;
pub mod cosign;
mod keys;

pub use config::{ProfileArn, SigningConfiguration, SigningRepositoryFilter, SigningRule};

use crate::{AccountId, CoreError, JobKind, Registry, Repo};
use bytes::Bytes;
use wharf_meta::{NewJob, SigningProfileRecord, SigningStatusRecord};
use wharf_oci::{Digest, Manifest, Reference, Tag};

/// Attempts a sign job gets (the queue backs off between them).
pub const SIGN_ATTEMPTS: u32 = 10;

/// Why a signing attempt failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    /// Worth retrying (the database or blob store was away).
    #[error("{0}")]
    Transient(String),
    /// Retrying cannot help; `code` becomes the status's `failureCode`.
    #[error("{code}: {message}")]
    Permanent { code: String, message: String },
}

impl SignError {
    fn permanent(code: &str, message: impl Into<String>) -> SignError {
        SignError::Permanent {
            code: code.to_string(),
            message: message.into(),
        }
    }
}

impl From<CoreError> for SignError {
    fn from(e: CoreError) -> SignError {
        SignError::Transient(e.to_string())
    }
}

impl From<wharf_meta::MetaError> for SignError {
    fn from(e: wharf_meta::MetaError) -> SignError {
        SignError::Transient(e.to_string())
    }
}

/// Whether a manifest is itself a signature or another referrer: those are not signed.
pub(crate) fn is_signable(manifest: &Manifest) -> bool {
    manifest.subject.is_none()
        && !manifest
            .layers
            .iter()
            .any(|l| l.media_type == cosign::SIMPLE_SIGNING)
}

impl Registry {
    /// Creates a signing profile with a new key; its ARN. `None` when the account already has a
    /// profile of that name.
    pub async fn create_signing_profile(
        &self,
        account: &AccountId,
        name: &str,
    ) -> Result<Option<ProfileArn>, CoreError> {
        if !config::valid_profile_name(name) {
            return Err(CoreError::InvalidParameter(
                "signing profile names are 2 to 64 characters of letters, digits and _".into(),
            ));
        }
        let (pkcs8, public_key) =
            cosign::generate_key().map_err(|e| CoreError::Internal(e.to_string()))?;
        let pkcs8 = zeroize::Zeroizing::new(pkcs8);
        let (private_key, key_wrap) =
            keys::seal(self.keys.master(), account.as_str(), name, &pkcs8);
        let created = self
            .meta
            .create_signing_profile(&SigningProfileRecord {
                account: account.to_string(),
                name: name.to_string(),
                private_key,
                key_wrap,
                public_key,
                created_at: crate::unix_now(),
            })
            .await?;
        Ok(created.then(|| ProfileArn::new(self.region(), account.as_str(), name)))
    }

    /// The stored profile an ARN names (in this region), if any.
    pub async fn signing_profile(
        &self,
        arn: &ProfileArn,
    ) -> Result<Option<SigningProfileRecord>, CoreError> {
        if arn.region != self.region() {
            return Ok(None);
        }
        Ok(self.meta.signing_profile(&arn.account, &arn.name).await?)
    }

    /// The PEM public key of an account's profile, if it exists.
    pub async fn signing_public_key(
        &self,
        account: &AccountId,
        name: &str,
    ) -> Result<Option<String>, CoreError> {
        Ok(self
            .meta
            .signing_profile(account.as_str(), name)
            .await?
            .map(|p| cosign::public_key_pem(&p.public_key)))
    }

    /// The account's signing configuration, if one was put.
    pub async fn signing_configuration(
        &self,
        account: &AccountId,
    ) -> Result<Option<SigningConfiguration>, CoreError> {
        self.meta
            .signing_config(account.as_str())
            .await?
            .map(|text| parse_config(&text))
            .transpose()
    }

    /// Replaces the account's signing configuration. Every rule must name a profile of this
    /// account in this region; otherwise the ECR `InvalidParameterException` message.
    pub async fn put_signing_configuration(
        &self,
        account: &AccountId,
        config: &SigningConfiguration,
    ) -> Result<Result<(), String>, CoreError> {
        for rule in &config.rules {
            let arn = &rule.signing_profile_arn;
            let known = match ProfileArn::parse(arn) {
                Some(p) if p.account == account.as_str() => {
                    self.signing_profile(&p).await?.is_some()
                }
                _ => false,
            };
            if !known {
                return Ok(Err(format!(
                    "Invalid parameter at 'signingConfiguration' failed to satisfy constraint: 'Signing profile {arn} does not exist in registry {account} (create it with `wharf admin create-signing-profile`)'"
                )));
            }
            for f in rule.repository_filters.iter().flatten() {
                if f.filter_type != "WILDCARD_MATCH" {
                    return Ok(Err(format!(
                        "Invalid parameter at 'filterType' failed to satisfy constraint: 'Member must satisfy enum value set: [WILDCARD_MATCH]' ({})",
                        f.filter_type
                    )));
                }
            }
        }
        let text = serde_json::to_string(config)
            .map_err(|e| CoreError::Internal(format!("signing configuration: {e}")))?;
        self.meta
            .put_signing_config(account.as_str(), &text)
            .await?;
        Ok(Ok(()))
    }

    /// Removes the account's signing configuration; the one removed, if there was one.
    pub async fn delete_signing_configuration(
        &self,
        account: &AccountId,
    ) -> Result<Option<SigningConfiguration>, CoreError> {
        self.meta
            .delete_signing_config(account.as_str())
            .await?
            .map(|text| parse_config(&text))
            .transpose()
    }

    /// The sign job a push of `manifest` to `repo` enqueues, with the profile ARNs it signs with.
    pub(crate) async fn signing_job(
        &self,
        repo: &Repo,
        digest: &Digest,
        manifest: &Manifest,
    ) -> Result<Option<(NewJob, Vec<String>)>, CoreError> {
        if !is_signable(manifest) {
            return Ok(None);
        }
        let Some(config) = self.signing_configuration(&repo.account).await? else {
            return Ok(None);
        };
        let arns = config.profiles_for(repo.name.as_str());
        if arns.is_empty() {
            return Ok(None);
        }
        let job = JobKind::Sign {
            account: repo.account.to_string(),
            repository: repo.name.to_string(),
            digest: digest.to_string(),
            profile_arns: arns.clone(),
        }
        .new_job()
        .max_attempts(SIGN_ATTEMPTS);
        Ok(Some((job, arns)))
    }

    /// An image's signing status per profile.
    pub async fn signing_statuses(
        &self,
        repo: &Repo,
        digest: &Digest,
    ) -> Result<Vec<SigningStatusRecord>, CoreError> {
        Ok(self.meta.signing_statuses(repo.key(), digest).await?)
    }

    /// Records where an image's signing by a profile stands (nothing when the image is gone).
    pub async fn set_signing_status(
        &self,
        repo: &Repo,
        digest: &Digest,
        profile_arn: &str,
        status: &str,
        failure: Option<(&str, &str)>,
    ) -> Result<(), CoreError> {
        self.meta
            .set_signing_status(repo.key(), digest, profile_arn, status, failure)
            .await?;
        Ok(())
    }

    /// Signs one image with each of `profile_arns`: pushes the payload and config blobs, then
    /// one signature manifest holding every signature (and other profiles' earlier ones) under
    /// `sha256-<hex>.sig`, with the image as its subject. `None` when the image is gone; else
    /// each profile's outcome (a profile that cannot sign fails alone).
    pub async fn sign_image(
        &self,
        repo: &Repo,
        digest: &Digest,
        profile_arns: &[String],
    ) -> Result<Option<Vec<(String, Result<(), SignError>)>>, SignError> {
        let Some(image) = self
            .meta
            .get_manifest(repo.key(), &Reference::Digest(digest.clone()))
            .await?
        else {
            return Ok(None);
        };
        let reference = format!("{}/{}", self.registry_host, repo.name);
        let payload = cosign::payload(&reference, digest);
        let mut outcomes = Vec::new();
        // (public key, signature) of each profile that signed.
        let mut signed: Vec<(Vec<u8>, String)> = Vec::new();
        for arn in profile_arns {
            match self.sign_with(arn, &payload).await {
                Ok(pair) => {
                    signed.push(pair);
                    outcomes.push((arn.clone(), Ok(())));
                }
                Err(SignError::Transient(m)) => return Err(SignError::Transient(m)),
                Err(e) => outcomes.push((arn.clone(), Err(e))),
            }
        }
        if signed.is_empty() {
            return Ok(Some(outcomes));
        }
        let tag: Tag = cosign::signature_tag(digest)
            .parse()
            .map_err(|_| SignError::permanent("INVALID_DIGEST", "no signature tag"))?;
        // Other profiles' signatures of this image stay in the `.sig` manifest beside ours (as
        // cosign keeps them); an earlier signature by one of these profiles (a retried job) is
        // replaced.
        let current = self
            .meta
            .get_manifest(repo.key(), &Reference::Tag(tag.clone()))
            .await?;
        let others: Vec<serde_json::Value> = current
            .map(|m| cosign::signature_layers(&m.body))
            .unwrap_or_default()
            .into_iter()
            .filter(|l| {
                let sig = l["annotations"][cosign::SIGNATURE_ANNOTATION]
                    .as_str()
                    .unwrap_or("");
                !signed
                    .iter()
                    .any(|(key, _)| cosign::verify(key, &payload, sig).unwrap_or(false))
            })
            .collect();
        let signatures: Vec<String> = signed.into_iter().map(|(_, s)| s).collect();
        let artifact = cosign::signature_artifact(
            payload,
            &signatures,
            (&image.media_type, digest, image.body.len()),
            others,
        );
        for (d, bytes) in [
            (&artifact.payload_digest, &artifact.payload),
            (&artifact.config_digest, &artifact.config),
        ] {
            let body = Bytes::from(bytes.clone());
            let stream: wharf_blob::ByteStream =
                Box::pin(futures::stream::once(async move { Ok(body) }));
            self.push_blob(repo, d, stream).await?;
        }
        let media = Some(wharf_oci::media::OCI_MANIFEST);
        match self
            .put_manifest(repo, &Reference::Tag(tag), &[], media, &artifact.manifest)
            .await
        {
            // An immutable repository keeps its first `.sig` tag; the signature is still stored
            // and found as a referrer.
            Err(CoreError::ImageTagAlreadyExists { .. }) => {
                let d = wharf_oci::Digest::of(wharf_oci::Algorithm::Sha256, &artifact.manifest);
                self.put_manifest(repo, &Reference::Digest(d), &[], media, &artifact.manifest)
                    .await?;
            }
            other => {
                other?;
            }
        }
        Ok(Some(outcomes))
    }

    /// One profile's signature of `payload`, with the profile's public key.
    async fn sign_with(&self, arn: &str, payload: &[u8]) -> Result<(Vec<u8>, String), SignError> {
        let not_found = || {
            SignError::permanent(
                "SIGNING_PROFILE_NOT_FOUND",
                format!("the signing profile {arn} does not exist"),
            )
        };
        let parsed = ProfileArn::parse(arn).ok_or_else(not_found)?;
        let profile = self.signing_profile(&parsed).await?.ok_or_else(not_found)?;
        let pkcs8 = keys::open(
            self.keys.master(),
            &profile.account,
            &profile.name,
            &profile.private_key,
            profile.key_wrap.as_deref(),
        )
        .ok_or_else(|| {
            SignError::permanent(
                "SIGNING_KEY_UNAVAILABLE",
                "the master keyring cannot open the signing profile's key",
            )
        })?;
        let signature = cosign::sign(&pkcs8, payload)
            .map_err(|e| SignError::permanent("SIGNING_KEY_UNAVAILABLE", e.to_string()))?;
        Ok((profile.public_key, signature))
    }
}

fn parse_config(text: &str) -> Result<SigningConfiguration, CoreError> {
    serde_json::from_str(text)
        .map_err(|e| CoreError::Internal(format!("stored signing configuration: {e}")))
}
