//! Tag matching for `tagPrefixList` and `tagPatternList`.
//!
//! A pattern matches the whole tag; `*` matches zero or more characters and is the only special
//! character (`wharf_oci::wildcard_match`, shared with ECR's other filters).

/// Whether `tag` matches the wildcard `pattern` in full (the shared matcher of ECR's filters).
pub(crate) use wharf_oci::wildcard_match as pattern_matches;

/// ECR's rule for both lists: every entry must match at least one of the image's tags (AND across
/// the list, ANY across the tags).
pub(crate) fn all_entries_match_some_tag(
    entries: &[String],
    tags: &[String],
    matches: impl Fn(&str, &str) -> bool,
) -> bool {
    entries
        .iter()
        .all(|entry| tags.iter().any(|tag| matches(entry, tag)))
}

#[cfg(test)]
mod tests {
    use super::pattern_matches;

    #[test]
    fn wildcards() {
        let cases: &[(&str, &str, bool)] = &[
            ("prod*", "prod", true),
            ("prod*", "production-x", true),
            ("prod*", "xprod", false),
            ("*prod*", "xprodx", true),
            ("*prod*", "prd", false),
            ("*", "", true),
            ("*", "anything", true),
            ("", "", true),
            ("", "a", false),
            ("v1", "v1", true),
            ("v1", "v10", false),
            ("*test*1*2*3", "my-test-1-2-3", true),
            ("*test*1*2*3", "my-test-1-2-3-4", false),
            ("a*b*c", "abc", true),
            ("a*b*c", "aXbYc", true),
            ("a*b*c", "aXbYcZ", false),
            ("a**b", "ab", true),
            ("*ß*", "straße", true),
            ("st*e", "straße", true),
        ];
        for &(p, t, want) in cases {
            assert_eq!(pattern_matches(p, t), want, "{p:?} vs {t:?}");
        }
    }
}
