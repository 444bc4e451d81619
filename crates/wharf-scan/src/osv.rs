//! OSV advisories: the subset of the OSV schema matching needs, parsed from JSON.
//! (Skeleton: to be filled in.)

use serde::{Deserialize, Serialize};

/// One OSV record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Advisory {
    pub id: String,
    /// RFC 3339 time of the record's last change.
    #[serde(default)]
    pub modified: String,
}

/// Why an OSV document could not be read.
#[derive(Debug, thiserror::Error)]
pub enum OsvError {
    #[error("not an OSV record: {0}")]
    Invalid(String),
}

impl Advisory {
    /// Parses one OSV JSON record.
    pub fn parse(json: &[u8]) -> Result<Advisory, OsvError> {
        serde_json::from_slice(json).map_err(|e| OsvError::Invalid(e.to_string()))
    }

    /// The (ecosystem, package name) pairs the record affects, exactly as the record spells
    /// them (`("Debian:12", "openssl")`, `("PyPI", "Django")`): the keys a store indexes it by.
    pub fn keys(&self) -> Vec<(String, String)> {
        Vec::new()
    }
}
