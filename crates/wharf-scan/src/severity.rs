//! ECR's severities and how an advisory's CVSS vectors map to them.

use serde::{Deserialize, Serialize};

/// ECR's finding severities (`FindingSeverity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Severity {
    Informational,
    Low,
    Medium,
    High,
    Critical,
    Undefined,
}
