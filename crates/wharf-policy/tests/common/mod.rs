//! Shared helpers for the data-driven evaluation tables: principals, request contexts and the
//! `check` function that parses the policies of a case, evaluates it and compares the outcome.

#![allow(dead_code)]

use std::collections::BTreeMap;
use wharf_policy::{
    evaluate, Decision, PolicyDocument, PolicyKind, PolicySource, Principal, RequestContext,
};

/// The account owning the repositories in the tables.
pub const A: &str = "111111111111";
/// Another account, for cross-account cases.
pub const B: &str = "222222222222";

/// Condition keys of a request in a table: `(key, values)`.
pub type Keys = &'static [(&'static str, &'static [&'static str])];

/// The expected outcome of a case, with the side that decided it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum E {
    Allow,
    /// Explicit deny from an identity policy.
    DenyId,
    /// Explicit deny from a resource policy.
    DenyRes,
    /// Implicit deny: no identity policy allows.
    NoId,
    /// Implicit deny: no resource policy allows.
    NoRes,
}

/// `anon`, `alice`/`bob` (account A), `carol` (account B), or a full principal ARN.
pub fn principal(who: &str) -> Principal {
    match who {
        "anon" => Principal::Anonymous,
        "alice" | "bob" => Principal::user(&format!("arn:aws:iam::{A}:user/{who}")).unwrap(),
        "carol" => Principal::user(&format!("arn:aws:iam::{B}:user/carol")).unwrap(),
        arn => Principal::user(arn).unwrap(),
    }
}

/// A repository name in account A, a full ARN, or `*` for registry-level actions of account A.
pub fn resource_arn(repo: &str) -> String {
    if repo == "*" || repo.starts_with("arn:") {
        repo.to_string()
    } else {
        format!("arn:aws:ecr:us-east-1:{A}:repository/{repo}")
    }
}

pub fn ctx(who: &str, action: &str, repo: &str, keys: &[(&str, &[&str])]) -> RequestContext {
    let resource = resource_arn(repo);
    let resource_account = resource
        .split(':')
        .nth(4)
        .filter(|a| !a.is_empty())
        .unwrap_or(A)
        .to_string();
    let keys: BTreeMap<String, Vec<String>> = keys
        .iter()
        .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
        .collect();
    RequestContext {
        principal: principal(who),
        action: action.to_string(),
        resource,
        resource_account,
        keys,
    }
}

/// A whole document, or a statement / statement array wrapped into a `2012-10-17` document.
pub fn doc(text: &str, kind: PolicyKind) -> PolicyDocument {
    let full = if text.contains("\"Statement\"") {
        text.to_string()
    } else {
        format!(r#"{{"Version":"2012-10-17","Statement":{text}}}"#)
    };
    PolicyDocument::parse(&full, kind)
        .unwrap_or_else(|e| panic!("policy {full} does not parse: {e}"))
}

pub fn outcome(d: &Decision) -> E {
    match d {
        Decision::Allow => E::Allow,
        Decision::ExplicitDeny {
            source: PolicySource::Identity,
            ..
        } => E::DenyId,
        Decision::ExplicitDeny {
            source: PolicySource::Resource,
            ..
        } => E::DenyRes,
        Decision::ImplicitDeny {
            missing: PolicySource::Identity,
        } => E::NoId,
        Decision::ImplicitDeny {
            missing: PolicySource::Resource,
        } => E::NoRes,
    }
}

/// Evaluates `ctx` against the policies and returns a failure line when the outcome differs.
pub fn check(
    name: &str,
    identity: &[&str],
    resource: &[&str],
    ctx: &RequestContext,
    expected: E,
) -> Option<String> {
    let identity: Vec<PolicyDocument> = identity
        .iter()
        .map(|t| doc(t, PolicyKind::Identity))
        .collect();
    let resource: Vec<PolicyDocument> = resource
        .iter()
        .map(|t| doc(t, PolicyKind::Resource))
        .collect();
    let id_refs: Vec<&PolicyDocument> = identity.iter().collect();
    let res_refs: Vec<&PolicyDocument> = resource.iter().collect();
    let got = evaluate(ctx, &id_refs, &res_refs);
    (outcome(&got) != expected).then(|| format!("{name}: expected {expected:?}, got {got:?}"))
}

/// Panics listing every failed case, so one run shows all of them.
pub fn report(failures: Vec<String>, total: usize) {
    assert!(
        failures.is_empty(),
        "{} of {total} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
