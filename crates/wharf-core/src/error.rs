//! The registry's domain errors.

use wharf_oci::Digest;

/// What went wrong in a registry operation, in domain terms.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CoreError {
    #[error("repository name not known to registry")]
    NameUnknown,
    #[error("blob unknown to registry")]
    BlobUnknown,
    #[error("blob upload unknown to registry")]
    UploadUnknown,
    #[error("blob upload invalid: {0}")]
    UploadInvalid(String),
    /// A chunk did not start where the upload ends; `size` is where it does.
    #[error("chunk out of order: upload is at offset {size}")]
    RangeInvalid { size: u64 },
    #[error("provided digest did not match uploaded content: {0}")]
    DigestInvalid(String),
    #[error("manifest unknown to registry")]
    ManifestUnknown,
    #[error("manifest invalid: {0}")]
    ManifestInvalid(String),
    /// An image index in the repository that is not being removed lists `child` (the manifest
    /// named, or one of the referrers that would go with it).
    #[error("manifest {child} is referenced by image index {index} in this repository; delete the index first")]
    ManifestReferenced { child: Digest, index: Digest },
    #[error("manifest too large: {0}")]
    ManifestTooLarge(String),
    #[error("manifest references unknown content")]
    ManifestBlobUnknown {
        blobs: Vec<Digest>,
        manifests: Vec<Digest>,
    },
    #[error("repository already exists")]
    RepositoryAlreadyExists,
    #[error("repository still contains images")]
    RepositoryNotEmpty,
    #[error("too many tags on the resource")]
    TooManyTags,
    #[error("{0}")]
    InvalidParameter(String),
    #[error("repository policy does not exist")]
    RepositoryPolicyNotFound,
    #[error("registry policy does not exist")]
    RegistryPolicyNotFound,
    /// An immutable tag already points at another image.
    #[error("The image tag '{tag}' already exists in the '{repository}' repository and cannot be overwritten because the repository is immutable.")]
    ImageTagAlreadyExists { tag: String, repository: String },
    #[error("template already exists")]
    TemplateAlreadyExists,
    #[error("template not found")]
    TemplateNotFound,
    #[error("lifecycle policy does not exist")]
    LifecyclePolicyNotFound,
    #[error("lifecycle policy preview does not exist")]
    LifecyclePolicyPreviewNotFound,
    /// The image cannot move to the requested storage class; the message says why.
    #[error("{0}")]
    StorageClassUpdateNotSupported(String),
    /// The principal may not do this; the message is AWS's.
    #[error("{0}")]
    AccessDenied(String),
    /// The image cannot be scanned (an index, an artifact, foreign layers); the message is ECR's.
    #[error("{0}")]
    UnsupportedImageType(String),
    /// The image is archived, so it cannot be scanned until restored.
    #[error("{0}")]
    ImageArchived(String),
    /// The image was never scanned.
    #[error("{0}")]
    ScanNotFound(String),
    /// CreatePullThroughCacheRule for a prefix that already has a rule.
    #[error("a pull through cache rule with this prefix already exists")]
    PullThroughRuleAlreadyExists,
    /// No pull-through cache rule has this prefix.
    #[error("the pull through cache rule does not exist")]
    PullThroughRuleNotFound,
    /// A credential ARN names no stored upstream secret.
    #[error("{0}")]
    SecretNotFound(String),
    /// A stored upstream secret cannot be opened with this node's master keyring.
    #[error("{0}")]
    SecretUndecryptable(String),
    /// A pull-through cache's upstream failed (unreachable, 5xx, refused credentials) or asked
    /// to slow down, and nothing cached can answer instead.
    #[error("{message}")]
    Upstream { message: String, rate_limited: bool },
    #[error("request body ended early or failed")]
    BodyFailed,
    /// A KMS key the repository's data is encrypted under is not usable (disabled, deleted, not
    /// allowed, or KMS unreachable: `unavailable`). `code` is KMS's error code (ECR's `kmsError`).
    #[error("{message}")]
    Kms {
        code: String,
        message: String,
        unavailable: bool,
    },
    /// Stored bytes failed authentication or do not belong where they are: tampering or
    /// corruption. Never answered with the bytes.
    #[error("stored data failed its integrity check: {0}")]
    Integrity(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<wharf_meta::MetaError> for CoreError {
    fn from(e: wharf_meta::MetaError) -> Self {
        match e {
            wharf_meta::MetaError::RepositoryNotFound => CoreError::NameUnknown,
            wharf_meta::MetaError::TooManyTags => CoreError::TooManyTags,
            wharf_meta::MetaError::BlobNotFound => CoreError::BlobUnknown,
            wharf_meta::MetaError::MissingReferences { blobs, manifests } => {
                CoreError::ManifestBlobUnknown { blobs, manifests }
            }
            other => CoreError::Internal(other.to_string()),
        }
    }
}

impl From<wharf_blob::BlobError> for CoreError {
    fn from(e: wharf_blob::BlobError) -> Self {
        match e {
            wharf_blob::BlobError::NotFound => CoreError::BlobUnknown,
            wharf_blob::BlobError::UploadNotFound => CoreError::UploadUnknown,
            wharf_blob::BlobError::Body(_) => CoreError::BodyFailed,
            other => CoreError::Internal(other.to_string()),
        }
    }
}
