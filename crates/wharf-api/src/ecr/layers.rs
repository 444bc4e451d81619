//! The layer API: InitiateLayerUpload, UploadLayerPart, CompleteLayerUpload,
//! BatchCheckLayerAvailability and GetDownloadUrlForLayer. It shares upload sessions and blobs with
//! `/v2/`, so a layer pushed here pulls with any OCI client and the other way round.

use super::wire::registry_url;
use super::{Ctx, EcrError};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::{SystemTime, UNIX_EPOCH};
use wharf_core::Action;
use wharf_core::{CoreError, Repo};
use wharf_oci::Digest;

/// The part size suggested to clients (ECR's quota is 10 MiB per part).
const PART_SIZE: u64 = 10 * 1024 * 1024;
/// ECR's smallest layer part: every part but the last must have at least this many bytes. A part
/// is known not to be the last only when the next one arrives, so the rule is enforced by
/// `CompleteLayerUpload` (`LayerPartTooSmallException`), the one operation whose errors list it.
const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;
/// How long a download URL stays valid.
const DOWNLOAD_URL_TTL: u64 = 3600;

fn upload_not_found(id: &str, repo: &Repo) -> EcrError {
    EcrError::new(
        "UploadNotFoundException",
        format!("Upload with id '{id}' is not found in the repository with name '{}' in the registry with id '{}'", repo.name, repo.account),
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InitiateLayerUpload {
    registry_id: Option<String>,
    repository_name: String,
}

pub async fn initiate_layer_upload(
    ctx: &Ctx<'_>,
    input: InitiateLayerUpload,
) -> Result<Value, EcrError> {
    let repo = ctx.repo(input.registry_id.as_deref(), &input.repository_name)?;
    ctx.authorize(Action::InitiateLayerUpload, &repo).await?;
    let upload = ctx
        .state
        .registry
        .start_upload(&repo)
        .await
        .map_err(|e| ctx.core_error(e, &repo))?;
    Ok(json!({ "uploadId": upload.id, "partSize": PART_SIZE }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadLayerPart {
    registry_id: Option<String>,
    repository_name: String,
    upload_id: String,
    part_first_byte: u64,
    part_last_byte: u64,
    layer_part_blob: String,
}

pub async fn upload_layer_part(ctx: &Ctx<'_>, input: UploadLayerPart) -> Result<Value, EcrError> {
    let repo = ctx.repo(input.registry_id.as_deref(), &input.repository_name)?;
    ctx.authorize(Action::UploadLayerPart, &repo).await?;
    ctx.require_repo(&repo).await?;
    let bytes = STANDARD
        .decode(input.layer_part_blob.as_bytes())
        .map_err(|_| EcrError::invalid("Invalid parameter at 'layerPartBlob' failed to satisfy constraint: 'must be base64'"))?;
    let upload = ctx
        .state
        .registry
        .upload_status(&repo, &input.upload_id)
        .await
        .map_err(|_| upload_not_found(&input.upload_id, &repo))?;
    let invalid_part = |message: String| {
        EcrError::new("InvalidLayerPartException", message)
            .with("registryId", json!(repo.account.as_str()))
            .with("repositoryName", json!(repo.name.as_str()))
            .with("uploadId", json!(input.upload_id))
            .with("lastValidByteReceived", json!(upload.size as i64 - 1))
    };
    if input.part_last_byte < input.part_first_byte
        || input.part_last_byte - input.part_first_byte + 1 != bytes.len() as u64
    {
        return Err(invalid_part(format!(
            "The part's byte range {}-{} does not match the {} bytes sent",
            input.part_first_byte,
            input.part_last_byte,
            bytes.len()
        )));
    }
    if input.part_first_byte != upload.size {
        return Err(invalid_part(format!(
            "The part must start at byte {}, the end of what was received so far",
            upload.size
        )));
    }
    let body: wharf_core::model::ByteStream =
        Box::pin(futures::stream::once(async move { Ok(Bytes::from(bytes)) }));
    let state = ctx
        .state
        .registry
        .append_layer_part(&repo, &input.upload_id, input.part_first_byte, body)
        .await
        .map_err(|e| match e {
            CoreError::UploadUnknown => upload_not_found(&input.upload_id, &repo),
            CoreError::RangeInvalid { size } => {
                invalid_part(format!("The part must start at byte {size}"))
            }
            other => ctx.core_error(other, &repo),
        })?;
    Ok(json!({
        "registryId": repo.account.as_str(),
        "repositoryName": repo.name.as_str(),
        "uploadId": input.upload_id,
        "lastByteReceived": state.size as i64 - 1,
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompleteLayerUpload {
    registry_id: Option<String>,
    repository_name: String,
    upload_id: String,
    layer_digests: Vec<String>,
}

pub async fn complete_layer_upload(
    ctx: &Ctx<'_>,
    input: CompleteLayerUpload,
) -> Result<Value, EcrError> {
    let repo = ctx.repo(input.registry_id.as_deref(), &input.repository_name)?;
    ctx.authorize(Action::CompleteLayerUpload, &repo).await?;
    ctx.require_repo(&repo).await?;
    let [digest] = input.layer_digests.as_slice() else {
        return Err(EcrError::invalid("Invalid parameter at 'layerDigests' failed to satisfy constraint: 'exactly one digest is required'"));
    };
    let digest: Digest = digest.parse().map_err(|e| {
        EcrError::new(
            "InvalidLayerException",
            format!("Invalid layer digest '{digest}': {e}"),
        )
    })?;
    let upload = ctx
        .state
        .registry
        .upload_status(&repo, &input.upload_id)
        .await
        .map_err(|_| upload_not_found(&input.upload_id, &repo))?;
    if upload.size == 0 {
        return Err(EcrError::new(
            "EmptyUploadException",
            format!(
                "The upload with id '{}' contains no layer parts",
                input.upload_id
            ),
        ));
    }
    if let Some(part) = upload.smallest_earlier_part.filter(|p| *p < MIN_PART_SIZE) {
        return Err(EcrError::new(
            "LayerPartTooSmallException",
            format!(
                "Layer parts must be at least 5 MiB in size: a part of the upload with id '{}' other than the last has {part} bytes",
                input.upload_id
            ),
        ));
    }
    if ctx.state.registry.blob_size(&repo, &digest).await.is_ok() {
        ctx.state
            .registry
            .cancel_upload(&repo, &input.upload_id)
            .await
            .map_err(|e| ctx.core_error(e, &repo))?;
        return Err(EcrError::new(
            "LayerAlreadyExistsException",
            format!("The layer '{digest}' already exists in the repository with name '{}' in the registry with id '{}'", repo.name, repo.account),
        ));
    }
    ctx.state
        .registry
        .finish_upload(&repo, &input.upload_id, &digest, None, None)
        .await
        .map_err(|e| match e {
            CoreError::DigestInvalid(m) => EcrError::new("InvalidLayerException", m),
            CoreError::UploadUnknown => upload_not_found(&input.upload_id, &repo),
            other => ctx.core_error(other, &repo),
        })?;
    Ok(json!({
        "registryId": repo.account.as_str(),
        "repositoryName": repo.name.as_str(),
        "uploadId": input.upload_id,
        "layerDigest": digest.to_string(),
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchCheckLayerAvailability {
    registry_id: Option<String>,
    repository_name: String,
    layer_digests: Vec<String>,
}

pub async fn batch_check_layer_availability(
    ctx: &Ctx<'_>,
    input: BatchCheckLayerAvailability,
) -> Result<Value, EcrError> {
    let repo = ctx.repo(input.registry_id.as_deref(), &input.repository_name)?;
    ctx.authorize(Action::BatchCheckLayerAvailability, &repo)
        .await?;
    ctx.require_repo(&repo).await?;
    let mut layers = Vec::new();
    let mut failures = Vec::new();
    for raw in &input.layer_digests {
        let Ok(digest) = raw.parse::<Digest>() else {
            let code = if raw.is_empty() {
                "MissingLayerDigest"
            } else {
                "InvalidLayerDigest"
            };
            failures.push(json!({ "layerDigest": raw, "failureCode": code, "failureReason": "Invalid layer digest" }));
            continue;
        };
        match ctx.state.registry.blob_size(&repo, &digest).await {
            Ok(size) => {
                let mut layer = json!({ "layerDigest": raw, "layerAvailability": "AVAILABLE", "layerSize": size });
                // Known once an image of the repository references the blob, as in ECR.
                if let Some(m) = ctx
                    .state
                    .registry
                    .blob_media_type(&repo, &digest)
                    .await
                    .map_err(|e| ctx.core_error(e, &repo))?
                {
                    layer["mediaType"] = json!(m);
                }
                layers.push(layer);
            }
            Err(CoreError::BlobUnknown) => {
                layers.push(json!({ "layerDigest": raw, "layerAvailability": "UNAVAILABLE" }))
            }
            Err(e) => return Err(ctx.core_error(e, &repo)),
        }
    }
    Ok(json!({ "layers": layers, "failures": failures }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetDownloadUrlForLayer {
    registry_id: Option<String>,
    repository_name: String,
    layer_digest: String,
}

pub async fn get_download_url_for_layer(
    ctx: &Ctx<'_>,
    input: GetDownloadUrlForLayer,
) -> Result<Value, EcrError> {
    let repo = ctx.repo(input.registry_id.as_deref(), &input.repository_name)?;
    ctx.authorize(Action::GetDownloadUrlForLayer, &repo).await?;
    let digest: Digest = input.layer_digest.parse().map_err(|e| {
        EcrError::invalid(format!(
            "Invalid parameter at 'layerDigest' failed to satisfy constraint: '{e}'"
        ))
    })?;
    ctx.require_repo(&repo).await?;
    if ctx.state.registry.blob_size(&repo, &digest).await.is_err() {
        return Err(EcrError::new(
            "LayersNotFoundException",
            format!("The layer '{digest}' does not exist in the repository with name '{}' in the registry with id '{}'", repo.name, repo.account),
        ));
    }
    // A KMS repository whose key is disabled hands out no download URL (KmsException).
    ctx.state
        .registry
        .check_repository_key(&repo)
        .await
        .map_err(|e| ctx.core_error(e, &repo))?;
    // Only layers some image of the repository references qualify, as in ECR.
    let referenced = ctx
        .state
        .registry
        .blob_referenced(&repo, &digest)
        .await
        .map_err(|e| ctx.core_error(e, &repo))?;
    if !referenced {
        return Err(EcrError::new(
            "LayerInaccessibleException",
            format!("The layer '{digest}' is not referenced by any image in the repository with name '{}'; unassociated layers may be cleaned up at any time", repo.name),
        ));
    }
    let expires = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        + DOWNLOAD_URL_TTL;
    let path = format!("/v2/{}/blobs/{digest}", repo.name);
    let signature = ctx
        .state
        .identity
        .sign_download(repo.account.as_str(), &path, expires);
    let url = format!(
        "{}{path}?X-Wharf-Account={}&X-Wharf-Expires={expires}&X-Wharf-Signature={signature}",
        registry_url(&ctx.state.ecr, repo.account.as_str()),
        repo.account
    );
    Ok(json!({ "downloadUrl": url, "layerDigest": digest.to_string() }))
}
