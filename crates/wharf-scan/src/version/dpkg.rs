//! Debian package version ordering, exactly as dpkg's `verrevcmp` defines it: an optional
//! numeric epoch before the first `:`, the upstream version, and a revision after the last `-`;
//! within each part non-digit runs compare by a character order where `~` sorts before
//! everything (even the end of the string) and letters sort before other characters, and digit
//! runs compare numerically.

use super::cmp_digits;
use std::cmp::Ordering;

/// A parsed dpkg version, borrowing its parts from the input.
struct Version<'a> {
    epoch: &'a str,
    upstream: &'a str,
    revision: &'a str,
}

fn parse(v: &str) -> Option<Version<'_>> {
    let v = v.trim();
    if v.is_empty() || v.bytes().any(|b| b.is_ascii_whitespace()) {
        return None;
    }
    let (epoch, rest) = match v.split_once(':') {
        Some((e, rest)) => {
            if e.is_empty() || !e.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            (e, rest)
        }
        None => ("0", v),
    };
    let (upstream, revision) = match rest.rfind('-') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, ""),
    };
    // dpkg refuses an empty upstream version and one that does not start with a digit.
    if !upstream.bytes().next().is_some_and(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(Version {
        epoch,
        upstream,
        revision,
    })
}

/// The weight dpkg gives a character in a non-digit run; `None` stands for the end of the
/// string and for digits, both of which weigh 0.
fn order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(b'~') => -1,
        Some(c) => i32::from(c) + 256,
    }
}

/// dpkg's `verrevcmp` over one part (upstream or revision).
fn verrevcmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        while a.get(i).is_some_and(|c| !c.is_ascii_digit())
            || b.get(j).is_some_and(|c| !c.is_ascii_digit())
        {
            let (ac, bc) = (order(a.get(i).copied()), order(b.get(j).copied()));
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        let si = i;
        while a.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let sj = j;
        while b.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        let ord = cmp_digits(&a[si..i], &b[sj..j]);
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

/// Compares two dpkg versions; `None` when either is not a valid version.
pub fn compare(a: &str, b: &str) -> Option<Ordering> {
    let (a, b) = (parse(a)?, parse(b)?);
    Some(
        cmp_digits(a.epoch.as_bytes(), b.epoch.as_bytes())
            .then_with(|| verrevcmp(a.upstream, b.upstream))
            .then_with(|| verrevcmp(a.revision, b.revision)),
    )
}

/// Whether `v` is a valid dpkg version.
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
    fn dpkg_table() {
        let table = [
            ("1.0", "1.0", Some(Equal)),
            ("1.0", "1.0-0", Some(Equal)),
            ("0:1.0", "1.0", Some(Equal)),
            ("1:1.0", "2.0", Some(Greater)),
            ("1:0.1", "0:9.9", Some(Greater)),
            ("10:1", "9:1", Some(Greater)),
            ("1.0~rc1", "1.0", Some(Less)),
            ("1.0~rc1", "1.0~rc2", Some(Less)),
            ("1.0~~", "1.0~", Some(Less)),
            ("1.0~", "1.0", Some(Less)),
            ("1.0~rc1-1", "1.0-1", Some(Less)),
            ("1.0a", "1.0", Some(Greater)),
            ("1.0a", "1.0+", Some(Less)),
            ("1.0+", "1.0.", Some(Less)),
            ("1.0-1", "1.0-2", Some(Less)),
            ("1.0-10", "1.0-9", Some(Greater)),
            ("1.2.3-1+deb12u1", "1.2.3-1", Some(Greater)),
            ("1.2.3-1+deb12u1", "1.2.3-1+deb12u2", Some(Less)),
            ("3.0.11-1~deb12u2", "3.0.11-1", Some(Less)),
            ("2.36.1-8+deb11u1", "2.36.1-8", Some(Greater)),
            ("1.01", "1.1", Some(Equal)),
            ("1.0-1-1", "1.0-1", Some(Greater)),
            ("1.2", "1.10", Some(Less)),
            (
                "1.18446744073709551616",
                "1.18446744073709551615",
                Some(Greater),
            ),
            ("7.88.1-10+deb12u5", "7.88.1-10+deb12u12", Some(Less)),
            ("", "1.0", None),
            ("a:1.0", "1.0", None),
            ("abc", "1.0", None),
            ("1.0 1", "1.0", None),
        ];
        for (a, b, expected) in table {
            check(a, b, expected);
        }
    }
}
