//! The one `*` wildcard ECR's filters use over names and tags: tag immutability exclusions,
//! lifecycle `tagPatternList`, scanning and signing repository filters. IAM policy patterns are
//! another language (`?`, variables, case folding) and live in wharf-policy.
//!
//! A pattern matches the whole text; `*` matches zero or more characters and is the only special
//! character. Matching works on bytes: `*` is ASCII and the literal runs between stars are whole
//! UTF-8 sequences, so a byte match always falls on character boundaries.

/// Whether `text` matches `pattern` in full.
///
/// Two pointers with backtracking to the last star: linear in the common cases, `O(text ×
/// pattern)` at worst, never exponential, no allocation.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    // The last star seen, and the text position it currently stands up to.
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

#[cfg(test)]
mod tests {
    use super::wildcard_match;

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
            ("dev-*", "dev-", true),
            ("*-rc*", "1.0-rc2", true),
            ("*test*1*2*3", "my-test-1-2-3", true),
            ("*test*1*2*3", "my-test-1-2-3-4", false),
            ("a*b*c", "abc", true),
            ("a*b*c", "aXbYc", true),
            ("a*b*c", "aXbYcZ", false),
            ("a*b*c", "aXXbYY", false),
            ("a**b", "ab", true),
            ("*ß*", "straße", true),
            ("st*e", "straße", true),
            ("team/*/app", "team/x/y/app", true),
        ];
        for &(p, t, want) in cases {
            assert_eq!(wildcard_match(p, t), want, "{p:?} vs {t:?}");
        }
    }

    #[test]
    fn many_stars_stay_fast() {
        // A pattern that would be exponential for a naive recursive matcher.
        let pattern = "*a".repeat(30) + "b";
        let text = "a".repeat(5_000);
        assert!(!wildcard_match(&pattern, &text));
    }
}
