//! The `ecr:` action list, the `/v2/` → action map, principal construction and AWS's
//! `AccessDenied` message wording.

mod common;

use common::{check, ctx, E};
use wharf_policy::{
    access_denied_message, denied_message, is_ecr_action, oci_actions, Decision, OciOp,
    PolicySource, Principal, ECR_ACTIONS,
};

#[test]
fn action_list_is_complete_and_unique() {
    assert_eq!(
        ECR_ACTIONS.len(),
        64,
        "62 API operations plus BatchImportUpstreamImage and ReplicateImage"
    );
    let mut sorted: Vec<&str> = ECR_ACTIONS.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), ECR_ACTIONS.len(), "no duplicates");
    for a in ECR_ACTIONS {
        assert!(
            a.starts_with("ecr:") && a[4..].chars().all(|c| c.is_ascii_alphabetic()),
            "{a}"
        );
    }
    for a in [
        "ecr:ReplicateImage",
        "ecr:BatchImportUpstreamImage",
        "ecr:CreatePullThroughCacheRule",
        "ecr:GetAuthorizationToken",
        "ecr:ListImageReferrers",
        "ecr:StartReplicationBackfill",
        "ecr:PutRegistryPolicy",
    ] {
        assert!(is_ecr_action(a), "{a}");
    }
    assert!(is_ecr_action("ECR:batchgetimage"));
    assert!(!is_ecr_action("ecr:Nope"));
}

#[test]
fn oci_operations_map_to_documented_actions() {
    let table: &[(OciOp, &[&str])] = &[
        (OciOp::ManifestGet, &["ecr:BatchGetImage"]),
        (OciOp::ManifestHead, &["ecr:BatchGetImage"]),
        (OciOp::Referrers, &["ecr:BatchGetImage"]),
        (OciOp::ManifestPut, &["ecr:PutImage"]),
        (OciOp::ManifestDelete, &["ecr:BatchDeleteImage"]),
        (OciOp::BlobDelete, &["ecr:BatchDeleteImage"]),
        (OciOp::BlobGet, &["ecr:GetDownloadUrlForLayer"]),
        (OciOp::BlobHead, &["ecr:BatchCheckLayerAvailability"]),
        (OciOp::UploadStart, &["ecr:InitiateLayerUpload"]),
        (OciOp::UploadChunk, &["ecr:UploadLayerPart"]),
        (OciOp::UploadStatus, &["ecr:UploadLayerPart"]),
        (OciOp::UploadCancel, &["ecr:UploadLayerPart"]),
        (OciOp::UploadComplete, &["ecr:CompleteLayerUpload"]),
        (OciOp::TagsList, &["ecr:ListImages"]),
        (OciOp::Catalog, &["ecr:DescribeRepositories"]),
    ];
    for (op, want) in table {
        assert_eq!(oci_actions(*op), *want, "{op:?}");
        assert!(oci_actions(*op).iter().all(|a| is_ecr_action(a)), "{op:?}");
    }
}

/// AWS's documented minimum pull policy grants every pull-side `/v2/` operation.
#[test]
fn documented_pull_policy_covers_pull_operations() {
    let pull = r#"{"Effect":"Allow","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability"],"Resource":"*"}"#;
    for op in [
        OciOp::ManifestGet,
        OciOp::ManifestHead,
        OciOp::BlobGet,
        OciOp::BlobHead,
        OciOp::Referrers,
    ] {
        for action in oci_actions(op) {
            assert_eq!(
                check(
                    action,
                    &[pull],
                    &[],
                    &ctx("alice", action, "app", &[]),
                    E::Allow
                ),
                None
            );
        }
    }
    assert!(check(
        "push",
        &[pull],
        &[],
        &ctx("alice", oci_actions(OciOp::ManifestPut)[0], "app", &[]),
        E::Allow
    )
    .is_some());
}

#[test]
fn principal_user_takes_account_from_arn() {
    assert_eq!(
        Principal::user("arn:aws:iam::123456789012:user/x").unwrap(),
        Principal::User {
            arn: "arn:aws:iam::123456789012:user/x".into(),
            account: "123456789012".into()
        }
    );
    assert!(Principal::user("arn:aws:iam::1234:user/x").is_err());
    assert!(Principal::user("arn:aws:s3:::bucket").is_err());
    assert!(Principal::user("alice").is_err());
    assert_eq!(Principal::Anonymous.display_name(), "anonymous");
}

#[test]
fn access_denied_messages() {
    let user = Principal::user("arn:aws:iam::123456789012:user/x").unwrap();
    let res = "arn:aws:ecr:us-east-1:123456789012:repository/x";
    let head = "User: arn:aws:iam::123456789012:user/x is not authorized to perform: ecr:CreateRepository on resource: arn:aws:ecr:us-east-1:123456789012:repository/x";
    let cases = [
        (
            Decision::ImplicitDeny {
                missing: PolicySource::Identity,
            },
            format!(
                "{head} because no identity-based policy allows the ecr:CreateRepository action"
            ),
        ),
        (
            Decision::ImplicitDeny {
                missing: PolicySource::Resource,
            },
            format!(
                "{head} because no resource-based policy allows the ecr:CreateRepository action"
            ),
        ),
        (
            Decision::ExplicitDeny {
                source: PolicySource::Resource,
                sid: None,
            },
            format!("{head} with an explicit deny in a resource-based policy"),
        ),
        (
            Decision::ExplicitDeny {
                source: PolicySource::Identity,
                sid: Some("s".into()),
            },
            format!("{head} with an explicit deny in an identity-based policy"),
        ),
    ];
    for (d, want) in cases {
        assert_eq!(denied_message(&user, "ecr:CreateRepository", res, &d), want);
    }
    let anon = ctx("anon", "ecr:BatchGetImage", "app", &[]);
    assert_eq!(
        access_denied_message(&anon, &Decision::ImplicitDeny { missing: PolicySource::Resource }),
        "User: anonymous is not authorized to perform: ecr:BatchGetImage on resource: arn:aws:ecr:us-east-1:111111111111:repository/app because no resource-based policy allows the ecr:BatchGetImage action"
    );
}
