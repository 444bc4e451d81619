//! The wire shapes of scan results: `imageScanStatus`, the findings summary (`findingSeverityCounts`
//! and times), BASIC `findings[]` and ENHANCED `enhancedFindings[]` (Amazon Inspector's shape),
//! built from `wharf_core::scan` values. Pure functions of their inputs, so each shape is tested
//! here without a server.

use super::wire::epoch;
use serde_json::{json, Map, Value};
use sha2::{Digest as _, Sha256};
use wharf_core::model::ImageRecord;
use wharf_core::scan::{PackageKind, ScanFinding, ScanStatus, ScanSummary, ScanType, Severity};

/// ECR's `FindingSeverity` string of a severity.
pub fn severity_str(s: Severity) -> &'static str {
    match s {
        Severity::Informational => "INFORMATIONAL",
        Severity::Low => "LOW",
        Severity::Medium => "MEDIUM",
        Severity::High => "HIGH",
        Severity::Critical => "CRITICAL",
        Severity::Undefined => "UNDEFINED",
    }
}

/// `imageScanStatus`: the status, and its description when there is one.
pub fn status_json(status: ScanStatus, description: Option<&str>) -> Value {
    let mut v = json!({ "status": status.as_str() });
    if let Some(d) = description.filter(|d| !d.is_empty()) {
        v["description"] = json!(d);
    }
    v
}

/// The members DescribeImages' `imageScanFindingsSummary` and DescribeImageScanFindings'
/// `imageScanFindings` share: completion time, vulnerability source time, counts per severity.
/// Answers `None` when no scan has finished yet (the first scan is pending or in progress), as
/// ECR leaves the summary out then.
pub fn summary_json(s: &ScanSummary) -> Option<Value> {
    let completed = s.completed_at?;
    let mut counts = Map::new();
    for (severity, n) in &s.severity_counts {
        counts.insert(severity_str(*severity).to_string(), json!(n));
    }
    let mut v = json!({
        "imageScanCompletedAt": epoch(completed),
        "findingSeverityCounts": Value::Object(counts),
    });
    if let Some(t) = s.vulnerability_source_updated_at {
        v["vulnerabilitySourceUpdatedAt"] = epoch(t);
    }
    Some(v)
}

/// The `imageScanFindings` object of DescribeImageScanFindings: the summary plus one page of
/// findings, under `findings` for a BASIC scan and `enhancedFindings` for an ENHANCED one.
///
/// Left out (None) while no scan has finished and no findings are kept, which is how ECR answers
/// a first scan that is PENDING or IN_PROGRESS. A finished scan always has the object, with an
/// empty list when nothing was found (or when the scan FAILED or the image is UNSUPPORTED_IMAGE),
/// so clients can read `findings` without a key check.
pub fn findings_object(
    s: &ScanSummary,
    page: &[ScanFinding],
    image: &ImageContext<'_>,
) -> Option<Value> {
    let mut v = match summary_json(s) {
        Some(v) => v,
        // Findings kept from an earlier scan while a rescan runs still have to be shown.
        None if !page.is_empty() => json!({}),
        None => return None,
    };
    match s.scan_type {
        ScanType::Basic => {
            v["findings"] = Value::Array(page.iter().map(basic_finding).collect());
        }
        ScanType::Enhanced => {
            v["enhancedFindings"] =
                Value::Array(page.iter().map(|f| enhanced_finding(image, f)).collect());
        }
    }
    Some(v)
}

/// The description ECR shows: the advisory's details, else its summary.
fn description(f: &ScanFinding) -> Option<&str> {
    f.finding
        .description
        .as_deref()
        .or(f.finding.summary.as_deref())
        .filter(|d| !d.is_empty())
}

/// The finding's page on osv.dev: a stable link even when the advisory lists no references.
fn osv_url(advisory_id: &str) -> String {
    format!("https://osv.dev/vulnerability/{advisory_id}")
}

/// A CVSS score as ECR's attributes write it: one decimal (`9.8`, `10.0`).
fn score_text(score: f64) -> String {
    format!("{score:.1}")
}

/// The major CVSS version of a vector (`3` for `3.1`), for the `CVSS3_SCORE` attribute keys.
fn cvss_major(f: &ScanFinding) -> &str {
    match f.finding.cvss_version.as_deref() {
        Some(v) => v.split('.').next().unwrap_or(v),
        None => f
            .finding
            .cvss_vector
            .as_deref()
            .and_then(|v| v.strip_prefix("CVSS:"))
            .and_then(|v| v.split(['.', '/']).next())
            .unwrap_or("3"),
    }
}

/// One BASIC finding: `{name, description, uri, severity, attributes[]}` with the package and
/// CVSS attributes ECR's basic scanner reports (`package_version`, `package_name`,
/// `CVSS3_VECTOR`, `CVSS3_SCORE`). Attribute values are never empty (the model requires ≥ 1).
pub fn basic_finding(f: &ScanFinding) -> Value {
    let pkg = &f.finding.package;
    let mut attributes = Vec::new();
    let mut attr = |key: String, value: &str| {
        if !value.is_empty() {
            attributes.push(json!({ "key": key, "value": value }));
        }
    };
    attr("package_version".into(), &pkg.version);
    attr("package_name".into(), &pkg.name);
    let major = cvss_major(f).to_string();
    if let Some(vector) = &f.finding.cvss_vector {
        attr(format!("CVSS{major}_VECTOR"), vector);
    }
    if let Some(score) = f.finding.cvss_score {
        attr(format!("CVSS{major}_SCORE"), &score_text(score));
    }
    let mut v = json!({
        "name": f.finding.name,
        "uri": f.finding.references.first().cloned().unwrap_or_else(|| osv_url(&f.finding.advisory_id)),
        "severity": severity_str(f.finding.severity),
        "attributes": attributes,
    });
    if let Some(d) = description(f) {
        v["description"] = json!(d);
    }
    v
}

/// What an enhanced finding says about the image it was found in.
pub struct ImageContext<'a> {
    pub region: &'a str,
    pub account: &'a str,
    pub repository: &'a str,
    pub image: &'a ImageRecord,
}

/// Amazon Inspector's `packageManager` for a package kind.
fn package_manager(kind: PackageKind) -> &'static str {
    match kind {
        PackageKind::Deb | PackageKind::Apk | PackageKind::Rpm => "OS",
        PackageKind::Python => "PYTHONPKG",
        PackageKind::Npm => "NODEPKG",
        PackageKind::GoModule => "GOBINARY",
        PackageKind::Java => "JAR",
        PackageKind::Rust => "CARGO",
        PackageKind::Gem => "GEMSPEC",
    }
}

/// Splits an OS package version into Inspector's `(epoch, version, release)`:
/// `1:1.2.13.dfsg-1` → `(1, "1.2.13.dfsg", "1")`. Language packages keep their version whole.
fn split_version(kind: PackageKind, full: &str) -> (Option<u64>, String, Option<String>) {
    if !matches!(kind, PackageKind::Deb | PackageKind::Rpm) {
        return (None, full.to_string(), None);
    }
    let (epoch, rest) = match full.split_once(':') {
        Some((e, rest)) if !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()) => {
            (e.parse::<u64>().ok(), rest)
        }
        _ => (Some(0), full),
    };
    match rest.rsplit_once('-') {
        Some((version, release)) if !version.is_empty() && !release.is_empty() => (
            epoch.or(Some(0)),
            version.to_string(),
            Some(release.to_string()),
        ),
        _ => (epoch.or(Some(0)), rest.to_string(), None),
    }
}

/// An RFC 3339 time (OSV's `published`/`modified`) as epoch seconds.
fn rfc3339(s: Option<&str>) -> Option<i64> {
    let s = s?;
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// A stable finding id: the same advisory in the same package of the same image keeps its ARN
/// across rescans, as Inspector's findings do.
fn finding_id(image: &ImageContext<'_>, f: &ScanFinding) -> String {
    let mut h = Sha256::new();
    for part in [
        image.account,
        image.repository,
        &image.image.digest.to_string(),
        &f.finding.advisory_id,
        &f.finding.package.name,
        &f.finding.package.version,
        &f.finding.package.location,
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    hex::encode(&h.finalize()[..16])
}

/// One ENHANCED finding in Amazon Inspector's shape (`EnhancedImageScanFinding`).
pub fn enhanced_finding(image: &ImageContext<'_>, f: &ScanFinding) -> Value {
    let finding = &f.finding;
    let pkg = &finding.package;
    let severity = severity_str(finding.severity);

    let (epoch_no, version, release) = split_version(pkg.kind, &pkg.version);
    let mut package = json!({
        "name": pkg.name,
        "version": version,
        "packageManager": package_manager(pkg.kind),
        "filePath": pkg.location,
    });
    if let Some(e) = epoch_no {
        package["epoch"] = json!(e);
    }
    if let Some(r) = release {
        package["release"] = json!(r);
    }
    if let Some(a) = &pkg.arch {
        package["arch"] = json!(a);
    }
    if let Some(fixed) = &finding.fixed_version {
        package["fixedInVersion"] = json!(fixed);
    }

    let mut details = json!({
        "source": "OSV",
        "sourceUrl": osv_url(&finding.advisory_id),
        "vulnerabilityId": finding.name,
        "vendorSeverity": severity,
        "referenceUrls": finding.references,
        "relatedVulnerabilities": finding
            .aliases
            .iter()
            .chain(std::iter::once(&finding.advisory_id))
            .filter(|a| **a != finding.name)
            .collect::<Vec<_>>(),
        "vulnerablePackages": [package],
    });
    if let Some(t) = rfc3339(finding.published.as_deref()) {
        details["vendorCreatedAt"] = epoch(t);
    }
    if let Some(t) = rfc3339(finding.modified.as_deref()) {
        details["vendorUpdatedAt"] = epoch(t);
    }
    let mut cvss = Vec::new();
    if let (Some(vector), Some(score)) = (&finding.cvss_vector, finding.cvss_score) {
        let version = finding.cvss_version.clone().unwrap_or_else(|| "3.1".into());
        cvss.push(json!({
            "baseScore": score,
            "scoringVector": vector,
            "source": "OSV",
            "version": version,
        }));
    }
    details["cvss"] = Value::Array(cvss.clone());

    let recommendation = match &finding.fixed_version {
        Some(fixed) => format!("Upgrade {} to version {fixed} or later.", pkg.name),
        None => "None Provided".to_string(),
    };
    let repo_arn = wharf_core::arn::repository(image.region, image.account, image.repository);
    let mut container = json!({
        "imageHash": image.image.digest.to_string(),
        "pushedAt": epoch(image.image.pushed_at),
        "registry": image.account,
        "repositoryName": image.repository,
    });
    if !image.image.tags.is_empty() {
        container["imageTags"] = json!(image.image.tags);
    }
    let mut v = json!({
        "awsAccountId": image.account,
        "findingArn": wharf_core::arn::finding(image.region, image.account, &finding_id(image, f)),
        "firstObservedAt": epoch(f.first_observed_at),
        "lastObservedAt": epoch(f.last_observed_at),
        "updatedAt": epoch(f.last_observed_at),
        "packageVulnerabilityDetails": details,
        "remediation": { "recommendation": { "text": recommendation } },
        "resources": [{
            "details": { "awsEcrContainerImage": container },
            "id": format!("{repo_arn}/{}", image.image.digest),
            "type": "AWS_ECR_CONTAINER_IMAGE",
        }],
        "severity": severity,
        "status": "ACTIVE",
        "title": format!("{} - {}", finding.name, pkg.name),
        "type": "PACKAGE_VULNERABILITY",
        "fixAvailable": if finding.fixed_version.is_some() { "YES" } else { "NO" },
    });
    if let Some(d) = description(f) {
        v["description"] = json!(d);
    }
    if let (Some(vector), Some(score)) = (&finding.cvss_vector, finding.cvss_score) {
        v["score"] = json!(score);
        v["scoreDetails"] = json!({ "cvss": {
            "adjustments": [],
            "score": score,
            "scoreSource": "OSV",
            "scoringVector": vector,
            "version": finding.cvss_version.clone().unwrap_or_else(|| "3.1".into()),
        }});
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use wharf_core::scan::{Finding, Package};

    fn finding(kind: PackageKind, name: &str, version: &str) -> ScanFinding {
        ScanFinding {
            finding: Finding {
                name: "CVE-2023-45853".into(),
                advisory_id: "DEBIAN-CVE-2023-45853".into(),
                aliases: vec!["CVE-2023-45853".into()],
                summary: Some("zlib: integer overflow".into()),
                description: Some("MiniZip in zlib through 1.3 has an integer overflow.".into()),
                severity: Severity::Critical,
                cvss_score: Some(9.8),
                cvss_vector: Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into()),
                cvss_version: Some("3.1".into()),
                package: Package {
                    kind,
                    name: name.into(),
                    version: version.into(),
                    source_name: Some("zlib".into()),
                    source_version: None,
                    arch: Some("amd64".into()),
                    licenses: vec![],
                    location: "/var/lib/dpkg/status".into(),
                },
                fixed_version: Some("1:1.2.13.dfsg-1+deb12u1".into()),
                references: vec![
                    "https://security-tracker.debian.org/tracker/CVE-2023-45853".into()
                ],
                published: Some("2023-10-14T02:15:09Z".into()),
                modified: Some("2024-01-20T10:00:00Z".into()),
            },
            first_observed_at: 1_700_000_000,
            last_observed_at: 1_700_000_500,
        }
    }

    fn summary(status: ScanStatus, completed: Option<i64>) -> ScanSummary {
        ScanSummary {
            status,
            description: None,
            scan_type: ScanType::Basic,
            completed_at: completed,
            vulnerability_source_updated_at: completed.map(|t| t - 100),
            severity_counts: vec![(Severity::Critical, 1), (Severity::Medium, 2)],
        }
    }

    fn image() -> ImageRecord {
        ImageRecord {
            digest: format!("sha256:{}", "ab".repeat(32))
                .parse()
                .expect("digest"),
            media_type: "application/vnd.oci.image.manifest.v1+json".into(),
            artifact_type: None,
            image_size: 10,
            pushed_at: 1_690_000_000,
            last_pulled_at: None,
            subject: None,
            tags: vec!["v1".into()],
            status: "ACTIVE".into(),
            archived_at: None,
            activated_at: None,
        }
    }

    #[test]
    fn basic_finding_has_ecr_attributes() {
        let f = finding(PackageKind::Deb, "zlib1g", "1:1.2.13.dfsg-1");
        assert_eq!(
            basic_finding(&f),
            json!({
                "name": "CVE-2023-45853",
                "description": "MiniZip in zlib through 1.3 has an integer overflow.",
                "uri": "https://security-tracker.debian.org/tracker/CVE-2023-45853",
                "severity": "CRITICAL",
                "attributes": [
                    { "key": "package_version", "value": "1:1.2.13.dfsg-1" },
                    { "key": "package_name", "value": "zlib1g" },
                    { "key": "CVSS3_VECTOR", "value": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" },
                    { "key": "CVSS3_SCORE", "value": "9.8" },
                ],
            })
        );
    }

    #[test]
    fn basic_finding_without_cvss_or_references() {
        let mut f = finding(PackageKind::Python, "requests", "2.25.0");
        f.finding.cvss_score = None;
        f.finding.cvss_vector = None;
        f.finding.cvss_version = None;
        f.finding.references.clear();
        f.finding.description = None;
        f.finding.severity = Severity::Undefined;
        assert_eq!(
            basic_finding(&f),
            json!({
                "name": "CVE-2023-45853",
                "description": "zlib: integer overflow",
                "uri": "https://osv.dev/vulnerability/DEBIAN-CVE-2023-45853",
                "severity": "UNDEFINED",
                "attributes": [
                    { "key": "package_version", "value": "2.25.0" },
                    { "key": "package_name", "value": "requests" },
                ],
            })
        );
    }

    #[test]
    fn os_versions_split_into_epoch_version_release() {
        let check = |kind, input: &str, want: (Option<u64>, &str, Option<&str>)| {
            let (e, v, r) = split_version(kind, input);
            assert_eq!((e, v.as_str(), r.as_deref()), want, "{kind:?} {input}");
        };
        check(
            PackageKind::Deb,
            "1:1.2.13.dfsg-1",
            (Some(1), "1.2.13.dfsg", Some("1")),
        );
        check(
            PackageKind::Deb,
            "3.0.11-1~deb12u1",
            (Some(0), "3.0.11", Some("1~deb12u1")),
        );
        check(PackageKind::Deb, "5.2.15", (Some(0), "5.2.15", None));
        check(
            PackageKind::Rpm,
            "2:8.2.2637-20.el9",
            (Some(2), "8.2.2637", Some("20.el9")),
        );
        check(PackageKind::Python, "2.25.0-1", (None, "2.25.0-1", None));
        check(PackageKind::Npm, "1:2", (None, "1:2", None));
    }

    #[test]
    fn summary_only_once_a_scan_finished() {
        assert_eq!(summary_json(&summary(ScanStatus::InProgress, None)), None);
        assert_eq!(
            summary_json(&summary(ScanStatus::Complete, Some(1_700_000_000))),
            Some(json!({
                "imageScanCompletedAt": 1_700_000_000.0,
                "vulnerabilitySourceUpdatedAt": 1_699_999_900.0,
                "findingSeverityCounts": { "CRITICAL": 1, "MEDIUM": 2 },
            }))
        );
    }

    #[test]
    fn findings_object_per_status_and_type() {
        let img = image();
        let ctx = ImageContext {
            region: "us-east-1",
            account: "123456789012",
            repository: "app/web",
            image: &img,
        };
        assert_eq!(
            findings_object(&summary(ScanStatus::Pending, None), &[], &ctx),
            None
        );
        let mut failed = summary(ScanStatus::Failed, Some(5));
        failed.severity_counts.clear();
        failed.vulnerability_source_updated_at = None;
        assert_eq!(
            findings_object(&failed, &[], &ctx),
            Some(
                json!({ "imageScanCompletedAt": 5.0, "findingSeverityCounts": {}, "findings": [] })
            )
        );
        let mut enhanced = summary(ScanStatus::Complete, Some(5));
        enhanced.scan_type = ScanType::Enhanced;
        let page = [finding(PackageKind::Deb, "zlib1g", "1:1.2.13.dfsg-1")];
        let v = findings_object(&enhanced, &page, &ctx).expect("object");
        assert_eq!(v.get("findings"), None);
        assert_eq!(v["enhancedFindings"].as_array().map(Vec::len), Some(1));
    }

    #[test]
    fn enhanced_finding_has_inspector_shape() {
        let img = image();
        let ctx = ImageContext {
            region: "us-east-1",
            account: "123456789012",
            repository: "app/web",
            image: &img,
        };
        let f = finding(PackageKind::Deb, "zlib1g", "1:1.2.13.dfsg-1");
        let v = enhanced_finding(&ctx, &f);
        let arn = v["findingArn"].as_str().expect("arn").to_string();
        assert!(
            arn.starts_with("arn:aws:inspector2:us-east-1:123456789012:finding/")
                && arn.len() == 82,
            "{arn}"
        );
        // The id is stable for the same image, advisory and package.
        assert_eq!(enhanced_finding(&ctx, &f)["findingArn"], json!(arn));
        let digest = format!("sha256:{}", "ab".repeat(32));
        assert_eq!(
            v,
            json!({
                "awsAccountId": "123456789012",
                "description": "MiniZip in zlib through 1.3 has an integer overflow.",
                "findingArn": arn,
                "firstObservedAt": 1_700_000_000.0,
                "lastObservedAt": 1_700_000_500.0,
                "updatedAt": 1_700_000_500.0,
                "packageVulnerabilityDetails": {
                    "cvss": [{
                        "baseScore": 9.8,
                        "scoringVector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                        "source": "OSV",
                        "version": "3.1",
                    }],
                    "referenceUrls": ["https://security-tracker.debian.org/tracker/CVE-2023-45853"],
                    "relatedVulnerabilities": ["DEBIAN-CVE-2023-45853"],
                    "source": "OSV",
                    "sourceUrl": "https://osv.dev/vulnerability/DEBIAN-CVE-2023-45853",
                    "vendorCreatedAt": 1_697_249_709.0,
                    "vendorUpdatedAt": 1_705_744_800.0,
                    "vendorSeverity": "CRITICAL",
                    "vulnerabilityId": "CVE-2023-45853",
                    "vulnerablePackages": [{
                        "arch": "amd64",
                        "epoch": 1,
                        "filePath": "/var/lib/dpkg/status",
                        "name": "zlib1g",
                        "packageManager": "OS",
                        "release": "1",
                        "version": "1.2.13.dfsg",
                        "fixedInVersion": "1:1.2.13.dfsg-1+deb12u1",
                    }],
                },
                "remediation": { "recommendation": {
                    "text": "Upgrade zlib1g to version 1:1.2.13.dfsg-1+deb12u1 or later.",
                }},
                "resources": [{
                    "details": { "awsEcrContainerImage": {
                        "imageHash": digest,
                        "imageTags": ["v1"],
                        "pushedAt": 1_690_000_000.0,
                        "registry": "123456789012",
                        "repositoryName": "app/web",
                    }},
                    "id": format!("arn:aws:ecr:us-east-1:123456789012:repository/app/web/{digest}"),
                    "type": "AWS_ECR_CONTAINER_IMAGE",
                }],
                "score": 9.8,
                "scoreDetails": { "cvss": {
                    "adjustments": [],
                    "score": 9.8,
                    "scoreSource": "OSV",
                    "scoringVector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                    "version": "3.1",
                }},
                "severity": "CRITICAL",
                "status": "ACTIVE",
                "title": "CVE-2023-45853 - zlib1g",
                "type": "PACKAGE_VULNERABILITY",
                "fixAvailable": "YES",
            })
        );
    }
}
