//! Shared test helpers: layer tars built in memory (including the hostile entries a well-behaved
//! tar writer refuses to produce), compressed as a registry would serve them, and a scan driver.
#![allow(dead_code)]

use std::io::Write;
use wharf_scan::{
    Compression, Inventory, InventoryBuilder, Limits, Package, PackageKind, ScanError,
};

/// One tar entry. Names and link targets are written into the header verbatim.
pub enum E<'a> {
    File(&'a str, &'a [u8]),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
    Hardlink(&'a str, &'a str),
    Char(&'a str),
    Fifo(&'a str),
    /// A GNU long-name record of this many bytes, followed by a file.
    LongName(usize),
}

fn header(kind: tar::EntryType, name: &str, link: &str, size: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(kind);
    header.set_mode(if kind.is_dir() { 0o755 } else { 0o644 });
    header.set_size(size);
    header.set_mtime(0);
    let old = header.as_old_mut();
    old.name = [0; 100];
    old.name[..name.len()].copy_from_slice(name.as_bytes());
    old.linkname = [0; 100];
    old.linkname[..link.len()].copy_from_slice(link.as_bytes());
    header.set_cksum();
    header
}

/// An uncompressed layer tar.
pub fn tar(entries: &[E<'_>]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for entry in entries {
        let (header, data): (tar::Header, &[u8]) = match entry {
            E::File(name, data) => (
                header(tar::EntryType::Regular, name, "", data.len() as u64),
                data,
            ),
            E::Dir(name) => (header(tar::EntryType::Directory, name, "", 0), b""),
            E::Symlink(name, target) => (header(tar::EntryType::Symlink, name, target, 0), b""),
            E::Hardlink(name, target) => (header(tar::EntryType::Link, name, target, 0), b""),
            E::Char(name) => (header(tar::EntryType::Char, name, "", 0), b""),
            E::Fifo(name) => (header(tar::EntryType::Fifo, name, "", 0), b""),
            E::LongName(size) => {
                let long = vec![b'a'; *size];
                let header = header(
                    tar::EntryType::GNULongName,
                    "././@LongLink",
                    "",
                    *size as u64,
                );
                builder.append(&header, long.as_slice()).unwrap();
                (header_file("x"), b"")
            }
        };
        builder.append(&header, data).unwrap();
    }
    builder.into_inner().unwrap()
}

fn header_file(name: &str) -> tar::Header {
    header(tar::EntryType::Regular, name, "", 0)
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

pub fn zstd(bytes: &[u8]) -> Vec<u8> {
    zstd::encode_all(bytes, 1).unwrap()
}

/// A layer compressed as `compression` says.
pub fn layer(compression: Compression, entries: &[E<'_>]) -> (Compression, Vec<u8>) {
    let tar = tar(entries);
    let bytes = match compression {
        Compression::None => tar,
        Compression::Gzip => gzip(&tar),
        Compression::Zstd => zstd(&tar),
    };
    (compression, bytes)
}

/// A plain layer.
pub fn plain(entries: &[E<'_>]) -> (Compression, Vec<u8>) {
    layer(Compression::None, entries)
}

pub fn scan_with(
    limits: Limits,
    layers: &[(Compression, Vec<u8>)],
) -> Result<Inventory, ScanError> {
    let mut builder = InventoryBuilder::new(limits);
    for (compression, bytes) in layers {
        builder.add_layer(*compression, &mut bytes.as_slice())?;
    }
    Ok(builder.finish())
}

pub fn scan(layers: &[(Compression, Vec<u8>)]) -> Result<Inventory, ScanError> {
    scan_with(Limits::default(), layers)
}

/// The reason of a failed scan, with its variant and layer, as `Variant(layer): reason`.
pub fn failure(result: Result<Inventory, ScanError>) -> String {
    match result {
        Ok(inventory) => panic!("the scan succeeded: {inventory:?}"),
        Err(ScanError::BadLayer { layer, reason }) => format!("BadLayer({layer}): {reason}"),
        Err(ScanError::Limit { layer, reason }) => format!("Limit({layer}): {reason}"),
        Err(ScanError::Unsafe { layer, reason }) => format!("Unsafe({layer}): {reason}"),
        Err(ScanError::Catalog { layer, source }) => format!("Catalog({layer}): {source}"),
        Err(ScanError::Scratch { layer, source }) => format!("Scratch({layer}): {source}"),
    }
}

/// A package with the fields every kind has.
pub fn pkg(kind: PackageKind, name: &str, version: &str, location: &str) -> Package {
    Package {
        kind,
        name: name.into(),
        version: version.into(),
        source_name: None,
        source_version: None,
        arch: None,
        licenses: Vec::new(),
        location: location.into(),
    }
}

pub const STATUS: &str = "/var/lib/dpkg/status";

/// A minimal installed dpkg stanza.
pub fn stanza(name: &str, version: &str) -> String {
    format!("Package: {name}\nStatus: install ok installed\nVersion: {version}\n\n")
}

pub fn deb(name: &str, version: &str) -> Package {
    pkg(PackageKind::Deb, name, version, STATUS)
}
