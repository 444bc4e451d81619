//! The `sign` job: one pushed image signed with its signing profiles
//! (`Registry::sign_image` pushes one cosign signature manifest for all of them), then each
//! profile's status recorded: `COMPLETE`, or `FAILED` with a failure code when retrying cannot
//! help or the attempts run out. While the queue retries a transient failure the statuses stay
//! `IN_PROGRESS`.

use crate::JobError;
use wharf_core::signing::SignError;
use wharf_core::{AccountId, JobKind, Registry, Repo};
use wharf_oci::{Digest, RepoName};

/// A sign job's payload, parsed.
pub(crate) struct Target {
    repo: Repo,
    digest: Digest,
    profile_arns: Vec<String>,
}

impl Target {
    pub(crate) fn parse(
        account: &str,
        repository: &str,
        digest: &str,
        profile_arns: &[String],
    ) -> Result<Target, JobError> {
        let bad = |what: &str| JobError::Permanent(format!("sign job with a bad {what}"));
        let account: AccountId = account.parse().map_err(|_| bad("account"))?;
        let name: RepoName = repository.parse().map_err(|_| bad("repository"))?;
        Ok(Target {
            repo: Repo::new(account, name),
            digest: digest.parse().map_err(|_| bad("digest"))?,
            profile_arns: profile_arns.to_vec(),
        })
    }
}

pub(crate) async fn run(registry: &Registry, t: &Target) -> Result<(), JobError> {
    let outcomes = match registry
        .sign_image(&t.repo, &t.digest, &t.profile_arns)
        .await
    {
        Ok(Some(outcomes)) => outcomes,
        Ok(None) => {
            tracing::info!(repository = %t.repo.qualified(), digest = %t.digest, "sign job skipped: the image is gone");
            return Ok(());
        }
        Err(SignError::Transient(m)) => return Err(JobError::Transient(m)),
        Err(SignError::Permanent { code, message }) => {
            for arn in &t.profile_arns {
                registry
                    .set_signing_status(&t.repo, &t.digest, arn, "FAILED", Some((&code, &message)))
                    .await?;
            }
            return Err(JobError::Permanent(format!("{code}: {message}")));
        }
    };
    let mut failed = Vec::new();
    for (arn, outcome) in &outcomes {
        match outcome {
            Ok(()) => {
                registry
                    .set_signing_status(&t.repo, &t.digest, arn, "COMPLETE", None)
                    .await?;
                tracing::info!(repository = %t.repo.qualified(), digest = %t.digest, profile = %arn, "signed an image");
            }
            Err(e) => {
                let (code, message) = match e {
                    SignError::Permanent { code, message } => (code.as_str(), message.as_str()),
                    SignError::Transient(m) => ("SIGNING_FAILED", m.as_str()),
                };
                registry
                    .set_signing_status(&t.repo, &t.digest, arn, "FAILED", Some((code, message)))
                    .await?;
                failed.push(format!("{arn}: {code}: {message}"));
            }
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(JobError::Permanent(failed.join("; ")))
    }
}

/// A sign job out of attempts leaves its status FAILED (a permanent failure recorded its own).
pub(crate) async fn gave_up(registry: &Registry, job: &JobKind, error: &str) {
    let JobKind::Sign {
        account,
        repository,
        digest,
        profile_arns,
    } = job
    else {
        return;
    };
    let Ok(t) = Target::parse(account, repository, digest, profile_arns) else {
        return;
    };
    let done: Vec<String> = match registry.signing_statuses(&t.repo, &t.digest).await {
        Ok(rows) => rows
            .into_iter()
            .filter(|r| r.status != "IN_PROGRESS")
            .map(|r| r.profile_arn)
            .collect(),
        Err(_) => Vec::new(),
    };
    tracing::warn!(repository = %t.repo.qualified(), %digest, %error, "signing gave up");
    let reason = format!("The signature could not be stored: {error}");
    // A profile whose outcome was recorded keeps it.
    for arn in t.profile_arns.iter().filter(|a| !done.contains(a)) {
        if let Err(e) = registry
            .set_signing_status(
                &t.repo,
                &t.digest,
                arn,
                "FAILED",
                Some(("SIGNING_FAILED", &reason)),
            )
            .await
        {
            tracing::warn!(error = %e, "recording a failed signing failed");
        }
    }
}
