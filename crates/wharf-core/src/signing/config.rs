//! ECR's signing configuration (PutSigningConfiguration): rules of a signing profile ARN and
//! optional `WILDCARD_MATCH` repository filters, the Signer-style profile ARN, and which profiles
//! a repository's pushes are signed with.

use serde::{Deserialize, Serialize};
use wharf_oci::wildcard_match;

/// A registry's signing configuration, in ECR's JSON shape.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SigningConfiguration {
    pub rules: Vec<SigningRule>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SigningRule {
    pub signing_profile_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository_filters: Option<Vec<SigningRepositoryFilter>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SigningRepositoryFilter {
    pub filter: String,
    pub filter_type: String,
}

/// A signing profile named by its ARN: `arn:aws:signer:<region>:<account>:/signing-profiles/<name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileArn {
    pub region: String,
    pub account: String,
    pub name: String,
}

impl ProfileArn {
    /// Parses a profile ARN (any `aws` partition); `None` when it is not one.
    pub fn parse(arn: &str) -> Option<ProfileArn> {
        let a = crate::arn::Arn::parse(arn)?;
        let name = a.resource.strip_prefix("/signing-profiles/")?;
        (a.service == "signer"
            && valid_profile_name(name)
            && !a.region.is_empty()
            && a.has_account_id())
        .then(|| ProfileArn::new(a.region, a.account, name))
    }

    pub fn new(region: &str, account: &str, name: &str) -> ProfileArn {
        ProfileArn {
            region: region.to_string(),
            account: account.to_string(),
            name: name.to_string(),
        }
    }
}

impl std::fmt::Display for ProfileArn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::arn::signing_profile(
            &self.region,
            &self.account,
            &self.name,
        ))
    }
}

/// Signer's profile names: 2 to 64 of `[a-zA-Z0-9_]`.
pub fn valid_profile_name(name: &str) -> bool {
    (2..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

impl SigningConfiguration {
    /// The profile ARNs a push to `repository` is signed with, each once, in rule order: a rule
    /// without filters covers every repository; otherwise one filter must match the name.
    pub fn profiles_for(&self, repository: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for rule in &self.rules {
            let covered = rule.repository_filters.as_ref().is_none_or(|filters| {
                filters.iter().any(|f| {
                    f.filter_type == "WILDCARD_MATCH" && wildcard_match(&f.filter, repository)
                })
            });
            if covered && !out.contains(&rule.signing_profile_arn) {
                out.push(rule.signing_profile_arn.clone());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_any_run() {
        let check = |filter: &str, name: &str, expected: bool| {
            assert_eq!(wildcard_match(filter, name), expected, "{filter} ~ {name}");
        };
        check("team/app", "team/app", true);
        check("team/app", "team/app2", false);
        check("team/*", "team/app", true);
        check("team/*", "team", false);
        check("*", "anything/at/all", true);
        check("*-prod", "web-prod", true);
        check("*-prod", "web-prod-x", false);
        check("a*b*c", "axxbyyc", true);
        check("a*b*c", "axxcyyb", false);
        check("ab*ba", "aba", false);
    }

    #[test]
    fn profiles_follow_filters_once_each() {
        let c: SigningConfiguration = serde_json::from_str(
            r#"{"rules":[
                {"signingProfileArn":"arn:aws:signer:us-east-1:123456789012:/signing-profiles/a",
                 "repositoryFilters":[{"filter":"team/*","filterType":"WILDCARD_MATCH"}]},
                {"signingProfileArn":"arn:aws:signer:us-east-1:123456789012:/signing-profiles/b"},
                {"signingProfileArn":"arn:aws:signer:us-east-1:123456789012:/signing-profiles/b",
                 "repositoryFilters":[{"filter":"team/app","filterType":"WILDCARD_MATCH"}]}
            ]}"#,
        )
        .unwrap();
        assert_eq!(c.profiles_for("team/app").len(), 2);
        assert_eq!(
            c.profiles_for("other"),
            vec![c.rules[1].signing_profile_arn.clone()]
        );
        assert!(SigningConfiguration::default().profiles_for("x").is_empty());
    }

    #[test]
    fn profile_arns_parse_and_print() {
        let arn = "arn:aws:signer:eu-west-1:123456789012:/signing-profiles/release_key";
        let p = ProfileArn::parse(arn).unwrap();
        assert_eq!(
            (p.account.as_str(), p.name.as_str()),
            ("123456789012", "release_key")
        );
        assert_eq!(p.to_string(), arn);
        for bad in [
            "arn:aws:signer:eu-west-1:12345678901:/signing-profiles/ab",
            "arn:aws:signer:eu-west-1:123456789012:/signing-profiles/a",
            "arn:aws:ecr:eu-west-1:123456789012:/signing-profiles/ab",
            "arn:aws:signer:eu-west-1:123456789012:signing-profiles/ab",
            "arn:aws:signer:eu-west-1:123456789012:/signing-profiles/a-b",
        ] {
            assert!(ProfileArn::parse(bad).is_none(), "{bad}");
        }
    }
}
