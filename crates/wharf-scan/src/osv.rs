//! OSV advisories: the subset of the OSV schema (<https://ossf.github.io/osv-schema/>) that
//! matching and reporting need, parsed from JSON. Unknown fields are skipped while parsing
//! rather than kept, and the free-form `database_specific`/`ecosystem_specific` objects are
//! reduced to the severity words they may carry, so a record stays small in memory.

use serde::{Deserialize, Deserializer, Serialize};

/// One OSV record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Advisory {
    pub id: String,
    /// RFC 3339 time of the record's last change.
    #[serde(default)]
    pub modified: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// Set when the record was withdrawn; a withdrawn record never matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Ids of the upstream records this one derives from (Alpine's and Ubuntu's records name
    /// their CVE here rather than in `aliases`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub upstream: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<Reference>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<SeverityScore>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub affected: Vec<Affected>,
    #[serde(
        default,
        skip_serializing_if = "SeverityWords::is_empty",
        deserialize_with = "lenient_words"
    )]
    pub database_specific: SeverityWords,
}

/// A reference link of a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    /// `ADVISORY`, `WEB`, `FIX`, `REPORT`, … as the record writes it.
    #[serde(rename = "type", default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    pub url: String,
}

/// One entry of the record's `severity` list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityScore {
    /// `CVSS_V2`, `CVSS_V3`, `CVSS_V4`, or an ecosystem's own (`Ubuntu`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The vector string for CVSS types, a word for `Ubuntu`.
    pub score: String,
}

/// The severity words a free-form `database_specific` or `ecosystem_specific` object may hold:
/// GitHub's `severity` (`CRITICAL`, `HIGH`, `MODERATE`, `LOW`), Debian's `urgency` (`low`,
/// `medium`, `high`, `unimportant`, …). Everything else in those objects is dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityWords {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "string_or_none"
    )]
    pub severity: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "string_or_none"
    )]
    pub urgency: Option<String>,
}

impl SeverityWords {
    pub fn is_empty(&self) -> bool {
        self.severity.is_none() && self.urgency.is_none()
    }
}

/// One `affected` entry: a package and the versions of it the record covers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Affected {
    /// Absent for records that only describe git commits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<AffectedPackage>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<Range>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
    #[serde(
        default,
        skip_serializing_if = "SeverityWords::is_empty",
        deserialize_with = "lenient_words"
    )]
    pub ecosystem_specific: SeverityWords,
    #[serde(
        default,
        skip_serializing_if = "SeverityWords::is_empty",
        deserialize_with = "lenient_words"
    )]
    pub database_specific: SeverityWords,
}

/// The package an `affected` entry is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffectedPackage {
    /// As written, with its release suffix (`Debian:12`, `Alpine:v3.19`, `PyPI`).
    pub ecosystem: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
}

/// How a range's event versions are to be ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RangeKind {
    /// SemVer 2.0 ordering.
    Semver,
    /// The ecosystem's own ordering.
    Ecosystem,
    /// Commit hashes; never matched against package versions.
    Git,
    /// A type this code does not know; never matched.
    #[serde(other)]
    Unknown,
}

/// An affected range: a kind and its events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    #[serde(rename = "type")]
    pub kind: RangeKind,
    #[serde(default, deserialize_with = "known_events")]
    pub events: Vec<Event>,
}

/// One event of a range; serialized as OSV writes it (`{"introduced": "1.0"}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// The first affected version; `"0"` means from the beginning.
    Introduced(String),
    /// The first version no longer affected.
    Fixed(String),
    /// The last affected version (inclusive).
    LastAffected(String),
    /// An upper bound: no version at or above it is affected by this range.
    Limit(String),
}

impl Event {
    pub fn version(&self) -> &str {
        match self {
            Event::Introduced(v) | Event::Fixed(v) | Event::LastAffected(v) | Event::Limit(v) => v,
        }
    }
}

/// The wire form of an event, with every key optional so unknown keys are skipped.
#[derive(Deserialize)]
struct RawEvent {
    introduced: Option<String>,
    fixed: Option<String>,
    last_affected: Option<String>,
    limit: Option<String>,
}

fn known_events<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Event>, D::Error> {
    let raw = Vec::<RawEvent>::deserialize(d)?;
    Ok(raw
        .into_iter()
        .filter_map(|e| {
            e.introduced
                .map(Event::Introduced)
                .or(e.fixed.map(Event::Fixed))
                .or(e.last_affected.map(Event::LastAffected))
                .or(e.limit.map(Event::Limit))
        })
        .collect())
}

/// Keeps a string value and drops any other JSON type (some databases put numbers or objects
/// under keys other databases use for words).
fn string_or_none<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Any {
        Text(String),
        Other(serde::de::IgnoredAny),
    }
    Ok(match Option::<Any>::deserialize(d)? {
        Some(Any::Text(s)) => Some(s),
        _ => None,
    })
}

/// Reads severity words from a free-form object; a value that is not an object (or `null`)
/// carries none.
fn lenient_words<'de, D: Deserializer<'de>>(d: D) -> Result<SeverityWords, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Any {
        Words(SeverityWords),
        Other(serde::de::IgnoredAny),
    }
    Ok(match Option::<Any>::deserialize(d)? {
        Some(Any::Words(w)) => w,
        _ => SeverityWords::default(),
    })
}

/// Why an OSV document could not be read.
#[derive(Debug, thiserror::Error)]
pub enum OsvError {
    #[error("not an OSV record: {0}")]
    Invalid(String),
}

impl Advisory {
    /// Parses one OSV JSON record.
    pub fn parse(json: &[u8]) -> Result<Advisory, OsvError> {
        let advisory: Advisory =
            serde_json::from_slice(json).map_err(|e| OsvError::Invalid(e.to_string()))?;
        if advisory.id.trim().is_empty() {
            return Err(OsvError::Invalid("empty id".to_string()));
        }
        Ok(advisory)
    }

    /// The (ecosystem, package name) pairs the record affects, exactly as the record spells
    /// them (`("Debian:12", "openssl")`, `("PyPI", "Django")`): the keys a store indexes it by.
    /// Each pair appears once, in the order of the record.
    pub fn keys(&self) -> Vec<(String, String)> {
        let mut keys: Vec<(String, String)> = Vec::new();
        for p in self.affected.iter().filter_map(|a| a.package.as_ref()) {
            if !keys.iter().any(|(e, n)| *e == p.ecosystem && *n == p.name) {
                keys.push((p.ecosystem.clone(), p.name.clone()));
            }
        }
        keys
    }

    /// Whether the record was withdrawn (and so must never match).
    pub fn is_withdrawn(&self) -> bool {
        self.withdrawn.as_deref().is_some_and(|w| !w.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_fields_matching_needs_and_skips_the_rest() {
        let json = br#"{
            "schema_version": "1.6.0",
            "id": "GHSA-xxxx-yyyy-zzzz",
            "modified": "2024-03-01T00:00:00Z",
            "published": "2024-02-01T00:00:00Z",
            "aliases": ["CVE-2024-0001"],
            "summary": "Bad thing",
            "details": "Longer text",
            "references": [{"type": "ADVISORY", "url": "https://example.com/a"}, {"type": "WEB", "url": "https://example.com/b"}],
            "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
            "affected": [{
                "package": {"ecosystem": "PyPI", "name": "Django", "purl": "pkg:pypi/django"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "4.2.1"}, {"weird": "x"}],
                            "database_specific": {"source": "x"}},
                           {"type": "NEW_KIND", "events": []}],
                "versions": ["4.2"],
                "ecosystem_specific": {"urgency": "high", "other": [1, 2]},
                "database_specific": {"severity": 7}
            }, {
                "package": {"ecosystem": "PyPI", "name": "Django"}
            }, {
                "ranges": [{"type": "GIT", "repo": "https://x", "events": [{"introduced": "abc"}]}]
            }],
            "database_specific": {"severity": "HIGH", "cwe_ids": ["CWE-79"], "github_reviewed": true},
            "credits": [{"name": "someone"}]
        }"#;
        let a = Advisory::parse(json).unwrap();
        assert_eq!(a.id, "GHSA-xxxx-yyyy-zzzz");
        assert_eq!(a.modified, "2024-03-01T00:00:00Z");
        assert_eq!(a.published.as_deref(), Some("2024-02-01T00:00:00Z"));
        assert_eq!(a.aliases, vec!["CVE-2024-0001"]);
        assert_eq!(a.references.len(), 2);
        assert_eq!(a.references[0].url, "https://example.com/a");
        assert_eq!(a.severity[0].kind, "CVSS_V3");
        assert_eq!(a.database_specific.severity.as_deref(), Some("HIGH"));
        let first = &a.affected[0];
        assert_eq!(
            first.ranges[0].events,
            vec![Event::Introduced("0".into()), Event::Fixed("4.2.1".into())]
        );
        assert_eq!(first.ranges[1].kind, RangeKind::Unknown);
        assert_eq!(first.ecosystem_specific.urgency.as_deref(), Some("high"));
        assert_eq!(first.database_specific, SeverityWords::default());
        assert_eq!(a.affected[2].package, None);
        assert_eq!(a.affected[2].ranges[0].kind, RangeKind::Git);
        assert_eq!(a.keys(), vec![("PyPI".to_string(), "Django".to_string())]);
        assert!(!a.is_withdrawn());
    }

    #[test]
    fn round_trips_through_its_compact_form() {
        let json = br#"{"id": "X-1", "modified": "2024-01-01T00:00:00Z",
            "affected": [{"package": {"ecosystem": "npm", "name": "a"},
                          "ranges": [{"type": "SEMVER", "events": [{"introduced": "1.0.0"}, {"last_affected": "1.2.0"}]}]}]}"#;
        let a = Advisory::parse(json).unwrap();
        let compact = serde_json::to_vec(&a).unwrap();
        assert_eq!(
            String::from_utf8(compact.clone()).unwrap(),
            r#"{"id":"X-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"a"},"ranges":[{"type":"SEMVER","events":[{"introduced":"1.0.0"},{"last_affected":"1.2.0"}]}]}]}"#
        );
        assert_eq!(Advisory::parse(&compact).unwrap(), a);
    }

    #[test]
    fn rejects_what_is_not_a_record() {
        for bad in [
            &b"[]"[..],
            b"{}",
            br#"{"id": ""}"#,
            b"not json",
            br#"{"id": 5}"#,
        ] {
            assert!(
                Advisory::parse(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn keys_are_distinct_and_in_record_order() {
        let json = br#"{"id": "DSA-1", "affected": [
            {"package": {"ecosystem": "Debian:12", "name": "openssl"}},
            {"package": {"ecosystem": "Debian:11", "name": "openssl"}},
            {"package": {"ecosystem": "Debian:12", "name": "openssl"}}]}"#;
        let a = Advisory::parse(json).unwrap();
        assert_eq!(
            a.keys(),
            vec![
                ("Debian:12".to_string(), "openssl".to_string()),
                ("Debian:11".to_string(), "openssl".to_string()),
            ]
        );
    }
}
