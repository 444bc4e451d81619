//! Package URLs (purl, ECMA-427) for the packages a scan finds and for the image itself.
//!
//! A purl is `pkg:<type>/<namespace>/<name>@<version>?<qualifiers>`. Each component is
//! percent-encoded with the spec's rule: only ASCII letters and digits, `.-_~` and the colon stay
//! as they are; every other byte of the UTF-8 text (including `/`, `@`, `+` and space) becomes a
//! `%XX` triplet. Qualifiers are written sorted by key, and empty values are left out, which is
//! the canonical form. The per-type rules (which parts are lowercased, what the namespace is)
//! follow the purl type definitions for deb, apk, rpm, pypi, npm, golang, maven, cargo and gem.

use crate::package::{OsRelease, Package, PackageKind};

/// The purl of a package, with the image's OS giving the vendor namespace and the `distro`
/// qualifier of OS packages.
pub fn purl(pkg: &Package, os: Option<&OsRelease>) -> String {
    match pkg.kind {
        PackageKind::Deb => os_purl(pkg, os, "deb", "debian"),
        PackageKind::Apk => os_purl(pkg, os, "apk", "alpine"),
        PackageKind::Rpm => os_purl(pkg, os, "rpm", ""),
        PackageKind::Python => build(
            "pypi",
            &[],
            &crate::lang::python::normalize_name(&pkg.name),
            &pkg.version,
            &[],
        ),
        PackageKind::Npm => {
            let name = pkg.name.to_lowercase();
            // A scoped package `@scope/name` puts its scope (with its `@`) in the namespace.
            match name.split_once('/') {
                Some((scope, rest)) if scope.starts_with('@') => {
                    build("npm", &[scope], rest, &pkg.version, &[])
                }
                _ => build("npm", &[], &name, &pkg.version, &[]),
            }
        }
        PackageKind::GoModule => {
            // The golang type lowercases namespace and name. The module path's last segment is
            // the name and the segments before it the namespace.
            let path = pkg.name.to_lowercase();
            let mut segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
            let name = segments.pop().unwrap_or_default();
            // A main module built from a working tree has no release version: Go's build info
            // says `(devel)` and the cataloger may write `UNKNOWN`. Neither names a version the
            // module proxy knows, so the purl leaves the version out.
            // The standard library's version is the toolchain's (`go1.22.1`); its purl writes
            // the release number alone (`pkg:golang/stdlib@1.22.1`), as Syft and Grype do.
            let version = match pkg.version.as_str() {
                "(devel)" | "UNKNOWN" => "",
                v if path == "stdlib" => v.strip_prefix("go").unwrap_or(v),
                v => v,
            };
            build("golang", &segments, name, version, &[])
        }
        PackageKind::Java => match pkg.name.split_once(':') {
            Some((group, artifact)) => build("maven", &[group], artifact, &pkg.version, &[]),
            None => build("maven", &[], &pkg.name, &pkg.version, &[]),
        },
        PackageKind::Rust => build("cargo", &[], &pkg.name, &pkg.version, &[]),
        PackageKind::Gem => build("gem", &[], &pkg.name, &pkg.version, &[]),
    }
}

/// The purl of the image itself (`pkg:oci/<name>@<digest>?repository_url=<registry>/<repo>`),
/// where the name is the repository's last path segment, lowercased as the oci type requires.
pub fn image_purl(repository: &str, digest: &str, registry: &str) -> String {
    let name = repository
        .rsplit('/')
        .next()
        .unwrap_or(repository)
        .to_lowercase();
    let repository_url = if registry.is_empty() {
        String::new()
    } else {
        format!("{registry}/{repository}")
    };
    build(
        "oci",
        &[],
        &name,
        digest,
        &[("repository_url", repository_url.as_str())],
    )
}

/// The `distro` qualifier value: `<id>-<version_id>` (`debian-12`, `alpine-3.19.1`), or
/// `<id>-<codename>` when the release has no version (Debian testing), or nothing.
pub fn distro_qualifier(os: &OsRelease) -> Option<String> {
    let release = os
        .version_id
        .as_deref()
        .or(os.version_codename.as_deref())
        .filter(|v| !v.is_empty())?;
    Some(format!("{}-{}", os.id.to_lowercase(), release))
}

/// deb, apk and rpm: the OS vendor is the namespace; `arch`, `distro`, the source package
/// (`upstream`, as Syft writes it, so advisories naming source packages can be joined) and, for
/// rpm, the epoch (which the rpm type moves out of the version into a qualifier).
fn os_purl(pkg: &Package, os: Option<&OsRelease>, ty: &str, default_vendor: &str) -> String {
    let vendor = os
        .map(|o| o.id.to_lowercase())
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| default_vendor.to_string());
    let namespace: Vec<&str> = if vendor.is_empty() {
        Vec::new()
    } else {
        vec![vendor.as_str()]
    };
    let name = if ty == "rpm" {
        pkg.name.clone()
    } else {
        pkg.name.to_lowercase()
    };
    let (epoch, version) = if ty == "rpm" {
        split_rpm_epoch(&pkg.version)
    } else {
        ("", pkg.version.as_str())
    };
    let distro = os.and_then(distro_qualifier).unwrap_or_default();
    let upstream = match (&pkg.source_name, &pkg.source_version) {
        (Some(src), Some(src_version)) => format!("{src}@{src_version}"),
        (Some(src), None) if *src != pkg.name => src.clone(),
        _ => String::new(),
    };
    let qualifiers = [
        ("arch", pkg.arch.as_deref().unwrap_or("")),
        ("distro", distro.as_str()),
        ("epoch", epoch),
        ("upstream", upstream.as_str()),
    ];
    build(ty, &namespace, &name, version, &qualifiers)
}

/// Splits an rpm `epoch:version-release` into its epoch (empty when none, or when the part
/// before the colon is not a number) and the rest.
fn split_rpm_epoch(version: &str) -> (&str, &str) {
    match version.split_once(':') {
        Some((epoch, rest)) if !epoch.is_empty() && epoch.bytes().all(|b| b.is_ascii_digit()) => {
            (epoch, rest)
        }
        _ => ("", version),
    }
}

/// Assembles a canonical purl from its raw (not yet encoded) parts. An empty version leaves out
/// `@`; qualifiers with empty values are left out and the rest are sorted by key.
fn build(
    ty: &str,
    namespace: &[&str],
    name: &str,
    version: &str,
    qualifiers: &[(&str, &str)],
) -> String {
    let mut out = format!("pkg:{ty}/");
    for segment in namespace {
        out.push_str(&encode(segment));
        out.push('/');
    }
    out.push_str(&encode(name));
    if !version.is_empty() {
        out.push('@');
        out.push_str(&encode(version));
    }
    let mut present: Vec<&(&str, &str)> =
        qualifiers.iter().filter(|(_, v)| !v.is_empty()).collect();
    present.sort_by_key(|(k, _)| *k);
    for (i, (key, value)) in present.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(key);
        out.push('=');
        out.push_str(&encode(value));
    }
    out
}

/// Percent-encodes one purl component: everything but ASCII alphanumerics, `.-_~` and `:`.
fn encode(component: &str) -> String {
    let mut out = String::with_capacity(component.len());
    for byte in component.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-' | b'_' | b'~' | b':') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(kind: PackageKind, name: &str, version: &str) -> Package {
        Package {
            kind,
            name: name.to_string(),
            version: version.to_string(),
            source_name: None,
            source_version: None,
            arch: None,
            licenses: Vec::new(),
            location: "/x".to_string(),
        }
    }

    fn os(id: &str, version_id: Option<&str>, codename: Option<&str>) -> OsRelease {
        OsRelease {
            id: id.to_string(),
            version_id: version_id.map(str::to_string),
            version_codename: codename.map(str::to_string),
            ..OsRelease::default()
        }
    }

    #[track_caller]
    fn check(package: Package, os: Option<&OsRelease>, expected: &str) {
        assert_eq!(purl(&package, os), expected);
    }

    #[test]
    fn deb_packages_carry_vendor_arch_distro_and_upstream() {
        let debian = os("debian", Some("12"), Some("bookworm"));
        let mut libc = pkg(PackageKind::Deb, "libc6", "2.36-9+deb12u4");
        libc.arch = Some("amd64".into());
        libc.source_name = Some("glibc".into());
        check(
            libc,
            Some(&debian),
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12&upstream=glibc",
        );

        // A binNMU: the source version differs and is kept with the source name.
        let mut bin = pkg(PackageKind::Deb, "libfoo1", "1:1.2-3+b1");
        bin.source_name = Some("foo".into());
        bin.source_version = Some("1:1.2-3".into());
        check(
            bin,
            Some(&debian),
            "pkg:deb/debian/libfoo1@1:1.2-3%2Bb1?distro=debian-12&upstream=foo%401:1.2-3",
        );

        // Without an OS the vendor defaults to debian and there is no distro.
        check(
            pkg(PackageKind::Deb, "bash", "5.2.15-2+b2"),
            None,
            "pkg:deb/debian/bash@5.2.15-2%2Bb2",
        );

        // Ubuntu, and a source named like the package (no upstream qualifier).
        let mut same = pkg(PackageKind::Deb, "bash", "5.1-6ubuntu1");
        same.source_name = Some("bash".into());
        check(
            same,
            Some(&os("ubuntu", Some("22.04"), Some("jammy"))),
            "pkg:deb/ubuntu/bash@5.1-6ubuntu1?distro=ubuntu-22.04",
        );

        // Debian testing has a codename but no VERSION_ID.
        check(
            pkg(PackageKind::Deb, "zlib1g", "1:1.3.dfsg-3"),
            Some(&os("debian", None, Some("trixie"))),
            "pkg:deb/debian/zlib1g@1:1.3.dfsg-3?distro=debian-trixie",
        );
    }

    #[test]
    fn apk_and_rpm_packages() {
        let alpine = os("alpine", Some("3.19.1"), None);
        let mut ssl = pkg(PackageKind::Apk, "libcrypto3", "3.1.4-r5");
        ssl.arch = Some("x86_64".into());
        ssl.source_name = Some("openssl".into());
        check(
            ssl,
            Some(&alpine),
            "pkg:apk/alpine/libcrypto3@3.1.4-r5?arch=x86_64&distro=alpine-3.19.1&upstream=openssl",
        );
        check(
            pkg(PackageKind::Apk, "musl", "1.2.4-r2"),
            None,
            "pkg:apk/alpine/musl@1.2.4-r2",
        );

        let rocky = os("rocky", Some("9.3"), None);
        let mut bash = pkg(PackageKind::Rpm, "bash", "1:5.1.8-6.el9_1");
        bash.arch = Some("x86_64".into());
        bash.source_name = Some("bash".into());
        check(
            bash,
            Some(&rocky),
            "pkg:rpm/rocky/bash@5.1.8-6.el9_1?arch=x86_64&distro=rocky-9.3&epoch=1",
        );
        // rpm names are case sensitive; without an OS there is no vendor namespace.
        check(
            pkg(PackageKind::Rpm, "NetworkManager", "1.44.0-3.el9"),
            None,
            "pkg:rpm/NetworkManager@1.44.0-3.el9",
        );
    }

    #[test]
    fn language_packages() {
        let debian = os("debian", Some("12"), None);
        // The OS never shows in language purls.
        check(
            pkg(PackageKind::Python, "Charset_Normalizer", "3.3.2"),
            Some(&debian),
            "pkg:pypi/charset-normalizer@3.3.2",
        );
        check(
            pkg(PackageKind::Python, "zope.interface", "6.1"),
            None,
            "pkg:pypi/zope-interface@6.1",
        );
        check(
            pkg(PackageKind::Python, "a-_.b", "1.0+local"),
            None,
            "pkg:pypi/a-b@1.0%2Blocal",
        );
        check(
            pkg(PackageKind::Npm, "lodash", "4.17.20"),
            None,
            "pkg:npm/lodash@4.17.20",
        );
        check(
            pkg(PackageKind::Npm, "@babel/Core", "7.24.0"),
            None,
            "pkg:npm/%40babel/core@7.24.0",
        );
        check(
            pkg(PackageKind::GoModule, "golang.org/x/text", "v0.3.7"),
            None,
            "pkg:golang/golang.org/x/text@v0.3.7",
        );
        check(
            pkg(
                PackageKind::GoModule,
                "github.com/Azure/go-autorest/autorest",
                "v0.11.29",
            ),
            None,
            "pkg:golang/github.com/azure/go-autorest/autorest@v0.11.29",
        );
        check(
            pkg(PackageKind::GoModule, "stdlib", "go1.22.1"),
            None,
            "pkg:golang/stdlib@1.22.1",
        );
        check(
            pkg(PackageKind::GoModule, "example.com/app", "(devel)"),
            None,
            "pkg:golang/example.com/app",
        );
        check(
            pkg(PackageKind::GoModule, "example.com/app", "UNKNOWN"),
            None,
            "pkg:golang/example.com/app",
        );
        check(
            pkg(
                PackageKind::Java,
                "org.apache.commons:commons-lang3",
                "3.12.0",
            ),
            None,
            "pkg:maven/org.apache.commons/commons-lang3@3.12.0",
        );
        check(
            pkg(PackageKind::Java, "guava", "31.1-jre"),
            None,
            "pkg:maven/guava@31.1-jre",
        );
        check(
            pkg(PackageKind::Rust, "serde_json", "1.0.114"),
            None,
            "pkg:cargo/serde_json@1.0.114",
        );
        check(
            pkg(PackageKind::Gem, "ActiveSupport", "7.1.3"),
            None,
            "pkg:gem/ActiveSupport@7.1.3",
        );
        // Reserved and non-ASCII characters are encoded; an empty version drops `@`.
        check(
            pkg(PackageKind::Gem, "a b/c?é", ""),
            None,
            "pkg:gem/a%20b%2Fc%3F%C3%A9",
        );
    }

    #[test]
    fn image_purls() {
        assert_eq!(
            image_purl("team/App", "sha256:abc", "registry.example.com:5000"),
            "pkg:oci/app@sha256:abc?repository_url=registry.example.com:5000%2Fteam%2FApp"
        );
        assert_eq!(
            image_purl("app", "sha256:abc", ""),
            "pkg:oci/app@sha256:abc"
        );
    }
}
