//! The closed set of ECR Public operations Wharf answers (botocore's `ecr-public/2020-10-30`
//! model, target prefix `SpencerFrontendService.`), and the model's other operations, which
//! answer `UnsupportedCommandException` by name rather than pretending to succeed.

/// One ECR Public API operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    BatchCheckLayerAvailability,
    BatchDeleteImage,
    CompleteLayerUpload,
    CreateRepository,
    DeleteRepository,
    DeleteRepositoryPolicy,
    DescribeImageTags,
    DescribeImages,
    DescribeRegistries,
    DescribeRepositories,
    GetAuthorizationToken,
    GetRegistryCatalogData,
    GetRepositoryCatalogData,
    GetRepositoryPolicy,
    InitiateLayerUpload,
    ListTagsForResource,
    PutImage,
    PutRegistryCatalogData,
    PutRepositoryCatalogData,
    SetRepositoryPolicy,
    TagResource,
    UntagResource,
    UploadLayerPart,
}

use Operation::*;

impl Operation {
    /// Every operation, in the model's order.
    pub const ALL: [Operation; 23] = [
        BatchCheckLayerAvailability,
        BatchDeleteImage,
        CompleteLayerUpload,
        CreateRepository,
        DeleteRepository,
        DeleteRepositoryPolicy,
        DescribeImageTags,
        DescribeImages,
        DescribeRegistries,
        DescribeRepositories,
        GetAuthorizationToken,
        GetRegistryCatalogData,
        GetRepositoryCatalogData,
        GetRepositoryPolicy,
        InitiateLayerUpload,
        ListTagsForResource,
        PutImage,
        PutRegistryCatalogData,
        PutRepositoryCatalogData,
        SetRepositoryPolicy,
        TagResource,
        UntagResource,
        UploadLayerPart,
    ];

    /// The name after `SpencerFrontendService.` in `X-Amz-Target`.
    pub fn name(self) -> &'static str {
        match self {
            BatchCheckLayerAvailability => "BatchCheckLayerAvailability",
            BatchDeleteImage => "BatchDeleteImage",
            CompleteLayerUpload => "CompleteLayerUpload",
            CreateRepository => "CreateRepository",
            DeleteRepository => "DeleteRepository",
            DeleteRepositoryPolicy => "DeleteRepositoryPolicy",
            DescribeImageTags => "DescribeImageTags",
            DescribeImages => "DescribeImages",
            DescribeRegistries => "DescribeRegistries",
            DescribeRepositories => "DescribeRepositories",
            GetAuthorizationToken => "GetAuthorizationToken",
            GetRegistryCatalogData => "GetRegistryCatalogData",
            GetRepositoryCatalogData => "GetRepositoryCatalogData",
            GetRepositoryPolicy => "GetRepositoryPolicy",
            InitiateLayerUpload => "InitiateLayerUpload",
            ListTagsForResource => "ListTagsForResource",
            PutImage => "PutImage",
            PutRegistryCatalogData => "PutRegistryCatalogData",
            PutRepositoryCatalogData => "PutRepositoryCatalogData",
            SetRepositoryPolicy => "SetRepositoryPolicy",
            TagResource => "TagResource",
            UntagResource => "UntagResource",
            UploadLayerPart => "UploadLayerPart",
        }
    }

    pub fn from_name(name: &str) -> Option<Operation> {
        Operation::ALL.into_iter().find(|op| op.name() == name)
    }
}

/// Operations of newer botocore models (repository associations, premium repositories,
/// entitlements, publisher reports, image status) that Wharf does not implement.
pub const UNSUPPORTED: &[&str] = &[
    "AssociateRepositories",
    "CreatePremiumRepository",
    "DeletePremiumRepository",
    "DeletePremiumRepositoryPolicy",
    "DescribeEntitledImageTags",
    "DescribeEntitledImages",
    "DescribeEntitledRepositories",
    "DescribeImageScanFindings",
    "DescribePremiumRepositories",
    "DisassociateRepositories",
    "GetDownloadUrlForPublisherReport",
    "GetPremiumRepositoryCatalogData",
    "GetPremiumRepositoryPolicy",
    "ListPublisherReports",
    "PutPremiumRepositoryCatalogData",
    "PutPremiumRepositoryProducts",
    "SetImageStatus",
    "SetPremiumRepositoryPolicy",
    "SetRepositoryState",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for op in Operation::ALL {
            assert_eq!(Operation::from_name(op.name()), Some(op));
            assert!(!UNSUPPORTED.contains(&op.name()));
        }
        assert_eq!(Operation::from_name("ListImages"), None);
    }

    /// The 23 operations of botocore's `ecr-public/2020-10-30` model as of botocore 1.29; later
    /// releases add only what [`UNSUPPORTED`] lists.
    #[test]
    fn every_classic_operation_is_implemented() {
        let names: Vec<&str> = Operation::ALL.iter().map(|o| o.name()).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted, "kept in the model's (alphabetical) order");
        assert_eq!(names.len(), 23);
    }
}
