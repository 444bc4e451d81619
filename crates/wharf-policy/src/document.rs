//! Policy documents: the IAM grammar, parsed and validated once into types evaluation can trust.
//!
//! ```text
//! { "Version": "2012-10-17" | "2008-10-17",  (optional)
//!   "Id": "...",                             (optional)
//!   "Statement": stmt | [stmt, ...] }
//! stmt := { "Sid"?, "Effect": "Allow"|"Deny",
//!           "Principal" | "NotPrincipal"        (resource policies: exactly one; identity: none)
//!           "Action" | "NotAction"              (exactly one)
//!           "Resource" | "NotResource"          (identity: exactly one; resource: at most one)
//!           "Condition"? }
//! ```

use crate::condition::{self, Clause};
use crate::error::PolicyError;
use crate::principal::{string_list, PrincipalSet};
use serde::Serialize;
use serde_json::{Map, Value};

/// ECR's limit on repository and registry policy text, in characters.
pub const MAX_POLICY_LEN: usize = 10_240;

/// Which kind of policy a document is; it decides whether `Principal` is required or forbidden.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PolicyKind {
    /// Attached to a user: no `Principal`, `Resource` required.
    Identity,
    /// Attached to a repository or registry: `Principal` or `NotPrincipal` required, `Resource`
    /// optional (absent means the resource the policy is attached to).
    Resource,
}

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Effect {
    Allow,
    Deny,
}

/// A validated policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyDocument {
    kind: PolicyKind,
    /// Policy variables are only expanded in `2012-10-17` documents.
    variables: bool,
    statements: Vec<Statement>,
}

/// One validated statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub(crate) sid: Option<String>,
    pub(crate) effect: Effect,
    /// `(negated, set)`: `Principal` or `NotPrincipal`; `None` in identity policies.
    pub(crate) principal: Option<(bool, PrincipalSet)>,
    /// `(negated, patterns)`: `Action` or `NotAction`.
    pub(crate) action: (bool, Vec<String>),
    /// `(negated, patterns)`: `Resource` or `NotResource`; `None` means the attached resource.
    pub(crate) resource: Option<(bool, Vec<String>)>,
    pub(crate) condition: Vec<Clause>,
}

const TOP_KEYS: &[&str] = &["Version", "Id", "Statement"];
const STMT_KEYS: &[&str] = &[
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

impl PolicyDocument {
    /// Parses and validates `text` as a policy of the given kind.
    pub fn parse(text: &str, kind: PolicyKind) -> Result<PolicyDocument, PolicyError> {
        let len = text.chars().count();
        if len > MAX_POLICY_LEN {
            return Err(PolicyError::TooLong {
                len,
                max: MAX_POLICY_LEN,
            });
        }
        let v: Value = serde_json::from_str(text).map_err(|e| PolicyError::Json(e.to_string()))?;
        let Value::Object(top) = v else {
            return Err(PolicyError::WrongType {
                at: "the policy".into(),
                expected: "a JSON object",
            });
        };
        check_keys(&top, TOP_KEYS, "the policy")?;
        let variables = match top.get("Version") {
            None => false,
            Some(Value::String(s)) if s == "2012-10-17" => true,
            Some(Value::String(s)) if s == "2008-10-17" => false,
            Some(Value::String(s)) => return Err(PolicyError::Version(s.clone())),
            Some(_) => {
                return Err(PolicyError::WrongType {
                    at: "Version".into(),
                    expected: "a string",
                })
            }
        };
        if let Some(id) = top.get("Id") {
            if !id.is_string() {
                return Err(PolicyError::WrongType {
                    at: "Id".into(),
                    expected: "a string",
                });
            }
        }
        let raw = match top.get("Statement") {
            None => {
                return Err(PolicyError::Missing {
                    at: "the policy".into(),
                    element: "Statement",
                })
            }
            Some(Value::Array(a)) if a.is_empty() => {
                return Err(PolicyError::Empty {
                    at: "Statement".into(),
                })
            }
            Some(Value::Array(a)) => a.iter().collect::<Vec<_>>(),
            Some(v @ Value::Object(_)) => vec![v],
            Some(_) => {
                return Err(PolicyError::WrongType {
                    at: "Statement".into(),
                    expected: "an object or an array of objects",
                })
            }
        };
        let mut statements: Vec<Statement> = Vec::with_capacity(raw.len());
        for (i, s) in raw.into_iter().enumerate() {
            let at = format!("Statement[{i}]");
            let stmt = parse_statement(s, &at, kind, variables)?;
            if let Some(sid) = &stmt.sid {
                if statements.iter().any(|o| o.sid.as_ref() == Some(sid)) {
                    return Err(PolicyError::DuplicateSid {
                        at,
                        sid: sid.clone(),
                    });
                }
            }
            statements.push(stmt);
        }
        Ok(PolicyDocument {
            kind,
            variables,
            statements,
        })
    }

    /// The kind this document was parsed as.
    pub fn kind(&self) -> PolicyKind {
        self.kind
    }

    /// The statements, in document order.
    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }

    pub(crate) fn variables(&self) -> bool {
        self.variables
    }

    /// The `Action` entries (and `NotAction` lists, reported as `NotAction`) that could grant or
    /// deny an `ecr:` action outside `allowed`. Registry policies under the V1 scope honour only
    /// three actions; the caller rejects a document for which this is non-empty.
    pub fn actions_outside(&self, allowed: &[&str]) -> Vec<String> {
        let mut out = Vec::new();
        for s in &self.statements {
            let (negated, patterns) = &s.action;
            if *negated {
                out.push("NotAction".to_string());
                continue;
            }
            for p in patterns {
                let toks = crate::pattern::expand(p, None).unwrap_or_default();
                let hits_other = crate::actions::ECR_ACTIONS
                    .iter()
                    .filter(|a| crate::pattern::glob(&toks, a, true))
                    .any(|a| !allowed.iter().any(|ok| ok.eq_ignore_ascii_case(a)));
                if hits_other {
                    out.push(p.clone());
                }
            }
        }
        out
    }

    /// Literal (wildcard-free) `ecr:` action names that are not in [`crate::ECR_ACTIONS`].
    pub fn unknown_ecr_actions(&self) -> Vec<String> {
        self.statements
            .iter()
            .flat_map(|s| s.action.1.iter())
            .filter(|a| {
                a.len() > 4 && a[..4].eq_ignore_ascii_case("ecr:") && !a.contains(['*', '?'])
            })
            .filter(|a| {
                !crate::actions::ECR_ACTIONS
                    .iter()
                    .any(|k| k.eq_ignore_ascii_case(a))
            })
            .cloned()
            .collect()
    }
}

impl Statement {
    /// The statement's `Sid`, if it has one.
    pub fn sid(&self) -> Option<&str> {
        self.sid.as_deref()
    }

    /// `Allow` or `Deny`.
    pub fn effect(&self) -> Effect {
        self.effect
    }
}

fn check_keys(map: &Map<String, Value>, known: &[&str], at: &str) -> Result<(), PolicyError> {
    match map.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(PolicyError::UnknownKey {
            at: at.to_string(),
            key: k.clone(),
        }),
        None => Ok(()),
    }
}

/// Returns the one element present among `a` and `b`, with whether it was `b` (the negated one).
fn one_of<'v>(
    m: &'v Map<String, Value>,
    a: &'static str,
    b: &'static str,
    at: &str,
) -> Result<Option<(bool, &'v Value)>, PolicyError> {
    match (m.get(a), m.get(b)) {
        (Some(_), Some(_)) => Err(PolicyError::Conflict {
            at: at.to_string(),
            first: a,
            second: b,
        }),
        (Some(v), None) => Ok(Some((false, v))),
        (None, Some(v)) => Ok(Some((true, v))),
        (None, None) => Ok(None),
    }
}

fn parse_statement(
    v: &Value,
    at: &str,
    kind: PolicyKind,
    variables: bool,
) -> Result<Statement, PolicyError> {
    let Value::Object(m) = v else {
        return Err(PolicyError::WrongType {
            at: at.to_string(),
            expected: "an object",
        });
    };
    check_keys(m, STMT_KEYS, at)?;
    let sid = match m.get("Sid") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            return Err(PolicyError::WrongType {
                at: format!("{at}.Sid"),
                expected: "a string",
            })
        }
    };
    let effect = match m.get("Effect") {
        None => {
            return Err(PolicyError::Missing {
                at: at.to_string(),
                element: "Effect",
            })
        }
        Some(Value::String(s)) if s == "Allow" => Effect::Allow,
        Some(Value::String(s)) if s == "Deny" => Effect::Deny,
        Some(Value::String(s)) => {
            return Err(PolicyError::Effect {
                at: at.to_string(),
                value: s.clone(),
            })
        }
        Some(_) => {
            return Err(PolicyError::WrongType {
                at: format!("{at}.Effect"),
                expected: "a string",
            })
        }
    };

    let principal = match (one_of(m, "Principal", "NotPrincipal", at)?, kind) {
        (Some((neg, _)), PolicyKind::Identity) => {
            let element = if neg { "NotPrincipal" } else { "Principal" };
            return Err(PolicyError::NotAllowed {
                at: at.to_string(),
                element,
                kind: "identity",
            });
        }
        (None, PolicyKind::Resource) => {
            return Err(PolicyError::Missing {
                at: at.to_string(),
                element: "Principal or NotPrincipal",
            })
        }
        (None, PolicyKind::Identity) => None,
        (Some((neg, v)), PolicyKind::Resource) => {
            let field = if neg { "NotPrincipal" } else { "Principal" };
            Some((neg, PrincipalSet::parse(v, &format!("{at}.{field}"))?))
        }
    };

    let action = match one_of(m, "Action", "NotAction", at)? {
        None => {
            return Err(PolicyError::Missing {
                at: at.to_string(),
                element: "Action or NotAction",
            })
        }
        Some((neg, v)) => {
            let field_at = format!("{at}.{}", if neg { "NotAction" } else { "Action" });
            let list = string_list(v, &field_at)?;
            if let Some(bad) = list.iter().find(|a| !valid_action(a)) {
                return Err(PolicyError::Action {
                    at: field_at,
                    value: bad.clone(),
                });
            }
            (neg, list)
        }
    };

    let resource = match one_of(m, "Resource", "NotResource", at)? {
        None if kind == PolicyKind::Identity => {
            return Err(PolicyError::Missing {
                at: at.to_string(),
                element: "Resource or NotResource",
            })
        }
        None => None,
        Some((neg, v)) => {
            let field_at = format!("{at}.{}", if neg { "NotResource" } else { "Resource" });
            let list = string_list(v, &field_at)?;
            if let Some(bad) = list.iter().find(|r| !valid_resource(r)) {
                return Err(PolicyError::Resource {
                    at: field_at,
                    value: bad.clone(),
                });
            }
            Some((neg, list))
        }
    };

    let condition = match m.get("Condition") {
        None => Vec::new(),
        Some(c) => condition::parse_block(c, &format!("{at}.Condition"), variables)?,
    };
    Ok(Statement {
        sid,
        effect,
        principal,
        action,
        resource,
        condition,
    })
}

/// `*`, or `service:Name` where the service is lowercase letters, digits and dashes and the name
/// is letters, digits and the wildcards `*` and `?`.
fn valid_action(a: &str) -> bool {
    if a == "*" {
        return true;
    }
    let Some((service, name)) = a.split_once(':') else {
        return false;
    };
    !service.is_empty()
        && service
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'*' || b == b'?')
}

/// `*`, or an ARN with its six colon-separated parts (`arn:partition:service:region:account:res`).
fn valid_resource(r: &str) -> bool {
    if r == "*" {
        return true;
    }
    let parts: Vec<&str> = r.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && !parts[1].is_empty()
        && !parts[2].is_empty()
        && !parts[5].is_empty()
}
