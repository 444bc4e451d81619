//! The one table of IAM actions Wharf authorizes: every ECR operation's action, ECR Public's
//! operations that ECR lacks, and the actions no operation is named after (`ReplicateImage`,
//! `BatchImportUpstreamImage`). Handlers, the `/v2/` endpoint table and the console name actions
//! by these variants, so a misspelt action does not compile; `ecr()` and `ecr_public()` give
//! the names policies use.

macro_rules! actions {
    ($($name:ident),* $(,)?) => {
        /// An IAM action of ECR (`ecr:X`) or, with the same name, of ECR Public (`ecr-public:X`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action {
            $($name),*
        }

        impl Action {
            /// Every action, in name order.
            pub const ALL: &'static [Action] = &[$(Action::$name),*];

            /// The operation-style name, `X`.
            pub fn name(self) -> &'static str {
                match self {
                    $(Action::$name => stringify!($name)),*
                }
            }

            /// The ECR action, `ecr:X`.
            pub fn ecr(self) -> &'static str {
                match self {
                    $(Action::$name => concat!("ecr:", stringify!($name))),*
                }
            }

            /// The ECR Public action, `ecr-public:X`.
            pub fn ecr_public(self) -> &'static str {
                match self {
                    $(Action::$name => concat!("ecr-public:", stringify!($name))),*
                }
            }
        }
    };
}

actions! {
    BatchCheckLayerAvailability,
    BatchDeleteImage,
    BatchGetImage,
    BatchGetRepositoryScanningConfiguration,
    BatchImportUpstreamImage,
    CompleteLayerUpload,
    CreatePullThroughCacheRule,
    CreateRepository,
    CreateRepositoryCreationTemplate,
    DeleteLifecyclePolicy,
    DeletePullThroughCacheRule,
    DeleteRegistryPolicy,
    DeleteRepository,
    DeleteRepositoryCreationTemplate,
    DeleteRepositoryPolicy,
    DeleteSigningConfiguration,
    DeregisterPullTimeUpdateExclusion,
    DescribeImageReplicationStatus,
    DescribeImageScanFindings,
    DescribeImageSigningStatus,
    DescribeImageTags,
    DescribeImages,
    DescribePullThroughCacheRules,
    DescribeRegistries,
    DescribeRegistry,
    DescribeReplicationBackfillResults,
    DescribeRepositories,
    DescribeRepositoryCreationTemplates,
    GetAccountSetting,
    GetAuthorizationToken,
    GetDownloadUrlForLayer,
    GetLifecyclePolicy,
    GetLifecyclePolicyPreview,
    GetRegistryCatalogData,
    GetRegistryPolicy,
    GetRegistryScanningConfiguration,
    GetRepositoryCatalogData,
    GetRepositoryPolicy,
    GetSigningConfiguration,
    InitiateLayerUpload,
    ListImages,
    ListPullTimeUpdateExclusions,
    ListReplicationBackfills,
    ListTagsForResource,
    PutAccountSetting,
    PutImage,
    PutImageScanningConfiguration,
    PutImageTagMutability,
    PutLifecyclePolicy,
    PutRegistryCatalogData,
    PutRegistryPolicy,
    PutRegistryScanningConfiguration,
    PutReplicationConfiguration,
    PutRepositoryCatalogData,
    PutSigningConfiguration,
    RegisterPullTimeUpdateExclusion,
    ReplicateImage,
    SetRepositoryPolicy,
    StartImageScan,
    StartLifecyclePolicyPreview,
    StartReplicationBackfill,
    StopReplicationBackfill,
    TagResource,
    UntagResource,
    UpdateImageStorageClass,
    UpdatePullThroughCacheRule,
    UpdateRepositoryCreationTemplate,
    UploadLayerPart,
    ValidatePullThroughCacheRule,
}

impl Action {
    /// The action called `X` (`ecr:X` or `ecr-public:X` accepted too).
    pub fn from_name(name: &str) -> Option<Action> {
        let name = name
            .strip_prefix("ecr:")
            .or_else(|| name.strip_prefix("ecr-public:"))
            .unwrap_or(name);
        Action::ALL.iter().copied().find(|a| a.name() == name)
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.ecr())
    }
}

#[cfg(test)]
mod tests {
    use super::Action;

    #[test]
    fn names_are_sorted_and_round_trip() {
        let names: Vec<&str> = Action::ALL.iter().map(|a| a.name()).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(names, sorted, "the table is in name order, each once");
        for &a in Action::ALL {
            assert_eq!(Action::from_name(a.name()), Some(a));
            assert_eq!(Action::from_name(a.ecr()), Some(a));
            assert_eq!(Action::from_name(a.ecr_public()), Some(a));
            assert_eq!(a.ecr(), format!("ecr:{}", a.name()));
            assert_eq!(a.ecr_public(), format!("ecr-public:{}", a.name()));
        }
        assert_eq!(Action::from_name("ecr:GetThing"), None);
        assert_eq!(Action::from_name("s3:PutImage"), None);
    }
}
