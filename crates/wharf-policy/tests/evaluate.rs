//! The evaluation table: allow/deny precedence, action and resource wildcards, the negated
//! elements, principal matching, same- and cross-account rules, anonymous access and the
//! registry policy as a second resource policy.

mod common;

use common::{check, ctx, report, A, B, E};

struct Case {
    name: &'static str,
    identity: &'static [&'static str],
    resource: &'static [&'static str],
    who: &'static str,
    action: &'static str,
    repo: &'static str,
    expect: E,
}

const ALLOW_PULL: &str = r#"{"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*"}"#;
const ALLOW_ALL: &str = r#"{"Effect":"Allow","Action":"ecr:*","Resource":"*"}"#;
const RES_ALLOW_STAR: &str = r#"{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}"#;
const RES_ALLOW_B: &str =
    r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"ecr:*"}"#;

#[rustfmt::skip]
const CASES: &[Case] = &[
    // Basic allow / deny precedence.
    Case { name: "identity allow", identity: &[ALLOW_PULL], resource: &[], who: "alice", action: "ecr:BatchGetImage", repo: "app", expect: E::Allow },
    Case { name: "no policies", identity: &[], resource: &[], who: "alice", action: "ecr:BatchGetImage", repo: "app", expect: E::NoId },
    Case { name: "other action not allowed", identity: &[ALLOW_PULL], resource: &[], who: "alice", action: "ecr:PutImage", repo: "app", expect: E::NoId },
    Case { name: "identity deny beats identity allow", identity: &[ALLOW_ALL, r#"{"Effect":"Deny","Action":"ecr:PutImage","Resource":"*"}"#], resource: &[], who: "alice", action: "ecr:PutImage", repo: "app", expect: E::DenyId },
    Case { name: "deny in same statement list", identity: &[r#"[{"Effect":"Allow","Action":"ecr:*","Resource":"*"},{"Effect":"Deny","Action":"ecr:Delete*","Resource":"*"}]"#], resource: &[], who: "alice", action: "ecr:DeleteRepository", repo: "app", expect: E::DenyId },
    Case { name: "resource deny beats identity allow", identity: &[ALLOW_ALL], resource: &[r#"{"Effect":"Deny","Principal":"*","Action":"ecr:BatchGetImage"}"#], who: "alice", action: "ecr:BatchGetImage", repo: "app", expect: E::DenyRes },
    Case { name: "deny on other action is no deny", identity: &[ALLOW_ALL, r#"{"Effect":"Deny","Action":"ecr:PutImage","Resource":"*"}"#], resource: &[], who: "alice", action: "ecr:BatchGetImage", repo: "app", expect: E::Allow },
    // Action wildcards (case-insensitive).
    Case { name: "action ecr:*", identity: &[ALLOW_ALL], resource: &[], who: "alice", action: "ecr:PutImage", repo: "app", expect: E::Allow },
    Case { name: "action prefix wildcard", identity: &[r#"{"Effect":"Allow","Action":"ecr:Batch*","Resource":"*"}"#], resource: &[], who: "alice", action: "ecr:BatchDeleteImage", repo: "app", expect: E::Allow },
    Case { name: "action prefix wildcard miss", identity: &[r#"{"Effect":"Allow","Action":"ecr:Batch*","Resource":"*"}"#], resource: &[], who: "alice", action: "ecr:PutImage", repo: "app", expect: E::NoId },
    Case { name: "action ? wildcard", identity: &[r#"{"Effect":"Allow","Action":"ecr:BatchGetImag?","Resource":"*"}"#], resource: &[], who: "alice", action: "ecr:BatchGetImage", repo: "app", expect: E::Allow },
    Case { name: "action case-insensitive", identity: &[r#"{"Effect":"Allow","Action":"ECR:batchgetimage","Resource":"*"}"#], resource: &[], who: "alice", action: "ecr:BatchGetImage", repo: "app", expect: E::Allow },
    Case { name: "action *", identity: &[r#"{"Effect":"Allow","Action":"*","Resource":"*"}"#], resource: &[], who: "alice", action: "ecr:CreateRepository", repo: "app", expect: E::Allow },
    Case { name: "other service", identity: &[r#"{"Effect":"Allow","Action":["s3:*","iam:Get*"],"Resource":"*"}"#], resource: &[], who: "alice", action: "ecr:BatchGetImage", repo: "app", expect: E::NoId },
    // Resource wildcards (case-sensitive, per ARN segment).
    Case { name: "resource prefix", identity: &[r#"{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:us-east-1:111111111111:repository/team/*"}"#], resource: &[], who: "alice", action: "ecr:PutImage", repo: "team/app", expect: E::Allow },
    Case { name: "resource prefix miss", identity: &[r#"{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:us-east-1:111111111111:repository/team/*"}"#], resource: &[], who: "alice", action: "ecr:PutImage", repo: "other/app", expect: E::NoId },
    Case { name: "resource case-sensitive", identity: &[r#"{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:us-east-1:111111111111:repository/Team/*"}"#], resource: &[], who: "alice", action: "ecr:PutImage", repo: "team/app", expect: E::NoId },
    Case { name: "resource region wildcard", identity: &[r#"{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:*:111111111111:repository/app"}"#], resource: &[], who: "alice", action: "ecr:PutImage", repo: "app", expect: E::Allow },
    Case { name: "resource ? wildcard", identity: &[r#"{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:us-east-1:111111111111:repository/ap?"}"#], resource: &[], who: "alice", action: "ecr:PutImage", repo: "app", expect: E::Allow },
    Case { name: "resource other account", identity: &[r#"{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:us-east-1:222222222222:repository/*"}"#], resource: &[], who: "alice", action: "ecr:PutImage", repo: "app", expect: E::NoId },
    Case { name: "resource list", identity: &[r#"{"Effect":"Allow","Action":"ecr:*","Resource":["arn:aws:ecr:us-east-1:111111111111:repository/x","arn:aws:ecr:us-east-1:111111111111:repository/app"]}"#], resource: &[], who: "alice", action: "ecr:PutImage", repo: "app", expect: E::Allow },
    Case { name: "registry-level action on *", identity: &[r#"{"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"}"#], resource: &[], who: "alice", action: "ecr:GetAuthorizationToken", repo: "*", expect: E::Allow },
    Case { name: "registry-level action vs repository pattern", identity: &[r#"{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:us-east-1:111111111111:repository/*"}"#], resource: &[], who: "alice", action: "ecr:GetAuthorizationToken", repo: "*", expect: E::NoId },
    // NotAction / NotResource.
    Case { name: "NotAction allow hits others", identity: &[r#"{"Effect":"Allow","NotAction":"ecr:Delete*","Resource":"*"}"#], resource: &[], who: "alice", action: "ecr:BatchGetImage", repo: "app", expect: E::Allow },
    Case { name: "NotAction allow skips listed", identity: &[r#"{"Effect":"Allow","NotAction":"ecr:Delete*","Resource":"*"}"#], resource: &[], who: "alice", action: "ecr:DeleteRepository", repo: "app", expect: E::NoId },
    Case { name: "Deny NotAction denies the rest", identity: &[ALLOW_ALL, r#"{"Effect":"Deny","NotAction":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Resource":"*"}"#], resource: &[], who: "alice", action: "ecr:PutImage", repo: "app", expect: E::DenyId },
    Case { name: "Deny NotAction spares listed", identity: &[ALLOW_ALL, r#"{"Effect":"Deny","NotAction":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Resource":"*"}"#], resource: &[], who: "alice", action: "ecr:BatchGetImage", repo: "app", expect: E::Allow },
    Case { name: "NotResource allow elsewhere", identity: &[r#"{"Effect":"Allow","Action":"ecr:*","NotResource":"arn:aws:ecr:*:*:repository/secret*"}"#], resource: &[], who: "alice", action: "ecr:PutImage", repo: "app", expect: E::Allow },
    Case { name: "NotResource allow skips listed", identity: &[r#"{"Effect":"Allow","Action":"ecr:*","NotResource":"arn:aws:ecr:*:*:repository/secret*"}"#], resource: &[], who: "alice", action: "ecr:PutImage", repo: "secret/x", expect: E::NoId },
    Case { name: "Deny NotResource", identity: &[ALLOW_ALL, r#"{"Effect":"Deny","Action":"ecr:*","NotResource":"arn:aws:ecr:*:*:repository/sandbox/*"}"#], resource: &[], who: "alice", action: "ecr:PutImage", repo: "prod/app", expect: E::DenyId },
    // Principals in resource policies, same account.
    Case { name: "repo policy names user", identity: &[], resource: &[r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/alice"},"Action":"ecr:*"}"#], who: "alice", action: "ecr:PutImage", repo: "app", expect: E::Allow },
    Case { name: "repo policy names other user", identity: &[], resource: &[r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/bob"},"Action":"ecr:*"}"#], who: "alice", action: "ecr:PutImage", repo: "app", expect: E::NoId },
    Case { name: "repo policy names account id", identity: &[], resource: &[r#"{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"ecr:*"}"#], who: "bob", action: "ecr:PutImage", repo: "app", expect: E::Allow },
    Case { name: "repo policy names account root", identity: &[], resource: &[r#"{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::333333333333:root","arn:aws:iam::111111111111:root"]},"Action":"ecr:*"}"#], who: "bob", action: "ecr:PutImage", repo: "app", expect: E::Allow },
    Case { name: "repo policy principal *", identity: &[], resource: &[RES_ALLOW_STAR], who: "alice", action: "ecr:BatchGetImage", repo: "app", expect: E::Allow },
    Case { name: "service principal never matches", identity: &[], resource: &[r#"{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"ecr:*"}"#], who: "alice", action: "ecr:BatchGetImage", repo: "app", expect: E::NoId },
    Case { name: "role ARN matches its session", identity: &[], resource: &[r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/ci/deploy"},"Action":"ecr:*"}"#], who: "arn:aws:sts::111111111111:assumed-role/deploy/run-1", action: "ecr:PutImage", repo: "app", expect: E::Allow },
    Case { name: "resource policy Resource limits repo", identity: &[], resource: &[r#"{"Effect":"Allow","Principal":"*","Action":"ecr:*","Resource":"arn:aws:ecr:us-east-1:111111111111:repository/other"}"#], who: "alice", action: "ecr:PutImage", repo: "app", expect: E::NoId },
    // NotPrincipal.
    Case { name: "Deny NotPrincipal spares named user", identity: &[ALLOW_ALL], resource: &[r#"{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111111111111:user/alice"},"Action":"ecr:*"}"#], who: "alice", action: "ecr:PutImage", repo: "app", expect: E::Allow },
    Case { name: "Deny NotPrincipal denies others", identity: &[ALLOW_ALL], resource: &[r#"{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111111111111:user/alice"},"Action":"ecr:*"}"#], who: "bob", action: "ecr:PutImage", repo: "app", expect: E::DenyRes },
    Case { name: "Deny NotPrincipal account denies outsiders", identity: &[ALLOW_ALL], resource: &[RES_ALLOW_B, r#"{"Effect":"Deny","NotPrincipal":{"AWS":"111111111111"},"Action":"ecr:PutImage"}"#], who: "carol", action: "ecr:PutImage", repo: "app", expect: E::DenyRes },
    Case { name: "Allow NotPrincipal grants others", identity: &[], resource: &[r#"{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::111111111111:user/bob"},"Action":"ecr:*"}"#], who: "alice", action: "ecr:PutImage", repo: "app", expect: E::Allow },
    // Cross-account: both sides needed.
    Case { name: "cross-account resource policy alone", identity: &[], resource: &[RES_ALLOW_B], who: "carol", action: "ecr:PutImage", repo: "app", expect: E::NoId },
    Case { name: "cross-account identity alone", identity: &[ALLOW_ALL], resource: &[], who: "carol", action: "ecr:PutImage", repo: "app", expect: E::NoRes },
    Case { name: "cross-account both", identity: &[ALLOW_ALL], resource: &[RES_ALLOW_B], who: "carol", action: "ecr:PutImage", repo: "app", expect: E::Allow },
    Case { name: "cross-account principal *", identity: &[ALLOW_PULL], resource: &[RES_ALLOW_STAR], who: "carol", action: "ecr:BatchGetImage", repo: "app", expect: E::Allow },
    Case { name: "cross-account wrong account named", identity: &[ALLOW_ALL], resource: &[r#"{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"ecr:*"}"#], who: "carol", action: "ecr:PutImage", repo: "app", expect: E::NoRes },
    Case { name: "cross-account user ARN", identity: &[ALLOW_ALL], resource: &[r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:user/carol"},"Action":"ecr:BatchGetImage"}"#], who: "carol", action: "ecr:BatchGetImage", repo: "app", expect: E::Allow },
    Case { name: "cross-account other user ARN", identity: &[ALLOW_ALL], resource: &[r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:user/dave"},"Action":"ecr:BatchGetImage"}"#], who: "carol", action: "ecr:BatchGetImage", repo: "app", expect: E::NoRes },
    Case { name: "cross-account identity deny wins", identity: &[ALLOW_ALL, r#"{"Effect":"Deny","Action":"ecr:PutImage","Resource":"*"}"#], resource: &[RES_ALLOW_B], who: "carol", action: "ecr:PutImage", repo: "app", expect: E::DenyId },
    Case { name: "cross-account resource deny wins", identity: &[ALLOW_ALL], resource: &[RES_ALLOW_B, r#"{"Effect":"Deny","Principal":{"AWS":"222222222222"},"Action":"ecr:PutImage"}"#], who: "carol", action: "ecr:PutImage", repo: "app", expect: E::DenyRes },
    // Anonymous callers.
    Case { name: "anonymous principal *", identity: &[], resource: &[RES_ALLOW_STAR], who: "anon", action: "ecr:BatchGetImage", repo: "app", expect: E::Allow },
    Case { name: "anonymous AWS *", identity: &[], resource: &[r#"{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"ecr:BatchGetImage"}"#], who: "anon", action: "ecr:BatchGetImage", repo: "app", expect: E::Allow },
    Case { name: "anonymous other action", identity: &[], resource: &[RES_ALLOW_STAR], who: "anon", action: "ecr:PutImage", repo: "app", expect: E::NoRes },
    Case { name: "anonymous account principal", identity: &[], resource: &[r#"{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"ecr:*"}"#], who: "anon", action: "ecr:BatchGetImage", repo: "app", expect: E::NoRes },
    Case { name: "anonymous identity ignored", identity: &[ALLOW_ALL], resource: &[], who: "anon", action: "ecr:BatchGetImage", repo: "app", expect: E::NoRes },
    Case { name: "anonymous deny *", identity: &[], resource: &[r#"[{"Effect":"Allow","Principal":"*","Action":"ecr:*"},{"Effect":"Deny","Principal":"*","Action":"ecr:BatchGetImage"}]"#], who: "anon", action: "ecr:BatchGetImage", repo: "app", expect: E::DenyRes },
    Case { name: "anonymous NotPrincipal allow is not public", identity: &[], resource: &[r#"{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::111111111111:user/bob"},"Action":"ecr:*"}"#], who: "anon", action: "ecr:BatchGetImage", repo: "app", expect: E::NoRes },
    Case { name: "anonymous NotPrincipal deny applies", identity: &[], resource: &[RES_ALLOW_STAR, r#"{"Effect":"Deny","NotPrincipal":{"AWS":"111111111111"},"Action":"ecr:*"}"#], who: "anon", action: "ecr:BatchGetImage", repo: "app", expect: E::DenyRes },
    // Registry policy as a second resource policy.
    Case { name: "registry policy grants cross-account", identity: &[ALLOW_ALL], resource: &[r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/bob"},"Action":"ecr:*"}"#, r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":["ecr:CreateRepository","ecr:ReplicateImage"],"Resource":"arn:aws:ecr:us-east-1:111111111111:repository/*"}"#], who: "carol", action: "ecr:ReplicateImage", repo: "app", expect: E::Allow },
    Case { name: "registry policy deny beats repo allow", identity: &[], resource: &[RES_ALLOW_STAR, r#"{"Effect":"Deny","Principal":"*","Action":"ecr:BatchGetImage","Resource":"arn:aws:ecr:us-east-1:111111111111:repository/*"}"#], who: "alice", action: "ecr:BatchGetImage", repo: "app", expect: E::DenyRes },
    Case { name: "registry policy other repo", identity: &[ALLOW_ALL], resource: &[r#"{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"ecr:*","Resource":"arn:aws:ecr:us-east-1:111111111111:repository/shared/*"}"#], who: "carol", action: "ecr:BatchGetImage", repo: "private/app", expect: E::NoRes },
    // Policy variables in Resource.
    Case { name: "resource ${aws:username}", identity: &[r#"{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:us-east-1:111111111111:repository/${aws:username}/*"}"#], resource: &[], who: "alice", action: "ecr:PutImage", repo: "alice/app", expect: E::Allow },
    Case { name: "resource ${aws:username} other user", identity: &[r#"{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:us-east-1:111111111111:repository/${aws:username}/*"}"#], resource: &[], who: "bob", action: "ecr:PutImage", repo: "alice/app", expect: E::NoId },
    Case { name: "resource ${aws:PrincipalAccount}", identity: &[r#"{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:*:${aws:PrincipalAccount}:repository/*"}"#], resource: &[], who: "alice", action: "ecr:PutImage", repo: "app", expect: E::Allow },
    Case { name: "variables literal in 2008-10-17", identity: &[r#"{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:us-east-1:111111111111:repository/${aws:username}/*"}}"#], resource: &[], who: "alice", action: "ecr:PutImage", repo: "alice/app", expect: E::NoId },
    Case { name: "unresolved variable matches nothing", identity: &[r#"{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:us-east-1:111111111111:repository/${aws:userid}/*"}"#], resource: &[], who: "alice", action: "ecr:PutImage", repo: "alice/app", expect: E::NoId },
    Case { name: "unresolved variable voids a deny", identity: &[ALLOW_ALL, r#"{"Effect":"Deny","Action":"ecr:*","NotResource":"arn:aws:ecr:us-east-1:111111111111:repository/${aws:userid}/*"}"#], resource: &[], who: "alice", action: "ecr:PutImage", repo: "app", expect: E::Allow },
    Case { name: "variable default in resource", identity: &[r#"{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:us-east-1:111111111111:repository/${aws:userid, 'shared'}/*"}"#], resource: &[], who: "alice", action: "ecr:PutImage", repo: "shared/app", expect: E::Allow },
];

#[test]
fn evaluation_table() {
    assert_eq!(A.len() + B.len(), 24);
    let failures = CASES
        .iter()
        .filter_map(|c| {
            check(
                c.name,
                c.identity,
                c.resource,
                &ctx(c.who, c.action, c.repo, &[]),
                c.expect,
            )
        })
        .collect();
    report(failures, CASES.len());
}

#[test]
fn explicit_deny_names_the_statement() {
    let d = common::doc(
        r#"{"Sid":"NoPush","Effect":"Deny","Action":"ecr:PutImage","Resource":"*"}"#,
        wharf_policy::PolicyKind::Identity,
    );
    let got = wharf_policy::evaluate(&ctx("alice", "ecr:PutImage", "app", &[]), &[&d], &[]);
    assert_eq!(
        got,
        wharf_policy::Decision::ExplicitDeny {
            source: wharf_policy::PolicySource::Identity,
            sid: Some("NoPush".into())
        }
    );
    assert_eq!(
        serde_json::to_value(&got).unwrap()["decision"],
        "ExplicitDeny"
    );
}
