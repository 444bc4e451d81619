//! Maven version ordering, as the POM reference's "Version Order Specification" states it (and
//! OSV's Maven matcher implements it): the version splits into tokens at `.`, `-` and at
//! transitions between digits and other characters (a transition counts as `-`); empty tokens
//! are `0`; trailing null tokens (`0`, `""`, `ga`, `final`, `release`) are trimmed from the end
//! and before every remaining hyphen; the shorter version is padded with nulls of the other's
//! separator; and tokens compare by separator first (`.qualifier` < `-qualifier` < `-number` <
//! `.number`), then numbers numerically, then qualifiers by
//! `alpha < beta < milestone < rc = cr < snapshot < "" = ga = final = release < sp`, unknown
//! qualifiers after those, lexically and case-insensitively.

use super::cmp_digits;
use std::cmp::Ordering;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sep {
    /// The first token, which has no separator.
    None,
    Dot,
    Hyphen,
}

/// The well-known qualifiers in order; index 5 is the release (empty) qualifier.
const KEYWORDS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
const RELEASE: usize = 5;

#[derive(Debug, Clone, Copy)]
enum Value<'a> {
    /// Digits without leading zeros (empty for zero).
    Number(&'a [u8]),
    /// A qualifier: the index of a known keyword, or the unknown word itself.
    Keyword(usize),
    Word(&'a [u8]),
}

#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    sep: Sep,
    value: Value<'a>,
    /// A null token added as padding (only these let a number lose to a qualifier).
    pad: bool,
}

impl Token<'_> {
    fn is_trimmable(&self) -> bool {
        match self.value {
            Value::Number(n) => n.is_empty(),
            Value::Keyword(k) => k == RELEASE,
            Value::Word(_) => false,
        }
    }

    fn is_number(&self) -> bool {
        matches!(self.value, Value::Number(_))
    }

    /// The order of a separator/kind pair when separators differ.
    fn rank(&self) -> u8 {
        match (self.sep, self.is_number()) {
            (Sep::Dot, false) => 0,
            (Sep::Hyphen, false) => 1,
            (Sep::Hyphen, true) => 2,
            (Sep::Dot, true) => 3,
            (Sep::None, _) => 4,
        }
    }
}

fn qualifier(word: &[u8], followed_by_digit: bool) -> Value<'_> {
    let is = |k: &str| word.eq_ignore_ascii_case(k.as_bytes());
    if followed_by_digit && is("a") {
        return Value::Keyword(0);
    }
    if followed_by_digit && is("b") {
        return Value::Keyword(1);
    }
    if followed_by_digit && is("m") {
        return Value::Keyword(2);
    }
    if is("cr") {
        return Value::Keyword(3);
    }
    if is("ga") || is("final") || is("release") {
        return Value::Keyword(RELEASE);
    }
    match KEYWORDS.iter().position(|k| !k.is_empty() && is(k)) {
        Some(k) => Value::Keyword(k),
        None => Value::Word(word),
    }
}

/// Splits one raw token (between separators) at digit/non-digit transitions.
fn push_raw<'a>(tokens: &mut Vec<Token<'a>>, sep: Sep, raw: &'a [u8]) {
    if raw.is_empty() {
        tokens.push(Token {
            sep,
            value: Value::Number(b""),
            pad: false,
        });
        return;
    }
    let mut start = 0;
    while let Some(first) = raw.get(start) {
        let digit = first.is_ascii_digit();
        let len = raw[start..]
            .iter()
            .position(|c| c.is_ascii_digit() != digit)
            .unwrap_or(raw.len() - start);
        let end = start + len;
        let part = &raw[start..end];
        let value = if digit {
            let z = part.iter().position(|c| *c != b'0').unwrap_or(part.len());
            Value::Number(&part[z..])
        } else {
            qualifier(part, end < raw.len())
        };
        tokens.push(Token {
            sep: if start == 0 { sep } else { Sep::Hyphen },
            value,
            pad: false,
        });
        start = end;
    }
}

fn tokenize(v: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::with_capacity(8);
    let bytes = v.as_bytes();
    let mut sep = Sep::None;
    let mut start = 0;
    loop {
        let rest = bytes.get(start..).unwrap_or_default();
        let len = rest
            .iter()
            .position(|c| *c == b'.' || *c == b'-')
            .unwrap_or(rest.len());
        let raw = &rest[..len];
        push_raw(&mut tokens, sep, raw);
        let Some(next) = rest.get(len) else {
            break;
        };
        sep = if *next == b'-' { Sep::Hyphen } else { Sep::Dot };
        start += len + 1;
    }
    // Trim trailing nulls from the end, then again before each remaining hyphen.
    let mut i = tokens.len().saturating_sub(1);
    while i > 0 {
        if tokens.get(i).is_some_and(Token::is_trimmable) {
            tokens.remove(i);
            i -= 1;
            continue;
        }
        while tokens.get(i).is_some_and(|t| t.sep != Sep::Hyphen) {
            if i == 0 {
                return tokens;
            }
            i -= 1;
        }
        if i == 0 {
            break;
        }
        i -= 1;
    }
    tokens
}

/// The null token padding a shorter version against `other`.
fn pad_for(other: &Token<'_>) -> Token<'static> {
    let value = match (other.sep, other.value) {
        // `sp` is the one qualifier above the release, so against it a dot pads as "".
        (Sep::Dot, Value::Keyword(6)) => Value::Keyword(RELEASE),
        (Sep::Dot, _) | (Sep::None, _) => Value::Number(b""),
        (Sep::Hyphen, _) => Value::Keyword(RELEASE),
    };
    Token {
        sep: other.sep,
        value,
        pad: true,
    }
}

fn equal(a: &Token<'_>, b: &Token<'_>) -> bool {
    a.sep == b.sep
        && match (a.value, b.value) {
            (Value::Number(x), Value::Number(y)) => x == y,
            (Value::Keyword(x), Value::Keyword(y)) => x == y,
            (Value::Word(x), Value::Word(y)) => x.eq_ignore_ascii_case(y),
            _ => false,
        }
}

/// A qualifier's sort key: known keywords by index, unknown words after them.
fn keyword_rank(v: &Value<'_>) -> usize {
    match v {
        Value::Keyword(k) => *k,
        _ => KEYWORDS.len(),
    }
}

fn less(a: &Token<'_>, b: &Token<'_>) -> bool {
    if a.sep != b.sep {
        return a.rank() < b.rank();
    }
    if let (Value::Number(x), Value::Number(y)) = (a.value, b.value) {
        return cmp_digits(x, y) == Ordering::Less;
    }
    // A real number beats a qualifier; a padding zero is compared as the word "0".
    if a.is_number() && !a.pad {
        return false;
    }
    if b.is_number() && !b.pad {
        return true;
    }
    let (ra, rb) = (keyword_rank(&a.value), keyword_rank(&b.value));
    if ra == KEYWORDS.len() && rb == KEYWORDS.len() {
        let word = |v: &Value<'_>| -> Vec<u8> {
            match v {
                Value::Word(w) => w.to_ascii_lowercase(),
                _ => b"0".to_vec(),
            }
        };
        return word(&a.value) < word(&b.value);
    }
    ra < rb
}

/// Compares two Maven versions. Every string is a Maven version, so this never returns `None`
/// except for an empty one.
pub fn compare(a: &str, b: &str) -> Option<Ordering> {
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let (ta, tb) = (tokenize(a), tokenize(b));
    for i in 0..ta.len().max(tb.len()) {
        let (x, y) = match (ta.get(i), tb.get(i)) {
            (Some(x), Some(y)) => (*x, *y),
            (Some(x), None) => (*x, pad_for(x)),
            (None, Some(y)) => (pad_for(y), *y),
            (None, None) => break,
        };
        if equal(&x, &y) {
            continue;
        }
        return Some(if less(&x, &y) {
            Ordering::Less
        } else {
            Ordering::Greater
        });
    }
    Some(Ordering::Equal)
}

/// Whether `v` is a Maven version (any non-empty string is).
pub fn is_valid(v: &str) -> bool {
    !v.trim().is_empty()
}

#[cfg(test)]
mod tests {
    use super::compare;
    use std::cmp::Ordering::{self, Equal, Less};

    fn check(a: &str, b: &str, expected: Option<Ordering>) {
        crate::version::check_both_ways(compare, a, b, expected);
    }

    #[test]
    fn maven_qualifier_chain() {
        let chain = [
            "1-alpha2snapshot",
            "1-alpha2",
            "1-alpha-123",
            "1-beta-2",
            "1-beta123",
            "1-m2",
            "1-m11",
            "1-rc",
            "1-cr2",
            "1-rc123",
            "1-SNAPSHOT",
            "1",
            "1-sp",
            "1-sp2",
            "1-sp123",
            "1-abc",
            "1-def",
            "1-pom-1",
            "1-1-snapshot",
            "1-1",
            "1-2",
            "1-123",
        ];
        for (i, low) in chain.iter().enumerate() {
            for high in &chain[i + 1..] {
                check(low, high, Some(Less));
            }
        }
    }

    #[test]
    fn maven_table() {
        let table = [
            ("1", "1.0", Some(Equal)),
            ("1", "1.0.0", Some(Equal)),
            ("1.0", "1.0.0", Some(Equal)),
            ("1", "1-0", Some(Equal)),
            ("1", "1-ga", Some(Equal)),
            ("1", "1.final", Some(Equal)),
            ("1", "1-RELEASE", Some(Equal)),
            ("1", "1.", Some(Equal)),
            ("1", "01", Some(Equal)),
            ("1.1", "1.01", Some(Equal)),
            ("1-foo", "1.0.0-foo.0.0", Some(Equal)),
            ("1a", "1-a", Some(Equal)),
            ("1.0a", "1-a", Some(Equal)),
            ("1a1", "1-alpha-1", Some(Equal)),
            ("1m3", "1MILESTONE3", Some(Equal)),
            ("1cr", "1rc", Some(Equal)),
            ("1-1.foo-bar-1-baz-0.1", "1-1.foo-bar1baz-.1", Some(Equal)),
            ("1.0-alpha-1", "1.0", Some(Less)),
            ("1.0-alpha-1", "1.0-beta-1", Some(Less)),
            ("1.0-beta-1", "1.0-SNAPSHOT", Some(Less)),
            ("1.0-SNAPSHOT", "1.0", Some(Less)),
            ("1.0-alpha-1-SNAPSHOT", "1.0-alpha-1", Some(Less)),
            ("1.0", "1.0-1", Some(Less)),
            ("1.0.0", "1.0-1", Some(Less)),
            ("2.0-1", "2.0.1", Some(Less)),
            ("2.0.1-klm", "2.0.1-lmn", Some(Less)),
            ("2.0.1", "2.0.1-xyz", Some(Less)),
            ("2.0.1-xyz", "2.0.1-123", Some(Less)),
            ("1.0-RC3", "1.0.1", Some(Less)),
            ("2.17.0", "2.17.1", Some(Less)),
            ("2.15.0-rc1", "2.15.0", Some(Less)),
            ("2.15.0-rc2", "2.15.0-rc10", Some(Less)),
            ("5.3.18.RELEASE", "5.3.18", Some(Equal)),
            ("5.3.17.RELEASE", "5.3.18", Some(Less)),
            ("1.2.3.Final", "1.2.3-sp1", Some(Less)),
            ("6.1.0rc3", "6.1.0", Some(Less)),
            ("6.1.0", "6.1H.5-beta", Some(Less)),
            ("20190126.230843", "1234567890.12345", Some(Less)),
            (
                "12345678901234567890.1",
                "123456789012345678901.1",
                Some(Less),
            ),
            ("", "1", None),
        ];
        for (a, b, expected) in table {
            check(a, b, expected);
        }
    }
}
