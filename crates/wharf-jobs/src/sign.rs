//! The `sign` job: one pushed image signed with one signing profile
//! (`Registry::sign_image` pushes the cosign signature), then its status recorded: `COMPLETE`,
//! or `FAILED` with a failure code when retrying cannot help or the attempts run out. While the
//! queue retries a transient failure the status stays `IN_PROGRESS`.

use crate::JobError;
use wharf_core::signing::SignError;
use wharf_core::{AccountId, JobKind, Registry, Repo};
use wharf_oci::{Digest, RepoName};

/// A sign job's payload, parsed.
pub(crate) struct Target {
    repo: Repo,
    digest: Digest,
    profile_arn: String,
}

impl Target {
    pub(crate) fn parse(
        account: &str,
        repository: &str,
        digest: &str,
        profile_arn: &str,
    ) -> Result<Target, JobError> {
        let bad = |what: &str| JobError::Permanent(format!("sign job with a bad {what}"));
        let account: AccountId = account.parse().map_err(|_| bad("account"))?;
        let name: RepoName = repository.parse().map_err(|_| bad("repository"))?;
        Ok(Target {
            repo: Repo::new(account, name),
            digest: digest.parse().map_err(|_| bad("digest"))?,
            profile_arn: profile_arn.to_string(),
        })
    }
}

pub(crate) async fn run(registry: &Registry, t: &Target) -> Result<(), JobError> {
    match registry
        .sign_image(&t.repo, &t.digest, &t.profile_arn)
        .await
    {
        Ok(None) => {
            tracing::info!(repository = %t.repo.qualified(), digest = %t.digest, "sign job skipped: the image is gone");
            Ok(())
        }
        Ok(Some(signature)) => {
            registry
                .set_signing_status(&t.repo, &t.digest, &t.profile_arn, "COMPLETE", None)
                .await?;
            tracing::info!(
                repository = %t.repo.qualified(),
                digest = %t.digest,
                profile = %t.profile_arn,
                %signature,
                "signed an image"
            );
            Ok(())
        }
        Err(SignError::Permanent { code, message }) => {
            registry
                .set_signing_status(
                    &t.repo,
                    &t.digest,
                    &t.profile_arn,
                    "FAILED",
                    Some((&code, &message)),
                )
                .await?;
            Err(JobError::Permanent(format!("{code}: {message}")))
        }
        Err(SignError::Transient(m)) => Err(JobError::Transient(m)),
    }
}

/// A sign job out of attempts leaves its status FAILED (a permanent failure recorded its own).
pub(crate) async fn gave_up(registry: &Registry, job: &JobKind, error: &str) {
    let JobKind::Sign {
        account,
        repository,
        digest,
        profile_arn,
    } = job
    else {
        return;
    };
    let Ok(t) = Target::parse(account, repository, digest, profile_arn) else {
        return;
    };
    if let Ok(rows) = registry.signing_statuses(&t.repo, &t.digest).await {
        if rows
            .iter()
            .any(|r| r.profile_arn == t.profile_arn && r.status == "FAILED")
        {
            return;
        }
    }
    tracing::warn!(repository = %t.repo.qualified(), %digest, profile = %profile_arn, %error, "signing gave up");
    let reason = format!("The signature could not be stored: {error}");
    if let Err(e) = registry
        .set_signing_status(
            &t.repo,
            &t.digest,
            &t.profile_arn,
            "FAILED",
            Some(("SIGNING_FAILED", &reason)),
        )
        .await
    {
        tracing::warn!(error = %e, "recording a failed signing failed");
    }
}
