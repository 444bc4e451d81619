//! The generated OSV database of the scan benchmark: records for every name the image planted
//! (`image::Subject`), a known share of which affect the installed version, and filler records
//! for other names up to the requested total, serialized as osv.dev writes them (with the fields
//! a parser must skip: `schema_version`, `credits`, `database_specific` objects, CWE lists).
//!
//! For each planted name, record `j` takes shape `j % 10`; shapes 0, 3, 7, 8 and 9 affect the
//! installed version, the others must not match:
//! 0. `introduced 0, fixed <higher>` (a Debian stable update or a micro release for half);
//! 1. `introduced 0, fixed <lower>` (an epoch-less Debian version that looks higher, a `~`
//!    revision, a release candidate, a SemVer prerelease);
//! 2. `introduced 0, fixed <equal>` (for a two-part PEP 440 version, spelled `a.b.0`);
//! 3. `introduced <lower>, last_affected <equal>`;
//! 4. `introduced <higher>, fixed <higher still>`;
//! 5. withdrawn, with an affecting range;
//! 6. an affecting range under another key (Debian 11, another PyPI name, the npm name in PyPI);
//! 7. two `affected` entries: another key's first, then an affecting one;
//! 8. Debian: `introduced 0` and no fix; PyPI and npm: only a `versions` list holding it;
//! 9. two ranges: one that does not cover it, then one that does.
//!
//! Each affecting record yields one finding per inventory package filed under its name, which
//! gives the exact number of findings matching must produce.

use crate::image::{Eco, Subject};
use crate::Rng;
use serde_json::{json, Value};
use std::collections::HashSet;

/// Records per planted name: 6 to 14, about 10.
const PLANTED_MIN: u64 = 6;
const PLANTED_SPREAD: u64 = 9;

const CVSS: &[&str] = &[
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
    "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N",
    "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H",
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L",
];
const CWES: &[&str] = &[
    "CWE-79", "CWE-787", "CWE-400", "CWE-22", "CWE-125", "CWE-1333",
];
const URGENCY: &[&str] = &["low", "medium", "high", "unimportant", "not yet assigned"];

/// The serialized records and how many findings matching the image against them must give.
pub struct Database {
    pub records: Vec<Vec<u8>>,
    pub planted_records: usize,
    pub expected_findings: usize,
}

pub fn generate(subjects: &[Subject], total: usize) -> Database {
    let mut rng = Rng(0x0005_1EED_CAFE_F00D);
    let mut records = Vec::with_capacity(total);
    let mut expected_findings = 0;
    let mut seq = 0u64;
    for s in subjects {
        let count = PLANTED_MIN + rng.below(PLANTED_SPREAD);
        for j in 0..count {
            seq += 1;
            let (record, affects) = planted(&mut rng, s, j % 10, seq);
            if affects {
                expected_findings += s.packages;
            }
            records.push(serde_json::to_vec(&record).expect("serializing a JSON value"));
        }
    }
    let planted_records = records.len();
    let taken: HashSet<String> = subjects.iter().map(|s| s.name.clone()).collect();
    // About eight records per filler name, as osv.dev averages.
    let names = (total.saturating_sub(planted_records) / 8).max(1);
    while records.len() < total {
        seq += 1;
        let record = filler(&mut rng, &taken, names, seq);
        records.push(serde_json::to_vec(&record).expect("serializing a JSON value"));
    }
    Database {
        records,
        planted_records,
        expected_findings,
    }
}

fn ecosystem(eco: Eco) -> &'static str {
    match eco {
        Eco::Debian => "Debian:12",
        Eco::PyPI => "PyPI",
        Eco::Npm => "npm",
    }
}

fn range(eco: Eco, events: Value) -> Value {
    let kind = if eco == Eco::Npm {
        "SEMVER"
    } else {
        "ECOSYSTEM"
    };
    json!({"type": kind, "events": events})
}

fn affected(eco: &str, name: &str, ranges: Vec<Value>, versions: Vec<String>) -> Value {
    let purl = match eco {
        "PyPI" => format!("pkg:pypi/{name}"),
        "npm" => format!("pkg:npm/{}", name.replace('@', "%40")),
        _ => format!("pkg:deb/debian/{name}?arch=source"),
    };
    let mut a = json!({
        "package": {"ecosystem": eco, "name": name, "purl": purl},
        "ranges": ranges,
    });
    if !versions.is_empty() {
        a["versions"] = json!(versions);
    }
    if eco.starts_with("Debian") {
        a["ecosystem_specific"] = json!({"urgency": URGENCY[(name.len()) % URGENCY.len()]});
    } else {
        a["database_specific"] = json!({"source": "https://github.com/advisories/x.json"});
    }
    a
}

/// One record planted for `s` in shape `shape`, and whether it affects the installed version.
fn planted(rng: &mut Rng, s: &Subject, shape: u64, seq: u64) -> (Value, bool) {
    let v = &s.version;
    let eco = ecosystem(s.eco);
    let r = |events| range(s.eco, events);
    let zero_to = |fixed: String| json!([{"introduced": "0"}, {"fixed": fixed}]);
    // PyPI and npm records list affected versions too; these all sort below any installed one.
    let listed = |rng: &mut Rng| -> Vec<String> {
        if s.eco == Eco::Debian {
            return Vec::new();
        }
        (0..rng.below(12)).map(|k| format!("0.{k}.0")).collect()
    };
    let other_key = match s.eco {
        Eco::Debian => ("Debian:11", s.name.clone()),
        Eco::PyPI => ("PyPI", format!("{}-extras", s.name)),
        Eco::Npm => ("PyPI", s.name.clone()),
    };
    let mut withdrawn = false;
    let (entries, affects) = match shape {
        0 => {
            let fixed = v.higher(rng.below(2) == 0);
            (
                vec![affected(eco, &s.name, vec![r(zero_to(fixed))], listed(rng))],
                true,
            )
        }
        1 => (
            vec![affected(
                eco,
                &s.name,
                vec![r(zero_to(v.lower()))],
                Vec::new(),
            )],
            false,
        ),
        2 => (
            vec![affected(
                eco,
                &s.name,
                vec![r(zero_to(v.equal()))],
                Vec::new(),
            )],
            false,
        ),
        3 => {
            let events = json!([{"introduced": v.lower()}, {"last_affected": v.equal()}]);
            (
                vec![affected(eco, &s.name, vec![r(events)], Vec::new())],
                true,
            )
        }
        4 => {
            let events = json!([{"introduced": v.higher(false)}, {"fixed": v.higher2()}]);
            (
                vec![affected(eco, &s.name, vec![r(events)], Vec::new())],
                false,
            )
        }
        5 => {
            withdrawn = true;
            (
                vec![affected(
                    eco,
                    &s.name,
                    vec![r(zero_to(v.higher(false)))],
                    Vec::new(),
                )],
                false,
            )
        }
        6 => {
            let (eco, name) = other_key;
            (
                vec![affected(
                    eco,
                    &name,
                    vec![r(zero_to(v.higher(false)))],
                    Vec::new(),
                )],
                false,
            )
        }
        7 => {
            let (other_eco, other_name) = other_key;
            let fixed = v.higher(false);
            let first = affected(
                other_eco,
                &other_name,
                vec![r(zero_to(fixed.clone()))],
                Vec::new(),
            );
            (
                vec![
                    first,
                    affected(eco, &s.name, vec![r(zero_to(fixed))], Vec::new()),
                ],
                true,
            )
        }
        8 if s.eco == Eco::Debian => {
            let events = json!([{"introduced": "0"}]);
            (
                vec![affected(eco, &s.name, vec![r(events)], Vec::new())],
                true,
            )
        }
        8 => {
            let mut versions = listed(rng);
            versions.push(v.installed());
            (vec![affected(eco, &s.name, Vec::new(), versions)], true)
        }
        _ => {
            let first = r(zero_to(v.lower()));
            let second = r(json!([{"introduced": v.equal()}, {"fixed": v.higher(false)}]));
            (
                vec![affected(eco, &s.name, vec![first, second], listed(rng))],
                true,
            )
        }
    };
    let mut record = envelope(rng, s.eco, seq, entries);
    if withdrawn {
        record["withdrawn"] = json!("2025-06-01T00:00:00Z");
    }
    (record, affects)
}

/// A record for a name the image does not hold, in Debian (one to three releases), PyPI or npm
/// (some of them malicious-package reports, which affect every version).
fn filler(rng: &mut Rng, taken: &HashSet<String>, names: usize, seq: u64) -> Value {
    let n = rng.below(names as u64);
    let word = |k: u64| crate::image::word(n.wrapping_mul(31).wrapping_add(k));
    let mut name = format!("{}-{}{n}", word(1), word(2));
    while taken.contains(&name) {
        name.push('x');
    }
    let roll = rng.below(100);
    let (eco, entries) = if roll < 45 {
        let version = format!(
            "{}.{}.{}-{}",
            rng.below(5),
            rng.below(40),
            rng.below(20),
            1 + rng.below(5)
        );
        let releases = 1 + rng.below(3);
        let entries = (0..releases)
            .map(|k| {
                let events =
                    json!([{"introduced": "0"}, {"fixed": format!("{version}+deb{}u1", 12 - k)}]);
                affected(
                    &format!("Debian:{}", 12 - k),
                    &name,
                    vec![range(Eco::Debian, events)],
                    Vec::new(),
                )
            })
            .collect();
        (Eco::Debian, entries)
    } else {
        let eco = if roll < 70 { Eco::PyPI } else { Eco::Npm };
        let (a, b) = (rng.below(8), rng.below(30));
        let events = if rng.below(10) == 0 {
            json!([{"introduced": "0"}])
        } else {
            json!([{"introduced": format!("{a}.0.0")}, {"fixed": format!("{a}.{b}.{}", 1 + rng.below(9))}])
        };
        let versions = (0..rng.below(20)).map(|k| format!("{a}.{k}.0")).collect();
        let entries = vec![affected(
            ecosystem(eco),
            &name,
            vec![range(eco, events)],
            versions,
        )];
        (eco, entries)
    };
    envelope(rng, eco, seq, entries)
}

/// The parts of a record around its `affected` list: ids, dates, text, references, severity.
fn envelope(rng: &mut Rng, eco: Eco, seq: u64, affected: Vec<Value>) -> Value {
    let year = 2016 + seq % 10;
    let cve = format!("CVE-{year}-{}", 10_000 + seq);
    let details = crate::image::words_between(rng, 200, 1_000);
    let summary = crate::image::words_between(rng, 40, 60);
    let modified = format!(
        "2025-{:02}-{:02}T{:02}:00:00Z",
        1 + seq % 12,
        1 + seq % 28,
        seq % 24
    );
    let published = format!("{year}-{:02}-{:02}T00:00:00Z", 1 + seq % 12, 1 + seq % 28);
    let mut record = match eco {
        Eco::Debian => {
            let id = match seq % 3 {
                0 => format!("DSA-{}-1", 4_000 + seq),
                1 => format!("DLA-{}-1", 3_000 + seq),
                _ => format!("DEBIAN-{cve}"),
            };
            json!({
                "schema_version": "1.6.0",
                "id": id,
                "modified": modified,
                "published": published,
                "upstream": [cve],
                "details": details,
                "affected": affected,
                "references": [
                    {"type": "ADVISORY", "url": format!("https://security-tracker.debian.org/tracker/{cve}")},
                ],
            })
        }
        Eco::PyPI | Eco::Npm => {
            let ghsa = ghsa(seq);
            let id = if eco == Eco::PyPI && seq.is_multiple_of(4) {
                format!("PYSEC-{year}-{seq}")
            } else {
                ghsa.clone()
            };
            json!({
                "schema_version": "1.6.0",
                "id": id,
                "modified": modified,
                "published": published,
                "aliases": [cve],
                "summary": summary.replace('\n', " ").trim(),
                "details": details,
                "severity": [{"type": "CVSS_V3", "score": CVSS[(seq % CVSS.len() as u64) as usize]}],
                "affected": affected,
                "references": [
                    {"type": "ADVISORY", "url": format!("https://nvd.nist.gov/vuln/detail/{cve}")},
                    {"type": "WEB", "url": format!("https://github.com/example/project/issues/{seq}")},
                    {"type": "PACKAGE", "url": "https://github.com/example/project"},
                ],
                "database_specific": {
                    "cwe_ids": [CWES[(seq % CWES.len() as u64) as usize]],
                    "severity": "HIGH",
                    "github_reviewed": true,
                    "github_reviewed_at": published,
                    "nvd_published_at": published,
                },
                "credits": [{"name": "a researcher", "type": "FINDER"}],
            })
        }
    };
    if rng.below(5) == 0 {
        record["related"] = json!([ghsa(seq + 1)]);
    }
    record
}

/// A GHSA-shaped id unique to `seq` (its first eight characters are `seq` in base 20).
fn ghsa(seq: u64) -> String {
    const ALPHABET: &[u8] = b"23456789cfghjmpqrvwx";
    let mut x = seq;
    let mut out = String::from("GHSA");
    for group in 0..3 {
        out.push('-');
        if group == 2 {
            x = seq.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11;
        }
        for _ in 0..4 {
            let c = ALPHABET[(x % ALPHABET.len() as u64) as usize];
            out.push(c as char);
            x /= ALPHABET.len() as u64;
        }
    }
    out
}
