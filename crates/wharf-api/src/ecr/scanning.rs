//! Image scanning operations: StartImageScan, DescribeImageScanFindings,
//! Put/GetRegistryScanningConfiguration and BatchGetRepositoryScanningConfiguration. The scans,
//! the stored results and the configuration rules live in `wharf_core::scan`; this file parses
//! the requests, authorizes them and shapes the answers (the findings' shapes are in
//! `findings.rs`). PutImageScanningConfiguration, the deprecated repository flag, stays with the
//! repository operations.

use super::findings::{findings_object, status_json, ImageContext};
use super::images::ImageIdentifier;
use super::one_image::{image_failure, image_id_json};
use super::wire::repository_arn;
use super::{Ctx, EcrError};
use serde::Deserialize;
use serde_json::{json, Value};
use wharf_core::scan::{
    RegistryScanningConfiguration, RepositoryScanningConfiguration, ScanFilter, ScanFrequency,
    ScanRule, ScanType,
};
use wharf_core::Action;
use wharf_core::{CoreError, Repo};

/// The page size of DescribeImageScanFindings when `maxResults` is absent, as ECR documents.
const DEFAULT_MAX_RESULTS: usize = 100;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartImageScan {
    registry_id: Option<String>,
    repository_name: String,
    image_id: ImageIdentifier,
}

pub async fn start_image_scan(ctx: &Ctx<'_>, input: StartImageScan) -> Result<Value, EcrError> {
    let repo = ctx.repo(input.registry_id.as_deref(), &input.repository_name)?;
    ctx.authorize(Action::StartImageScan, &repo).await?;
    // A missing repository is RepositoryNotFound, not an unknown image in it.
    ctx.require_repo(&repo).await?;
    let (image, status) = ctx
        .state
        .registry
        .start_image_scan(&repo, &input.image_id.id())
        .await
        .map_err(|e| ctx.core_error(e, &repo))?
        .map_err(|f| image_failure(&input.image_id, f, &repo))?;
    Ok(json!({
        "registryId": repo.account.as_str(),
        "repositoryName": repo.name.as_str(),
        "imageId": image_id_json(&image, &input.image_id),
        "imageScanStatus": status_json(status, None),
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeImageScanFindings {
    registry_id: Option<String>,
    repository_name: String,
    image_id: ImageIdentifier,
    next_token: Option<String>,
    max_results: Option<usize>,
}

pub async fn describe_image_scan_findings(
    ctx: &Ctx<'_>,
    input: DescribeImageScanFindings,
) -> Result<Value, EcrError> {
    let (repo, image) = ctx
        .authorized_image(
            Action::DescribeImageScanFindings,
            input.registry_id.as_deref(),
            &input.repository_name,
            &input.image_id,
        )
        .await?;
    let report = ctx
        .state
        .registry
        .image_scan(
            &repo,
            &image.digest,
            input.next_token.as_deref(),
            input.max_results.unwrap_or(DEFAULT_MAX_RESULTS),
        )
        .await
        .map_err(|e| ctx.core_error(e, &repo))?;
    let image_ctx = ImageContext {
        region: &ctx.state.ecr.region,
        account: repo.account.as_str(),
        repository: repo.name.as_str(),
        image: &image,
    };
    let mut v = json!({
        "registryId": repo.account.as_str(),
        "repositoryName": repo.name.as_str(),
        "imageId": image_id_json(&image, &input.image_id),
        "imageScanStatus": status_json(report.summary.status, report.summary.description.as_deref()),
    });
    if let Some(findings) = findings_object(&report.summary, &report.findings, &image_ctx) {
        v["imageScanFindings"] = findings;
    }
    if let Some(next) = report.next_token {
        v["nextToken"] = json!(next);
    }
    Ok(v)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterInput {
    filter: String,
    filter_type: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleInput {
    scan_frequency: String,
    repository_filters: Vec<FilterInput>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutRegistryScanningConfiguration {
    scan_type: Option<String>,
    rules: Option<Vec<RuleInput>>,
}

/// The request's configuration as core's type. The model has already checked the enums, so an
/// unknown value here is a request the validator let through and is refused the same way.
fn parse_configuration(
    input: PutRegistryScanningConfiguration,
) -> Result<RegistryScanningConfiguration, EcrError> {
    let scan_type = match input.scan_type.as_deref() {
        None => ScanType::Basic,
        Some(s) => ScanType::parse(s).ok_or_else(|| {
            EcrError::invalid(format!(
                "Invalid parameter at 'scanType' failed to satisfy constraint: 'Member must satisfy enum value set: [BASIC, ENHANCED]', value: '{s}'"
            ))
        })?,
    };
    let mut rules = Vec::new();
    for r in input.rules.unwrap_or_default() {
        let scan_frequency = ScanFrequency::parse(&r.scan_frequency).ok_or_else(|| {
            EcrError::invalid(format!(
                "Invalid parameter at 'scanFrequency' failed to satisfy constraint: 'Member must satisfy enum value set: [SCAN_ON_PUSH, CONTINUOUS_SCAN, MANUAL]', value: '{}'",
                r.scan_frequency
            ))
        })?;
        rules.push(ScanRule {
            scan_frequency,
            repository_filters: r
                .repository_filters
                .into_iter()
                .map(|f| ScanFilter {
                    filter: f.filter,
                    filter_type: f.filter_type,
                })
                .collect(),
        });
    }
    Ok(RegistryScanningConfiguration { scan_type, rules })
}

fn filters_json(filters: &[ScanFilter]) -> Value {
    Value::Array(
        filters
            .iter()
            .map(|f| json!({ "filter": f.filter, "filterType": f.filter_type }))
            .collect(),
    )
}

/// `RegistryScanningConfiguration` on the wire.
fn configuration_json(c: &RegistryScanningConfiguration) -> Value {
    json!({
        "scanType": c.scan_type.as_str(),
        "rules": c.rules.iter().map(|r| json!({
            "scanFrequency": r.scan_frequency.as_str(),
            "repositoryFilters": filters_json(&r.repository_filters),
        })).collect::<Vec<_>>(),
    })
}

pub async fn put_registry_scanning_configuration(
    ctx: &Ctx<'_>,
    input: PutRegistryScanningConfiguration,
) -> Result<Value, EcrError> {
    let account = ctx.caller_account.clone();
    ctx.authorize_registry(Action::PutRegistryScanningConfiguration, &account)
        .await?;
    let config = parse_configuration(input)?;
    let stored = ctx
        .state
        .registry
        .put_registry_scanning_configuration(&account, config)
        .await
        .map_err(|e| ctx.core_error_account(e, &account))?;
    Ok(json!({ "registryScanningConfiguration": configuration_json(&stored) }))
}

pub async fn get_registry_scanning_configuration(
    ctx: &Ctx<'_>,
    _input: Value,
) -> Result<Value, EcrError> {
    let account = ctx.caller_account.clone();
    ctx.authorize_registry(Action::GetRegistryScanningConfiguration, &account)
        .await?;
    let config = ctx
        .state
        .registry
        .registry_scanning_configuration(&account)
        .await
        .map_err(|e| ctx.core_error_account(e, &account))?;
    Ok(json!({
        "registryId": account.as_str(),
        "scanningConfiguration": configuration_json(&config),
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchGetRepositoryScanningConfiguration {
    repository_names: Vec<String>,
}

fn repository_configuration_json(
    ctx: &Ctx<'_>,
    repo: &Repo,
    c: &RepositoryScanningConfiguration,
) -> Value {
    json!({
        "repositoryArn": repository_arn(&ctx.state.ecr, repo.account.as_str(), &c.repository),
        "repositoryName": c.repository,
        "scanOnPush": c.scan_on_push,
        "scanFrequency": c.scan_frequency.as_str(),
        "appliedScanFilters": filters_json(&c.applied_scan_filters),
    })
}

pub async fn batch_get_repository_scanning_configuration(
    ctx: &Ctx<'_>,
    input: BatchGetRepositoryScanningConfiguration,
) -> Result<Value, EcrError> {
    let mut configs = Vec::new();
    let mut failures = Vec::new();
    for name in &input.repository_names {
        let repo = ctx.repo(None, name)?;
        ctx.authorize(Action::BatchGetRepositoryScanningConfiguration, &repo)
            .await?;
        match ctx
            .state
            .registry
            .repository_scanning_configuration(&repo)
            .await
        {
            Ok(c) => configs.push(repository_configuration_json(ctx, &repo, &c)),
            Err(CoreError::NameUnknown) => failures.push(json!({
                "repositoryName": name,
                "failureCode": "REPOSITORY_NOT_FOUND",
                "failureReason": "REPOSITORY_NOT_FOUND",
            })),
            Err(e) => return Err(ctx.core_error(e, &repo)),
        }
    }
    Ok(json!({ "scanningConfigurations": configs, "failures": failures }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(scan_type: Option<&str>, rules: Value) -> PutRegistryScanningConfiguration {
        PutRegistryScanningConfiguration {
            scan_type: scan_type.map(str::to_string),
            rules: serde_json::from_value(rules).expect("rules"),
        }
    }

    #[test]
    fn configuration_round_trips_through_core_types() {
        let rules = json!([
            { "scanFrequency": "CONTINUOUS_SCAN", "repositoryFilters": [{ "filter": "prod*", "filterType": "WILDCARD" }] },
            { "scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": [{ "filter": "*", "filterType": "WILDCARD" }] },
        ]);
        let config = parse_configuration(put(Some("ENHANCED"), rules.clone())).expect("parse");
        assert_eq!(config.scan_type, ScanType::Enhanced);
        assert_eq!(config.rules.len(), 2);
        assert_eq!(
            configuration_json(&config),
            json!({ "scanType": "ENHANCED", "rules": rules })
        );
    }

    #[test]
    fn configuration_defaults_to_basic_without_rules() {
        let config = parse_configuration(put(None, Value::Null)).expect("parse");
        assert_eq!(
            configuration_json(&config),
            json!({ "scanType": "BASIC", "rules": [] })
        );
    }

    #[test]
    fn unknown_enum_values_are_invalid_parameters() {
        let err = parse_configuration(put(Some("DEEP"), Value::Null)).expect_err("refused");
        assert_eq!(err.code, "InvalidParameterException");
        let rules = json!([{ "scanFrequency": "HOURLY", "repositoryFilters": [] }]);
        let err = parse_configuration(put(Some("BASIC"), rules)).expect_err("refused");
        assert_eq!(err.code, "InvalidParameterException");
        assert!(err.message.contains("'HOURLY'"), "{}", err.message);
    }
}
