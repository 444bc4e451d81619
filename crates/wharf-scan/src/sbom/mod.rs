//! SBOM documents (CycloneDX and SPDX JSON) built from an inventory. (Skeleton: to be filled in.)

use crate::package::Inventory;

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

/// A CycloneDX 1.5 JSON document for the inventory.
pub fn cyclonedx(_inventory: &Inventory, _subject: &Subject<'_>) -> serde_json::Value {
    serde_json::Value::Null
}

/// An SPDX 2.3 JSON document for the inventory.
pub fn spdx(_inventory: &Inventory, _subject: &Subject<'_>) -> serde_json::Value {
    serde_json::Value::Null
}
