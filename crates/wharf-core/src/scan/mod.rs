//! Image scanning as the registry runs it: the registry and repository scanning configuration
//! (`config.rs`), the scan pipeline that streams an image's layers into `wharf-scan` and matches
//! the inventory against the stored vulnerability database (`pipeline.rs`), scan results and
//! their paging (`results.rs`), the vulnerability database import with continuous rescans
//! (`vulndb.rs`), SBOM documents attached to images as OCI referrers (`sbom.rs`), and the
//! statuses a read reports for archived images and images past the scan eligibility window
//! (`eligibility.rs`).
//!
//! The types here are the contract the ECR operations build their wire shapes from; they know
//! nothing of AWS JSON.

pub mod config;
mod eligibility;
mod matcher;
mod pipeline;
mod results;
mod sbom;
mod vulndb;

pub(crate) use results::scan_job;
pub use results::MAX_FINDINGS_PAGE;
pub use sbom::SBOM_ANNOTATION;
pub use vulndb::AdvisoryImport;
pub use wharf_scan::{Finding, Inventory, Package, PackageKind, Severity};

use serde::{Deserialize, Serialize};

/// ECR's `ScanStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScanStatus {
    InProgress,
    Complete,
    Failed,
    UnsupportedImage,
    Active,
    Pending,
    ScanEligibilityExpired,
    FindingsUnavailable,
    LimitExceeded,
    ImageArchived,
    ImageSizeExceeded,
}

const STATUSES: [(ScanStatus, &str); 11] = [
    (ScanStatus::InProgress, "IN_PROGRESS"),
    (ScanStatus::Complete, "COMPLETE"),
    (ScanStatus::Failed, "FAILED"),
    (ScanStatus::UnsupportedImage, "UNSUPPORTED_IMAGE"),
    (ScanStatus::Active, "ACTIVE"),
    (ScanStatus::Pending, "PENDING"),
    (
        ScanStatus::ScanEligibilityExpired,
        "SCAN_ELIGIBILITY_EXPIRED",
    ),
    (ScanStatus::FindingsUnavailable, "FINDINGS_UNAVAILABLE"),
    (ScanStatus::LimitExceeded, "LIMIT_EXCEEDED"),
    (ScanStatus::ImageArchived, "IMAGE_ARCHIVED"),
    (ScanStatus::ImageSizeExceeded, "IMAGE_SIZE_EXCEEDED"),
];

impl ScanStatus {
    /// The wire name (`IN_PROGRESS`, `COMPLETE`, …).
    pub fn as_str(self) -> &'static str {
        STATUSES
            .iter()
            .find(|(s, _)| *s == self)
            .map_or("FAILED", |(_, n)| n)
    }

    pub fn parse(s: &str) -> Option<ScanStatus> {
        STATUSES.iter().find(|(_, n)| *n == s).map(|(st, _)| *st)
    }
}

/// The registry's scan type: `BASIC` (scan on push or by hand) or `ENHANCED` (also continuous).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScanType {
    #[default]
    Basic,
    Enhanced,
}

impl ScanType {
    pub fn as_str(self) -> &'static str {
        match self {
            ScanType::Basic => "BASIC",
            ScanType::Enhanced => "ENHANCED",
        }
    }

    pub fn parse(s: &str) -> Option<ScanType> {
        match s {
            "BASIC" => Some(ScanType::Basic),
            "ENHANCED" => Some(ScanType::Enhanced),
            _ => None,
        }
    }
}

/// When a repository's images are scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanFrequency {
    ScanOnPush,
    ContinuousScan,
    Manual,
}

impl ScanFrequency {
    pub fn as_str(self) -> &'static str {
        match self {
            ScanFrequency::ScanOnPush => "SCAN_ON_PUSH",
            ScanFrequency::ContinuousScan => "CONTINUOUS_SCAN",
            ScanFrequency::Manual => "MANUAL",
        }
    }

    pub fn parse(s: &str) -> Option<ScanFrequency> {
        match s {
            "SCAN_ON_PUSH" => Some(ScanFrequency::ScanOnPush),
            "CONTINUOUS_SCAN" => Some(ScanFrequency::ContinuousScan),
            "MANUAL" => Some(ScanFrequency::Manual),
            _ => None,
        }
    }
}

/// One repository filter of a scanning rule. `filter_type` is `WILDCARD`, the only type ECR
/// has; it stays text so the ECR layer echoes what it got and core rejects anything else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanFilter {
    pub filter: String,
    pub filter_type: String,
}

/// A scanning rule: a frequency for the repositories its filters match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanRule {
    pub scan_frequency: ScanFrequency,
    pub repository_filters: Vec<ScanFilter>,
}

/// An account's registry scanning configuration. The default is BASIC without rules.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RegistryScanningConfiguration {
    pub scan_type: ScanType,
    pub rules: Vec<ScanRule>,
}

/// The configuration in effect for one repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositoryScanningConfiguration {
    /// The repository's name.
    pub repository: String,
    /// Whether a push scans the image (frequency SCAN_ON_PUSH or CONTINUOUS_SCAN).
    pub scan_on_push: bool,
    pub scan_frequency: ScanFrequency,
    /// The filters of the rule that applied; empty when none did.
    pub applied_scan_filters: Vec<ScanFilter>,
}

/// A finding with the times ECR's enhanced findings carry. `first_observed_at` survives
/// rescans of the same image (same advisory, package name, version and location);
/// `last_observed_at` is the latest scan that found it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanFinding {
    #[serde(flatten)]
    pub finding: Finding,
    pub first_observed_at: i64,
    pub last_observed_at: i64,
}

/// A scan's status and counts without its findings (DescribeImages' summary).
#[derive(Debug, Clone, PartialEq)]
pub struct ScanSummary {
    pub status: ScanStatus,
    pub description: Option<String>,
    pub scan_type: ScanType,
    /// When the last scan finished (COMPLETE, FAILED or UNSUPPORTED_IMAGE).
    pub completed_at: Option<i64>,
    /// The vulnerability database's last import as of that scan.
    pub vulnerability_source_updated_at: Option<i64>,
    /// Findings per severity, only severities with at least one, CRITICAL first.
    pub severity_counts: Vec<(Severity, u64)>,
}

/// A scan's summary with one page of its findings (DescribeImageScanFindings).
#[derive(Debug, Clone, PartialEq)]
pub struct ImageScanReport {
    pub summary: ScanSummary,
    /// Sorted by severity (CRITICAL first, UNDEFINED last), then name, then package.
    pub findings: Vec<ScanFinding>,
    /// Opaque token for the next page; `None` on the last page.
    pub next_token: Option<String>,
}

/// What an import of OSV documents did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub new: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub invalid: u64,
    /// Source and reason of the first `MAX_INVALID_REASONS` invalid documents.
    pub invalid_reasons: Vec<(String, String)>,
    /// Images queued for re-matching (continuous scanning).
    pub rescans: u64,
}

/// How many invalid documents an import report names.
pub const MAX_INVALID_REASONS: usize = 100;

/// The vulnerability database's contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VulnDbStatus {
    pub advisories: u64,
    /// (ecosystem, package) keys advisories are filed under.
    pub keys: u64,
    /// Advisories per OSV ecosystem (`Debian:12`, `PyPI`, …), by ecosystem name.
    pub ecosystems: Vec<(String, u64)>,
    /// When the last import that changed something finished.
    pub updated_at: Option<i64>,
}

/// SBOM document formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SbomFormat {
    CycloneDx,
    Spdx,
}

/// Severities in report order: most severe first, UNDEFINED last.
pub(crate) fn severity_rank(s: Severity) -> u8 {
    match s {
        Severity::Critical => 0,
        Severity::High => 1,
        Severity::Medium => 2,
        Severity::Low => 3,
        Severity::Informational => 4,
        Severity::Undefined => 5,
    }
}
