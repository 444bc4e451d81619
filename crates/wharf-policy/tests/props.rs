//! Property tests of policy documents: parsing arbitrary text or JSON never panics, generated
//! documents (with wildcards, negations and conditions) are accepted and evaluate without panic
//! on arbitrary requests, an explicit Deny beats any Allow, `*` grants everything, and adding
//! statements moves decisions only the way IAM says (an Allow never denies, a Deny never allows).

use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use wharf_policy::{
    evaluate, Decision, PolicyDocument, PolicyKind, PolicySource, Principal, RequestContext,
    ECR_ACTIONS,
};

const A: &str = "111111111111";
const B: &str = "222222222222";

fn config() -> Config {
    Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    }
}

fn kind() -> impl Strategy<Value = PolicyKind> {
    prop_oneof![Just(PolicyKind::Identity), Just(PolicyKind::Resource)]
}

/// Arbitrary JSON leaning on the policy grammar's keys and values.
fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        prop::sample::select(vec![
            "Version",
            "Statement",
            "Sid",
            "Effect",
            "Principal",
            "NotPrincipal",
            "Action",
            "NotAction",
            "Resource",
            "NotResource",
            "Condition",
            "AWS",
            "StringLike",
            "ForAllValues:StringEquals",
            "NumericLessThanIfExists",
            "DateGreaterThan",
            "IpAddress",
            "Null",
            "aws:SourceIp",
            "aws:CurrentTime",
        ])
        .prop_map(str::to_string),
        "[a-zA-Z:]{1,10}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        prop::sample::select(vec![
            "2012-10-17",
            "2008-10-17",
            "Allow",
            "Deny",
            "*",
            "ecr:*",
            "ecr:Get*",
            A,
            "arn:aws:iam::111111111111:root",
            "arn:aws:ecr:*:*:repository/*",
            "${aws:username}",
            "10.0.0.0/8",
            "2030-01-01T00:00:00Z",
            "true",
        ])
        .prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn ecr_action() -> impl Strategy<Value = String> {
    prop::sample::select(ECR_ACTIONS.to_vec()).prop_map(str::to_string)
}

/// Action patterns: exact names in any case, prefixes with `*`, `?` wildcards, other services.
fn action_pattern() -> impl Strategy<Value = String> {
    prop_oneof![
        ecr_action(),
        ecr_action().prop_map(|a| a.to_lowercase()),
        (ecr_action(), 4usize..12).prop_map(|(a, n)| format!("{}*", &a[..n.min(a.len())])),
        (ecr_action(), any::<prop::sample::Index>()).prop_map(|(a, i)| {
            // Replace one character of the name (after `ecr:`) with `?`.
            let i = 4 + i.index(a.len() - 4);
            format!("{}?{}", &a[..i], &a[i + 1..])
        }),
        Just("ecr:*".to_string()),
        Just("*".to_string()),
        Just("s3:GetObject".to_string()),
    ]
}

fn repo() -> impl Strategy<Value = String> {
    "[a-z]{1,6}(/[a-z]{1,6}){0,2}"
}

fn repo_arn(account: &str, repo: &str) -> String {
    format!("arn:aws:ecr:us-east-1:{account}:repository/{repo}")
}

fn resource_pattern() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("*".to_string()),
        repo().prop_map(|r| repo_arn(A, &r)),
        repo().prop_map(|r| repo_arn(B, &r)),
        Just(format!("arn:aws:ecr:*:{A}:repository/*")),
        Just("arn:aws:ecr:us-east-1:*:repository/a*".to_string()),
        Just(format!(
            "arn:aws:ecr:us-east-1:{A}:repository/${{aws:username}}/*"
        )),
    ]
}

fn principal_element() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!("*")),
        Just(json!({"AWS": "*"})),
        Just(json!({"AWS": A})),
        Just(json!({"AWS": [B, format!("arn:aws:iam::{A}:user/alice")]})),
        Just(json!({"AWS": format!("arn:aws:iam::{B}:root")})),
        Just(json!({"Service": "ecr.amazonaws.com"})),
    ]
}

fn condition() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})),
        Just(json!({"NotIpAddress": {"aws:SourceIp": ["192.168.0.0/16", "::1"]}})),
        Just(json!({"StringLike": {"aws:username": "a*"}})),
        Just(json!({"StringEqualsIgnoreCase": {"aws:PrincipalType": "user"}})),
        Just(json!({"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}})),
        Just(json!({"NumericGreaterThanIfExists": {"aws:EpochTime": 1700000000}})),
        Just(json!({"ForAnyValue:StringEquals": {"aws:TagKeys": ["team", "env"]}})),
        Just(json!({"ForAllValues:StringLike": {"aws:TagKeys": "t*"}})),
        Just(json!({"Bool": {"aws:SecureTransport": "true"}})),
        Just(json!({"Null": {"aws:ResourceTag/team": "false"}})),
        Just(json!({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/*"}})),
        Just(json!({"StringEquals": {"aws:username": "${aws:username}"}})),
    ]
}

fn one_or_many(items: Vec<String>, single: bool) -> Value {
    if single && items.len() == 1 {
        json!(items[0])
    } else {
        json!(items)
    }
}

/// A statement valid for `kind`, as JSON.
fn statement(kind: PolicyKind) -> impl Strategy<Value = Value> {
    (
        any::<bool>(),
        prop::collection::vec(action_pattern(), 1..4),
        any::<bool>(),
        prop::option::of((
            any::<bool>(),
            prop::collection::vec(resource_pattern(), 1..3),
        )),
        (any::<bool>(), principal_element()),
        prop::option::of(condition()),
        any::<bool>(),
    )
        .prop_map(
            move |(
                deny,
                actions,
                not_action,
                resource,
                (not_principal, principal),
                cond,
                single,
            )| {
                let mut s = json!({"Effect": if deny { "Deny" } else { "Allow" }});
                let action_key = if not_action { "NotAction" } else { "Action" };
                s[action_key] = one_or_many(actions, single);
                let resource = match (kind, resource) {
                    (PolicyKind::Identity, None) => Some((false, vec!["*".to_string()])),
                    (_, r) => r,
                };
                if let Some((not, list)) = resource {
                    s[if not { "NotResource" } else { "Resource" }] = one_or_many(list, single);
                }
                if kind == PolicyKind::Resource {
                    s[if not_principal {
                        "NotPrincipal"
                    } else {
                        "Principal"
                    }] = principal;
                }
                if let Some(c) = cond {
                    s["Condition"] = c;
                }
                s
            },
        )
}

fn document(kind: PolicyKind) -> impl Strategy<Value = Value> {
    (prop::collection::vec(statement(kind), 1..4), any::<bool>()).prop_map(|(stmts, old)| {
        json!({
            "Version": if old { "2008-10-17" } else { "2012-10-17" },
            "Statement": stmts,
        })
    })
}

fn parse(v: &Value, kind: PolicyKind) -> PolicyDocument {
    PolicyDocument::parse(&v.to_string(), kind)
        .unwrap_or_else(|e| panic!("generated policy refused: {e}\n{v}"))
}

fn caller() -> impl Strategy<Value = Principal> {
    prop_oneof![
        Just(Principal::Anonymous),
        "[a-z]{1,6}".prop_map(|n| Principal::user(&format!("arn:aws:iam::{A}:user/{n}")).unwrap()),
        Just(Principal::user(&format!("arn:aws:iam::{A}:user/alice")).unwrap()),
        Just(Principal::user(&format!("arn:aws:iam::{B}:user/carol")).unwrap()),
        Just(Principal::user(&format!("arn:aws:sts::{A}:assumed-role/r/s")).unwrap()),
    ]
}

/// Arbitrary requests: real and made-up actions, ARNs and junk resources, random keys.
fn request() -> impl Strategy<Value = RequestContext> {
    let keys = prop::collection::btree_map(
        prop_oneof![
            prop::sample::select(vec![
                "aws:SourceIp",
                "aws:CurrentTime",
                "aws:EpochTime",
                "aws:TagKeys",
                "aws:SecureTransport",
                "aws:username",
                "aws:ResourceTag/team",
            ])
            .prop_map(str::to_string),
            "[a-z:]{1,10}",
        ],
        prop::collection::vec(
            prop_oneof![
                Just("10.1.2.3".to_string()),
                Just("2025-06-01T00:00:00Z".to_string()),
                Just("1800000000".to_string()),
                Just("true".to_string()),
                ".{0,16}",
            ],
            0..3,
        ),
        0..4,
    );
    (
        caller(),
        prop_oneof![ecr_action(), ".{0,20}"],
        prop_oneof![
            repo().prop_map(|r| repo_arn(A, &r)),
            repo().prop_map(|r| repo_arn(B, &r)),
            Just("*".to_string()),
            ".{0,40}",
        ],
        prop_oneof![Just(A.to_string()), Just(B.to_string()), "[0-9]{0,12}"],
        keys,
    )
        .prop_map(
            |(principal, action, resource, resource_account, keys)| RequestContext {
                principal,
                action,
                resource,
                resource_account,
                keys,
            },
        )
}

fn deny_all_for(action: &str, resource: &str) -> PolicyDocument {
    let v = json!({"Statement": [{
        "Sid": "NoWay", "Effect": "Deny", "Principal": "*", "Action": action, "Resource": resource,
    }]});
    parse(&v, PolicyKind::Resource)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn parsing_arbitrary_text_never_panics(s in ".{0,200}", k in kind()) {
        let _ = PolicyDocument::parse(&s, k);
    }

    #[test]
    fn parsing_arbitrary_json_never_panics(v in json_value(), k in kind(), req in request()) {
        if let Ok(doc) = PolicyDocument::parse(&v.to_string(), k) {
            let _ = evaluate(&req, &[&doc], &[&doc]);
        }
    }

    #[test]
    fn generated_policies_are_accepted_and_evaluate(
        id in document(PolicyKind::Identity),
        res in document(PolicyKind::Resource),
        req in request(),
    ) {
        let (id, res) = (parse(&id, PolicyKind::Identity), parse(&res, PolicyKind::Resource));
        let d = evaluate(&req, &[&id], &[&res]);
        // An anonymous caller is never judged by identity policies.
        if req.principal == Principal::Anonymous {
            let by_identity = matches!(d, Decision::ExplicitDeny { source: PolicySource::Identity, .. });
            prop_assert!(!by_identity, "{:?}", d);
            prop_assert_eq!(&d, &evaluate(&req, &[], &[&res]));
        }
        // Nothing is allowed without any policy.
        prop_assert!(!evaluate(&req, &[], &[]).is_allowed());
    }

    #[test]
    fn an_explicit_deny_beats_every_allow(
        id in document(PolicyKind::Identity),
        res in document(PolicyKind::Resource),
        mut req in request(),
        action in ecr_action(),
        repo in repo(),
    ) {
        req.action = action.clone();
        req.resource = repo_arn(A, &repo);
        let (id, res) = (parse(&id, PolicyKind::Identity), parse(&res, PolicyKind::Resource));
        let allow_all = parse(
            &json!({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "*"}}),
            PolicyKind::Resource,
        );
        let deny = deny_all_for(&action, &req.resource);
        let d = evaluate(&req, &[&id], &[&allow_all, &res, &deny]);
        match d {
            Decision::ExplicitDeny { source: PolicySource::Resource, sid } => {
                // The generated resource policy may hold a Deny of its own that applies first.
                prop_assert!(sid.is_none() || sid.as_deref() == Some("NoWay"));
            }
            Decision::ExplicitDeny { source: PolicySource::Identity, .. } => {
                prop_assert_ne!(&req.principal, &Principal::Anonymous);
            }
            other => prop_assert!(false, "{:?} despite an explicit deny", other),
        }
    }

    #[test]
    fn a_wildcard_allow_grants_any_action_on_any_resource(
        req in request(),
        lower in any::<bool>(),
    ) {
        let mut req = req;
        if lower {
            req.action = req.action.to_lowercase();
        }
        let id = parse(
            &json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
            PolicyKind::Identity,
        );
        let public = parse(
            &json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*"}]}),
            PolicyKind::Resource,
        );
        let d = evaluate(&req, &[&id], &[]);
        match &req.principal {
            Principal::User { account, .. } if *account == req.resource_account => {
                prop_assert_eq!(d, Decision::Allow)
            }
            _ => prop_assert!(!d.is_allowed(), "{:?}", req),
        }
        // A public resource policy lets everyone in, anonymous callers included.
        prop_assert_eq!(evaluate(&req, &[&id], &[&public]), Decision::Allow);
    }

    #[test]
    fn adding_an_allow_never_denies_and_adding_a_deny_never_allows(
        id in document(PolicyKind::Identity),
        res in document(PolicyKind::Resource),
        extra in statement(PolicyKind::Resource),
        req in request(),
    ) {
        let (id, res) = (parse(&id, PolicyKind::Identity), parse(&res, PolicyKind::Resource));
        let before = evaluate(&req, &[&id], &[&res]);
        let extra_doc = parse(&json!({"Statement": [extra.clone()]}), PolicyKind::Resource);
        let after = evaluate(&req, &[&id], &[&res, &extra_doc]);
        if extra["Effect"] == "Allow" {
            prop_assert!(!before.is_allowed() || after.is_allowed(), "{:?} -> {:?}", before, after);
            if matches!(before, Decision::ExplicitDeny { .. }) {
                prop_assert_eq!(before, after);
            }
        } else {
            prop_assert!(before.is_allowed() || !after.is_allowed(), "{:?} -> {:?}", before, after);
        }
    }
}

/// A fixed case beside the generated ones: request keys are matched case-insensitively.
#[test]
fn keys_are_matched_case_insensitively() {
    let doc = parse(
        &json!({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "*",
            "Condition": {"StringEquals": {"aws:SourceVpc": "vpc-1"}}}]}),
        PolicyKind::Resource,
    );
    let ctx = RequestContext {
        principal: Principal::Anonymous,
        action: "ecr:BatchGetImage".into(),
        resource: repo_arn(A, "x"),
        resource_account: A.into(),
        keys: BTreeMap::from([("AWS:SOURCEVPC".to_string(), vec!["vpc-1".to_string()])]),
    };
    assert!(matches!(
        evaluate(&ctx, &[], &[&doc]),
        Decision::ExplicitDeny { .. }
    ));
}
