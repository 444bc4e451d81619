//! Pull-through cache rules, pure: prefix grammar, which rule covers a repository, the upstream
//! repository name it maps to, and credential ARNs (Secrets Manager names under
//! `ecr-pullthroughcache/`).

use wharf_meta::PullThroughRuleRecord;

/// The prefix that covers every repository no other rule covers.
pub const ROOT: &str = "ROOT";

/// A stored prefix: without its trailing `/`.
pub fn normalize_prefix(p: &str) -> String {
    if p == ROOT {
        return ROOT.to_string();
    }
    p.trim_end_matches('/').to_string()
}

/// The part of `name` below `prefix` (`ROOT`: all of it); `None` when the rule does not cover it.
pub fn below<'a>(prefix: &str, name: &'a str) -> Option<&'a str> {
    if prefix == ROOT {
        return Some(name);
    }
    name.strip_prefix(prefix)?
        .strip_prefix('/')
        .filter(|rest| !rest.is_empty())
}

/// The rule covering `name`: the longest prefix that does, `ROOT` last.
pub fn covering<'a>(
    rules: &'a [PullThroughRuleRecord],
    name: &str,
) -> Option<&'a PullThroughRuleRecord> {
    rules
        .iter()
        .filter(|r| r.ecr_prefix != ROOT && below(&r.ecr_prefix, name).is_some())
        .max_by_key(|r| r.ecr_prefix.len())
        .or_else(|| rules.iter().find(|r| r.ecr_prefix == ROOT))
}

/// The upstream repository a cached repository reads from.
pub fn upstream_name(rule: &PullThroughRuleRecord, name: &str) -> Option<String> {
    let rest = below(&rule.ecr_prefix, name)?;
    Some(if rule.upstream_prefix == ROOT {
        rest.to_string()
    } else {
        format!("{}/{rest}", rule.upstream_prefix)
    })
}

/// A credential ARN: `arn:<partition>:secretsmanager:<region>:<account>:secret:<name>` with a
/// name under `ecr-pullthroughcache/`. Returns (region, account, name).
pub fn parse_credential_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let a = crate::arn::Arn::parse(arn)?;
    let name = a.resource.strip_prefix("secret:")?;
    (a.service == "secretsmanager"
        && !a.region.is_empty()
        && a.has_account_id()
        && name.len() > "ecr-pullthroughcache/".len()
        && name.starts_with("ecr-pullthroughcache/"))
    .then_some((a.region, a.account, name))
}

/// The ARN of a stored secret.
pub fn credential_arn(region: &str, account: &str, name: &str) -> String {
    crate::arn::secret(region, account, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(prefix: &str, upstream: &str) -> PullThroughRuleRecord {
        PullThroughRuleRecord {
            account: "123456789012".into(),
            ecr_prefix: prefix.into(),
            upstream_url: "http://u".into(),
            upstream_registry: None,
            upstream_prefix: upstream.into(),
            credential_arn: None,
            custom_role_arn: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn longest_prefix_wins_and_root_is_last() {
        let rules = [
            rule("hub", ROOT),
            rule("hub/library", "library"),
            rule(ROOT, "mirror"),
        ];
        assert_eq!(
            covering(&rules, "hub/library/alpine").unwrap().ecr_prefix,
            "hub/library"
        );
        assert_eq!(covering(&rules, "hub/x/y").unwrap().ecr_prefix, "hub");
        assert_eq!(covering(&rules, "hubx/y").unwrap().ecr_prefix, ROOT);
        assert_eq!(covering(&rules, "hub").unwrap().ecr_prefix, ROOT);
        assert!(covering(&rules[..2], "other").is_none());
    }

    #[test]
    fn maps_to_upstream_names() {
        assert_eq!(
            upstream_name(&rule("hub", ROOT), "hub/library/alpine").unwrap(),
            "library/alpine"
        );
        assert_eq!(
            upstream_name(&rule("q", "team"), "q/app").unwrap(),
            "team/app"
        );
        assert_eq!(
            upstream_name(&rule(ROOT, "mirror"), "app").unwrap(),
            "mirror/app"
        );
        assert_eq!(upstream_name(&rule("hub", ROOT), "hub"), None);
        assert_eq!(normalize_prefix("hub/"), "hub");
    }

    #[test]
    fn credential_arns() {
        let arn = credential_arn("us-east-1", "123456789012", "ecr-pullthroughcache/hub");
        assert_eq!(
            parse_credential_arn(&arn),
            Some(("us-east-1", "123456789012", "ecr-pullthroughcache/hub"))
        );
        assert!(parse_credential_arn(
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:other/x"
        )
        .is_none());
        assert!(parse_credential_arn(
            "arn:aws:s3:us-east-1:123456789012:secret:ecr-pullthroughcache/x"
        )
        .is_none());
        assert!(parse_credential_arn(
            "arn:aws:secretsmanager:us-east-1:12:secret:ecr-pullthroughcache/x"
        )
        .is_none());
    }
}
