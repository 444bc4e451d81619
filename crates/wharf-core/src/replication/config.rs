//! ECR's replication configuration (PutReplicationConfiguration / DescribeRegistry): rules of
//! destinations `{region, registryId}` and `PREFIX_MATCH` repository filters, the checks the
//! model cannot express, and which destinations a repository's pushes go to.

use serde::{Deserialize, Serialize};

/// A registry's replication configuration, in ECR's JSON shape.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplicationConfiguration {
    pub rules: Vec<ReplicationRule>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplicationRule {
    pub destinations: Vec<Destination>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository_filters: Option<Vec<RepositoryFilter>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_replication: Option<DeleteReplication>,
}

/// Where images go: a registry (account) in a region.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Destination {
    pub region: String,
    pub registry_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryFilter {
    pub filter: String,
    pub filter_type: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteReplication {
    pub enabled: bool,
}

impl ReplicationConfiguration {
    /// Checks what botocore's model cannot say (shapes, lengths and patterns are checked against
    /// the model before this): no destination is the source registry itself, every other region
    /// is one this deployment knows (`[regions.<name>]`), and deletes are not replicated.
    /// Returns ECR's `InvalidParameterException` message.
    pub fn check(
        &self,
        own_region: &str,
        own_account: &str,
        known_regions: &[String],
    ) -> Result<(), String> {
        for rule in &self.rules {
            for d in &rule.destinations {
                if d.region == own_region && d.registry_id == own_account {
                    return Err(format!(
                        "Invalid parameter at 'replicationConfiguration' failed to satisfy constraint: 'Replication destination {}/{} is the source registry itself'",
                        d.region, d.registry_id
                    ));
                }
                if d.region != own_region && !known_regions.contains(&d.region) {
                    return Err(format!(
                        "Invalid parameter at 'replicationConfiguration' failed to satisfy constraint: 'Region {} is not a replication destination of this registry (configure it under [regions.{}])'",
                        d.region, d.region
                    ));
                }
            }
            if rule.delete_replication.as_ref().is_some_and(|d| d.enabled) {
                return Err("Invalid parameter at 'replicationConfiguration' failed to satisfy constraint: 'deleteReplication is not supported by Wharf: deletes are not replicated'".to_string());
            }
        }
        Ok(())
    }

    /// The destinations a push to `repository` replicates to, each once, in rule order: a rule
    /// without filters covers every repository; otherwise one `PREFIX_MATCH` filter must be a
    /// prefix of the name.
    pub fn destinations_for(&self, repository: &str) -> Vec<Destination> {
        let mut out: Vec<Destination> = Vec::new();
        for rule in &self.rules {
            let covered = rule.repository_filters.as_ref().is_none_or(|filters| {
                filters
                    .iter()
                    .any(|f| f.filter_type == "PREFIX_MATCH" && repository.starts_with(&f.filter))
            });
            if covered {
                for d in &rule.destinations {
                    if !out.contains(d) {
                        out.push(d.clone());
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> ReplicationConfiguration {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn destinations_follow_prefix_filters_once_each() {
        let c = config(
            r#"{"rules":[
                {"destinations":[{"region":"eu-west-1","registryId":"111111111111"}],
                 "repositoryFilters":[{"filter":"team/","filterType":"PREFIX_MATCH"},{"filter":"prod","filterType":"PREFIX_MATCH"}]},
                {"destinations":[{"region":"eu-west-1","registryId":"111111111111"},{"region":"us-east-1","registryId":"222222222222"}]}
            ]}"#,
        );
        let names = |repo: &str| {
            c.destinations_for(repo)
                .into_iter()
                .map(|d| format!("{}/{}", d.region, d.registry_id))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names("team/app"),
            ["eu-west-1/111111111111", "us-east-1/222222222222"]
        );
        let only_first = config(
            r#"{"rules":[{"destinations":[{"region":"eu-west-1","registryId":"111111111111"}],
                 "repositoryFilters":[{"filter":"team/","filterType":"PREFIX_MATCH"}]}]}"#,
        );
        assert_eq!(only_first.destinations_for("team/app").len(), 1);
        assert!(only_first.destinations_for("other/app").is_empty());
        assert!(only_first.destinations_for("team").is_empty());
        assert!(ReplicationConfiguration::default()
            .destinations_for("x")
            .is_empty());
    }

    #[test]
    fn checks_refuse_the_source_itself_unknown_regions_and_delete_replication() {
        let known = vec!["eu-west-1".to_string()];
        let check = |json: &str| config(json).check("us-east-1", "000000000000", &known);
        assert!(check(r#"{"rules":[{"destinations":[{"region":"eu-west-1","registryId":"000000000000"},{"region":"us-east-1","registryId":"111111111111"}]}]}"#).is_ok());
        assert!(check(r#"{"rules":[]}"#).is_ok());
        let e = check(
            r#"{"rules":[{"destinations":[{"region":"us-east-1","registryId":"000000000000"}]}]}"#,
        )
        .unwrap_err();
        assert!(e.contains("source registry itself"), "{e}");
        let e = check(
            r#"{"rules":[{"destinations":[{"region":"ap-south-1","registryId":"111111111111"}]}]}"#,
        )
        .unwrap_err();
        assert!(e.contains("[regions.ap-south-1]"), "{e}");
        let e = check(r#"{"rules":[{"destinations":[],"deleteReplication":{"enabled":true}}]}"#)
            .unwrap_err();
        assert!(e.contains("deleteReplication"), "{e}");
        assert!(
            check(r#"{"rules":[{"destinations":[],"deleteReplication":{"enabled":false}}]}"#)
                .is_ok()
        );
    }

    #[test]
    fn round_trips_in_ecr_shape() {
        let json = r#"{"rules":[{"destinations":[{"region":"eu-west-1","registryId":"111111111111"}],"repositoryFilters":[{"filter":"a","filterType":"PREFIX_MATCH"}]}]}"#;
        assert_eq!(serde_json::to_string(&config(json)).unwrap(), json);
    }
}
