//! SBOM documents (CycloneDX 1.5 and SPDX 2.3 JSON) built from an inventory: `cyclonedx.rs`
//! and `spdx.rs` write the two formats, `purl.rs` the package URLs both use, and `license.rs`
//! decides how recorded license strings appear in them.
//!
//! Documents are deterministic: the same inventory of the same image with the same creation
//! time gives byte-identical JSON. Their unique ids (CycloneDX `serialNumber`, SPDX
//! `documentNamespace`) are name-based UUIDs (RFC 4122 version 5) of the repository, the image
//! digest and the inventory, so a rescan that finds the same packages reproduces the same
//! document and one that finds different packages gets a new id.

mod cyclonedx;
mod license;
pub mod purl;
mod spdx;

#[cfg(test)]
mod tests;

use crate::package::{Inventory, PackageKind};

pub use purl::{image_purl, purl};

/// The image an SBOM describes.
#[derive(Debug, Clone)]
pub struct Subject<'a> {
    /// The repository (`team/app`), as the registry names it.
    pub repository: &'a str,
    /// The image manifest's digest (`sha256:…`).
    pub digest: &'a str,
    /// Registry host the image is served from (`registry.example.com:5000`), for purls.
    pub registry: &'a str,
    /// RFC 3339 creation time written into the document.
    pub created: &'a str,
}

/// Media types of the SBOM artifacts Wharf attaches as OCI referrers.
pub const CYCLONEDX_MEDIA_TYPE: &str = "application/vnd.cyclonedx+json";
pub const SPDX_MEDIA_TYPE: &str = "application/spdx+json";

/// The tool name and version both formats record as the document's creator.
const TOOL_NAME: &str = "wharf";
const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// A CycloneDX 1.5 JSON document for the inventory.
pub fn cyclonedx(inventory: &Inventory, subject: &Subject<'_>) -> serde_json::Value {
    cyclonedx::document(inventory, subject)
}

/// An SPDX 2.3 JSON document for the inventory.
pub fn spdx(inventory: &Inventory, subject: &Subject<'_>) -> serde_json::Value {
    spdx::document(inventory, subject)
}

/// The document's UUID: version 5 (SHA-1, name-based) in the URL namespace, over the image's
/// address and the inventory's JSON. The inventory is sorted and deduplicated by its builder, so
/// its JSON is a stable fingerprint of what the scan found.
fn document_uuid(inventory: &Inventory, subject: &Subject<'_>) -> uuid::Uuid {
    let mut name = format!(
        "wharf-sbom:{}/{}@{}\n",
        subject.registry, subject.repository, subject.digest
    )
    .into_bytes();
    // Serializing plain structs of strings cannot fail; should it ever, the UUID still names the
    // image, which is unique enough for a document id.
    if let Ok(json) = serde_json::to_vec(inventory) {
        name.extend_from_slice(&json);
    }
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, &name)
}

/// The inventory's own name for a kind (its serde name), so the property matches the API.
fn kind_name(kind: PackageKind) -> &'static str {
    match kind {
        PackageKind::Deb => "deb",
        PackageKind::Apk => "apk",
        PackageKind::Rpm => "rpm",
        PackageKind::Python => "python",
        PackageKind::Npm => "npm",
        PackageKind::GoModule => "go-module",
        PackageKind::Java => "java",
        PackageKind::Rust => "rust",
        PackageKind::Gem => "gem",
    }
}
