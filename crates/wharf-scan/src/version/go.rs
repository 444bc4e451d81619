//! Go module version ordering: semantic versions with a `v` prefix, where `+incompatible` is
//! build metadata (ignored) and pseudo-versions (`v0.0.0-20191109021931-daa7c04131f5`) order as
//! the pre-releases they are. The standard library (`stdlib`, `toolchain`) is versioned like
//! `go1.21.3`, `go1.21` or `go1.22rc1`, which OSV writes as `1.21.3`, `1.21.0`, `1.22.0-rc.1`.

use super::{cmp_digits, semver};
use std::borrow::Cow;
use std::cmp::Ordering;

/// A Go version as SemVer parts; only a toolchain pre-release (`rc1` → `rc.1`) is owned.
struct GoVersion<'a> {
    core: [&'a [u8]; 3],
    pre: Cow<'a, [u8]>,
}

fn strip_zeros(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|c| *c != b'0').unwrap_or(s.len());
    &s[start..]
}

/// Parses a toolchain version without its `go` prefix: `1.21.3`, `1.21`, `1.22rc1`.
fn toolchain(rest: &str) -> Option<GoVersion<'_>> {
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let (nums, pre) = rest.split_at(end);
    let mut core: [&[u8]; 3] = [b"", b"", b""];
    let mut parts = nums.split('.');
    for (k, slot) in core.iter_mut().enumerate() {
        match parts.next() {
            Some(p) if !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()) => {
                *slot = strip_zeros(p.as_bytes());
            }
            None if k > 0 => {}
            _ => return None,
        }
    }
    if parts.next().is_some() {
        return None;
    }
    let pre = if pre.is_empty() {
        Cow::Borrowed(&b""[..])
    } else {
        let digits = pre.find(|c: char| c.is_ascii_digit()).unwrap_or(pre.len());
        let (phase, n) = pre.split_at(digits);
        if !matches!(phase, "alpha" | "beta" | "rc") || !n.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        if n.is_empty() {
            Cow::Borrowed(phase.as_bytes())
        } else {
            Cow::Owned(format!("{phase}.{n}").into_bytes())
        }
    };
    Some(GoVersion { core, pre })
}

fn parse(v: &str) -> Option<GoVersion<'_>> {
    let v = v.trim();
    match v.strip_prefix("go") {
        Some(rest) => toolchain(rest),
        None => semver::parse(v).map(|s| GoVersion {
            core: s.core,
            pre: Cow::Borrowed(s.pre),
        }),
    }
}

/// Compares two Go versions (module versions with or without `v`, or toolchain versions with
/// `go`); `None` when either is not valid.
pub fn compare(a: &str, b: &str) -> Option<Ordering> {
    let (a, b) = (parse(a)?, parse(b)?);
    Some(
        cmp_digits(a.core[0], b.core[0])
            .then_with(|| cmp_digits(a.core[1], b.core[1]))
            .then_with(|| cmp_digits(a.core[2], b.core[2]))
            .then_with(|| semver::cmp_pre(&a.pre, &b.pre)),
    )
}

/// Whether `v` is a valid Go version.
pub fn is_valid(v: &str) -> bool {
    parse(v).is_some()
}

#[cfg(test)]
mod tests {
    use super::compare;
    use std::cmp::Ordering::{self, Equal, Greater, Less};

    fn check(a: &str, b: &str, expected: Option<Ordering>) {
        crate::version::check_both_ways(compare, a, b, expected);
    }

    #[test]
    fn go_table() {
        let table = [
            ("v1.2.3", "1.2.3", Some(Equal)),
            ("v2.0.0+incompatible", "2.0.0", Some(Equal)),
            ("v2.0.0+incompatible", "v2.0.1", Some(Less)),
            ("v1.2", "v1.2.0", Some(Equal)),
            ("v0.0.0-20191109021931-daa7c04131f5", "v0.0.0", Some(Less)),
            (
                "v0.0.0-20191109021931-daa7c04131f5",
                "v0.0.0-20200101000000-aaaaaaaaaaaa",
                Some(Less),
            ),
            (
                "v1.2.4-0.20191109021931-daa7c04131f5",
                "v1.2.3",
                Some(Greater),
            ),
            ("v1.2.4-0.20191109021931-daa7c04131f5", "v1.2.4", Some(Less)),
            (
                "v1.2.4-pre.0.20191109021931-daa7c04131f5",
                "v1.2.4-pre",
                Some(Greater),
            ),
            ("go1.21.3", "1.21.3", Some(Equal)),
            ("go1.21", "1.21.0", Some(Equal)),
            ("go1.21.10", "go1.21.9", Some(Greater)),
            ("go1.22rc1", "1.22.0-rc.1", Some(Equal)),
            ("go1.22rc1", "go1.22rc2", Some(Less)),
            ("go1.22rc2", "go1.22.0", Some(Less)),
            ("go1.22beta1", "go1.22rc1", Some(Less)),
            ("go1.9", "go1.10", Some(Less)),
            ("go1.21.3", "v1.21.4", Some(Less)),
            ("devel +abc", "1.21.0", None),
            ("go1.x", "1.21.0", None),
            ("go1.22foo1", "1.21.0", None),
            ("v1.2.3-", "v1.2.3", None),
        ];
        for (a, b, expected) in table {
            check(a, b, expected);
        }
    }
}
