//! The language catalogers against fixtures built in the tests: core-metadata files, package.json
//! variants, gemspecs, a synthetic Go build-info record straddling the scanner's chunk boundary
//! (and a real `go build` output), jars built with the `zip` crate (nested, and zip bombs), and a
//! hand-built ELF carrying a cargo-auditable `.dep-v0` section.

use std::io::{Read, Write};
use wharf_scan::lang::golang::GoBinaryCataloger;
use wharf_scan::lang::java::JavaCataloger;
use wharf_scan::lang::npm::NpmCataloger;
use wharf_scan::lang::python::PythonCataloger;
use wharf_scan::lang::ruby::GemCataloger;
use wharf_scan::lang::rust::RustAuditCataloger;
use wharf_scan::{CatalogError, Cataloger, FileInfo, Limits, Package, PackageKind};

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

// ---------------------------------------------------------------- python

#[test]
fn python_metadata_headers_only() {
    let metadata = "Metadata-Version: 2.1\r\nName: Flask_SQLAlchemy\r\nVersion: 3.1.1\r\n\
        License: BSD-3-Clause\r\nClassifier: Framework :: Flask\r\n\r\n\
        # Changelog\r\nVersion: 9.9.9\r\nName: not-this\r\n";
    let packages = run(
        &PythonCataloger,
        "/usr/lib/python3.11/site-packages/Flask_SQLAlchemy-3.1.1.dist-info/METADATA",
        0o644,
        metadata.as_bytes(),
    );
    assert_eq!(
        summary(&packages),
        // Reported under its normalized name, as Syft v1.57 reports it.
        vec![(
            "flask-sqlalchemy".into(),
            "3.1.1".into(),
            vec!["BSD-3-Clause".into()]
        )]
    );
    assert_eq!(packages[0].kind, PackageKind::Python);
    assert_eq!(
        packages[0].location,
        "/usr/lib/python3.11/site-packages/Flask_SQLAlchemy-3.1.1.dist-info/METADATA"
    );
}

#[test]
fn python_variants() {
    let check = |path: &str, text: &str, expected: Vec<(String, String, Vec<String>)>| {
        assert_eq!(
            summary(&run(&PythonCataloger, path, 0o644, text.as_bytes())),
            expected,
            "{path}"
        );
    };
    // PKG-INFO in an egg-info directory; License-Expression wins over License; continuation
    // lines belong to the header above them.
    check(
        "/usr/lib/python3/dist-packages/six-1.16.0.egg-info/PKG-INFO",
        "Metadata-Version: 1.2\nName: six\nVersion: 1.16.0\nLicense: MIT License\n  spanning lines\nLicense-Expression: MIT\n\nVersion: 2\n",
        vec![("six".into(), "1.16.0".into(), vec!["MIT".into()])],
    );
    // An egg-info file (distutils writes PKG-INFO under this name); UNKNOWN license dropped.
    check(
        "/usr/lib/python3/dist-packages/python_apt-2.4.0.egg-info",
        "Metadata-Version: 1.1\nName: python-apt\nVersion: 2.4.0\nLicense: UNKNOWN\n",
        vec![("python-apt".into(), "2.4.0".into(), vec![])],
    );
    // Blank lines before the headers are skipped; a repeated header keeps its last value.
    check(
        "/opt/venv/lib/python3.12/site-packages/zope.interface-6.1.dist-info/METADATA",
        "\n\nName: zope.interface\nVersion: 6.0\nVersion: 6.1\n",
        vec![("zope-interface".into(), "6.1".into(), vec![])],
    );
    // No version: kept with Syft's stub version. The interpreter's own egg-info: skipped.
    check(
        "/opt/venv/lib/python3.12/site-packages/x-1.dist-info/METADATA",
        "Metadata-Version: 2.1\nName: x\n\nVersion: 1\n",
        vec![("x".into(), "UNKNOWN".into(), vec![])],
    );
    check(
        "/usr/lib/python2.7/lib-dynload/Python-2.7.egg-info",
        "Metadata-Version: 1.0\nName: Python\nVersion: 2.7.18\n",
        vec![],
    );
    // Unreadable: nothing.
    check(
        "/opt/venv/lib/python3.12/site-packages/y-1.dist-info/METADATA",
        "\u{0}\u{1}binary",
        vec![],
    );
    assert!(!wants(
        &PythonCataloger,
        "/usr/lib/python3/x.dist-info/RECORD",
        0o644,
        10
    ));
    assert!(!wants(
        &PythonCataloger,
        "/usr/share/doc/METADATA",
        0o644,
        10
    ));
}

// ---------------------------------------------------------------- npm

#[test]
fn npm_package_json_variants() {
    let check = |text: &str, expected: Vec<(String, String, Vec<String>)>| {
        let packages = run(
            &NpmCataloger,
            "/app/node_modules/@types/node/package.json",
            0o644,
            text.as_bytes(),
        );
        assert_eq!(summary(&packages), expected, "{text}");
        assert!(packages.iter().all(|p| p.kind == PackageKind::Npm));
    };
    check(
        r#"{"name":"@types/node","version":"20.11.5","license":"MIT"}"#,
        vec![("@types/node".into(), "20.11.5".into(), vec!["MIT".into()])],
    );
    check(
        r#"{"name":"old","version":"0.1.0","license":{"type":"BSD","url":"x"}}"#,
        vec![("old".into(), "0.1.0".into(), vec!["BSD".into()])],
    );
    check(
        r#"{"name":"older","version":"0.0.1","licenses":[{"type":"MIT"},{"type":"Apache-2.0"}]}"#,
        vec![(
            "older".into(),
            "0.0.1".into(),
            vec!["MIT".into(), "Apache-2.0".into()],
        )],
    );
    check(
        r#"{"name":"app","private":true}"#,
        vec![("app".into(), "UNKNOWN".into(), vec![])],
    );
    check(r#"{"version":"1.0.0"}"#, vec![]);
    check(r#"{"name":"n","version":1}"#, vec![]);
    check("not json", vec![]);
    // Outside node_modules too, as Syft reads every package.json.
    assert!(wants(&NpmCataloger, "/srv/app/package.json", 0o644, 10));
    assert!(!wants(
        &NpmCataloger,
        "/srv/app/package-lock.json",
        0o644,
        10
    ));
}

// ---------------------------------------------------------------- ruby

#[test]
fn gemspec_variants() {
    let check = |path: &str, text: &str, expected: Vec<(String, String, Vec<String>)>| {
        let packages = run(&GemCataloger, path, 0o644, text.as_bytes());
        assert_eq!(summary(&packages), expected, "{path}");
        assert!(packages.iter().all(|p| p.kind == PackageKind::Gem));
    };
    check(
        "/usr/local/bundle/specifications/rack-3.0.8.gemspec",
        r#"# -*- encoding: utf-8 -*-
# stub: rack 3.0.8 ruby lib

Gem::Specification.new do |s|
  s.name = "rack".freeze
  s.version = "3.0.8"

  s.required_rubygems_version = Gem::Requirement.new(">= 0".freeze) if s.respond_to? :required_rubygems_version=
  s.authors = ["Leah Neukirchen".freeze]
  s.licenses = ["MIT".freeze, "Ruby".freeze]
  s.rubygems_version = "3.4.10".freeze
end
"#,
        vec![(
            "rack".into(),
            "3.0.8".into(),
            vec!["MIT".into(), "Ruby".into()],
        )],
    );
    check(
        "/usr/lib/ruby/gems/3.1.0/specifications/default/json-2.6.1.gemspec",
        "Gem::Specification.new do |s|\n  s.name = 'json'\n  s.version = Gem::Version.new(\"2.6.1\")\n  s.license = \"Ruby\"\nend\n",
        vec![("json".into(), "2.6.1".into(), vec!["Ruby".into()])],
    );
    check(
        "/usr/local/bundle/specifications/broken.gemspec",
        "Gem::Specification.new do |s|\n  s.name = \"broken\"\nend\n",
        vec![("broken".into(), "UNKNOWN".into(), vec![])],
    );
    assert!(!wants(&GemCataloger, "/src/app/mygem.gemspec", 0o644, 10));
}

// ---------------------------------------------------------------- go

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

// ---------------------------------------------------------------- java

fn zip_bytes(entries: &[(&str, &[u8])], method: zip::CompressionMethod) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(method)
        .large_file(false);
    for (name, bytes) in entries {
        writer.start_file(*name, options).expect("start entry");
        writer.write_all(bytes).expect("write entry");
    }
    writer.finish().expect("finish zip").into_inner()
}

fn pom(group: &str, artifact: &str, version: &str) -> Vec<u8> {
    format!("#Generated by Maven\ngroupId={group}\nartifactId={artifact}\nversion={version}\n")
        .into_bytes()
}

#[test]
fn java_jar_with_nested_archives() {
    let deflate = zip::CompressionMethod::Deflated;
    // A library jar inside the application: its own manifest and pom.properties.
    let inner = zip_bytes(
        &[
            (
                "META-INF/MANIFEST.MF",
                b"Manifest-Version: 1.0\r\nImplementation-Title: jackson-databind\r\n\r\n",
            ),
            (
                "META-INF/maven/com.fasterxml.jackson.core/jackson-databind/pom.properties",
                &pom("com.fasterxml.jackson.core", "jackson-databind", "2.15.2"),
            ),
            (
                "com/fasterxml/jackson/databind/ObjectMapper.class",
                b"\xca\xfe\xba\xbe",
            ),
        ],
        deflate,
    );
    // A manifest-only jar: name and version from the file name, group from the manifest.
    let manifest_only = zip_bytes(
        &[(
            "META-INF/MANIFEST.MF",
            b"Manifest-Version: 1.0\nImplementation-Title: Some Lib\nImplementation-Version: 9.9\n\
              Implementation-Vendor: Example Corp\nBundle-SymbolicName: org.example.somelib;singleton:=true\n",
        )],
        deflate,
    );
    // A jar nested two levels down (a war inside the app).
    let war = zip_bytes(
        &[
            ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
            ("WEB-INF/lib/commons-io-2.11.0.jar", &zip_bytes(
                &[
                    ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\nBundle-SymbolicName: org.apache.commons.commons-io\n"),
                    ("META-INF/maven/commons-io/commons-io/pom.properties", &pom("commons-io", "commons-io", "2.11.0")),
                ],
                deflate,
            )),
        ],
        deflate,
    );
    let outer = zip_bytes(
        &[
            (
                "META-INF/MANIFEST.MF",
                b"Manifest-Version: 1.0\nMain-Class: org.springframework.boot.loader.JarLauncher\nBundle-License: Apache-2.0\n",
            ),
            (
                "META-INF/maven/com.acme/shop/pom.properties",
                &pom("com.acme", "shop", "1.4.0"),
            ),
            ("META-INF/maven/com.acme/shop/pom.xml", b"<project/>"),
            // A shaded dependency: its pom.properties is a package of its own.
            (
                "META-INF/maven/org.yaml/snakeyaml/pom.properties",
                &pom("org.yaml", "snakeyaml", "2.0"),
            ),
            // Incomplete pom.properties are ignored.
            ("META-INF/maven/x/y/pom.properties", b"groupId=x\nartifactId=y\n"),
            ("BOOT-INF/lib/jackson-databind-2.15.2.jar", &inner),
            ("BOOT-INF/lib/some-lib-1.0.0.jar", &manifest_only),
            ("BOOT-INF/lib/not-a-zip.jar", b"plain text"),
            ("apps/admin.war", &war),
        ],
        zip::CompressionMethod::Stored,
    );
    let path = "/app/shop-1.4.0.jar";
    let packages = run(&JavaCataloger, path, 0o644, &outer);
    assert_eq!(
        nv(&packages),
        pairs(&[
            ("com.acme:shop", "1.4.0"),
            ("org.yaml:snakeyaml", "2.0"),
            ("com.fasterxml.jackson.core:jackson-databind", "2.15.2"),
            // Group from the manifest as Syft derives it, name and version from the file name.
            ("org.example.somelib:some-lib", "1.0.0"),
            ("admin", "UNKNOWN"),
            ("commons-io:commons-io", "2.11.0"),
        ])
    );
    assert!(packages.iter().all(|p| p.kind == PackageKind::Java));
    let location = |name: &str| {
        packages
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.location.clone())
            .unwrap_or_default()
    };
    assert_eq!(location("com.acme:shop"), path);
    assert_eq!(
        location("commons-io:commons-io"),
        "/app/shop-1.4.0.jar:apps/admin.war:WEB-INF/lib/commons-io-2.11.0.jar"
    );
    let shop = packages
        .iter()
        .find(|p| p.name == "com.acme:shop")
        .expect("shop");
    assert_eq!(shop.licenses, vec!["Apache-2.0".to_string()]);
}

#[test]
fn java_names_from_file_names() {
    use wharf_scan::lang::java::ArchiveFilename;
    let check = |file: &str, name: &str, version: &str| {
        assert_eq!(
            ArchiveFilename::parse(file),
            ArchiveFilename {
                name: name.into(),
                version: version.into()
            },
            "{file}"
        );
    };
    check("commons-lang3-3.12.0.jar", "commons-lang3", "3.12.0");
    check("my-http2-server-5.jar", "my-http2-server", "5");
    check(
        "spring-core-6.1.2-SNAPSHOT.jar",
        "spring-core",
        "6.1.2-SNAPSHOT",
    );
    check("jetpack-build235-rc5.jar", "jetpack", "build235-rc5");
    // Go's regexp gives this split (checked with Go itself), whatever Syft's comment claims.
    check("ironman-r4-2009.jar", "ironman-r4", "2009");
    check("guava.jar", "guava", "");
    check("foo_1.2.3.jar", "foo", "1.2.3");
}

#[test]
fn java_zip_bombs_are_refused() {
    // One entry declaring 64 MiB of zeros deflated to ~64 KiB: a 1000:1 ratio no jar has.
    let zeros = vec![0u8; 64 << 20];
    let bomb = zip_bytes(
        &[
            ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
            ("lib/bomb.jar", &zeros),
        ],
        zip::CompressionMethod::Deflated,
    );
    let err = run_with(
        &JavaCataloger,
        "/app/bomb-1.0.jar",
        0o644,
        &bomb,
        &Limits::default(),
    )
    .expect_err("a zip bomb is refused");
    match err {
        CatalogError::TooLarge { path, reason } => {
            assert_eq!(path, "/app/bomb-1.0.jar");
            assert!(
                reason.contains("lib/bomb.jar") && reason.contains("zip bomb"),
                "{reason}"
            );
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }

    // Nested archives that together would inflate past the byte budget (2 × max_file_bytes).
    // Each nested jar stores 1.2 MB of decimal text, which the outer jar deflates about 4:1.
    let filler: Vec<u8> = (0..200_000u32)
        .flat_map(|i| format!("{i}\n").into_bytes())
        .collect();
    assert!(filler.len() > 1_200_000);
    let inner = zip_bytes(&[("data.txt", &filler)], zip::CompressionMethod::Stored);
    let outer = zip_bytes(
        &[
            ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
            ("lib/a.jar", &inner),
            ("lib/b.jar", &inner),
        ],
        zip::CompressionMethod::Deflated,
    );
    assert!(outer.len() < 1 << 20, "the outer jar fits the file limit");
    let limits = Limits {
        max_file_bytes: 1 << 20,
        ..Limits::default()
    };
    let err = run_with(&JavaCataloger, "/app/fat.jar", 0o644, &outer, &limits)
        .expect_err("budget exceeded");
    assert!(
        matches!(&err, CatalogError::TooLarge { reason, .. } if reason.contains("lib/b.jar") && reason.contains("budget")),
        "{err:?}"
    );
    // The same archive within a larger budget is fine.
    let packages = run(&JavaCataloger, "/app/fat.jar", 0o644, &outer);
    assert_eq!(nv(&packages), pairs(&[("fat", "UNKNOWN")]));
}

#[test]
fn java_directory_declaring_too_many_entries_is_refused() {
    // Only the end records: a zip64 end record declaring a million entries, its locator, and a
    // classic end record saturated to point at them. The zip reader is never handed this.
    let mut bytes = Vec::new();
    let zip64_at = bytes.len() as u64;
    bytes.extend_from_slice(b"PK\x06\x06");
    bytes.extend_from_slice(&44u64.to_le_bytes()); // size of the rest of the record
    bytes.extend_from_slice(&[45, 0, 45, 0]); // versions
    bytes.extend_from_slice(&[0; 8]); // disk numbers
    bytes.extend_from_slice(&1_000_000u64.to_le_bytes()); // entries on this disk
    bytes.extend_from_slice(&1_000_000u64.to_le_bytes()); // entries in total
    bytes.extend_from_slice(&46_000_000u64.to_le_bytes()); // directory size
    bytes.extend_from_slice(&0u64.to_le_bytes()); // directory offset
    bytes.extend_from_slice(b"PK\x06\x07");
    bytes.extend_from_slice(&0u32.to_le_bytes());
    bytes.extend_from_slice(&zip64_at.to_le_bytes());
    bytes.extend_from_slice(&1u32.to_le_bytes());
    bytes.extend_from_slice(b"PK\x05\x06");
    bytes.extend_from_slice(&[0; 4]);
    bytes.extend_from_slice(&[0xff; 4]); // entry counts saturated
    bytes.extend_from_slice(&[0xff; 8]); // directory size and offset saturated
    bytes.extend_from_slice(&[0; 2]);
    let err = run_with(
        &JavaCataloger,
        "/app/many.jar",
        0o644,
        &bytes,
        &Limits::default(),
    )
    .expect_err("too many entries");
    assert!(
        matches!(&err, CatalogError::TooLarge { path, reason } if path == "/app/many.jar" && reason.contains("1000000 entries")),
        "{err:?}"
    );
}

// ---------------------------------------------------------------- rust

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

// ---------------------------------------------------------------- registry

#[test]
fn catalogers_are_registered() {
    let names: Vec<&str> = wharf_scan::lang::catalogers()
        .iter()
        .map(|c| c.name())
        .collect();
    assert_eq!(
        names,
        vec!["python", "npm", "gem", "java", "go-binary", "rust-audit"]
    );
}
