//! `LifecyclePolicy`: a parsed, fully validated ECR lifecycle policy.
//!
//! Parsing runs in three passes, each reporting ECR's wording for the first failure it finds:
//! the text length (100..=30,720 characters), the JSON-schema pass (`schema.rs`), then the
//! semantic checks below: per rule (tag lists, wildcards, action/countType/storageClass
//! combinations) in document order, then across rules (unique priorities, `any` last, one
//! untagged rule and unique prefix sets per storage class). A value of these types therefore
//! proves the policy is one ECR would accept; the public structs cannot be built elsewhere.

use std::collections::{BTreeSet, HashSet};

use serde::{Deserialize, Serialize};

use crate::error::LifecycleError;
use crate::schema::{self, RawActionType, RawCountType, RawRule, RawTagStatus};
use crate::storage_class::StorageClass;

/// The shortest policy text ECR accepts, in characters.
pub const MIN_POLICY_LEN: usize = 100;
/// The longest policy text ECR accepts, in characters.
pub const MAX_POLICY_LEN: usize = 30_720;
/// The most `*` wildcards one `tagPatternList` entry may hold.
pub const MAX_WILDCARDS: usize = 4;
/// Archived images must stay archived this many days before a lifecycle rule may expire them.
pub const MIN_ARCHIVE_DAYS: i64 = 90;

/// What a rule does to the images it selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Expire,
    Transition { target: StorageClass },
}

/// Which images a rule looks at, by their tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagSelection {
    /// Tagged images whose tags satisfy the filter.
    Tagged(TagFilter),
    /// Images without any tag.
    Untagged,
    /// Every image, tagged or not.
    Any,
}

/// The tag filter of a `tagged` rule. Every entry must match at least one of the image's tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagFilter {
    /// `tagPrefixList`: each entry is a prefix of some tag.
    Prefixes(Vec<String>),
    /// `tagPatternList`: each entry is a whole-tag `*` wildcard pattern matching some tag.
    Patterns(Vec<String>),
}

/// The `countType` with its `countNumber` (ages are in days, the only `countUnit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    /// Keep the newest N selected images (by push time); act on the rest.
    ImageCountMoreThan(i64),
    /// Act on images pushed more than N days ago.
    SinceImagePushed { days: i64 },
    /// Act on images last pulled (or, if never pulled, pushed) more than N days ago.
    SinceImagePulled { days: i64 },
    /// Act on archived images that entered the archive more than N days ago.
    SinceImageTransitioned { days: i64 },
}

/// A rule's `selection`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Selection {
    pub tags: TagSelection,
    /// The storage class whose images the rule sees (`standard` unless stated).
    pub storage_class: StorageClass,
    pub count: Count,
}

/// One validated rule.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Rule {
    /// `rulePriority`: lower numbers are applied first.
    pub priority: i64,
    pub description: Option<String>,
    pub selection: Selection,
    pub action: Action,
}

/// A validated lifecycle policy, its rules sorted by priority (lowest number first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecyclePolicy {
    rules: Vec<Rule>,
}

fn fail<T>(detail: impl Into<String>) -> Result<T, LifecycleError> {
    Err(LifecycleError::new(detail))
}

impl LifecyclePolicy {
    /// Parses and validates `lifecyclePolicyText` exactly as `PutLifecyclePolicy` would.
    pub fn parse(text: &str) -> Result<Self, LifecycleError> {
        let len = text.chars().count();
        if len < MIN_POLICY_LEN {
            return fail(format!(
                "Member must have length greater than or equal to {MIN_POLICY_LEN}"
            ));
        }
        if len > MAX_POLICY_LEN {
            return fail(format!(
                "Member must have length less than or equal to {MAX_POLICY_LEN}"
            ));
        }
        let raw = schema::parse_rules(text)?;
        let mut rules = raw.into_iter().map(rule).collect::<Result<Vec<_>, _>>()?;
        check_across_rules(&rules)?;
        rules.sort_by_key(|r| r.priority);
        Ok(Self { rules })
    }

    /// The rules, lowest `rulePriority` first.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }
}

/// The checks that look at one rule's fields together.
fn rule(raw: RawRule) -> Result<Rule, LifecycleError> {
    let tags = tag_selection(raw.tag_status, raw.prefixes, raw.patterns)?;

    let action = match (raw.action, raw.target) {
        (RawActionType::Expire, None) => Action::Expire,
        (RawActionType::Expire, Some(_)) => {
            return fail("targetStorageClass can only be specified when action type=TRANSITION.")
        }
        (RawActionType::Transition, Some(target)) => Action::Transition { target },
        (RawActionType::Transition, None) => {
            return fail("Must specify targetStorageClass when action type=TRANSITION.")
        }
    };

    let n = raw.count_number;
    let count = match raw.count_type {
        RawCountType::ImageCountMoreThan => Count::ImageCountMoreThan(n),
        RawCountType::SinceImagePushed => Count::SinceImagePushed { days: n },
        RawCountType::SinceImagePulled => Count::SinceImagePulled { days: n },
        RawCountType::SinceImageTransitioned => Count::SinceImageTransitioned { days: n },
    };
    match (count, action) {
        (Count::SinceImagePulled { .. }, Action::Expire) => {
            return fail(
                "countType=sinceImagePulled is only supported with action type=TRANSITION.",
            )
        }
        (Count::SinceImageTransitioned { .. }, Action::Transition { .. }) => {
            return fail(
                "countType=sinceImageTransitioned is only supported with action type=EXPIRE.",
            )
        }
        _ => {}
    }
    match (count, raw.storage_class) {
        (Count::SinceImageTransitioned { .. }, StorageClass::Standard) => {
            return fail("countType=sinceImageTransitioned requires storageClass=ARCHIVE.")
        }
        (Count::SinceImageTransitioned { days }, StorageClass::Archive)
            if days < MIN_ARCHIVE_DAYS =>
        {
            return fail(format!(
                "countNumber must be at least {MIN_ARCHIVE_DAYS} for countType=sinceImageTransitioned: \
                 archived images have a minimum storage duration of {MIN_ARCHIVE_DAYS} days."
            ))
        }
        (Count::SinceImageTransitioned { .. }, StorageClass::Archive) => {}
        (_, StorageClass::Archive) => {
            return fail("storageClass=ARCHIVE is only supported with countType=sinceImageTransitioned.")
        }
        (_, StorageClass::Standard) => {}
    }

    Ok(Rule {
        priority: raw.priority,
        description: raw.description,
        selection: Selection {
            tags,
            storage_class: raw.storage_class,
            count,
        },
        action,
    })
}

/// `tagStatus` against the two lists: only `tagged` takes one, and exactly one, non-empty.
fn tag_selection(
    status: RawTagStatus,
    prefixes: Option<Vec<String>>,
    patterns: Option<Vec<String>>,
) -> Result<TagSelection, LifecycleError> {
    let status_name = match status {
        RawTagStatus::Tagged => "TAGGED",
        RawTagStatus::Untagged => "UNTAGGED",
        RawTagStatus::Any => "ANY",
    };
    if status != RawTagStatus::Tagged {
        if prefixes.is_some() || patterns.is_some() {
            return fail(format!(
                "Must not specify tagPrefixList or tagPatternList when tagStatus={status_name}."
            ));
        }
        return Ok(match status {
            RawTagStatus::Untagged => TagSelection::Untagged,
            _ => TagSelection::Any,
        });
    }
    let filter = match (prefixes, patterns) {
        (Some(_), Some(_)) => {
            return fail("Must specify either tagPrefixList or tagPatternList, not both.")
        }
        (Some(p), None) if !p.is_empty() => TagFilter::Prefixes(p),
        (None, Some(p)) if !p.is_empty() => TagFilter::Patterns(p),
        _ => return fail("Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED."),
    };
    if let TagFilter::Patterns(patterns) = &filter {
        if let Some(p) = patterns
            .iter()
            .find(|p| p.matches('*').count() > MAX_WILDCARDS)
        {
            return fail(format!(
                "tagPatternList entry '{p}' has more than {MAX_WILDCARDS} wildcards (*); \
                 the maximum is {MAX_WILDCARDS} per string."
            ));
        }
    }
    Ok(TagSelection::Tagged(filter))
}

/// Unique priorities; then, per storage class, `any` last, one untagged rule, unique prefix sets.
fn check_across_rules(rules: &[Rule]) -> Result<(), LifecycleError> {
    let mut seen = HashSet::new();
    for r in rules {
        if !seen.insert(r.priority) {
            return fail(format!(
                "Duplicate rulePriority {}. Each rule must have a unique rulePriority.",
                r.priority
            ));
        }
    }
    for class in [StorageClass::Standard, StorageClass::Archive] {
        let in_class = || {
            rules
                .iter()
                .filter(move |r| r.selection.storage_class == class)
        };
        let Some(last) = in_class().map(|r| r.priority).max() else {
            continue;
        };
        if in_class().any(|r| r.selection.tags == TagSelection::Any && r.priority != last) {
            return fail("Rule for tagStatus=ANY must have the lowest priority per storage class");
        }
        if in_class()
            .filter(|r| r.selection.tags == TagSelection::Untagged)
            .count()
            > 1
        {
            return fail("Only one rule can select Untagged images per storage class");
        }
        let mut prefix_sets = HashSet::new();
        for r in in_class() {
            if let TagSelection::Tagged(TagFilter::Prefixes(p)) = &r.selection.tags {
                let set: BTreeSet<&str> = p.iter().map(String::as_str).collect();
                if !prefix_sets.insert(set) {
                    return fail(
                        "The rules must contain a unique set of tag prefixes per storage class",
                    );
                }
            }
        }
    }
    Ok(())
}
