//! npm packages from `package.json` files.
//!
//! Like Syft's javascript-package-cataloger on images, every `package.json` with a `name` counts,
//! inside `node_modules` or not (an application's own manifest, a global install under
//! `/usr/lib/node_modules`). One without a version is kept with version `UNKNOWN`, as Syft's
//! compliance rules keep it; one without a name, or that is not JSON, or whose name or version is
//! not a string (Syft's decoder rejects the file), yields nothing.

use super::{package, read_all};
use crate::catalog::{CatalogError, Cataloger, FileInfo};
use crate::layers::Limits;
use crate::package::{Package, PackageKind};
use serde_json::Value;
use std::io::Read;

/// Reads npm `package.json` manifests.
pub struct NpmCataloger;

impl Cataloger for NpmCataloger {
    fn name(&self) -> &'static str {
        "npm"
    }

    fn wants(&self, file: &FileInfo<'_>) -> bool {
        file.path.ends_with("/package.json")
    }

    fn catalog(
        &self,
        file: &FileInfo<'_>,
        reader: &mut dyn Read,
        _limits: &Limits,
    ) -> Result<Vec<Package>, CatalogError> {
        let bytes = read_all(file.path, reader)?;
        Ok(parse_package_json(&bytes, file.path).into_iter().collect())
    }
}

/// The package a `package.json` describes, if it names one.
pub fn parse_package_json(bytes: &[u8], location: &str) -> Option<Package> {
    let json: Value = serde_json::from_slice(bytes).ok()?;
    let string = |key: &str| match json.get(key) {
        None | Some(Value::Null) => Some(""),
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => None,
    };
    let name = string("name")?;
    let version = string("version")?;
    if name.trim().is_empty() {
        return None;
    }
    Some(package(
        PackageKind::Npm,
        name,
        version,
        licenses(&json),
        location,
    ))
}

/// `license` as a string (SPDX expression) or a legacy `{ "type": … }` object, else the legacy
/// `licenses` array of such objects (or of strings), as Syft reads them.
fn licenses(json: &Value) -> Vec<String> {
    let one = |value: &Value| -> Option<String> {
        match value {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Object(map) => map
                .get("type")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
                .map(str::to_string),
            _ => None,
        }
    };
    if let Some(license) = json.get("license").and_then(one) {
        return vec![license];
    }
    match json.get("licenses") {
        Some(Value::Array(items)) => items.iter().filter_map(one).collect(),
        _ => Vec::new(),
    }
}
