//! The CycloneDX 1.5 JSON document: the image as `metadata.component` (type `container`), the
//! OS as an `operating-system` component, and every package as a `library` component with its
//! purl, licenses and where it was found (as `wharf:` properties).
//!
//! Shape, as the 1.5 JSON schema defines it:
//!
//! ```text
//! { bomFormat: "CycloneDX", specVersion: "1.5", serialNumber: "urn:uuid:…", version: 1,
//!   metadata: { timestamp, tools: { components: [ {type: application, name, version} ] },
//!               component: { bom-ref, type: container, name: <repository>, version: <digest>,
//!                            purl: pkg:oci/… } },
//!   components: [ {bom-ref, type: operating-system, name: <ID>, version: <VERSION_ID>, …},
//!                 {bom-ref, type: library, group?, name, version, licenses?, purl,
//!                  properties: [wharf:kind, wharf:location, wharf:source-name?, …]}, … ],
//!   dependencies: [ {ref: <image>, dependsOn: [every component]} ] }
//! ```

use super::license::{classify, License};
use super::purl::{image_purl, purl};
use super::{document_uuid, kind_name, Subject, TOOL_NAME, TOOL_VERSION};
use crate::package::{Inventory, OsRelease, Package, PackageKind};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

pub(super) fn document(inventory: &Inventory, subject: &Subject<'_>) -> Value {
    let os = inventory.os.as_ref();
    let image_ref = image_purl(subject.repository, subject.digest, subject.registry);
    let purls: Vec<String> = inventory.packages.iter().map(|p| purl(p, os)).collect();
    let refs = bom_refs(&purls);

    let mut components = Vec::with_capacity(inventory.packages.len() + 1);
    if let Some(os) = os {
        components.push(os_component(os));
    }
    for ((package, purl), bom_ref) in inventory.packages.iter().zip(&purls).zip(&refs) {
        components.push(package_component(package, purl, bom_ref));
    }
    let depends_on: Vec<Value> = components
        .iter()
        .filter_map(|c| c.get("bom-ref").cloned())
        .collect();

    json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": format!("urn:uuid:{}", document_uuid(inventory, subject)),
        "version": 1,
        "metadata": {
            "timestamp": subject.created,
            "tools": {
                "components": [
                    {"type": "application", "name": TOOL_NAME, "version": TOOL_VERSION}
                ]
            },
            "component": {
                "bom-ref": image_ref,
                "type": "container",
                "name": subject.repository,
                "version": subject.digest,
                "purl": image_ref,
            }
        },
        "components": components,
        "dependencies": [
            {"ref": image_ref, "dependsOn": depends_on}
        ]
    })
}

/// Each package's `bom-ref`: its purl when no other package shares it, otherwise the purl with
/// `|<index in the inventory>` appended (the same npm package installed twice in different
/// `node_modules` directories has one purl, but bom-refs must be unique in a document).
fn bom_refs(purls: &[String]) -> Vec<String> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for purl in purls {
        *counts.entry(purl.as_str()).or_default() += 1;
    }
    purls
        .iter()
        .enumerate()
        .map(|(i, purl)| {
            if counts.get(purl.as_str()).copied().unwrap_or(0) > 1 {
                format!("{purl}|{i}")
            } else {
                purl.clone()
            }
        })
        .collect()
}

fn os_component(os: &OsRelease) -> Value {
    let version = os.version_id.as_deref().unwrap_or("");
    let mut component = Map::new();
    component.insert("bom-ref".into(), json!(format!("os:{}@{}", os.id, version)));
    component.insert("type".into(), json!("operating-system"));
    component.insert("name".into(), json!(os.id));
    if !version.is_empty() {
        component.insert("version".into(), json!(version));
    }
    if let Some(pretty) = &os.pretty_name {
        component.insert("description".into(), json!(pretty));
    }
    let mut properties = Vec::new();
    if let Some(codename) = &os.version_codename {
        properties.push(property("wharf:distro:codename", codename));
    }
    if !os.id_like.is_empty() {
        properties.push(property("wharf:distro:id-like", &os.id_like.join(" ")));
    }
    if !properties.is_empty() {
        component.insert("properties".into(), Value::Array(properties));
    }
    Value::Object(component)
}

fn package_component(package: &Package, purl: &str, bom_ref: &str) -> Value {
    let mut component = Map::new();
    component.insert("bom-ref".into(), json!(bom_ref));
    component.insert("type".into(), json!("library"));
    // Maven coordinates split into CycloneDX's group and name; every other ecosystem keeps its
    // own full name (npm scopes included, as npm writes them).
    match (package.kind, package.name.split_once(':')) {
        (PackageKind::Java, Some((group, artifact))) => {
            component.insert("group".into(), json!(group));
            component.insert("name".into(), json!(artifact));
        }
        _ => {
            component.insert("name".into(), json!(package.name));
        }
    }
    component.insert("version".into(), json!(package.version));
    let licenses = licenses(&package.licenses);
    if !licenses.is_empty() {
        component.insert("licenses".into(), Value::Array(licenses));
    }
    component.insert("purl".into(), json!(purl));

    let mut properties = vec![
        property("wharf:kind", kind_name(package.kind)),
        property("wharf:location", &package.location),
    ];
    if let Some(arch) = &package.arch {
        properties.push(property("wharf:arch", arch));
    }
    if let Some(source) = &package.source_name {
        properties.push(property("wharf:source-name", source));
    }
    if let Some(source_version) = &package.source_version {
        properties.push(property("wharf:source-version", source_version));
    }
    component.insert("properties".into(), Value::Array(properties));
    Value::Object(component)
}

/// The `licenses` array. The schema allows either license objects or exactly one expression, so
/// an expression is written as such only when it is the package's only license; otherwise it
/// becomes a named license like any other unrecognized text.
fn licenses(recorded: &[String]) -> Vec<Value> {
    let texts: Vec<&str> = recorded
        .iter()
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .collect();
    if let [only] = texts.as_slice() {
        if let License::Expression(expression) = classify(only) {
            return vec![json!({"expression": expression})];
        }
    }
    texts
        .iter()
        .map(|text| match classify(text) {
            License::Id(id) => json!({"license": {"id": id}}),
            License::Expression(_) | License::Name(_) => json!({"license": {"name": text}}),
        })
        .collect()
}

fn property(name: &str, value: &str) -> Value {
    json!({"name": name, "value": value})
}
