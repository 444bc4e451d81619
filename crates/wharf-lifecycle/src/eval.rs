//! `evaluate`: which images a policy expires or archives, and by which rule.
//!
//! The algorithm follows ECR's documented rules (reference §4.3):
//!
//! * Each storage class is evaluated on its own, by the rules of that class only, so a
//!   `transition` rule only ever sees STANDARD images and an archived image is never archived
//!   again.
//! * Rules run in `rulePriority` order, lowest number first. Each rule first finds the images
//!   its tag selection *matches*, then picks from those by its count (`imageCountMoreThan` keeps
//!   the newest N by push time; the `since*` counts pick images older than N days).
//! * An image is acted on by at most one rule: once any rule's tag selection has matched it, no
//!   later rule may act on it, even if the earlier rule left it alone (it is *shielded*). Later
//!   rules still count shielded images, "as if they haven't been expired".
//!
//! Images are sorted once per storage class (newest first, ties by digest), so the whole run is
//! `O(n log n)` plus one linear pass per rule.

use serde::{Deserialize, Serialize};

use crate::pattern::{all_entries_match_some_tag, pattern_matches};
use crate::policy::{Action, Count, LifecyclePolicy, TagFilter, TagSelection};
use crate::storage_class::StorageClass;

const SECONDS_PER_DAY: i64 = 86_400;

/// What the evaluator needs to know about one image (all times are Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageFacts {
    pub digest: String,
    /// The image's tags; empty for an untagged image.
    pub tags: Vec<String>,
    pub pushed_at: i64,
    /// The last recorded pull, if any.
    pub last_pulled_at: Option<i64>,
    /// When the image entered its current (archive) storage class, if it did.
    pub transitioned_at: Option<i64>,
    pub storage_class: StorageClass,
}

/// One image the policy acts on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub digest: String,
    /// The `rulePriority` of the rule that acts (ECR's `appliedRulePriority`).
    pub rule_priority: i64,
    pub action: Action,
}

/// Applies `policy` to `images` at time `now` (Unix seconds).
///
/// The decisions come ordered by rule priority, then oldest push first, then digest, which is
/// the order ECR removes images in ("expiry always removes older images before newer ones").
pub fn evaluate(policy: &LifecyclePolicy, images: &[ImageFacts], now: i64) -> Vec<Decision> {
    let mut acted: Vec<(i64, usize, Action)> = Vec::new();
    let mut shielded = vec![false; images.len()];
    for class in [StorageClass::Standard, StorageClass::Archive] {
        let mut rules = policy
            .rules()
            .iter()
            .filter(|r| r.selection.storage_class == class)
            .peekable();
        if rules.peek().is_none() {
            continue;
        }
        let mut order: Vec<usize> = (0..images.len())
            .filter(|&i| images[i].storage_class == class)
            .collect();
        order.sort_by(|&a, &b| {
            let (a, b) = (&images[a], &images[b]);
            b.pushed_at
                .cmp(&a.pushed_at)
                .then_with(|| a.digest.cmp(&b.digest))
        });

        for rule in rules {
            let matching: Vec<usize> = order
                .iter()
                .copied()
                .filter(|&i| tags_match(&rule.selection.tags, &images[i].tags))
                .collect();
            // `matching` is newest first, so its index is the rank a count rule keeps by.
            for (rank, &i) in matching.iter().enumerate() {
                if !shielded[i] && picked(rule.selection.count, rank, &images[i], now) {
                    acted.push((rule.priority, i, rule.action));
                }
            }
            for &i in &matching {
                shielded[i] = true;
            }
        }
    }

    acted.sort_by(|(pa, a, _), (pb, b, _)| {
        pa.cmp(pb)
            .then_with(|| images[*a].pushed_at.cmp(&images[*b].pushed_at))
            .then_with(|| images[*a].digest.cmp(&images[*b].digest))
    });
    acted
        .into_iter()
        .map(|(rule_priority, i, action)| Decision {
            digest: images[i].digest.clone(),
            rule_priority,
            action,
        })
        .collect()
}

/// Whether a count picks the image ranked `rank` (0 = newest) among the images a rule matches.
fn picked(count: Count, rank: usize, image: &ImageFacts, now: i64) -> bool {
    match count {
        Count::ImageCountMoreThan(keep) => usize::try_from(keep).is_ok_and(|keep| rank >= keep),
        Count::SinceImagePushed { days } => older_than(Some(image.pushed_at), days, now),
        Count::SinceImagePulled { days } => older_than(
            Some(image.last_pulled_at.unwrap_or(image.pushed_at)),
            days,
            now,
        ),
        Count::SinceImageTransitioned { days } => older_than(image.transitioned_at, days, now),
    }
}

/// Whether a rule's tag selection matches an image with these tags.
fn tags_match(selection: &TagSelection, tags: &[String]) -> bool {
    match selection {
        TagSelection::Any => true,
        TagSelection::Untagged => tags.is_empty(),
        TagSelection::Tagged(TagFilter::Prefixes(prefixes)) => {
            all_entries_match_some_tag(prefixes, tags, |prefix, tag| tag.starts_with(prefix))
        }
        TagSelection::Tagged(TagFilter::Patterns(patterns)) => {
            all_entries_match_some_tag(patterns, tags, pattern_matches)
        }
    }
}

/// Whether `at` lies strictly more than `days` whole days before `now`. An unknown time is never
/// old enough, so an image with missing facts is left alone rather than removed.
fn older_than(at: Option<i64>, days: i64, now: i64) -> bool {
    let Some(at) = at else { return false };
    days.checked_mul(SECONDS_PER_DAY)
        .and_then(|span| now.checked_sub(span))
        .is_some_and(|cutoff| at < cutoff)
}
