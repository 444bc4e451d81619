//! The worked examples of AWS's documentation quoted in the reference (§4.3, §4.4), each as a
//! `check` table row.

mod common;

use common::{archived, check, img, pulled, ARCHIVE, EXPIRE, NOW};

/// Images A `[beta-1, prod-1]` (10 days old), B `[beta-2, prod-2]` (9 d), C `[beta-3]` (8 d).
fn abc() -> Vec<wharf_lifecycle::ImageFacts> {
    vec![
        img("A", &["beta-1", "prod-1"], 10),
        img("B", &["beta-2", "prod-2"], 9),
        img("C", &["beta-3"], 8),
    ]
}

const PROD_1_BETA_2: &str = r#"{"rules":[
  {"rulePriority":1,"description":"Rule 1","selection":{"tagStatus":"tagged","tagPrefixList":["prod"],"countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}},
  {"rulePriority":2,"description":"Rule 2","selection":{"tagStatus":"tagged","tagPrefixList":["beta"],"countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}"#;

const BETA_1_PROD_2: &str = r#"{"rules":[
  {"rulePriority":1,"description":"Rule 1","selection":{"tagStatus":"tagged","tagPrefixList":["beta"],"countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}},
  {"rulePriority":2,"description":"Rule 2","selection":{"tagStatus":"tagged","tagPrefixList":["prod"],"countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}"#;

/// Rule 1 (`prod`, more than 1) expires A and matches A and B; rule 2 (`beta`, more than 1)
/// selects A and B by count, but both are shielded by rule 1's tag match: only A expires.
#[test]
fn prod_first_then_beta_expires_only_a() {
    check(PROD_1_BETA_2, &abc(), NOW, &[("A", 1, EXPIRE)]);
}

/// With the priorities swapped, rule 1 (`beta`) keeps C and expires A and B.
#[test]
fn beta_first_then_prod_expires_a_and_b() {
    check(
        BETA_1_PROD_2,
        &abc(),
        NOW,
        &[("A", 1, EXPIRE), ("B", 1, EXPIRE)],
    );
}

/// `tagPrefixList: ["alpha","beta"]` selects only images carrying both an `alpha*` and a
/// `beta*` tag; the same holds for `tagPatternList` entries.
#[test]
fn every_list_entry_must_match_some_tag() {
    let images = [
        img("both", &["alpha-1", "beta-1"], 5),
        img("alpha-only", &["alpha-2"], 6),
        img("beta-only", &["beta-2"], 7),
        img("both-in-one-tag", &["alphabeta"], 8),
        img("untagged", &[], 9),
    ];
    let by_prefix = r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPrefixList":["alpha","beta"],"countType":"sinceImagePushed","countUnit":"days","countNumber":1},"action":{"type":"expire"}}]}"#;
    check(by_prefix, &images, NOW, &[("both", 1, EXPIRE)]);
    let by_pattern = r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPatternList":["alpha*","*beta*"],"countType":"sinceImagePushed","countUnit":"days","countNumber":1},"action":{"type":"expire"}}]}"#;
    check(
        by_pattern,
        &images,
        NOW,
        &[("both-in-one-tag", 1, EXPIRE), ("both", 1, EXPIRE)],
    );
}

/// The reference's §4.4 policy: untagged after 14 days, keep 25 `prod*`, archive anything not
/// pulled for 90 days, and expire archived images a year after archiving.
const SECTION_4_4: &str = r#"{"rules":[
 {"rulePriority":1,"description":"untagged after 14d","selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14},"action":{"type":"expire"}},
 {"rulePriority":2,"selection":{"tagStatus":"tagged","tagPatternList":["prod*"],"countType":"imageCountMoreThan","countNumber":25},"action":{"type":"expire"}},
 {"rulePriority":3,"selection":{"tagStatus":"any","countType":"sinceImagePulled","countUnit":"days","countNumber":90},"action":{"type":"transition","targetStorageClass":"archive"}},
 {"rulePriority":4,"selection":{"tagStatus":"any","storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":365},"action":{"type":"expire"}}
]}"#;

#[test]
fn section_4_4_policy() {
    let mut images = vec![
        // Untagged: the old one expires by rule 1; the young one is shielded from rule 3 even
        // though it was never pulled and is 10 days old.
        img("untagged-old", &[], 20),
        img("untagged-young", &[], 10),
        // Never pulled, pushed 100 days ago: archived by rule 3 (push time stands in for pulls).
        img("dev-stale", &["dev-1"], 100),
        // Pulled 5 days ago: stays.
        pulled(img("dev-used", &["dev-2"], 200), 5),
        // Pulled 91 days ago: archived.
        pulled(img("dev-cold", &["dev-3"], 300), 91),
        // Archived 400 days ago: expired by rule 4; archived 100 days ago: kept.
        archived("arch-old", &["dev-4"], 800, 400),
        archived("arch-new", &["dev-5"], 800, 100),
    ];
    // 27 prod images, one per day from 1 to 27 days old: the two oldest expire by rule 2, and the
    // 25 kept are shielded from rule 3 even when never pulled for 90 days.
    for age in 1..=27 {
        images.push(img(
            &format!("prod-{age:02}"),
            &[&format!("prod-{age}")],
            age * 4,
        ));
    }
    check(
        SECTION_4_4,
        &images,
        NOW,
        &[
            ("untagged-old", 1, EXPIRE),
            ("prod-27", 2, EXPIRE),
            ("prod-26", 2, EXPIRE),
            ("dev-cold", 3, ARCHIVE),
            ("dev-stale", 3, ARCHIVE),
            ("arch-old", 4, EXPIRE),
        ],
    );
}
