//! npm packages from `package.json` files.
//!
//! Like Syft's javascript-package-cataloger on images, every `package.json` with a `name` counts,
//! inside `node_modules` or not (an application's own manifest, a global install under
//! `/usr/lib/node_modules`). One without a version is kept with version `UNKNOWN`, as Syft's
//! compliance rules keep it; one without a name, or that is not JSON, or whose name or version is
//! not a string (Syft's decoder rejects the file), yields nothing.
//!
//! The manifest is decoded into a struct of the few fields used, never into a whole JSON tree:
//! serde skips every other field without keeping it, so a manifest of millions of array items
//! costs no memory beyond its bytes (which `Limits::max_manifest_bytes` bounds).

use super::{package, read_manifest};
use crate::catalog::{CatalogError, Cataloger, FileInfo};
use crate::limits::Limits;
use crate::package::{Package, PackageKind};
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::fmt;
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
        limits: &Limits,
    ) -> Result<Vec<Package>, CatalogError> {
        let Some(bytes) = read_manifest(file, reader, limits)? else {
            return Ok(Vec::new());
        };
        Ok(parse_package_json(&bytes, file.path).into_iter().collect())
    }
}

/// The fields of a `package.json` an inventory uses. A `name` or `version` that is present but
/// not a string (or null) fails the decoding, and with it the file, as Syft's decoder does.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Manifest {
    name: Option<String>,
    version: Option<String>,
    license: License,
    licenses: Licenses,
}

/// The package a `package.json` describes, if it names one.
pub fn parse_package_json(bytes: &[u8], location: &str) -> Option<Package> {
    // Only an object is a manifest; serde would also accept an array as a struct's fields in
    // order.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return None;
    }
    let manifest: Manifest = serde_json::from_slice(bytes).ok()?;
    let name = manifest.name.unwrap_or_default();
    if name.trim().is_empty() {
        return None;
    }
    // `license` as a string (SPDX expression) or a legacy `{ "type": … }` object wins over the
    // legacy `licenses` array of such objects (or of strings), as Syft reads them.
    let licenses = match manifest.license.0 {
        Some(license) => vec![license],
        None => manifest.licenses.0,
    };
    Some(package(
        PackageKind::Npm,
        &name,
        &manifest.version.unwrap_or_default(),
        licenses,
        location,
    ))
}

/// One license: a non-empty string, or the non-empty string `type` of an object. Any other
/// value (a number, an array, an object without a string `type`) is skipped and reads as none.
#[derive(Default)]
struct License(Option<String>);

/// The legacy `licenses` field: the licenses of an array's items; any other value reads as none.
#[derive(Default)]
struct Licenses(Vec<String>);

/// A string, or anything else skipped without being kept. `objects` says whether an object's
/// `type` is read (a license) or the object is skipped too (the `type` value itself).
struct LicenseVisitor {
    objects: bool,
}

/// The value of an object's `type` key: a string, or anything else skipped.
struct TypeValue(Option<String>);

impl<'de> Visitor<'de> for LicenseVisitor {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()).filter(|v| !v.is_empty()))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        // A repeated `type` keeps its last value, as a JSON object read into a map does.
        let mut kind = None;
        while let Some(key) = map.next_key::<String>()? {
            if self.objects && key == "type" {
                kind = map.next_value::<TypeValue>()?.0.filter(|t| !t.is_empty());
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(kind)
    }
}

impl<'de> Deserialize<'de> for TypeValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(LicenseVisitor { objects: false })
            .map(TypeValue)
    }
}

impl<'de> Deserialize<'de> for License {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(LicenseVisitor { objects: true })
            .map(License)
    }
}

impl<'de> Deserialize<'de> for Licenses {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ListVisitor;

        impl<'de> Visitor<'de> for ListVisitor {
            type Value = Vec<String>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut licenses = Vec::new();
                while let Some(License(license)) = seq.next_element()? {
                    licenses.extend(license);
                }
                Ok(licenses)
            }

            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Vec::new())
            }

            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Vec::new())
            }

            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Vec::new())
            }

            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Vec::new())
            }

            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Vec::new())
            }

            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Vec::new())
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Vec::new())
            }
        }

        deserializer.deserialize_any(ListVisitor).map(Licenses)
    }
}
