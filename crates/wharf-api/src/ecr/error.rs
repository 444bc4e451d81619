//! The one mapping from domain errors to the AWS JSON error envelope, shared by ECR and ECR
//! Public (both answer the same exception names for the same domain errors).

use crate::aws_json::AwsError;
use serde_json::json;
use wharf_core::CoreError;

/// An error as the ECR API reports it: the shared awsJson1.1 error.
pub type EcrError = AwsError;

impl AwsError {
    /// Maps a domain error met while working on repository `name` of registry `account`.
    pub fn from_core(e: CoreError, account: &str, name: &str) -> EcrError {
        let repo_missing = || {
            format!("The repository with name '{name}' does not exist in the registry with id '{account}'")
        };
        match e {
            CoreError::NameUnknown => EcrError::new("RepositoryNotFoundException", repo_missing()),
            CoreError::RepositoryAlreadyExists => EcrError::new(
                "RepositoryAlreadyExistsException",
                format!("The repository with name '{name}' already exists in the registry with id '{account}'"),
            ),
            CoreError::RepositoryNotEmpty => EcrError::new(
                "RepositoryNotEmptyException",
                format!(
                    "The repository with name '{name}' in registry with id '{account}' cannot be deleted because it still contains images"
                ),
            ),
            CoreError::TooManyTags => EcrError::new("TooManyTagsException", "The repository has too many tags (at most 50)."),
            CoreError::RepositoryPolicyNotFound => EcrError::new(
                "RepositoryPolicyNotFoundException",
                format!("Repository policy does not exist for the repository with name '{name}' in the registry with id '{account}'"),
            ),
            CoreError::RegistryPolicyNotFound => EcrError::new(
                "RegistryPolicyNotFoundException",
                format!("Registry policy does not exist in the registry with id '{account}'"),
            ),
            CoreError::ImageTagAlreadyExists { .. } => EcrError::new("ImageTagAlreadyExistsException", e.to_string()),
            CoreError::TemplateAlreadyExists => EcrError::new("TemplateAlreadyExistsException", "The repository creation template already exists."),
            CoreError::TemplateNotFound => EcrError::new("TemplateNotFoundException", "The repository creation template does not exist."),
            CoreError::LifecyclePolicyNotFound => EcrError::new(
                "LifecyclePolicyNotFoundException",
                format!("Lifecycle policy does not exist for the repository with name '{name}' in the registry with id '{account}'"),
            ),
            CoreError::LifecyclePolicyPreviewNotFound => EcrError::new(
                "LifecyclePolicyPreviewNotFoundException",
                format!("Lifecycle policy preview does not exist for the repository with name '{name}' in the registry with id '{account}'"),
            ),
            CoreError::StorageClassUpdateNotSupported(m) => {
                EcrError::new("ImageStorageClassUpdateNotSupportedException", m)
            }
            CoreError::AccessDenied(m) => EcrError::new("AccessDeniedException", m),
            CoreError::UnsupportedImageType(m) => EcrError::new("UnsupportedImageTypeException", m),
            CoreError::ImageArchived(m) => EcrError::new("ImageArchivedException", m),
            CoreError::ScanNotFound(m) => EcrError::new("ScanNotFoundException", m),
            CoreError::InvalidParameter(m) => EcrError::invalid(m),
            CoreError::UploadUnknown => EcrError::new("UploadNotFoundException", "The upload could not be found, or the specified upload ID is not valid for this repository."),
            CoreError::DigestInvalid(m) => EcrError::new("InvalidLayerException", m),
            CoreError::BlobUnknown => EcrError::new("LayersNotFoundException", "The specified layers could not be found."),
            CoreError::ManifestUnknown => EcrError::new("ImageNotFoundException", "The image does not exist within the repository."),
            // BatchDeleteImage reports this per image (failure code ImageReferencedByManifestList);
            // no other operation deletes a manifest.
            CoreError::ManifestReferenced { .. } => EcrError::invalid(e.to_string()),
            CoreError::ManifestInvalid(m) | CoreError::ManifestTooLarge(m) | CoreError::UploadInvalid(m) => EcrError::invalid(m),
            CoreError::ManifestBlobUnknown { blobs, manifests } => {
                if !blobs.is_empty() {
                    let list: Vec<String> = blobs.iter().map(|d| d.to_string()).collect();
                    EcrError::new("LayersNotFoundException", format!("Layers with digests '[{}]' required for pushing image into repository with name '{name}' in the registry with id '{account}' do not exist", list.join(", ")))
                } else {
                    let list: Vec<String> = manifests.iter().map(|d| d.to_string()).collect();
                    EcrError::new("ReferencedImagesNotFoundException", format!("Manifests with digests '[{}]' referenced by the image do not exist in the repository", list.join(", ")))
                }
            }
            CoreError::RangeInvalid { size } => EcrError::new("InvalidLayerPartException", format!("The layer part is not contiguous: the upload has received bytes 0 to {}", size as i64 - 1))
                .with("lastValidByteReceived", json!(size as i64 - 1)),
            CoreError::BodyFailed => EcrError::new("SerializationException", "The request body could not be read."),
            CoreError::PullThroughRuleAlreadyExists => EcrError::new("PullThroughCacheRuleAlreadyExistsException", format!("A pull through cache rule with this prefix already exists in the registry with id '{account}'")),
            CoreError::PullThroughRuleNotFound => EcrError::new("PullThroughCacheRuleNotFoundException", format!("The pull through cache rule does not exist in the registry with id '{account}'")),
            CoreError::SecretNotFound(m) => EcrError::new("SecretNotFoundException", m),
            CoreError::SecretUndecryptable(m) => EcrError::new("UnableToDecryptSecretValueException", m),
            CoreError::Upstream { message, .. } => EcrError::new("UnableToGetUpstreamImageException", message),
            CoreError::Kms { code, message, .. } => EcrError::new("KmsException", message).with("kmsError", json!(code)),
            CoreError::Integrity(detail) => {
                tracing::error!(%detail, "stored data failed its integrity check");
                EcrError::server()
            }
            CoreError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                EcrError::server()
            }
        }
    }
}
