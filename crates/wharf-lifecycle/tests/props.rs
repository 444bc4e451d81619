//! Property tests of lifecycle policies: parsing arbitrary text or JSON never panics; for
//! generated valid policies and image sets, evaluation never panics, never acts on an image twice,
//! acts through the first rule whose selection matches the image, keeps the newest N images an
//! `imageCountMoreThan` rule matches, and only ages out images old enough.

use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{json, Value};
use std::collections::HashSet;
use wharf_lifecycle::{
    evaluate, Action, Count, ImageFacts, LifecyclePolicy, Rule, StorageClass, TagFilter,
    TagSelection,
};

const DAY: i64 = 86_400;

fn config() -> Config {
    Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    }
}

/// Pads a policy to ECR's 100-character minimum so the schema checks are reached.
fn padded(text: String) -> String {
    format!("{text:<100}")
}

fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        prop::sample::select(vec![
            "rules",
            "rulePriority",
            "description",
            "selection",
            "action",
            "type",
            "targetStorageClass",
            "tagStatus",
            "tagPrefixList",
            "tagPatternList",
            "storageClass",
            "countType",
            "countUnit",
            "countNumber",
        ])
        .prop_map(str::to_string),
        "[a-zA-Z]{1,8}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        prop::sample::select(vec![
            "tagged",
            "untagged",
            "any",
            "expire",
            "transition",
            "archive",
            "standard",
            "imageCountMoreThan",
            "sinceImagePushed",
            "sinceImagePulled",
            "sinceImageTransitioned",
            "days",
            "prod*",
        ])
        .prop_map(Value::from),
        ".{0,10}".prop_map(Value::from),
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..7)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

const TAGS: &[&str] = &["v1", "v1.2", "v2", "prod", "prod-eu", "dev", "latest", "x"];

/// A rule's tag selection, before it is written as JSON.
#[derive(Debug, Clone)]
enum Tags {
    Untagged,
    Any,
    Prefixes(Vec<String>),
    Patterns(Vec<String>),
}

fn tags() -> impl Strategy<Value = Tags> {
    let entry = prop_oneof![
        prop::sample::select(TAGS.to_vec()).prop_map(str::to_string),
        "[a-z]{0,2}\\*?[a-z0-9.-]{0,2}\\*?",
    ];
    prop_oneof![
        Just(Tags::Untagged),
        Just(Tags::Any),
        prop::collection::vec("[a-z]{1,3}|v1|prod", 1..3).prop_map(Tags::Prefixes),
        prop::collection::vec(entry, 1..3).prop_map(Tags::Patterns),
    ]
}

fn count_number() -> impl Strategy<Value = i64> {
    prop_oneof![1i64..5, 1i64..400, Just(i64::MAX), 1i64..=i64::MAX]
}

/// One generated rule as JSON; standard rules unless `archive`.
fn rule_json(priority: i64, tags: &Tags, archive: bool, kind: u8, n: i64) -> Value {
    let mut sel = match tags {
        Tags::Untagged => json!({"tagStatus": "untagged"}),
        Tags::Any => json!({"tagStatus": "any"}),
        Tags::Prefixes(p) => json!({"tagStatus": "tagged", "tagPrefixList": p}),
        Tags::Patterns(p) => json!({"tagStatus": "tagged", "tagPatternList": p}),
    };
    let action = if archive {
        sel["storageClass"] = json!("archive");
        sel["countType"] = json!("sinceImageTransitioned");
        sel["countUnit"] = json!("days");
        sel["countNumber"] = json!(n.max(90));
        json!({"type": "expire"})
    } else {
        let transition = json!({"type": "transition", "targetStorageClass": "archive"});
        let (count, action) = match kind % 5 {
            0 => ("imageCountMoreThan", json!({"type": "expire"})),
            1 => ("imageCountMoreThan", transition),
            2 => ("sinceImagePushed", json!({"type": "expire"})),
            3 => ("sinceImagePushed", transition),
            _ => ("sinceImagePulled", transition),
        };
        sel["countType"] = json!(count);
        if count != "imageCountMoreThan" {
            sel["countUnit"] = json!("days");
        }
        sel["countNumber"] = json!(n);
        action
    };
    json!({"rulePriority": priority, "selection": sel, "action": action})
}

/// A policy ECR would accept: unique priorities, per class at most one `any` rule (the last),
/// at most one untagged rule and unique prefix sets.
fn policy() -> impl Strategy<Value = String> {
    let rule = (tags(), any::<bool>(), any::<u8>(), count_number());
    (
        prop::collection::vec(rule, 1..7),
        prop::collection::hash_set(1i64..1000, 7),
    )
        .prop_map(|(rules, priorities)| {
            let mut priorities: Vec<i64> = priorities.into_iter().collect();
            priorities.sort_unstable();
            let mut out = Vec::new();
            let mut any_last = [false, false];
            let mut untagged = [false, false];
            let mut prefix_sets: HashSet<(bool, Vec<String>)> = HashSet::new();
            for (i, (tags, archive, kind, n)) in rules.into_iter().enumerate() {
                let archive = archive && kind % 3 == 0;
                let c = usize::from(archive);
                match &tags {
                    Tags::Any if any_last[c] => continue,
                    Tags::Any => any_last[c] = true,
                    Tags::Untagged if untagged[c] => continue,
                    Tags::Untagged => untagged[c] = true,
                    Tags::Prefixes(p) => {
                        let mut set = p.clone();
                        set.sort();
                        set.dedup();
                        if !prefix_sets.insert((archive, set)) {
                            continue;
                        }
                    }
                    Tags::Patterns(_) => {}
                }
                // An `any` rule must come last in its class: give it the largest priority.
                let priority = match tags {
                    Tags::Any => priorities[6] + c as i64 + 1000,
                    _ => priorities[i],
                };
                out.push(rule_json(priority, &tags, archive, kind, n));
            }
            padded(json!({ "rules": out }).to_string())
        })
}

fn images(unique: bool) -> impl Strategy<Value = Vec<ImageFacts>> {
    let image = (
        prop::collection::vec(prop::sample::select(TAGS.to_vec()), 0..3),
        prop_oneof![0i64..2000 * DAY, any::<i64>()],
        prop::option::of(0i64..2000 * DAY),
        prop::option::of(0i64..2000 * DAY),
        any::<bool>(),
        0u8..4,
    );
    prop::collection::vec(image, 0..24).prop_map(move |list| {
        list.into_iter()
            .enumerate()
            .map(
                |(i, (tags, pushed_at, pulled, transitioned, archived, dup))| {
                    let n = if unique { i } else { usize::from(dup) };
                    ImageFacts {
                        digest: format!("sha256:{n:064x}"),
                        tags: tags.into_iter().map(str::to_string).collect(),
                        pushed_at,
                        last_pulled_at: pulled,
                        transitioned_at: transitioned.filter(|_| archived),
                        storage_class: if archived {
                            StorageClass::Archive
                        } else {
                            StorageClass::Standard
                        },
                    }
                },
            )
            .collect()
    })
}

/// A whole-tag `*` wildcard match, written recursively as an oracle for the crate's matcher.
fn wildcard(p: &[u8], t: &[u8]) -> bool {
    match p.split_first() {
        None => t.is_empty(),
        Some((b'*', rest)) => (0..=t.len()).any(|i| wildcard(rest, &t[i..])),
        Some((c, rest)) => t.first() == Some(c) && wildcard(rest, &t[1..]),
    }
}

fn selects(rule: &Rule, image: &ImageFacts) -> bool {
    let has = |f: &dyn Fn(&str) -> bool| image.tags.iter().any(|t| f(t));
    rule.selection.storage_class == image.storage_class
        && match &rule.selection.tags {
            TagSelection::Any => true,
            TagSelection::Untagged => image.tags.is_empty(),
            TagSelection::Tagged(TagFilter::Prefixes(p)) => {
                p.iter().all(|p| has(&|t| t.starts_with(p.as_str())))
            }
            TagSelection::Tagged(TagFilter::Patterns(p)) => p
                .iter()
                .all(|p| has(&|t| wildcard(p.as_bytes(), t.as_bytes()))),
        }
}

/// Newest first, ties by digest: the order `imageCountMoreThan` ranks by.
fn newest_first<'a>(images: &'a [ImageFacts], rule: &Rule) -> Vec<&'a ImageFacts> {
    let mut v: Vec<&ImageFacts> = images.iter().filter(|i| selects(rule, i)).collect();
    v.sort_by(|a, b| b.pushed_at.cmp(&a.pushed_at).then(a.digest.cmp(&b.digest)));
    v
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn parsing_arbitrary_text_never_panics(s in ".{0,300}") {
        let _ = LifecyclePolicy::parse(&s);
    }

    #[test]
    fn parsing_arbitrary_json_never_panics(v in json_value(), imgs in images(false), now in any::<i64>()) {
        if let Ok(p) = LifecyclePolicy::parse(&padded(v.to_string())) {
            let _ = evaluate(&p, &imgs, now);
        }
    }

    #[test]
    fn any_images_evaluate_without_panic(text in policy(), imgs in images(false), now in any::<i64>()) {
        let p = LifecyclePolicy::parse(&text).unwrap();
        let _ = evaluate(&p, &imgs, now);
    }

    #[test]
    fn evaluation_of_generated_policies_is_sound(
        text in policy(),
        imgs in images(true),
        now in prop_oneof![Just(2000 * DAY), 0i64..4000 * DAY, any::<i64>()],
    ) {
        let p = LifecyclePolicy::parse(&text)
            .unwrap_or_else(|e| panic!("generated policy refused: {e}\n{text}"));
        let decisions = evaluate(&p, &imgs, now);

        let mut seen = HashSet::new();
        for d in &decisions {
            prop_assert!(seen.insert(d.digest.clone()), "{} acted on twice", d.digest);
        }
        prop_assert!(decisions.windows(2).all(|w| w[0].rule_priority <= w[1].rule_priority));

        for d in &decisions {
            let image = imgs.iter().find(|i| i.digest == d.digest).unwrap();
            // The acting rule is the first one, in priority order, whose selection matches.
            let first = p.rules().iter().find(|r| selects(r, image)).unwrap();
            prop_assert_eq!(first.priority, d.rule_priority);
            prop_assert_eq!(first.action, d.action);
            if let Action::Transition { .. } = d.action {
                prop_assert_eq!(image.storage_class, StorageClass::Standard);
            }
            let old = |at: Option<i64>, days: i64| {
                at.is_some_and(|at| i128::from(at) < i128::from(now) - i128::from(days) * i128::from(DAY))
            };
            match first.selection.count {
                Count::ImageCountMoreThan(_) => {}
                Count::SinceImagePushed { days } => prop_assert!(old(Some(image.pushed_at), days)),
                Count::SinceImagePulled { days } => {
                    prop_assert!(old(Some(image.last_pulled_at.unwrap_or(image.pushed_at)), days))
                }
                Count::SinceImageTransitioned { days } => prop_assert!(old(image.transitioned_at, days)),
            }
        }

        for (i, rule) in p.rules().iter().enumerate() {
            let Count::ImageCountMoreThan(keep) = rule.selection.count else { continue };
            let keep = usize::try_from(keep).unwrap_or(usize::MAX);
            let matched = newest_first(&imgs, rule);
            let newest: Vec<&str> = matched.iter().take(keep).map(|i| i.digest.as_str()).collect();
            let by_rule = decisions.iter().filter(|d| d.rule_priority == rule.priority);
            // The rule acts only on images ranked past the N it keeps.
            for d in by_rule {
                prop_assert!(!newest.contains(&d.digest.as_str()), "kept image {} acted on", d.digest);
            }
            // The first rule of its class keeps them from every rule.
            let first_in_class = p.rules()[..i]
                .iter()
                .all(|r| r.selection.storage_class != rule.selection.storage_class);
            if first_in_class {
                let remaining = matched
                    .iter()
                    .filter(|m| !decisions.iter().any(|d| d.digest == m.digest))
                    .count();
                prop_assert!(remaining >= keep.min(matched.len()));
            }
        }
    }
}
