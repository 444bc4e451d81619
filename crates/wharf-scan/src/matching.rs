//! Matching an inventory's packages against OSV advisories: which OSV ecosystem and package
//! name a package is filed under (`lookup_keys`, from its kind and the image's OS), and whether
//! an advisory's `affected` entries cover its version (`match_package`), evaluated as OSV's
//! specification describes: a version listed in `versions`, or inside a `SEMVER`/`ECOSYSTEM`
//! range whose events (`introduced`, `fixed`, `last_affected`, `limit`) are ordered with the
//! ecosystem's version scheme. `GIT` ranges are ignored. Matching allocates only for the
//! finding it returns.

use crate::lang::python::normalized_chars;
use crate::osv::{Advisory, Affected, Event, RangeKind};
use crate::package::{OsRelease, Package, PackageKind};
use crate::severity::{self, Severity};
use crate::version::Scheme;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// One vulnerability found in one package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The name ECR shows: the CVE id when the advisory has one as id or alias, else its id.
    pub name: String,
    /// The OSV record's id.
    pub advisory_id: String,
    pub aliases: Vec<String>,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub severity: Severity,
    /// CVSS base score of the vector the severity came from.
    pub cvss_score: Option<f64>,
    pub cvss_vector: Option<String>,
    /// `2.0`, `3.0`, `3.1`, `4.0`, when a vector was scored.
    pub cvss_version: Option<String>,
    pub package: Package,
    /// The lowest version that fixes it, when the advisory names one for the matched range.
    pub fixed_version: Option<String>,
    /// The advisory's reference URLs, the first being the most specific.
    pub references: Vec<String>,
    pub published: Option<String>,
    pub modified: Option<String>,
}

/// The OSV ecosystem family an image's OS maps to, with the release parts OSV puts in the
/// ecosystem string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OsKey<'a> {
    /// `Debian:<major>`.
    Debian(&'a str),
    /// `Ubuntu:<version>` and, for LTS releases, `Ubuntu:<version>:LTS`.
    Ubuntu {
        version: &'a str,
        lts: bool,
    },
    /// `Alpine:v<major>.<minor>`.
    Alpine(&'a str),
    Wolfi,
    Chainguard,
    /// `Rocky Linux:<major>`.
    Rocky(&'a str),
    /// `AlmaLinux:<major>`.
    Alma(&'a str),
    /// `Red Hat:enterprise_linux:<major>::<stream>`.
    RedHat(&'a str),
    /// `Azure Linux:<major>.<minor>` (and CBL-Mariner's `Mariner:<version>`).
    Azure(&'a str),
    Mariner(&'a str),
    /// `openSUSE:Leap <version>`.
    OpenSuseLeap(&'a str),
}

/// The first dot-separated component of a version id (`12` of `12.5`).
fn major(v: &str) -> &str {
    v.split('.').next().unwrap_or(v)
}

/// `major.minor` of a version id (`3.19` of `3.19.1`, `3.20` of `3.20.0_alpha20240329`).
fn major_minor(v: &str) -> Option<&str> {
    let mut dots = 0;
    let mut end = v.len();
    for (i, c) in v.char_indices() {
        if c == '.' {
            dots += 1;
            if dots == 2 {
                end = i;
                break;
            }
        } else if !c.is_ascii_digit() {
            end = i;
            break;
        }
    }
    (dots >= 1).then(|| &v[..end]).filter(|s| !s.ends_with('.'))
}

/// Debian's release numbers for images without `VERSION_ID` (testing and sid report only a
/// codename).
fn debian_codename(codename: &str) -> Option<&'static str> {
    Some(match codename {
        "buster" => "10",
        "bullseye" => "11",
        "bookworm" => "12",
        "trixie" => "13",
        "forky" => "14",
        _ => return None,
    })
}

fn os_key(os: &OsRelease) -> Option<OsKey<'_>> {
    let version = os
        .version_id
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty());
    Some(match os.id.as_str() {
        "debian" => match version {
            Some(v) => OsKey::Debian(major(v)),
            None => OsKey::Debian(debian_codename(os.version_codename.as_deref()?)?),
        },
        "ubuntu" => {
            let v = version?;
            let (year, month) = v.split_once('.')?;
            let lts = month == "04" && year.parse::<u32>().is_ok_and(|y| y % 2 == 0);
            OsKey::Ubuntu { version: v, lts }
        }
        "alpine" => OsKey::Alpine(major_minor(version?)?),
        "wolfi" => OsKey::Wolfi,
        "chainguard" => OsKey::Chainguard,
        "rocky" => OsKey::Rocky(major(version?)),
        "almalinux" => OsKey::Alma(major(version?)),
        "rhel" => OsKey::RedHat(major(version?)),
        "azurelinux" => OsKey::Azure(major_minor(version?)?),
        "mariner" => OsKey::Mariner(version?),
        "opensuse-leap" => OsKey::OpenSuseLeap(version?),
        _ => return None,
    })
}

/// The Red Hat streams lookups cover; matching accepts any stream of the release.
const RED_HAT_STREAMS: [&str; 3] = ["baseos", "appstream", "crb"];

impl OsKey<'_> {
    fn suits(self, kind: PackageKind) -> bool {
        match self {
            OsKey::Debian(_) | OsKey::Ubuntu { .. } => kind == PackageKind::Deb,
            OsKey::Alpine(_) | OsKey::Wolfi | OsKey::Chainguard => kind == PackageKind::Apk,
            OsKey::Rocky(_)
            | OsKey::Alma(_)
            | OsKey::RedHat(_)
            | OsKey::Azure(_)
            | OsKey::Mariner(_)
            | OsKey::OpenSuseLeap(_) => kind == PackageKind::Rpm,
        }
    }

    /// The ecosystem strings OSV files this OS's advisories under.
    fn ecosystems(self) -> Vec<String> {
        match self {
            OsKey::Debian(m) => vec![format!("Debian:{m}")],
            OsKey::Ubuntu { version, lts: true } => {
                vec![format!("Ubuntu:{version}:LTS"), format!("Ubuntu:{version}")]
            }
            OsKey::Ubuntu {
                version,
                lts: false,
            } => vec![format!("Ubuntu:{version}")],
            OsKey::Alpine(mm) => vec![format!("Alpine:v{mm}")],
            OsKey::Wolfi => vec!["Wolfi".to_string()],
            OsKey::Chainguard => vec!["Chainguard".to_string()],
            OsKey::Rocky(m) => vec![format!("Rocky Linux:{m}")],
            OsKey::Alma(m) => vec![format!("AlmaLinux:{m}")],
            OsKey::RedHat(m) => RED_HAT_STREAMS
                .iter()
                .map(|s| format!("Red Hat:enterprise_linux:{m}::{s}"))
                .collect(),
            OsKey::Azure(mm) => vec![format!("Azure Linux:{mm}")],
            OsKey::Mariner(v) => vec![format!("Mariner:{v}")],
            OsKey::OpenSuseLeap(v) => vec![format!("openSUSE:Leap {v}")],
        }
    }

    /// Whether an advisory's ecosystem string is one of this OS's, without allocating.
    fn matches(self, eco: &str) -> bool {
        let after = |prefix: &str| eco.strip_prefix(prefix);
        match self {
            OsKey::Debian(m) => after("Debian:") == Some(m),
            OsKey::Ubuntu { version, .. } => after("Ubuntu:")
                .is_some_and(|rest| rest == version || rest.strip_suffix(":LTS") == Some(version)),
            OsKey::Alpine(mm) => after("Alpine:v") == Some(mm),
            OsKey::Wolfi => eco == "Wolfi",
            OsKey::Chainguard => eco == "Chainguard",
            OsKey::Rocky(m) => after("Rocky Linux:") == Some(m),
            OsKey::Alma(m) => after("AlmaLinux:") == Some(m),
            OsKey::RedHat(m) => after("Red Hat:enterprise_linux:")
                .and_then(|rest| rest.strip_prefix(m))
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(':')),
            OsKey::Azure(mm) => after("Azure Linux:") == Some(mm),
            OsKey::Mariner(v) => after("Mariner:") == Some(v),
            OsKey::OpenSuseLeap(v) => after("openSUSE:Leap ") == Some(v),
        }
    }
}

/// The language ecosystem of a package kind; `None` for OS package kinds.
fn language_ecosystem(kind: PackageKind) -> Option<&'static str> {
    Some(match kind {
        PackageKind::Python => "PyPI",
        PackageKind::Npm => "npm",
        PackageKind::GoModule => "Go",
        PackageKind::Java => "Maven",
        PackageKind::Rust => "crates.io",
        PackageKind::Gem => "RubyGems",
        PackageKind::Deb | PackageKind::Apk | PackageKind::Rpm => return None,
    })
}

fn is_os_kind(kind: PackageKind) -> bool {
    matches!(kind, PackageKind::Deb | PackageKind::Apk | PackageKind::Rpm)
}

/// The name advisories use for a package: OS advisories name source packages.
fn advisory_name(pkg: &Package) -> &str {
    if is_os_kind(pkg.kind) {
        pkg.source_name
            .as_deref()
            .filter(|s| !s.is_empty())
            .unwrap_or(&pkg.name)
    } else {
        &pkg.name
    }
}

/// A second name advisories may use: RPM distributions file some records under binary
/// package names (`openssl-libs`) rather than the source RPM's (`openssl`).
fn alternate_name(pkg: &Package) -> Option<&str> {
    let primary = advisory_name(pkg);
    (pkg.kind == PackageKind::Rpm && pkg.name != primary).then_some(pkg.name.as_str())
}

/// The version advisories compare: OS advisories are about source versions.
fn advisory_version(pkg: &Package) -> &str {
    if is_os_kind(pkg.kind) {
        pkg.source_version
            .as_deref()
            .filter(|s| !s.is_empty())
            .unwrap_or(&pkg.version)
    } else {
        &pkg.version
    }
}

/// Whether two package names are the same in `ecosystem` (PyPI names compare PEP 503
/// normalized, every other ecosystem's exactly).
fn same_name(ecosystem: &str, a: &str, b: &str) -> bool {
    if ecosystem == "PyPI" {
        normalized_chars(a).eq(normalized_chars(b))
    } else {
        a == b
    }
}

/// The language ecosystems OSV may suffix with `:<repository URL>` (`Maven:https://maven.google.com`):
/// the part before the first `:`, when it is one this crate matches.
fn language_base(ecosystem: &str) -> Option<&str> {
    let base = ecosystem.split(':').next().unwrap_or(ecosystem);
    matches!(
        base,
        "PyPI" | "npm" | "Go" | "Maven" | "crates.io" | "RubyGems"
    )
    .then_some(base)
}

/// The key a store should index an advisory's `(ecosystem, name)` pair under so that
/// [`lookup_keys`] finds it: language ecosystems without a repository suffix, PyPI names PEP 503
/// normalized, everything else as written.
pub fn index_key(ecosystem: &str, name: &str) -> (String, String) {
    let ecosystem = language_base(ecosystem).unwrap_or(ecosystem);
    let name = if ecosystem == "PyPI" {
        normalized_chars(name).collect()
    } else {
        name.to_string()
    };
    (ecosystem.to_string(), name)
}

/// The (OSV ecosystem, package name) pairs under which advisories for `pkg` are filed, for a
/// store to look them up (`("Debian:12", <source package>)`, `("PyPI", <name>)`). Empty when the
/// package's ecosystem has no OSV counterpart (an OS package of an unknown OS). PyPI names come
/// both as written and PEP 503 normalized (the form [`index_key`] stores).
pub fn lookup_keys(pkg: &Package, os: Option<&OsRelease>) -> Vec<(String, String)> {
    let name = advisory_name(pkg);
    if let Some(eco) = language_ecosystem(pkg.kind) {
        let mut keys = vec![(eco.to_string(), name.to_string())];
        if eco == "PyPI" {
            let normalized: String = normalized_chars(name).collect();
            if normalized != name {
                keys.push((eco.to_string(), normalized));
            }
        }
        return keys;
    }
    match os.and_then(os_key) {
        Some(key) if key.suits(pkg.kind) => key
            .ecosystems()
            .into_iter()
            .flat_map(|eco| {
                let alternate = alternate_name(pkg).map(|alt| (eco.clone(), alt.to_string()));
                std::iter::once((eco, name.to_string())).chain(alternate)
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether an `affected` entry is about `pkg` on `os`, by ecosystem and name.
fn applies(pkg: &Package, os: Option<&OsRelease>, affected: &Affected) -> bool {
    let Some(p) = &affected.package else {
        return false;
    };
    let eco_ok = match language_ecosystem(pkg.kind) {
        Some(eco) => language_base(&p.ecosystem) == Some(eco),
        None => os
            .and_then(os_key)
            .is_some_and(|key| key.suits(pkg.kind) && key.matches(&p.ecosystem)),
    };
    eco_ok
        && (same_name(&p.ecosystem, advisory_name(pkg), &p.name)
            || alternate_name(pkg).is_some_and(|alt| alt == p.name))
}

/// Compares two event versions, where an `introduced: "0"` sorts before everything.
fn cmp_events(scheme: Scheme, a: &Event, b: &Event) -> Option<Ordering> {
    let zero = |e: &Event| matches!(e, Event::Introduced(v) if v == "0");
    match (zero(a), zero(b)) {
        (true, true) => Some(Ordering::Equal),
        (true, false) => Some(Ordering::Less),
        (false, true) => Some(Ordering::Greater),
        (false, false) => scheme.compare(a.version(), b.version()),
    }
}

/// Evaluates one range for version `v` as OSV's algorithm does (walk the events in version
/// order; `introduced` at or below `v` sets "affected", `fixed` at or below and `last_affected`
/// below `v` clear it; a `limit` at or below `v` excludes it). The state after the walk is the
/// one set by the greatest event that fires, so one pass without sorting suffices; at equal
/// versions a clearing event wins. Returns `None` when `v` is not affected (or an event does not
/// parse), else the lowest `fixed` above `v`, if any.
fn evaluate<'a>(scheme: Scheme, v: &str, events: &'a [Event]) -> Option<Option<&'a str>> {
    let mut last: Option<&Event> = None;
    let mut fixed: Option<&Event> = None;
    for e in events {
        let fires = match e {
            Event::Introduced(x) if x == "0" => true,
            Event::Introduced(x) => scheme.compare(v, x)? != Ordering::Less,
            Event::Fixed(x) | Event::Limit(x) => scheme.compare(v, x)? != Ordering::Less,
            Event::LastAffected(x) => scheme.compare(v, x)? == Ordering::Greater,
        };
        if !fires {
            if let Event::Fixed(_) = e {
                let lower = match fixed {
                    None => true,
                    Some(f) => cmp_events(scheme, e, f)? == Ordering::Less,
                };
                if lower {
                    fixed = Some(e);
                }
            }
            continue;
        }
        if let Event::Limit(_) = e {
            return None;
        }
        let later = match last {
            None => true,
            Some(l) => match cmp_events(scheme, e, l)? {
                Ordering::Greater => true,
                Ordering::Equal => !matches!(e, Event::Introduced(_)),
                Ordering::Less => false,
            },
        };
        if later {
            last = Some(e);
        }
    }
    match last {
        Some(Event::Introduced(_)) => Some(fixed.map(Event::version)),
        _ => None,
    }
}

/// Whether `affected` covers version `v`: listed in `versions`, or inside a range. Returns the
/// fixed version of the matched range (if any) when it does.
fn covers<'a>(affected: &'a Affected, ecosystem: &str, v: &str) -> Option<Option<&'a str>> {
    let scheme = Scheme::for_ecosystem(ecosystem);
    let v_ok = |s: Scheme| s.is_valid(v);
    for range in &affected.ranges {
        let range_scheme = match range.kind {
            RangeKind::Ecosystem => scheme,
            RangeKind::Semver if scheme == Some(Scheme::Go) => Some(Scheme::Go),
            RangeKind::Semver => Some(Scheme::SemVer),
            RangeKind::Git | RangeKind::Unknown => None,
        };
        let Some(s) = range_scheme.filter(|s| v_ok(*s)) else {
            continue;
        };
        if let Some(fixed) = evaluate(s, v, &range.events) {
            return Some(fixed);
        }
    }
    let listed = affected
        .versions
        .iter()
        .any(|x| x == v || scheme.is_some_and(|s| s.compare(x, v) == Some(Ordering::Equal)));
    listed.then_some(None)
}

/// The references of a finding: `ADVISORY` links first, then the others in record order,
/// without duplicates; the OSV page when the record has none.
fn references(advisory: &Advisory) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(advisory.references.len());
    let advisories = advisory.references.iter().filter(|r| r.kind == "ADVISORY");
    let others = advisory.references.iter().filter(|r| r.kind != "ADVISORY");
    for r in advisories.chain(others) {
        if !r.url.is_empty() && !out.contains(&r.url) {
            out.push(r.url.clone());
        }
    }
    if out.is_empty() {
        out.push(format!("https://osv.dev/vulnerability/{}", advisory.id));
    }
    out
}

/// The name ECR shows: the first CVE id among the record's id, aliases and upstream ids, else
/// its id.
fn display_name(advisory: &Advisory) -> &str {
    std::iter::once(&advisory.id)
        .chain(advisory.aliases.iter())
        .chain(advisory.upstream.iter())
        .find(|id| id.starts_with("CVE-"))
        .unwrap_or(&advisory.id)
}

/// Whether `advisory` affects `pkg` (on `os`), and the finding if so. Withdrawn records never
/// match; neither do ranges whose versions (or the package's) the ecosystem cannot order.
pub fn match_package(
    pkg: &Package,
    os: Option<&OsRelease>,
    advisory: &Advisory,
) -> Option<Finding> {
    if advisory.is_withdrawn() {
        return None;
    }
    let version = advisory_version(pkg);
    let (affected, fixed) = advisory.affected.iter().find_map(|a| {
        if !applies(pkg, os, a) {
            return None;
        }
        let eco = a.package.as_ref().map_or("", |p| p.ecosystem.as_str());
        covers(a, eco, version).map(|fixed| (a, fixed))
    })?;
    let assessment = severity::assess(advisory, Some(affected));
    let non_empty = |s: &Option<String>| s.clone().filter(|s| !s.trim().is_empty());
    Some(Finding {
        name: display_name(advisory).to_string(),
        advisory_id: advisory.id.clone(),
        aliases: advisory.aliases.clone(),
        summary: non_empty(&advisory.summary),
        description: non_empty(&advisory.details).or_else(|| non_empty(&advisory.summary)),
        severity: assessment.severity,
        cvss_score: assessment.score,
        cvss_vector: assessment.vector,
        cvss_version: assessment.version,
        package: pkg.clone(),
        fixed_version: fixed.map(str::to_string),
        references: references(advisory),
        published: non_empty(&advisory.published),
        modified: Some(advisory.modified.clone()).filter(|m| !m.is_empty()),
    })
}

/// Matches `pkg` against every advisory given (typically those [`lookup_keys`] found) and keeps
/// one finding per name: several records (a GHSA and a PYSEC aliasing one CVE) describe the same
/// vulnerability. Of duplicates, the one with a CVSS score, then the more severe, is kept.
/// Findings come sorted by name.
pub fn match_advisories<'a>(
    pkg: &Package,
    os: Option<&OsRelease>,
    advisories: impl IntoIterator<Item = &'a Advisory>,
) -> Vec<Finding> {
    let mut findings: Vec<Finding> = Vec::new();
    for advisory in advisories {
        let Some(f) = match_package(pkg, os, advisory) else {
            continue;
        };
        match findings.iter_mut().find(|g| g.name == f.name) {
            Some(g) => {
                let rank = |x: &Finding| {
                    let sev = if x.severity == Severity::Undefined {
                        0
                    } else {
                        x.severity as u8 + 1
                    };
                    (x.cvss_score.is_some(), sev)
                };
                if rank(&f) > rank(g) {
                    *g = f;
                }
            }
            None => findings.push(f),
        }
    }
    findings.sort_by(|a, b| a.name.cmp(&b.name));
    findings
}

#[cfg(test)]
mod tests;
