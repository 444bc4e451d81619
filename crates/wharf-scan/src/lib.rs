//! Image scanning without network or async code: the package inventory of an image read from
//! its layers (`layers`, with the OS catalogers in `os/` and the language ones in `lang/`),
//! vulnerability matching against OSV advisories (`osv`, `version/`, `severity`, `matching`),
//! and SBOM documents (`sbom/`).
//!
//! The caller (wharf-core) streams layer blobs in; nothing here touches the blob or metadata
//! stores.

pub mod catalog;
pub mod lang;
pub mod layers;
pub mod limits;
pub mod matching;
pub mod os;
pub mod osv;
pub mod package;
pub mod sbom;
pub mod severity;
pub mod version;

pub use catalog::{CatalogError, Cataloger, FileInfo};
pub use layers::{Compression, InventoryBuilder, ScanError};
pub use limits::Limits;
pub use matching::Finding;
pub use osv::Advisory;
pub use package::{Inventory, OsRelease, Package, PackageKind};
pub use severity::Severity;
