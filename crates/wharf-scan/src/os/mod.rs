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
use crate::layers::Limits;
use std::io::{self, Read};

/// The OS catalogers, in the order the walker offers them files.
pub fn catalogers() -> Vec<Box<dyn Cataloger>> {
    vec![
        Box::new(DpkgCataloger),
        Box::new(ApkCataloger),
        Box::new(RpmCataloger),
    ]
}

/// Reads a whole text database (bounded by the walker's capped reader). Binary content (not
/// UTF-8, or with NUL bytes) is malformed.
fn read_text(
    file: &FileInfo<'_>,
    reader: &mut dyn Read,
    limits: &Limits,
) -> Result<String, CatalogError> {
    let mut bytes = Vec::new();
    reader
        .read_to_end(&mut bytes)
        .map_err(|err| read_error(file, err, limits))?;
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
