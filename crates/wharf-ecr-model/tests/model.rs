//! Checks the embedded model snapshot and the generated `Operation` enum against each other.

use std::collections::BTreeSet;

use wharf_ecr_model::model::{self, ShapeType};
use wharf_ecr_model::{error_shapes, metadata, paginated, patterns, Operation};

#[test]
fn there_are_62_operations_in_name_order() {
    assert_eq!(Operation::ALL.len(), 62);
    let names: Vec<&str> = Operation::ALL.iter().map(|op| op.name()).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(names, sorted);
}

#[test]
fn metadata_matches_the_wire_protocol() {
    let meta = metadata();
    assert_eq!(meta.botocore_version, "1.44.5");
    assert_eq!(meta.target_prefix, "AmazonEC2ContainerRegistry_V20150921");
    assert_eq!(meta.target_prefix, Operation::TARGET_PREFIX);
    assert_eq!(meta.json_version, "1.1");
    assert_eq!(meta.protocol, "json");
    assert_eq!(meta.signing_name, "ecr");
}

#[test]
fn from_target_and_from_name_round_trip() {
    for &op in Operation::ALL {
        let target = format!("AmazonEC2ContainerRegistry_V20150921.{}", op.name());
        assert_eq!(Operation::from_target(&target), Some(op));
        assert_eq!(Operation::from_name(op.name()), Some(op));
        assert_eq!(op.to_string(), op.name());
    }
    for bad in [
        "",
        "DescribeRepositories",
        "AmazonEC2ContainerRegistry_V20150921.",
        "AmazonEC2ContainerRegistry_V20150921.describeRepositories",
        "AmazonEC2ContainerRegistry_V20150921DescribeRepositories",
        "SpencerFrontendService.DescribeRepositories",
        "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories ",
    ] {
        assert_eq!(Operation::from_target(bad), None, "{bad:?}");
    }
}

#[test]
fn every_operation_shape_resolves() {
    for &op in Operation::ALL {
        let input = model::shape(op.input_shape()).unwrap_or_else(|| panic!("{op} input"));
        assert_eq!(input.kind, ShapeType::Structure, "{op}");
        let output = model::shape(op.output_shape()).unwrap_or_else(|| panic!("{op} output"));
        assert_eq!(output.kind, ShapeType::Structure, "{op}");
        for code in error_shapes(op) {
            let shape = model::shape(code).unwrap_or_else(|| panic!("{op} error {code}"));
            assert!(shape.exception, "{code} is an exception");
        }
    }
}

#[test]
fn every_shape_reference_resolves() {
    for (name, shape) in model::shapes() {
        let refs = shape.members.iter().map(|m| m.shape.as_str());
        let refs = refs.chain(
            [&shape.member, &shape.key, &shape.value]
                .into_iter()
                .flatten()
                .map(|r| r.shape.as_str()),
        );
        for target in refs {
            assert!(model::shape(target).is_some(), "{name} -> {target}");
        }
        for required in &shape.required {
            assert!(
                shape.members.iter().any(|m| &m.name == required),
                "{name}.{required}"
            );
        }
    }
}

#[test]
fn iam_actions_follow_the_reference() {
    assert_eq!(
        Operation::CreateRepository.iam_action(),
        "ecr:CreateRepository"
    );
    assert_eq!(
        Operation::ListImageReferrers.iam_action(),
        "ecr:BatchGetImage"
    );
    for &op in Operation::ALL {
        assert!(op.iam_action().starts_with("ecr:"), "{op}");
    }
}

#[test]
fn modeled_errors_are_listed_per_operation() {
    let errors = error_shapes(Operation::CreateRepository);
    for code in [
        "RepositoryAlreadyExistsException",
        "InvalidParameterException",
        "ServerException",
    ] {
        assert!(errors.contains(&code), "{code} in {errors:?}");
    }
    assert!(error_shapes(Operation::DescribeRepositories).contains(&"RepositoryNotFoundException"));
    assert!(model::shape("ServerException").unwrap().fault);
    assert!(!model::shape("RepositoryNotFoundException").unwrap().fault);
}

#[test]
fn paginators_come_from_botocore() {
    let paged: BTreeSet<&str> = Operation::ALL
        .iter()
        .filter(|op| paginated(**op).is_some())
        .map(|op| op.name())
        .collect();
    let expected: BTreeSet<&str> = [
        "DescribeImageScanFindings",
        "DescribeImages",
        "DescribePullThroughCacheRules",
        "DescribeReplicationBackfillResults",
        "DescribeRepositories",
        "DescribeRepositoryCreationTemplates",
        "GetLifecyclePolicyPreview",
        "ListImages",
        "ListReplicationBackfills",
    ]
    .into_iter()
    .collect();
    assert_eq!(paged, expected);

    let p = paginated(Operation::DescribeRepositories).unwrap();
    assert_eq!(
        (p.input_token.as_str(), p.output_token.as_str()),
        ("nextToken", "nextToken")
    );
    assert_eq!(p.limit_key, "maxResults");
    assert_eq!(p.result_key, ["repositories"]);
    let findings = paginated(Operation::DescribeImageScanFindings).unwrap();
    assert_eq!(
        findings.result_key,
        [
            "imageScanFindings.findings",
            "imageScanFindings.enhancedFindings"
        ]
    );
}

/// Every pattern in the model compiles after translation. The list below is the set that needed
/// rewriting from Java syntax; update it (and the crate docs) when botocore changes.
#[test]
fn every_model_pattern_compiles() {
    let mut translated = BTreeSet::new();
    for (name, shape) in model::shapes() {
        let Some(pattern) = &shape.pattern else {
            continue;
        };
        assert!(
            shape.regex().is_some(),
            "{name}: {pattern} does not compile"
        );
        if patterns::translate(pattern) != *pattern {
            translated.insert(name);
        }
    }
    let expected: BTreeSet<&str> = [
        "Base64",        // ^\S+$ (AuthorizationData.authorizationToken): Java's \S
        "CredentialArn", // (-\w+)* : Java's ASCII \w
        "LayerDigest",   // [a-zA-Z0-9-_+.] : literal '-' after a range
        "PrincipalArn",  // [\w+=,.@-] : Java's ASCII \w
    ]
    .into_iter()
    .collect();
    assert_eq!(translated, expected);
}

#[test]
fn java_semantics_survive_translation() {
    let digest = model::shape("LayerDigest").unwrap().regex().unwrap();
    assert!(digest.is_match("sha256:0123abcd"));
    assert!(digest.is_match("a-b_c+d.e:ff"));
    assert!(!digest.is_match("sha256:xyz"));
    let principal = model::shape("PrincipalArn").unwrap().regex().unwrap();
    assert!(principal.is_match("arn:aws:iam::123456789012:role/my-role"));
    assert!(!principal.is_match("arn:aws:iam::123456789012:role/rôle"));
    let token = model::shape("Base64").unwrap().regex().unwrap();
    assert!(token.is_match("QVdTOnNlY3JldA=="));
    assert!(!token.is_match("a b"));
}
