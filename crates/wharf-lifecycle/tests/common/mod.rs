//! Shared helpers for the data-driven tests: image builders, policy padding and `check`.

#![allow(dead_code)]

use wharf_lifecycle::{evaluate, Action, Decision, ImageFacts, LifecyclePolicy, StorageClass};

pub const DAY: i64 = 86_400;
/// A fixed "now", far enough from the epoch that every age in the tests is positive.
pub const NOW: i64 = 1_000 * DAY;

pub const EXPIRE: Action = Action::Expire;
pub const ARCHIVE: Action = Action::Transition {
    target: StorageClass::Archive,
};

/// A STANDARD image pushed `age_days` before [`NOW`], never pulled.
pub fn img(digest: &str, tags: &[&str], age_days: i64) -> ImageFacts {
    ImageFacts {
        digest: digest.into(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        pushed_at: NOW - age_days * DAY,
        last_pulled_at: None,
        transitioned_at: None,
        storage_class: StorageClass::Standard,
    }
}

/// The same image, last pulled `days` before [`NOW`].
pub fn pulled(mut image: ImageFacts, days: i64) -> ImageFacts {
    image.last_pulled_at = Some(NOW - days * DAY);
    image
}

/// An ARCHIVE image pushed `age_days` and archived `archived_days` before [`NOW`].
pub fn archived(digest: &str, tags: &[&str], age_days: i64, archived_days: i64) -> ImageFacts {
    ImageFacts {
        transitioned_at: Some(NOW - archived_days * DAY),
        storage_class: StorageClass::Archive,
        ..img(digest, tags, age_days)
    }
}

/// `text` with trailing spaces up to ECR's 100-character minimum, so short test policies reach
/// the checks they are about.
pub fn padded(text: &str) -> String {
    format!("{text:<100}")
}

/// `{"rules":[…]}` around the given rule objects, padded.
pub fn rules(rules: &[&str]) -> String {
    padded(&format!(r#"{{"rules":[{}]}}"#, rules.join(",")))
}

/// Parses `policy`, evaluates it over `images` at `now`, and compares every decision, in order,
/// with `expected` as `(digest, rulePriority, action)`.
pub fn check(policy: &str, images: &[ImageFacts], now: i64, expected: &[(&str, i64, Action)]) {
    let parsed = LifecyclePolicy::parse(policy)
        .unwrap_or_else(|e| panic!("policy should parse: {e}\n{policy}"));
    let got = evaluate(&parsed, images, now);
    let want: Vec<Decision> = expected
        .iter()
        .map(|&(digest, rule_priority, action)| Decision {
            digest: digest.into(),
            rule_priority,
            action,
        })
        .collect();
    assert_eq!(got, want, "policy: {policy}");
}
