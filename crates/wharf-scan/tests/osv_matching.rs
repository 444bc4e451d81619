//! End-to-end matching over hand-written OSV fixture records (`tests/fixtures/osv/`): the
//! records are indexed the way a store would (`Advisory::keys` through `index_key`), looked up
//! per package with `lookup_keys`, and matched with `match_advisories`; every expected finding
//! is exact (record id, shown name, severity, CVSS score, fixed version).

use std::collections::HashMap;
use std::path::Path;
use wharf_scan::matching::{index_key, lookup_keys, match_advisories, match_package, Finding};
use wharf_scan::{Advisory, OsRelease, Package, PackageKind, Severity};

type Index = HashMap<(String, String), Vec<Advisory>>;

fn load_index() -> Index {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/osv");
    let mut index = Index::new();
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    assert_eq!(paths.len(), 14, "fixture count");
    for path in paths {
        let advisory = Advisory::parse(&std::fs::read(&path).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for (eco, name) in advisory.keys() {
            index
                .entry(index_key(&eco, &name))
                .or_default()
                .push(advisory.clone());
        }
    }
    index
}

fn os(id: &str, version: &str) -> OsRelease {
    OsRelease {
        id: id.to_string(),
        version_id: Some(version.to_string()),
        ..OsRelease::default()
    }
}

fn pkg(kind: PackageKind, name: &str, version: &str) -> Package {
    Package {
        kind,
        name: name.to_string(),
        version: version.to_string(),
        source_name: None,
        source_version: None,
        arch: None,
        licenses: Vec::new(),
        location: "/".to_string(),
    }
}

fn os_pkg(
    kind: PackageKind,
    name: &str,
    version: &str,
    source: &str,
    source_version: Option<&str>,
) -> Package {
    Package {
        source_name: Some(source.to_string()),
        source_version: source_version.map(str::to_string),
        ..pkg(kind, name, version)
    }
}

fn scan(index: &Index, p: &Package, os: Option<&OsRelease>) -> Vec<Finding> {
    let mut candidates: Vec<&Advisory> = Vec::new();
    for key in lookup_keys(p, os) {
        for a in index.get(&key).into_iter().flatten() {
            if !candidates.iter().any(|c| c.id == a.id) {
                candidates.push(a);
            }
        }
    }
    match_advisories(p, os, candidates)
}

/// (record id, shown name, severity, CVSS score, fixed version)
type Expected = (
    &'static str,
    &'static str,
    Severity,
    Option<f64>,
    Option<&'static str>,
);

/// The owned form of [`Expected`].
type Row = (String, String, Severity, Option<f64>, Option<String>);

fn summary(findings: &[Finding]) -> Vec<Row> {
    findings
        .iter()
        .map(|f| {
            (
                f.advisory_id.clone(),
                f.name.clone(),
                f.severity,
                f.cvss_score,
                f.fixed_version.clone(),
            )
        })
        .collect()
}

fn check(index: &Index, p: Package, os: Option<OsRelease>, expected: &[Expected]) {
    let found = scan(index, &p, os.as_ref());
    let expected: Vec<_> = expected
        .iter()
        .map(|(id, name, sev, score, fixed)| {
            (
                id.to_string(),
                name.to_string(),
                *sev,
                *score,
                fixed.map(str::to_string),
            )
        })
        .collect();
    assert_eq!(
        summary(&found),
        expected,
        "{} {} on {:?}",
        p.name,
        p.version,
        os.map(|o| o.id)
    );
}

#[test]
fn os_packages_match_their_distribution_records() {
    use PackageKind::{Apk, Deb, Rpm};
    use Severity::*;
    let index = load_index();
    let debian12 = || Some(os("debian", "12"));
    let fix12 = Some("1:4.13+dfsg1-1~deb12u1");
    // Debian: source name and source version, epochs and tildes.
    check(
        &index,
        os_pkg(Deb, "login", "1:4.8.1-1", "shadow", Some("1:4.8.1-1")),
        debian12(),
        &[("DSA-5970-1", "CVE-2025-00001", Medium, None, fix12)],
    );
    // `-1` sorts above the fix's `-1~deb12u1`: not affected.
    check(
        &index,
        os_pkg(Deb, "passwd", "1:4.13+dfsg1-1", "shadow", None),
        debian12(),
        &[],
    );
    // Without the epoch the version is below the fix.
    check(
        &index,
        os_pkg(Deb, "passwd", "4.13+dfsg1-1", "shadow", None),
        debian12(),
        &[("DSA-5970-1", "CVE-2025-00001", Medium, None, fix12)],
    );
    // The Debian 11 entry applies on Debian 11, with its own fix and urgency.
    check(
        &index,
        os_pkg(Deb, "login", "1:4.8.1-1", "shadow", None),
        Some(os("debian", "11")),
        &[(
            "DSA-5970-1",
            "CVE-2025-00001",
            High,
            None,
            Some("1:4.8.1-1+deb11u1"),
        )],
    );
    // Binary package names do not match source-package records.
    check(&index, pkg(Deb, "login", "1:4.8.1-1"), debian12(), &[]);
    // Ubuntu: the LTS ecosystem, the CVE from `upstream`, the Ubuntu priority word.
    let ubuntu = || Some(os("ubuntu", "22.04"));
    check(
        &index,
        os_pkg(Deb, "libc6", "2.35-0ubuntu3.6", "glibc", None),
        ubuntu(),
        &[(
            "UBUNTU-CVE-2025-00002",
            "CVE-2025-00002",
            Medium,
            None,
            Some("2.35-0ubuntu3.7"),
        )],
    );
    check(
        &index,
        os_pkg(Deb, "libc6", "2.35-0ubuntu3.8", "glibc", None),
        ubuntu(),
        &[],
    );
    // Alpine: origin name, `_p` suffixes.
    let alpine = || Some(os("alpine", "3.19.1"));
    let terrapin = (
        "ALPINE-CVE-2023-48795",
        "CVE-2023-48795",
        Undefined,
        None,
        Some("9.6_p1-r0"),
    );
    check(
        &index,
        os_pkg(Apk, "openssh-client", "9.5_p1-r0", "openssh", None),
        alpine(),
        &[terrapin],
    );
    check(
        &index,
        os_pkg(Apk, "openssh-client", "9.6-r0", "openssh", None),
        alpine(),
        &[terrapin],
    );
    check(
        &index,
        os_pkg(Apk, "openssh-client", "9.6_p1-r0", "openssh", None),
        alpine(),
        &[],
    );
    check(
        &index,
        os_pkg(Apk, "openssh-client", "9.6_p1-r1", "openssh", None),
        alpine(),
        &[],
    );
    // Another Alpine release has its own records.
    check(
        &index,
        os_pkg(Apk, "openssh-client", "9.5_p1-r0", "openssh", None),
        Some(os("alpine", "3.18.4")),
        &[],
    );
    // Rocky Linux: epoch:version-release.
    let rocky = || Some(os("rocky", "9.3"));
    check(
        &index,
        os_pkg(Rpm, "openssl-libs", "1:3.0.7-24.el9", "openssl", None),
        rocky(),
        &[(
            "RLSA-2024:0001",
            "CVE-2023-5678",
            Undefined,
            None,
            Some("1:3.0.7-25.el9_3"),
        )],
    );
    check(
        &index,
        os_pkg(Rpm, "openssl-libs", "1:3.0.7-25.el9_3", "openssl", None),
        rocky(),
        &[],
    );
    // AlmaLinux files this record under binary package names too; one finding per package.
    let alma = || Some(os("almalinux", "9.3"));
    let curl = (
        "ALSA-2024:0002",
        "CVE-2023-46218",
        Medium,
        Some(5.9),
        Some("7.76.1-26.el9_3.2"),
    );
    check(
        &index,
        os_pkg(Rpm, "libcurl", "7.76.1-26.el9", "curl", None),
        alma(),
        &[curl],
    );
    check(
        &index,
        os_pkg(Rpm, "curl", "7.76.1-26.el9", "curl", None),
        alma(),
        &[curl],
    );
    check(
        &index,
        os_pkg(Rpm, "libcurl", "7.76.1-26.el9_3.2", "curl", None),
        alma(),
        &[],
    );
    // Rocky's records do not apply to AlmaLinux.
    check(
        &index,
        os_pkg(Rpm, "openssl-libs", "1:3.0.7-24.el9", "openssl", None),
        alma(),
        &[],
    );
}

#[test]
fn language_packages_match_their_ecosystem_records() {
    use PackageKind::{Gem, GoModule, Java, Npm, Python, Rust};
    use Severity::*;
    let index = load_index();
    let ghsa_django = "GHSA-7h4p-27mh-hmrw";
    let cve_django = "CVE-2023-36053";
    // PyPI: pre-releases inside a range that starts at a pre-release; names PEP 503 normalized.
    check(
        &index,
        pkg(Python, "django", "4.2rc1"),
        None,
        &[(ghsa_django, cve_django, High, Some(7.5), Some("4.2.3"))],
    );
    check(
        &index,
        pkg(Python, "Django", "4.2.0b1"),
        None,
        &[(ghsa_django, cve_django, High, Some(7.5), Some("4.2.3"))],
    );
    check(&index, pkg(Python, "Django", "4.2.3"), None, &[]);
    check(&index, pkg(Python, "Django", "4.2a0"), None, &[]);
    // Only PYSEC covers 4.1.9 (two introduced/fixed pairs in one range).
    check(
        &index,
        pkg(Python, "Django", "4.1.9"),
        None,
        &[(
            "PYSEC-2023-100",
            cve_django,
            Undefined,
            None,
            Some("4.1.10"),
        )],
    );
    // Both records cover 3.2.19: one finding, from the record with a CVSS score.
    check(
        &index,
        pkg(Python, "Django", "3.2.19"),
        None,
        &[(ghsa_django, cve_django, High, Some(7.5), Some("3.2.20"))],
    );
    // npm: SEMVER with last_affected (inclusive); a withdrawn record never matches; a
    // GHSA with only a database_specific severity.
    let minimist = (
        "GHSA-xvch-5gv4-984h",
        "GHSA-xvch-5gv4-984h",
        Medium,
        None,
        None,
    );
    check(&index, pkg(Npm, "minimist", "1.2.5"), None, &[minimist]);
    check(&index, pkg(Npm, "minimist", "0.0.8"), None, &[minimist]);
    check(&index, pkg(Npm, "minimist", "1.2.6"), None, &[]);
    check(&index, pkg(Npm, "minimist", "1.2.6-beta.1"), None, &[]);
    // Go: +incompatible, and the standard library's toolchain versions.
    let docker = "github.com/docker/docker";
    check(
        &index,
        pkg(GoModule, docker, "v20.10.7+incompatible"),
        None,
        &[(
            "GO-2022-0390",
            "CVE-2021-41089",
            Undefined,
            None,
            Some("20.10.9+incompatible"),
        )],
    );
    check(
        &index,
        pkg(GoModule, docker, "v20.10.9+incompatible"),
        None,
        &[],
    );
    check(
        &index,
        pkg(GoModule, docker, "v24.0.7+incompatible"),
        None,
        &[],
    );
    let stdlib = |fixed| {
        [(
            "GO-2023-2185",
            "CVE-2023-39323",
            Undefined,
            None,
            Some(fixed),
        )]
    };
    check(
        &index,
        pkg(GoModule, "stdlib", "go1.21.1"),
        None,
        &stdlib("1.21.2"),
    );
    check(
        &index,
        pkg(GoModule, "stdlib", "go1.21rc2"),
        None,
        &stdlib("1.21.2"),
    );
    check(
        &index,
        pkg(GoModule, "stdlib", "go1.20.8"),
        None,
        &stdlib("1.20.9"),
    );
    check(&index, pkg(GoModule, "stdlib", "go1.21.2"), None, &[]);
    check(
        &index,
        pkg(GoModule, "stdlib", "devel go1.22-abc"),
        None,
        &[],
    );
    // Maven: qualifiers around the range bounds.
    let log4j = "org.apache.logging.log4j:log4j-core";
    let log4shell = (
        "GHSA-jfh8-c2jp-5v3q",
        "CVE-2021-44228",
        Critical,
        Some(10.0),
        Some("2.15.0"),
    );
    check(&index, pkg(Java, log4j, "2.14.1"), None, &[log4shell]);
    check(&index, pkg(Java, log4j, "2.0-rc1"), None, &[log4shell]);
    check(&index, pkg(Java, log4j, "2.0-beta9"), None, &[log4shell]);
    check(&index, pkg(Java, log4j, "2.15.0-rc1"), None, &[log4shell]);
    check(&index, pkg(Java, log4j, "2.0-beta8"), None, &[]);
    check(&index, pkg(Java, log4j, "2.0-alpha1"), None, &[]);
    check(&index, pkg(Java, log4j, "2.15.0"), None, &[]);
    check(&index, pkg(Java, log4j, "2.15.0.Final"), None, &[]);
    // RubyGems: a versions[]-only record.
    let rack = (
        "GHSA-rrrr-rrrr-rrrr",
        "CVE-2022-44570",
        Medium,
        Some(5.3),
        None,
    );
    check(&index, pkg(Gem, "rack", "2.2.3"), None, &[rack]);
    check(&index, pkg(Gem, "rack", "3.0.0.beta1"), None, &[rack]);
    check(&index, pkg(Gem, "rack", "2.2.5"), None, &[]);
    // crates.io: two SEMVER intervals.
    let smallvec = |fixed| {
        [(
            "RUSTSEC-2021-0003",
            "CVE-2021-25900",
            Critical,
            Some(9.8),
            Some(fixed),
        )]
    };
    check(
        &index,
        pkg(Rust, "smallvec", "1.6.0"),
        None,
        &smallvec("1.6.1"),
    );
    check(
        &index,
        pkg(Rust, "smallvec", "0.6.13"),
        None,
        &smallvec("0.6.14"),
    );
    check(&index, pkg(Rust, "smallvec", "0.6.2"), None, &[]);
    check(&index, pkg(Rust, "smallvec", "1.6.1"), None, &[]);
}

#[test]
fn a_finding_carries_the_record_details() {
    let index = load_index();
    let p = pkg(PackageKind::Python, "Django", "4.2rc1");
    let found = scan(&index, &p, None);
    assert_eq!(
        found,
        vec![Finding {
            name: "CVE-2023-36053".into(),
            advisory_id: "GHSA-7h4p-27mh-hmrw".into(),
            aliases: vec!["CVE-2023-36053".into(), "PYSEC-2023-100".into()],
            summary: Some("Django ReDoS in EmailValidator/URLValidator".into()),
            description: Some(
                "EmailValidator and URLValidator are subject to a potential regular expression \
                 denial of service attack via a very large number of domain name labels."
                    .into()
            ),
            severity: Severity::High,
            cvss_score: Some(7.5),
            cvss_vector: Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H".into()),
            cvss_version: Some("3.1".into()),
            package: p.clone(),
            fixed_version: Some("4.2.3".into()),
            references: vec![
                "https://nvd.nist.gov/vuln/detail/CVE-2023-36053".into(),
                "https://www.djangoproject.com/weblog/2023/jul/03/security-releases/".into(),
                "https://github.com/django/django".into(),
            ],
            published: Some("2023-06-01T00:00:00Z".into()),
            modified: Some("2023-06-05T00:00:00Z".into()),
        }]
    );
}

#[test]
fn records_without_references_link_to_osv() {
    let index = load_index();
    let p = pkg(PackageKind::Npm, "minimist", "1.2.5");
    let found = scan(&index, &p, None);
    assert_eq!(
        found[0].references,
        vec!["https://osv.dev/vulnerability/GHSA-xvch-5gv4-984h".to_string()]
    );
    assert_eq!(
        found[0].description.as_deref(),
        Some("Prototype Pollution in minimist")
    );
}

#[test]
fn an_unparseable_package_version_matches_no_range() {
    let index = load_index();
    let key = ("PyPI".to_string(), "django".to_string());
    let ghsa = index[&key]
        .iter()
        .find(|a| a.id.starts_with("GHSA"))
        .unwrap();
    // `introduced: "0"` would cover anything; a version PEP 440 cannot read still is not matched.
    for v in ["not a version", "", "3.2.x"] {
        assert_eq!(
            match_package(&pkg(PackageKind::Python, "Django", v), None, ghsa),
            None,
            "{v}"
        );
    }
}
