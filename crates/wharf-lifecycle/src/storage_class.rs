//! `StorageClass`: the vocabulary the schema pass, the validated policy and evaluation share, kept
//! below all three so none of them reaches into another for it.

use serde::{Deserialize, Serialize};

/// Where an image's bytes live. Archived images cannot be pulled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StorageClass {
    Standard,
    Archive,
}
