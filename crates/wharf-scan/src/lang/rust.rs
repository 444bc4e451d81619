//! Rust crates recorded by cargo-auditable: an ELF binary built with it carries a `.dep-v0`
//! section holding zlib-compressed JSON, `{"packages":[{"name","version","source","kind",…}]}`.
//!
//! The section table sits at the end of an ELF file and the stream cannot seek, so an ELF file is
//! spooled (in memory up to a threshold, then to a temporary file) up to the end of its section
//! table, and the section found there is read back. Files that are not ELF are dropped after
//! their first bytes. Like Syft, only runtime crates are reported (`"kind"` absent or `"runtime"`, not
//! `"build"`).

use super::{is_executable, looks_like_text, package};
use crate::catalog::{CatalogError, Cataloger, FileInfo};
use crate::limits::Limits;
use crate::package::{Package, PackageKind};
use flate2::read::ZlibDecoder;
use serde::Deserialize;
use std::io::{Read, Seek, SeekFrom};
use tempfile::SpooledTempFile;

/// Reads cargo-auditable dependency lists from binaries.
pub struct RustAuditCataloger;

/// The section cargo-auditable writes.
const SECTION: &[u8] = b".dep-v0";
/// Binaries up to this size are spooled in memory; larger ones go to a temporary file.
const IN_MEMORY: usize = 16 << 20;
/// Largest section table, section-name table and compressed dependency list read.
const MAX_TABLE: u64 = 8 << 20;
/// Largest inflated dependency list (cargo-auditable's own readers stop at 8 MiB).
const MAX_JSON: u64 = 32 << 20;
const MIN_SIZE: u64 = 1024;
const SHT_NOBITS: u32 = 8;

impl Cataloger for RustAuditCataloger {
    fn name(&self) -> &'static str {
        "rust-audit"
    }

    fn wants(&self, file: &FileInfo<'_>) -> bool {
        is_executable(file.mode) && file.size >= MIN_SIZE && !looks_like_text(file.path)
    }

    fn catalog(
        &self,
        file: &FileInfo<'_>,
        reader: &mut dyn Read,
        _limits: &Limits,
    ) -> Result<Vec<Package>, CatalogError> {
        let io = |source| CatalogError::Io {
            path: file.path.to_string(),
            source,
        };
        let Some(compressed) = dep_section(reader).map_err(io)? else {
            return Ok(Vec::new());
        };
        let mut json = Vec::new();
        if ZlibDecoder::new(compressed.as_slice())
            .take(MAX_JSON + 1)
            .read_to_end(&mut json)
            .is_err()
        {
            // A damaged section is read like any unreadable lenient format: no packages.
            return Ok(Vec::new());
        }
        if json.len() as u64 > MAX_JSON {
            return Err(CatalogError::TooLarge {
                path: file.path.to_string(),
                reason: format!("the .dep-v0 dependency list inflates past {MAX_JSON} bytes"),
            });
        }
        Ok(packages_from_json(&json, file.path))
    }
}

#[derive(Deserialize)]
struct DepInfo {
    #[serde(default)]
    packages: Vec<DepPackage>,
}

#[derive(Deserialize)]
struct DepPackage {
    #[serde(default)]
    name: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    kind: Option<String>,
}

/// The runtime crates of a cargo-auditable JSON document (unreadable JSON yields none).
pub fn packages_from_json(json: &[u8], location: &str) -> Vec<Package> {
    let Ok(info) = serde_json::from_slice::<DepInfo>(json) else {
        return Vec::new();
    };
    info.packages
        .iter()
        .filter(|p| matches!(p.kind.as_deref(), None | Some("runtime")))
        .filter(|p| !p.name.is_empty())
        .map(|p| package(PackageKind::Rust, &p.name, &p.version, Vec::new(), location))
        .collect()
}

/// ELF layout facts read from the file header.
struct Elf {
    is64: bool,
    little: bool,
}

impl Elf {
    fn uint(&self, bytes: &[u8], at: usize, width: usize) -> Option<u64> {
        let raw = bytes.get(at..at + width)?;
        let mut value: u64 = 0;
        if self.little {
            for &b in raw.iter().rev() {
                value = value << 8 | u64::from(b);
            }
        } else {
            for &b in raw {
                value = value << 8 | u64::from(b);
            }
        }
        Some(value)
    }

    fn word(&self, bytes: &[u8], at: usize) -> Option<u64> {
        self.uint(bytes, at, if self.is64 { 8 } else { 4 })
    }
}

/// Finds and returns the raw (compressed) `.dep-v0` section of an ELF stream, if it has one.
pub fn dep_section(reader: &mut dyn Read) -> std::io::Result<Option<Vec<u8>>> {
    let mut header = [0u8; 64];
    let got = read_up_to(reader, &mut header)?;
    let header = header.get(..got).unwrap_or_default();
    if !header.starts_with(b"\x7fELF") {
        return Ok(None);
    }
    let elf = match (header.get(4), header.get(5)) {
        (Some(1), Some(1)) => Elf {
            is64: false,
            little: true,
        },
        (Some(1), Some(2)) => Elf {
            is64: false,
            little: false,
        },
        (Some(2), Some(1)) => Elf {
            is64: true,
            little: true,
        },
        (Some(2), Some(2)) => Elf {
            is64: true,
            little: false,
        },
        _ => return Ok(None),
    };
    let fields = if elf.is64 {
        (
            elf.uint(header, 0x28, 8),
            elf.uint(header, 0x3A, 2),
            elf.uint(header, 0x3C, 2),
            elf.uint(header, 0x3E, 2),
        )
    } else {
        (
            elf.uint(header, 0x20, 4),
            elf.uint(header, 0x2E, 2),
            elf.uint(header, 0x30, 2),
            elf.uint(header, 0x32, 2),
        )
    };
    let (Some(shoff), Some(shentsize), Some(shnum), Some(shstrndx)) = fields else {
        return Ok(None);
    };
    let min_entsize = if elf.is64 { 64 } else { 40 };
    if shoff == 0 || shnum == 0 || shentsize < min_entsize || shnum * shentsize > MAX_TABLE {
        return Ok(None);
    }
    let table_end = shoff.saturating_add(shnum * shentsize);

    // Spool the stream up to the end of the section table, then read sections back from it.
    let mut spool = SpooledTempFile::new(IN_MEMORY);
    std::io::Write::write_all(&mut spool, header)?;
    let copied = std::io::copy(
        &mut reader.take(table_end.saturating_sub(got as u64)),
        &mut spool,
    )?;
    if (got as u64) + copied < table_end {
        return Ok(None);
    }
    let Ok(table_len) = usize::try_from(shnum * shentsize) else {
        return Ok(None);
    };
    let table = read_at(&mut spool, shoff, table_len)?;
    let section = |index: u64| -> Option<(u32, u32, u64, u64)> {
        let base = usize::try_from(index * shentsize).ok()?;
        let name = elf.uint(&table, base, 4)? as u32;
        let kind = elf.uint(&table, base + 4, 4)? as u32;
        let (offset_at, size_at) = if elf.is64 { (24, 32) } else { (16, 20) };
        Some((
            name,
            kind,
            elf.word(&table, base + offset_at)?,
            elf.word(&table, base + size_at)?,
        ))
    };
    let Some((_, _, names_offset, names_size)) = section(shstrndx) else {
        return Ok(None);
    };
    if names_size > MAX_TABLE || names_offset.saturating_add(names_size) > table_end {
        return Ok(None);
    }
    let names = read_at(&mut spool, names_offset, names_size as usize)?;
    for index in 0..shnum {
        let Some((name, kind, offset, size)) = section(index) else {
            continue;
        };
        let name_bytes = names.get(name as usize..).unwrap_or_default();
        let name_bytes = name_bytes.split(|&b| b == 0).next().unwrap_or_default();
        if name_bytes != SECTION || kind == SHT_NOBITS {
            continue;
        }
        if size > MAX_TABLE || offset.saturating_add(size) > table_end {
            return Ok(None);
        }
        return Ok(Some(read_at(&mut spool, offset, size as usize)?));
    }
    Ok(None)
}

fn read_up_to(reader: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        let Some(rest) = buf.get_mut(filled..) else {
            break;
        };
        match reader.read(rest) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

fn read_at(spool: &mut SpooledTempFile, offset: u64, len: usize) -> std::io::Result<Vec<u8>> {
    spool.seek(SeekFrom::Start(offset))?;
    let mut bytes = vec![0u8; len];
    spool.read_exact(&mut bytes)?;
    Ok(bytes)
}
