//! Manifest media types Wharf understands, as a closed enum.

use std::fmt;

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";

/// The four manifest formats a registry stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaType {
    OciManifest,
    OciIndex,
    DockerManifest,
    DockerManifestList,
}

impl MediaType {
    pub const ALL: [MediaType; 4] = [
        MediaType::OciManifest,
        MediaType::OciIndex,
        MediaType::DockerManifest,
        MediaType::DockerManifestList,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MediaType::OciManifest => OCI_MANIFEST,
            MediaType::OciIndex => OCI_INDEX,
            MediaType::DockerManifest => DOCKER_MANIFEST,
            MediaType::DockerManifestList => DOCKER_MANIFEST_LIST,
        }
    }

    /// Parses a media type, ignoring parameters such as `; charset=utf-8`.
    pub fn parse(s: &str) -> Option<MediaType> {
        let base = s.split(';').next().unwrap_or("").trim();
        MediaType::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(base))
    }

    /// Whether this format lists child manifests rather than layers.
    pub fn is_index(self) -> bool {
        matches!(self, MediaType::OciIndex | MediaType::DockerManifestList)
    }
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_with_parameters() {
        assert_eq!(MediaType::parse(OCI_INDEX), Some(MediaType::OciIndex));
        assert_eq!(
            MediaType::parse("application/vnd.docker.distribution.manifest.v2+json; charset=utf-8"),
            Some(MediaType::DockerManifest)
        );
        assert_eq!(MediaType::parse("application/json"), None);
        assert!(MediaType::DockerManifestList.is_index());
        assert!(!MediaType::OciManifest.is_index());
    }
}
