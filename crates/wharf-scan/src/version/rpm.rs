//! RPM version ordering: `[epoch:]version[-release]`, each of version and release compared with
//! rpm's `rpmvercmp` (alternating digit and letter segments, other characters only separate,
//! `~` sorts before everything including the end, `^` after the end but before anything else).
//! Red Hat, Rocky Linux, AlmaLinux, SUSE and Azure Linux records use it.

use super::cmp_digits;
use std::cmp::Ordering;

struct Evr<'a> {
    epoch: &'a str,
    version: &'a str,
    release: &'a str,
}

fn parse(v: &str) -> Option<Evr<'_>> {
    let v = v.trim();
    if v.is_empty() || v.bytes().any(|b| b.is_ascii_whitespace()) {
        return None;
    }
    let (epoch, rest) = match v.split_once(':') {
        Some((e, rest)) if e.bytes().all(|b| b.is_ascii_digit()) => {
            (if e.is_empty() { "0" } else { e }, rest)
        }
        Some(_) => return None,
        None => ("0", v),
    };
    let (version, release) = match rest.rfind('-') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, ""),
    };
    if version.is_empty() {
        return None;
    }
    Some(Evr {
        epoch,
        version,
        release,
    })
}

fn is_sep(c: u8) -> bool {
    !c.is_ascii_alphanumeric() && c != b'~' && c != b'^'
}

/// rpm's `rpmvercmp`.
pub fn rpmvercmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    loop {
        while a.get(i).is_some_and(|&c| is_sep(c)) {
            i += 1;
        }
        while b.get(j).is_some_and(|&c| is_sep(c)) {
            j += 1;
        }
        let (ca, cb) = (a.get(i).copied(), b.get(j).copied());
        if ca.is_none() && cb.is_none() {
            return Ordering::Equal;
        }
        if ca == Some(b'~') || cb == Some(b'~') {
            if ca != Some(b'~') {
                return Ordering::Greater;
            }
            if cb != Some(b'~') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        if ca == Some(b'^') || cb == Some(b'^') {
            if ca.is_none() {
                return Ordering::Less;
            }
            if cb.is_none() {
                return Ordering::Greater;
            }
            if ca != Some(b'^') {
                return Ordering::Greater;
            }
            if cb != Some(b'^') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        let (Some(ca), Some(_)) = (ca, cb) else {
            break;
        };
        let numeric = ca.is_ascii_digit();
        let class = |c: &u8| {
            if numeric {
                c.is_ascii_digit()
            } else {
                c.is_ascii_alphabetic()
            }
        };
        let (si, sj) = (i, j);
        while a.get(i).is_some_and(class) {
            i += 1;
        }
        while b.get(j).is_some_and(class) {
            j += 1;
        }
        // Segments of different types: a numeric segment is newer than an alphabetic one.
        if sj == j {
            return if numeric {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let ord = if numeric {
            cmp_digits(&a[si..i], &b[sj..j])
        } else {
            a[si..i].cmp(&b[sj..j])
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    // One string ran out: the one with something left is newer.
    match (i >= a.len(), j >= b.len()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        _ => Ordering::Greater,
    }
}

/// Compares two RPM `[epoch:]version[-release]` strings; `None` when either is not valid.
pub fn compare(a: &str, b: &str) -> Option<Ordering> {
    let (a, b) = (parse(a)?, parse(b)?);
    Some(
        cmp_digits(a.epoch.as_bytes(), b.epoch.as_bytes())
            .then_with(|| rpmvercmp(a.version, b.version))
            .then_with(|| rpmvercmp(a.release, b.release)),
    )
}

/// Whether `v` is a valid RPM version string.
pub fn is_valid(v: &str) -> bool {
    parse(v).is_some()
}

#[cfg(test)]
mod tests {
    use super::{compare, rpmvercmp};
    use std::cmp::Ordering::{self, Equal, Greater, Less};

    fn check(a: &str, b: &str, expected: Option<Ordering>) {
        crate::version::check_both_ways(compare, a, b, expected);
    }

    #[test]
    fn rpmvercmp_table() {
        // Cases from rpm's own rpmvercmp test-suite semantics.
        let table = [
            ("1.0", "1.0", Equal),
            ("1.0", "2.0", Less),
            ("2.0.1", "2.0", Greater),
            ("2.0.1a", "2.0.1", Greater),
            ("5.5p1", "5.5p2", Less),
            ("5.5p10", "5.5p1", Greater),
            ("10xyz", "10.1xyz", Less),
            ("xyz10", "xyz10.1", Less),
            ("xyz.4", "8", Less),
            ("5.5p2", "5.6p1", Less),
            ("6.0.rc1", "6.0", Greater),
            ("10b2", "10a1", Greater),
            ("1.0aa", "1.0a", Greater),
            ("1.010", "1.10", Equal),
            ("2_0", "2.0", Equal),
            ("a+", "a_", Equal),
            ("+", "_", Equal),
            ("1.0~rc1", "1.0", Less),
            ("1.0~rc1", "1.0~rc2", Less),
            ("1.0~rc1~git123", "1.0~rc1", Less),
            ("1.0^", "1.0", Greater),
            ("1.0^git1", "1.0", Greater),
            ("1.0^git1", "1.0.1", Less),
            ("1.0^git1", "1.0^git2", Less),
            ("1.0~rc1^git1", "1.0~rc1", Greater),
            ("1.0^git1~pre", "1.0^git1", Less),
        ];
        for (a, b, expected) in table {
            assert_eq!(rpmvercmp(a, b), expected, "{a} vs {b}");
            assert_eq!(rpmvercmp(b, a), expected.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn evr_table() {
        let table = [
            ("1:1.0-1", "2.0-1", Some(Greater)),
            ("0:1.0-1", "1.0-1", Some(Equal)),
            ("1.0-1.el9", "1.0-1.el9_2", Some(Less)),
            ("3.0.7-24.el9", "3.0.7-25.el9", Some(Less)),
            ("1:3.0.7-27.el9_5", "1:3.0.7-27.el9", Some(Greater)),
            ("2.34-100.el9_4.2", "2.34-100.el9_4.12", Some(Less)),
            ("1.0", "1.0-1", Some(Less)),
            ("1-123", "1-1.el7", Some(Greater)),
            ("0:3.10.0-229.el7", "0:3.10.0-229.1.2.ael7b", Some(Less)),
            ("1-1.ael7b", "1-1.el7", Some(Less)),
            ("1-1.", "1-1", Some(Equal)),
            ("013:5", "004:2", Some(Greater)),
            ("01:2", "1:2", Some(Equal)),
            ("0:1~1", "1:2", Some(Less)),
            ("1.0^20160101", "1.0.1", Some(Less)),
            ("1.0^20160102", "1.0^20160101^git1", Some(Greater)),
            ("1.0~rc1", "1.0arc1", Some(Less)),
            ("4.999.9", "5.0", Some(Less)),
            ("10.0001", "10.1", Some(Equal)),
            // Non-ASCII characters only separate, as in rpm.
            ("1.1.α", "1.1.β", Some(Equal)),
            ("1.1.α", "1.1.a", Some(Less)),
            ("x:1.0", "1.0", None),
            ("", "1.0", None),
        ];
        for (a, b, expected) in table {
            check(a, b, expected);
        }
    }
}
