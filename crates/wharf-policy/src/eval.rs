//! Evaluation: a request context against identity and resource policies, with IAM's decision
//! logic, and AWS's `AccessDenied` message for the outcome.
//!
//! 1. Any applicable `Deny` in any policy → `ExplicitDeny`.
//! 2. Anonymous callers: identity policies are ignored; only a resource-policy `Allow` whose
//!    `Principal` is `"*"` grants access.
//! 3. Same account (principal's account == resource's account): an `Allow` in an identity policy
//!    *or* a resource policy is enough.
//! 4. Cross-account: an identity-policy `Allow` *and* a resource-policy `Allow` naming the caller
//!    are both needed.
//! 5. Otherwise → `ImplicitDeny`.

use crate::condition::{self, Lookup};
use crate::document::{Effect, PolicyDocument, Statement};
use crate::pattern::{self, VarSource};
use crate::principal::Principal;
use serde::Serialize;
use std::collections::BTreeMap;

/// Everything evaluation knows about one request. No clock is read: `aws:CurrentTime` and
/// `aws:EpochTime` come in `keys` like every other condition key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    pub principal: Principal,
    /// An action name such as `ecr:BatchGetImage`.
    pub action: String,
    /// The resource ARN (`arn:aws:ecr:us-east-1:123456789012:repository/team/app`), or `*` for
    /// registry-level actions.
    pub resource: String,
    /// The 12-digit account that owns the resource.
    pub resource_account: String,
    /// Condition keys (`aws:SourceIp`, `aws:CurrentTime`, `aws:ResourceTag/team`...), matched
    /// case-insensitively. `aws:PrincipalArn`, `aws:PrincipalAccount`, `aws:username`,
    /// `aws:PrincipalType` and `aws:ResourceAccount` are derived from the fields above when absent.
    pub keys: BTreeMap<String, Vec<String>>,
}

/// Which side of the evaluation a statement or a missing grant belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PolicySource {
    /// A policy attached to the caller.
    Identity,
    /// A repository or registry policy.
    Resource,
}

/// The outcome of [`evaluate`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "decision")]
pub enum Decision {
    Allow,
    /// A `Deny` statement applied; `sid` names it when it has one.
    ExplicitDeny {
        source: PolicySource,
        sid: Option<String>,
    },
    /// No applicable `Allow`; `missing` is the side whose grant was lacking.
    ImplicitDeny {
        missing: PolicySource,
    },
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow)
    }
}

/// Decides a request. `identity` are the caller's own policies; `resource` are the policies of
/// the resource's account that apply to it (repository policy, registry policy).
pub fn evaluate(
    ctx: &RequestContext,
    identity: &[&PolicyDocument],
    resource: &[&PolicyDocument],
) -> Decision {
    let env = Env::new(ctx);
    let anonymous = matches!(ctx.principal, Principal::Anonymous);
    let mut identity_allows = false;
    if !anonymous {
        for doc in identity {
            for s in doc.statements() {
                if applies(s, doc, ctx, &env) {
                    match s.effect {
                        Effect::Deny => return deny(PolicySource::Identity, s),
                        Effect::Allow => identity_allows = true,
                    }
                }
            }
        }
    }
    let mut resource_allows = false;
    for doc in resource {
        for s in doc.statements() {
            if !applies(s, doc, ctx, &env) {
                continue;
            }
            match s.effect {
                Effect::Deny => return deny(PolicySource::Resource, s),
                // Only an explicit "everyone" grant reaches anonymous callers; NotPrincipal
                // allows (which also "match" anonymous) are not read as public access.
                Effect::Allow if anonymous => {
                    resource_allows |= matches!(&s.principal, Some((false, p)) if p.is_everyone());
                }
                Effect::Allow => resource_allows = true,
            }
        }
    }
    let same_account = match &ctx.principal {
        Principal::User { account, .. } => *account == ctx.resource_account,
        Principal::Anonymous => false,
    };
    match (anonymous, same_account, identity_allows, resource_allows) {
        (true, _, _, true) => Decision::Allow,
        (true, _, _, false) => Decision::ImplicitDeny {
            missing: PolicySource::Resource,
        },
        (false, true, true, _) | (false, true, _, true) => Decision::Allow,
        (false, true, false, false) => Decision::ImplicitDeny {
            missing: PolicySource::Identity,
        },
        (false, false, true, true) => Decision::Allow,
        (false, false, false, _) => Decision::ImplicitDeny {
            missing: PolicySource::Identity,
        },
        (false, false, true, false) => Decision::ImplicitDeny {
            missing: PolicySource::Resource,
        },
    }
}

fn deny(source: PolicySource, s: &Statement) -> Decision {
    Decision::ExplicitDeny {
        source,
        sid: s.sid.clone(),
    }
}

/// Whether a statement applies to the request: principal, action, resource and conditions.
fn applies(s: &Statement, doc: &PolicyDocument, ctx: &RequestContext, env: &Env<'_>) -> bool {
    if let Some((negated, set)) = &s.principal {
        if set.matches(&ctx.principal) == *negated {
            return false;
        }
    }
    let (negated, actions) = &s.action;
    let action_hit = actions.iter().any(|a| {
        let toks = pattern::expand(a, None).unwrap_or_default();
        pattern::glob(&toks, &ctx.action, true)
    });
    if action_hit == *negated {
        return false;
    }
    let vars = if doc.variables() {
        Some(env as &dyn VarSource)
    } else {
        None
    };
    if let Some((negated, resources)) = &s.resource {
        // A variable the request cannot fill makes the whole statement inapplicable, for Allow
        // and Deny alike (IAM: "the entire statement might be invalid").
        let Some(patterns) = resources
            .iter()
            .map(|r| pattern::expand(r, vars))
            .collect::<Option<Vec<_>>>()
        else {
            return false;
        };
        let hit = patterns
            .iter()
            .any(|toks| pattern::arn_match(toks, &ctx.resource));
        if hit == *negated {
            return false;
        }
    }
    condition::block_holds(&s.condition, env, doc.variables())
}

/// The request's condition keys plus the ones derived from the principal and resource.
struct Env<'a> {
    ctx: &'a RequestContext,
    derived: Vec<(&'static str, Vec<String>)>,
}

impl<'a> Env<'a> {
    fn new(ctx: &'a RequestContext) -> Env<'a> {
        let mut derived = vec![("aws:ResourceAccount", vec![ctx.resource_account.clone()])];
        match &ctx.principal {
            Principal::Anonymous => {
                derived.push(("aws:PrincipalType", vec!["Anonymous".to_string()]))
            }
            Principal::User { arn, account } => {
                derived.push(("aws:PrincipalArn", vec![arn.clone()]));
                derived.push(("aws:PrincipalAccount", vec![account.clone()]));
                let resource = arn.splitn(6, ':').nth(5).unwrap_or_default();
                if let Some(path) = resource.strip_prefix("user/") {
                    let name = path.rsplit('/').next().unwrap_or(path);
                    derived.push(("aws:username", vec![name.to_string()]));
                    derived.push(("aws:PrincipalType", vec!["User".to_string()]));
                } else if resource.starts_with("assumed-role/") {
                    derived.push(("aws:PrincipalType", vec!["AssumedRole".to_string()]));
                }
            }
        }
        Env { ctx, derived }
    }
}

impl Lookup for Env<'_> {
    fn values(&self, key: &str) -> Option<&[String]> {
        if let Some((_, v)) = self
            .ctx
            .keys
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
        {
            return Some(v);
        }
        self.derived
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_slice())
    }
}

impl VarSource for Env<'_> {
    /// Only single-valued keys can fill a variable, as in IAM.
    fn var(&self, key: &str) -> Option<String> {
        match self.values(key) {
            Some([one]) => Some(one.clone()),
            _ => None,
        }
    }
}

/// AWS's `AccessDenied` message for a denied request, e.g.
/// `User: arn:aws:iam::123456789012:user/x is not authorized to perform: ecr:CreateRepository on
/// resource: arn:aws:ecr:us-east-1:123456789012:repository/x because no identity-based policy
/// allows the ecr:CreateRepository action`. Anonymous callers are shown as `anonymous`.
pub fn access_denied_message(ctx: &RequestContext, decision: &Decision) -> String {
    denied_message(&ctx.principal, &ctx.action, &ctx.resource, decision)
}

/// [`access_denied_message`] from its parts. For `Allow` (a caller bug) it gives the bare
/// `... is not authorized to perform ...` sentence without a reason.
pub fn denied_message(
    principal: &Principal,
    action: &str,
    resource: &str,
    decision: &Decision,
) -> String {
    let head = format!(
        "User: {} is not authorized to perform: {action} on resource: {resource}",
        principal.display_name()
    );
    match decision {
        Decision::Allow => head,
        Decision::ExplicitDeny {
            source: PolicySource::Identity,
            ..
        } => {
            format!("{head} with an explicit deny in an identity-based policy")
        }
        Decision::ExplicitDeny {
            source: PolicySource::Resource,
            ..
        } => {
            format!("{head} with an explicit deny in a resource-based policy")
        }
        Decision::ImplicitDeny {
            missing: PolicySource::Identity,
        } => {
            format!("{head} because no identity-based policy allows the {action} action")
        }
        Decision::ImplicitDeny {
            missing: PolicySource::Resource,
        } => {
            format!("{head} because no resource-based policy allows the {action} action")
        }
    }
}
