//! Whole-document tests: a small inventory written as CycloneDX and SPDX, compared with the
//! exact JSON expected, and the determinism the document ids promise.

use super::{cyclonedx, spdx, Subject, TOOL_VERSION};
use crate::package::{Inventory, OsRelease, Package, PackageKind};
use serde_json::json;

fn package(
    kind: PackageKind,
    name: &str,
    version: &str,
    licenses: &[&str],
    location: &str,
) -> Package {
    Package {
        kind,
        name: name.to_string(),
        version: version.to_string(),
        source_name: None,
        source_version: None,
        arch: None,
        licenses: licenses.iter().map(|l| l.to_string()).collect(),
        location: location.to_string(),
    }
}

/// Debian 12 with a deb package (source, arch, two licenses, one not an SPDX id), a Python
/// distribution, the same npm package in two places (one purl, two components), a Go module and
/// a Maven artifact with a license name that is not an SPDX id.
fn inventory() -> Inventory {
    let mut libc = package(
        PackageKind::Deb,
        "libc6",
        "2.36-9+deb12u4",
        &["LGPL-2.1", "GPL-2+"],
        "/var/lib/dpkg/status",
    );
    libc.source_name = Some("glibc".into());
    libc.arch = Some("amd64".into());
    Inventory {
        os: Some(OsRelease {
            id: "debian".into(),
            version_id: Some("12".into()),
            version_codename: Some("bookworm".into()),
            id_like: Vec::new(),
            pretty_name: Some("Debian GNU/Linux 12 (bookworm)".into()),
        }),
        packages: vec![
            libc,
            package(
                PackageKind::Python,
                "Charset_Normalizer",
                "3.3.2",
                &["MIT"],
                "/venv/lib/python3.11/site-packages/charset_normalizer-3.3.2.dist-info/METADATA",
            ),
            package(
                PackageKind::Npm,
                "minimist",
                "1.2.5",
                &["MIT OR Apache-2.0"],
                "/app/node_modules/a/node_modules/minimist/package.json",
            ),
            package(
                PackageKind::Npm,
                "minimist",
                "1.2.5",
                &["MIT OR Apache-2.0"],
                "/app/node_modules/minimist/package.json",
            ),
            package(
                PackageKind::GoModule,
                "golang.org/x/text",
                "v0.3.7",
                &[],
                "/usr/local/bin/app",
            ),
            package(
                PackageKind::Java,
                "org.apache.commons:commons-lang3",
                "3.12.0",
                &["Apache 2.0"],
                "/app/lib/commons-lang3-3.12.0.jar",
            ),
        ],
    }
}

const DIGEST: &str = "sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945";

fn subject() -> Subject<'static> {
    Subject {
        repository: "team/app",
        digest: DIGEST,
        registry: "registry.example.com:5000",
        created: "2026-12-04T15:00:00Z",
    }
}

/// The version 5 UUID of the document, computed independently with Python's
/// `uuid.uuid5(uuid.NAMESPACE_URL, name)` over the same name (the image address and the
/// inventory's JSON).
const UUID: &str = "06974fab-a807-57c8-b8fe-6fa851b1fc1d";

const IMAGE_PURL: &str = "pkg:oci/app@sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945?repository_url=registry.example.com:5000%2Fteam%2Fapp";
const LIBC_PURL: &str =
    "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12&upstream=glibc";

#[test]
fn cyclonedx_document() {
    let expected = json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": format!("urn:uuid:{UUID}"),
        "version": 1,
        "metadata": {
            "timestamp": "2026-12-04T15:00:00Z",
            "tools": {"components": [{"type": "application", "name": "wharf", "version": TOOL_VERSION}]},
            "component": {
                "bom-ref": IMAGE_PURL,
                "type": "container",
                "name": "team/app",
                "version": DIGEST,
                "purl": IMAGE_PURL,
            }
        },
        "components": [
            {
                "bom-ref": "os:debian@12",
                "type": "operating-system",
                "name": "debian",
                "version": "12",
                "description": "Debian GNU/Linux 12 (bookworm)",
                "properties": [{"name": "wharf:distro:codename", "value": "bookworm"}],
            },
            {
                "bom-ref": LIBC_PURL,
                "type": "library",
                "name": "libc6",
                "version": "2.36-9+deb12u4",
                "licenses": [{"license": {"id": "LGPL-2.1"}}, {"license": {"name": "GPL-2+"}}],
                "purl": LIBC_PURL,
                "properties": [
                    {"name": "wharf:kind", "value": "deb"},
                    {"name": "wharf:location", "value": "/var/lib/dpkg/status"},
                    {"name": "wharf:arch", "value": "amd64"},
                    {"name": "wharf:source-name", "value": "glibc"},
                ],
            },
            {
                "bom-ref": "pkg:pypi/charset-normalizer@3.3.2",
                "type": "library",
                "name": "Charset_Normalizer",
                "version": "3.3.2",
                "licenses": [{"license": {"id": "MIT"}}],
                "purl": "pkg:pypi/charset-normalizer@3.3.2",
                "properties": [
                    {"name": "wharf:kind", "value": "python"},
                    {"name": "wharf:location", "value": "/venv/lib/python3.11/site-packages/charset_normalizer-3.3.2.dist-info/METADATA"},
                ],
            },
            {
                "bom-ref": "pkg:npm/minimist@1.2.5|2",
                "type": "library",
                "name": "minimist",
                "version": "1.2.5",
                "licenses": [{"expression": "MIT OR Apache-2.0"}],
                "purl": "pkg:npm/minimist@1.2.5",
                "properties": [
                    {"name": "wharf:kind", "value": "npm"},
                    {"name": "wharf:location", "value": "/app/node_modules/a/node_modules/minimist/package.json"},
                ],
            },
            {
                "bom-ref": "pkg:npm/minimist@1.2.5|3",
                "type": "library",
                "name": "minimist",
                "version": "1.2.5",
                "licenses": [{"expression": "MIT OR Apache-2.0"}],
                "purl": "pkg:npm/minimist@1.2.5",
                "properties": [
                    {"name": "wharf:kind", "value": "npm"},
                    {"name": "wharf:location", "value": "/app/node_modules/minimist/package.json"},
                ],
            },
            {
                "bom-ref": "pkg:golang/golang.org/x/text@v0.3.7",
                "type": "library",
                "name": "golang.org/x/text",
                "version": "v0.3.7",
                "purl": "pkg:golang/golang.org/x/text@v0.3.7",
                "properties": [
                    {"name": "wharf:kind", "value": "go-module"},
                    {"name": "wharf:location", "value": "/usr/local/bin/app"},
                ],
            },
            {
                "bom-ref": "pkg:maven/org.apache.commons/commons-lang3@3.12.0",
                "type": "library",
                "group": "org.apache.commons",
                "name": "commons-lang3",
                "version": "3.12.0",
                "licenses": [{"license": {"name": "Apache 2.0"}}],
                "purl": "pkg:maven/org.apache.commons/commons-lang3@3.12.0",
                "properties": [
                    {"name": "wharf:kind", "value": "java"},
                    {"name": "wharf:location", "value": "/app/lib/commons-lang3-3.12.0.jar"},
                ],
            },
        ],
        "dependencies": [{
            "ref": IMAGE_PURL,
            "dependsOn": [
                "os:debian@12",
                LIBC_PURL,
                "pkg:pypi/charset-normalizer@3.3.2",
                "pkg:npm/minimist@1.2.5|2",
                "pkg:npm/minimist@1.2.5|3",
                "pkg:golang/golang.org/x/text@v0.3.7",
                "pkg:maven/org.apache.commons/commons-lang3@3.12.0",
            ],
        }],
    });
    assert_eq!(cyclonedx(&inventory(), &subject()), expected);
}

fn spdx_package(
    id: &str,
    name: &str,
    version: &str,
    license: &str,
    location: &str,
    purl: &str,
) -> serde_json::Value {
    json!({
        "SPDXID": id,
        "name": name,
        "versionInfo": version,
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": false,
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": license,
        "copyrightText": "NOASSERTION",
        "sourceInfo": format!("recorded in {location}"),
        "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": purl}],
    })
}

#[test]
fn spdx_document() {
    let contains = |id: &str| json!({"spdxElementId": "SPDXRef-Image", "relationshipType": "CONTAINS", "relatedSpdxElement": id});
    let expected = json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": format!("team/app@{DIGEST}"),
        "documentNamespace": format!("https://registry.example.com:5000/spdx/team/app@{DIGEST}/{UUID}"),
        "creationInfo": {
            "created": "2026-12-04T15:00:00Z",
            "creators": [format!("Tool: wharf-{TOOL_VERSION}")],
        },
        "packages": [
            {
                "SPDXID": "SPDXRef-Image",
                "name": "team/app",
                "versionInfo": DIGEST,
                "downloadLocation": "NOASSERTION",
                "filesAnalyzed": false,
                "licenseConcluded": "NOASSERTION",
                "licenseDeclared": "NOASSERTION",
                "copyrightText": "NOASSERTION",
                "primaryPackagePurpose": "CONTAINER",
                "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": IMAGE_PURL}],
            },
            {
                "SPDXID": "SPDXRef-OperatingSystem",
                "name": "debian",
                "versionInfo": "12",
                "downloadLocation": "NOASSERTION",
                "filesAnalyzed": false,
                "licenseConcluded": "NOASSERTION",
                "licenseDeclared": "NOASSERTION",
                "copyrightText": "NOASSERTION",
                "description": "Debian GNU/Linux 12 (bookworm)",
                "primaryPackagePurpose": "OPERATING-SYSTEM",
            },
            spdx_package("SPDXRef-Package-deb-libc6-1", "libc6", "2.36-9+deb12u4",
                "LGPL-2.1 AND LicenseRef-GPL-2-", "/var/lib/dpkg/status", LIBC_PURL),
            spdx_package("SPDXRef-Package-python-Charset-Normalizer-2", "Charset_Normalizer", "3.3.2", "MIT",
                "/venv/lib/python3.11/site-packages/charset_normalizer-3.3.2.dist-info/METADATA",
                "pkg:pypi/charset-normalizer@3.3.2"),
            spdx_package("SPDXRef-Package-npm-minimist-3", "minimist", "1.2.5", "MIT OR Apache-2.0",
                "/app/node_modules/a/node_modules/minimist/package.json", "pkg:npm/minimist@1.2.5"),
            spdx_package("SPDXRef-Package-npm-minimist-4", "minimist", "1.2.5", "MIT OR Apache-2.0",
                "/app/node_modules/minimist/package.json", "pkg:npm/minimist@1.2.5"),
            spdx_package("SPDXRef-Package-go-module-golang.org-x-text-5", "golang.org/x/text", "v0.3.7",
                "NOASSERTION", "/usr/local/bin/app", "pkg:golang/golang.org/x/text@v0.3.7"),
            spdx_package("SPDXRef-Package-java-org.apache.commons-commons-lang3-6",
                "org.apache.commons:commons-lang3", "3.12.0", "LicenseRef-Apache-2.0",
                "/app/lib/commons-lang3-3.12.0.jar", "pkg:maven/org.apache.commons/commons-lang3@3.12.0"),
        ],
        "hasExtractedLicensingInfos": [
            {"licenseId": "LicenseRef-Apache-2.0", "name": "Apache 2.0", "extractedText": "Apache 2.0"},
            {"licenseId": "LicenseRef-GPL-2-", "name": "GPL-2+", "extractedText": "GPL-2+"},
        ],
        "relationships": [
            {"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": "SPDXRef-Image"},
            contains("SPDXRef-OperatingSystem"),
            contains("SPDXRef-Package-deb-libc6-1"),
            contains("SPDXRef-Package-python-Charset-Normalizer-2"),
            contains("SPDXRef-Package-npm-minimist-3"),
            contains("SPDXRef-Package-npm-minimist-4"),
            contains("SPDXRef-Package-go-module-golang.org-x-text-5"),
            contains("SPDXRef-Package-java-org.apache.commons-commons-lang3-6"),
        ],
    });
    assert_eq!(spdx(&inventory(), &subject()), expected);
}

#[test]
fn an_empty_inventory_without_os_or_registry() {
    let subject = Subject {
        registry: "",
        ..subject()
    };
    let empty = Inventory::default();
    let bom = cyclonedx(&empty, &subject);
    assert_eq!(bom["components"], json!([]));
    assert_eq!(
        bom["dependencies"],
        json!([{"ref": format!("pkg:oci/app@{DIGEST}"), "dependsOn": []}])
    );
    let doc = spdx(&empty, &subject);
    assert_eq!(doc["packages"].as_array().map(Vec::len), Some(1));
    assert_eq!(doc.get("hasExtractedLicensingInfos"), None);
    assert_eq!(
        doc["relationships"],
        json!([{"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": "SPDXRef-Image"}])
    );
    assert!(doc["documentNamespace"].as_str().is_some_and(
        |ns| ns.starts_with(&format!("https://wharf.invalid/spdx/team/app@{DIGEST}/"))
    ));
}

#[test]
fn document_ids_follow_the_inventory() {
    let same = cyclonedx(&inventory(), &subject());
    assert_eq!(same, cyclonedx(&inventory(), &subject()));

    let mut changed = inventory();
    changed.packages.pop();
    let other = cyclonedx(&changed, &subject());
    assert_ne!(other["serialNumber"], same["serialNumber"]);

    let other_image = Subject {
        digest: "sha256:0000000000000000000000000000000000000000000000000000000000000000",
        ..subject()
    };
    assert_ne!(
        cyclonedx(&inventory(), &other_image)["serialNumber"],
        same["serialNumber"]
    );
}

#[test]
fn license_texts_that_sanitize_alike_get_distinct_refs() {
    let inventory = Inventory {
        os: None,
        packages: vec![
            package(
                PackageKind::Deb,
                "a",
                "1",
                &["GPL-2+"],
                "/var/lib/dpkg/status",
            ),
            package(
                PackageKind::Deb,
                "b",
                "1",
                &["GPL-2?", "GPL-2+"],
                "/var/lib/dpkg/status",
            ),
        ],
    };
    let doc = spdx(&inventory, &subject());
    assert_eq!(
        doc["packages"][1]["licenseDeclared"],
        json!("LicenseRef-GPL-2-")
    );
    assert_eq!(
        doc["packages"][2]["licenseDeclared"],
        json!("LicenseRef-GPL-2--2 AND LicenseRef-GPL-2-")
    );
    assert_eq!(
        doc["hasExtractedLicensingInfos"],
        json!([
            {"licenseId": "LicenseRef-GPL-2-", "name": "GPL-2+", "extractedText": "GPL-2+"},
            {"licenseId": "LicenseRef-GPL-2--2", "name": "GPL-2?", "extractedText": "GPL-2?"},
        ])
    );
}

#[test]
fn kind_names_are_the_serde_names() {
    use super::kind_name;
    for kind in [
        PackageKind::Deb,
        PackageKind::Apk,
        PackageKind::Rpm,
        PackageKind::Python,
        PackageKind::Npm,
        PackageKind::GoModule,
        PackageKind::Java,
        PackageKind::Rust,
        PackageKind::Gem,
    ] {
        assert_eq!(json!(kind_name(kind)), json!(kind));
    }
}
