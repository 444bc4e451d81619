//! Python distributions installed in site-packages or dist-packages: `*.dist-info/METADATA`
//! (wheels) and `*.egg-info/PKG-INFO` or a bare `*.egg-info` file (eggs, `setup.py install`).
//!
//! Both are RFC 822-style header blocks (core metadata). Only the header block is read: the body
//! after the first blank line is the long description, which often quotes headers of its own
//! ("Version: …" in a changelog) that must not be mistaken for the distribution's.
//!
//! Names are normalized the way Syft v1.57 reports them (PEP 503: runs of `-`, `_`, `.` become
//! one `-`, lower case), so `Flask_SQLAlchemy` is reported as `flask-sqlalchemy`; a distribution
//! named `Python` (the interpreter's own egg-info) is skipped, and one without a version is kept with
//! version `UNKNOWN`, as Syft keeps it.

use super::package;
use crate::catalog::{CatalogError, Cataloger, FileInfo};
use crate::limits::Limits;
use crate::package::{Package, PackageKind};
use std::io::{BufRead, BufReader, Read};

/// Reads installed Python distributions' core metadata.
pub struct PythonCataloger;

/// The longest header block read; real ones are a few KiB, this bounds a file without a body
/// separator.
const MAX_HEADER_BYTES: u64 = 1 << 20;

impl Cataloger for PythonCataloger {
    fn name(&self) -> &'static str {
        "python"
    }

    fn wants(&self, file: &FileInfo<'_>) -> bool {
        // Syft's globs are `**/*dist-info/METADATA`, `**/*egg-info/PKG-INFO` (and their upper-case
        // spellings) plus `**/*.egg-info` as a file.
        let p = file.path;
        p.ends_with("dist-info/METADATA")
            || p.ends_with("DIST-INFO/METADATA")
            || p.ends_with("egg-info/PKG-INFO")
            || p.ends_with("EGG-INFO/PKG-INFO")
            || p.ends_with(".egg-info")
    }

    fn catalog(
        &self,
        file: &FileInfo<'_>,
        reader: &mut dyn Read,
        limits: &Limits,
    ) -> Result<Vec<Package>, CatalogError> {
        // Only the header block is read, so a long description does not make a file too large;
        // the header block itself is bounded by the manifest limit.
        let cap = MAX_HEADER_BYTES.min(limits.max_manifest_bytes);
        let headers = match read_headers_within(reader, cap) {
            Some(headers) => headers,
            None => return Ok(Vec::new()),
        };
        let Some(meta) = Metadata::from_headers(&headers) else {
            return Ok(Vec::new());
        };
        Ok(vec![package(
            PackageKind::Python,
            &meta.name,
            &meta.version,
            meta.licenses,
            file.path,
        )])
    }
}

/// The fields of core metadata an inventory needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    pub name: String,
    pub version: String,
    pub licenses: Vec<String>,
}

impl Metadata {
    /// Picks name, version and license out of parsed headers; `None` without a name or version.
    pub fn from_headers(headers: &[(String, String)]) -> Option<Metadata> {
        // A repeated header keeps its last value, as Syft's parser overwrites singular fields.
        let get = |key: &str| {
            headers
                .iter()
                .rev()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v.trim())
                .filter(|v| !v.is_empty())
        };
        let name = get("Name")?;
        if name == "Python" {
            return None;
        }
        let version = get("Version").unwrap_or_default();
        // `License-Expression` (PEP 639) is an SPDX expression and wins over the free-text
        // `License`, which is often "UNKNOWN" or a whole license text.
        let license = get("License-Expression").or_else(|| {
            get("License").filter(|l| !l.eq_ignore_ascii_case("UNKNOWN") && !l.contains('\n'))
        });
        Some(Metadata {
            name: normalize_name(name),
            version: version.to_string(),
            licenses: license.map(|l| vec![l.to_string()]).unwrap_or_default(),
        })
    }
}

/// A distribution name normalized as PEP 503 (and Syft) does: `Foo_Bar.baz` → `foo-bar-baz`.
pub fn normalize_name(name: &str) -> String {
    normalized_chars(name).collect()
}

/// `normalize_name` as an iterator, for comparing names without allocating: lower case, and
/// every run of `-`, `_` and `.` as one `-`.
pub fn normalized_chars(name: &str) -> impl Iterator<Item = char> + '_ {
    let mut in_separator = false;
    name.chars().flat_map(move |c| {
        let separator = matches!(c, '-' | '_' | '.');
        let dash = (separator && !in_separator).then_some('-');
        in_separator = separator;
        let lower = (!separator).then(|| c.to_lowercase());
        dash.into_iter().chain(lower.into_iter().flatten())
    })
}

/// Parses the header block of a core-metadata file, stopping at the first blank line after a
/// header (blank lines before any header are skipped). Lines starting with a space continue the
/// previous header. `None` when the bytes cannot be read at all.
pub fn read_headers(reader: &mut dyn Read) -> Option<Vec<(String, String)>> {
    read_headers_within(reader, MAX_HEADER_BYTES)
}

/// `read_headers`, reading at most `cap` bytes.
fn read_headers_within(reader: &mut dyn Read, cap: u64) -> Option<Vec<(String, String)>> {
    let mut lines = BufReader::new(reader.take(cap));
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut raw = Vec::new();
    loop {
        raw.clear();
        match lines.read_until(b'\n', &mut raw) {
            Ok(0) => break,
            Ok(_) => {}
            Err(_) => return None,
        }
        let line = String::from_utf8_lossy(&raw);
        let line = line.trim_end_matches(['\n', '\r']);
        if line.is_empty() {
            if headers.is_empty() {
                continue;
            }
            break;
        }
        if line.starts_with(' ') {
            if let Some((_, value)) = headers.last_mut() {
                value.push('\n');
                value.push_str(line.trim());
            }
            continue;
        }
        if let Some((key, value)) = line.split_once(':').filter(|(k, _)| !k.is_empty()) {
            headers.push((key.trim().to_string(), value.trim().to_string()));
        }
    }
    Some(headers)
}
