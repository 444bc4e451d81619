//! Tag matching for `tagPrefixList` and `tagPatternList`.
//!
//! A pattern matches the whole tag; `*` matches zero or more characters and is the only special
//! character. Matching works on bytes: `*` is ASCII and the literal runs between stars are whole
//! UTF-8 sequences, so a byte match always falls on character boundaries.

/// Whether `tag` matches the wildcard `pattern` in full.
///
/// The classic two-pointer algorithm with backtracking to the last star: linear in the common
/// cases and `O(tag × pattern)` at worst, with no allocation.
pub(crate) fn pattern_matches(pattern: &str, tag: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), tag.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    // Position of the last star seen, and the tag position it currently stands for.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            // Let the last star swallow one more byte and retry from just after it.
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&b| b == b'*')
}

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
