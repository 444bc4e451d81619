//! Replication into another registry (account) of this same Wharf and region. As in ECR, the
//! destination decides: its registry policy must allow `ecr:ReplicateImage` to the source
//! account (`arn:aws:iam::<source>:root`), and `ecr:CreateRepository` too when the repository
//! does not exist yet; it is then created from the destination's `REPLICATION` template.

use super::{ReplicateError, ReplicationPlan, Step};
use crate::{AccountId, CoreError, Registry, Repo};
use std::sync::LazyLock;
use wharf_oci::{Reference, Tag};
use wharf_policy::{Decision, PolicyDocument, PolicyKind, RequestContext};

/// The source side of a replication: the registry replicates on its own behalf, so its identity
/// allows everything and only the destination's registry policy decides.
static SOURCE_IDENTITY: LazyLock<PolicyDocument> = LazyLock::new(|| {
    PolicyDocument::parse(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*"}]}"#,
        PolicyKind::Identity,
    )
    .expect("a constant policy parses")
});

impl Registry {
    /// Whether the destination account's registry policy lets `source` do `action` on `dest`.
    pub async fn replication_allowed(
        &self,
        source: &AccountId,
        dest: &Repo,
        action: &str,
    ) -> Result<bool, CoreError> {
        let Some(policy) = self.registry_inputs(&dest.account).await? else {
            return Ok(false);
        };
        let ctx = RequestContext {
            principal: wharf_policy::Principal::User {
                arn: crate::arn::account_root(source.as_str()),
                account: source.to_string(),
            },
            action: action.to_string(),
            resource: self.resource_arn(crate::Resource::Repository(dest)),
            resource_account: dest.account.to_string(),
            keys: Default::default(),
        };
        Ok(matches!(
            wharf_policy::evaluate(&ctx, &[&SOURCE_IDENTITY], &[policy.as_ref()]),
            Decision::Allow
        ))
    }

    /// Copies a planned image from `src` into `dest_account` (same name), checking the
    /// destination's registry policy first.
    pub async fn replicate_local(
        &self,
        src: &Repo,
        plan: &ReplicationPlan,
        dest_account: &AccountId,
    ) -> Result<(), ReplicateError> {
        let dest = Repo::new(dest_account.clone(), src.name.clone());
        if !self
            .replication_allowed(&src.account, &dest, crate::Action::ReplicateImage.ecr())
            .await?
        {
            return Err(ReplicateError::permanent(
                "REPLICATION_NOT_ALLOWED",
                format!(
                    "the registry policy of {dest_account} does not allow ecr:ReplicateImage for {}",
                    src.account
                ),
            ));
        }
        if self.meta.repository(dest.key()).await?.is_none() {
            if !self
                .replication_allowed(&src.account, &dest, crate::Action::CreateRepository.ecr())
                .await?
            {
                return Err(ReplicateError::permanent(
                    "REPOSITORY_CREATION_NOT_ALLOWED",
                    format!(
                        "{} does not exist and the registry policy of {dest_account} does not allow ecr:CreateRepository for {}",
                        dest.name, src.account
                    ),
                ));
            }
            self.replication_target(&dest).await?;
        }
        for step in &plan.steps {
            match step {
                Step::Blob { digest, .. } => {
                    if self
                        .meta
                        .repository_blob(dest.key(), digest)
                        .await?
                        .is_some()
                    {
                        continue;
                    }
                    let bytes = self.read_blob(src, digest, 0, u64::MAX).await?;
                    self.push_blob(&dest, digest, bytes).await?;
                }
                Step::Manifest {
                    digest,
                    media_type,
                    body,
                } => {
                    self.put_manifest(
                        &dest,
                        &Reference::Digest(digest.clone()),
                        &[],
                        Some(media_type),
                        body,
                    )
                    .await
                    .map_err(refused)?;
                }
                Step::Tag {
                    tag,
                    media_type,
                    body,
                    ..
                } => {
                    let tag: Tag = tag
                        .parse()
                        .map_err(|e| CoreError::Internal(format!("stored tag {tag}: {e}")))?;
                    self.put_manifest(&dest, &Reference::Tag(tag), &[], Some(media_type), body)
                        .await
                        .map_err(refused)?;
                }
            }
        }
        Ok(())
    }
}

/// A destination refusing the content itself (an immutable tag taken, a KMS key disabled) is
/// not fixed by retrying soon; everything else may be.
fn refused(e: CoreError) -> ReplicateError {
    match e {
        CoreError::ImageTagAlreadyExists { tag, repository } => ReplicateError::permanent(
            "IMAGE_TAG_ALREADY_EXISTS",
            format!("the tag {tag} is immutable in the destination repository {repository}"),
        ),
        other => other.into(),
    }
}
