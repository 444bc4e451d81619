//! Java archives (jar, war, ear and their kin) and the archives nested in them.
//!
//! Mirrors Syft's java-archive-cataloger: an archive with a `META-INF/MANIFEST.MF` is a package
//! itself, named from the `pom.properties` whose artifactId matches the file name, else from the
//! manifest and the file name (`name-version.jar`); every other `META-INF/maven/**/pom.properties`
//! in it is a package too (shaded dependencies). Archives inside (`WEB-INF/lib/*.jar`,
//! `BOOT-INF/lib/*.jar`, …) are read the same way, to a bounded depth. Names are
//! `groupId:artifactId` when the group is known, else the artifactId alone.
//!
//! Zip bombs are refused rather than inflated: an entry that inflates past its declared size, a
//! declared compression ratio no real jar has, too many entries, or nested archives that would
//! inflate past the scan's byte budget end the scan with `CatalogError::TooLarge`.

use super::{file_name, package};
use crate::catalog::{CatalogError, Cataloger, FileInfo};
use crate::layers::Limits;
use crate::package::{Package, PackageKind};
use regex::Regex;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Seek, Write};
use std::sync::LazyLock;
use tempfile::SpooledTempFile;
use zip::ZipArchive;

/// Reads Java archives.
pub struct JavaCataloger;

/// The archive extensions Syft reads (its `archiveFormatGlobs`).
const EXTENSIONS: &[&str] = &[
    ".jar", ".war", ".ear", ".par", ".sar", ".nar", ".jpi", ".hpi", ".kar", ".lpkg",
];
/// How deep archives nest before the inner ones are ignored (ear → war → jar is depth 2).
const MAX_DEPTH: usize = 4;
/// Most entries one archive may list.
pub const MAX_ENTRIES: usize = 200_000;
/// Largest manifest or pom.properties read; bigger ones are skipped.
const MAX_METADATA_BYTES: u64 = 1 << 20;
/// A declared inflation ratio above this, on an entry bigger than `RATIO_FLOOR`, is a bomb.
const MAX_RATIO: u64 = 1000;
const RATIO_FLOOR: u64 = 1 << 20;
/// Archives up to this size are held in memory; larger ones spill to a temporary file.
const IN_MEMORY: usize = 32 << 20;

impl Cataloger for JavaCataloger {
    fn name(&self) -> &'static str {
        "java"
    }

    fn wants(&self, file: &FileInfo<'_>) -> bool {
        let lower = file.path.to_ascii_lowercase();
        EXTENSIONS.iter().any(|ext| lower.ends_with(ext))
    }

    fn catalog(
        &self,
        file: &FileInfo<'_>,
        reader: &mut dyn Read,
        limits: &Limits,
    ) -> Result<Vec<Package>, CatalogError> {
        let io = |source| CatalogError::Io {
            path: file.path.to_string(),
            source,
        };
        let mut spool = SpooledTempFile::new(IN_MEMORY);
        std::io::copy(reader, &mut spool).map_err(io)?;
        spool.rewind().map_err(io)?;
        let mut scan = Scan {
            top: file.path,
            // Nested archives may inflate to twice the largest file a scan reads: a fat jar stores
            // its libraries uncompressed, so this is far above any real one.
            budget: limits.max_file_bytes.saturating_mul(2),
            out: Vec::new(),
        };
        scan.archive(spool, file.path, file_name(file.path), 0)?;
        Ok(scan.out)
    }
}

/// One top-level archive's walk: where it is, what inflating may still cost, what was found.
struct Scan<'a> {
    top: &'a str,
    budget: u64,
    out: Vec<Package>,
}

/// A `pom.properties` with the fields Syft requires (artifactId and version).
#[derive(Debug, Clone, PartialEq, Eq)]
struct PomProperties {
    group: String,
    artifact: String,
    version: String,
}

impl Scan<'_> {
    fn too_large(&self, location: &str, reason: String) -> CatalogError {
        CatalogError::TooLarge {
            path: if location == self.top {
                self.top.to_string()
            } else {
                location.to_string()
            },
            reason,
        }
    }

    /// Reads one archive. `location` is the Syft-style access path (`outer.jar:inner.jar`);
    /// `name` is the entry's own file name, which names the package when nothing better does.
    fn archive(
        &mut self,
        source: SpooledTempFile,
        location: &str,
        name: &str,
        depth: usize,
    ) -> Result<(), CatalogError> {
        // Not a zip (or a damaged one): like Syft, the archive yields nothing.
        let Ok(mut zip) = ZipArchive::new(source) else {
            return Ok(());
        };
        if zip.len() > MAX_ENTRIES {
            return Err(self.too_large(
                location,
                format!(
                    "archive lists {} entries, more than the {MAX_ENTRIES} allowed",
                    zip.len()
                ),
            ));
        }
        let names: Vec<String> = zip.file_names().map(str::to_string).collect();
        let entries: BTreeSet<&str> = names.iter().map(String::as_str).collect();

        let manifest = match entry_index(&mut zip, "META-INF/MANIFEST.MF") {
            Some(i) => self
                .read_small(&mut zip, i, location)?
                .map(|bytes| Manifest::parse(&String::from_utf8_lossy(&bytes))),
            None => None,
        };

        let mut poms: BTreeMap<String, PomProperties> = BTreeMap::new();
        for entry in names.iter().filter(|n| is_pom_properties(n)) {
            let Some(i) = entry_index(&mut zip, entry) else {
                continue;
            };
            let Some(bytes) = self.read_small(&mut zip, i, location)? else {
                continue;
            };
            if let Some(props) = parse_pom_properties(&String::from_utf8_lossy(&bytes)) {
                let dir = entry.rsplit_once('/').map_or("", |(d, _)| d).to_string();
                poms.insert(dir, props);
            }
        }

        if let Some(manifest) = manifest.filter(|m| m.get("Weave-Classes").is_none()) {
            self.packages_of(&manifest, &poms, &entries, location, name);
        }

        if depth < MAX_DEPTH {
            for entry in names.iter().filter(|n| is_archive_name(n)) {
                let Some(i) = entry_index(&mut zip, entry) else {
                    continue;
                };
                let Some(inner) = self.inflate_nested(&mut zip, i, location, entry)? else {
                    continue;
                };
                let inner_location = format!("{location}:{entry}");
                self.archive(inner, &inner_location, file_name(entry), depth + 1)?;
            }
        }
        Ok(())
    }

    /// The archive's own package (from its manifest and matching pom.properties) and the other
    /// pom.properties it carries, as Syft derives them.
    fn packages_of(
        &mut self,
        manifest: &Manifest,
        poms: &BTreeMap<String, PomProperties>,
        entries: &BTreeSet<&str>,
        location: &str,
        name: &str,
    ) {
        let file = ArchiveFilename::parse(name);
        let artifacts: BTreeSet<&str> = poms.values().map(|p| p.artifact.as_str()).collect();
        // Syft walks the pom.properties in path order and keeps the last whose artifactId
        // matches the file name, stopping early at one that has a pom.xml beside it.
        let mut matched: Option<&PomProperties> = None;
        for (dir, props) in poms {
            if artifact_matches_filename(&props.artifact, &file.name, &artifacts) {
                matched = Some(props);
                if entries.contains(format!("{dir}/pom.xml").as_str()) {
                    break;
                }
            }
        }
        let mut main_group = matched
            .map(|p| p.group.clone())
            .filter(|g| !g.is_empty())
            .or_else(|| manifest.group_id())
            .unwrap_or_default();
        let mut main_name = matched
            .map(|p| p.artifact.clone())
            .unwrap_or_else(|| select_name(manifest, &file));
        let mut main_version = matched
            .map(|p| p.version.clone())
            .unwrap_or_else(|| select_version(manifest, &file));
        let licenses = manifest.licenses();

        let mut aux = Vec::new();
        for props in poms.values() {
            // Syft matches on group, artifact and version, or (as a last resort, which subsumes
            // the first) on the artifactId equalling the archive's name.
            let same_identity = props.artifact == main_name;
            if same_identity {
                // The pom.properties describes the archive itself: it is the better source.
                main_name = props.artifact.clone();
                main_version = props.version.clone();
                if !props.group.is_empty() {
                    main_group = props.group.clone();
                }
                continue;
            }
            aux.push(package(
                PackageKind::Java,
                &maven_name(&props.group, &props.artifact),
                &props.version,
                Vec::new(),
                location,
            ));
        }
        if !main_name.is_empty() {
            self.out.push(package(
                PackageKind::Java,
                &maven_name(&main_group, &main_name),
                &main_version,
                licenses,
                location,
            ));
        }
        self.out.extend(aux);
    }

    /// Reads a small metadata entry; `None` when it is unreadable or implausibly large.
    fn read_small(
        &mut self,
        zip: &mut ZipArchive<SpooledTempFile>,
        index: usize,
        location: &str,
    ) -> Result<Option<Vec<u8>>, CatalogError> {
        let Ok(mut entry) = zip.by_index(index) else {
            return Ok(None);
        };
        let declared = entry.size();
        if declared > MAX_METADATA_BYTES {
            return Ok(None);
        }
        let entry_name = entry.name().to_string();
        let mut bytes = Vec::new();
        if (&mut entry)
            .take(declared + 1)
            .read_to_end(&mut bytes)
            .is_err()
        {
            return Ok(None);
        }
        if bytes.len() as u64 > declared {
            return Err(self.too_large(
                location,
                format!("entry {entry_name} inflates beyond its declared {declared} bytes"),
            ));
        }
        Ok(Some(bytes))
    }

    /// Inflates a nested archive into memory or a temporary file, charging it to the budget.
    fn inflate_nested(
        &mut self,
        zip: &mut ZipArchive<SpooledTempFile>,
        index: usize,
        location: &str,
        entry_name: &str,
    ) -> Result<Option<SpooledTempFile>, CatalogError> {
        let Ok(entry) = zip.by_index(index) else {
            return Ok(None);
        };
        if entry.is_dir() {
            return Ok(None);
        }
        let declared = entry.size();
        let compressed = entry.compressed_size();
        if declared > RATIO_FLOOR && declared / compressed.max(1) > MAX_RATIO {
            return Err(self.too_large(
                location,
                format!(
                    "entry {entry_name} declares {declared} bytes from {compressed} compressed \
                     (a zip bomb)"
                ),
            ));
        }
        if declared > self.budget {
            return Err(self.too_large(
                location,
                format!(
                    "nested archive {entry_name} would inflate past the scan's byte budget \
                     ({declared} bytes declared, {} left)",
                    self.budget
                ),
            ));
        }
        let mut spool = SpooledTempFile::new(IN_MEMORY);
        let copied = copy_bounded(entry.take(declared + 1), &mut spool);
        let copied = match copied {
            Ok(n) => n,
            // A damaged entry is skipped, like any unreadable archive.
            Err(_) => return Ok(None),
        };
        if copied > declared {
            return Err(self.too_large(
                location,
                format!("entry {entry_name} inflates beyond its declared {declared} bytes"),
            ));
        }
        self.budget -= copied;
        if spool.rewind().is_err() {
            return Ok(None);
        }
        Ok(Some(spool))
    }
}

fn copy_bounded(mut from: impl Read, to: &mut SpooledTempFile) -> std::io::Result<u64> {
    let n = std::io::copy(&mut from, to)?;
    to.flush()?;
    Ok(n)
}

fn entry_index(zip: &mut ZipArchive<SpooledTempFile>, name: &str) -> Option<usize> {
    zip.index_for_name(name)
}

fn is_pom_properties(name: &str) -> bool {
    name.starts_with("META-INF/maven/") && name.ends_with("/pom.properties")
}

fn is_archive_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    !name.ends_with('/') && EXTENSIONS.iter().any(|ext| lower.ends_with(ext))
}

fn maven_name(group: &str, artifact: &str) -> String {
    if group.is_empty() {
        artifact.to_string()
    } else {
        format!("{group}:{artifact}")
    }
}

/// Parses a `pom.properties` (Java properties: `key=value` or `key: value`, `#` comments).
fn parse_pom_properties(text: &str) -> Option<PomProperties> {
    let mut fields: BTreeMap<&str, &str> = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let Some(split) = line.find(['=', ':']) else {
            continue;
        };
        let (key, value) = (line.get(..split)?, line.get(split + 1..)?);
        fields.insert(key.trim(), value.trim());
    }
    let get = |k: &str| fields.get(k).copied().unwrap_or_default().to_string();
    let props = PomProperties {
        group: get("groupId"),
        artifact: get("artifactId"),
        version: get("version"),
    };
    (!props.artifact.is_empty() && !props.version.is_empty()).then_some(props)
}

/// Syft's test whether a pom.properties describes the archive named `file_name`: exactly, when
/// some artifactId equals the file name; else by prefix or suffix.
fn artifact_matches_filename(artifact: &str, file_name: &str, artifacts: &BTreeSet<&str>) -> bool {
    if artifact.is_empty() || file_name.is_empty() {
        return false;
    }
    if artifacts.contains(file_name) {
        return artifact == file_name;
    }
    artifact.starts_with(file_name) || file_name.ends_with(artifact)
}

/// A parsed `META-INF/MANIFEST.MF`: the main section first, then the named sections.
#[derive(Debug, Clone, Default)]
pub struct Manifest {
    sections: Vec<Vec<(String, String)>>,
}

impl Manifest {
    /// Parses manifest text the way Syft does: sections split by blank lines, values continued on
    /// lines starting with a space, lines without a colon ignored.
    pub fn parse(text: &str) -> Manifest {
        let mut sections: Vec<Vec<(String, String)>> = Vec::new();
        let mut in_section = false;
        for line in text.lines() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.is_empty() {
                in_section = false;
                continue;
            }
            if let Some(continued) = line.strip_prefix(' ') {
                if in_section {
                    if let Some((_, value)) = sections.last_mut().and_then(|s| s.last_mut()) {
                        value.push_str(continued.trim());
                    }
                }
                continue;
            }
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let key = key.trim();
            if key.is_empty() {
                continue;
            }
            if !in_section {
                sections.push(Vec::new());
                in_section = true;
            }
            if let Some(section) = sections.last_mut() {
                section.push((key.to_string(), value.trim().to_string()));
            }
        }
        Manifest { sections }
    }

    /// A main-section attribute, when set and not empty.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.sections
            .first()?
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// An attribute from the main section, else from the first named section that has it.
    fn get_any(&self, key: &str) -> Option<&str> {
        self.sections.iter().find_map(|s| {
            s.iter()
                .find(|(k, v)| k == key && !v.is_empty())
                .map(|(_, v)| v.as_str())
        })
    }

    /// The Maven group a manifest states outright. (Syft guesses further from vendor and bundle
    /// names; those guesses are not reproduced, so such archives are named by artifact alone.)
    fn group_id(&self) -> Option<String> {
        ["Group-Id", "Implementation-Vendor-Id"]
            .iter()
            .filter_map(|k| self.get(k))
            .map(|v| v.split(';').next().unwrap_or(v).trim())
            .find(|v| v.contains('.') && !v.contains(' '))
            .map(str::to_string)
    }

    fn licenses(&self) -> Vec<String> {
        ["Bundle-License", "Plugin-License-Name"]
            .iter()
            .filter_map(|k| self.get_any(k))
            .map(str::to_string)
            .collect()
    }
}

/// Syft's choice of package name when no pom.properties matched.
fn select_name(manifest: &Manifest, file: &ArchiveFilename) -> String {
    // The Apache Maven Bundle Plugin writes `Bundle-SymbolicName` as `groupId.artifactId`.
    if manifest
        .get("Created-By")
        .is_some_and(|c| c.contains("Apache Maven Bundle Plugin"))
    {
        if let Some(symbolic) = manifest.get("Bundle-SymbolicName") {
            if manifest.get("Implementation-Vendor-Id") != Some(symbolic) {
                return symbolic.rsplit('.').next().unwrap_or(symbolic).to_string();
            }
        }
    }
    let from_file = name_from_filename(&file.name);
    if !from_file.is_empty() {
        return from_file;
    }
    [
        "Name",
        "Bundle-Name",
        "Short-Name",
        "Extension-Name",
        "Implementation-Title",
    ]
    .iter()
    .find_map(|k| manifest.get(k))
    .unwrap_or_default()
    .to_string()
}

/// A file name like `org.example.thing` may be `groupId.artifactId`: Syft keeps the last part
/// unless it is an Eclipse platform artifact, which really has dots.
fn name_from_filename(name: &str) -> String {
    if name.contains('.') && !name.starts_with("org.eclipse.") {
        let fields: Vec<&str> = name.split('.').collect();
        let identifiers = fields.iter().all(|f| {
            f.chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '$' || c == '_')
        });
        if identifiers {
            return fields.last().copied().unwrap_or(name).to_string();
        }
    }
    name.to_string()
}

/// Syft's choice of version when no pom.properties matched: the file name's, then the manifest's.
fn select_version(manifest: &Manifest, file: &ArchiveFilename) -> String {
    if !file.version.is_empty() {
        return file.version.clone();
    }
    [
        "Implementation-Version",
        "Specification-Version",
        "Plugin-Version",
        "Bundle-Version",
    ]
    .iter()
    .find_map(|k| manifest.get_any(k))
    .unwrap_or_default()
    .to_string()
}

/// Name and version read from an archive's file name (`commons-lang3-3.12.0.jar`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveFilename {
    pub name: String,
    pub version: String,
}

/// Syft's pattern: dash-separated words form the name until one starts with a digit, `build` and
/// a digit, or `r`/`rc` and a digit; that one and the rest are the version.
static NAME_AND_VERSION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?Ui)^(?P<name>(?:[[:alpha:]][[:word:].]*(?:\.[[:alpha:]][[:word:].]*)*-?)+)(?:-(?P<version>(\d.*|(build\d+.*)|(rc?\d+(?:^[[:alpha:]].*)?))))?$",
    )
    .expect("valid regex")
});
/// Syft's fallback for `name_1.2.3` and `name.1.2.3`.
static SECONDARY_VERSION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:[._-](?P<version>(\d.*|(build\d+.*)|(rc?\d+(?:^[[:alpha:]].*)?))))?$")
        .expect("valid regex")
});

impl ArchiveFilename {
    pub fn parse(file_name: &str) -> ArchiveFilename {
        let stem = match file_name.rfind('.') {
            Some(dot) if dot > 0 => file_name.get(..dot).unwrap_or(file_name),
            _ => file_name,
        };
        let caps = NAME_AND_VERSION.captures(stem);
        let group = |n: &str| {
            caps.as_ref()
                .and_then(|c| c.name(n))
                .map_or(String::new(), |m| m.as_str().to_string())
        };
        let mut name = group("name");
        let mut version = group("version");
        if version.is_empty() {
            if let Some(v) = SECONDARY_VERSION
                .captures(&name)
                .and_then(|c| c.name("version"))
                .map(|m| m.as_str().to_string())
                .filter(|v| !v.is_empty())
            {
                let cut = name.len().saturating_sub(v.len() + 1);
                name = name.get(..cut).unwrap_or_default().to_string();
                version = v;
            }
        }
        ArchiveFilename { name, version }
    }
}
