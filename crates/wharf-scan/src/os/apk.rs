//! The apk cataloger: Alpine's installed database, `/lib/apk/db/installed`, whose stanzas are
//! `X:value` lines (one letter per field) separated by blank lines.

use super::{malformed, push_within_budget, read_text};
use crate::catalog::{CatalogError, Cataloger, FileInfo};
use crate::limits::Limits;
use crate::package::{Package, PackageKind};
use std::io::Read;

const INSTALLED: &str = "/lib/apk/db/installed";

/// Reads the apk installed database.
#[derive(Debug, Default, Clone, Copy)]
pub struct ApkCataloger;

/// The fields of one stanza this cataloger uses.
#[derive(Default)]
struct Fields<'a> {
    line: usize,
    name: Option<&'a str>,
    version: Option<&'a str>,
    arch: Option<&'a str>,
    origin: Option<&'a str>,
    license: Option<&'a str>,
}

impl Cataloger for ApkCataloger {
    fn name(&self) -> &'static str {
        "apk"
    }

    fn wants(&self, file: &FileInfo<'_>) -> bool {
        file.path == INSTALLED
    }

    fn catalog(
        &self,
        file: &FileInfo<'_>,
        reader: &mut dyn Read,
        limits: &Limits,
    ) -> Result<Vec<Package>, CatalogError> {
        let text = read_text(file, reader, limits)?;
        let mut packages = Vec::new();
        let mut current: Option<Fields<'_>> = None;
        for (number, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l)) {
            if line.trim().is_empty() {
                if let Some(fields) = current.take() {
                    push_within_budget(file, &mut packages, package(file, fields)?, limits)?;
                }
                continue;
            }
            let mut chars = line.chars();
            let (Some(key), Some(':')) = (chars.next(), chars.next()) else {
                return Err(malformed(
                    file,
                    format!("line {number}: expected 'X:value'"),
                ));
            };
            let value = chars.as_str().trim();
            let fields = current.get_or_insert_with(|| Fields {
                line: number,
                ..Fields::default()
            });
            let slot = match key {
                'P' => &mut fields.name,
                'V' => &mut fields.version,
                'A' => &mut fields.arch,
                'o' => &mut fields.origin,
                'L' => &mut fields.license,
                _ => continue,
            };
            *slot = Some(value).filter(|v| !v.is_empty());
        }
        if let Some(fields) = current {
            push_within_budget(file, &mut packages, package(file, fields)?, limits)?;
        }
        Ok(packages)
    }
}

fn package(file: &FileInfo<'_>, fields: Fields<'_>) -> Result<Package, CatalogError> {
    let (Some(name), Some(version)) = (fields.name, fields.version) else {
        return Err(malformed(
            file,
            format!(
                "stanza at line {} lacks a package name (P:) or version (V:)",
                fields.line
            ),
        ));
    };
    Ok(Package {
        kind: PackageKind::Apk,
        name: name.to_string(),
        version: version.to_string(),
        source_name: fields.origin.map(str::to_string),
        source_version: None,
        arch: fields.arch.map(str::to_string),
        licenses: fields.license.map(str::to_string).into_iter().collect(),
        location: file.path.to_string(),
    })
}
