//! SemVer 2.0 precedence (npm, crates.io, OSV `SEMVER` ranges): numeric major.minor.patch, then
//! a release sorts after its pre-releases, pre-release identifiers compare numerically when
//! numeric (and below alphanumeric ones), lexically otherwise, and build metadata is ignored.
//! A leading `v` or `=` and missing minor/patch numbers (`1.2` = `1.2.0`) are tolerated, as
//! OSV's own matcher does.

use super::cmp_digits;
use std::cmp::Ordering;

/// A parsed version borrowing from its input; numbers are digit strings without leading zeros
/// so that arbitrarily long ones compare correctly.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SemVer<'a> {
    pub(crate) core: [&'a [u8]; 3],
    /// The pre-release identifiers, dot-separated; empty for a release.
    pub(crate) pre: &'a [u8],
}

fn number(s: &[u8]) -> Option<&[u8]> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let start = s.iter().position(|c| *c != b'0').unwrap_or(s.len());
    Some(&s[start..])
}

/// Parses `[v]MAJOR[.MINOR[.PATCH]][-PRE][+BUILD]`.
pub(crate) fn parse(v: &str) -> Option<SemVer<'_>> {
    let v = v.trim();
    let v = v.strip_prefix(['v', 'V', '=']).unwrap_or(v);
    let v = match v.find('+') {
        Some(i) => {
            let build = &v[i + 1..];
            if !identifiers_ok(build) {
                return None;
            }
            &v[..i]
        }
        None => v,
    };
    let (core, pre) = match v.find('-') {
        Some(i) => (&v[..i], &v[i + 1..]),
        None => (v, ""),
    };
    if v.len() > core.len() && !identifiers_ok(pre) {
        return None;
    }
    let mut parts = core.as_bytes().split(|c| *c == b'.');
    let major = number(parts.next()?)?;
    let minor = parts.next().map_or(Some(&b""[..]), number)?;
    let patch = parts.next().map_or(Some(&b""[..]), number)?;
    if parts.next().is_some() {
        return None;
    }
    Some(SemVer {
        core: [major, minor, patch],
        pre: pre.as_bytes(),
    })
}

fn identifiers_ok(s: &str) -> bool {
    !s.is_empty()
        && s.split('.')
            .all(|id| !id.is_empty() && id.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-'))
}

/// Compares dot-separated pre-release identifier lists by SemVer's rules; an empty list is a
/// release and sorts last.
pub(crate) fn cmp_pre(a: &[u8], b: &[u8]) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        _ => {}
    }
    let mut ai = a.split(|c| *c == b'.');
    let mut bi = b.split(|c| *c == b'.');
    loop {
        match (ai.next(), bi.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let xn = !x.is_empty() && x.iter().all(u8::is_ascii_digit);
                let yn = !y.is_empty() && y.iter().all(u8::is_ascii_digit);
                let ord = match (xn, yn) {
                    (true, true) => cmp_digits(x, y),
                    (true, false) => Ordering::Less,
                    (false, true) => Ordering::Greater,
                    (false, false) => x.cmp(y),
                };
                if ord != Ordering::Equal {
                    return ord;
                }
            }
        }
    }
}

pub(crate) fn cmp_parsed(a: &SemVer<'_>, b: &SemVer<'_>) -> Ordering {
    cmp_digits(a.core[0], b.core[0])
        .then_with(|| cmp_digits(a.core[1], b.core[1]))
        .then_with(|| cmp_digits(a.core[2], b.core[2]))
        .then_with(|| cmp_pre(a.pre, b.pre))
}

/// Compares two SemVer versions; `None` when either is not a valid version.
pub fn compare(a: &str, b: &str) -> Option<Ordering> {
    Some(cmp_parsed(&parse(a)?, &parse(b)?))
}

/// Whether `v` is a valid (tolerantly parsed) SemVer version.
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
    fn semver_table() {
        // The precedence chain from the SemVer 2.0 specification, item 11.
        let chain = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
        ];
        for w in chain.windows(2) {
            check(w[0], w[1], Some(Less));
        }
        let table = [
            ("1.0.0", "1.0.0+build.5", Some(Equal)),
            ("1.0.0+a", "1.0.0+b", Some(Equal)),
            ("v1.2.3", "1.2.3", Some(Equal)),
            ("=1.2.3", "1.2.3", Some(Equal)),
            ("1.2", "1.2.0", Some(Equal)),
            ("1", "1.0.0", Some(Equal)),
            ("1.9.0", "1.10.0", Some(Less)),
            ("2.0.0", "10.0.0", Some(Less)),
            ("1.0.0-rc.1", "1.0.0-rc.1.1", Some(Less)),
            ("1.0.0-alpha-1", "1.0.0-alpha", Some(Greater)),
            ("1.0.0-0", "1.0.0-alpha", Some(Less)),
            ("1.0.0-9", "1.0.0-10", Some(Less)),
            ("1.0.0-x.7.z.92", "1.0.0-x.7.z.93", Some(Less)),
            ("0.0.0-20191109021931-daa7c04131f5", "0.0.1", Some(Less)),
            (
                "99999999999999999999.0.0",
                "99999999999999999998.0.0",
                Some(Greater),
            ),
            ("1.2.3-", "1.2.3", None),
            ("1.2.3-a..b", "1.2.3", None),
            ("1.2.x", "1.2.3", None),
            ("1.2.3.4", "1.2.3", None),
            ("", "1.0.0", None),
            ("1.0.0+", "1.0.0", None),
        ];
        for (a, b, expected) in table {
            check(a, b, expected);
        }
    }
}
