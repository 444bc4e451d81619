//! ECR's severities and how an advisory's CVSS vectors map to them. CVSS v3.x and v4.0 vectors
//! are scored with RustSec's `cvss` crate (base metrics only), v2 vectors with the v2 base
//! equation here (the crate has none); without a usable vector the words databases attach
//! (GitHub's `severity`, Ubuntu's priority, Debian's `urgency`) decide; with neither the
//! severity is `Undefined`.

use crate::osv::{Advisory, Affected, SeverityWords};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// ECR's finding severities (`FindingSeverity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Severity {
    Informational,
    Low,
    Medium,
    High,
    Critical,
    Undefined,
}

impl Severity {
    /// The severity of a CVSS base score: 0 is informational, then the CVSS bands
    /// (0.1–3.9 low, 4.0–6.9 medium, 7.0–8.9 high, 9.0–10 critical).
    pub fn from_score(score: f64) -> Severity {
        if score >= 9.0 {
            Severity::Critical
        } else if score >= 7.0 {
            Severity::High
        } else if score >= 4.0 {
            Severity::Medium
        } else if score > 0.0 {
            Severity::Low
        } else {
            Severity::Informational
        }
    }

    /// The severity a database word names, case-insensitively: GitHub's `CRITICAL`, `HIGH`,
    /// `MODERATE`, `LOW`; Ubuntu's and Red Hat's `critical`/`important`/`medium`/`low`/
    /// `negligible`; Debian's urgencies (`unimportant`, and `low**`-style unconfirmed marks).
    /// `None` for words that assign nothing (`not yet assigned`, `untriaged`, `end-of-life`).
    pub fn from_word(word: &str) -> Option<Severity> {
        let w = word
            .trim()
            .trim_end_matches('*')
            .trim()
            .to_ascii_lowercase();
        Some(match w.as_str() {
            "critical" => Severity::Critical,
            "high" | "important" => Severity::High,
            "moderate" | "medium" => Severity::Medium,
            "low" => Severity::Low,
            "negligible" | "unimportant" | "informational" | "info" | "none" => {
                Severity::Informational
            }
            _ => return None,
        })
    }

    /// ECR's spelling (`CRITICAL`, `INFORMATIONAL`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Informational => "INFORMATIONAL",
            Severity::Low => "LOW",
            Severity::Medium => "MEDIUM",
            Severity::High => "HIGH",
            Severity::Critical => "CRITICAL",
            Severity::Undefined => "UNDEFINED",
        }
    }
}

/// A severity and, when a CVSS vector decided it, the vector, its base score and its version.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    pub severity: Severity,
    pub score: Option<f64>,
    pub vector: Option<String>,
    /// `2.0`, `3.0`, `3.1` or `4.0`.
    pub version: Option<String>,
}

/// The eight CVSS v3 base metrics; temporal and environmental ones are dropped before scoring
/// because the crate reads base vectors only.
const V3_BASE: [&str; 8] = ["AV", "AC", "PR", "UI", "S", "C", "I", "A"];

/// Scores a CVSS v3.x or v4.0 vector: `(base score, "3.1")`. `None` for other versions,
/// malformed vectors and v3 vectors missing a base metric.
pub fn score_vector(vector: &str) -> Option<(f64, &'static str)> {
    let vector = vector.trim();
    if let Some(rest) = vector.strip_prefix("CVSS:3.") {
        let version = match rest.split('/').next() {
            Some("0") => "3.0",
            Some("1") => "3.1",
            _ => return None,
        };
        let mut base = String::with_capacity(vector.len());
        base.push_str("CVSS:");
        base.push_str(version);
        let mut seen = 0;
        for part in rest.split('/').skip(1) {
            let key = part.split(':').next().unwrap_or_default();
            if V3_BASE.contains(&key) {
                base.push('/');
                base.push_str(part);
                seen += 1;
            }
        }
        if seen != V3_BASE.len() {
            return None;
        }
        let parsed = cvss::v3::Base::from_str(&base).ok()?;
        return Some((parsed.score().value(), version));
    }
    if vector.starts_with("CVSS:4.0/") {
        let parsed = cvss::v4::Vector::from_str(vector).ok()?;
        return Some((parsed.score().value(), "4.0"));
    }
    None
}

/// Scores a CVSS v2 base vector (`AV:N/AC:L/Au:N/C:P/I:P/A:P`, optionally prefixed `CVSS:2.0/`
/// or in parentheses) with the v2 base equation, which the `cvss` crate does not implement.
/// `None` unless all six base metrics are present and valid.
pub fn score_v2(vector: &str) -> Option<f64> {
    let v = vector.trim().trim_start_matches('(').trim_end_matches(')');
    let v = v.strip_prefix("CVSS:2.0/").unwrap_or(v);
    let weight = |table: &[(&str, f64)], value: &str| {
        table.iter().find(|(k, _)| *k == value).map(|(_, w)| *w)
    };
    // [access vector, access complexity, authentication, confidentiality, integrity, availability]
    let mut metrics: [Option<f64>; 6] = [None; 6];
    for part in v.split('/') {
        let (key, value) = part.split_once(':')?;
        let (slot, table) = match key {
            "AV" => (0, &V2_AV[..]),
            "AC" => (1, &V2_AC[..]),
            "Au" => (2, &V2_AU[..]),
            "C" => (3, &V2_IMPACT[..]),
            "I" => (4, &V2_IMPACT[..]),
            "A" => (5, &V2_IMPACT[..]),
            // Temporal and environmental metrics do not change the base score.
            _ => continue,
        };
        if let Some(m) = metrics.get_mut(slot) {
            *m = Some(weight(table, value)?);
        }
    }
    let [av, ac, au, c, i, a] = metrics;
    let (av, ac, au, c, i, a) = (av?, ac?, au?, c?, i?, a?);
    let impact = 10.41 * (1.0 - (1.0 - c) * (1.0 - i) * (1.0 - a));
    let exploitability = 20.0 * av * ac * au;
    let f = if impact == 0.0 { 0.0 } else { 1.176 };
    let score = ((0.6 * impact) + (0.4 * exploitability) - 1.5) * f;
    Some((score * 10.0).round() / 10.0)
}

/// CVSS v2 metric weights, from the v2 specification's base equation.
const V2_AV: [(&str, f64); 3] = [("L", 0.395), ("A", 0.646), ("N", 1.0)];
const V2_AC: [(&str, f64); 3] = [("H", 0.35), ("M", 0.61), ("L", 0.71)];
const V2_AU: [(&str, f64); 3] = [("M", 0.45), ("S", 0.56), ("N", 0.704)];
const V2_IMPACT: [(&str, f64); 3] = [("N", 0.0), ("P", 0.275), ("C", 0.660)];

/// The severity of a CVSS v2 score by NVD's v2 bands, which stop at high.
fn from_v2_score(score: f64) -> Severity {
    match Severity::from_score(score) {
        Severity::Critical => Severity::High,
        other => other,
    }
}

fn from_words(words: &SeverityWords) -> Option<Severity> {
    words
        .severity
        .as_deref()
        .and_then(Severity::from_word)
        .or_else(|| words.urgency.as_deref().and_then(Severity::from_word))
}

/// The severity of `advisory` for the matched `affected` entry: the first scorable CVSS v3
/// vector (preferring 3.1 over 3.0), else a CVSS v4 vector, else a CVSS v2 vector, else the
/// words of the entry's
/// `ecosystem_specific`/`database_specific`, the record's `database_specific` or an Ubuntu
/// priority, else `Undefined`.
pub fn assess(advisory: &Advisory, affected: Option<&Affected>) -> Assessment {
    let scored = |prefix: &str| {
        advisory
            .severity
            .iter()
            .filter(|s| s.score.trim().starts_with(prefix))
            .find_map(|s| score_vector(&s.score).map(|(score, v)| (score, v, s.score.trim())))
    };
    let best = scored("CVSS:3.1/")
        .or_else(|| scored("CVSS:3.0/"))
        .or_else(|| scored("CVSS:4.0/"));
    if let Some((score, version, vector)) = best {
        return Assessment {
            severity: Severity::from_score(score),
            score: Some(score),
            vector: Some(vector.to_string()),
            version: Some(version.to_string()),
        };
    }
    let v2 = advisory
        .severity
        .iter()
        .filter(|s| s.kind == "CVSS_V2")
        .find_map(|s| score_v2(&s.score).map(|score| (score, s.score.trim())));
    if let Some((score, vector)) = v2 {
        return Assessment {
            severity: from_v2_score(score),
            score: Some(score),
            vector: Some(vector.to_string()),
            version: Some("2.0".to_string()),
        };
    }
    let word = affected
        .and_then(|a| {
            from_words(&a.ecosystem_specific).or_else(|| from_words(&a.database_specific))
        })
        .or_else(|| from_words(&advisory.database_specific))
        .or_else(|| {
            advisory
                .severity
                .iter()
                .filter(|s| !s.kind.starts_with("CVSS"))
                .find_map(|s| Severity::from_word(&s.score))
        });
    Assessment {
        severity: word.unwrap_or(Severity::Undefined),
        score: None,
        vector: None,
        version: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_map_to_bands() {
        let table = [
            (0.0, Severity::Informational),
            (0.1, Severity::Low),
            (3.9, Severity::Low),
            (4.0, Severity::Medium),
            (6.9, Severity::Medium),
            (7.0, Severity::High),
            (8.9, Severity::High),
            (9.0, Severity::Critical),
            (10.0, Severity::Critical),
        ];
        for (score, expected) in table {
            assert_eq!(Severity::from_score(score), expected, "{score}");
        }
    }

    #[test]
    fn vectors_score_exactly() {
        let table = [
            (
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                Some((9.8, "3.1")),
            ),
            (
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H",
                Some((8.8, "3.1")),
            ),
            (
                "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N",
                Some((5.9, "3.1")),
            ),
            (
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
                Some((6.1, "3.1")),
            ),
            (
                "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:N",
                Some((0.0, "3.1")),
            ),
            (
                "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N",
                Some((7.5, "3.0")),
            ),
            // Temporal metrics are ignored: the base score stays.
            (
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O/RC:C",
                Some((9.8, "3.1")),
            ),
            (
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
                Some((9.3, "4.0")),
            ),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H", None),
            ("CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", None),
            ("AV:N/AC:L/Au:N/C:P/I:P/A:P", None),
            ("CVSS:2.0/AV:N", None),
            ("", None),
        ];
        for (vector, expected) in table {
            assert_eq!(score_vector(vector), expected, "{vector}");
        }
    }

    #[test]
    fn v2_vectors_score_exactly() {
        let table = [
            ("AV:N/AC:L/Au:N/C:P/I:P/A:P", Some(7.5)),
            ("AV:N/AC:M/Au:N/C:N/I:P/A:N", Some(4.3)),
            ("AV:L/AC:L/Au:N/C:C/I:C/A:C", Some(7.2)),
            ("AV:N/AC:L/Au:N/C:C/I:C/A:C", Some(10.0)),
            ("AV:N/AC:L/Au:N/C:N/I:N/A:N", Some(0.0)),
            ("(AV:N/AC:L/Au:N/C:P/I:P/A:P)", Some(7.5)),
            ("CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P/E:F", Some(7.5)),
            ("AV:N/AC:L/Au:N/C:P/I:P", None),
            ("AV:X/AC:L/Au:N/C:P/I:P/A:P", None),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", None),
            ("", None),
        ];
        for (vector, expected) in table {
            assert_eq!(score_v2(vector), expected, "{vector}");
        }
    }

    #[test]
    fn words_map_to_severities() {
        let table = [
            ("CRITICAL", Some(Severity::Critical)),
            ("HIGH", Some(Severity::High)),
            ("important", Some(Severity::High)),
            ("MODERATE", Some(Severity::Medium)),
            ("medium", Some(Severity::Medium)),
            ("LOW", Some(Severity::Low)),
            ("low**", Some(Severity::Low)),
            ("unimportant", Some(Severity::Informational)),
            ("negligible", Some(Severity::Informational)),
            ("not yet assigned", None),
            ("end-of-life", None),
            ("", None),
        ];
        for (word, expected) in table {
            assert_eq!(Severity::from_word(word), expected, "{word}");
        }
    }

    #[test]
    fn assessment_prefers_v3_then_v4_then_words() {
        let parse = |json: &str| Advisory::parse(json.as_bytes()).unwrap();
        let both = parse(
            r#"{"id": "A", "severity": [
                {"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"},
                {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N"}],
                "database_specific": {"severity": "LOW"}}"#,
        );
        assert_eq!(
            assess(&both, None),
            Assessment {
                severity: Severity::Medium,
                score: Some(5.9),
                vector: Some("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N".into()),
                version: Some("3.1".into()),
            }
        );
        let v2 = parse(
            r#"{"id": "B", "severity": [{"type": "CVSS_V2", "score": "AV:N/AC:L/Au:N/C:C/I:C/A:C"}],
                "database_specific": {"severity": "MODERATE"}}"#,
        );
        // NVD's v2 bands stop at high.
        assert_eq!(
            assess(&v2, None),
            Assessment {
                severity: Severity::High,
                score: Some(10.0),
                vector: Some("AV:N/AC:L/Au:N/C:C/I:C/A:C".into()),
                version: Some("2.0".into()),
            }
        );
        let words = parse(
            r#"{"id": "B2", "severity": [{"type": "CVSS_V2", "score": "garbage"}],
                "database_specific": {"severity": "MODERATE"}}"#,
        );
        assert_eq!(assess(&words, None).severity, Severity::Medium);
        assert_eq!(assess(&words, None).score, None);
        let ubuntu = parse(r#"{"id": "C", "severity": [{"type": "Ubuntu", "score": "high"}]}"#);
        assert_eq!(assess(&ubuntu, None).severity, Severity::High);
        let debian = parse(
            r#"{"id": "D", "affected": [{"package": {"ecosystem": "Debian:12", "name": "x"},
                "ecosystem_specific": {"urgency": "unimportant"}}]}"#,
        );
        assert_eq!(
            assess(&debian, debian.affected.first()).severity,
            Severity::Informational
        );
        let nothing = parse(r#"{"id": "E"}"#);
        assert_eq!(assess(&nothing, None).severity, Severity::Undefined);
    }
}
