//! Python package version ordering per PEP 440, with the normalizations `packaging` applies:
//! case-insensitive, an optional leading `v`, `-`/`_`/`.` separators around pre, post and dev
//! markers, spelling variants (`alpha`→`a`, `c`/`pre`/`preview`→`rc`, `rev`/`r`→`post`), implicit
//! numbers (`1.0rc` = `1.0rc0`), implicit post releases (`1.0-1`), and local versions
//! (`+ubuntu1`). Trailing zeros of the release do not count (`1.0` = `1`).

use super::cmp_digits;
use std::cmp::Ordering;

/// A pre-release phase, in sorting order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    Alpha,
    Beta,
    Rc,
}

/// A parsed version, borrowing its numbers from the (lower-cased) input.
#[derive(Debug)]
struct Version<'a> {
    epoch: &'a [u8],
    release: &'a [u8],
    pre: Option<(Phase, &'a [u8])>,
    post: Option<&'a [u8]>,
    dev: Option<&'a [u8]>,
    local: Option<&'a [u8]>,
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn digits(&mut self) -> Option<&'a [u8]> {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        (self.i > start).then(|| &self.s[start..self.i])
    }

    fn is_sep(c: Option<u8>) -> bool {
        matches!(c, Some(b'-' | b'_' | b'.'))
    }

    /// Tries `[sep]label[sep][N]` for one of `labels` (longest spellings first); on success
    /// returns the index of the label and the number ("0" when implicit).
    fn marker(&mut self, labels: &[&str]) -> Option<(usize, &'a [u8])> {
        let save = self.i;
        if Self::is_sep(self.peek()) {
            self.i += 1;
        }
        let rest = self.s.get(self.i..).unwrap_or_default();
        let Some(k) = labels.iter().position(|l| rest.starts_with(l.as_bytes())) else {
            self.i = save;
            return None;
        };
        self.i += labels[k].len();
        let before_num = self.i;
        if Self::is_sep(self.peek()) {
            self.i += 1;
        }
        match self.digits() {
            Some(n) => Some((k, n)),
            None => {
                // A separator not followed by a number belongs to what comes next.
                self.i = before_num;
                Some((k, b"0"))
            }
        }
    }
}

const PRE_LABELS: [&str; 8] = ["alpha", "beta", "preview", "pre", "rc", "a", "b", "c"];
const PRE_PHASES: [Phase; 8] = [
    Phase::Alpha,
    Phase::Beta,
    Phase::Rc,
    Phase::Rc,
    Phase::Rc,
    Phase::Alpha,
    Phase::Beta,
    Phase::Rc,
];

fn parse(s: &[u8]) -> Option<Version<'_>> {
    let mut p = Parser { s, i: 0 };
    if p.peek() == Some(b'v') {
        p.i += 1;
    }
    let first = p.digits()?;
    let (epoch, release_start) = if p.peek() == Some(b'!') {
        p.i += 1;
        let start = p.i;
        p.digits()?;
        (first, start)
    } else {
        (&b"0"[..], p.i - first.len())
    };
    while p.peek() == Some(b'.') && p.s.get(p.i + 1).is_some_and(u8::is_ascii_digit) {
        p.i += 1;
        p.digits();
    }
    let release = &s[release_start..p.i];
    let pre = p
        .marker(&PRE_LABELS)
        .and_then(|(k, n)| PRE_PHASES.get(k).map(|ph| (*ph, n)));
    let post = if p.peek() == Some(b'-') && p.s.get(p.i + 1).is_some_and(u8::is_ascii_digit) {
        p.i += 1;
        p.digits()
    } else {
        p.marker(&["post", "rev", "r"]).map(|(_, n)| n)
    };
    let dev = p.marker(&["dev"]).map(|(_, n)| n);
    let local = if p.peek() == Some(b'+') {
        p.i += 1;
        let start = p.i;
        let local = &s[start..];
        let valid = !local.is_empty()
            && local
                .split(|c| matches!(c, b'-' | b'_' | b'.'))
                .all(|part| !part.is_empty() && part.iter().all(u8::is_ascii_alphanumeric));
        if !valid {
            return None;
        }
        p.i = s.len();
        Some(local)
    } else {
        None
    };
    if p.i != s.len() {
        return None;
    }
    Some(Version {
        epoch,
        release,
        pre,
        post,
        dev,
        local,
    })
}

/// Compares dotted release numbers, ignoring trailing zeros.
fn cmp_release(a: &[u8], b: &[u8]) -> Ordering {
    let mut ai = a.split(|c| *c == b'.');
    let mut bi = b.split(|c| *c == b'.');
    loop {
        match (ai.next(), bi.next()) {
            (None, None) => return Ordering::Equal,
            (x, y) => {
                let ord = cmp_digits(x.unwrap_or(b"0"), y.unwrap_or(b"0"));
                if ord != Ordering::Equal {
                    return ord;
                }
            }
        }
    }
}

/// Compares local version labels: numeric parts numerically and above alphanumeric ones,
/// alphanumeric parts lexically, a shorter label first when it is a prefix.
fn cmp_local(a: &[u8], b: &[u8]) -> Ordering {
    let is_sep = |c: &u8| matches!(c, b'-' | b'_' | b'.');
    let mut ai = a.split(is_sep);
    let mut bi = b.split(is_sep);
    loop {
        let (x, y) = match (ai.next(), bi.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => (x, y),
        };
        let xn = x.iter().all(u8::is_ascii_digit);
        let yn = y.iter().all(u8::is_ascii_digit);
        let ord = match (xn, yn) {
            (true, true) => cmp_digits(x, y),
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => x.cmp(y),
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
}

/// `packaging`'s pre-release key: a dev release without pre or post sorts before every
/// pre-release of the same release; no pre-release sorts after all of them.
fn pre_key<'a>(v: &Version<'a>) -> (u8, Option<(Phase, &'a [u8])>) {
    match v.pre {
        Some(p) => (1, Some(p)),
        None if v.post.is_none() && v.dev.is_some() => (0, None),
        None => (2, None),
    }
}

fn cmp_versions(a: &Version<'_>, b: &Version<'_>) -> Ordering {
    let (pa, pb) = (pre_key(a), pre_key(b));
    cmp_digits(a.epoch, b.epoch)
        .then_with(|| cmp_release(a.release, b.release))
        .then_with(|| pa.0.cmp(&pb.0))
        .then_with(|| match (pa.1, pb.1) {
            (Some((x, n)), Some((y, m))) => x.cmp(&y).then_with(|| cmp_digits(n, m)),
            _ => Ordering::Equal,
        })
        .then_with(|| match (a.post, b.post) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(x), Some(y)) => cmp_digits(x, y),
        })
        .then_with(|| match (a.dev, b.dev) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(x), Some(y)) => cmp_digits(x, y),
        })
        .then_with(|| match (a.local, b.local) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(x), Some(y)) => cmp_local(x, y),
        })
}

/// Lower-cases and trims a version into `buf` when needed, so parsing can borrow from it.
fn normalized<'a>(v: &'a str, buf: &'a mut String) -> &'a [u8] {
    let v = v.trim();
    if v.bytes().any(|c| c.is_ascii_uppercase()) {
        *buf = v.to_ascii_lowercase();
        buf.as_bytes()
    } else {
        v.as_bytes()
    }
}

/// Compares two PEP 440 versions; `None` when either is not a valid version.
pub fn compare(a: &str, b: &str) -> Option<Ordering> {
    let (mut ba, mut bb) = (String::new(), String::new());
    let va = parse(normalized(a, &mut ba))?;
    let vb = parse(normalized(b, &mut bb))?;
    Some(cmp_versions(&va, &vb))
}

/// Whether `v` is a valid PEP 440 version.
pub fn is_valid(v: &str) -> bool {
    let mut buf = String::new();
    parse(normalized(v, &mut buf)).is_some()
}

#[cfg(test)]
mod tests {
    use super::compare;
    use std::cmp::Ordering::{self, Equal, Greater, Less};

    fn check(a: &str, b: &str, expected: Option<Ordering>) {
        crate::version::check_both_ways(compare, a, b, expected);
    }

    #[test]
    fn pep440_table() {
        let table = [
            ("1.0", "1", Some(Equal)),
            ("1.0.0", "1", Some(Equal)),
            ("1.0RC1", "1.0rc1", Some(Equal)),
            ("1.0-post1", "1.0.post1", Some(Equal)),
            ("1.0-1", "1.0.post1", Some(Equal)),
            ("1.0.rev1", "1.0.post1", Some(Equal)),
            ("1.0r", "1.0.post0", Some(Equal)),
            ("1.0alpha1", "1.0a1", Some(Equal)),
            ("1.0.preview2", "1.0rc2", Some(Equal)),
            ("1.0c1", "1.0rc1", Some(Equal)),
            ("1.0-rc", "1.0rc0", Some(Equal)),
            ("v1.0", "1.0", Some(Equal)),
            ("1.0_DEV3", "1.0.dev3", Some(Equal)),
            ("1.0.dev1", "1.0a1", Some(Less)),
            ("1.0a1", "1.0a2", Some(Less)),
            ("1.0a2", "1.0b1", Some(Less)),
            ("1.0b1", "1.0rc1", Some(Less)),
            ("1.0rc1", "1.0", Some(Less)),
            ("1.0a1.dev1", "1.0a1", Some(Less)),
            ("1.0a1.post1", "1.0a1", Some(Greater)),
            ("1.0", "1.0.post1", Some(Less)),
            ("1.0.post1.dev1", "1.0.post1", Some(Less)),
            ("1.0.post1.dev1", "1.0", Some(Greater)),
            ("1.0", "1.0+local", Some(Less)),
            ("1.0+abc", "1.0+1", Some(Less)),
            ("1.0+1.abc", "1.0+1", Some(Greater)),
            ("1.0+ubuntu2", "1.0+ubuntu10", Some(Greater)),
            ("1.0+5", "1.0+10", Some(Less)),
            ("1!0.1", "2.0", Some(Greater)),
            ("1.10", "1.9", Some(Greater)),
            ("2.0.0rc1", "2.0", Some(Less)),
            ("4.2.10", "4.2.9", Some(Greater)),
            ("1.0.dev0", "1.0.dev1", Some(Less)),
            ("1.2.post3.dev4", "1.2b3.dev4", Some(Greater)),
            ("1.2b3.DEV4", "1.2b3.dev5", Some(Less)),
            ("1.2a3.dev4", "1.2b3.dev4", Some(Less)),
            ("1.0.0+local.0", "1.0.0+local.0.1", Some(Less)),
            ("0.9.rev", "1.0", Some(Less)),
            ("1.36.0rc1", "1.35.0", Some(Greater)),
            ("0.1-bulbasaur", "1.0", None),
            ("1.0.a", "1.0a0", Some(Equal)),
            ("1.0foo", "1", None),
            ("", "1", None),
            ("1.0+", "1", None),
            ("1.0+a..b", "1", None),
        ];
        for (a, b, expected) in table {
            check(a, b, expected);
        }
    }
}
