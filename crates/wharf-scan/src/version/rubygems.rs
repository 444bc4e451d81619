//! RubyGems version ordering, as `Gem::Version#<=>` defines it: the version (with `-` read as
//! `.pre.`) splits into runs of digits and runs of letters; trailing zero segments are dropped
//! both before the first letter segment and at the end; segments compare pairwise with missing
//! ones as 0, numbers numerically, letters lexically, and a letter segment (a pre-release)
//! before any number.

use super::cmp_digits;
use std::cmp::Ordering;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Segment<'a> {
    /// Digits without leading zeros.
    Number(&'a [u8]),
    /// Letters; `-` in a version stands for the segment `pre`.
    Word(&'a [u8]),
}

const ZERO: Segment<'static> = Segment::Number(b"");

/// Gem::Version's pattern: `[0-9]+(\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?`, or empty.
fn is_valid_str(v: &str) -> bool {
    if v.is_empty() {
        return true;
    }
    let (main, pre) = match v.find('-') {
        Some(i) => (&v[..i], Some(&v[i + 1..])),
        None => (v, None),
    };
    let mut parts = main.split('.');
    let first_ok = parts
        .next()
        .is_some_and(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()));
    let rest_ok = parts.all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_alphanumeric()));
    let pre_ok = pre.is_none_or(|pre| {
        pre.split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-'))
    });
    first_ok && rest_ok && pre_ok
}

/// The canonical segments of a version.
fn segments(v: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::with_capacity(6);
    let b = v.as_bytes();
    let mut i = 0;
    while let Some(c) = b.get(i) {
        if *c == b'-' {
            out.push(Segment::Word(b"pre"));
            i += 1;
        } else if c.is_ascii_digit() {
            let start = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            let z = b[start..i]
                .iter()
                .position(|c| *c != b'0')
                .map_or(i, |p| start + p);
            out.push(Segment::Number(&b[z..i]));
        } else if c.is_ascii_alphabetic() {
            let start = i;
            while b.get(i).is_some_and(u8::is_ascii_alphabetic) {
                i += 1;
            }
            out.push(Segment::Word(&b[start..i]));
        } else {
            i += 1;
        }
    }
    // Drop trailing zeros of the numeric part and of the whole.
    let first_word = out
        .iter()
        .position(|s| matches!(s, Segment::Word(_)))
        .unwrap_or(out.len());
    let mut keep = first_word;
    while keep > 0 && out.get(keep - 1) == Some(&ZERO) {
        keep -= 1;
    }
    out.drain(keep..first_word);
    while out.last() == Some(&ZERO) {
        out.pop();
    }
    out
}

/// Compares two RubyGems versions; `None` when either is not a valid version.
pub fn compare(a: &str, b: &str) -> Option<Ordering> {
    let (a, b) = (a.trim(), b.trim());
    if !is_valid_str(a) || !is_valid_str(b) {
        return None;
    }
    let (sa, sb) = (segments(a), segments(b));
    for i in 0..sa.len().max(sb.len()) {
        let x = sa.get(i).copied().unwrap_or(ZERO);
        let y = sb.get(i).copied().unwrap_or(ZERO);
        let ord = match (x, y) {
            (Segment::Number(x), Segment::Number(y)) => cmp_digits(x, y),
            (Segment::Word(_), Segment::Number(_)) => Ordering::Less,
            (Segment::Number(_), Segment::Word(_)) => Ordering::Greater,
            (Segment::Word(x), Segment::Word(y)) => x.cmp(y),
        };
        if ord != Ordering::Equal {
            return Some(ord);
        }
    }
    Some(Ordering::Equal)
}

/// Whether `v` is a valid RubyGems version.
pub fn is_valid(v: &str) -> bool {
    is_valid_str(v.trim())
}

#[cfg(test)]
mod tests {
    use super::compare;
    use std::cmp::Ordering::{self, Equal, Greater, Less};

    fn check(a: &str, b: &str, expected: Option<Ordering>) {
        crate::version::check_both_ways(compare, a, b, expected);
    }

    #[test]
    fn rubygems_table() {
        let table = [
            ("1.0", "1", Some(Equal)),
            ("1.0.0", "1", Some(Equal)),
            ("1.01", "1.1", Some(Equal)),
            ("1.0.a", "1.a", Some(Equal)),
            ("1.0.a.0", "1.a", Some(Equal)),
            ("1.0.a", "1.0", Some(Less)),
            ("1.0.a", "1.0.b", Some(Less)),
            ("1.0.a1", "1.0.a2", Some(Less)),
            ("1.0.rc1", "1.0", Some(Less)),
            ("1.0.beta", "1.0.rc", Some(Less)),
            ("1.0.0.pre", "1.0.0", Some(Less)),
            ("1.0-1", "1.0.pre.1", Some(Equal)),
            ("1.0-1", "1.0", Some(Less)),
            ("1.2.3", "1.2.3.1", Some(Less)),
            ("1.9", "1.10", Some(Less)),
            ("2.0.0.rc2", "2.0.0.rc10", Some(Less)),
            ("7.0.8.1", "7.0.8", Some(Greater)),
            ("3.2.0.1", "3.2.1", Some(Less)),
            ("1.a", "1.0.1", Some(Less)),
            ("3.0.0.beta4", "3.0.pre", Some(Less)),
            ("3.0.pre", "3.0.0.rc", Some(Less)),
            ("5.0.0.beta4", "5.0.0.racecar1", Some(Less)),
            ("5.0.0.racecar1", "5.0.0.rc1", Some(Less)),
            ("5.0.0.beta1", "5.0.0.beta1.1", Some(Less)),
            ("1.0.0.rc1", "1.0.0.1", Some(Less)),
            ("1.5.0.beta.4", "1.5.0", Some(Less)),
            ("1.2.0.dev4", "1.2.0.pre1", Some(Less)),
            ("", "0", Some(Equal)),
            ("1.0 beta", "1.0", None),
            ("junk", "1.0", None),
            ("1..0", "1.0", None),
        ];
        for (a, b, expected) in table {
            check(a, b, expected);
        }
    }
}
