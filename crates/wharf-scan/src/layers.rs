//! The layer walker: streams each layer's tar (uncompressed, gzip or zstd), offers its regular
//! files to the catalogers, applies whiteouts, and builds the inventory of the final filesystem.
//! (Skeleton: to be filled in.)

use crate::package::Inventory;
use std::io::Read;

/// How a layer blob is compressed (from its media type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// Bounds on what one scan may read or hold.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest file a cataloger is offered, in bytes.
    pub max_file_bytes: u64,
    /// Most uncompressed bytes read across all layers (tar bombs).
    pub max_total_bytes: u64,
    /// Most tar entries across all layers.
    pub max_entries: u64,
    /// Most packages in one inventory.
    pub max_packages: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_file_bytes: 512 << 20,
            max_total_bytes: 16 << 30,
            max_entries: 2_000_000,
            max_packages: 200_000,
        }
    }
}

/// Why a scan failed. The message is the reason ECR's scan status description shows.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// A layer is not a readable tar stream in its stated compression.
    #[error("layer {layer}: {reason}")]
    BadLayer { layer: usize, reason: String },
    /// A limit was exceeded (tar/zip bomb, huge file, too many entries).
    #[error("layer {layer}: {reason}")]
    Limit { layer: usize, reason: String },
    /// A package database is corrupt.
    #[error("layer {layer}: {source}")]
    Catalog {
        layer: usize,
        #[source]
        source: crate::catalog::CatalogError,
    },
}

/// Builds an inventory one layer at a time, lowest layer first.
pub struct InventoryBuilder {
    _limits: Limits,
}

impl InventoryBuilder {
    pub fn new(limits: Limits) -> InventoryBuilder {
        InventoryBuilder { _limits: limits }
    }

    /// Reads the next layer.
    pub fn add_layer(
        &mut self,
        _compression: Compression,
        _layer: &mut dyn Read,
    ) -> Result<(), ScanError> {
        Err(ScanError::BadLayer {
            layer: 0,
            reason: "layer walking is not built yet".into(),
        })
    }

    /// The inventory of the final filesystem.
    pub fn finish(self) -> Inventory {
        Inventory::default()
    }
}
