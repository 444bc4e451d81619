//! `Limits`: the bounds on what one scan may read or hold. The layer walker (`layers.rs`) enforces
//! them across layers and the catalogers (`os/`, `lang/`) within the files they read, so they sit
//! below both.

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
    /// Most bytes of tar headers (with their GNU long-name and PAX extension records) before one
    /// entry. The tar reader holds these in memory, so they need their own bound.
    pub max_header_bytes: u64,
    /// Largest text package database (dpkg `status`, apk `installed`) read into memory. Real
    /// ones are a few MiB; the file limit alone would let one tiny compressed layer expand into
    /// gigabytes of parsed records.
    pub max_db_bytes: u64,
    /// Largest manifest a language cataloger reads into memory (`package.json`, a gemspec, a
    /// Python metadata header block, a `pom.properties` or `MANIFEST.MF` in an archive). Real
    /// ones are a few KiB; a larger file is skipped.
    pub max_manifest_bytes: u64,
    /// How many packages the cataloger being called may still return before the inventory
    /// passes `max_packages`. The walker sets it before each call (to `max_packages` minus what
    /// it already holds), so a package database stops as soon as it is over rather than after
    /// parsing millions of records; a value set by the caller of `InventoryBuilder` is ignored.
    pub remaining_packages: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_file_bytes: 512 << 20,
            max_total_bytes: 16 << 30,
            max_entries: 2_000_000,
            max_packages: 200_000,
            max_header_bytes: 1 << 20,
            max_db_bytes: 64 << 20,
            max_manifest_bytes: 4 << 20,
            remaining_packages: 200_000,
        }
    }
}
