//! Manifest parsing for the four formats, keeping the pushed bytes untouched.
//!
//! `Manifest::parse` validates the JSON against the format's required fields and extracts what the
//! registry needs: the blobs it references (config and layers), the child manifests an index lists,
//! the `subject` for the referrers API and the artifact type. The canonical bytes are never
//! re-serialized: the caller keeps them and the digest is computed over them.

use crate::digest::Digest;
use crate::media::MediaType;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The largest manifest accepted, in bytes (4 MiB, the limit the spec suggests).
pub const MAX_MANIFEST_BYTES: usize = 4 * 1024 * 1024;

/// A content descriptor as it appears in manifests and indexes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    pub media_type: String,
    pub digest: Digest,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urls: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<serde_json::Value>,
}

impl Descriptor {
    /// Foreign (non-distributable) layers live elsewhere; the registry does not hold their bytes.
    pub fn is_foreign(&self) -> bool {
        self.urls.as_ref().is_some_and(|u| !u.is_empty())
            && (self.media_type.contains("foreign") || self.media_type.contains("nondistributable"))
    }
}

/// Why manifest bytes were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    #[error("manifest is larger than {MAX_MANIFEST_BYTES} bytes")]
    TooLarge,
    #[error("manifest is not valid JSON: {0}")]
    Json(String),
    #[error("unsupported manifest media type {0:?}")]
    UnsupportedMediaType(String),
    #[error("manifest mediaType {body:?} does not match Content-Type {header:?}")]
    MediaTypeMismatch { body: String, header: String },
    #[error("manifest schemaVersion must be 2")]
    SchemaVersion,
    #[error("manifest is missing required field {0:?}")]
    Missing(&'static str),
}

/// The parsed, validated view of a manifest. The bytes themselves stay with the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub media_type: MediaType,
    pub config: Option<Descriptor>,
    pub layers: Vec<Descriptor>,
    pub manifests: Vec<Descriptor>,
    pub subject: Option<Descriptor>,
    pub artifact_type: Option<String>,
    pub annotations: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw {
    schema_version: Option<i64>,
    media_type: Option<String>,
    config: Option<Descriptor>,
    layers: Option<Vec<Descriptor>>,
    manifests: Option<Vec<Descriptor>>,
    subject: Option<Descriptor>,
    artifact_type: Option<String>,
    annotations: Option<BTreeMap<String, String>>,
}

impl Manifest {
    /// Parses manifest bytes sent with the given `Content-Type` (if any).
    pub fn parse(bytes: &[u8], content_type: Option<&str>) -> Result<Manifest, ManifestError> {
        if bytes.len() > MAX_MANIFEST_BYTES {
            return Err(ManifestError::TooLarge);
        }
        let raw: Raw =
            serde_json::from_slice(bytes).map_err(|e| ManifestError::Json(e.to_string()))?;
        let header = content_type
            .map(|c| c.split(';').next().unwrap_or("").trim())
            .filter(|c| !c.is_empty());
        let header_type = header.and_then(MediaType::parse);
        let body_type = match raw.media_type.as_deref() {
            Some(m) => Some(
                MediaType::parse(m)
                    .ok_or_else(|| ManifestError::UnsupportedMediaType(m.to_string()))?,
            ),
            None => None,
        };
        let media_type = match (header_type, body_type) {
            (Some(h), Some(b)) if h != b => {
                return Err(ManifestError::MediaTypeMismatch {
                    body: b.to_string(),
                    header: h.to_string(),
                })
            }
            (Some(h), _) => h,
            (None, Some(b)) => b,
            (None, None) => match header {
                // A manifest type we do not know (schema1, say) is refused rather than guessed.
                Some(h) if h.contains("manifest") => {
                    return Err(ManifestError::UnsupportedMediaType(h.to_string()))
                }
                _ if raw.manifests.is_some() => MediaType::OciIndex,
                _ => MediaType::OciManifest,
            },
        };
        if raw.schema_version != Some(2) {
            return Err(ManifestError::SchemaVersion);
        }
        // Docker formats always carry their mediaType in the body.
        if matches!(
            media_type,
            MediaType::DockerManifest | MediaType::DockerManifestList
        ) && body_type.is_none()
        {
            return Err(ManifestError::Missing("mediaType"));
        }
        let (config, layers, manifests) = if media_type.is_index() {
            (
                None,
                Vec::new(),
                raw.manifests.ok_or(ManifestError::Missing("manifests"))?,
            )
        } else {
            let config = raw.config.ok_or(ManifestError::Missing("config"))?;
            (
                Some(config),
                raw.layers.ok_or(ManifestError::Missing("layers"))?,
                Vec::new(),
            )
        };
        Ok(Manifest {
            media_type,
            config,
            layers,
            manifests,
            subject: raw.subject,
            artifact_type: raw.artifact_type,
            annotations: raw.annotations,
        })
    }

    /// Blobs this manifest needs in the repository: the config and every layer the registry holds.
    pub fn blob_refs(&self) -> impl Iterator<Item = &Descriptor> {
        self.config
            .iter()
            .chain(self.layers.iter().filter(|l| !l.is_foreign()))
    }

    /// Child manifests an index lists.
    pub fn child_refs(&self) -> impl Iterator<Item = &Descriptor> {
        self.manifests.iter()
    }

    /// The artifact type the referrers API reports: `artifactType`, else the config's media type
    /// for image manifests.
    pub fn effective_artifact_type(&self) -> Option<&str> {
        self.artifact_type
            .as_deref()
            .or_else(|| self.config.as_ref().map(|c| c.media_type.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media;

    fn d(n: char) -> String {
        format!("sha256:{}", n.to_string().repeat(64))
    }

    fn image(media_type: Option<&str>) -> String {
        let mt = media_type
            .map(|m| format!(r#""mediaType":"{m}","#))
            .unwrap_or_default();
        format!(
            r#"{{"schemaVersion":2,{mt}"config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":2}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{}","size":10}}]}}"#,
            d('a'),
            d('b')
        )
    }

    #[test]
    fn oci_image_manifest() {
        let body = image(Some(media::OCI_MANIFEST));
        let m = Manifest::parse(body.as_bytes(), Some(media::OCI_MANIFEST)).unwrap();
        assert_eq!(m.media_type, MediaType::OciManifest);
        let refs: Vec<String> = m.blob_refs().map(|r| r.digest.to_string()).collect();
        assert_eq!(refs, vec![d('a'), d('b')]);
        assert_eq!(
            m.effective_artifact_type(),
            Some("application/vnd.oci.image.config.v1+json")
        );
        // Without mediaType in the body, the header decides; without either, OCI is assumed.
        assert_eq!(
            Manifest::parse(image(None).as_bytes(), None)
                .unwrap()
                .media_type,
            MediaType::OciManifest
        );
    }

    #[test]
    fn docker_manifest_and_list() {
        let body = image(Some(media::DOCKER_MANIFEST));
        let m = Manifest::parse(body.as_bytes(), Some(media::DOCKER_MANIFEST)).unwrap();
        assert_eq!(m.media_type, MediaType::DockerManifest);
        // A Docker manifest must say what it is in its body.
        assert_eq!(
            Manifest::parse(image(None).as_bytes(), Some(media::DOCKER_MANIFEST)),
            Err(ManifestError::Missing("mediaType"))
        );
        let list = format!(
            r#"{{"schemaVersion":2,"mediaType":"{}","manifests":[{{"mediaType":"{}","digest":"{}","size":7,"platform":{{"architecture":"amd64","os":"linux"}}}}]}}"#,
            media::DOCKER_MANIFEST_LIST,
            media::DOCKER_MANIFEST,
            d('c')
        );
        let m = Manifest::parse(list.as_bytes(), Some(media::DOCKER_MANIFEST_LIST)).unwrap();
        assert_eq!(m.media_type, MediaType::DockerManifestList);
        assert_eq!(m.child_refs().count(), 1);
        assert_eq!(m.blob_refs().count(), 0);
    }

    #[test]
    fn oci_index_with_subject_and_artifact() {
        let body = format!(
            r#"{{"schemaVersion":2,"mediaType":"{}","artifactType":"application/x.sig","manifests":[],"subject":{{"mediaType":"{}","digest":"{}","size":9}},"annotations":{{"k":"v"}}}}"#,
            media::OCI_INDEX,
            media::OCI_MANIFEST,
            d('e')
        );
        let m = Manifest::parse(body.as_bytes(), None).unwrap();
        assert_eq!(m.media_type, MediaType::OciIndex);
        assert_eq!(m.subject.unwrap().digest.to_string(), d('e'));
        assert_eq!(m.artifact_type.as_deref(), Some("application/x.sig"));
    }

    #[test]
    fn artifact_with_empty_config() {
        let body = format!(
            r#"{{"schemaVersion":2,"mediaType":"{}","artifactType":"application/vnd.example+type","config":{{"mediaType":"{}","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2,"data":"e30="}},"layers":[]}}"#,
            media::OCI_MANIFEST,
            media::OCI_EMPTY
        );
        let m = Manifest::parse(body.as_bytes(), Some(media::OCI_MANIFEST)).unwrap();
        assert_eq!(
            m.effective_artifact_type(),
            Some("application/vnd.example+type")
        );
        assert_eq!(m.blob_refs().count(), 1);
    }

    #[test]
    fn rejects_bad_manifests() {
        let cases: Vec<(String, Option<&str>)> = vec![
            ("not json".into(), None),
            (r#"{"schemaVersion":1}"#.into(), None),
            (
                image(Some(media::OCI_MANIFEST)),
                Some(media::DOCKER_MANIFEST),
            ),
            (image(Some("application/x-unknown")), None),
            (
                r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}"#
                    .into(),
                None,
            ),
            (
                r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json"}"#
                    .into(),
                None,
            ),
            (
                image(None),
                Some("application/vnd.docker.distribution.manifest.v1+prettyjws"),
            ),
            (image(None).replace("sha256:aaaa", "sha256:AAAA"), None),
        ];
        for (body, ct) in cases {
            assert!(
                Manifest::parse(body.as_bytes(), ct).is_err(),
                "{body} with {ct:?} should fail"
            );
        }
        let huge = vec![b' '; MAX_MANIFEST_BYTES + 1];
        assert_eq!(Manifest::parse(&huge, None), Err(ManifestError::TooLarge));
    }

    #[test]
    fn foreign_layers_need_no_blob() {
        let body = format!(
            r#"{{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"x","digest":"{}","size":1}},"layers":[{{"mediaType":"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip","digest":"{}","size":1,"urls":["https://example.com/l"]}}]}}"#,
            media::DOCKER_MANIFEST,
            d('a'),
            d('f')
        );
        let m = Manifest::parse(body.as_bytes(), None).unwrap();
        assert_eq!(m.blob_refs().count(), 1);
    }
}
