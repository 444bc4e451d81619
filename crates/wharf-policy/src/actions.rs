//! The `ecr:` IAM action vocabulary and the actions each `/v2/` (OCI Distribution) operation needs.
//!
//! One action per ECR API operation (the 62 operations of botocore's `ecr` model), plus the two
//! actions that are not API operations: `ecr:BatchImportUpstreamImage` (pull-through cache import)
//! and `ecr:ReplicateImage` (cross-registry replication). `ListImageReferrers` has its own name
//! here for completeness, although ECR authorizes it with `ecr:BatchGetImage`.

use serde::Serialize;

/// Every `ecr:` IAM action name: the 62 API operations in alphabetical order, then the two
/// actions that are not API operations.
pub const ECR_ACTIONS: &[&str] = &[
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchDeleteImage",
    "ecr:BatchGetImage",
    "ecr:BatchGetRepositoryScanningConfiguration",
    "ecr:CompleteLayerUpload",
    "ecr:CreatePullThroughCacheRule",
    "ecr:CreateRepository",
    "ecr:CreateRepositoryCreationTemplate",
    "ecr:DeleteLifecyclePolicy",
    "ecr:DeletePullThroughCacheRule",
    "ecr:DeleteRegistryPolicy",
    "ecr:DeleteRepository",
    "ecr:DeleteRepositoryCreationTemplate",
    "ecr:DeleteRepositoryPolicy",
    "ecr:DeleteSigningConfiguration",
    "ecr:DeregisterPullTimeUpdateExclusion",
    "ecr:DescribeImageReplicationStatus",
    "ecr:DescribeImageScanFindings",
    "ecr:DescribeImageSigningStatus",
    "ecr:DescribeImages",
    "ecr:DescribePullThroughCacheRules",
    "ecr:DescribeRegistry",
    "ecr:DescribeReplicationBackfillResults",
    "ecr:DescribeRepositories",
    "ecr:DescribeRepositoryCreationTemplates",
    "ecr:GetAccountSetting",
    "ecr:GetAuthorizationToken",
    "ecr:GetDownloadUrlForLayer",
    "ecr:GetLifecyclePolicy",
    "ecr:GetLifecyclePolicyPreview",
    "ecr:GetRegistryPolicy",
    "ecr:GetRegistryScanningConfiguration",
    "ecr:GetRepositoryPolicy",
    "ecr:GetSigningConfiguration",
    "ecr:InitiateLayerUpload",
    "ecr:ListImageReferrers",
    "ecr:ListImages",
    "ecr:ListPullTimeUpdateExclusions",
    "ecr:ListReplicationBackfills",
    "ecr:ListTagsForResource",
    "ecr:PutAccountSetting",
    "ecr:PutImage",
    "ecr:PutImageScanningConfiguration",
    "ecr:PutImageTagMutability",
    "ecr:PutLifecyclePolicy",
    "ecr:PutRegistryPolicy",
    "ecr:PutRegistryScanningConfiguration",
    "ecr:PutReplicationConfiguration",
    "ecr:PutSigningConfiguration",
    "ecr:RegisterPullTimeUpdateExclusion",
    "ecr:SetRepositoryPolicy",
    "ecr:StartImageScan",
    "ecr:StartLifecyclePolicyPreview",
    "ecr:StartReplicationBackfill",
    "ecr:StopReplicationBackfill",
    "ecr:TagResource",
    "ecr:UntagResource",
    "ecr:UpdateImageStorageClass",
    "ecr:UpdatePullThroughCacheRule",
    "ecr:UpdateRepositoryCreationTemplate",
    "ecr:UploadLayerPart",
    "ecr:ValidatePullThroughCacheRule",
    "ecr:BatchImportUpstreamImage",
    "ecr:ReplicateImage",
];

/// A `/v2/` request, as authorization sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum OciOp {
    /// `GET /v2/<name>/manifests/<ref>`.
    ManifestGet,
    /// `HEAD /v2/<name>/manifests/<ref>`.
    ManifestHead,
    /// `PUT /v2/<name>/manifests/<ref>`.
    ManifestPut,
    /// `DELETE /v2/<name>/manifests/<digest>`.
    ManifestDelete,
    /// `GET /v2/<name>/blobs/<digest>`.
    BlobGet,
    /// `HEAD /v2/<name>/blobs/<digest>`.
    BlobHead,
    /// `DELETE /v2/<name>/blobs/<digest>` (ECR has no such API; deleting images is the nearest).
    BlobDelete,
    /// `POST /v2/<name>/blobs/uploads/` (also with `mount=`/`from=`, for the target repository).
    UploadStart,
    /// `PATCH /v2/<name>/blobs/uploads/<id>`.
    UploadChunk,
    /// `PUT /v2/<name>/blobs/uploads/<id>?digest=`.
    UploadComplete,
    /// `GET /v2/<name>/blobs/uploads/<id>` (upload status).
    UploadStatus,
    /// `DELETE /v2/<name>/blobs/uploads/<id>` (cancel an upload).
    UploadCancel,
    /// `GET /v2/<name>/tags/list`.
    TagsList,
    /// `GET /v2/_catalog`.
    Catalog,
    /// `GET /v2/<name>/referrers/<digest>`.
    Referrers,
}

/// The `ecr:` actions a `/v2/` operation requires; every listed action must be allowed.
///
/// A blob `HEAD` accepts either action in practice (pull policies grant
/// `BatchCheckLayerAvailability` alongside `GetDownloadUrlForLayer`), but ECR documents it as the
/// push-time existence check, so `BatchCheckLayerAvailability` alone is required. A final upload
/// `PUT` that carries a body also uploads a part; callers add `ecr:UploadLayerPart` in that case.
pub fn oci_actions(op: OciOp) -> &'static [&'static str] {
    match op {
        OciOp::ManifestGet | OciOp::ManifestHead | OciOp::Referrers => &["ecr:BatchGetImage"],
        OciOp::ManifestPut => &["ecr:PutImage"],
        OciOp::ManifestDelete | OciOp::BlobDelete => &["ecr:BatchDeleteImage"],
        OciOp::BlobGet => &["ecr:GetDownloadUrlForLayer"],
        OciOp::BlobHead => &["ecr:BatchCheckLayerAvailability"],
        OciOp::UploadStart => &["ecr:InitiateLayerUpload"],
        OciOp::UploadChunk | OciOp::UploadStatus | OciOp::UploadCancel => &["ecr:UploadLayerPart"],
        OciOp::UploadComplete => &["ecr:CompleteLayerUpload"],
        OciOp::TagsList => &["ecr:ListImages"],
        OciOp::Catalog => &["ecr:DescribeRepositories"],
    }
}

/// Whether `action` (any case) is a known `ecr:` action.
pub fn is_ecr_action(action: &str) -> bool {
    ECR_ACTIONS.iter().any(|a| a.eq_ignore_ascii_case(action))
}
