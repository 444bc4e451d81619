//! The Rust cataloger: a hand-built ELF carrying a cargo-auditable `.dep-v0` section (build
//! dependencies left out), one without the section and one whose section is damaged.

use super::{nv, pairs, run};
use std::io::Write;
use wharf_scan::lang::rust::RustAuditCataloger;
use wharf_scan::PackageKind;

/// A minimal little-endian ELF64 with sections: null, `.dep-v0`, `.shstrtab`.
fn elf_with_dep_section(payload: &[u8], padding: usize) -> Vec<u8> {
    let names = b"\0.dep-v0\0.shstrtab\0";
    let mut bytes = vec![0u8; 64];
    bytes[..4].copy_from_slice(b"\x7fELF");
    bytes[4] = 2; // 64-bit
    bytes[5] = 1; // little endian
    bytes[6] = 1;
    bytes.resize(64 + padding, 0xcc);
    let dep_offset = bytes.len() as u64;
    bytes.extend_from_slice(payload);
    let names_offset = bytes.len() as u64;
    bytes.extend_from_slice(names);
    while !bytes.len().is_multiple_of(8) {
        bytes.push(0);
    }
    let shoff = bytes.len() as u64;
    let section = |name: u32, kind: u32, offset: u64, size: u64| {
        let mut sh = vec![0u8; 64];
        sh[0..4].copy_from_slice(&name.to_le_bytes());
        sh[4..8].copy_from_slice(&kind.to_le_bytes());
        sh[24..32].copy_from_slice(&offset.to_le_bytes());
        sh[32..40].copy_from_slice(&size.to_le_bytes());
        sh
    };
    bytes.extend(section(0, 0, 0, 0));
    bytes.extend(section(1, 1, dep_offset, payload.len() as u64));
    bytes.extend(section(9, 3, names_offset, names.len() as u64));
    bytes[0x28..0x30].copy_from_slice(&shoff.to_le_bytes());
    bytes[0x3A..0x3C].copy_from_slice(&64u16.to_le_bytes());
    bytes[0x3C..0x3E].copy_from_slice(&3u16.to_le_bytes());
    bytes[0x3E..0x40].copy_from_slice(&2u16.to_le_bytes());
    bytes
}

fn zlib(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).expect("compress");
    enc.finish().expect("finish")
}

#[test]
fn rust_cargo_auditable_section() {
    let json = br#"{"packages":[
        {"name":"myapp","version":"0.3.1","source":"local","dependencies":[1,2],"root":true},
        {"name":"serde","version":"1.0.195","source":"crates.io"},
        {"name":"libc","version":"0.2.152","source":"crates.io","kind":"runtime"},
        {"name":"cc","version":"1.0.83","source":"crates.io","kind":"build"}
    ]}"#;
    let elf = elf_with_dep_section(&zlib(json), 300_000);
    let packages = run(&RustAuditCataloger, "/usr/local/bin/myapp", 0o755, &elf);
    assert_eq!(
        nv(&packages),
        pairs(&[
            ("myapp", "0.3.1"),
            ("serde", "1.0.195"),
            ("libc", "0.2.152")
        ])
    );
    assert!(packages.iter().all(|p| p.kind == PackageKind::Rust));

    // An ELF without the section, and a damaged section: no packages, no error.
    let mut plain = elf_with_dep_section(b"", 5000);
    let at = plain
        .windows(7)
        .position(|w| w == b".dep-v0")
        .expect("name");
    plain[at..at + 7].copy_from_slice(b".text\0\0");
    assert_eq!(
        run(&RustAuditCataloger, "/usr/bin/plain", 0o755, &plain),
        vec![]
    );
    let damaged = elf_with_dep_section(b"not zlib at all", 5000);
    assert_eq!(
        run(&RustAuditCataloger, "/usr/bin/damaged", 0o755, &damaged),
        vec![]
    );
}
