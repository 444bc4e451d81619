//! Evaluation tables: every rule form, tag status, prefixes against patterns, count against age
//! rules, pulls and transitions, storage classes, and the interplay of priorities.

mod common;

use common::{archived, check, img, pulled, rules, ARCHIVE, DAY, EXPIRE, NOW};
use wharf_lifecycle::{evaluate, ImageFacts, LifecyclePolicy};

/// One rule with the given selection body and action `expire`.
fn expire(priority: i64, selection: &str) -> String {
    format!(
        r#"{{"rulePriority":{priority},"selection":{{{selection}}},"action":{{"type":"expire"}}}}"#
    )
}

/// One rule with the given selection body and action `transition` to archive.
fn transition(priority: i64, selection: &str) -> String {
    format!(
        r#"{{"rulePriority":{priority},"selection":{{{selection}}},"action":{{"type":"transition","targetStorageClass":"archive"}}}}"#
    )
}

fn one(rule: String) -> String {
    rules(&[&rule])
}

#[test]
fn tag_status_selects_tagged_untagged_or_any() {
    let images = [
        img("u-old", &[], 30),
        img("u-new", &[], 1),
        img("t-old", &["v1"], 30),
        img("t-new", &["v2"], 1),
    ];
    let age = r#""countType":"sinceImagePushed","countUnit":"days","countNumber":7"#;
    check(
        &one(expire(1, &format!(r#""tagStatus":"untagged",{age}"#))),
        &images,
        NOW,
        &[("u-old", 1, EXPIRE)],
    );
    check(
        &one(expire(1, &format!(r#""tagStatus":"any",{age}"#))),
        &images,
        NOW,
        &[("t-old", 1, EXPIRE), ("u-old", 1, EXPIRE)],
    );
    check(
        &one(expire(
            1,
            &format!(r#""tagStatus":"tagged","tagPatternList":["*"],{age}"#),
        )),
        &images,
        NOW,
        &[("t-old", 1, EXPIRE)],
    );
    check(
        &one(expire(
            1,
            &format!(r#""tagStatus":"tagged","tagPrefixList":[""],{age}"#),
        )),
        &images,
        NOW,
        &[("t-old", 1, EXPIRE)],
    );
}

#[test]
fn image_count_more_than_keeps_the_newest_n() {
    let images = [
        img("d1", &[], 1),
        img("d5", &[], 5),
        img("d3", &[], 3),
        img("d4", &[], 4),
        img("d2", &[], 2),
        img("tagged", &["x"], 100),
    ];
    let count = |n: i64| {
        one(expire(
            1,
            &format!(
                r#""tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":{n}"#
            ),
        ))
    };
    check(
        &count(2),
        &images,
        NOW,
        &[("d5", 1, EXPIRE), ("d4", 1, EXPIRE), ("d3", 1, EXPIRE)],
    );
    check(&count(4), &images, NOW, &[("d5", 1, EXPIRE)]);
    check(&count(5), &images, NOW, &[]);
    check(&count(1_000_000), &images, NOW, &[]);
    check(&count(1), &[], NOW, &[]);
}

#[test]
fn equal_push_times_keep_the_smaller_digest() {
    let images = [
        img("sha256:b", &[], 3),
        img("sha256:a", &[], 3),
        img("sha256:c", &[], 9),
    ];
    let policy = one(expire(
        1,
        r#""tagStatus":"any","countType":"imageCountMoreThan","countNumber":1"#,
    ));
    check(
        &policy,
        &images,
        NOW,
        &[("sha256:c", 1, EXPIRE), ("sha256:b", 1, EXPIRE)],
    );
}

#[test]
fn prefixes_match_the_start_of_any_tag() {
    let images = [
        img("prod", &["prod"], 10),
        img("production", &["production-7"], 10),
        img("second-tag", &["latest", "prod-3"], 10),
        img("preprod", &["preprod-1"], 10),
        img("PROD", &["PROD-1"], 10),
    ];
    let policy = one(expire(
        1,
        r#""tagStatus":"tagged","tagPrefixList":["prod"],"countType":"sinceImagePushed","countUnit":"days","countNumber":1"#,
    ));
    check(
        &policy,
        &images,
        NOW,
        &[
            ("prod", 1, EXPIRE),
            ("production", 1, EXPIRE),
            ("second-tag", 1, EXPIRE),
        ],
    );
}

#[test]
fn patterns_match_whole_tags_with_wildcards() {
    let images = [
        img("prod", &["prod"], 10),
        img("preprod", &["preprod-1"], 10),
        img("latest", &["latest"], 10),
        img("latest-1", &["latest-1"], 10),
        img("semver", &["v1.2.3"], 10),
        img("arm", &["release-1", "release-1-arm64"], 10),
        img("amd-only", &["build-amd64"], 10),
    ];
    let case = |patterns: &str| {
        one(expire(
            1,
            &format!(
                r#""tagStatus":"tagged","tagPatternList":{patterns},"countType":"sinceImagePushed","countUnit":"days","countNumber":1"#
            ),
        ))
    };
    check(&case(r#"["prod*"]"#), &images, NOW, &[("prod", 1, EXPIRE)]);
    check(
        &case(r#"["*prod*"]"#),
        &images,
        NOW,
        &[("preprod", 1, EXPIRE), ("prod", 1, EXPIRE)],
    );
    check(
        &case(r#"["latest"]"#),
        &images,
        NOW,
        &[("latest", 1, EXPIRE)],
    );
    check(
        &case(r#"["v*.*.*"]"#),
        &images,
        NOW,
        &[("semver", 1, EXPIRE)],
    );
    check(
        &case(r#"["*-arm64","release*"]"#),
        &images,
        NOW,
        &[("arm", 1, EXPIRE)],
    );
    check(
        &case(r#"["*-a*64","*"]"#),
        &images,
        NOW,
        &[("amd-only", 1, EXPIRE), ("arm", 1, EXPIRE)],
    );
}

#[test]
fn since_image_pushed_is_strictly_older_than_n_days() {
    let images = [
        ImageFacts {
            pushed_at: NOW - 14 * DAY,
            ..img("exactly-14d", &[], 0)
        },
        ImageFacts {
            pushed_at: NOW - 14 * DAY - 1,
            ..img("14d-and-1s", &[], 0)
        },
        img("future", &[], -3),
    ];
    let policy = one(expire(
        1,
        r#""tagStatus":"any","countType":"sinceImagePushed","countUnit":"days","countNumber":14"#,
    ));
    check(&policy, &images, NOW, &[("14d-and-1s", 1, EXPIRE)]);
    // An absurd day count never overflows into selecting everything.
    let huge = one(expire(
        1,
        r#""tagStatus":"any","countType":"sinceImagePushed","countUnit":"days","countNumber":9223372036854775807"#,
    ));
    check(&huge, &images, NOW, &[]);
}

#[test]
fn since_image_pulled_falls_back_to_push_time() {
    let images = [
        img("never-pulled-old", &["a"], 40),
        img("never-pulled-new", &["b"], 10),
        pulled(img("pulled-recently", &["c"], 400), 2),
        pulled(img("pulled-long-ago", &["d"], 400), 31),
        archived("already-archived", &["e"], 400, 200),
    ];
    let policy = one(transition(
        1,
        r#""tagStatus":"any","countType":"sinceImagePulled","countUnit":"days","countNumber":30"#,
    ));
    check(
        &policy,
        &images,
        NOW,
        &[
            ("pulled-long-ago", 1, ARCHIVE),
            ("never-pulled-old", 1, ARCHIVE),
        ],
    );
}

#[test]
fn since_image_transitioned_expires_only_long_archived_images() {
    let images = [
        archived("archived-400d", &["a"], 500, 400),
        archived("archived-100d", &[], 500, 100),
        archived("archived-exactly-90d", &["c"], 500, 90),
        ImageFacts {
            transitioned_at: None,
            ..archived("archived-unknown", &["d"], 500, 0)
        },
        img("standard-old", &["e"], 900),
    ];
    let policy = one(expire(
        1,
        r#""tagStatus":"any","storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":90"#,
    ));
    // Equal push times: the digest orders the two decisions.
    check(
        &policy,
        &images,
        NOW,
        &[("archived-100d", 1, EXPIRE), ("archived-400d", 1, EXPIRE)],
    );
}

#[test]
fn standard_rules_never_see_archived_images() {
    let images = [
        img("s-new", &["v"], 1),
        img("s-old", &["v"], 2),
        archived("a1", &["v"], 3, 1),
        archived("a2", &["v"], 4, 1),
    ];
    // The archived images are neither counted nor acted on by STANDARD rules...
    let count = one(expire(
        1,
        r#""tagStatus":"any","countType":"imageCountMoreThan","countNumber":1"#,
    ));
    check(&count, &images, NOW, &[("s-old", 1, EXPIRE)]);
    // ...and a transition rule never archives an image again.
    let archive = one(transition(
        1,
        r#""tagStatus":"any","countType":"imageCountMoreThan","countNumber":1"#,
    ));
    check(&archive, &images, NOW, &[("s-old", 1, ARCHIVE)]);
    let by_age = one(transition(
        1,
        r#""tagStatus":"tagged","tagPrefixList":["v"],"countType":"sinceImagePushed","countUnit":"days","countNumber":1"#,
    ));
    check(&by_age, &images, NOW, &[("s-old", 1, ARCHIVE)]);
}

/// Rule 1 expires the older untagged image and shields both untagged ones from rule 2, which
/// still counts them: the two oldest tagged images fall beyond its three newest.
#[test]
fn shielded_images_still_count_for_later_rules() {
    let images = [
        img("t1", &["a"], 1),
        img("u1", &[], 2),
        img("u2", &[], 3),
        img("t2", &["b"], 4),
        img("t3", &["c"], 5),
    ];
    let policy = rules(&[
        &expire(
            1,
            r#""tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":1"#,
        ),
        &expire(
            2,
            r#""tagStatus":"any","countType":"imageCountMoreThan","countNumber":2"#,
        ),
    ]);
    check(
        &policy,
        &images,
        NOW,
        &[("u2", 1, EXPIRE), ("t3", 2, EXPIRE), ("t2", 2, EXPIRE)],
    );
}

/// A rule whose tags match an image shields it even when the rule itself leaves it alone.
#[test]
fn a_tag_match_shields_even_without_action() {
    let images = [
        img("prod-old", &["prod-1"], 20),
        img("dev-old", &["dev-1"], 20),
        img("new", &["x"], 1),
    ];
    let policy = rules(&[
        &expire(
            1,
            r#""tagStatus":"tagged","tagPrefixList":["prod"],"countType":"sinceImagePushed","countUnit":"days","countNumber":365"#,
        ),
        &expire(
            2,
            r#""tagStatus":"any","countType":"sinceImagePushed","countUnit":"days","countNumber":7"#,
        ),
    ]);
    check(&policy, &images, NOW, &[("dev-old", 2, EXPIRE)]);
}

/// Priorities apply in numeric order whatever order the rules are written in, and need not be
/// consecutive.
#[test]
fn rules_apply_in_priority_order_not_document_order() {
    let images = [img("a", &["rel-1", "tmp-1"], 30), img("b", &["tmp-2"], 30)];
    let policy = rules(&[
        &transition(
            20,
            r#""tagStatus":"tagged","tagPrefixList":["tmp"],"countType":"sinceImagePushed","countUnit":"days","countNumber":1"#,
        ),
        &expire(
            5,
            r#""tagStatus":"tagged","tagPrefixList":["rel"],"countType":"sinceImagePushed","countUnit":"days","countNumber":1"#,
        ),
    ]);
    check(
        &policy,
        &images,
        NOW,
        &[("a", 5, EXPIRE), ("b", 20, ARCHIVE)],
    );
}

/// Transition and expiry rules side by side: count-based archiving of old releases, then
/// expiry of untagged images, then archive-class expiry.
#[test]
fn mixed_actions_and_storage_classes() {
    let images = [
        img("r3", &["release-3"], 1),
        img("r2", &["release-2"], 2),
        img("r1", &["release-1"], 3),
        img("dangling", &[], 30),
        archived("r0", &["release-0"], 400, 120),
    ];
    let policy = rules(&[
        &transition(
            1,
            r#""tagStatus":"tagged","tagPatternList":["release-*"],"countType":"imageCountMoreThan","countNumber":2"#,
        ),
        &expire(
            2,
            r#""tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":7"#,
        ),
        &expire(
            3,
            r#""tagStatus":"tagged","tagPatternList":["release-*"],"storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":90"#,
        ),
    ]);
    check(
        &policy,
        &images,
        NOW,
        &[
            ("r1", 1, ARCHIVE),
            ("dangling", 2, EXPIRE),
            ("r0", 3, EXPIRE),
        ],
    );
}

/// 10,000 images evaluate in one sort per storage class; the counts prove every rule ran.
#[test]
fn ten_thousand_images() {
    let images: Vec<ImageFacts> = (0..10_000)
        .map(|i| {
            let tags: Vec<String> = match i % 3 {
                0 => vec![],
                1 => vec![format!("prod-{i}")],
                _ => vec![format!("dev-{i}"), "latest".into()],
            };
            ImageFacts {
                tags,
                pushed_at: NOW - i * 60,
                ..img(&format!("sha256:{i:064}"), &[], 0)
            }
        })
        .collect();
    let policy = LifecyclePolicy::parse(&rules(&[
        &expire(1, r#""tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":100"#),
        &expire(2, r#""tagStatus":"tagged","tagPatternList":["prod-*"],"countType":"imageCountMoreThan","countNumber":1000"#),
        &transition(3, r#""tagStatus":"any","countType":"imageCountMoreThan","countNumber":5000"#),
    ]))
    .unwrap();
    let started = std::time::Instant::now();
    let decisions = evaluate(&policy, &images, NOW);
    let elapsed = started.elapsed();
    let by_rule = |p| decisions.iter().filter(|d| d.rule_priority == p).count();
    assert_eq!(by_rule(1), 3334 - 100);
    assert_eq!(by_rule(2), 3333 - 1000);
    // Rule 3 keeps the 5,000 newest of all images and may act only on the dev images among the
    // rest, the only ones no earlier rule matched.
    let dev_beyond_5000 = (5000..10_000).filter(|i| i % 3 == 2).count();
    assert_eq!(by_rule(3), dev_beyond_5000);
    assert!(elapsed.as_secs() < 5, "took {elapsed:?}");
}
