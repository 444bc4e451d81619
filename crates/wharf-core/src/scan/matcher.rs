//! Matching an inventory against the stored vulnerability database: the lookup keys of every
//! package, the advisories filed under them fetched in batches, each package matched against its
//! own advisories (on the blocking pool: parsing and version ordering are CPU work), and the
//! findings put in report order with the times they were first seen.

use super::{severity_rank, Inventory, ScanFinding, Severity};
use crate::{unix_now, CoreError, Registry};
use std::collections::{BTreeSet, HashMap};
use wharf_scan::matching::{lookup_keys, match_advisories};
use wharf_scan::Advisory;

/// A matched inventory, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Matched {
    pub findings: Vec<ScanFinding>,
    /// Findings per severity, only those with at least one, most severe first.
    pub counts: Vec<(Severity, u64)>,
    /// The inventory's lookup keys (continuous scanning finds the image by them).
    pub keys: Vec<(String, String)>,
    /// The database's update time the match ran against.
    pub source_updated_at: Option<i64>,
}

/// Identifies a finding across scans of one image.
type FindingKey = (String, String, String, String);

fn finding_key(f: &ScanFinding) -> FindingKey {
    (
        f.finding.advisory_id.clone(),
        f.finding.package.name.clone(),
        f.finding.package.version.clone(),
        f.finding.package.location.clone(),
    )
}

/// Report order: most severe first, then by name, then by package.
pub(crate) fn sort_findings(findings: &mut [ScanFinding]) {
    findings.sort_by(|a, b| {
        let key = |f: &ScanFinding| {
            (
                severity_rank(f.finding.severity),
                f.finding.name.clone(),
                f.finding.package.name.clone(),
                f.finding.package.version.clone(),
                f.finding.package.location.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
}

/// Findings per severity, most severe first, only severities that occur.
pub(crate) fn count_severities(findings: &[ScanFinding]) -> Vec<(Severity, u64)> {
    let mut counts: Vec<(Severity, u64)> = Vec::new();
    for f in findings {
        match counts.iter_mut().find(|(s, _)| *s == f.finding.severity) {
            Some((_, n)) => *n += 1,
            None => counts.push((f.finding.severity, 1)),
        }
    }
    counts.sort_by_key(|(s, _)| severity_rank(*s));
    counts
}

impl Registry {
    /// Matches `inventory` against the database. `previous` is the image's last findings JSON,
    /// whose first-observed times carry over. The inner `Err` is the FAILED reason when matching
    /// itself broke (a panic on some advisory): retrying would break the same way.
    pub(crate) async fn match_inventory(
        &self,
        inventory: &Inventory,
        previous: Option<&str>,
    ) -> Result<Result<Matched, String>, CoreError> {
        let source_updated_at = self.meta.vulndb_updated_at().await?;
        let os = inventory.os.as_ref();
        let per_package: Vec<Vec<(String, String)>> = inventory
            .packages
            .iter()
            .map(|p| lookup_keys(p, os))
            .collect();
        let keys: Vec<(String, String)> = per_package
            .iter()
            .flatten()
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let hits = self.meta.advisories_for_keys(&keys).await?;
        let inventory = inventory.clone();
        let previous: HashMap<FindingKey, i64> = previous
            .and_then(|p| serde_json::from_str::<Vec<ScanFinding>>(p).ok())
            .unwrap_or_default()
            .iter()
            .map(|f| (finding_key(f), f.first_observed_at))
            .collect();
        let now = unix_now();
        let task = tokio::task::spawn_blocking(move || {
            // Each advisory is parsed once, however many keys filed it.
            let mut advisories: HashMap<String, Advisory> = HashMap::new();
            let mut by_key: HashMap<(String, String), Vec<String>> = HashMap::new();
            for hit in hits {
                if !advisories.contains_key(&hit.id) {
                    match Advisory::parse(hit.document.as_bytes()) {
                        Ok(a) => {
                            advisories.insert(hit.id.clone(), a);
                        }
                        Err(e) => {
                            tracing::warn!(advisory = %hit.id, error = %e, "stored advisory no longer parses");
                            continue;
                        }
                    }
                }
                by_key
                    .entry((hit.ecosystem, hit.name))
                    .or_default()
                    .push(hit.id);
            }
            let os = inventory.os.as_ref();
            let mut findings = Vec::new();
            for (pkg, keys) in inventory.packages.iter().zip(&per_package) {
                let mut ids: Vec<&String> = keys
                    .iter()
                    .filter_map(|k| by_key.get(k))
                    .flatten()
                    .collect();
                ids.sort();
                ids.dedup();
                let candidates = ids.into_iter().filter_map(|id| advisories.get(id));
                for finding in match_advisories(pkg, os, candidates) {
                    let mut f = ScanFinding {
                        finding,
                        first_observed_at: now,
                        last_observed_at: now,
                    };
                    if let Some(first) = previous.get(&finding_key(&f)) {
                        f.first_observed_at = *first;
                    }
                    findings.push(f);
                }
            }
            sort_findings(&mut findings);
            findings
        });
        let findings = match task.await {
            Ok(f) => f,
            Err(e) => {
                tracing::error!(error = %e, "vulnerability matching panicked");
                return Ok(Err(
                    "the scanner stopped unexpectedly while matching advisories".into(),
                ));
            }
        };
        Ok(Ok(Matched {
            counts: count_severities(&findings),
            findings,
            keys,
            source_updated_at,
        }))
    }
}
