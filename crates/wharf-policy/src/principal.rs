//! Principals: who makes a request (`Principal`) and whom a statement names (`Principal` /
//! `NotPrincipal` elements), with IAM's matching rules.
//!
//! Matching: `"*"` (or `{"AWS": "*"}`) matches everyone, anonymous callers included; an account id
//! or `arn:aws:iam::ACCT:root` matches every user of that account; any other ARN matches exactly,
//! except that a role ARN also matches sessions of that role (`arn:aws:sts::ACCT:assumed-role/R/s`).
//! `Service`, `Federated` and `CanonicalUser` entries are accepted but never match a Wharf caller.

use crate::error::PolicyError;
use serde::Serialize;
use serde_json::Value;

/// Who is making a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type")]
pub enum Principal {
    /// No credentials were presented.
    Anonymous,
    /// An authenticated IAM-style principal; `account` is its 12-digit account id.
    User { arn: String, account: String },
}

impl Principal {
    /// A user principal from its ARN, taking the account id from the ARN.
    pub fn user(arn: &str) -> Result<Principal, PolicyError> {
        let bad = || PolicyError::PrincipalArn(arn.to_string());
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        if parts.len() != 6 || parts[0] != "arn" || !matches!(parts[2], "iam" | "sts") {
            return Err(bad());
        }
        if !is_account_id(parts[4]) || parts[5].is_empty() {
            return Err(bad());
        }
        Ok(Principal::User {
            arn: arn.to_string(),
            account: parts[4].to_string(),
        })
    }

    /// The principal as AWS error messages show it: its ARN, or `anonymous`.
    pub fn display_name(&self) -> &str {
        match self {
            Principal::Anonymous => "anonymous",
            Principal::User { arn, .. } => arn,
        }
    }
}

/// Whether `s` is a 12-digit account id.
pub(crate) fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// The parsed content of a `Principal` or `NotPrincipal` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PrincipalSet {
    aws: Vec<AwsEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum AwsEntry {
    Everyone,
    Account(String),
    Arn(String),
}

impl PrincipalSet {
    pub(crate) fn parse(v: &Value, at: &str) -> Result<PrincipalSet, PolicyError> {
        match v {
            Value::String(s) if s == "*" => Ok(PrincipalSet { aws: vec![AwsEntry::Everyone] }),
            Value::String(s) => Err(PolicyError::Principal {
                at: at.to_string(),
                value: s.clone(),
                reason: "a principal given as a string must be \"*\"; use {\"AWS\": ...} for accounts and ARNs",
            }),
            Value::Object(map) => {
                if map.is_empty() {
                    return Err(PolicyError::Empty { at: at.to_string() });
                }
                let mut aws = Vec::new();
                for (kind, entries) in map {
                    let at = format!("{at}.{kind}");
                    let list = string_list(entries, &at)?;
                    match kind.as_str() {
                        "AWS" => {
                            for e in list {
                                aws.push(parse_aws(&e, &at)?);
                            }
                        }
                        // Service and federated principals are valid grammar but no Wharf caller
                        // is ever one of them, so they are validated for shape and then dropped.
                        "Service" | "Federated" | "CanonicalUser" => {
                            if let Some(e) = list.iter().find(|e| e.is_empty()) {
                                return Err(PolicyError::Principal {
                                    at,
                                    value: e.clone(),
                                    reason: "must not be empty",
                                });
                            }
                        }
                        _ => return Err(PolicyError::UnknownKey { at: at.clone(), key: kind.clone() }),
                    }
                }
                Ok(PrincipalSet { aws })
            }
            _ => Err(PolicyError::WrongType {
                at: at.to_string(),
                expected: "\"*\" or an object such as {\"AWS\": \"123456789012\"}",
            }),
        }
    }

    /// Whether the set names everyone (`"*"` or `{"AWS": "*"}`).
    pub(crate) fn is_everyone(&self) -> bool {
        self.aws.contains(&AwsEntry::Everyone)
    }

    pub(crate) fn matches(&self, who: &Principal) -> bool {
        self.aws.iter().any(|e| entry_matches(e, who))
    }
}

fn entry_matches(e: &AwsEntry, who: &Principal) -> bool {
    let (arn, account) = match (e, who) {
        (AwsEntry::Everyone, _) => return true,
        (_, Principal::Anonymous) => return false,
        (_, Principal::User { arn, account }) => (arn, account),
    };
    match e {
        AwsEntry::Everyone => true,
        AwsEntry::Account(a) => a == account,
        AwsEntry::Arn(p) => p == arn || role_session_of(p, arn),
    }
}

/// Whether `session` (`arn:aws:sts::A:assumed-role/R/s`) is a session of `role`
/// (`arn:aws:iam::A:role/path/R`).
fn role_session_of(role: &str, session: &str) -> bool {
    let role_parts: Vec<&str> = role.splitn(6, ':').collect();
    let sess_parts: Vec<&str> = session.splitn(6, ':').collect();
    if role_parts.len() != 6 || sess_parts.len() != 6 || role_parts[4] != sess_parts[4] {
        return false;
    }
    let (Some(role_path), Some(sess_rest)) = (
        role_parts[5].strip_prefix("role/"),
        sess_parts[5].strip_prefix("assumed-role/"),
    ) else {
        return false;
    };
    let role_name = role_path.rsplit('/').next().unwrap_or(role_path);
    sess_rest.split('/').next() == Some(role_name)
}

fn parse_aws(e: &str, at: &str) -> Result<AwsEntry, PolicyError> {
    let err = |reason| PolicyError::Principal {
        at: at.to_string(),
        value: e.to_string(),
        reason,
    };
    if e == "*" {
        return Ok(AwsEntry::Everyone);
    }
    if e.contains(['*', '?']) {
        return Err(err(
            "wildcards are only allowed as the whole principal \"*\"",
        ));
    }
    if is_account_id(e) {
        return Ok(AwsEntry::Account(e.to_string()));
    }
    let parts: Vec<&str> = e.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" || !parts[1].starts_with("aws") || !parts[3].is_empty()
    {
        return Err(err(
            "expected \"*\", a 12-digit account id or an IAM principal ARN",
        ));
    }
    if !is_account_id(parts[4]) {
        return Err(err("the account id in the ARN must be 12 digits"));
    }
    let resource = parts[5];
    let kind_ok = match parts[2] {
        "iam" => {
            resource == "root"
                || ["user/", "role/"]
                    .iter()
                    .any(|p| resource.len() > p.len() && resource.starts_with(p))
        }
        "sts" => ["assumed-role/", "federated-user/"]
            .iter()
            .any(|p| resource.len() > p.len() && resource.starts_with(p)),
        _ => false,
    };
    if !kind_ok {
        return Err(err(
            "expected an account root, user, role or role-session ARN",
        ));
    }
    if resource == "root" {
        return Ok(AwsEntry::Account(parts[4].to_string()));
    }
    Ok(AwsEntry::Arn(e.to_string()))
}

/// A string or a non-empty array of strings.
pub(crate) fn string_list(v: &Value, at: &str) -> Result<Vec<String>, PolicyError> {
    let expected = "a string or an array of strings";
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) if items.is_empty() => Err(PolicyError::Empty { at: at.to_string() }),
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => Ok(s.clone()),
                _ => Err(PolicyError::WrongType {
                    at: at.to_string(),
                    expected,
                }),
            })
            .collect(),
        _ => Err(PolicyError::WrongType {
            at: at.to_string(),
            expected,
        }),
    }
}
