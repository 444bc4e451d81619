//! The SPDX 2.3 JSON document: one package for the image (purpose `CONTAINER`), one for its OS
//! (purpose `OPERATING-SYSTEM`) and one per package found, related by `DESCRIBES` (document to
//! image) and `CONTAINS` (image to everything else).
//!
//! Shape, as the SPDX 2.3 JSON schema defines it:
//!
//! ```text
//! { spdxVersion: "SPDX-2.3", dataLicense: "CC0-1.0", SPDXID: "SPDXRef-DOCUMENT",
//!   name: "<repository>@<digest>", documentNamespace: "https://<registry>/spdx/<repo>@<digest>/<uuid>",
//!   creationInfo: { created, creators: ["Tool: wharf-<version>"] },
//!   packages: [ {SPDXID: SPDXRef-Image, name, versionInfo: <digest>, downloadLocation,
//!                primaryPackagePurpose: CONTAINER, externalRefs: [purl pkg:oci/…], …},
//!               {SPDXID: SPDXRef-OperatingSystem, …},
//!               {SPDXID: SPDXRef-Package-<kind>-<name>-<n>, name, versionInfo,
//!                downloadLocation: NOASSERTION, filesAnalyzed: false, licenseConcluded,
//!                licenseDeclared, copyrightText, sourceInfo, externalRefs: [purl]}, … ],
//!   hasExtractedLicensingInfos: [ {licenseId: LicenseRef-…, name, extractedText} ]?,
//!   relationships: [ DOCUMENT DESCRIBES Image, Image CONTAINS …, … ] }
//! ```

use super::license::{classify, license_ref, License};
use super::purl::{image_purl, purl};
use super::{document_uuid, kind_name, Subject, TOOL_NAME, TOOL_VERSION};
use crate::package::{Inventory, OsRelease, Package};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

const NOASSERTION: &str = "NOASSERTION";
const IMAGE_ID: &str = "SPDXRef-Image";
const OS_ID: &str = "SPDXRef-OperatingSystem";

pub(super) fn document(inventory: &Inventory, subject: &Subject<'_>) -> Value {
    let os = inventory.os.as_ref();
    // LicenseRef- identifiers used by any package, with the text each stands for.
    let mut extracted: BTreeMap<String, String> = BTreeMap::new();

    let mut packages = Vec::with_capacity(inventory.packages.len() + 2);
    let mut relationships = Vec::with_capacity(inventory.packages.len() + 2);
    packages.push(image_package(subject));
    relationships.push(relationship("SPDXRef-DOCUMENT", "DESCRIBES", IMAGE_ID));
    if let Some(os) = os {
        packages.push(os_package(os));
        relationships.push(relationship(IMAGE_ID, "CONTAINS", OS_ID));
    }
    for (index, package) in inventory.packages.iter().enumerate() {
        let id = package_id(package, index);
        packages.push(package_entry(
            package,
            &id,
            &purl(package, os),
            &mut extracted,
        ));
        relationships.push(relationship(IMAGE_ID, "CONTAINS", &id));
    }

    let uuid = document_uuid(inventory, subject);
    let host = if subject.registry.is_empty() {
        "wharf.invalid"
    } else {
        subject.registry
    };
    let mut document = Map::new();
    document.insert("spdxVersion".into(), json!("SPDX-2.3"));
    document.insert("dataLicense".into(), json!("CC0-1.0"));
    document.insert("SPDXID".into(), json!("SPDXRef-DOCUMENT"));
    document.insert(
        "name".into(),
        json!(format!("{}@{}", subject.repository, subject.digest)),
    );
    document.insert(
        "documentNamespace".into(),
        json!(format!(
            "https://{host}/spdx/{}@{}/{uuid}",
            subject.repository, subject.digest
        )),
    );
    document.insert(
        "creationInfo".into(),
        json!({
            "created": subject.created,
            "creators": [format!("Tool: {TOOL_NAME}-{TOOL_VERSION}")],
        }),
    );
    document.insert("packages".into(), Value::Array(packages));
    if !extracted.is_empty() {
        let infos: Vec<Value> = extracted
            .into_iter()
            .map(|(id, text)| json!({"licenseId": id, "name": text, "extractedText": text}))
            .collect();
        document.insert("hasExtractedLicensingInfos".into(), Value::Array(infos));
    }
    document.insert("relationships".into(), Value::Array(relationships));
    Value::Object(document)
}

fn image_package(subject: &Subject<'_>) -> Value {
    json!({
        "SPDXID": IMAGE_ID,
        "name": subject.repository,
        "versionInfo": subject.digest,
        "downloadLocation": NOASSERTION,
        "filesAnalyzed": false,
        "licenseConcluded": NOASSERTION,
        "licenseDeclared": NOASSERTION,
        "copyrightText": NOASSERTION,
        "primaryPackagePurpose": "CONTAINER",
        "externalRefs": [purl_ref(&image_purl(subject.repository, subject.digest, subject.registry))],
    })
}

fn os_package(os: &OsRelease) -> Value {
    let mut package = Map::new();
    package.insert("SPDXID".into(), json!(OS_ID));
    package.insert("name".into(), json!(os.id));
    if let Some(version) = &os.version_id {
        package.insert("versionInfo".into(), json!(version));
    }
    package.insert("downloadLocation".into(), json!(NOASSERTION));
    package.insert("filesAnalyzed".into(), json!(false));
    package.insert("licenseConcluded".into(), json!(NOASSERTION));
    package.insert("licenseDeclared".into(), json!(NOASSERTION));
    package.insert("copyrightText".into(), json!(NOASSERTION));
    if let Some(pretty) = &os.pretty_name {
        package.insert("description".into(), json!(pretty));
    }
    package.insert("primaryPackagePurpose".into(), json!("OPERATING-SYSTEM"));
    Value::Object(package)
}

fn package_entry(
    package: &Package,
    id: &str,
    purl: &str,
    extracted: &mut BTreeMap<String, String>,
) -> Value {
    json!({
        "SPDXID": id,
        "name": package.name,
        "versionInfo": package.version,
        "downloadLocation": NOASSERTION,
        "filesAnalyzed": false,
        "licenseConcluded": NOASSERTION,
        "licenseDeclared": declared_license(&package.licenses, extracted),
        "copyrightText": NOASSERTION,
        "sourceInfo": format!("recorded in {}", package.location),
        "externalRefs": [purl_ref(purl)],
    })
}

/// `SPDXRef-Package-<kind>-<name>-<index>`: readable, and unique because the index is the
/// package's position in the inventory. Characters SPDX ids do not allow become `-`.
fn package_id(package: &Package, index: usize) -> String {
    let name: String = package
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!(
        "SPDXRef-Package-{}-{}-{}",
        kind_name(package.kind),
        name,
        index + 1
    )
}

/// The declared license: the recorded licenses joined with `AND` (each was declared for the
/// package), known identifiers and expressions as they are, anything else as a `LicenseRef-`
/// recorded in `extracted`. `NOASSERTION` when none was recorded.
fn declared_license(recorded: &[String], extracted: &mut BTreeMap<String, String>) -> String {
    let parts: Vec<String> = recorded
        .iter()
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .map(|text| match classify(text) {
            License::Id(id) => id,
            License::Expression(expression) => expression,
            License::Name(name) => extracted_id(&name, extracted),
        })
        .collect();
    match parts.as_slice() {
        [] => NOASSERTION.to_string(),
        [only] => only.clone(),
        many => many
            .iter()
            .map(|part| {
                if part.contains(' ') {
                    format!("({part})")
                } else {
                    part.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(" AND "),
    }
}

/// The `LicenseRef-` for a license text, recorded in `extracted`. Texts that sanitize to the same
/// id (`GPL-2+` and `GPL-2?`) get `-2`, `-3`, … appended so each id stands for one text.
fn extracted_id(text: &str, extracted: &mut BTreeMap<String, String>) -> String {
    let base = license_ref(text);
    let mut id = base.clone();
    let mut n = 1;
    loop {
        match extracted.get(&id) {
            Some(existing) if existing == text => return id,
            Some(_) => {
                n += 1;
                id = format!("{base}-{n}");
            }
            None => {
                extracted.insert(id.clone(), text.to_string());
                return id;
            }
        }
    }
}

fn purl_ref(purl: &str) -> Value {
    json!({
        "referenceCategory": "PACKAGE-MANAGER",
        "referenceType": "purl",
        "referenceLocator": purl,
    })
}

fn relationship(element: &str, kind: &str, related: &str) -> Value {
    json!({
        "spdxElementId": element,
        "relationshipType": kind,
        "relatedSpdxElement": related,
    })
}
