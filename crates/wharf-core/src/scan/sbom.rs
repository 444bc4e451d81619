//! SBOMs of scanned images: documents built from the stored inventory, and their attachment to
//! the image as OCI referrer artifacts.

use super::SbomFormat;
use crate::{CoreError, Registry, Repo};
use wharf_oci::Digest;

impl Registry {
    /// The SBOM of a scanned image, from its stored inventory.
    pub async fn sbom(
        &self,
        _repo: &Repo,
        _digest: &Digest,
        _format: SbomFormat,
    ) -> Result<serde_json::Value, CoreError> {
        Err(CoreError::Internal("scanning is not built yet".into()))
    }
}
