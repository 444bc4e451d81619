//! Data-driven checks of `validate_input`: one body per case and the exact AWS-style answer.

use serde_json::{json, Value};
use wharf_ecr_model::{validate_input, ErrorKind, Operation, ValidationError};

const REPO_PATTERN: &str =
    r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*";
const PREFIX: &str = "1 validation error detected: ";

fn err(op: Operation, body: Value) -> ValidationError {
    validate_input(op, &body).expect_err("body should be rejected")
}

/// Asserts one constraint violation at `field` with exactly `message` (without the count prefix).
#[track_caller]
fn check(op: Operation, body: Value, field: &str, message: &str) {
    let e = err(op, body);
    assert_eq!(e.kind(), ErrorKind::InvalidParameter, "{e}");
    assert_eq!(e.code(), "InvalidParameterException");
    assert_eq!(e.field(), field);
    assert_eq!(e.message(), format!("{PREFIX}{message}"));
    assert_eq!(e.violations().len(), 1);
}

/// Asserts a `SerializationException` at `field` with exactly `message`.
#[track_caller]
fn check_serialization(op: Operation, body: Value, field: &str, message: &str) {
    let e = err(op, body);
    assert_eq!(e.kind(), ErrorKind::Serialization, "{e}");
    assert_eq!(e.code(), "SerializationException");
    assert_eq!(e.field(), field);
    assert_eq!(e.message(), message);
}

#[track_caller]
fn ok(op: Operation, body: Value) {
    if let Err(e) = validate_input(op, &body) {
        panic!("{op} {body} rejected: {e}");
    }
}

#[test]
fn valid_bodies_pass() {
    ok(Operation::CreateRepository, json!({"repositoryName": "ab"}));
    ok(
        Operation::CreateRepository,
        json!({
            "registryId": "123456789012",
            "repositoryName": "team/app_1.x--y",
            "tags": [{"Key": "env", "Value": "prod"}],
            "imageTagMutability": "IMMUTABLE_WITH_EXCLUSION",
            "imageTagMutabilityExclusionFilters": [{"filterType": "WILDCARD", "filter": "latest*"}],
            "imageScanningConfiguration": {"scanOnPush": true},
            "encryptionConfiguration": {"encryptionType": "KMS", "kmsKey": "arn:aws:kms:x"}
        }),
    );
    ok(Operation::DescribeRepositories, json!({}));
    ok(
        Operation::DescribeRepositories,
        json!({"maxResults": 1000, "nextToken": "t"}),
    );
    ok(Operation::DescribeRepositories, json!({"maxResults": 1.0}));
    ok(Operation::GetAuthorizationToken, json!({}));
    ok(
        Operation::GetAuthorizationToken,
        json!({"registryIds": ["123456789012"]}),
    );
    ok(
        Operation::BatchGetImage,
        json!({"repositoryName": "ab", "imageIds": [{"imageTag": "v1"}, {"imageDigest": "sha256:00"}]}),
    );
    ok(
        Operation::UploadLayerPart,
        json!({
            "repositoryName": "ab",
            "uploadId": "0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9",
            "partFirstByte": 0, "partLastByte": 2,
            "layerPartBlob": "AAEC"
        }),
    );
}

#[test]
fn unknown_members_and_nulls_are_ignored() {
    ok(
        Operation::CreateRepository,
        json!({"repositoryName": "ab", "futureField": {"x": [1]}}),
    );
    ok(
        Operation::CreateRepository,
        json!({"repositoryName": "ab", "tags": null}),
    );
}

#[test]
fn required_members_must_be_present() {
    let null = "failed to satisfy constraint: Member must not be null";
    check(
        Operation::CreateRepository,
        json!({}),
        "repositoryName",
        &format!("Value null at 'repositoryName' {null}"),
    );
    check(
        Operation::CreateRepository,
        json!({"repositoryName": null}),
        "repositoryName",
        &format!("Value null at 'repositoryName' {null}"),
    );
    check(
        Operation::CreateRepository,
        json!({"repositoryName": "ab", "tags": [{"Key": "k"}]}),
        "tags.1.member.Value",
        &format!("Value null at 'tags.1.member.Value' {null}"),
    );
    let e = err(Operation::BatchGetImage, json!({}));
    assert_eq!(
        e.message(),
        format!(
            "2 validation errors detected: Value null at 'repositoryName' {null}; \
             Value null at 'imageIds' {null}"
        )
    );
}

#[test]
fn repository_name_constraints() {
    let op = Operation::CreateRepository;
    let at = "at 'repositoryName' failed to satisfy constraint: Member must";
    check(
        op,
        json!({"repositoryName": "a"}),
        "repositoryName",
        &format!("Value 'a' {at} have length greater than or equal to 2"),
    );
    let long = "a".repeat(257);
    check(
        op,
        json!({"repositoryName": long}),
        "repositoryName",
        &format!("Value '{long}' {at} have length less than or equal to 256"),
    );
    ok(op, json!({"repositoryName": "a".repeat(256)}));
    for bad in ["MyRepo", "a..b", "-ab", "ab/", "a b"] {
        check(
            op,
            json!({"repositoryName": bad}),
            "repositoryName",
            &format!("Value '{bad}' {at} satisfy regular expression pattern: {REPO_PATTERN}"),
        );
    }
    // Two broken constraints on one value are both reported, pattern first.
    let e = err(op, json!({"repositoryName": "A"}));
    assert_eq!(e.violations().len(), 2);
    assert!(e
        .message()
        .starts_with("2 validation errors detected: Value 'A' at 'repositoryName'"));
    assert!(e
        .message()
        .ends_with("Member must have length greater than or equal to 2"));
}

#[test]
fn enum_members() {
    check(
        Operation::CreateRepository,
        json!({"repositoryName": "ab", "imageTagMutability": "BOGUS"}),
        "imageTagMutability",
        "Value 'BOGUS' at 'imageTagMutability' failed to satisfy constraint: Member must satisfy \
         enum value set: [MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION, MUTABLE_WITH_EXCLUSION]",
    );
    check(
        Operation::ListImages,
        json!({"repositoryName": "ab", "filter": {"tagStatus": "SOME"}}),
        "filter.tagStatus",
        "Value 'SOME' at 'filter.tagStatus' failed to satisfy constraint: Member must satisfy \
         enum value set: [TAGGED, UNTAGGED, ANY]",
    );
}

#[test]
fn list_lengths() {
    let ids: Vec<Value> = (0..101)
        .map(|i| json!({"imageTag": format!("t{i}")}))
        .collect();
    let e = err(
        Operation::BatchGetImage,
        json!({"repositoryName": "ab", "imageIds": ids}),
    );
    assert_eq!(e.field(), "imageIds");
    assert!(e
        .message()
        .starts_with("1 validation error detected: Value '[{\"imageTag\":\"t0\"}, "));
    assert!(e.message().ends_with(
        "at 'imageIds' failed to satisfy constraint: Member must have length less than or equal to 100"
    ));
    check(
        Operation::BatchGetImage,
        json!({"repositoryName": "ab", "imageIds": []}),
        "imageIds",
        "Value '[]' at 'imageIds' failed to satisfy constraint: Member must have length greater than or equal to 1",
    );
}

#[test]
fn nested_structure_constraints() {
    let tag = "t".repeat(301);
    check(
        Operation::BatchGetImage,
        json!({"repositoryName": "ab", "imageIds": [{"imageTag": "ok"}, {"imageTag": tag}]}),
        "imageIds.2.member.imageTag",
        &format!(
            "Value '{tag}' at 'imageIds.2.member.imageTag' failed to satisfy constraint: \
             Member must have length less than or equal to 300"
        ),
    );
    check(
        Operation::CreateRepository,
        json!({
            "repositoryName": "ab",
            "imageTagMutabilityExclusionFilters": [{"filterType": "WILDCARD", "filter": "bad tag!"}]
        }),
        "imageTagMutabilityExclusionFilters.1.member.filter",
        "Value 'bad tag!' at 'imageTagMutabilityExclusionFilters.1.member.filter' failed to satisfy \
         constraint: Member must satisfy regular expression pattern: ^[0-9a-zA-Z._*-]{1,128}$",
    );
    check(
        Operation::CompleteLayerUpload,
        json!({
            "repositoryName": "ab",
            "uploadId": "0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9",
            "layerDigests": ["sha256:zz"]
        }),
        "layerDigests.1.member",
        "Value 'sha256:zz' at 'layerDigests.1.member' failed to satisfy constraint: Member must \
         satisfy regular expression pattern: [a-zA-Z0-9-_+.]+:[a-fA-F0-9]+",
    );
}

#[test]
fn numeric_ranges() {
    let at = "at 'maxResults' failed to satisfy constraint: Member must have value";
    check(
        Operation::DescribeRepositories,
        json!({"maxResults": 0}),
        "maxResults",
        &format!("Value '0' {at} greater than or equal to 1"),
    );
    check(
        Operation::DescribeRepositories,
        json!({"maxResults": 1001}),
        "maxResults",
        &format!("Value '1001' {at} less than or equal to 1000"),
    );
    check(
        Operation::ListImageReferrers,
        json!({"repositoryName": "ab", "subjectId": {"imageDigest": "sha256:00"}, "maxResults": 51}),
        "maxResults",
        &format!("Value '51' {at} less than or equal to 50"),
    );
}

#[test]
fn wrong_json_types_are_serialization_errors() {
    let op = Operation::DescribeRepositories;
    check_serialization(
        op,
        json!({"maxResults": "10"}),
        "maxResults",
        "STRING_VALUE can not be converted to an Integer",
    );
    check_serialization(
        op,
        json!({"maxResults": 1.5}),
        "maxResults",
        "NUMBER_VALUE can not be converted to an Integer",
    );
    check_serialization(
        op,
        json!({"maxResults": 3_000_000_000_i64}),
        "maxResults",
        "NUMBER_VALUE can not be converted to an Integer",
    );
    check_serialization(
        op,
        json!({"repositoryNames": "ab"}),
        "repositoryNames",
        "STRING_VALUE can not be converted to a List",
    );
    check_serialization(
        op,
        json!({"repositoryNames": [7]}),
        "repositoryNames.1.member",
        "NUMBER_VALUE can not be converted to a String",
    );
    check_serialization(
        Operation::CreateRepository,
        json!({"repositoryName": "ab", "imageScanningConfiguration": []}),
        "imageScanningConfiguration",
        "Start of list found where not expected.",
    );
    check_serialization(
        Operation::CreateRepository,
        json!({"repositoryName": "ab", "imageScanningConfiguration": {"scanOnPush": "yes"}}),
        "imageScanningConfiguration.scanOnPush",
        "STRING_VALUE can not be converted to a Boolean",
    );
    // A type error wins over constraint violations elsewhere in the body.
    check_serialization(
        Operation::CreateRepository,
        json!({"repositoryName": "A", "imageTagMutability": 1}),
        "imageTagMutability",
        "NUMBER_VALUE can not be converted to a String",
    );
}

#[test]
fn body_must_be_an_object() {
    let op = Operation::DescribeRepositories;
    check_serialization(op, json!([]), "", "Start of list found where not expected.");
    check_serialization(
        op,
        json!("x"),
        "",
        "STRING_VALUE can not be converted to a Structure",
    );
    check_serialization(op, json!(null), "", "Unexpected null");
}

#[test]
fn blobs_must_be_base64() {
    let body = |blob: &str| {
        json!({
            "repositoryName": "ab",
            "uploadId": "0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9",
            "partFirstByte": 0, "partLastByte": 2,
            "layerPartBlob": blob
        })
    };
    ok(Operation::UploadLayerPart, body(""));
    check_serialization(
        Operation::UploadLayerPart,
        body("not base64!"),
        "layerPartBlob",
        "Value at 'layerPartBlob' is not valid base64",
    );
    check(
        Operation::UploadLayerPart,
        json!({
            "repositoryName": "ab", "uploadId": "nope",
            "partFirstByte": 0, "partLastByte": 2, "layerPartBlob": "AAEC"
        }),
        "uploadId",
        "Value 'nope' at 'uploadId' failed to satisfy constraint: Member must satisfy regular \
         expression pattern: [0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
    );
}

#[test]
fn long_values_are_cut_in_messages() {
    let manifest = "x".repeat(4_194_305);
    let e = err(
        Operation::PutImage,
        json!({"repositoryName": "ab", "imageManifest": manifest}),
    );
    assert_eq!(e.field(), "imageManifest");
    assert!(e.message().len() < 2_000, "{}", e.message().len());
    assert!(e
        .message()
        .ends_with("Member must have length less than or equal to 4194304"));
}
