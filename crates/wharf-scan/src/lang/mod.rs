//! Catalogers of language ecosystems' package metadata: Python distributions, npm packages, Go
//! and Rust (cargo-auditable) binaries, Java archives and Ruby gem specifications. Each file reads
//! one ecosystem and mirrors what Syft reports for it, so an inventory can be cross-checked against
//! Syft's on the same image.

use crate::catalog::{CatalogError, Cataloger, FileInfo};
use crate::limits::Limits;
use crate::package::{Package, PackageKind};
use std::io::Read;

pub mod golang;
pub mod java;
pub mod npm;
pub mod python;
pub mod ruby;
pub mod rust;

/// The language catalogers, in the order the walker offers them files.
pub fn catalogers() -> Vec<Box<dyn Cataloger>> {
    vec![
        Box::new(python::PythonCataloger),
        Box::new(npm::NpmCataloger),
        Box::new(ruby::GemCataloger),
        Box::new(java::JavaCataloger),
        Box::new(golang::GoBinaryCataloger),
        Box::new(rust::RustAuditCataloger),
    ]
}

/// The version Syft gives a package whose metadata names no version. Syft's default compliance
/// rules keep such packages with this stub (and drop packages without a name), so the catalogers do
/// the same to report what Syft reports.
pub const UNKNOWN_VERSION: &str = "UNKNOWN";

/// A package with only the fields language ecosystems record; a blank version becomes
/// `UNKNOWN_VERSION`.
fn package(
    kind: PackageKind,
    name: &str,
    version: &str,
    licenses: Vec<String>,
    location: &str,
) -> Package {
    Package {
        kind,
        name: name.to_string(),
        version: if version.trim().is_empty() {
            UNKNOWN_VERSION.to_string()
        } else {
            version.to_string()
        },
        source_name: None,
        source_version: None,
        arch: None,
        licenses,
        location: location.to_string(),
    }
}

/// Reads a whole manifest into memory, at most `limits.max_manifest_bytes`. Used only for formats
/// that are small by nature (package.json, gemspecs); binaries and archives are streamed or
/// spooled instead. `None` when the file is larger: the language catalogers are lenient, so an
/// implausibly large manifest is skipped rather than failing the scan.
fn read_manifest(
    file: &FileInfo<'_>,
    reader: &mut dyn Read,
    limits: &Limits,
) -> Result<Option<Vec<u8>>, CatalogError> {
    let cap = limits.max_manifest_bytes;
    if file.size > cap {
        return Ok(None);
    }
    let mut bytes = Vec::new();
    reader
        .take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|source| CatalogError::Io {
            path: file.path.to_string(),
            source,
        })?;
    Ok(Some(bytes).filter(|bytes| bytes.len() as u64 <= cap))
}

/// The last component of an absolute path.
fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Whether a file has any execute permission bit set.
fn is_executable(mode: u32) -> bool {
    mode & 0o111 != 0
}

/// Paths that are executable but never binaries: scripts and the like, which the Go and Rust
/// catalogers need not stream. (Both also check the executable format's magic first.)
fn looks_like_text(path: &str) -> bool {
    const TEXT: &[&str] = &[
        ".sh", ".bash", ".py", ".pl", ".rb", ".js", ".txt", ".md", ".json", ".xml", ".html", ".pc",
        ".la", ".conf", ".cfg", ".ini", ".yaml", ".yml", ".jar", ".war", ".gz", ".zip",
    ];
    TEXT.iter().any(|ext| path.ends_with(ext))
}
