//! The contract between the layer walker (`layers.rs`) and the catalogers (`os/`, `lang/`).
//!
//! The walker offers every regular file of every layer to each cataloger's `wants`; a file wanted
//! is read once through `catalog`, and the packages it yields are kept under the file's path. A
//! later layer that deletes or replaces the path (whiteouts, opaque directories, a new file)
//! drops them, so the inventory reflects the final filesystem while no layer is held in memory.

use crate::limits::Limits;
use crate::package::Package;
use std::io::Read;

/// A regular file in a layer, as the walker offers it.
#[derive(Debug, Clone, Copy)]
pub struct FileInfo<'a> {
    /// Absolute, normalized path in the image (`/usr/lib/python3/dist-packages/x.dist-info/METADATA`).
    pub path: &'a str,
    /// Unix permission bits.
    pub mode: u32,
    /// Size in bytes as the tar header gives it.
    pub size: u64,
}

/// Why a cataloger could not read a file.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The file is not what its path promised, in a way that makes the scan untrustworthy (a
    /// corrupt package database). The scan fails with this reason.
    #[error("{path}: {reason}")]
    Malformed { path: String, reason: String },
    /// The file exceeds a limit (`Limits`).
    #[error("{path}: {reason}")]
    TooLarge { path: String, reason: String },
    /// The file records more packages than `Limits::remaining_packages`; the cataloger stopped
    /// there instead of reading on. The walker reports it as the inventory's package limit.
    #[error("{path}: more packages than the scan's remaining package budget")]
    TooManyPackages { path: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// Reads one kind of package metadata.
pub trait Cataloger: Send + Sync {
    /// A short name for logs and errors (`dpkg`, `python`, …).
    fn name(&self) -> &'static str;
    /// Whether this cataloger reads the file. Decided from path, mode and size only.
    fn wants(&self, file: &FileInfo<'_>) -> bool;
    /// Reads the file and returns the packages it records (none when it records none, or when a
    /// lenient format is unreadable). `reader` yields at most `limits.max_file_bytes`; a
    /// cataloger that reads a whole file into memory bounds it further (`max_db_bytes`,
    /// `max_manifest_bytes`), and one that can find many packages in one file returns
    /// `CatalogError::TooManyPackages` once it has more than `limits.remaining_packages`.
    fn catalog(
        &self,
        file: &FileInfo<'_>,
        reader: &mut dyn Read,
        limits: &Limits,
    ) -> Result<Vec<Package>, CatalogError>;
}
