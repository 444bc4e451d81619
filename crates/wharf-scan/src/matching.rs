//! Matching an inventory's packages against OSV advisories. (Skeleton: to be filled in.)

use crate::osv::Advisory;
use crate::package::{OsRelease, Package};
use crate::severity::Severity;
use serde::{Deserialize, Serialize};

/// One vulnerability found in one package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The name ECR shows: the CVE id when the advisory has one as id or alias, else its id.
    pub name: String,
    /// The OSV record's id.
    pub advisory_id: String,
    pub aliases: Vec<String>,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub severity: Severity,
    /// CVSS base score of the vector the severity came from.
    pub cvss_score: Option<f64>,
    pub cvss_vector: Option<String>,
    /// `3.0`, `3.1`, `4.0`, when a vector was scored.
    pub cvss_version: Option<String>,
    pub package: Package,
    /// The lowest version that fixes it, when the advisory names one for the matched range.
    pub fixed_version: Option<String>,
    /// The advisory's reference URLs, the first being the most specific.
    pub references: Vec<String>,
    pub published: Option<String>,
    pub modified: Option<String>,
}

/// The (OSV ecosystem, package name) pairs under which advisories for `pkg` are filed, for a
/// store to look them up (`("Debian:12", <source package>)`, `("PyPI", <name>)`). Empty when the
/// package's ecosystem has no OSV counterpart (an OS package of an unknown OS).
pub fn lookup_keys(_pkg: &Package, _os: Option<&OsRelease>) -> Vec<(String, String)> {
    Vec::new()
}

/// Whether `advisory` affects `pkg` (on `os`), and the finding if so.
pub fn match_package(
    _pkg: &Package,
    _os: Option<&OsRelease>,
    _advisory: &Advisory,
) -> Option<Finding> {
    None
}
