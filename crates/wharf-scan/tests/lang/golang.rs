//! The Go binary cataloger: synthetic Go 1.18+ build-info records (one straddling the scanner's
//! chunk boundary), the main module's version from VCS stamps or `-ldflags`, non-binaries and the
//! old pointer-based format it skips, and a real binary from the installed toolchain.

use super::{nv, pairs, run, wants};
use wharf_scan::lang::golang::GoBinaryCataloger;
use wharf_scan::PackageKind;

fn uvarint(mut n: usize, out: &mut Vec<u8>) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// A Go 1.18+ build-info record: header, then inline version and sentinel-wrapped modinfo.
fn build_info_record(go_version: &str, modinfo: &str) -> Vec<u8> {
    let mut rec = b"\xff Go buildinf:".to_vec();
    rec.push(8); // pointer size
    rec.push(0x2); // inline strings, little endian
    rec.resize(32, 0);
    uvarint(go_version.len(), &mut rec);
    rec.extend_from_slice(go_version.as_bytes());
    let sentinel_start = b"0w\xaf\x0c\x92t\x08\x02A\xe1\xc1\x07\xe6\xd6\x18\xe6";
    let sentinel_end = b"\xf92C1\x86\x18 r\x00\x82B\x10A\x16\xd8\xf2";
    let mut wrapped = sentinel_start.to_vec();
    wrapped.extend_from_slice(modinfo.as_bytes());
    wrapped.extend_from_slice(sentinel_end);
    uvarint(wrapped.len(), &mut rec);
    rec.extend_from_slice(&wrapped);
    rec
}

/// An ELF-looking buffer of `size` bytes with `record` placed at `at`, and the magic quoted once
/// earlier the way `debug/buildinfo` keeps it in rodata.
fn binary_with(record: &[u8], at: usize, size: usize) -> Vec<u8> {
    let mut bytes = vec![0x90u8; size];
    bytes[..4].copy_from_slice(b"\x7fELF");
    bytes[4096..4096 + 14].copy_from_slice(b"\xff Go buildinf:");
    bytes[4096 + 14] = b'x';
    bytes[at..at + record.len()].copy_from_slice(record);
    bytes
}

const CHUNK: usize = 1 << 20;

#[test]
fn go_build_info_across_chunk_boundary() {
    let modinfo = "path\tgithub.com/acme/tool/cmd/tool\n\
        mod\tgithub.com/acme/tool\t(devel)\t\n\
        dep\tgithub.com/spf13/cobra\tv1.8.0\th1:abc=\n\
        dep\tgolang.org/x/sys\tv0.15.0\th1:def=\n\
        dep\tgithub.com/old/name\tv1.0.0\n\
        =>\tgithub.com/new/name\tv1.2.0\th1:ghi=\n\
        dep\tgithub.com/local/thing\tv0.0.0-00010101000000-000000000000\n\
        =>\t../thing\t\t\n\
        build\t-buildmode=exe\n\
        build\t-ldflags=\"-s -w\"\n\
        build\tGOARCH=amd64\n\
        build\tvcs=git\n\
        build\tvcs.revision=0123456789abcdef0123456789abcdef01234567\n\
        build\tvcs.time=2024-02-03T04:05:06Z\n";
    let record = build_info_record("go1.22.1 X:boringcrypto", modinfo);
    // The magic itself straddles the first chunk boundary; so does the rest of the record.
    let binary = binary_with(&record, CHUNK - 5, 3 * CHUNK);
    let packages = run(&GoBinaryCataloger, "/usr/local/bin/tool", 0o755, &binary);
    assert_eq!(
        nv(&packages),
        pairs(&[
            ("github.com/spf13/cobra", "v1.8.0"),
            ("golang.org/x/sys", "v0.15.0"),
            ("github.com/new/name", "v1.2.0"),
            // Replaced by a local directory: the original path, no version.
            ("github.com/local/thing", "UNKNOWN"),
            ("github.com/acme/tool", "v0.0.0-20240203040506-0123456789ab"),
            ("stdlib", "go1.22.1"),
        ])
    );
    assert!(packages.iter().all(|p| p.kind == PackageKind::GoModule));
    assert!(packages.iter().all(|p| p.location == "/usr/local/bin/tool"));

    // Record entirely inside a later chunk, main version from -ldflags.
    let modinfo = "path\texample.com/app\nmod\texample.com/app\t(devel)\t\n\
        build\t-ldflags=\"-X main.version=2.3.4 -X main.commit=abc\"\n";
    let binary = binary_with(
        &build_info_record("go1.21.6", modinfo),
        2 * CHUNK + 100,
        3 * CHUNK,
    );
    assert_eq!(
        nv(&run(&GoBinaryCataloger, "/app", 0o755, &binary)),
        pairs(&[("example.com/app", "v2.3.4"), ("stdlib", "go1.21.6")])
    );

    // `go build file.go`: only a path, no mod line, no VCS info: the version is unknown.
    let binary = binary_with(
        &build_info_record("go1.23.0", "path\tcommand-line-arguments\n"),
        8192,
        CHUNK / 2,
    );
    assert_eq!(
        nv(&run(&GoBinaryCataloger, "/bin/x", 0o755, &binary)),
        pairs(&[
            ("command-line-arguments", "UNKNOWN"),
            ("stdlib", "go1.23.0")
        ])
    );

    // No mod line but one `(devel)` dependency: that is the main module, reported once. A
    // version set by -ldflags in a package of the main module counts; one set in another
    // module's package does not.
    let modinfo = "path\tcommand-line-arguments\n\
        dep\texample.com/real\t(devel)\t\n\
        dep\tgithub.com/other/lib\tv0.4.0\th1:x=\n\
        build\t-ldflags=\"-X github.com/other/lib.Version=9.9.9 -X example.com/real/internal/build.Version=1.5.0\"\n";
    let binary = binary_with(&build_info_record("go1.22.5", modinfo), 8192, CHUNK / 2);
    assert_eq!(
        nv(&run(&GoBinaryCataloger, "/bin/real", 0o755, &binary)),
        pairs(&[
            ("example.com/real", "v1.5.0"),
            ("github.com/other/lib", "v0.4.0"),
            ("stdlib", "go1.22.5")
        ])
    );
}

#[test]
fn go_main_version_helpers() {
    use wharf_scan::lang::golang::{pseudo_timestamp, version_from_ldflags};
    // Expected values are what Syft's Go patterns give (checked with Go's regexp), plus the `v`.
    let check = |ldflags: &str, main: &str, expected: Option<&str>| {
        assert_eq!(
            version_from_ldflags(ldflags, main).as_deref(),
            expected,
            "{ldflags}"
        );
    };
    check(
        "-X github.com/other/lib.Version=9.9.9 -X example.com/real/internal/build.Version=1.5.0",
        "example.com/real",
        Some("v1.5.0"),
    );
    check(
        "-X main.version=2.3.4 -X main.commit=abc",
        "example.com/app",
        Some("v2.3.4"),
    );
    check(
        "-s -w -X github.com/acme/tool/pkg/version.gitVersion=v1.2.3-rc.1 -X main.buildDate=2024",
        "github.com/acme/tool",
        Some("v1.2.3-rc.1"),
    );
    check("-X main.Tag=release/1.0.7", "x", Some("v1.0.7"));
    check("-s -w", "x", None);
    check("", "x", None);

    assert_eq!(pseudo_timestamp("2024-02-03T04:05:06Z"), "20240203040506");
    assert_eq!(
        pseudo_timestamp("2024-02-03T01:05:06.123-03:00"),
        "20240203040506"
    );
    assert_eq!(
        pseudo_timestamp("2024-03-01T00:30:00+01:00"),
        "20240229233000"
    );
    assert_eq!(pseudo_timestamp("yesterday"), "00010101000000");
}

#[test]
fn go_skips_non_binaries_and_old_formats() {
    // A script that happens to be executable: not an executable format, nothing read further.
    let mut script = b"#!/bin/sh\n".to_vec();
    script.extend(build_info_record("go1.22.0", "path\tx\nmod\tx\tv1.0.0\t\n"));
    script.resize(8192, b' ');
    assert_eq!(
        run(&GoBinaryCataloger, "/usr/bin/tool", 0o755, &script),
        vec![]
    );
    // The pointer-based format of Go 1.17 and older (flags without the inline bit).
    let mut old = build_info_record("go1.16", "path\tx\nmod\tx\tv1.0.0\t\n");
    old[15] = 0;
    let binary = binary_with(&old, 10_000, 20_000);
    assert_eq!(
        run(&GoBinaryCataloger, "/usr/bin/old", 0o755, &binary),
        vec![]
    );
    assert!(!wants(&GoBinaryCataloger, "/usr/bin/tool", 0o644, 1 << 20));
    assert!(!wants(
        &GoBinaryCataloger,
        "/usr/bin/script.sh",
        0o755,
        1 << 20
    ));
}

/// A real Go binary from the installed toolchain: stdlib at the toolchain's version and the main
/// module as written in go.mod.
#[test]
fn go_real_binary() {
    let go = ["/usr/local/go/bin/go", "go"]
        .into_iter()
        .find(|g| {
            std::process::Command::new(g)
                .arg("version")
                .output()
                .is_ok()
        })
        .expect("go is installed");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("go.mod"),
        "module example.com/wharftest\n\ngo 1.21\n",
    )
    .expect("go.mod");
    std::fs::write(
        dir.path().join("main.go"),
        "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hi\") }\n",
    )
    .expect("main.go");
    let gocache = dir.path().join("cache");
    let out = std::process::Command::new(go)
        .args(["build", "-buildvcs=false", "-o", "hello", "."])
        .current_dir(dir.path())
        .env("GOFLAGS", "-mod=mod")
        .env("GOCACHE", &gocache)
        .env("GOPATH", dir.path().join("gopath"))
        .env("GOTOOLCHAIN", "local")
        .env("CGO_ENABLED", "0")
        .output()
        .expect("go build runs");
    assert!(
        out.status.success(),
        "go build: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let version = std::process::Command::new(go)
        .args(["env", "GOVERSION"])
        .env("GOTOOLCHAIN", "local")
        .output()
        .expect("go env");
    let version = String::from_utf8_lossy(&version.stdout).trim().to_string();
    let binary = std::fs::read(dir.path().join("hello")).expect("binary");
    let packages = run(&GoBinaryCataloger, "/usr/local/bin/hello", 0o755, &binary);
    assert_eq!(
        nv(&packages),
        pairs(&[
            // Built without VCS stamping: Syft cannot tell the version.
            ("example.com/wharftest", "UNKNOWN"),
            ("stdlib", version.as_str())
        ])
    );
}
