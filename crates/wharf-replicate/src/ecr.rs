//! The destination repository, through the destination's ECR API: found, or created with its
//! `REPLICATION` creation template applied (the most specific prefix covering the name; default
//! settings without one), as ECR creates replicated repositories.

use crate::RemoteRegistry;
use serde_json::{json, Value};
use wharf_core::replication::ReplicateError;
use wharf_core::templates::prefix_covers;

impl RemoteRegistry {
    /// Makes sure `account`'s repository `name` exists at the destination.
    pub(crate) async fn ensure_repository(
        &self,
        account: &str,
        name: &str,
    ) -> Result<(), ReplicateError> {
        let found = self
            .ecr(
                "DescribeRepositories",
                &json!({ "registryId": account, "repositoryNames": [name] }),
            )
            .await?;
        match found {
            Ok(_) => return Ok(()),
            Err((kind, _)) if kind == "RepositoryNotFoundException" => {}
            Err((kind, message)) => return Err(denied("DescribeRepositories", &kind, &message)),
        }
        let template = self.replication_template(account, name).await?;
        let mut create = json!({ "registryId": account, "repositoryName": name });
        for key in [
            "imageTagMutability",
            "imageTagMutabilityExclusionFilters",
            "encryptionConfiguration",
        ] {
            if let Some(v) = template.get(key) {
                create[key] = v.clone();
            }
        }
        if let Some(tags) = template
            .get("resourceTags")
            .filter(|t| t.as_array().is_some_and(|a| !a.is_empty()))
        {
            create["tags"] = tags.clone();
        }
        match self.ecr("CreateRepository", &create).await? {
            Ok(_) => {}
            Err((kind, _)) if kind == "RepositoryAlreadyExistsException" => return Ok(()),
            Err((kind, message)) => return Err(denied("CreateRepository", &kind, &message)),
        }
        tracing::info!(region = self.region(), %account, repository = %name, "created the replication destination repository");
        if let Some(p) = template["repositoryPolicy"]
            .as_str()
            .filter(|p| !p.is_empty())
        {
            let r = self
                .ecr(
                    "SetRepositoryPolicy",
                    &json!({ "registryId": account, "repositoryName": name, "policyText": p }),
                )
                .await?;
            if let Err((kind, message)) = r {
                return Err(denied("SetRepositoryPolicy", &kind, &message));
            }
        }
        if let Some(p) = template["lifecyclePolicy"]
            .as_str()
            .filter(|p| !p.is_empty())
        {
            let r = self
                .ecr(
                    "PutLifecyclePolicy",
                    &json!({ "registryId": account, "repositoryName": name, "lifecyclePolicyText": p }),
                )
                .await?;
            if let Err((kind, message)) = r {
                return Err(denied("PutLifecyclePolicy", &kind, &message));
            }
        }
        Ok(())
    }

    /// The destination's `REPLICATION` template covering `name` (an empty object for none).
    async fn replication_template(
        &self,
        account: &str,
        name: &str,
    ) -> Result<Value, ReplicateError> {
        let mut best: Option<Value> = None;
        let mut token: Option<String> = None;
        loop {
            let mut req = json!({ "registryId": account });
            if let Some(t) = &token {
                req["nextToken"] = json!(t);
            }
            let page = match self
                .ecr("DescribeRepositoryCreationTemplates", &req)
                .await?
            {
                Ok(v) => v,
                Err((kind, message)) => {
                    return Err(denied(
                        "DescribeRepositoryCreationTemplates",
                        &kind,
                        &message,
                    ))
                }
            };
            for t in page["repositoryCreationTemplates"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let prefix = t["prefix"].as_str().unwrap_or_default();
                let applies = t["appliedFor"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|v| v == "REPLICATION"));
                if !applies || !prefix_covers(prefix, name) {
                    continue;
                }
                let rank = |p: &str| if p == "ROOT" { 0 } else { p.len() + 1 };
                if best
                    .as_ref()
                    .is_none_or(|b| rank(prefix) > rank(b["prefix"].as_str().unwrap_or("ROOT")))
                {
                    best = Some(t.clone());
                }
            }
            match page["nextToken"].as_str() {
                Some(t) => token = Some(t.to_string()),
                None => break,
            }
        }
        Ok(best.unwrap_or_else(|| json!({})))
    }
}

/// An ECR refusal at the destination: access and validation refusals are permanent.
fn denied(op: &str, kind: &str, message: &str) -> ReplicateError {
    let code = match kind {
        "AccessDeniedException" => "ACCESS_DENIED",
        "UnrecognizedClientException" | "InvalidSignatureException" => "AUTHENTICATION_FAILED",
        "ServerException" | "ThrottlingException" => {
            return ReplicateError::Transient(format!("{op}: {kind}: {message}"))
        }
        _ => "DESTINATION_REFUSED",
    };
    ReplicateError::permanent(code, format!("{op}: {kind}: {message}"))
}
