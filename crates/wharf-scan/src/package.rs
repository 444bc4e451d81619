//! What a scan finds: packages, the operating system, and the inventory that holds both.

use serde::{Deserialize, Serialize};

/// The kind of a package: which package manager or language ecosystem recorded it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PackageKind {
    /// A Debian package (dpkg `status` or `status.d/`).
    Deb,
    /// An Alpine package (`lib/apk/db/installed`).
    Apk,
    /// An RPM package (`rpmdb.sqlite`).
    Rpm,
    /// A Python distribution (`*.dist-info/METADATA`, `*.egg-info/PKG-INFO`).
    Python,
    /// An npm package (`node_modules/**/package.json`).
    Npm,
    /// A Go module built into a binary (from its build info), or the Go standard library
    /// (name `stdlib`) it was built with.
    GoModule,
    /// A Java archive (jar/war/ear, including nested ones).
    Java,
    /// A Rust crate recorded by cargo-auditable in a binary.
    Rust,
    /// A Ruby gem (`specifications/*.gemspec`).
    Gem,
}

/// A package found in an image.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Package {
    pub kind: PackageKind,
    /// The package's name as its ecosystem names it. Maven: `groupId:artifactId`; Go: the module
    /// path; Python: the PEP 503-normalized name, as Syft reports it.
    pub name: String,
    pub version: String,
    /// The OS source package it was built from when that differs or is known (dpkg `Source:`,
    /// apk `o:` origin, rpm source RPM name). OS advisories name source packages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_name: Option<String>,
    /// The source package's version when it differs from `version` (dpkg `Source: name (ver)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<String>,
    /// Where in the image the package was recorded (absolute path of the file read).
    pub location: String,
}

/// The operating system of an image, from `/etc/os-release` (or `/usr/lib/os-release`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsRelease {
    /// `ID`, e.g. `debian`, `alpine`, `ubuntu`, `rocky`.
    pub id: String,
    /// `VERSION_ID`, e.g. `12`, `3.19.1`, `22.04`.
    #[serde(default)]
    pub version_id: Option<String>,
    #[serde(default)]
    pub version_codename: Option<String>,
    #[serde(default)]
    pub id_like: Vec<String>,
    #[serde(default)]
    pub pretty_name: Option<String>,
}

/// Everything a scan found in an image: its OS (if any) and its packages, sorted and without
/// duplicates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    #[serde(default)]
    pub os: Option<OsRelease>,
    pub packages: Vec<Package>,
}
