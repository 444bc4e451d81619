//! Amazon Resource Names: the one place Wharf builds and parses them
//! (`arn:<partition>:<service>:<region>:<account>:<resource>`), for repositories (ECR and ECR
//! Public), registries, users and account roots, upstream secrets, signing profiles and
//! findings.

use std::fmt;

/// A parsed or built ARN. `Display` writes it back in the `aws` partition form Wharf emits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    /// Splits an ARN into its six fields; `None` when it has fewer or does not start with
    /// `arn:aws` (any `aws` partition: `aws`, `aws-cn`, `aws-us-gov`). The resource keeps any
    /// further colons.
    pub fn parse(arn: &'a str) -> Option<Arn<'a>> {
        let mut parts = arn.splitn(6, ':');
        let (prefix, partition, service, region, account, resource) = (
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
        );
        (prefix == "arn" && (partition == "aws" || partition.starts_with("aws-"))).then_some(Arn {
            partition,
            service,
            region,
            account,
            resource,
        })
    }

    /// `(account, repository name)` of an ECR repository ARN in the standard partition
    /// (`arn:aws:ecr:<region>:<account>:repository/<name>`).
    pub fn ecr_repository(arn: &'a str) -> Option<(&'a str, &'a str)> {
        Self::repository_of(arn, "ecr")
    }

    /// `(account, repository name)` of an ECR Public repository ARN
    /// (`arn:aws:ecr-public::<account>:repository/<name>`).
    pub fn public_repository(arn: &'a str) -> Option<(&'a str, &'a str)> {
        Self::repository_of(arn, "ecr-public")
    }

    fn repository_of(arn: &'a str, service: &str) -> Option<(&'a str, &'a str)> {
        let a = Arn::parse(arn)?;
        if a.partition != "aws" || a.service != service {
            return None;
        }
        Some((a.account, a.resource.strip_prefix("repository/")?))
    }

    /// Whether the account field is a 12-digit account id.
    pub fn has_account_id(&self) -> bool {
        self.account.len() == 12 && self.account.bytes().all(|b| b.is_ascii_digit())
    }
}

impl fmt::Display for Arn<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:{}:{}:{}:{}",
            self.partition, self.service, self.region, self.account, self.resource
        )
    }
}

fn build(service: &str, region: &str, account: &str, resource: &str) -> String {
    Arn {
        partition: "aws",
        service,
        region,
        account,
        resource,
    }
    .to_string()
}

/// `arn:aws:ecr:<region>:<account>:repository/<name>`.
pub fn repository(region: &str, account: &str, name: &str) -> String {
    build("ecr", region, account, &format!("repository/{name}"))
}

/// `arn:aws:ecr-public::<account>:repository/<name>` (ECR Public ARNs name no region).
pub fn public_repository(account: &str, name: &str) -> String {
    build("ecr-public", "", account, &format!("repository/{name}"))
}

/// `arn:aws:ecr-public::<account>:registry/<account>`.
pub fn public_registry(account: &str) -> String {
    build("ecr-public", "", account, &format!("registry/{account}"))
}

/// `arn:aws:iam::<account>:user/<name>`.
pub fn user(account: &str, name: &str) -> String {
    build("iam", "", account, &format!("user/{name}"))
}

/// `arn:aws:iam::<account>:root`: the account itself as a principal.
pub fn account_root(account: &str) -> String {
    build("iam", "", account, "root")
}

/// `arn:aws:secretsmanager:<region>:<account>:secret:<name>`.
pub fn secret(region: &str, account: &str, name: &str) -> String {
    build("secretsmanager", region, account, &format!("secret:{name}"))
}

/// `arn:aws:signer:<region>:<account>:/signing-profiles/<name>`.
pub fn signing_profile(region: &str, account: &str, name: &str) -> String {
    build(
        "signer",
        region,
        account,
        &format!("/signing-profiles/{name}"),
    )
}

/// `arn:aws:inspector2:<region>:<account>:finding/<id>`.
pub fn finding(region: &str, account: &str, id: &str) -> String {
    build("inspector2", region, account, &format!("finding/{id}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds() {
        assert_eq!(
            repository("eu-west-1", "123456789012", "team/app"),
            "arn:aws:ecr:eu-west-1:123456789012:repository/team/app"
        );
        assert_eq!(
            public_repository("123456789012", "app"),
            "arn:aws:ecr-public::123456789012:repository/app"
        );
        assert_eq!(
            public_registry("123456789012"),
            "arn:aws:ecr-public::123456789012:registry/123456789012"
        );
        assert_eq!(
            user("123456789012", "ci"),
            "arn:aws:iam::123456789012:user/ci"
        );
        assert_eq!(
            account_root("123456789012"),
            "arn:aws:iam::123456789012:root"
        );
        assert_eq!(
            secret("us-east-1", "123456789012", "ecr-pullthroughcache/x"),
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/x"
        );
        assert_eq!(
            signing_profile("us-east-1", "123456789012", "p1"),
            "arn:aws:signer:us-east-1:123456789012:/signing-profiles/p1"
        );
        assert_eq!(
            finding("us-east-1", "123456789012", "f"),
            "arn:aws:inspector2:us-east-1:123456789012:finding/f"
        );
    }

    #[test]
    fn parses_round_trip() {
        for arn in [
            "arn:aws:ecr:eu-west-1:123456789012:repository/team/app",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:a:b",
            "arn:aws-cn:signer:cn-north-1:123456789012:/signing-profiles/p",
            "arn:aws:iam::123456789012:root",
        ] {
            assert_eq!(Arn::parse(arn).unwrap().to_string(), arn);
        }
        let a = Arn::parse("arn:aws:secretsmanager:r:123456789012:secret:a:b").unwrap();
        assert_eq!(a.resource, "secret:a:b");
        assert!(a.has_account_id());
        for bad in [
            "",
            "arn",
            "arn:aws:ecr:r:1",
            "arx:aws:ecr:r:1:repository/a",
            "arn:gcp:ecr:r:1:repository/a",
            "arn:awsx:ecr:r:1:repository/a",
        ] {
            assert_eq!(Arn::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn repositories() {
        assert_eq!(
            Arn::ecr_repository("arn:aws:ecr:us-east-1:123456789012:repository/a/b"),
            Some(("123456789012", "a/b"))
        );
        assert_eq!(
            Arn::ecr_repository("arn:aws:ecr-public::123456789012:repository/a"),
            None
        );
        assert_eq!(
            Arn::ecr_repository("arn:aws:ecr:us-east-1:123456789012:registry/a"),
            None
        );
        assert_eq!(
            Arn::public_repository("arn:aws:ecr-public::123456789012:repository/app"),
            Some(("123456789012", "app"))
        );
        assert_eq!(
            Arn::public_repository("arn:aws:ecr:us-east-1:123456789012:repository/app"),
            None
        );
    }
}
