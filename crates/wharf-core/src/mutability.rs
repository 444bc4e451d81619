//! Tag immutability: which tags of a repository may be moved, including the `*_WITH_EXCLUSION`
//! settings and their wildcard filters.

use wharf_meta::RepoSettings;
pub use wharf_oci::wildcard_match;

/// Whether `tag` may not be moved to another image in a repository with these settings.
pub fn is_immutable(settings: &RepoSettings, tag: &str) -> bool {
    let excluded = || {
        settings
            .mutability_exclusions
            .iter()
            .any(|f| wildcard_match(f, tag))
    };
    match settings.image_tag_mutability.as_str() {
        "IMMUTABLE" => true,
        "IMMUTABLE_WITH_EXCLUSION" => !excluded(),
        "MUTABLE_WITH_EXCLUSION" => excluded(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        for (p, t, want) in [
            ("latest", "latest", true),
            ("latest", "latest2", false),
            ("dev-*", "dev-1", true),
            ("dev-*", "dev-", true),
            ("dev-*", "prod-1", false),
            ("*", "", true),
            ("*-rc*", "1.0-rc2", true),
            ("a*b*c", "aXXbYYc", true),
            ("a*b*c", "aXXbYY", false),
        ] {
            assert_eq!(wildcard_match(p, t), want, "{p} vs {t}");
        }
    }

    #[test]
    fn mutability_settings() {
        let s = |m: &str, f: &[&str]| RepoSettings {
            image_tag_mutability: m.into(),
            mutability_exclusions: f.iter().map(|x| x.to_string()).collect(),
            ..RepoSettings::default()
        };
        assert!(!is_immutable(&s("MUTABLE", &[]), "v1"));
        assert!(is_immutable(&s("IMMUTABLE", &[]), "v1"));
        assert!(is_immutable(
            &s("IMMUTABLE_WITH_EXCLUSION", &["latest", "dev-*"]),
            "v1"
        ));
        assert!(!is_immutable(
            &s("IMMUTABLE_WITH_EXCLUSION", &["latest", "dev-*"]),
            "dev-3"
        ));
        assert!(is_immutable(
            &s("MUTABLE_WITH_EXCLUSION", &["release-*"]),
            "release-1"
        ));
        assert!(!is_immutable(
            &s("MUTABLE_WITH_EXCLUSION", &["release-*"]),
            "latest"
        ));
    }
}
