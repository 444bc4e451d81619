//! The OS catalogers through the walker: dpkg `status` and `status.d`, apk `installed`, the
//! sqlite rpmdb (built here with headers this file encodes), and malformed databases failing the
//! scan with their reasons.

mod common;

use common::*;
use wharf_scan::os::DpkgCataloger;
use wharf_scan::{CatalogError, Cataloger, Compression, FileInfo, Limits, Package, PackageKind};

const APK: &str = "/lib/apk/db/installed";

const DPKG_STATUS: &str = "\
Package: libc6
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 12986
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
Architecture: amd64
Multi-Arch: same
Source: glibc
Version: 2.36-9+deb12u4
Depends: libgcc-s1
Description: GNU C Library: Shared libraries
 Contains the standard libraries that are used by nearly all programs on
 the system.
 .
 This package includes shared versions of the standard C library.

Package: zlib1g
Status: install ok installed
Architecture: amd64
Source: zlib (1:1.2.13.dfsg-1)
Version: 1:1.2.13.dfsg-1+b1
Description: compression library - runtime

Package: oldconf
Status: deinstall ok config-files
Architecture: all
Version: 0.9-1
Conffiles:
 /etc/oldconf.conf 0123456789abcdef0123456789abcdef

Package: purged
Status: purge ok not-installed
Architecture: all

Package: tzdata
Status: hold ok installed
Architecture: all
Version: 2024a-0+deb12u1
";

fn dpkg(name: &str, version: &str, arch: &str, location: &str) -> Package {
    Package {
        arch: Some(arch.into()),
        ..pkg(PackageKind::Deb, name, version, location)
    }
}

#[test]
fn dpkg_status_lists_installed_packages() {
    let inventory = scan(&[layer(
        Compression::Gzip,
        &[E::File("var/lib/dpkg/status", DPKG_STATUS.as_bytes())],
    )])
    .unwrap();
    assert_eq!(
        inventory.packages,
        vec![
            Package {
                source_name: Some("glibc".into()),
                ..dpkg("libc6", "2.36-9+deb12u4", "amd64", STATUS)
            },
            dpkg("tzdata", "2024a-0+deb12u1", "all", STATUS),
            Package {
                source_name: Some("zlib".into()),
                source_version: Some("1:1.2.13.dfsg-1".into()),
                ..dpkg("zlib1g", "1:1.2.13.dfsg-1+b1", "amd64", STATUS)
            },
        ]
    );
}

#[test]
fn distroless_status_d_is_read_without_status_fields() {
    let base = "Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\n\n\
                Package: netbase\nVersion: 6.4\nArchitecture: all\n";
    let libssl = "Package: libssl3\nSource: openssl\nVersion: 3.0.11-1~deb12u2\n\
                  Architecture: arm64\n";
    let inventory = scan(&[layer(
        Compression::Zstd,
        &[
            E::Dir("var/lib/dpkg/status.d/"),
            E::File("var/lib/dpkg/status.d/base", base.as_bytes()),
            E::File("var/lib/dpkg/status.d/libssl3", libssl.as_bytes()),
            // Not a stanza file: binary checksums the cataloger must not be offered.
            E::File("var/lib/dpkg/status.d/libssl3.md5sums", b"\x00\xff\xfe"),
        ],
    )])
    .unwrap();
    let base_path = "/var/lib/dpkg/status.d/base";
    assert_eq!(
        inventory.packages,
        vec![
            dpkg("base-files", "12.4+deb12u5", "amd64", base_path),
            Package {
                source_name: Some("openssl".into()),
                ..dpkg(
                    "libssl3",
                    "3.0.11-1~deb12u2",
                    "arm64",
                    "/var/lib/dpkg/status.d/libssl3"
                )
            },
            dpkg("netbase", "6.4", "all", base_path),
        ]
    );
}

#[test]
fn malformed_dpkg_databases_fail_the_scan() {
    let check = |path: &str, content: &[u8], expected: &str| {
        assert_eq!(failure(scan(&[plain(&[E::File(path, content)])])), expected);
    };
    check(
        STATUS,
        b"Package: a\nStatus: install ok installed\n\nPackage: b\nStatus: install ok installed\n",
        "Catalog(0): /var/lib/dpkg/status: package a (line 1) has no Version field",
    );
    check(
        STATUS,
        b"Status: install ok installed\nVersion: 1\n",
        "Catalog(0): /var/lib/dpkg/status: stanza at line 1 has no Package field",
    );
    check(
        STATUS,
        b"\x7fELF\x02\x01\x01\x00\x00\x00",
        "Catalog(0): /var/lib/dpkg/status: binary data (NUL bytes) in a text database",
    );
    check(
        STATUS,
        b"Package: a\xff\xfe\n",
        "Catalog(0): /var/lib/dpkg/status: not UTF-8 text (invalid byte at offset 10)",
    );
    check(
        "var/lib/dpkg/status.d/x",
        b"Package: a\nVersion: 1\nthis is not a field\n",
        "Catalog(0): /var/lib/dpkg/status.d/x: line 3: expected 'Field: value'",
    );
    // A status.d stanza is installed by definition, so it needs a version.
    check(
        "var/lib/dpkg/status.d/x",
        b"Package: a\n",
        "Catalog(0): /var/lib/dpkg/status.d/x: package a (line 1) has no Version field",
    );
}

const APK_INSTALLED: &str = "\
C:Q1jU3FKEvk47VUgbkPu1MvQpLX+bg=
P:musl
V:1.2.4_git20230717-r4
A:x86_64
S:407186
I:663552
T:the musl c library (libc) implementation
U:https://musl.libc.org/
L:MIT
o:musl
m:Natanael Copa <ncopa@alpinelinux.org>
t:1705334123
c:0e2c7f2ac5fbc8c8ab5fd08c1e0dcb6ea0f7b2cd
F:lib
R:ld-musl-x86_64.so.1
a:0:0:755
Z:Q1Y1TzIY5VLiBNl4bQ6ljFdmgSSJg=

C:Q1abc=
P:libcrypto3
V:3.1.4-r5
A:x86_64
L:Apache-2.0
o:openssl

C:Q1def=
P:alpine-baselayout-data
V:3.4.3-r2
A:x86_64
";

#[test]
fn apk_installed_lists_packages() {
    let db = "/lib/apk/db/installed";
    let apk = |name: &str, version: &str, origin: Option<&str>, license: Option<&str>| Package {
        source_name: origin.map(str::to_string),
        arch: Some("x86_64".into()),
        licenses: license.map(str::to_string).into_iter().collect(),
        ..pkg(PackageKind::Apk, name, version, db)
    };
    let inventory = scan(&[layer(
        Compression::Gzip,
        &[
            E::File(
                "etc/os-release",
                b"NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19.1\n",
            ),
            E::File("lib/apk/db/installed", APK_INSTALLED.as_bytes()),
        ],
    )])
    .unwrap();
    assert_eq!(inventory.os.map(|os| os.id), Some("alpine".into()));
    assert_eq!(
        inventory.packages,
        vec![
            apk("alpine-baselayout-data", "3.4.3-r2", None, None),
            apk(
                "libcrypto3",
                "3.1.4-r5",
                Some("openssl"),
                Some("Apache-2.0")
            ),
            apk("musl", "1.2.4_git20230717-r4", Some("musl"), Some("MIT")),
        ]
    );
}

#[test]
fn malformed_apk_databases_fail_the_scan() {
    let check = |content: &[u8], expected: &str| {
        let result = scan(&[plain(&[E::File("lib/apk/db/installed", content)])]);
        assert_eq!(failure(result), expected);
    };
    check(
        b"P:musl\nV:1\n\nP:nover\nA:x86_64\n",
        "Catalog(0): /lib/apk/db/installed: stanza at line 4 lacks a package name (P:) or \
         version (V:)",
    );
    check(
        b"P:musl\nthis line has no key\n",
        "Catalog(0): /lib/apk/db/installed: line 2: expected 'X:value'",
    );
    check(
        b"P:musl\x00\x01\x02",
        "Catalog(0): /lib/apk/db/installed: binary data (NUL bytes) in a text database",
    );
}

/// RPM header encoding, as rpm's `headerExport` writes it into `rpmdb.sqlite`.
mod rpm {
    pub const NAME: u32 = 1000;
    pub const VERSION: u32 = 1001;
    pub const RELEASE: u32 = 1002;
    pub const EPOCH: u32 = 1003;
    pub const LICENSE: u32 = 1014;
    pub const ARCH: u32 = 1022;
    pub const SOURCERPM: u32 = 1044;
    const INT32: u32 = 4;
    const STRING: u32 = 6;
    const BIN: u32 = 7;
    const I18NSTRING: u32 = 9;
    const HEADERIMMUTABLE: u32 = 63;

    pub enum Value<'a> {
        Str(&'a str),
        I18n(&'a str),
        Int(u32),
    }

    /// A header blob: index count, data length, index entries, data store. The first entry is
    /// an immutable-region marker, as real headers have.
    pub fn header(tags: &[(u32, Value<'_>)]) -> Vec<u8> {
        let mut index: Vec<[u32; 4]> = Vec::new();
        let mut store: Vec<u8> = Vec::new();
        index.push([HEADERIMMUTABLE, BIN, 0, 16]);
        store.extend([0u8; 16]);
        for (tag, value) in tags {
            match value {
                Value::Int(n) => {
                    while store.len() & 3 != 0 {
                        store.push(0);
                    }
                    index.push([*tag, INT32, store.len() as u32, 1]);
                    store.extend(n.to_be_bytes());
                }
                Value::Str(s) | Value::I18n(s) => {
                    let kind = if matches!(value, Value::Str(_)) {
                        STRING
                    } else {
                        I18NSTRING
                    };
                    index.push([*tag, kind, store.len() as u32, 1]);
                    store.extend(s.as_bytes());
                    store.push(0);
                }
            }
        }
        let mut blob = Vec::new();
        blob.extend((index.len() as u32).to_be_bytes());
        blob.extend((store.len() as u32).to_be_bytes());
        for entry in index {
            for word in entry {
                blob.extend(word.to_be_bytes());
            }
        }
        blob.extend(store);
        blob
    }

    /// An `rpmdb.sqlite` with rpm's schema holding these blobs, as file bytes.
    pub fn database(blobs: &[Vec<u8>], wal: bool) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rpmdb.sqlite");
        let conn = rusqlite::Connection::open(&path).unwrap();
        if wal {
            conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        }
        conn.execute_batch(
            "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL);
             CREATE TABLE Name (key TEXT NOT NULL, hnum INTEGER NOT NULL, idx INTEGER NOT NULL);",
        )
        .unwrap();
        for blob in blobs {
            conn.execute("INSERT INTO Packages (blob) VALUES (?1)", [blob])
                .unwrap();
        }
        drop(conn);
        std::fs::read(&path).unwrap()
    }
}

fn rpm_headers() -> Vec<Vec<u8>> {
    use rpm::Value::*;
    vec![
        rpm::header(&[
            (rpm::NAME, Str("bash")),
            (rpm::VERSION, Str("5.1.8")),
            (rpm::RELEASE, Str("6.el9")),
            (rpm::ARCH, Str("x86_64")),
            (rpm::LICENSE, Str("GPLv3+")),
            (rpm::SOURCERPM, Str("bash-5.1.8-6.el9.src.rpm")),
        ]),
        rpm::header(&[
            (rpm::NAME, Str("gpg-pubkey")),
            (rpm::VERSION, Str("fd431d51")),
            (rpm::RELEASE, Str("4ae0493b")),
        ]),
        rpm::header(&[
            (rpm::NAME, Str("openssl-libs")),
            (rpm::EPOCH, Int(1)),
            (rpm::VERSION, Str("3.0.7")),
            (rpm::RELEASE, Str("25.el9_3")),
            (rpm::ARCH, Str("x86_64")),
            (rpm::LICENSE, I18n("ASL 2.0")),
            (rpm::SOURCERPM, Str("openssl-3.0.7-25.el9_3.src.rpm")),
        ]),
        rpm::header(&[
            (rpm::NAME, Str("tzdata")),
            (rpm::EPOCH, Int(0)),
            (rpm::VERSION, Str("2024a")),
            (rpm::RELEASE, Str("1.el9")),
            (rpm::ARCH, Str("noarch")),
        ]),
    ]
}

fn expected_rpms(location: &str) -> Vec<Package> {
    let rpm = |name: &str, version: &str, arch: &str| Package {
        arch: Some(arch.into()),
        ..pkg(PackageKind::Rpm, name, version, location)
    };
    vec![
        Package {
            source_name: Some("bash".into()),
            licenses: vec!["GPLv3+".into()],
            ..rpm("bash", "5.1.8-6.el9", "x86_64")
        },
        Package {
            source_name: Some("openssl".into()),
            licenses: vec!["ASL 2.0".into()],
            ..rpm("openssl-libs", "1:3.0.7-25.el9_3", "x86_64")
        },
        rpm("tzdata", "0:2024a-1.el9", "noarch"),
    ]
}

#[test]
fn rpm_sqlite_database_lists_packages() {
    for (path, wal) in [
        ("/var/lib/rpm/rpmdb.sqlite", false),
        ("/usr/lib/sysimage/rpm/rpmdb.sqlite", true),
    ] {
        let db = rpm::database(&rpm_headers(), wal);
        assert_eq!(
            db[18],
            if wal { 2 } else { 1 },
            "journal mode of the fixture"
        );
        let inventory = scan(&[layer(Compression::Zstd, &[E::File(path, &db)])]).unwrap();
        assert_eq!(inventory.packages, expected_rpms(path), "{path}");
    }
}

#[test]
fn malformed_rpm_databases_fail_the_scan() {
    let path = "/var/lib/rpm/rpmdb.sqlite";
    let check = |content: &[u8], expected: &str| {
        assert_eq!(failure(scan(&[plain(&[E::File(path, content)])])), expected);
    };
    check(
        b"not a database at all",
        "Catalog(0): /var/lib/rpm/rpmdb.sqlite: not a SQLite database",
    );

    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other.sqlite");
    rusqlite::Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE Other (x INTEGER);")
        .unwrap();
    check(
        &std::fs::read(&other).unwrap(),
        "Catalog(0): /var/lib/rpm/rpmdb.sqlite: not an rpm database: no such table: Packages",
    );

    let mut truncated = rpm_headers().remove(0);
    truncated.truncate(truncated.len() - 3);
    check(
        &rpm::database(&[truncated], false),
        "Catalog(0): /var/lib/rpm/rpmdb.sqlite: package row 1: header is truncated: 189 bytes, \
         its index and data need 192",
    );

    use rpm::Value::*;
    let nameless = rpm::header(&[(rpm::VERSION, Str("1")), (rpm::RELEASE, Str("1"))]);
    check(
        &rpm::database(
            &rpm_headers()
                .into_iter()
                .chain([nameless])
                .collect::<Vec<_>>(),
            false,
        ),
        "Catalog(0): /var/lib/rpm/rpmdb.sqlite: package row 5: header has no NAME",
    );

    let bad_epoch = rpm::header(&[
        (rpm::NAME, Str("x")),
        (rpm::EPOCH, Str("1")),
        (rpm::VERSION, Str("1")),
        (rpm::RELEASE, Str("1")),
    ]);
    check(
        &rpm::database(&[bad_epoch], false),
        "Catalog(0): /var/lib/rpm/rpmdb.sqlite: package row 1: tag 1003 has type 6 and count 1, \
         not an int32",
    );

    // A sqlite file whose pages are garbage past the header.
    let mut corrupt = rpm::database(&rpm_headers(), false);
    let len = corrupt.len();
    for byte in &mut corrupt[100..len] {
        *byte = 0xa5;
    }
    let reason = failure(scan(&[plain(&[E::File(path, &corrupt)])]));
    assert_eq!(
        reason,
        "Catalog(0): /var/lib/rpm/rpmdb.sqlite: not an rpm database: database disk image is \
         malformed"
    );
}

/// Installed dpkg stanzas `p0`, `p1`, … as status text.
fn installed_stanzas(count: usize) -> String {
    (0..count)
        .map(|i| format!("Package: p{i}\nStatus: install ok installed\nVersion: 1\n\n"))
        .collect()
}

#[test]
fn databases_stop_at_the_package_budget() {
    let limits = Limits {
        max_packages: 2,
        ..Limits::default()
    };
    let over = "Limit(0): the image records more than 2 packages";
    // Exactly the budget passes; stanzas of packages not installed do not count.
    let two = installed_stanzas(2) + "Package: gone\nStatus: purge ok not-installed\n";
    let inventory =
        scan_with(limits.clone(), &[plain(&[E::File(STATUS, two.as_bytes())])]).unwrap();
    assert_eq!(inventory.packages.len(), 2);
    // One more fails. The line after the third stanza does not parse: the cataloger stops at
    // the budget before reading it, instead of parsing the whole database first.
    let dpkg = installed_stanzas(3) + "not a field\n";
    assert_eq!(
        failure(scan_with(
            limits.clone(),
            &[plain(&[E::File(STATUS, dpkg.as_bytes())])]
        )),
        over
    );
    let apk = "P:a\nV:1\n\nP:b\nV:1\n\nP:c\nV:1\n\nnot a field\n";
    assert_eq!(
        failure(scan_with(
            limits.clone(),
            &[plain(&[E::File(APK, apk.as_bytes())])]
        )),
        over
    );
    // The budget is what earlier files left: one apk package, then two dpkg ones.
    assert_eq!(
        failure(scan_with(
            limits,
            &[
                plain(&[E::File(APK, b"P:musl\nV:1\n")]),
                plain(&[E::File(STATUS, installed_stanzas(2).as_bytes())]),
            ]
        )),
        "Limit(1): the image records more than 2 packages"
    );
}

#[test]
fn rpm_rows_stop_at_the_package_budget() {
    let path = "/var/lib/rpm/rpmdb.sqlite";
    // Three packages and a signing key; a fifth row that is not a header follows them.
    let mut blobs = rpm_headers();
    blobs.push(vec![0u8; 3]);
    let db = rpm::database(&blobs, false);
    let with_budget = |max_packages: usize| {
        let limits = Limits {
            max_packages,
            ..Limits::default()
        };
        failure(scan_with(limits, &[plain(&[E::File(path, &db)])]))
    };
    assert_eq!(
        with_budget(2),
        "Limit(0): the image records more than 2 packages"
    );
    // With room for all three packages the broken row is reached and reported.
    assert_eq!(
        with_budget(3),
        "Catalog(0): /var/lib/rpm/rpmdb.sqlite: package row 5: header of 3 bytes is too short"
    );
}

#[test]
fn the_cataloger_reports_the_exhausted_budget() {
    let status = installed_stanzas(2);
    let file = FileInfo {
        path: STATUS,
        mode: 0o644,
        size: status.len() as u64,
    };
    let limits = Limits {
        remaining_packages: 1,
        ..Limits::default()
    };
    let err = DpkgCataloger
        .catalog(&file, &mut status.as_bytes(), &limits)
        .unwrap_err();
    assert!(
        matches!(&err, CatalogError::TooManyPackages { path } if path == STATUS),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "/var/lib/dpkg/status: more packages than the scan's remaining package budget"
    );
}

#[test]
fn text_databases_over_their_cap_fail_the_scan() {
    let limits = Limits {
        max_db_bytes: 100,
        ..Limits::default()
    };
    let status = installed_stanzas(3);
    assert_eq!(status.len(), 159);
    assert_eq!(
        failure(scan_with(
            limits.clone(),
            &[plain(&[E::File(STATUS, status.as_bytes())])]
        )),
        "Limit(0): /var/lib/dpkg/status: 159 bytes is over the 100-byte limit for package \
         databases"
    );
    let apk = "P:a\nV:1\n\n".repeat(12);
    assert_eq!(
        failure(scan_with(
            limits.clone(),
            &[plain(&[E::File(APK, apk.as_bytes())])]
        )),
        "Limit(0): /lib/apk/db/installed: 108 bytes is over the 100-byte limit for package \
         databases"
    );
    // At the cap it is read.
    let inventory = scan_with(
        limits,
        &[plain(&[E::File(APK, "P:a\nV:1\n\n".repeat(11).as_bytes())])],
    )
    .unwrap();
    assert_eq!(inventory.packages.len(), 1);
}
