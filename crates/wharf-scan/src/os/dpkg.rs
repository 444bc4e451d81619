//! The dpkg cataloger: `/var/lib/dpkg/status` (Debian, Ubuntu) and the per-package files of
//! `/var/lib/dpkg/status.d/` that distroless images carry instead.

use super::control::{self, Stanza};
use super::{malformed, push_within_budget, read_text};
use crate::catalog::{CatalogError, Cataloger, FileInfo};
use crate::limits::Limits;
use crate::package::{Package, PackageKind};
use std::io::Read;

const STATUS: &str = "/var/lib/dpkg/status";
const STATUS_D: &str = "/var/lib/dpkg/status.d/";

/// Reads dpkg status databases.
#[derive(Debug, Default, Clone, Copy)]
pub struct DpkgCataloger;

impl Cataloger for DpkgCataloger {
    fn name(&self) -> &'static str {
        "dpkg"
    }

    fn wants(&self, file: &FileInfo<'_>) -> bool {
        file.path == STATUS
            || file.path.strip_prefix(STATUS_D).is_some_and(|name| {
                !name.is_empty() && !name.contains('/') && !name.ends_with(".md5sums")
            })
    }

    fn catalog(
        &self,
        file: &FileInfo<'_>,
        reader: &mut dyn Read,
        limits: &Limits,
    ) -> Result<Vec<Package>, CatalogError> {
        let text = read_text(file, reader, limits)?;
        // status.d files are written for installed packages only and carry no Status field.
        let needs_status = file.path == STATUS;
        let mut packages = Vec::new();
        // Stanza by stanza, so a status of millions of tiny stanzas stops at the package
        // budget instead of first building all of them.
        control::each(
            &text,
            &mut |stanza| match package(file, &stanza, needs_status)? {
                Some(package) => push_within_budget(file, &mut packages, package, limits),
                None => Ok(()),
            },
        )
        .map_err(|err| match err {
            control::Error::Syntax(reason) => malformed(file, reason),
            control::Error::Visit(err) => err,
        })?;
        Ok(packages)
    }
}

/// The package a stanza records, if it is installed.
fn package(
    file: &FileInfo<'_>,
    stanza: &Stanza<'_>,
    needs_status: bool,
) -> Result<Option<Package>, CatalogError> {
    let Some(name) = stanza.get("Package").filter(|name| !name.is_empty()) else {
        return Err(malformed(
            file,
            format!("stanza at line {} has no Package field", stanza.line),
        ));
    };
    // Removed and purged packages keep a stanza, and a purged one may have no Version: only
    // installed stanzas are held to having one.
    if needs_status && !installed(stanza.get("Status")) {
        return Ok(None);
    }
    let Some(version) = stanza.get("Version").filter(|v| !v.is_empty()) else {
        return Err(malformed(
            file,
            format!("package {name} (line {}) has no Version field", stanza.line),
        ));
    };
    let (source_name, source_version) = match stanza.get("Source") {
        Some(source) => parse_source(source),
        None => (None, None),
    };
    Ok(Some(Package {
        kind: PackageKind::Deb,
        name: name.to_string(),
        version: version.to_string(),
        source_name,
        source_version,
        arch: stanza
            .get("Architecture")
            .filter(|a| !a.is_empty())
            .map(str::to_string),
        licenses: Vec::new(),
        location: file.path.to_string(),
    }))
}

/// Whether a `Status: want flag state` value says the package is installed.
fn installed(status: Option<&str>) -> bool {
    status.and_then(|s| s.split_whitespace().nth(2)) == Some("installed")
}

/// Splits `Source: name` or `Source: name (version)`.
fn parse_source(source: &str) -> (Option<String>, Option<String>) {
    let (name, version) = match source.split_once('(') {
        Some((name, rest)) => {
            let version = rest.split(')').next().unwrap_or("").trim();
            (name.trim(), (!version.is_empty()).then_some(version))
        }
        None => (source.trim(), None),
    };
    (
        (!name.is_empty()).then(|| name.to_string()),
        version.map(str::to_string),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        let check = |status: Option<&str>, expected: bool| {
            assert_eq!(installed(status), expected, "{status:?}");
        };
        check(Some("install ok installed"), true);
        check(Some("hold ok installed"), true);
        check(Some("deinstall ok config-files"), false);
        check(Some("purge ok not-installed"), false);
        check(Some("installed"), false);
        check(None, false);
    }

    #[test]
    fn sources() {
        let check = |source: &str, name: Option<&str>, version: Option<&str>| {
            assert_eq!(
                parse_source(source),
                (name.map(String::from), version.map(String::from)),
                "{source}"
            );
        };
        check("glibc", Some("glibc"), None);
        check(
            "openssl (3.0.11-1~deb12u2)",
            Some("openssl"),
            Some("3.0.11-1~deb12u2"),
        );
        check("x ()", Some("x"), None);
        check("", None, None);
    }

    #[test]
    fn wanted_paths() {
        let wants = |path: &str| {
            DpkgCataloger.wants(&FileInfo {
                path,
                mode: 0o644,
                size: 10,
            })
        };
        assert!(wants("/var/lib/dpkg/status"));
        assert!(wants("/var/lib/dpkg/status.d/libc6"));
        assert!(!wants("/var/lib/dpkg/status.d/libc6.md5sums"));
        assert!(!wants("/var/lib/dpkg/status.d/sub/x"));
        assert!(!wants("/var/lib/dpkg/status-old"));
        assert!(!wants("/var/lib/dpkg/status.d"));
    }
}
