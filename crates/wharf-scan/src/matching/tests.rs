//! Unit tests of the matcher: ecosystem keys per OS and package kind, and OSV's range
//! evaluation on event lists.

use super::*;

fn os(id: &str, version: Option<&str>, codename: Option<&str>) -> OsRelease {
    OsRelease {
        id: id.to_string(),
        version_id: version.map(str::to_string),
        version_codename: codename.map(str::to_string),
        ..OsRelease::default()
    }
}

fn pkg(kind: PackageKind, name: &str, version: &str, source: Option<&str>) -> Package {
    Package {
        kind,
        name: name.to_string(),
        version: version.to_string(),
        source_name: source.map(str::to_string),
        source_version: None,
        arch: None,
        licenses: Vec::new(),
        location: "/".to_string(),
    }
}

type Keys = Vec<(String, String)>;

/// A range outcome: `None` when not affected, else the fixed version if any.
type Outcome<'a> = Option<Option<&'a str>>;

fn keys(list: &[(&str, &str)]) -> Keys {
    list.iter()
        .map(|(e, n)| (e.to_string(), n.to_string()))
        .collect()
}

#[test]
fn lookup_keys_per_os_and_kind() {
    use PackageKind::*;
    let table: Vec<(Package, Option<OsRelease>, Keys)> = vec![
        (
            pkg(Deb, "libssl3", "3.0.11-1~deb12u2", Some("openssl")),
            Some(os("debian", Some("12"), Some("bookworm"))),
            keys(&[("Debian:12", "openssl")]),
        ),
        (
            pkg(Deb, "bash", "5.2.15-2+b2", None),
            Some(os("debian", Some("11.9"), None)),
            keys(&[("Debian:11", "bash")]),
        ),
        (
            pkg(Deb, "bash", "5.2", None),
            Some(os("debian", None, Some("trixie"))),
            keys(&[("Debian:13", "bash")]),
        ),
        (
            pkg(Deb, "libc6", "2.35-0ubuntu3.6", Some("glibc")),
            Some(os("ubuntu", Some("22.04"), Some("jammy"))),
            keys(&[("Ubuntu:22.04:LTS", "glibc"), ("Ubuntu:22.04", "glibc")]),
        ),
        (
            pkg(Deb, "libc6", "2.38", Some("glibc")),
            Some(os("ubuntu", Some("23.10"), None)),
            keys(&[("Ubuntu:23.10", "glibc")]),
        ),
        (
            pkg(Apk, "libcrypto3", "3.1.4-r5", Some("openssl")),
            Some(os("alpine", Some("3.19.1"), None)),
            keys(&[("Alpine:v3.19", "openssl")]),
        ),
        (
            pkg(Apk, "busybox", "1.36.1-r20", None),
            Some(os("alpine", Some("3.20.0_alpha20240329"), None)),
            keys(&[("Alpine:v3.20", "busybox")]),
        ),
        (
            pkg(Rpm, "openssl-libs", "1:3.0.7-27.el9", Some("openssl")),
            Some(os("rocky", Some("9.3"), None)),
            keys(&[
                ("Rocky Linux:9", "openssl"),
                ("Rocky Linux:9", "openssl-libs"),
            ]),
        ),
        (
            pkg(Rpm, "openssl-libs", "1:3.0.7-27.el9", Some("openssl")),
            Some(os("almalinux", Some("8.9"), None)),
            keys(&[("AlmaLinux:8", "openssl"), ("AlmaLinux:8", "openssl-libs")]),
        ),
        (
            pkg(Rpm, "curl", "7.76.1-26.el9", None),
            Some(os("rhel", Some("9.4"), None)),
            keys(&[
                ("Red Hat:enterprise_linux:9::baseos", "curl"),
                ("Red Hat:enterprise_linux:9::appstream", "curl"),
                ("Red Hat:enterprise_linux:9::crb", "curl"),
            ]),
        ),
        (
            pkg(Python, "Django", "4.2", None),
            None,
            keys(&[("PyPI", "Django"), ("PyPI", "django")]),
        ),
        (
            pkg(Python, "zope.interface", "6.0", None),
            Some(os("debian", Some("12"), None)),
            keys(&[("PyPI", "zope.interface"), ("PyPI", "zope-interface")]),
        ),
        (
            pkg(Python, "requests", "2.31.0", None),
            None,
            keys(&[("PyPI", "requests")]),
        ),
        (
            pkg(Npm, "lodash", "4.17.20", None),
            None,
            keys(&[("npm", "lodash")]),
        ),
        (
            pkg(GoModule, "stdlib", "go1.21.3", None),
            None,
            keys(&[("Go", "stdlib")]),
        ),
        (
            pkg(GoModule, "golang.org/x/net", "v0.17.0", None),
            None,
            keys(&[("Go", "golang.org/x/net")]),
        ),
        (
            pkg(Java, "org.apache.logging.log4j:log4j-core", "2.14.1", None),
            None,
            keys(&[("Maven", "org.apache.logging.log4j:log4j-core")]),
        ),
        (
            pkg(Rust, "smallvec", "1.6.0", None),
            None,
            keys(&[("crates.io", "smallvec")]),
        ),
        (
            pkg(Gem, "rack", "2.2.3", None),
            None,
            keys(&[("RubyGems", "rack")]),
        ),
        // OS packages without a known OS, or of the wrong kind for it, have no keys.
        (pkg(Deb, "bash", "5.2", None), None, Vec::new()),
        (
            pkg(Deb, "bash", "5.2", None),
            Some(os("alpine", Some("3.19.0"), None)),
            Vec::new(),
        ),
        (
            pkg(Rpm, "bash", "5.2", None),
            Some(os("fedora", Some("39"), None)),
            Vec::new(),
        ),
        (
            pkg(Apk, "bash", "5.2", None),
            Some(os("alpine", None, None)),
            Vec::new(),
        ),
    ];
    for (p, o, expected) in table {
        assert_eq!(lookup_keys(&p, o.as_ref()), expected, "{p:?} on {o:?}");
    }
}

#[test]
fn index_key_normalizes_pypi_only() {
    assert_eq!(
        index_key("PyPI", "Zope__Interface..x"),
        ("PyPI".to_string(), "zope-interface-x".to_string())
    );
    assert_eq!(
        index_key("npm", "Foo_Bar"),
        ("npm".to_string(), "Foo_Bar".to_string())
    );
    assert_eq!(
        index_key("Maven:https://maven.google.com", "androidx.core:core"),
        ("Maven".to_string(), "androidx.core:core".to_string())
    );
    assert_eq!(
        index_key("Debian:12", "openssl"),
        ("Debian:12".to_string(), "openssl".to_string())
    );
}

fn ev(list: &[(&str, &str)]) -> Vec<Event> {
    list.iter()
        .map(|(k, v)| match *k {
            "i" => Event::Introduced(v.to_string()),
            "f" => Event::Fixed(v.to_string()),
            "l" => Event::LastAffected(v.to_string()),
            _ => Event::Limit(v.to_string()),
        })
        .collect()
}

#[test]
fn range_evaluation_follows_osv() {
    // (events, version, expected: None = not affected, Some(fixed) = affected)
    let table: Vec<(Vec<Event>, &str, Outcome)> = vec![
        (
            ev(&[("i", "0"), ("f", "1.2.0")]),
            "1.1.9",
            Some(Some("1.2.0")),
        ),
        (ev(&[("i", "0"), ("f", "1.2.0")]), "1.2.0", None),
        (
            ev(&[("i", "0"), ("f", "1.2.0")]),
            "0.0.1",
            Some(Some("1.2.0")),
        ),
        (ev(&[("i", "1.0.0"), ("f", "1.2.0")]), "0.9.0", None),
        (
            ev(&[("i", "1.0.0"), ("f", "1.2.0")]),
            "1.0.0",
            Some(Some("1.2.0")),
        ),
        (ev(&[("i", "1.0.0"), ("l", "1.1.0")]), "1.1.0", Some(None)),
        (ev(&[("i", "1.0.0"), ("l", "1.1.0")]), "1.1.1", None),
        (ev(&[("i", "0")]), "99.0.0", Some(None)),
        // Two intervals, events out of order: only the sweep's final state counts.
        (
            ev(&[
                ("f", "2.5.0"),
                ("i", "2.0.0"),
                ("f", "1.5.0"),
                ("i", "1.0.0"),
            ]),
            "1.7.0",
            None,
        ),
        (
            ev(&[
                ("f", "2.5.0"),
                ("i", "2.0.0"),
                ("f", "1.5.0"),
                ("i", "1.0.0"),
            ]),
            "2.2.0",
            Some(Some("2.5.0")),
        ),
        (
            ev(&[
                ("i", "1.0.0"),
                ("f", "1.5.0"),
                ("i", "2.0.0"),
                ("f", "2.5.0"),
            ]),
            "1.2.0",
            Some(Some("1.5.0")),
        ),
        // An empty interval (introduced = fixed) affects nothing.
        (ev(&[("i", "1.0.0"), ("f", "1.0.0")]), "1.0.0", None),
        // A limit excludes everything at or above it.
        (
            ev(&[("i", "0"), ("l", "9.0.0"), ("x", "2.0.0")]),
            "2.1.0",
            None,
        ),
        (
            ev(&[("i", "0"), ("l", "9.0.0"), ("x", "2.0.0")]),
            "1.9.0",
            Some(None),
        ),
        // Pre-releases sit below their release.
        (
            ev(&[("i", "0"), ("f", "2.0.0")]),
            "2.0.0-rc.1",
            Some(Some("2.0.0")),
        ),
        // An event that does not parse makes the whole range not match.
        (ev(&[("i", "0"), ("f", "not-a-version")]), "1.0.0", None),
    ];
    for (events, v, expected) in table {
        assert_eq!(
            evaluate(Scheme::SemVer, v, &events),
            expected,
            "{v} in {events:?}"
        );
    }
}

#[test]
fn pep503_names_compare_normalized() {
    assert!(same_name("PyPI", "Zope.Interface", "zope-interface"));
    assert!(same_name("PyPI", "my__pkg", "My.Pkg"));
    assert!(!same_name("PyPI", "mypkg", "my-pkg"));
    assert!(!same_name("npm", "Lodash", "lodash"));
}

#[test]
fn suffixed_language_ecosystems_match() {
    let advisory = Advisory::parse(
        br#"{"id": "GHSA-aaaa-bbbb-cccc", "affected": [{
            "package": {"ecosystem": "Maven:https://maven.google.com", "name": "androidx.core:core"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.9.0"}]}]}]}"#,
    )
    .unwrap();
    let affected = pkg(PackageKind::Java, "androidx.core:core", "1.8.0", None);
    let found = match_package(&affected, None, &advisory).map(|f| f.fixed_version);
    assert_eq!(found, Some(Some("1.9.0".to_string())));
    let fixed = pkg(PackageKind::Java, "androidx.core:core", "1.9.0", None);
    assert_eq!(match_package(&fixed, None, &advisory), None);
    // A suffix that only starts like a language ecosystem is another ecosystem.
    let other = Advisory::parse(
        br#"{"id": "X-1", "affected": [{"package": {"ecosystem": "Mavenish", "name": "androidx.core:core"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]}"#,
    )
    .unwrap();
    assert_eq!(match_package(&affected, None, &other), None);
}
