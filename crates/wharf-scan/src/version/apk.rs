//! Alpine package version ordering, as apk-tools (2.x, `version.c`) defines it: dotted numbers,
//! an optional single letter, `_suffix[N]` parts where `_alpha _beta _pre _rc` sort before the
//! release and `_cvs _svn _git _hg _p` after it, and an `-rN` package revision. Alpine's
//! secdb (and so OSV's Alpine records) use this ordering; Wolfi and Chainguard reuse it.

use std::cmp::Ordering;

/// The token kinds of apk-tools, in its order: a version whose next token kind is lower sorts
/// after one with a higher kind (a longer version is newer), except for pre-release suffixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Token {
    Invalid,
    DigitOrZero,
    Digit,
    Letter,
    Suffix,
    SuffixNo,
    RevisionNo,
    End,
}

const PRE_SUFFIXES: [&str; 4] = ["alpha", "beta", "pre", "rc"];
const POST_SUFFIXES: [&str; 5] = ["cvs", "svn", "git", "hg", "p"];

/// A cursor over one version string.
struct Cursor<'a> {
    rest: &'a [u8],
    kind: Token,
}

impl Cursor<'_> {
    /// Reads the separator that follows a token and decides the next token's kind.
    fn next_kind(&mut self) {
        let prev = self.kind;
        let mut n = Token::Invalid;
        match self.rest.first() {
            None => n = Token::End,
            Some(c)
                if matches!(prev, Token::Digit | Token::DigitOrZero) && c.is_ascii_lowercase() =>
            {
                n = Token::Letter;
            }
            Some(c) if prev == Token::Letter && c.is_ascii_digit() => n = Token::Digit,
            Some(c) if prev == Token::Suffix && c.is_ascii_digit() => n = Token::SuffixNo,
            Some(c) => {
                match c {
                    b'.' => n = Token::DigitOrZero,
                    b'_' => n = Token::Suffix,
                    b'-' if self.rest.get(1) == Some(&b'r') => {
                        n = Token::RevisionNo;
                        self.rest = self.rest.get(1..).unwrap_or_default();
                    }
                    _ => {}
                }
                self.rest = self.rest.get(1..).unwrap_or_default();
            }
        }
        // Tokens may only move forward in the grammar, with three allowed steps back.
        if n < prev
            && !((n == Token::DigitOrZero && prev == Token::Digit)
                || (n == Token::Suffix && prev == Token::SuffixNo)
                || (n == Token::Digit && prev == Token::Letter))
        {
            n = Token::Invalid;
        }
        self.kind = n;
    }

    /// Reads the value of the current token and moves to the next one.
    fn value(&mut self) -> i64 {
        if self.rest.is_empty() {
            self.kind = Token::End;
            return 0;
        }
        let mut i = 0;
        let mut v: i64 = 0;
        let mut forced = None;
        match self.kind {
            Token::DigitOrZero if self.rest.first() == Some(&b'0') => {
                // Leading zeros after a dot make the part behave like a fraction: `1.01` sorts
                // before `1.1`.
                while self.rest.get(i) == Some(&b'0') {
                    i += 1;
                }
                v = -(i as i64);
                // Digits right after the zeros are read as a number of their own. apk-tools'
                // 2.x tokenizer also inserts an empty number before anything else that follows
                // (so `1.0_alpha` would sort above `1.0`); that one deviation is dropped here so
                // that a suffix after a zero means what it means after any other number.
                forced = Some(Token::Digit);
            }
            Token::DigitOrZero | Token::Digit | Token::SuffixNo | Token::RevisionNo => {
                while let Some(c) = self.rest.get(i).filter(|c| c.is_ascii_digit()) {
                    v = v.saturating_mul(10).saturating_add(i64::from(c - b'0'));
                    i += 1;
                }
            }
            Token::Letter => {
                v = self.rest.first().map_or(0, |c| i64::from(*c));
                i = 1;
            }
            Token::Suffix => {
                if let Some(p) = PRE_SUFFIXES
                    .iter()
                    .position(|s| self.rest.starts_with(s.as_bytes()))
                {
                    i = PRE_SUFFIXES[p].len();
                    v = p as i64 - PRE_SUFFIXES.len() as i64;
                } else if let Some(p) = POST_SUFFIXES
                    .iter()
                    .position(|s| self.rest.starts_with(s.as_bytes()))
                {
                    i = POST_SUFFIXES[p].len();
                    v = p as i64;
                } else {
                    self.kind = Token::Invalid;
                    return -1;
                }
            }
            Token::Invalid | Token::End => {
                self.kind = Token::Invalid;
                return -1;
            }
        }
        self.rest = self.rest.get(i..).unwrap_or_default();
        if self.rest.is_empty() {
            self.kind = Token::End;
        } else if let Some(k) = forced.filter(|_| self.rest.first().is_some_and(u8::is_ascii_digit))
        {
            self.kind = k;
        } else {
            if let Some(k) = forced {
                self.kind = k;
            }
            self.next_kind();
        }
        v
    }
}

/// Whether `v` is a valid apk version: it starts with a digit and every token parses.
pub fn is_valid(v: &str) -> bool {
    if !v.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        return false;
    }
    let mut c = Cursor {
        rest: v.as_bytes(),
        kind: Token::Digit,
    };
    while c.kind != Token::End && c.kind != Token::Invalid {
        c.value();
    }
    c.kind == Token::End
}

/// Compares two apk versions; `None` when either is not a valid version.
pub fn compare(a: &str, b: &str) -> Option<Ordering> {
    if !is_valid(a) || !is_valid(b) {
        return None;
    }
    let mut ca = Cursor {
        rest: a.as_bytes(),
        kind: Token::Digit,
    };
    let mut cb = Cursor {
        rest: b.as_bytes(),
        kind: Token::Digit,
    };
    let (mut av, mut bv) = (0, 0);
    while ca.kind == cb.kind && ca.kind != Token::End && ca.kind != Token::Invalid && av == bv {
        av = ca.value();
        bv = cb.value();
    }
    if av != bv {
        return Some(av.cmp(&bv));
    }
    if ca.kind == cb.kind {
        return Some(Ordering::Equal);
    }
    // The common prefix is equal: the longer version is newer unless what it has more is a
    // pre-release suffix.
    let (at, bt) = (ca.kind, cb.kind);
    if ca.kind == Token::Suffix && ca.value() < 0 {
        return Some(Ordering::Less);
    }
    if cb.kind == Token::Suffix && cb.value() < 0 {
        return Some(Ordering::Greater);
    }
    Some(bt.cmp(&at))
}

#[cfg(test)]
mod tests {
    use super::compare;
    use std::cmp::Ordering::{self, Equal, Greater, Less};

    fn check(a: &str, b: &str, expected: Option<Ordering>) {
        crate::version::check_both_ways(compare, a, b, expected);
    }

    #[test]
    fn apk_table() {
        let table = [
            ("1.0", "1.0", Some(Equal)),
            ("1.0", "1.0-r0", Some(Less)),
            ("1.0-r0", "1.0-r1", Some(Less)),
            ("1.0-r9", "1.0-r10", Some(Less)),
            ("1.0_alpha", "1.0", Some(Less)),
            ("1.0_alpha", "1.0_beta", Some(Less)),
            ("1.0_beta", "1.0_pre", Some(Less)),
            ("1.0_pre", "1.0_rc", Some(Less)),
            ("1.0_rc1", "1.0_rc2", Some(Less)),
            ("1.0_rc2", "1.0", Some(Less)),
            ("1.0_rc2-r5", "1.0-r0", Some(Less)),
            ("1.0", "1.0_cvs", Some(Less)),
            ("1.0_cvs", "1.0_svn", Some(Less)),
            ("1.0_svn", "1.0_git", Some(Less)),
            ("1.0_git", "1.0_hg", Some(Less)),
            ("1.0_hg", "1.0_p", Some(Less)),
            ("1.0_p1", "1.0_p2", Some(Less)),
            ("9.6_p1-r0", "9.6-r9", Some(Greater)),
            ("1.2", "1.2a", Some(Less)),
            ("1.2a", "1.2b", Some(Less)),
            ("1.2a", "1.3", Some(Less)),
            ("1.2z", "1.2.1", Some(Less)),
            ("1.2", "1.2.1", Some(Less)),
            ("1.01", "1.1", Some(Less)),
            ("1.0", "1.00", Some(Greater)),
            ("3.1.4-r5", "3.1.4-r5", Some(Equal)),
            ("2.10", "2.9", Some(Greater)),
            ("1.0_rc1_p2", "1.0_rc1", Some(Greater)),
            ("1.0_rc1_p2", "1.0", Some(Less)),
            ("1.0_foo", "1.0", None),
            ("abc", "1.0", None),
            ("", "1.0", None),
            ("1.0-x1", "1.0", None),
            ("1.0_p10-r0", "1.0_p9-r0", Some(Greater)),
            ("2.3.0b-r1", "2.3.0b-r2", Some(Less)),
            ("0.20070118", "0.20070207_rc1", Some(Less)),
            ("2.01.01_alpha10", "0.94", Some(Greater)),
            ("1.00_beta2", "0.9.2", Some(Greater)),
            ("6b-r7", "1.12-r7", Some(Greater)),
            ("0.59s-r11", "0.65", Some(Less)),
            ("1.6d", "1.2.07.8", Some(Greater)),
            ("1.2.07.8", "1.2.12.04", Some(Less)),
            ("4.5_p1-r1", "4.5_p1", Some(Greater)),
            ("1.7", "1.7b", Some(Less)),
            ("1.8.5", "1.8.5_p2", Some(Less)),
            ("0.1.0_alpha_pre2", "0.1.0_alpha", Some(Less)),
            ("2.12r-r4", "2.12r-r5", Some(Less)),
            ("0.9.8c-r1", "0.9.8d", Some(Less)),
            ("1.06-r6", "006", Some(Less)),
            ("3.0.20060720", "20060720", Some(Less)),
            ("2.0.0_rc3-r1", "1.5", Some(Greater)),
            ("1.3_pre1-r1", "1.3.2", Some(Less)),
            (
                "1.0.0_pre20191002222144-r0",
                "1.0.0_pre20210530193627-r0",
                Some(Less),
            ),
        ];
        for (a, b, expected) in table {
            check(a, b, expected);
        }
    }
}
