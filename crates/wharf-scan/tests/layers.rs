//! The layer walker through its public API: compressions, whiteouts and replacements across
//! layers, os-release resolution, limits, and hostile layers failing with their reasons.

mod common;

use common::*;
use std::io::Read;
use wharf_scan::{
    CatalogError, Cataloger, Compression, FileInfo, InventoryBuilder, Limits, OsRelease, Package,
    PackageKind,
};

const DEBIAN_RELEASE: &str = "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n";

fn debian() -> OsRelease {
    OsRelease {
        id: "debian".into(),
        version_id: Some("12".into()),
        version_codename: Some("bookworm".into()),
        id_like: Vec::new(),
        pretty_name: None,
    }
}

fn status(stanzas: &[(&str, &str)]) -> Vec<u8> {
    stanzas
        .iter()
        .map(|(name, version)| stanza(name, version))
        .collect::<String>()
        .into_bytes()
}

#[test]
fn every_compression_gives_the_same_inventory() {
    let status = status(&[("zlib1g", "1:1.2.13.dfsg-1"), ("bash", "5.2.15-2+b2")]);
    for compression in [Compression::None, Compression::Gzip, Compression::Zstd] {
        let inventory = scan(&[layer(
            compression,
            &[
                E::Dir("./"),
                E::Dir("./etc/"),
                E::File("./etc/os-release", DEBIAN_RELEASE.as_bytes()),
                E::File("var/lib/dpkg/status", &status),
            ],
        )])
        .unwrap();
        assert_eq!(inventory.os, Some(debian()), "{compression:?}");
        assert_eq!(
            inventory.packages,
            vec![deb("bash", "5.2.15-2+b2"), deb("zlib1g", "1:1.2.13.dfsg-1")],
            "{compression:?}"
        );
    }
}

#[test]
fn concatenated_gzip_members_are_one_stream() {
    let tar = tar(&[E::File(STATUS, &status(&[("a", "1")]))]);
    let (head, tail) = tar.split_at(1024);
    let mut bytes = gzip(head);
    bytes.extend(gzip(tail));
    let inventory = scan(&[(Compression::Gzip, bytes)]).unwrap();
    assert_eq!(inventory.packages, vec![deb("a", "1")]);
}

#[test]
fn an_empty_image_has_no_os_and_no_packages() {
    let inventory = scan(&[plain(&[E::Dir("etc/")]), (Compression::None, Vec::new())]).unwrap();
    assert_eq!(inventory, wharf_scan::Inventory::default());
}

#[test]
fn a_whiteout_deletes_a_lower_file() {
    let inventory = scan(&[
        plain(&[E::File(STATUS, &status(&[("a", "1")]))]),
        plain(&[E::File("var/lib/dpkg/.wh.status", b"")]),
    ])
    .unwrap();
    assert_eq!(inventory.packages, Vec::<Package>::new());
}

#[test]
fn a_whiteout_deletes_a_lower_directory_tree() {
    let inventory = scan(&[
        plain(&[
            E::File(STATUS, &status(&[("a", "1")])),
            E::File("var/lib/dpkg/status.d/base", &status(&[("b", "2")])),
            E::File("lib/apk/db/installed", b"P:musl\nV:1.2.4-r2\n"),
        ]),
        plain(&[E::File("var/lib/.wh.dpkg", b"")]),
    ])
    .unwrap();
    assert_eq!(
        inventory.packages,
        vec![pkg(
            PackageKind::Apk,
            "musl",
            "1.2.4-r2",
            "/lib/apk/db/installed"
        )]
    );
}

#[test]
fn a_whiteout_spares_its_own_layer() {
    // A whiteout applies to lower layers only, wherever it sits in its own tar.
    let inventory = scan(&[
        plain(&[E::File(STATUS, &status(&[("old", "1")]))]),
        plain(&[
            E::File(STATUS, &status(&[("new", "2")])),
            E::File("var/lib/dpkg/.wh.status", b""),
        ]),
    ])
    .unwrap();
    assert_eq!(inventory.packages, vec![deb("new", "2")]);
}

#[test]
fn an_opaque_directory_hides_lower_contents_only() {
    let db = "/lib/apk/db/installed";
    let inventory = scan(&[
        plain(&[
            E::File(db, b"P:musl\nV:1.2.4-r2\n"),
            E::File("/var/lib/dpkg/status.d/base", &status(&[("keep", "1")])),
        ]),
        plain(&[
            // The new file comes before the marker: the marker must not hide it.
            E::File(db, b"P:busybox\nV:1.36.1-r15\n"),
            E::File("lib/apk/.wh..wh..opq", b""),
        ]),
    ])
    .unwrap();
    assert_eq!(
        inventory.packages,
        vec![
            pkg(PackageKind::Deb, "keep", "1", "/var/lib/dpkg/status.d/base"),
            pkg(PackageKind::Apk, "busybox", "1.36.1-r15", db),
        ]
    );

    let inventory = scan(&[
        plain(&[E::File(db, b"P:musl\nV:1.2.4-r2\n")]),
        plain(&[E::Dir("lib/apk/"), E::File("lib/apk/.wh..wh..opq", b"")]),
    ])
    .unwrap();
    assert_eq!(inventory.packages, Vec::<Package>::new());
}

#[test]
fn an_opaque_root_hides_everything_below() {
    let inventory = scan(&[
        plain(&[E::File(STATUS, &status(&[("a", "1")]))]),
        plain(&[E::File(".wh..wh..opq", b"")]),
    ])
    .unwrap();
    assert_eq!(inventory.packages, Vec::<Package>::new());
}

#[test]
fn a_later_entry_replaces_a_lower_one() {
    let lower = plain(&[E::File(STATUS, &status(&[("a", "1"), ("b", "1")]))]);
    let check = |upper: (Compression, Vec<u8>), expected: Vec<Package>| {
        let inventory = scan(&[lower.clone(), upper]).unwrap();
        assert_eq!(inventory.packages, expected);
    };
    // A new status file: its packages only.
    check(
        plain(&[E::File(STATUS, &status(&[("a", "2")]))]),
        vec![deb("a", "2")],
    );
    // A directory, a symlink, or a file nothing catalogs at the path: no packages.
    check(plain(&[E::Dir("var/lib/dpkg/status/")]), Vec::new());
    check(plain(&[E::Symlink(STATUS, "status-old")]), Vec::new());
    check(plain(&[E::File(STATUS, b"")]), Vec::new());
    // A file replacing the directory above: everything below goes.
    check(plain(&[E::File("var/lib/dpkg", b"")]), Vec::new());
    check(plain(&[E::Symlink("var/lib", "/tmp")]), Vec::new());
    // A directory over a directory merges.
    check(
        plain(&[E::Dir("var/lib/dpkg/")]),
        vec![deb("a", "1"), deb("b", "1")],
    );
}

#[test]
fn odd_entries_do_not_replace_directories() {
    let lower = plain(&[E::File(STATUS, &status(&[("a", "1")]))]);
    // A regular entry naming the root, and an old-style directory (a regular entry with a
    // trailing slash), leave what is below them alone.
    for upper in [
        plain(&[E::File(".", b"")]),
        plain(&[E::File("var/lib/dpkg/", b"")]),
    ] {
        let inventory = scan(&[lower.clone(), upper]).unwrap();
        assert_eq!(inventory.packages, vec![deb("a", "1")]);
    }
}

#[test]
fn duplicate_packages_are_merged_and_sorted() {
    let inventory = scan(&[plain(&[E::File(
        STATUS,
        &status(&[("zz", "1"), ("aa", "1"), ("zz", "1")]),
    )])])
    .unwrap();
    assert_eq!(inventory.packages, vec![deb("aa", "1"), deb("zz", "1")]);
}

#[test]
fn a_hardlink_stands_for_its_target() {
    let base = "/var/lib/dpkg/status.d/base";
    let inventory = scan(&[plain(&[
        E::File(base, &status(&[("a", "1")])),
        E::Hardlink("var/lib/dpkg/status.d/copy", "var/lib/dpkg/status.d/base"),
    ])])
    .unwrap();
    assert_eq!(
        inventory.packages,
        vec![
            pkg(PackageKind::Deb, "a", "1", base),
            pkg(PackageKind::Deb, "a", "1", "/var/lib/dpkg/status.d/copy"),
        ]
    );
}

#[test]
fn devices_and_fifos_are_ignored() {
    let inventory = scan(&[plain(&[
        E::Char("dev/null"),
        E::Fifo("run/initctl"),
        E::File(STATUS, &status(&[("a", "1")])),
    ])])
    .unwrap();
    assert_eq!(inventory.packages, vec![deb("a", "1")]);
}

#[test]
fn os_release_prefers_etc_and_follows_symlinks() {
    let alpine = "ID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME=\"Alpine Linux v3.19\"\n";
    let alpine_release = OsRelease {
        id: "alpine".into(),
        version_id: Some("3.19.1".into()),
        version_codename: None,
        id_like: Vec::new(),
        pretty_name: Some("Alpine Linux v3.19".into()),
    };
    let os = |layers: &[(Compression, Vec<u8>)]| scan(layers).unwrap().os;

    // The Debian way: a relative symlink into /usr/lib, in a later layer than its target.
    assert_eq!(
        os(&[
            plain(&[E::File("usr/lib/os-release", DEBIAN_RELEASE.as_bytes())]),
            plain(&[E::Symlink("etc/os-release", "../usr/lib/os-release")]),
        ]),
        Some(debian())
    );
    // A symlink seen before its target, absolute.
    assert_eq!(
        os(&[plain(&[
            E::Symlink("etc/os-release", "/usr/lib/os-release"),
            E::File("usr/lib/os-release", DEBIAN_RELEASE.as_bytes()),
        ])]),
        Some(debian())
    );
    // A regular /etc/os-release wins over /usr/lib/os-release.
    assert_eq!(
        os(&[plain(&[
            E::File("usr/lib/os-release", DEBIAN_RELEASE.as_bytes()),
            E::File("etc/os-release", alpine.as_bytes()),
        ])]),
        Some(alpine_release)
    );
    // A dangling or looping /etc/os-release falls back to /usr/lib/os-release.
    assert_eq!(
        os(&[plain(&[
            E::Symlink("etc/os-release", "os-release"),
            E::File("usr/lib/os-release", DEBIAN_RELEASE.as_bytes()),
        ])]),
        Some(debian())
    );
    // A hardlink shares its target's content.
    assert_eq!(
        os(&[
            plain(&[
                E::File("usr/lib/os-release", DEBIAN_RELEASE.as_bytes()),
                E::Hardlink("etc/os-release", "usr/lib/os-release"),
            ]),
            plain(&[E::File("usr/lib/.wh.os-release", b"")]),
        ]),
        Some(debian())
    );
    // Deleted in an upper layer: no OS.
    assert_eq!(
        os(&[
            plain(&[E::File("etc/os-release", alpine.as_bytes())]),
            plain(&[E::File("etc/.wh.os-release", b"")]),
        ]),
        None
    );
}

/// A cataloger that wants the dpkg status too, counting its bytes as a package of its kind, and
/// that shrugs off files over the limit (as a lenient language cataloger would).
struct ByteCounter(PackageKind);

impl Cataloger for ByteCounter {
    fn name(&self) -> &'static str {
        "bytes"
    }
    fn wants(&self, file: &FileInfo<'_>) -> bool {
        file.path == STATUS
    }
    fn catalog(
        &self,
        file: &FileInfo<'_>,
        reader: &mut dyn Read,
        _limits: &Limits,
    ) -> Result<Vec<Package>, CatalogError> {
        let mut bytes = Vec::new();
        if reader.read_to_end(&mut bytes).is_err() {
            return Ok(Vec::new());
        }
        Ok(vec![pkg(
            self.0,
            "bytes",
            &bytes.len().to_string(),
            file.path,
        )])
    }
}

#[test]
fn two_catalogers_can_read_one_file() {
    let status = status(&[("a", "1")]);
    let mut catalogers = wharf_scan::os::catalogers();
    catalogers.push(Box::new(ByteCounter(PackageKind::Npm)));
    let mut builder = InventoryBuilder::with_catalogers(Limits::default(), catalogers);
    builder
        .add_layer(
            Compression::None,
            &mut tar(&[E::File(STATUS, &status)]).as_slice(),
        )
        .unwrap();
    assert_eq!(
        builder.finish().packages,
        vec![
            deb("a", "1"),
            pkg(PackageKind::Npm, "bytes", &status.len().to_string(), STATUS),
        ]
    );
}

#[test]
fn two_catalogers_can_read_one_large_file() {
    // Over the in-memory threshold (4 MiB): the walker spools the file to a scratch file.
    let big = vec![b'x'; 5 << 20];
    let builder = || {
        InventoryBuilder::with_catalogers(
            Limits::default(),
            vec![
                Box::new(ByteCounter(PackageKind::GoModule)),
                Box::new(ByteCounter(PackageKind::Rust)),
            ],
        )
    };
    let layer = tar(&[E::File(STATUS, &big)]);
    let mut scan = builder();
    scan.add_layer(Compression::None, &mut layer.as_slice())
        .unwrap();
    assert_eq!(
        scan.finish().packages,
        vec![
            pkg(PackageKind::GoModule, "bytes", "5242880", STATUS),
            pkg(PackageKind::Rust, "bytes", "5242880", STATUS),
        ]
    );
    // The layer cut inside that file.
    let mut scan = builder();
    let err = scan
        .add_layer(Compression::None, &mut &layer[..3 << 20])
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "layer 0: truncated or corrupt tar stream: the stream ends inside a file's data"
    );
}

#[test]
fn a_lenient_cataloger_may_skip_a_file_over_the_limit() {
    let limits = Limits {
        max_file_bytes: 10,
        ..Limits::default()
    };
    let mut builder = InventoryBuilder::with_catalogers(
        limits,
        vec![
            Box::new(ByteCounter(PackageKind::Npm)),
            Box::new(ByteCounter(PackageKind::Gem)),
        ],
    );
    builder
        .add_layer(
            Compression::None,
            &mut tar(&[E::File(STATUS, &[b'x'; 11])]).as_slice(),
        )
        .unwrap();
    assert_eq!(builder.finish().packages, Vec::<Package>::new());
}

#[test]
fn hostile_paths_and_links_are_refused() {
    let check = |entries: &[E<'_>], expected: &str| {
        assert_eq!(failure(scan(&[plain(entries)])), expected);
    };
    check(
        &[E::File("../../etc/passwd", b"x")],
        "Unsafe(0): path traversal: entry \"../../etc/passwd\" uses '..' to leave the image root",
    );
    check(
        &[E::File("/usr/../../root/.ssh/authorized_keys", b"x")],
        "Unsafe(0): path traversal: entry \"/usr/../../root/.ssh/authorized_keys\" uses '..' to \
         leave the image root",
    );
    check(
        &[E::Symlink("etc/evil", "../../../etc/shadow")],
        "Unsafe(0): symlink escapes the image root: /etc/evil -> ../../../etc/shadow",
    );
    check(
        &[E::Symlink("evil", "/../host")],
        "Unsafe(0): symlink escapes the image root: /evil -> /../host",
    );
    check(
        &[E::Hardlink("etc/evil", "../etc/shadow")],
        "Unsafe(0): hardlink escapes the image root: /etc/evil -> ../etc/shadow",
    );
    // Links that stay inside are fine.
    let inventory = scan(&[plain(&[
        E::Symlink("usr/bin/sh", "../../bin/bash"),
        E::Symlink("lib64", "/usr/lib64"),
        E::Hardlink("bin/sh", "bin/bash"),
    ])])
    .unwrap();
    assert_eq!(inventory, wharf_scan::Inventory::default());
}

#[test]
fn the_failing_layer_is_named() {
    let result = scan(&[
        plain(&[E::Dir("etc/")]),
        plain(&[E::File("a/../../x", b"")]),
    ]);
    assert_eq!(
        failure(result),
        "Unsafe(1): path traversal: entry \"a/../../x\" uses '..' to leave the image root"
    );
}

#[test]
fn corrupt_and_truncated_streams_are_bad_layers() {
    let tar = tar(&[E::File(STATUS, &status(&[("a", "1")])), E::Dir("etc/")]);
    let check = |compression: Compression, bytes: Vec<u8>, expected: &str| {
        assert_eq!(failure(scan(&[(compression, bytes)])), expected);
    };
    let gz = gzip(&tar);
    check(
        Compression::Gzip,
        gz[..gz.len() / 2].to_vec(),
        "BadLayer(0): truncated or corrupt gzip-compressed tar stream: incomplete deflate stream",
    );
    check(
        Compression::Gzip,
        b"this is not gzip at all".to_vec(),
        "BadLayer(0): truncated or corrupt gzip-compressed tar stream: invalid gzip header",
    );
    let zst = zstd(&tar);
    check(
        Compression::Zstd,
        zst[..zst.len() / 2].to_vec(),
        "BadLayer(0): truncated or corrupt zstd-compressed tar stream: incomplete frame",
    );
    check(
        Compression::Zstd,
        b"not a zstd frame".to_vec(),
        "BadLayer(0): truncated or corrupt zstd-compressed tar stream: Unknown frame descriptor",
    );
    // Cut inside the status file's data, where the cut text would not parse: the cut is
    // blamed, not the database.
    check(
        Compression::None,
        tar[..512 + 15].to_vec(),
        "BadLayer(0): truncated or corrupt tar stream: the stream ends inside a file's data",
    );
    // Cut inside data nothing reads.
    let unread = common::tar(&[E::File("big", &[7u8; 4096])]);
    check(
        Compression::None,
        unread[..2048].to_vec(),
        "BadLayer(0): truncated or corrupt tar stream: unexpected EOF during skip",
    );
    // Cut inside a kept os-release file.
    let release = common::tar(&[E::File("etc/os-release", DEBIAN_RELEASE.as_bytes())]);
    check(
        Compression::None,
        release[..520].to_vec(),
        "BadLayer(0): truncated or corrupt tar stream: the stream ends inside a file's data",
    );
    // A header whose checksum does not match.
    let mut corrupt = tar.clone();
    corrupt[0] ^= 0x55;
    check(
        Compression::None,
        corrupt,
        "BadLayer(0): truncated or corrupt tar stream: archive header checksum mismatch",
    );
    // Gzip data claiming to be zstd.
    check(
        Compression::Zstd,
        gz,
        "BadLayer(0): truncated or corrupt zstd-compressed tar stream: Unknown frame descriptor",
    );
}

#[test]
fn a_compression_bomb_stops_at_the_total_limit() {
    let limits = Limits {
        max_total_bytes: 1 << 20,
        ..Limits::default()
    };
    let zeros = vec![0u8; 8 << 20];
    let bomb = gzip(&tar(&[E::File("zeros", &zeros)]));
    assert!(bomb.len() < 64 << 10, "the bomb is {} bytes", bomb.len());
    assert_eq!(
        failure(scan_with(limits.clone(), &[(Compression::Gzip, bomb)])),
        "Limit(0): the layers expand to more than 1048576 bytes uncompressed (tar or compression \
         bomb)"
    );
    // The total counts across layers.
    let half = vec![0u8; 600 << 10];
    let layer = zstd(&tar(&[E::File("half", &half)]));
    assert_eq!(
        failure(scan_with(
            limits,
            &[
                (Compression::Zstd, layer.clone()),
                (Compression::Zstd, layer)
            ]
        )),
        "Limit(1): the layers expand to more than 1048576 bytes uncompressed (tar or compression \
         bomb)"
    );
}

#[test]
fn too_many_entries_stop_the_scan() {
    let limits = Limits {
        max_entries: 3,
        ..Limits::default()
    };
    let two = plain(&[E::Dir("a/"), E::Dir("b/")]);
    scan_with(limits.clone(), std::slice::from_ref(&two)).unwrap();
    assert_eq!(
        failure(scan_with(limits, &[two.clone(), two])),
        "Limit(1): too many entries: the layers hold more than 3 tar entries"
    );
}

#[test]
fn an_oversized_name_record_stops_the_scan() {
    let limits = Limits {
        max_header_bytes: 64 << 10,
        ..Limits::default()
    };
    scan_with(limits.clone(), &[plain(&[E::LongName(32 << 10)])]).unwrap();
    assert_eq!(
        failure(scan_with(limits, &[plain(&[E::LongName(128 << 10)])])),
        "Limit(0): a tar entry's headers and name extensions exceed 65536 bytes"
    );
}

#[test]
fn a_database_over_the_file_limit_stops_the_scan() {
    let limits = Limits {
        max_file_bytes: 100,
        ..Limits::default()
    };
    let status = status(&[("a", "1"), ("b", "2"), ("c", "3"), ("d", "4")]);
    assert_eq!(status.len(), 208);
    assert_eq!(
        failure(scan_with(
            limits.clone(),
            &[plain(&[E::File(STATUS, &status)])]
        )),
        "Limit(0): /var/lib/dpkg/status: 208 bytes is over the 100-byte file limit"
    );
    // The same when a lenient cataloger wants the file too.
    let mut catalogers = wharf_scan::os::catalogers();
    catalogers.push(Box::new(ByteCounter(PackageKind::Npm)));
    let mut builder = InventoryBuilder::with_catalogers(limits, catalogers);
    let err = builder
        .add_layer(
            Compression::None,
            &mut tar(&[E::File(STATUS, &status)]).as_slice(),
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "layer 0: /var/lib/dpkg/status: 208 bytes is over the 100-byte file limit"
    );
}

#[test]
fn too_many_packages_stop_the_scan() {
    let limits = Limits {
        max_packages: 2,
        ..Limits::default()
    };
    let two = status(&[("a", "1"), ("b", "1")]);
    let inventory = scan_with(limits.clone(), &[plain(&[E::File(STATUS, &two)])]).unwrap();
    assert_eq!(inventory.packages.len(), 2);
    assert_eq!(
        failure(scan_with(
            limits,
            &[plain(&[
                E::File(STATUS, &two),
                E::File("lib/apk/db/installed", b"P:musl\nV:1\n"),
            ])]
        )),
        "Limit(0): the image records more than 2 packages"
    );
}

#[test]
fn an_oversized_manifest_is_skipped_and_the_scan_goes_on() {
    let limits = Limits {
        max_manifest_bytes: 40,
        ..Limits::default()
    };
    let small = br#"{"name":"small","version":"1"}"#;
    let large = br#"{"name":"large","version":"1","description":"padding"}"#;
    let gemspec = b"s.name = \"rake\"\ns.version = \"13.0.6\"\ns.summary = \"padding\"\n";
    assert_eq!((small.len(), large.len(), gemspec.len()), (30, 54, 59));
    let inventory = scan_with(
        limits,
        &[plain(&[
            E::File("app/node_modules/small/package.json", small),
            E::File("app/node_modules/large/package.json", large),
            E::File(
                "usr/lib/ruby/gems/3.1.0/specifications/rake-13.0.6.gemspec",
                gemspec,
            ),
        ])],
    )
    .unwrap();
    assert_eq!(
        inventory.packages,
        vec![pkg(
            PackageKind::Npm,
            "small",
            "1",
            "/app/node_modules/small/package.json"
        )]
    );
}
