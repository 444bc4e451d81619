//! The language catalogers against fixtures built in the tests: core-metadata files, package.json
//! variants, gemspecs, a synthetic Go build-info record straddling the scanner's chunk boundary
//! (and a real `go build` output), jars built with the `zip` crate (nested, and zip bombs), and a
//! hand-built ELF carrying a cargo-auditable `.dep-v0` section. This file holds the helpers they
//! share; each ecosystem's cases are in their own file under `lang/`.

use std::io::Read;
use wharf_scan::{CatalogError, Cataloger, FileInfo, Limits, Package};

/// A reader that hands out at most `step` bytes per call, as a tar stream may.
struct Trickle<'a> {
    bytes: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.bytes.len());
        buf[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        Ok(n)
    }
}

fn run_with(
    cataloger: &dyn Cataloger,
    path: &str,
    mode: u32,
    bytes: &[u8],
    limits: &Limits,
) -> Result<Vec<Package>, CatalogError> {
    let file = FileInfo {
        path,
        mode,
        size: bytes.len() as u64,
    };
    assert!(
        cataloger.wants(&file),
        "{} should want {path}",
        cataloger.name()
    );
    let mut reader = Trickle { bytes, step: 7919 };
    let mut packages = cataloger.catalog(&file, &mut reader, limits)?;
    packages.sort();
    Ok(packages)
}

fn run(cataloger: &dyn Cataloger, path: &str, mode: u32, bytes: &[u8]) -> Vec<Package> {
    run_with(cataloger, path, mode, bytes, &Limits::default()).expect("catalog succeeds")
}

/// (name, version, licenses) of each package, sorted.
fn summary(packages: &[Package]) -> Vec<(String, String, Vec<String>)> {
    let mut out: Vec<_> = packages
        .iter()
        .map(|p| (p.name.clone(), p.version.clone(), p.licenses.clone()))
        .collect();
    out.sort();
    out
}

fn nv(packages: &[Package]) -> Vec<(String, String)> {
    let mut out: Vec<_> = packages
        .iter()
        .map(|p| (p.name.clone(), p.version.clone()))
        .collect();
    out.sort();
    out
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out: Vec<_> = items
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    out.sort();
    out
}

fn wants(cataloger: &dyn Cataloger, path: &str, mode: u32, size: u64) -> bool {
    cataloger.wants(&FileInfo { path, mode, size })
}

#[path = "lang/python.rs"]
mod python;

#[path = "lang/npm.rs"]
mod npm;

#[path = "lang/ruby.rs"]
mod ruby;

#[path = "lang/golang.rs"]
mod golang;

#[path = "lang/java.rs"]
mod java;

#[path = "lang/rust.rs"]
mod rust;

#[path = "lang/registry.rs"]
mod registry;
