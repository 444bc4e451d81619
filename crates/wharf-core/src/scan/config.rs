//! Registry scanning configuration: validating and storing it, and the configuration in effect
//! for a repository — which rule applies, or the repository's own scan-on-push flag — as
//! `BatchGetRepositoryScanningConfiguration` reports it and as pushes and imports consult it.
//!
//! Filter matching follows ECR's documentation: a filter without `*` matches every repository
//! name that contains it; with `*`, the whole name must match and each `*` stands for any run of
//! characters (`prod*` matches `prod-repo`, not `repo-prod`).

use super::{
    RegistryScanningConfiguration, RepositoryScanningConfiguration, ScanFilter, ScanFrequency,
    ScanRule, ScanType,
};
use crate::{AccountId, CoreError, Registry, Repo};
use serde::{Deserialize, Serialize};

/// ECR's limits: rules per registry, filters per rule, characters per filter.
pub const MAX_SCAN_RULES: usize = 2;
pub const MAX_SCAN_FILTERS: usize = 100;
pub const MAX_FILTER_LEN: usize = 255;

/// The only filter type ECR knows.
pub const WILDCARD: &str = "WILDCARD";

/// A rule as stored (the `rules` JSON column).
#[derive(Serialize, Deserialize)]
struct StoredRule {
    scan_frequency: String,
    repository_filters: Vec<ScanFilter>,
}

/// Checks a configuration as `PutRegistryScanningConfiguration` does, with messages in the
/// style of ECR's InvalidParameterException.
pub fn validate(config: &RegistryScanningConfiguration) -> Result<(), String> {
    if config.rules.len() > MAX_SCAN_RULES {
        return Err(format!(
            "Invalid parameter at 'rules' failed to satisfy constraint: 'Member must have length less than or equal to {MAX_SCAN_RULES}'"
        ));
    }
    let mut seen = Vec::new();
    for (i, rule) in config.rules.iter().enumerate() {
        let allowed = match config.scan_type {
            ScanType::Basic => matches!(
                rule.scan_frequency,
                ScanFrequency::ScanOnPush | ScanFrequency::Manual
            ),
            ScanType::Enhanced => matches!(
                rule.scan_frequency,
                ScanFrequency::ScanOnPush | ScanFrequency::ContinuousScan
            ),
        };
        if !allowed {
            return Err(format!(
                "Invalid parameter at 'rules.{}.scanFrequency': scan frequency {} is not supported for scan type {}. Supported values: {}",
                i + 1,
                rule.scan_frequency.as_str(),
                config.scan_type.as_str(),
                match config.scan_type {
                    ScanType::Basic => "SCAN_ON_PUSH",
                    ScanType::Enhanced => "SCAN_ON_PUSH, CONTINUOUS_SCAN",
                }
            ));
        }
        if seen.contains(&rule.scan_frequency) {
            return Err(format!(
                "Invalid parameter at 'rules': only one rule per scan frequency is allowed, and {} appears more than once",
                rule.scan_frequency.as_str()
            ));
        }
        seen.push(rule.scan_frequency);
        if rule.repository_filters.is_empty() {
            return Err(format!(
                "Invalid parameter at 'rules.{}.repositoryFilters' failed to satisfy constraint: 'Member must have length greater than or equal to 1'",
                i + 1
            ));
        }
        if rule.repository_filters.len() > MAX_SCAN_FILTERS {
            return Err(format!(
                "Invalid parameter at 'rules.{}.repositoryFilters' failed to satisfy constraint: 'Member must have length less than or equal to {MAX_SCAN_FILTERS}'",
                i + 1
            ));
        }
        for (j, f) in rule.repository_filters.iter().enumerate() {
            let at = format!("rules.{}.repositoryFilters.{}", i + 1, j + 1);
            if f.filter_type != WILDCARD {
                return Err(format!(
                    "Invalid parameter at '{at}.filterType' failed to satisfy constraint: 'Member must satisfy enum value set: [WILDCARD]'"
                ));
            }
            if f.filter.is_empty() || f.filter.len() > MAX_FILTER_LEN {
                return Err(format!(
                    "Invalid parameter at '{at}.filter' failed to satisfy constraint: 'Member must have length between 1 and {MAX_FILTER_LEN}'"
                ));
            }
            let valid = f
                .filter
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._/*-".contains(&b));
            if !valid {
                return Err(format!(
                    "Invalid parameter at '{at}.filter' failed to satisfy constraint: 'Member must satisfy regular expression pattern: ^[a-z0-9*](?:[._\\-/a-z0-9*]?[a-z0-9*]+)*$'"
                ));
            }
        }
    }
    Ok(())
}

/// Whether a scan filter covers a repository name.
pub fn filter_matches(filter: &str, name: &str) -> bool {
    if !filter.contains('*') {
        return name.contains(filter);
    }
    wharf_oci::wildcard_match(filter, name)
}

/// The configuration in effect for a repository named `name` with scan-on-push flag
/// `scan_on_push`, under `config`.
///
/// ENHANCED: a matching CONTINUOUS_SCAN rule wins over a matching SCAN_ON_PUSH rule. BASIC: a
/// matching rule applies (SCAN_ON_PUSH or MANUAL). When no rule matches, the repository's own
/// flag gives SCAN_ON_PUSH; otherwise MANUAL.
pub fn effective(
    config: &RegistryScanningConfiguration,
    name: &str,
    scan_on_push: bool,
) -> RepositoryScanningConfiguration {
    let matching = |freq: ScanFrequency| {
        config
            .rules
            .iter()
            .filter(|r| r.scan_frequency == freq)
            .find_map(|r| {
                let applied: Vec<ScanFilter> = r
                    .repository_filters
                    .iter()
                    .filter(|f| filter_matches(&f.filter, name))
                    .cloned()
                    .collect();
                (!applied.is_empty()).then_some((freq, applied))
            })
    };
    let order: &[ScanFrequency] = match config.scan_type {
        ScanType::Enhanced => &[ScanFrequency::ContinuousScan, ScanFrequency::ScanOnPush],
        ScanType::Basic => &[ScanFrequency::ScanOnPush, ScanFrequency::Manual],
    };
    let rule = order.iter().find_map(|f| matching(*f));
    let (scan_frequency, applied_scan_filters) = match rule {
        Some(found) => found,
        None if scan_on_push => (ScanFrequency::ScanOnPush, Vec::new()),
        None => (ScanFrequency::Manual, Vec::new()),
    };
    RepositoryScanningConfiguration {
        repository: name.to_string(),
        scan_on_push: scan_frequency != ScanFrequency::Manual,
        scan_frequency,
        applied_scan_filters,
    }
}

impl Registry {
    /// The stored configuration, or the default (BASIC, no rules).
    pub async fn registry_scanning_configuration(
        &self,
        account: &AccountId,
    ) -> Result<RegistryScanningConfiguration, CoreError> {
        let Some((scan_type, rules)) = self.meta.registry_scanning(account.as_str()).await? else {
            return Ok(RegistryScanningConfiguration::default());
        };
        let corrupt =
            |what: &str| CoreError::Internal(format!("stored scanning {what} is corrupt"));
        let scan_type = ScanType::parse(&scan_type).ok_or_else(|| corrupt("type"))?;
        let stored: Vec<StoredRule> = serde_json::from_str(&rules).map_err(|_| corrupt("rules"))?;
        let rules = stored
            .into_iter()
            .map(|r| {
                Ok(ScanRule {
                    scan_frequency: ScanFrequency::parse(&r.scan_frequency)
                        .ok_or_else(|| corrupt("rules"))?,
                    repository_filters: r.repository_filters,
                })
            })
            .collect::<Result<_, CoreError>>()?;
        Ok(RegistryScanningConfiguration { scan_type, rules })
    }

    /// Validates and replaces the configuration; answers what was stored.
    pub async fn put_registry_scanning_configuration(
        &self,
        account: &AccountId,
        config: RegistryScanningConfiguration,
    ) -> Result<RegistryScanningConfiguration, CoreError> {
        validate(&config).map_err(CoreError::InvalidParameter)?;
        let stored: Vec<StoredRule> = config
            .rules
            .iter()
            .map(|r| StoredRule {
                scan_frequency: r.scan_frequency.as_str().to_string(),
                repository_filters: r.repository_filters.clone(),
            })
            .collect();
        let rules =
            serde_json::to_string(&stored).map_err(|e| CoreError::Internal(e.to_string()))?;
        self.meta
            .put_registry_scanning(account.as_str(), config.scan_type.as_str(), &rules)
            .await?;
        tracing::info!(
            target: "wharf::audit",
            event = "registry_scanning_configuration",
            account = %account,
            scan_type = config.scan_type.as_str(),
            rules = config.rules.len(),
            "registry scanning configuration replaced"
        );
        Ok(config)
    }

    /// The configuration in effect for one repository; `NameUnknown` when it does not exist.
    pub async fn repository_scanning_configuration(
        &self,
        repo: &Repo,
    ) -> Result<RepositoryScanningConfiguration, CoreError> {
        let record = self.repository(repo).await?;
        let config = self.registry_scanning_configuration(&repo.account).await?;
        Ok(effective(
            &config,
            repo.name.as_str(),
            record.settings.scan_on_push,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(freq: ScanFrequency, filters: &[&str]) -> ScanRule {
        ScanRule {
            scan_frequency: freq,
            repository_filters: filters
                .iter()
                .map(|f| ScanFilter {
                    filter: f.to_string(),
                    filter_type: WILDCARD.into(),
                })
                .collect(),
        }
    }

    #[test]
    fn filters_match_as_ecr_documents() {
        let check = |filter: &str, name: &str, expected: bool| {
            assert_eq!(filter_matches(filter, name), expected, "{filter} ~ {name}");
        };
        check("prod*", "prod", true);
        check("prod*", "prod-repo", true);
        check("prod*", "prodrepo", true);
        check("prod*", "repo-prod", false);
        check("*prod", "prod", true);
        check("*prod", "repo-prod", true);
        check("*prod", "prod-repo", false);
        check("prod", "team/prod-api", true);
        check("prod", "team/api", false);
        check("*", "anything/at/all", true);
        check("a*b*c", "axxbyyc", true);
        check("a*b*c", "axxbyy", false);
        check("team/*/api", "team/x/api", true);
        check("team/*/api", "team/x/api2", false);
    }

    #[test]
    fn the_effective_frequency_follows_rules_then_the_repository_flag() {
        let basic = RegistryScanningConfiguration {
            scan_type: ScanType::Basic,
            rules: vec![rule(ScanFrequency::ScanOnPush, &["prod*"])],
        };
        let enhanced = RegistryScanningConfiguration {
            scan_type: ScanType::Enhanced,
            rules: vec![
                rule(ScanFrequency::ScanOnPush, &["*"]),
                rule(ScanFrequency::ContinuousScan, &["prod*", "critical"]),
            ],
        };
        let check = |config: &RegistryScanningConfiguration,
                     name: &str,
                     flag: bool,
                     freq: ScanFrequency,
                     filters: &[&str]| {
            let e = effective(config, name, flag);
            assert_eq!(e.scan_frequency, freq, "{name}");
            assert_eq!(e.scan_on_push, freq != ScanFrequency::Manual, "{name}");
            let got: Vec<&str> = e
                .applied_scan_filters
                .iter()
                .map(|f| f.filter.as_str())
                .collect();
            assert_eq!(got, filters, "{name}");
        };
        check(
            &basic,
            "prod-api",
            false,
            ScanFrequency::ScanOnPush,
            &["prod*"],
        );
        check(&basic, "dev-api", false, ScanFrequency::Manual, &[]);
        check(&basic, "dev-api", true, ScanFrequency::ScanOnPush, &[]);
        check(
            &enhanced,
            "prod-api",
            false,
            ScanFrequency::ContinuousScan,
            &["prod*"],
        );
        check(
            &enhanced,
            "my-critical-app",
            false,
            ScanFrequency::ContinuousScan,
            &["critical"],
        );
        check(
            &enhanced,
            "dev-api",
            false,
            ScanFrequency::ScanOnPush,
            &["*"],
        );
        let default = RegistryScanningConfiguration::default();
        check(&default, "x", false, ScanFrequency::Manual, &[]);
        check(&default, "x", true, ScanFrequency::ScanOnPush, &[]);
        let manual = RegistryScanningConfiguration {
            scan_type: ScanType::Basic,
            rules: vec![rule(ScanFrequency::Manual, &["legacy"])],
        };
        check(
            &manual,
            "legacy-app",
            true,
            ScanFrequency::Manual,
            &["legacy"],
        );
    }

    #[test]
    fn validation_messages() {
        let check = |config: RegistryScanningConfiguration, expected: Option<&str>| {
            let got = validate(&config).err();
            match (got.as_deref(), expected) {
                (None, None) => {}
                (Some(g), Some(e)) => assert!(g.contains(e), "{g:?} should contain {e:?}"),
                (g, e) => panic!("got {g:?}, expected {e:?}"),
            }
        };
        let cfg = |t: ScanType, rules: Vec<ScanRule>| RegistryScanningConfiguration {
            scan_type: t,
            rules,
        };
        check(cfg(ScanType::Basic, vec![]), None);
        check(
            cfg(
                ScanType::Basic,
                vec![rule(ScanFrequency::ScanOnPush, &["*"])],
            ),
            None,
        );
        check(
            cfg(
                ScanType::Basic,
                vec![rule(ScanFrequency::ContinuousScan, &["*"])],
            ),
            Some("scan frequency CONTINUOUS_SCAN is not supported for scan type BASIC"),
        );
        check(
            cfg(
                ScanType::Enhanced,
                vec![rule(ScanFrequency::Manual, &["*"])],
            ),
            Some("scan frequency MANUAL is not supported for scan type ENHANCED"),
        );
        check(
            cfg(
                ScanType::Enhanced,
                vec![
                    rule(ScanFrequency::ScanOnPush, &["a"]),
                    rule(ScanFrequency::ContinuousScan, &["b"]),
                    rule(ScanFrequency::ScanOnPush, &["c"]),
                ],
            ),
            Some("'Member must have length less than or equal to 2'"),
        );
        check(
            cfg(
                ScanType::Enhanced,
                vec![
                    rule(ScanFrequency::ScanOnPush, &["a"]),
                    rule(ScanFrequency::ScanOnPush, &["b"]),
                ],
            ),
            Some("SCAN_ON_PUSH appears more than once"),
        );
        check(
            cfg(ScanType::Basic, vec![rule(ScanFrequency::ScanOnPush, &[])]),
            Some("'rules.1.repositoryFilters' failed to satisfy constraint: 'Member must have length greater than or equal to 1'"),
        );
        let many: Vec<String> = (0..101).map(|i| format!("r{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        check(
            cfg(
                ScanType::Basic,
                vec![rule(ScanFrequency::ScanOnPush, &many)],
            ),
            Some("less than or equal to 100"),
        );
        check(
            cfg(ScanType::Basic, vec![rule(ScanFrequency::ScanOnPush, &["Prod"])]),
            Some("'rules.1.repositoryFilters.1.filter' failed to satisfy constraint: 'Member must satisfy regular expression pattern"),
        );
        let mut prefix = rule(ScanFrequency::ScanOnPush, &["x"]);
        prefix.repository_filters[0].filter_type = "PREFIX_MATCH".into();
        check(
            cfg(ScanType::Basic, vec![prefix]),
            Some("'rules.1.repositoryFilters.1.filterType' failed to satisfy constraint: 'Member must satisfy enum value set: [WILDCARD]'"),
        );
    }
}
