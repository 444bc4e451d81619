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
use crate::limits::Limits;
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
    ".jar", ".war", ".ear", ".par", ".sar", ".nar", ".jpi", ".hpi", ".kar", ".far", ".lpkg",
];
/// How deep archives nest before the inner ones are ignored (ear → war → jar is depth 2).
const MAX_DEPTH: usize = 4;
/// Most entries one archive may list.
pub const MAX_ENTRIES: usize = 200_000;
/// Largest central directory accepted (about 300,000 entries with long names).
const MAX_DIRECTORY_BYTES: u64 = 64 << 20;
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
            metadata_cap: MAX_METADATA_BYTES.min(limits.max_manifest_bytes),
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
    /// The largest `pom.properties` or `MANIFEST.MF` entry read; larger ones are skipped.
    metadata_cap: u64,
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
        let mut source = source;
        // The zip reader loads the whole central directory, so its declared size is checked
        // before handing the archive over.
        if let Some((entries, directory_bytes)) = declared_directory(&mut source) {
            if entries > MAX_ENTRIES as u64 || directory_bytes > MAX_DIRECTORY_BYTES {
                return Err(self.too_large(
                    location,
                    format!(
                        "archive declares {entries} entries in a {directory_bytes}-byte directory, \
                         more than the {MAX_ENTRIES} entries or {MAX_DIRECTORY_BYTES} bytes allowed"
                    ),
                ));
            }
        }
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
        // Syft walks the pom.properties in path order, keeps the first whose artifactId matches
        // the file name, prefers one with a pom.xml beside it, and stops at an exact match.
        let has_pom_xml = |dir: &str| entries.contains(format!("{dir}/pom.xml").as_str());
        let exact = |p: &PomProperties| file.name.contains(&p.group) || file.name == p.artifact;
        let mut matched: Option<(&PomProperties, bool)> = None;
        for (dir, props) in poms {
            if !artifact_matches_filename(&props.artifact, &file.name, &artifacts) {
                continue;
            }
            let with_pom = has_pom_xml(dir);
            matched = match matched {
                None => Some((props, with_pom)),
                Some((_, false)) if with_pom => Some((props, true)),
                Some((_, true)) if with_pom && exact(props) => Some((props, true)),
                keep => keep,
            };
            if matches!(matched, Some((_, true))) && exact(props) {
                break;
            }
        }
        let matched = matched.map(|(props, _)| props);
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
        if declared > self.metadata_cap {
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
        self.budget = self.budget.saturating_sub(copied);
        if spool.rewind().is_err() {
            return Ok(None);
        }
        Ok(Some(spool))
    }
}

/// The entry count and central-directory size an archive's end record declares (the zip64 record
/// when the classic one is saturated), or `None` when there is no readable end record.
fn declared_directory(source: &mut SpooledTempFile) -> Option<(u64, u64)> {
    const EOCD: &[u8] = b"PK\x05\x06";
    const ZIP64_LOCATOR: &[u8] = b"PK\x06\x07";
    const ZIP64_EOCD: &[u8] = b"PK\x06\x06";
    let len = source.seek(std::io::SeekFrom::End(0)).ok()?;
    // The end record is 22 bytes plus a comment of at most 65,535 bytes; the zip64 locator
    // (20 bytes) sits right before it.
    let tail_len = len.min(22 + 65_535 + 20);
    let tail = read_range(source, len - tail_len, tail_len as usize)?;
    let at = memchr::memmem::rfind(&tail, EOCD)?;
    let record = tail.get(at..)?;
    let u16_at = |b: &[u8], i: usize| {
        b.get(i..i + 2)
            .and_then(|x| x.try_into().ok())
            .map(|x| u64::from(u16::from_le_bytes(x)))
    };
    let u32_at = |b: &[u8], i: usize| {
        b.get(i..i + 4)
            .and_then(|x| x.try_into().ok())
            .map(|x| u64::from(u32::from_le_bytes(x)))
    };
    let u64_at = |b: &[u8], i: usize| {
        b.get(i..i + 8)
            .and_then(|x| x.try_into().ok())
            .map(u64::from_le_bytes)
    };
    let entries = u16_at(record, 10)?;
    let size = u32_at(record, 12)?;
    if entries != 0xFFFF && size != 0xFFFF_FFFF {
        return Some((entries, size));
    }
    let locator = tail.get(at.checked_sub(20)?..at)?;
    if !locator.starts_with(ZIP64_LOCATOR) {
        return Some((entries, size));
    }
    let zip64_at = u64_at(locator, 8)?;
    let zip64 = read_range(source, zip64_at, 56)?;
    if !zip64.starts_with(ZIP64_EOCD) {
        return None;
    }
    Some((u64_at(&zip64, 32)?, u64_at(&zip64, 40)?))
}

fn read_range(source: &mut SpooledTempFile, offset: u64, len: usize) -> Option<Vec<u8>> {
    source.seek(std::io::SeekFrom::Start(offset)).ok()?;
    let mut bytes = vec![0u8; len];
    source.read_exact(&mut bytes).ok()?;
    source.rewind().ok()?;
    Some(bytes)
}

fn copy_bounded(mut from: impl Read, to: &mut SpooledTempFile) -> std::io::Result<u64> {
    let n = std::io::copy(&mut from, to)?;
    to.flush()?;
    Ok(n)
}

fn entry_index(zip: &mut ZipArchive<SpooledTempFile>, name: &str) -> Option<usize> {
    zip.index_for_name(name)
}

/// Syft's glob is `**/*pom.properties`: anywhere in the archive, usually under
/// `META-INF/maven/<group>/<artifact>/`.
fn is_pom_properties(name: &str) -> bool {
    name.ends_with("pom.properties")
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
        // Like Syft, a line that is not `key=value` or `key: value` makes the file unreadable.
        let split = line.find(['=', ':'])?;
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

    /// The Maven group Syft derives from a manifest: among the values of its primary fields
    /// (then, failing those, its secondary ones) that start like a reverse domain name (`com`,
    /// `org`, `net`, `io`, `be`, as a bare prefix), the alphabetically first, with OSGi directives
    /// (`;…`) and fragments (`#…`) cut off. (Syft's table of known artifactId → groupId
    /// corrections is not reproduced.)
    fn group_id(&self) -> Option<String> {
        const DOMAINS: &[&str] = &["com", "org", "net", "io", "be"];
        const PRIMARY: &[&str] = &[
            "Group-Id",
            "Bundle-SymbolicName",
            "Extension-Name",
            "Specification-Vendor",
            "Implementation-Vendor",
            "Implementation-Vendor-Id",
            "Implementation-Title",
            "Bundle-Activator",
        ];
        const SECONDARY: &[&str] = &["Automatic-Module-Name", "Main-Class", "Package"];
        let candidates = |fields: &[&str]| -> Option<String> {
            let mut found: Vec<String> = fields
                .iter()
                .flat_map(|field| {
                    self.sections.iter().filter_map(move |section| {
                        section.iter().find(|(k, _)| k == field).map(|(_, v)| v)
                    })
                })
                .filter(|v| DOMAINS.iter().any(|d| v.starts_with(d)))
                .map(|v| {
                    let v = v.split(';').next().unwrap_or_default();
                    v.split('#').next().unwrap_or_default().trim().to_string()
                })
                .collect();
            found.sort();
            found.into_iter().next()
        };
        candidates(PRIMARY)
            .or_else(|| candidates(SECONDARY))
            .filter(|g| !g.is_empty())
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
