//! Catalogers of operating-system package databases: dpkg, apk, rpm; and `os-release`, which
//! the walker keeps and parses itself (it names the OS, not a package).
//!
//! The OS databases are authoritative records of what is installed, so they are read strictly:
//! a database that does not parse fails the scan (`CatalogError::Malformed`) rather than
//! silently hiding the packages it should have listed.

mod apk;
mod control;
mod dpkg;
pub mod release;
mod rpm;
mod rpm_header;

pub use apk::ApkCataloger;
pub use dpkg::DpkgCataloger;
pub use rpm::RpmCataloger;

use crate::catalog::{CatalogError, Cataloger, FileInfo};
use crate::limits::Limits;
use crate::package::Package;
use std::io::{self, Read};

/// The OS catalogers, in the order the walker offers them files.
pub fn catalogers() -> Vec<Box<dyn Cataloger>> {
    vec![
        Box::new(DpkgCataloger),
        Box::new(ApkCataloger),
        Box::new(RpmCataloger),
    ]
}

/// Reads a whole text database into memory, up to `limits.max_db_bytes`: a larger one fails
/// with `TooLarge` before any of it is read (the tar header gives its size). A file over the
/// walker's own file limit is left to the capped reader, which reports that limit. Binary
/// content (not UTF-8, or with NUL bytes) is malformed.
fn read_text(
    file: &FileInfo<'_>,
    reader: &mut dyn Read,
    limits: &Limits,
) -> Result<String, CatalogError> {
    let cap = limits.max_db_bytes;
    let over_db_cap = |size: u64| CatalogError::TooLarge {
        path: file.path.to_string(),
        reason: format!("{size} bytes is over the {cap}-byte limit for package databases"),
    };
    if file.size > cap && cap < limits.max_file_bytes {
        return Err(over_db_cap(file.size));
    }
    let mut bytes = Vec::new();
    reader
        .take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|err| read_error(file, err, limits))?;
    // The header's size bounds the reader, so this only trips when the two disagree.
    if bytes.len() as u64 > cap {
        return Err(over_db_cap(bytes.len() as u64));
    }
    if bytes.contains(&0) {
        return Err(malformed(
            file,
            "binary data (NUL bytes) in a text database",
        ));
    }
    String::from_utf8(bytes).map_err(|err| {
        malformed(
            file,
            format!(
                "not UTF-8 text (invalid byte at offset {})",
                err.utf8_error().valid_up_to()
            ),
        )
    })
}

/// Pushes a package found in a database, failing once the file holds more than the scan's
/// remaining package budget, so a database of millions of tiny records stops early.
fn push_within_budget(
    file: &FileInfo<'_>,
    packages: &mut Vec<Package>,
    package: Package,
    limits: &Limits,
) -> Result<(), CatalogError> {
    if packages.len() >= limits.remaining_packages {
        return Err(CatalogError::TooManyPackages {
            path: file.path.to_string(),
        });
    }
    packages.push(package);
    Ok(())
}

/// Maps a read failure: the capped reader's size error becomes `TooLarge`.
fn read_error(file: &FileInfo<'_>, err: io::Error, limits: &Limits) -> CatalogError {
    if err.kind() == io::ErrorKind::FileTooLarge {
        CatalogError::TooLarge {
            path: file.path.to_string(),
            reason: format!(
                "{} bytes is over the {}-byte file limit",
                file.size, limits.max_file_bytes
            ),
        }
    } else {
        CatalogError::Io {
            path: file.path.to_string(),
            source: err,
        }
    }
}

fn malformed(file: &FileInfo<'_>, reason: impl Into<String>) -> CatalogError {
    CatalogError::Malformed {
        path: file.path.to_string(),
        reason: reason.into(),
    }
}
