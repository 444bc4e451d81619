//! Validation: accepted policies, and one rejected policy per failure with ECR's exact message.

mod common;

use common::{padded, rules};
use wharf_lifecycle::{
    Action, Count, LifecyclePolicy, StorageClass, TagFilter, TagSelection, MAX_POLICY_LEN,
};

const SEL: &str = r#""tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":1"#;
const EXPIRE: &str = r#"{"type":"expire"}"#;
const ARCHIVE: &str = r#"{"type":"transition","targetStorageClass":"archive"}"#;

/// A rule from its priority, selection body and action object.
fn rule(priority: &str, selection: &str, action: &str) -> String {
    format!(r#"{{"rulePriority":{priority},"selection":{{{selection}}},"action":{action}}}"#)
}

/// A policy of one rule with priority 1.
fn one(selection: &str, action: &str) -> String {
    rules(&[&rule("1", selection, action)])
}

#[test]
fn valid_policies_parse_into_typed_rules() {
    let policy = LifecyclePolicy::parse(&rules(&[
        &rule("30", r#""tagStatus":"any","countType":"sinceImagePulled","countUnit":"days","countNumber":90"#, ARCHIVE),
        r#"{"rulePriority":2,"description":"keep 25 prod","selection":{"tagStatus":"tagged","tagPatternList":["*a*b*c*"],"storageClass":"standard","countType":"imageCountMoreThan","countNumber":25},"action":{"type":"expire"}}"#,
        &rule("1", r#""tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14"#, EXPIRE),
        &rule("4", r#""tagStatus":"tagged","tagPrefixList":["a","b"],"storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":90"#, EXPIRE),
        &rule("5", r#""tagStatus":"untagged","storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":365"#, EXPIRE),
        &rule("6", r#""tagStatus":"any","storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":730"#, EXPIRE),
    ]))
    .unwrap();
    let r = policy.rules();
    assert_eq!(
        r.iter().map(|r| r.priority).collect::<Vec<_>>(),
        [1, 2, 4, 5, 6, 30]
    );
    assert_eq!(r[0].selection.tags, TagSelection::Untagged);
    assert_eq!(r[0].selection.count, Count::SinceImagePushed { days: 14 });
    assert_eq!(r[1].description.as_deref(), Some("keep 25 prod"));
    assert_eq!(
        r[1].selection.tags,
        TagSelection::Tagged(TagFilter::Patterns(vec!["*a*b*c*".into()]))
    );
    assert_eq!(r[1].selection.count, Count::ImageCountMoreThan(25));
    assert_eq!(r[2].selection.storage_class, StorageClass::Archive);
    assert_eq!(
        r[2].selection.count,
        Count::SinceImageTransitioned { days: 90 }
    );
    assert_eq!(r[5].selection.tags, TagSelection::Any);
    assert_eq!(
        r[5].action,
        Action::Transition {
            target: StorageClass::Archive
        }
    );
    assert_eq!(r[5].selection.count, Count::SinceImagePulled { days: 90 });
}

#[test]
fn the_full_message_wraps_the_detail() {
    let err = LifecyclePolicy::parse(&one(
        r#""tagStatus":"tagged","countType":"imageCountMoreThan","countNumber":1"#,
        EXPIRE,
    ))
    .unwrap_err();
    assert_eq!(
        err.message(),
        "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: \
         'Lifecycle policy validation failure: Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED.'"
    );
    assert_eq!(err.to_string(), err.message());
    assert_eq!(
        err.detail(),
        "Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED."
    );
}

/// Checks that every `(policy text, detail)` pair is rejected with exactly that detail inside
/// ECR's frame.
fn check_rejected(cases: &[(String, &str)]) {
    for (text, detail) in cases {
        let err = LifecyclePolicy::parse(text).expect_err(text);
        assert_eq!(err.detail(), *detail, "policy: {text}");
        assert_eq!(
            err.message(),
            format!(
                "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: \
                 'Lifecycle policy validation failure: {detail}'"
            )
        );
    }
}

#[test]
fn length_and_shape() {
    let valid = one(SEL, EXPIRE);
    let fifty_one: Vec<String> = (1..=51)
        .map(|p| rule(&p.to_string(), SEL, EXPIRE))
        .collect();
    let fifty_one: Vec<&str> = fifty_one.iter().map(String::as_str).collect();
    check_rejected(&[
        (
            "{}".into(),
            "Member must have length greater than or equal to 100",
        ),
        (
            "x".repeat(99),
            "Member must have length greater than or equal to 100",
        ),
        (
            format!("{valid}{}", " ".repeat(MAX_POLICY_LEN + 1 - valid.len())),
            "Member must have length less than or equal to 30720",
        ),
        (
            "x".repeat(100),
            "Could not map policyString into LifecyclePolicy.",
        ),
        (
            padded("[]"),
            "Could not map policyString into LifecyclePolicy.",
        ),
        (
            padded(r#""rules""#),
            "Could not map policyString into LifecyclePolicy.",
        ),
        (
            padded("null"),
            "Could not map policyString into LifecyclePolicy.",
        ),
        (
            padded(r#"{"rules":[]"#),
            "Could not map policyString into LifecyclePolicy.",
        ),
        (
            padded(r#"{"foo":1}"#),
            r#"object has missing required properties (["rules"])"#,
        ),
        (
            padded(&format!(
                r#"{{"rules":[{}],"zeta":1,"alpha":2}}"#,
                rule("1", SEL, EXPIRE)
            )),
            r#"object instance has properties which are not allowed by the schema: (["alpha","zeta"])"#,
        ),
        (
            padded(r#"{"rules":{}}"#),
            r#"instance type (object) does not match any allowed primitive type (allowed: ["array"])"#,
        ),
        (
            padded(r#"{"rules":[]}"#),
            "array is too short: must have at least 1 elements but instance has 0 elements",
        ),
        (
            rules(&fifty_one),
            "array is too long: must have at most 50 elements but instance has 51 elements",
        ),
        (
            rules(&["1"]),
            r#"instance type (integer) does not match any allowed primitive type (allowed: ["object"])"#,
        ),
        (
            rules(&["[]"]),
            r#"instance type (array) does not match any allowed primitive type (allowed: ["object"])"#,
        ),
    ]);
}

#[test]
fn rule_action_and_selection_schema() {
    check_rejected(&[
        (rules(&[r#"{"rulePriority":1}"#]), r#"object has missing required properties (["action","selection"])"#),
        (rules(&[&format!(r#"{{"rulePriority":1,"selection":{{{SEL}}},"action":{EXPIRE},"foo":true}}"#)]), r#"object instance has properties which are not allowed by the schema: (["foo"])"#),
        (rules(&[&rule("0", SEL, EXPIRE)]), "numeric instance is lower than the required minimum (minimum: 1, found: 0)"),
        (rules(&[&rule("-3", SEL, EXPIRE)]), "numeric instance is lower than the required minimum (minimum: 1, found: -3)"),
        (rules(&[&rule(r#""1""#, SEL, EXPIRE)]), r#"instance type (string) does not match any allowed primitive type (allowed: ["integer"])"#),
        (rules(&[&rule("1.5", SEL, EXPIRE)]), r#"instance type (number) does not match any allowed primitive type (allowed: ["integer"])"#),
        (rules(&[&rule("18446744073709551615", SEL, EXPIRE)]), "numeric instance is greater than the required maximum (maximum: 9223372036854775807, found: 18446744073709551615)"),
        (rules(&[&format!(r#"{{"rulePriority":1,"description":5,"selection":{{{SEL}}},"action":{EXPIRE}}}"#)]), r#"instance type (integer) does not match any allowed primitive type (allowed: ["string"])"#),
        // The action is checked before the selection.
        (one("", "{}"), r#"object has missing required properties (["type"])"#),
        (one(SEL, r#""expire""#), r#"instance type (string) does not match any allowed primitive type (allowed: ["object"])"#),
        (one(SEL, r#"{"type":"delete"}"#), r#"instance value (delete) not found in enum :(possible values: ["expire","transition"])"#),
        (one(SEL, r#"{"type":"EXPIRE"}"#), r#"instance value (EXPIRE) not found in enum :(possible values: ["expire","transition"])"#),
        (one(SEL, r#"{"type":"expire","when":"now"}"#), r#"object instance has properties which are not allowed by the schema: (["when"])"#),
        (one(SEL, r#"{"type":"transition","targetStorageClass":"glacier"}"#), r#"instance value (glacier) not found in enum :(possible values: ["archive"])"#),
        (one(r#""tagStatus":"any""#, EXPIRE), r#"object has missing required properties (["countNumber","countType"])"#),
        (one(&format!(r#"{SEL},"foo":[]"#), EXPIRE), r#"object instance has properties which are not allowed by the schema: (["foo"])"#),
        (one(r#""tagStatus":"TAGGED","countType":"imageCountMoreThan","countNumber":1"#, EXPIRE), r#"instance value (TAGGED) not found in enum :(possible values: ["tagged","untagged","any"])"#),
        (one(r#""tagStatus":1,"countType":"imageCountMoreThan","countNumber":1"#, EXPIRE), r#"instance value (1) not found in enum :(possible values: ["tagged","untagged","any"])"#),
        (one(r#""tagStatus":"tagged","tagPrefixList":"prod","countType":"imageCountMoreThan","countNumber":1"#, EXPIRE), r#"instance type (string) does not match any allowed primitive type (allowed: ["array"])"#),
        (one(r#""tagStatus":"tagged","tagPatternList":[1],"countType":"imageCountMoreThan","countNumber":1"#, EXPIRE), r#"instance type (integer) does not match any allowed primitive type (allowed: ["string"])"#),
        (one(&format!(r#"{SEL},"storageClass":"cold""#), EXPIRE), r#"instance value (cold) not found in enum :(possible values: ["standard","archive"])"#),
        (one(r#""tagStatus":"any","countType":"sinceImagePushed","countUnit":"hours","countNumber":1"#, EXPIRE), r#"instance value (hours) not found in enum :(possible values: ["days"])"#),
        (one(r#""tagStatus":"any","countType":"imageCountMoreThan","countNumber":0"#, EXPIRE), "numeric instance is lower than the required minimum (minimum: 1, found: 0)"),
        (one(r#""tagStatus":"any","countType":"imageCountMoreThan","countNumber":"5""#, EXPIRE), r#"instance type (string) does not match any allowed primitive type (allowed: ["integer"])"#),
        (one(r#""tagStatus":"any","countType":"bogus","countNumber":1"#, EXPIRE), "instance failed to match exactly one schema (matched 0 out of 2)"),
        (one(r#""tagStatus":"any","countType":"imageCountMoreThan","countUnit":"days","countNumber":1"#, EXPIRE), "instance failed to match exactly one schema (matched 0 out of 2)"),
        (one(r#""tagStatus":"any","countType":"sinceImagePushed","countNumber":1"#, EXPIRE), "instance failed to match exactly one schema (matched 0 out of 2)"),
        (one(r#""tagStatus":"any","countType":"sinceImagePulled","countNumber":1"#, ARCHIVE), "instance failed to match exactly one schema (matched 0 out of 2)"),
    ]);
}

#[test]
fn tag_lists() {
    let count = r#""countType":"imageCountMoreThan","countNumber":1"#;
    let sel = |s: &str| one(&format!("{s},{count}"), EXPIRE);
    check_rejected(&[
        (sel(r#""tagStatus":"tagged""#), "Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED."),
        (sel(r#""tagStatus":"tagged","tagPrefixList":[]"#), "Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED."),
        (sel(r#""tagStatus":"tagged","tagPatternList":[]"#), "Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED."),
        (sel(r#""tagStatus":"tagged","tagPrefixList":["a"],"tagPatternList":["b*"]"#), "Must specify either tagPrefixList or tagPatternList, not both."),
        (sel(r#""tagStatus":"untagged","tagPrefixList":["a"]"#), "Must not specify tagPrefixList or tagPatternList when tagStatus=UNTAGGED."),
        (sel(r#""tagStatus":"any","tagPatternList":["a*"]"#), "Must not specify tagPrefixList or tagPatternList when tagStatus=ANY."),
        (sel(r#""tagStatus":"any","tagPrefixList":[]"#), "Must not specify tagPrefixList or tagPatternList when tagStatus=ANY."),
        (sel(r#""tagStatus":"tagged","tagPatternList":["ok*","test*1*2*3*4*5*6"]"#), "tagPatternList entry 'test*1*2*3*4*5*6' has more than 4 wildcards (*); the maximum is 4 per string."),
        (sel(r#""tagStatus":"tagged","tagPatternList":["*****"]"#), "tagPatternList entry '*****' has more than 4 wildcards (*); the maximum is 4 per string."),
    ]);
    // The documentation's valid example: four wildcards per string.
    LifecyclePolicy::parse(&sel(
        r#""tagStatus":"tagged","tagPatternList":["*test*1*2*3","test*1*2*3*"]"#,
    ))
    .unwrap();
}

#[test]
fn actions_count_types_and_storage_classes() {
    check_rejected(&[
        (one(SEL, r#"{"type":"transition"}"#), "Must specify targetStorageClass when action type=TRANSITION."),
        (one(SEL, r#"{"type":"expire","targetStorageClass":"archive"}"#), "targetStorageClass can only be specified when action type=TRANSITION."),
        (one(r#""tagStatus":"any","countType":"sinceImagePulled","countUnit":"days","countNumber":30"#, EXPIRE), "countType=sinceImagePulled is only supported with action type=TRANSITION."),
        (one(r#""tagStatus":"any","storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":90"#, ARCHIVE), "countType=sinceImageTransitioned is only supported with action type=EXPIRE."),
        (one(r#""tagStatus":"any","countType":"sinceImageTransitioned","countUnit":"days","countNumber":90"#, EXPIRE), "countType=sinceImageTransitioned requires storageClass=ARCHIVE."),
        (one(r#""tagStatus":"any","storageClass":"standard","countType":"sinceImageTransitioned","countUnit":"days","countNumber":90"#, EXPIRE), "countType=sinceImageTransitioned requires storageClass=ARCHIVE."),
        (one(r#""tagStatus":"any","storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":89"#, EXPIRE), "countNumber must be at least 90 for countType=sinceImageTransitioned: archived images have a minimum storage duration of 90 days."),
        (one(r#""tagStatus":"any","storageClass":"archive","countType":"sinceImagePushed","countUnit":"days","countNumber":90"#, EXPIRE), "storageClass=ARCHIVE is only supported with countType=sinceImageTransitioned."),
        (one(r#""tagStatus":"any","storageClass":"archive","countType":"imageCountMoreThan","countNumber":5"#, EXPIRE), "storageClass=ARCHIVE is only supported with countType=sinceImageTransitioned."),
    ]);
    // Count and age rules may both expire or transition.
    for sel in [
        SEL,
        r#""tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":1"#,
    ] {
        LifecyclePolicy::parse(&one(sel, EXPIRE)).unwrap();
        LifecyclePolicy::parse(&one(sel, ARCHIVE)).unwrap();
    }
}

#[test]
fn rules_together() {
    let any = r#""tagStatus":"any","countType":"imageCountMoreThan","countNumber":5"#;
    let untagged = SEL;
    let prefixes = |p: &str| {
        format!(
            r#""tagStatus":"tagged","tagPrefixList":{p},"countType":"imageCountMoreThan","countNumber":5"#
        )
    };
    let archive_untagged = r#""tagStatus":"untagged","storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":90"#;
    let archive_any = r#""tagStatus":"any","storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":90"#;
    check_rejected(&[
        (
            rules(&[&rule("1", untagged, EXPIRE), &rule("1", any, EXPIRE)]),
            "Duplicate rulePriority 1. Each rule must have a unique rulePriority.",
        ),
        (
            rules(&[&rule("1", any, EXPIRE), &rule("2", untagged, EXPIRE)]),
            "Rule for tagStatus=ANY must have the lowest priority per storage class",
        ),
        (
            rules(&[&rule("1", any, EXPIRE), &rule("2", any, ARCHIVE)]),
            "Rule for tagStatus=ANY must have the lowest priority per storage class",
        ),
        (
            rules(&[
                &rule("1", archive_any, EXPIRE),
                &rule("2", archive_untagged, EXPIRE),
            ]),
            "Rule for tagStatus=ANY must have the lowest priority per storage class",
        ),
        (
            rules(&[&rule("1", untagged, EXPIRE), &rule("2", untagged, ARCHIVE)]),
            "Only one rule can select Untagged images per storage class",
        ),
        (
            rules(&[
                &rule("1", archive_untagged, EXPIRE),
                &rule("2", archive_untagged, EXPIRE),
            ]),
            "Only one rule can select Untagged images per storage class",
        ),
        (
            rules(&[
                &rule("1", &prefixes(r#"["a","b"]"#), EXPIRE),
                &rule("2", &prefixes(r#"["b","a"]"#), EXPIRE),
            ]),
            "The rules must contain a unique set of tag prefixes per storage class",
        ),
    ]);
    // Each storage class has its own `any` rule, untagged rule and prefix sets.
    LifecyclePolicy::parse(&rules(&[
        &rule("1", untagged, EXPIRE),
        &rule("2", &prefixes(r#"["a"]"#), EXPIRE),
        &rule("3", &prefixes(r#"["a","b"]"#), EXPIRE),
        &rule("4", archive_untagged, EXPIRE),
        &rule("5", any, EXPIRE),
        &rule(
            "6",
            &prefixes(r#"["b"]"#)
                .replace(
                    r#""tagPrefixList""#,
                    r#""storageClass":"archive","tagPrefixList""#,
                )
                .replace(
                    r#""countType":"imageCountMoreThan","countNumber":5"#,
                    r#""countType":"sinceImageTransitioned","countUnit":"days","countNumber":90"#,
                ),
            EXPIRE,
        ),
        &rule("7", archive_any, EXPIRE),
    ]))
    .unwrap();
}
